"""Bambi's "Logistic Regression and Model Comparison" notebook
(docs/notebooks/model_comparison.ipynb): LOO comparison with ``az.compare``.

The notebook uses ``bmb.load_data("adults")`` (32 561 rows of the 1994 US census), which is
not bundled. The test simulates 1000 adults with the same columns; the probability of earning
more than 50K follows the notebook's quadratic model (its model2 estimates).
"""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import special

import bayesformula as bmb
from tests.bambi_notebooks.helpers import SMALL, assert_posterior_near, draws_of


def _adults(n: int = 1000, seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["Female", "Male"], n, p=[0.33, 0.67])
    race = rng.choice(
        ["White", "Black", "Asian-Pac-Islander", "Other"], n, p=[0.8, 0.1, 0.06, 0.04]
    )
    age = np.clip(np.round(rng.gamma(9, 4.3, n) + 1), 17, 90)
    hs_week = np.clip(np.round(rng.normal(40, 12, n)), 1, 99)
    age_z = (age - age.mean()) / age.std()
    hs_z = (hs_week - hs_week.mean()) / hs_week.std()
    eta = (
        -2.28
        + 1.0 * (sex == "Male")
        + 0.7 * (race == "White")
        + 1.07 * age_z
        - 0.54 * age_z**2
        + 0.5 * hs_z
        - 0.09 * hs_z**2
    )
    income = np.where(rng.random(n) < special.expit(eta), ">50K", "<=50K")
    return pd.DataFrame(
        {"income": income, "sex": sex, "race": race, "age": age.astype(int), "hs_week": hs_week}
    ).astype({"hs_week": int})


@pytest.fixture(scope="module")
def data():
    data = _adults()
    # the notebook selects `data.dtypes == object`; pandas 3 reads text as the "str" dtype
    categorical_cols = data.select_dtypes(include=["object", "string"]).columns.tolist()
    for col in categorical_cols:
        data[col] = data[col].astype("category")
    data = data[data["race"].isin(["Black", "White"])]
    data["race"] = data["race"].cat.remove_unused_categories()
    age_bins = [17, 25, 35, 45, 65, 90]
    data["age_binned"] = pd.cut(data["age"], age_bins)
    hours_bins = [0, 20, 40, 60, 100]
    data["hs_week_binned"] = pd.cut(data["hs_week"], hours_bins)

    age_mean = np.mean(data["age"])
    age_std = np.std(data["age"])
    hs_mean = np.mean(data["hs_week"])
    hs_std = np.std(data["hs_week"])

    data["age"] = (data["age"] - age_mean) / age_std
    data["age2"] = data["age"] ** 2
    data["age3"] = data["age"] ** 3
    data["hs_week"] = (data["hs_week"] - hs_mean) / hs_std
    data["hs_week2"] = data["hs_week"] ** 2
    data["hs_week3"] = data["hs_week"] ** 3

    return data.drop(columns=["age_binned", "hs_week_binned"])


FORMULAS = {
    "model1": "income['>50K'] ~ sex + race + age + hs_week",
    "model2": "income['>50K'] ~ sex + race + age + age2 + hs_week + hs_week2",
    "model3": "income['>50K'] ~ age + age2 + age3 + hs_week + hs_week2 + hs_week3 + sex + race",
}


@pytest.fixture(scope="module")
def fits(data):
    model1 = bmb.Model(FORMULAS["model1"], data, family="bernoulli")
    fitted1 = model1.fit(idata_kwargs={"log_likelihood": True}, random_seed=1, **SMALL)
    model2 = bmb.Model(FORMULAS["model2"], data, family="bernoulli")
    fitted2 = model2.fit(idata_kwargs={"log_likelihood": True}, random_seed=2, **SMALL)
    model3 = bmb.Model(FORMULAS["model3"], data, family="bernoulli")
    fitted3 = model3.fit(
        random_seed=1234, target_accept=0.9, idata_kwargs={"log_likelihood": True}, **SMALL
    )
    return {"model1": (model1, fitted1), "model2": (model2, fitted2), "model3": (model3, fitted3)}


@pytest.mark.parametrize("name", ["model1", "model2", "model3"])
def test_coefficients_match_maximum_likelihood(data, fits, name):
    _, fitted = fits[name]
    coded = data.assign(
        rich=(data["income"] == ">50K").astype(int),
        male=(data["sex"] == "Male").astype(int),
        white=(data["race"] == "White").astype(int),
    )
    rhs = FORMULAS[name].split("~")[1].replace("sex", "male").replace("race", "white")
    reference = smf.logit(f"rich ~ {rhs}", coded).fit(disp=0).params
    posterior = fitted["posterior"]
    for term in ["Intercept", "age", "hs_week"] + (["age2"] if name != "model1" else []):
        assert_posterior_near(draws_of(posterior, term), reference[term], label=term)
    for term, column in [("sex", "male"), ("race", "white")]:
        assert_posterior_near(draws_of(posterior, term)[..., 0], reference[column], label=term)


def test_loo_comparison(fits):
    models_dict = {name: fitted for name, (_, fitted) in fits.items()}
    df_compare = az.compare(models_dict)
    # the data follow model2 (and model3 contains it): model1 comes last, far behind
    assert df_compare.index[-1] == "model1"
    assert set(df_compare.index[:2]) == {"model2", "model3"}
    assert abs(df_compare["elpd_diff"].iloc[-1]) > 4 * df_compare["dse"].iloc[-1]


def test_predictions_for_profiles(fits):
    model2, fitted2 = fits["model2"]
    hs_week, age = 0.1, np.linspace(-1.5, 2.5)
    new_data = pd.DataFrame(
        {
            "sex": ["Female"] * len(age),
            "race": ["White"] * len(age),
            "age": age,
            "age2": age**2,
            "hs_week": [hs_week] * len(age),
            "hs_week2": [hs_week**2] * len(age),
        }
    )
    new_idata = model2.predict(fitted2, data=new_data, inplace=False)
    mean = draws_of(new_idata["posterior"], "p")
    post = fitted2["posterior"]
    eta = (
        draws_of(post, "Intercept")[..., None]
        + draws_of(post, "race")[..., 0, None]
        + draws_of(post, "age")[..., None] * age
        + draws_of(post, "age2")[..., None] * age**2
        + draws_of(post, "hs_week")[..., None] * hs_week
        + draws_of(post, "hs_week2")[..., None] * hs_week**2
    )
    np.testing.assert_allclose(mean, special.expit(eta), rtol=1e-6)
