"""Bambi's zero-inflated regression notebook (docs/notebooks/zero_inflated_regression.ipynb).

The notebook reads Stata's ``fish.dta`` (fish caught by 250 groups of park visitors), bundled
here as ``fish``; it keeps the groups that caught fewer than 60 fish and fits a zero-inflated
Poisson model without and with a formula for ``psi``, and a hurdle Poisson model.

PyMC's parameterisation: ``psi`` is the probability of the Poisson part in
``ZeroInflatedPoisson`` (statsmodels' inflation model is the probability of the extra zeros,
``1 - psi``) and the probability of a non-zero count in ``HurdlePoisson``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import special
from statsmodels.discrete.count_model import ZeroInflatedPoisson
from statsmodels.discrete.truncated_model import TruncatedLFPoisson

import bayesformula as bmb
from tests.bambi_notebooks.helpers import SMALL, assert_posterior_near, draws_of

TERMS = ["livebait", "camper", "persons", "child"]
FORMULA = "count ~ livebait + camper + persons + child"


@pytest.fixture(scope="module")
def fish_data():
    fish_data = bmb.load_data("fish")
    cols = ["count", "livebait", "camper", "persons", "child"]
    fish_data = fish_data[cols]
    fish_data["livebait"] = pd.Categorical(fish_data["livebait"])
    fish_data["camper"] = pd.Categorical(fish_data["camper"])
    fish_data = fish_data[fish_data["count"] < 60]
    return fish_data


@pytest.fixture(scope="module")
def design(fish_data):
    x = pd.DataFrame(
        {
            "Intercept": 1.0,
            "livebait": (fish_data["livebait"] == 1).astype(float),
            "camper": (fish_data["camper"] == 1).astype(float),
            "persons": fish_data["persons"].astype(float),
            "child": fish_data["child"].astype(float),
        }
    )
    return fish_data["count"].astype(float), x


# the notebook fits 4 chains of 1000 draws; fewer here (SMALL)
FIT = {"target_accept": 0.95, "random_seed": 1234, **SMALL}


def _coefficient(posterior, name):
    array = posterior[name]
    extra = [d for d in array.dims if d not in ("chain", "draw")]
    return array.isel({d: -1 for d in extra}) if extra else array  # the level "1"


def test_zero_inflated_poisson_family(fish_data, design):
    assert len(fish_data) == 248
    zip_fam_model = bmb.Model(FORMULA, fish_data, family="zero_inflated_poisson")
    zip_fam_idata = zip_fam_model.fit(**FIT)
    y, x = design
    reference = ZeroInflatedPoisson(y, x, exog_infl=np.ones((len(y), 1))).fit(disp=0, maxiter=500)
    posterior = zip_fam_idata["posterior"]
    for name in ["Intercept", *TERMS]:
        assert_posterior_near(
            draws_of(_coefficient(posterior, name)), reference.params[name], label=name
        )
    psi = 1 - special.expit(reference.params["inflate_const"])
    assert_posterior_near(draws_of(posterior, "psi"), psi, slack=0.5, label="psi")


@pytest.fixture(scope="module")
def zip_fit(fish_data):
    zip_model = bmb.Model(
        bmb.Formula(FORMULA, "psi ~ livebait + camper + persons + child"),
        fish_data,
        family="zero_inflated_poisson",
    )
    zip_idata = zip_model.fit(**FIT)
    return zip_model, zip_idata


def test_zero_inflated_poisson_with_a_formula_for_psi(zip_fit, design):
    _, zip_idata = zip_fit
    y, x = design
    reference = ZeroInflatedPoisson(y, x, exog_infl=x).fit(disp=0, maxiter=1000)
    posterior = zip_idata["posterior"]
    # with covariates in both parts the inflation coefficients are weakly identified (248 rows)
    # and the posterior is skewed, so its mean departs further from the maximum-likelihood fit
    for name in ["Intercept", *TERMS]:
        assert_posterior_near(
            draws_of(_coefficient(posterior, name)), reference.params[name], 0.6, name
        )
        # psi is the probability of the Poisson part: minus statsmodels' inflation coefficients
        assert_posterior_near(
            draws_of(_coefficient(posterior, f"psi_{name}")),
            -reference.params[f"inflate_{name}"],
            slack=0.6,
            label=f"psi_{name}",
        )


def test_posterior_predictive_zeros(zip_fit, fish_data):
    zip_model, zip_idata = zip_fit
    zip_model.predict(zip_idata, kind="response")
    counts = draws_of(zip_idata["posterior_predictive"], "count")
    # the zero-inflated model reproduces the share of groups that caught nothing
    observed = (fish_data["count"] == 0).mean()
    predicted = (counts == 0).mean(axis=-1).ravel()
    assert abs(predicted.mean() - observed) < 0.03
    assert np.quantile(predicted, 0.02) < observed < np.quantile(predicted, 0.98)


def test_hurdle_poisson(fish_data, design):
    hurdle_model = bmb.Model(
        bmb.Formula(FORMULA, "psi ~ livebait + camper + persons + child"),
        fish_data,
        family="hurdle_poisson",
    )
    hurdle_idata = hurdle_model.fit(**FIT)
    y, x = design
    # the hurdle likelihood factorises: psi is a logistic regression of "caught any fish" and
    # mu a zero-truncated Poisson regression of the positive counts
    logit = sm.Logit((y > 0).astype(float), x).fit(disp=0)
    positive = y > 0
    truncated = TruncatedLFPoisson(y[positive], x[positive], truncation=0).fit(disp=0)
    posterior = hurdle_idata["posterior"]
    for name in ["Intercept", *TERMS]:
        assert_posterior_near(
            draws_of(_coefficient(posterior, f"psi_{name}")),
            logit.params[name],
            label=f"psi_{name}",
        )
        assert_posterior_near(
            draws_of(_coefficient(posterior, name)), truncated.params[name], label=name
        )
