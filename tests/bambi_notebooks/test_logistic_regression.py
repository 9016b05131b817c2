"""Bambi's "Logistic Regression" notebook (docs/notebooks/logistic_regression.ipynb).

The notebook uses ``bmb.load_data("ANES")``, 421 answers of the 2016 ANES pilot study (vote
intention, age, party identification), which is not bundled. The test simulates a table with
the same columns and party sizes (186 democrats, 138 independents, 97 republicans), the
votes drawn from a logistic model with the coefficients the notebook reports.
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

SEED = 7355608
# the notebook's posterior means, used as the truth of the simulation
TRUTH = {
    "Intercept": 1.674,
    "independent": -0.293,
    "republican": -1.151,
    "age": {"democrat": 0.013, "independent": -0.033, "republican": -0.080},
}


def _anes(seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    party = np.repeat(["democrat", "independent", "republican"], [186, 138, 97])
    age = rng.integers(18, 91, party.size)
    shift = pd.Series(party).map({"democrat": 0.0, "independent": -0.293, "republican": -1.151})
    slope = pd.Series(party).map(TRUTH["age"])
    p_clinton = special.expit(TRUTH["Intercept"] + shift.to_numpy() + slope.to_numpy() * age)
    vote = np.where(rng.random(party.size) < p_clinton, "clinton", "trump")
    # about one in nine answers is "someone else"
    vote[rng.random(party.size) < 0.11] = "someone_else"
    order = rng.permutation(party.size)
    return pd.DataFrame({"vote": vote, "age": age, "party_id": party}).iloc[order]


@pytest.fixture(scope="module")
def clinton_data():
    data = _anes()
    return data.loc[data["vote"].isin(["clinton", "trump"]), :]


@pytest.fixture(scope="module")
def fitted(clinton_data):
    clinton_model = bmb.Model(
        "vote['clinton'] ~ party_id + party_id:age", clinton_data, family="bernoulli"
    )
    # the notebook draws 2000 per chain; fewer here (SMALL)
    settings = {**SMALL, "draws": 500}
    clinton_fitted = clinton_model.fit(
        target_accept=0.85, random_seed=SEED, idata_kwargs={"log_likelihood": True}, **settings
    )
    return clinton_model, clinton_fitted


@pytest.fixture(scope="module")
def reference(clinton_data):
    data = clinton_data.assign(clinton=(clinton_data["vote"] == "clinton").astype(int))
    return smf.logit("clinton ~ party_id + party_id:age", data).fit(disp=0)


def test_models_the_probability_of_voting_clinton(fitted, clinton_data):
    _, clinton_fitted = fitted
    observed = clinton_fitted["observed_data"]["vote"].to_numpy()
    np.testing.assert_array_equal(observed, (clinton_data["vote"] == "clinton").to_numpy())


def test_coefficients_match_the_maximum_likelihood_fit(fitted, reference):
    _, clinton_fitted = fitted
    posterior = clinton_fitted["posterior"]
    params = reference.params
    assert_posterior_near(draws_of(posterior, "Intercept"), params["Intercept"], label="Int")
    party = posterior["party_id"]
    for level in ["independent", "republican"]:
        assert_posterior_near(
            draws_of(party.sel(party_id_dim=level)),
            params[f"party_id[T.{level}]"],
            label=level,
        )
    slopes = posterior["party_id:age"]
    dim = [d for d in slopes.dims if d not in ("chain", "draw")][0]
    for level in ["democrat", "independent", "republican"]:
        assert_posterior_near(
            draws_of(slopes.sel({dim: level})),
            params[f"party_id[{level}]:age"],
            label=f"{level}:age",
        )
    # the age slope is negative for independents and republicans (notebook's conclusion)
    assert (slopes.sel({dim: "republican"}) < 0).mean() > 0.95


def test_predictions_on_new_data(fitted):
    clinton_model, clinton_fitted = fitted
    parties = ["democrat", "independent", "republican"]
    ages = np.arange(18, 91)
    new_data = pd.DataFrame({"age": np.tile(ages, 3), "party_id": np.repeat(parties, len(ages))})
    predicted = clinton_model.predict(clinton_fitted, data=new_data, inplace=False)
    p = draws_of(predicted["posterior"], "p")
    # the probability is the inverse logit of the linear predictor of each draw
    post = clinton_fitted["posterior"]
    intercept = draws_of(post, "Intercept")[..., None]
    shift = np.concatenate(
        [np.zeros(intercept.shape[:2] + (1,)), draws_of(post, "party_id")], axis=-1
    )
    slopes = post["party_id:age"]
    dim = [d for d in slopes.dims if d not in ("chain", "draw")][0]
    slope = slopes.sel({dim: parties}).transpose("chain", "draw", dim).to_numpy()
    index = np.repeat(np.arange(3), len(ages))
    age = new_data["age"].to_numpy()
    expected = special.expit(intercept + shift[..., index] + slope[..., index] * age)
    np.testing.assert_allclose(p, expected, rtol=1e-6, atol=1e-9)


def test_posterior_predictive_and_loo(fitted):
    clinton_model, clinton_fitted = fitted
    clinton_model.predict(clinton_fitted, kind="response")
    draws = draws_of(clinton_fitted["posterior_predictive"], "vote")
    assert set(np.unique(draws)) <= {0, 1}
    # the share of predicted "clinton" answers is the mean probability, up to binomial noise
    p = draws_of(clinton_fitted["posterior"], "p")
    assert abs(draws.mean() - p.mean()) < 4 * np.sqrt(0.25 / draws.size)
    loo = az.loo(clinton_fitted)
    # six coefficients: the effective number of parameters is close to six
    p_loo = float(getattr(loo, "p", getattr(loo, "p_loo", np.nan)))  # ArviZ 1 names it p
    assert 3 < p_loo < 9
