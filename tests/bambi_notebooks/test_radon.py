"""Bambi's radon notebook (docs/notebooks/radon_example.ipynb): complete, no and partial pooling.

The notebook builds its table from PyMC's ``srrs2.dat`` and ``cty.dat``: the 919 Minnesota
homes with ``log_radon``, ``floor`` ("Basement"/"Floor"), ``log_u`` (log county uranium) and
``county``. The bundled ``radon`` dataset holds the same homes (Gelman & Hill's version, whose
zero readings are set to 0.1 before the log rather than shifted by 0.1); the test renames its
columns to the notebook's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

import bayesformula as bmb
from tests.bambi_notebooks.helpers import SMALL, assert_posterior_near, draws_of


@pytest.fixture(scope="module")
def df():
    data = bmb.load_data("radon").rename(columns={"uranium": "log_u"})
    # Let's map floor. 0 -> Basement and 1 -> Floor
    data["floor"] = data["floor"].map({0: "Basement", 1: "Floor"})
    # Sort values by floor
    data = data.sort_values(by="floor")
    # Reset index
    return data.reset_index(drop=True)


def test_data_as_in_the_notebook(df):
    assert df.shape[0] == 919
    n_counties = df["county"].unique().size
    assert n_counties == 85
    assert df.query("county == 'YELLOW MEDICINE' and floor == 'Floor'").empty


@pytest.fixture(scope="module")
def pooled(df):
    # A dictionary with the priors we pass to the model initialization
    pooled_priors = {
        "floor": bmb.Prior("Normal", mu=0, sigma=10),
        "sigma": bmb.Prior("Exponential", lam=1),
    }
    pooled_model = bmb.Model("log_radon ~ 0 + floor", df, priors=pooled_priors)
    pooled_model.build()
    pooled_results = pooled_model.fit(random_seed=1, **SMALL)
    return pooled_model, pooled_results


def test_complete_pooling(df, pooled):
    pooled_model, pooled_results = pooled
    floor = pooled_results["posterior"]["floor"]
    means = df.groupby("floor")["log_radon"].mean()
    for level in ["Basement", "Floor"]:
        assert_posterior_near(draws_of(floor.sel(floor_dim=level)), means[level], label=level)
    residual = df["log_radon"] - df["floor"].map(means)
    sigma_ml = np.sqrt((residual**2).sum() / (len(df) - 2))
    assert_posterior_near(draws_of(pooled_results["posterior"], "sigma"), sigma_ml, 0.5, "sigma")

    # One observation per group is enough to obtain posterior predictive samples for that group
    new_data = pd.DataFrame({"floor": ["Basement", "Floor"]})
    predicted = pooled_model.predict(pooled_results, kind="response", data=new_data, inplace=False)
    pps = draws_of(predicted["posterior_predictive"], "log_radon")
    assert pps.shape[-1] == 2
    # predictive draws: mean of the floor level, sd sigma (plus the small posterior sd)
    spread = residual.std()
    np.testing.assert_allclose(pps.mean(axis=(0, 1)), means.to_numpy(), atol=5 * spread / 24)
    np.testing.assert_allclose(pps.std(axis=(0, 1)), spread, rtol=0.15)


def test_no_pooling(df):
    unpooled_priors = {
        "county:floor": bmb.Prior("Normal", mu=0, sigma=10),
        "sigma": bmb.Prior("Exponential", lam=1),
    }
    unpooled_model = bmb.Model("log_radon ~ 0 + county:floor", df, priors=unpooled_priors)
    # 170 coefficients: fewer draws than SMALL still leave the Monte Carlo error small
    unpooled_results = unpooled_model.fit(random_seed=2, **{**SMALL, "draws": 200, "tune": 200})
    cells = unpooled_results["posterior"]["county:floor"]
    assert cells.sizes[cells.dims[-1]] == 170  # 85 counties x 2 floor levels
    # each coefficient is the mean of its county and floor (the Normal(0, 10) prior is flat at
    # this scale); a combination without homes keeps the prior
    means = df.groupby(["county", "floor"])["log_radon"].mean()
    dim = cells.dims[-1]
    labels = [str(label) for label in cells.coords[dim].to_numpy()]
    observed = [
        i for i, label in enumerate(labels) if (label.split(", ")[0], label.split(", ")[1]) in means
    ]
    reference = [means[tuple(labels[i].split(", "))] for i in observed]
    assert len(observed) == len(means)
    assert_posterior_near(draws_of(cells)[..., observed], reference, label="county:floor")
    empty = labels.index("YELLOW MEDICINE, Floor")
    prior_only = draws_of(cells)[..., empty]
    assert abs(prior_only.mean()) < 3 and 7 < prior_only.std() < 13


@pytest.fixture(scope="module")
def partial_pooling(df):
    # We can add the hyper-priors inside the prior dictionary parameter of the model constructor
    partial_pooling_priors = {
        "Intercept": bmb.Prior("Normal", mu=0, sigma=10),
        "1|county": bmb.Prior("Normal", mu=0, sigma=bmb.Prior("Exponential", lam=1)),
        "sigma": bmb.Prior("Exponential", lam=1),
    }
    partial_pooling_model = bmb.Model(
        formula="log_radon ~ 1 + (1|county)",
        data=df,
        priors=partial_pooling_priors,
        noncentered=False,
    )
    partial_pooling_results = partial_pooling_model.fit(random_seed=3, **SMALL)
    return partial_pooling_model, partial_pooling_results


def test_partial_pooling(df, partial_pooling):
    partial_pooling_model, partial_pooling_results = partial_pooling
    reml = smf.mixedlm("log_radon ~ 1", df, groups="county").fit(reml=True)
    posterior = partial_pooling_results["posterior"]
    assert_posterior_near(draws_of(posterior, "Intercept"), reml.fe_params["Intercept"])
    group_sd = np.sqrt(reml.cov_re.iloc[0, 0])
    assert_posterior_near(draws_of(posterior, "1|county_sigma"), group_sd, 0.5, "county sd")
    # the county intercepts are shrunk towards the global mean as the best linear unbiased
    # predictions of the mixed model are
    effects = posterior["1|county"]
    counties = [str(c) for c in effects.coords["county__factor_dim"].to_numpy()]
    blup = np.array([reml.random_effects[c].iloc[0] for c in counties])
    assert_posterior_near(draws_of(effects), blup, slack=0.5, label="1|county")

    # posterior predictive: the county means of the predictions lie between the observed
    # county means and the global mean
    partial_pooling_model.predict(partial_pooling_results, kind="response")
    pps = draws_of(partial_pooling_results["posterior_predictive"], "log_radon")
    pps_df = pd.DataFrame(pps.reshape(-1, pps.shape[-1]).T).assign(county=df["county"])
    y_pred = pps_df.groupby("county").mean().mean(axis=1)
    y_sample = df.groupby("county")["log_radon"].mean()
    grand = df["log_radon"].mean()
    shrink = (y_pred - grand) / (y_sample - grand)
    # counties with many homes are shrunk little, those with one or two a lot
    homes = df["county"].value_counts()
    assert shrink[homes.index[homes >= 40]].min() > 0.75
    assert shrink[homes.index[homes <= 2]].median() < 0.6


def test_varying_intercept(df):
    varying_intercept_priors = {
        "floor": bmb.Prior("Normal", mu=0, sigma=10),
        "1|county": bmb.Prior("Normal", mu=0, sigma=bmb.Prior("Exponential", lam=1)),
        "sigma": bmb.Prior("Exponential", lam=1),
    }
    varying_intercept_model = bmb.Model(
        formula="log_radon ~ 0 + floor + (1|county)",
        data=df,
        priors=varying_intercept_priors,
        noncentered=False,
    )
    varying_intercept_results = varying_intercept_model.fit(random_seed=4, **SMALL)
    reml = smf.mixedlm("log_radon ~ 0 + floor", df, groups="county").fit(reml=True)
    floor = varying_intercept_results["posterior"]["floor"]
    for level in ["Basement", "Floor"]:
        assert_posterior_near(
            draws_of(floor.sel(floor_dim=level)), reml.fe_params[f"floor[{level}]"], label=level
        )


def _varying_slope_priors(with_uranium: bool) -> dict:
    priors = {
        "floor": bmb.Prior("Normal", mu=0, sigma=10),
        "floor|county": bmb.Prior("Normal", mu=0, sigma=bmb.Prior("Exponential", lam=1)),
        "sigma": bmb.Prior("Exponential", lam=1),
    }
    if with_uranium:
        priors["log_u"] = bmb.Prior("Normal", mu=0, sigma=10)
    return priors


def test_varying_intercept_and_slope_as_written(df):
    varying_intercept_slope_model = bmb.Model(
        formula="log_radon ~ 0 + floor + (0 + floor|county)",
        data=df,
        priors=_varying_slope_priors(False),
        noncentered=True,
    )
    table = varying_intercept_slope_model.prior_table().set_index("parameter")
    assert table.loc["floor|county", "prior"] == "Normal(mu: 0, sigma: Exponential(lam: 1))"
    assert table.loc["sigma", "prior"] == "Exponential(lam: 1)"


def test_county_level_predictor_as_written(df):
    # Bambi fits the county effects of the two floor levels independently; here "|" also
    # estimates their correlation, and "||" is Bambi's model (docs/bambi-differences.md,
    # "Correlated group effects"). With 173 parameters either version samples for tens of
    # seconds, so the model is only specified here.
    covariate_model = bmb.Model(
        formula="log_radon ~ 0 + floor + log_u + (0 + floor|county)",
        data=df,
        priors=_varying_slope_priors(True),
        noncentered=True,
    )
    table = covariate_model.prior_table().set_index("parameter")
    assert table.loc["log_u", "prior"] == "Normal(mu: 0, sigma: 10)"
    assert covariate_model.design.X.shape == (919, 3)
    assert len(covariate_model.design.group_levels["county"]) == 85
