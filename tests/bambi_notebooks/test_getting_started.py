"""Bambi's "Getting Started" notebook (docs/notebooks/getting_started.ipynb).

The notebook reads three tables: ``data/my_data.txt`` (bundled here as ``my_data``), the long
table of the facial-feedback replication (``data/rrr_long.csv``, 6940 rows) and
``bmb.load_data("admissions")`` (400 applicants). The last two are not bundled; the tests use
simulated tables with the same columns and a known truth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymc as pm
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import special

import bayesformula as bmb
from tests.bambi_notebooks.helpers import SMALL, assert_posterior_near, draws_of


def _rrr_long(seed: int = 8) -> pd.DataFrame:
    """The columns of rrr_long.csv: one row per subject (``uid``) and cartoon (``stimulus``),
    ratings ``value`` on a 0-9 scale, some answers missing (NaN) as in the original."""
    rng = np.random.default_rng(seed)
    n_subjects, stimuli = 60, ["rating_c1", "rating_c2", "rating_c3", "rating_c4"]
    uid = np.arange(1, n_subjects + 1, dtype=float)
    condition = rng.integers(0, 2, n_subjects).astype(float)
    gender = rng.integers(0, 2, n_subjects).astype(float)
    age = rng.integers(18, 40, n_subjects).astype(float)
    study = rng.integers(0, 17, n_subjects).astype(float)
    self_perf = rng.integers(1, 10, n_subjects).astype(float)
    subject_effect = rng.normal(0, 0.8, n_subjects)
    rows = []
    for k, stimulus in enumerate(stimuli):
        value = (
            3.0
            + 0.0 * condition
            + 0.04 * age
            - 0.3 * gender
            + subject_effect
            + [0.5, -0.5, 0.2, -0.2][k]
            + rng.normal(0, 1.5, n_subjects)
        )
        rows.append(
            pd.DataFrame(
                {
                    "uid": uid,
                    "condition": condition,
                    "gender": gender,
                    "age": age,
                    "study": study,
                    "self_perf": self_perf,
                    "stimulus": stimulus,
                    "value": value,
                }
            )
        )
    data = pd.concat(rows, ignore_index=True)
    data.loc[rng.choice(len(data), 5, replace=False), "age"] = np.nan
    data.loc[rng.choice(len(data), 4, replace=False), "value"] = np.nan
    data.loc[rng.choice(len(data), 6, replace=False), "self_perf"] = np.nan  # not in models
    return data


def _admissions(seed: int = 3) -> pd.DataFrame:
    """The columns of Bambi's ``admissions`` dataset (UCLA graduate admissions): ``admit``
    (0/1), ``gre`` (200-800), ``gpa`` (2-4) and ``rank`` (1-4), 400 rows."""
    rng = np.random.default_rng(seed)
    n = 400
    gre = rng.integers(22, 81, n) * 10.0
    gpa = np.round(rng.uniform(2.3, 4.0, n), 2)
    rank = rng.integers(1, 5, n)
    eta = -3.5 + 0.0025 * gre + 0.8 * gpa - 0.55 * rank
    admit = (rng.random(n) < special.expit(eta)).astype(int)
    return pd.DataFrame({"admit": admit, "gre": gre, "gpa": gpa, "rank": rank})


@pytest.fixture(scope="module")
def my_data():
    return bmb.load_data("my_data")


@pytest.fixture(scope="module")
def rrr():
    return _rrr_long()


@pytest.fixture(scope="module")
def admissions():
    return _admissions()


def test_creating_a_model(my_data):
    # Initialize the model
    model = bmb.Model("y ~ x + z", my_data)
    # The slopes' default priors the notebook prints: x ~ Normal(0, 2.231), z ~ Normal(0, 2.4374)
    table = model.prior_table().set_index("parameter")["prior"]
    assert table["x"] == "Normal(mu: 0, sigma: 2.231)"
    assert table["z"] == "Normal(mu: 0, sigma: 2.437)"
    idata = model.fit(random_seed=1, **SMALL)
    # weakly informative priors: the posterior mean is the least-squares fit
    ols = smf.ols("y ~ x + z", my_data).fit()
    posterior = idata["posterior"]
    for name in ["Intercept", "x", "z"]:
        assert_posterior_near(draws_of(posterior, name), ols.params[name], label=name)
    sigma_ml = np.sqrt(ols.ssr / ols.df_resid)
    assert_posterior_near(draws_of(posterior, "sigma"), sigma_ml, slack=0.5, label="sigma")


def test_dropna_keeps_the_complete_rows_of_the_model_columns(rrr):
    # "The number of rows dropped is different from the number of rows with missing values
    # because Bambi only considers columns involved in the model."
    complete = rrr[["value", "condition", "age", "gender"]].notna().all(axis=1).sum()
    assert rrr.isna().any(axis=1).sum() > len(rrr) - complete
    # Common (or fixed) effects only
    model = bmb.Model("value ~ condition + age + gender", rrr, dropna=True)
    assert model.design.X.shape == (complete, 3)
    # Common effects and group specific (or random) intercepts for subject
    model = bmb.Model("value ~ condition + age + gender + (1|uid)", rrr, dropna=True)
    assert len(model.design.group_levels["uid"]) == rrr.loc[model.data.index, "uid"].nunique()
    # Multiple, complex group specific effects with both
    # group specific slopes and group specific intercepts
    model = bmb.Model(
        "value ~ condition + age + gender + (1|uid) + (condition|study) + (condition|stimulus)",
        rrr,
        dropna=True,
    )
    assert model.design.X.shape[0] == complete
    assert len(model.design.group_levels["stimulus"]) == 4


def test_fitting_the_model(rrr):
    model = bmb.Model("value ~ condition + age + gender + (1|uid)", rrr, dropna=True)
    results = model.fit(random_seed=2, **SMALL)
    # reference: REML fit of the same random-intercept model
    complete = rrr.dropna(subset=["value", "condition", "age", "gender"])
    reml = smf.mixedlm("value ~ condition + age + gender", complete, groups="uid").fit()
    posterior = results["posterior"]
    for name in ["Intercept", "condition", "age", "gender"]:
        assert_posterior_near(draws_of(posterior, name), reml.fe_params[name], label=name)
    assert_posterior_near(
        draws_of(posterior, "1|uid_sigma"), np.sqrt(reml.cov_re.iloc[0, 0]), 0.5, "1|uid_sigma"
    )
    assert_posterior_near(draws_of(posterior, "sigma"), np.sqrt(reml.scale), 0.5, "sigma")


def test_plot_priors(rrr):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    model = bmb.Model("value ~ condition + age + gender + (1|uid)", rrr, dropna=True)
    model.build()
    out = model.plot_priors()
    # Bambi returns the axes; a figure holding them serves the notebook's call as well
    panels = out.axes if hasattr(out, "axes") else np.ravel(out)
    assert len(panels) >= 5  # Intercept, condition, age, gender, 1|uid_sigma (and sigma)
    plt.close("all")


def test_specifying_priors(rrr):
    # A Laplace prior with mean of 0 and scale of 10
    my_favorite_prior = bmb.Prior("Laplace", mu=0, b=bmb.Prior("HalfNormal", sigma=1))
    # Set the prior when adding a term to the model; more details on this below.
    priors = {"1|uid": my_favorite_prior}
    # Group-specific effects are normal given their sd here (docs/bambi-differences.md, "Not
    # available"): the error shows the form to write instead.
    with pytest.raises(bmb.errors.PriorError, match=r"Normal\(mu=0, sigma=\.\.\.\)"):
        bmb.Model("value ~ condition + (1|uid)", rrr, priors=priors, dropna=True)
    priors = {"1|uid": bmb.Prior("Normal", mu=0, sigma=bmb.Prior("HalfNormal", sigma=1))}
    model = bmb.Model("value ~ condition + (1|uid)", rrr, priors=priors, dropna=True)
    table = model.prior_table().set_index("parameter")
    assert "HalfNormal(sigma: 1)" in table.loc["1|uid", "prior"]


def test_specifying_hyperpriors(rrr):
    subject_sd = bmb.Prior("HalfCauchy", beta=5)
    subject_prior = bmb.Prior("Normal", mu=0, sigma=subject_sd)
    priors = {"1|uid": subject_prior}
    model = bmb.Model("value ~ condition + (1|uid)", rrr, priors=priors, dropna=True)
    assert "HalfCauchy(beta: 5)" in model.prior_table().set_index("parameter").loc["1|uid", "prior"]


@pytest.fixture(scope="module")
def admissions_logit(admissions):
    fit = smf.logit("admit ~ gre + gpa + rank", admissions).fit(disp=0)
    return fit.params


def test_generalized_linear_mixed_models(admissions, admissions_logit):
    data = admissions
    model = bmb.Model("admit ~ gre + gpa + rank", data, family="bernoulli")
    results = model.fit(random_seed=3, **SMALL)
    posterior = results["posterior"]
    for name in ["Intercept", "gre", "gpa", "rank"]:
        assert_posterior_near(draws_of(posterior, name), admissions_logit[name], label=name)
    # show the names of all variables stored in the InferenceData object; the posterior also
    # keeps Intercept_centered (docs/bambi-differences.md, "Names in the model and in the fit")
    assert set(results.posterior.data_vars) - {"Intercept_centered"} == {
        "Intercept",
        "gre",
        "gpa",
        "rank",
    }
    # Bambi is just a high-level interface to PyMC
    assert isinstance(model.backend.model, pm.Model)
    assert [rv.name for rv in model.backend.model.observed_RVs] == ["admit"]


def test_custom_family_with_a_named_link(admissions, admissions_logit):
    data = admissions
    # Construct likelihood distribution ------------------------------
    likelihood = bmb.Likelihood("Bernoulli", parent="p")
    # Set link function ----------------------------------------------
    # 1. Pass a name that is known by Bambi
    link = bmb.Link("logit")
    # Construct the family -------------------------------------------
    family = bmb.Family("bernoulli", likelihood, link)
    # Now it's business as usual
    model = bmb.Model("admit ~ gre + gpa + rank", data, family=family)
    results = model.fit(random_seed=4, **SMALL)
    posterior = results["posterior"]
    for name in ["Intercept", "gre", "gpa", "rank"]:
        assert_posterior_near(draws_of(posterior, name), admissions_logit[name], label=name)


def test_custom_family_with_a_link_from_scratch(admissions, admissions_logit):
    data = admissions
    likelihood = bmb.Likelihood("Bernoulli", parent="p")
    # Bambi's own example passes link=expit, linkinv=logit (swapped); Bambi samples with
    # linkinv_backend only, while here the default priors use link and predictions linkinv, so
    # swapped functions are an error (docs/bambi-differences.md, "Custom links").
    with pytest.raises(bmb.errors.FamilyError, match="other way round"):
        bmb.Link(
            "my_logit", link=special.expit, linkinv=special.logit, linkinv_backend=bmb.math.sigmoid
        )
    # 2. Build everything from scratch
    link = bmb.Link(
        "my_logit", link=special.logit, linkinv=special.expit, linkinv_backend=bmb.math.sigmoid
    )

    # Construct the family -------------------------------------------
    family = bmb.Family("bernoulli", likelihood, link)

    # Now it's business as usual
    model = bmb.Model("admit ~ gre + gpa + rank", data, family=family)
    results = model.fit(random_seed=5, **SMALL)
    # "The above example produces results identical to simply setting family='bernoulli'."
    posterior = results["posterior"]
    for name in ["Intercept", "gre", "gpa", "rank"]:
        assert_posterior_near(draws_of(posterior, name), admissions_logit[name], label=name)


def test_statsmodels_reference_is_the_simulated_truth(admissions_logit):
    # the reference itself recovers the truth of the simulation (a check of the test data)
    truth = pd.Series({"Intercept": -3.5, "gre": 0.0025, "gpa": 0.8, "rank": -0.55})
    se = sm.Logit.from_formula("admit ~ gre + gpa + rank", _admissions()).fit(disp=0).bse
    assert (np.abs(admissions_logit - truth) < 4 * se).all()
