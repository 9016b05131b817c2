"""Bambi's sleepstudy notebook (docs/notebooks/sleepstudy.ipynb): hierarchical linear regression.

The data are lme4's ``sleepstudy`` (bundled). lme4's REML fit of the same model gives fixed
effects 251.405 and 10.467 (lme4's documentation and every lme4 tutorial), subject-level
standard deviations 24.74 (intercept) and 5.92 (Days) and a residual standard deviation of
25.59.
"""

from __future__ import annotations

import arviz as az
import pytest
import statsmodels.formula.api as smf

import bayesformula as bmb
from tests.bambi_notebooks.helpers import SMALL, assert_posterior_near, draws_of

SEED = 7355608
LME4 = {"Intercept": 251.405, "Days": 10.467, "1|Subject": 24.74, "Days|Subject": 5.92}


@pytest.fixture(scope="module")
def data():
    return bmb.load_data("sleepstudy")


@pytest.fixture(scope="module")
def fitted(data):
    model = bmb.Model("Reaction ~ 1 + Days + (Days | Subject)", data, categorical="Subject")
    # the notebook draws 2000 per chain; fewer here (SMALL)
    idata = model.fit(random_seed=SEED, **SMALL)
    return model, idata


def test_common_effects_match_lme4(fitted):
    _, idata = fitted
    summary = az.summary(idata, var_names=["Intercept", "Days"], kind="stats")
    assert list(summary.index) == ["Intercept", "Days"]
    posterior = idata["posterior"]
    for name in ["Intercept", "Days"]:
        assert_posterior_near(draws_of(posterior, name), LME4[name], label=name)
    # the notebook reads 235-265 ms at the start and 7-14 ms per day
    assert 235 < summary.loc["Intercept", "mean"] < 265
    assert 7 < summary.loc["Days", "mean"] < 14


def test_subject_specific_effects(fitted, data):
    _, idata = fitted
    posterior = idata["posterior"]
    # one intercept and one slope per subject, labelled by subject
    for name in ["1|Subject", "Days|Subject"]:
        labels = posterior[name].coords["Subject__factor_dim"].to_numpy()
        assert sorted(str(s) for s in labels) == sorted(str(s) for s in data["Subject"].unique())
    # the standard deviations of the subject effects: REML estimates are at the low end of
    # these right-skewed posteriors with 18 subjects, so a wider slack
    for name in ["1|Subject", "Days|Subject"]:
        draws = draws_of(posterior, f"{name}_sigma")
        assert_posterior_near(draws, LME4[name], slack=0.75, label=f"{name}_sigma")
    # "from the pink posterior centered at ~ -11, there seems to be one person who gets
    # better at reaction times": the smallest subject slope deviation is near -11
    slopes = posterior["Days|Subject"].mean(("chain", "draw"))
    assert -16 < float(slopes.min()) < -6


def test_posterior_of_the_mean(fitted, data):
    model, idata = fitted
    # Obtain the posterior of the mean
    model.predict(idata)
    # Take the posterior of the mean reaction time
    reaction_mean = az.extract(idata)["mu"].values
    assert reaction_mean.shape[0] == len(data)
    # reference: the fitted values (fixed effects plus predicted subject effects) of the REML
    # fit of the same model
    reml = smf.mixedlm("Reaction ~ Days", data, groups="Subject", re_formula="~Days").fit()
    mu = draws_of(idata["posterior"], "mu")
    assert_posterior_near(mu, reml.fittedvalues.to_numpy(), slack=0.5, label="mu")
