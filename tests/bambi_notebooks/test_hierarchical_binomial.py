"""Bambi's hierarchical binomial notebook (docs/notebooks/hierarchical_binomial_bambi.ipynb).

The notebook takes 15 players of the 2016 season from the Baseball Databank (``bmb.load_data(
"batting")``, not bundled): hits ``H`` in ``AB`` times at bat. The first five rows below are the
ones the notebook prints; the other ten have the same spread of times at bat, including the
players the notebook points out: one with a single at-bat and a hit, one with few at-bats and
no hit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special

import bayesformula as bmb
from tests.bambi_notebooks.helpers import SMALL, assert_posterior_near, draws_of

random_seed = 1234


@pytest.fixture(scope="module")
def df():
    rows = [
        ("abadfe01", 1, 0),
        ("abreujo02", 624, 183),
        ("ackledu01", 61, 9),
        ("adamecr01", 225, 49),
        ("adamsma01", 297, 74),
        ("adamsma02", 8, 1),
        ("adducji02", 48, 9),
        ("aguilje01", 7, 0),
        ("ahmedni01", 284, 62),
        ("alberma01", 1, 1),
        ("alonsyo01", 482, 122),
        ("altuvjo01", 640, 216),
        ("alvarpe01", 378, 83),
        ("amarial01", 55, 12),
        ("anderbr04", 19, 3),
    ]
    df = pd.DataFrame(rows, columns=["playerID", "AB", "H"]).astype({"AB": float})
    df["batting_avg"] = df["H"] / df["AB"]
    return df


@pytest.fixture(scope="module")
def non_hierarchical(df):
    model_non_hierarchical = bmb.Model("p(H, AB) ~ 0 + playerID", df, family="binomial")
    idata_non_hierarchical = model_non_hierarchical.fit(random_seed=random_seed, **SMALL)
    return model_non_hierarchical, idata_non_hierarchical


def test_cell_means_model(df, non_hierarchical):
    model_non_hierarchical, idata_non_hierarchical = non_hierarchical
    coefficients = idata_non_hierarchical["posterior"]["playerID"]
    dim = [d for d in coefficients.dims if d not in ("chain", "draw")][0]
    assert coefficients.sizes[dim] == 15
    # players with hits and misses: the coefficient is the log-odds of their batting average
    # (wide default priors); those at 0% or 100% are held back by the prior only
    regular = df[(df["H"] > 0) & (df["H"] < df["AB"]) & (df["AB"] >= 40)]
    draws = draws_of(coefficients.sel({dim: regular["playerID"].to_list()}))
    assert_posterior_near(draws, special.logit(regular["batting_avg"]), label="log-odds")
    assert float(coefficients.sel({dim: "abadfe01"}).mean()) < -1
    assert float(coefficients.sel({dim: "alberma01"}).mean()) > 1

    model_non_hierarchical.predict(idata_non_hierarchical)
    p = draws_of(idata_non_hierarchical["posterior"], "p")
    np.testing.assert_allclose(p, special.expit(draws_of(coefficients)), rtol=1e-9)


@pytest.fixture(scope="module")
def model_hierarchical(df):
    priors = {
        "Intercept": bmb.Prior("Normal", mu=0, sigma=1),
        "1|playerID": bmb.Prior("Normal", mu=0, sigma=bmb.Prior("HalfNormal", sigma=1)),
    }
    return bmb.Model("p(H, AB) ~ 1 + (1|playerID)", df, family="binomial", priors=priors)


def test_prior_predictive(df, model_hierarchical):
    model_hierarchical.build()
    idata_prior = model_hierarchical.prior_predictive(random_seed=random_seed)
    # the response is named after its column, H (Bambi: "p(H, AB)"; docs/bambi-differences.md,
    # "Names in the model and in the fit")
    prior = draws_of(idata_prior["prior_predictive"], "H")
    assert prior.shape[-1] == 15
    ab = df["AB"].to_numpy()
    assert np.all((prior >= 0) & (prior <= ab))
    # "Now the priors tend to have a symmetric shape with a mode at 0.5"
    share = prior / ab
    assert abs(share[..., ab > 100].mean() - 0.5) < 0.05
    assert abs(np.median(share[..., ab > 100]) - 0.5) < 0.05


def test_hierarchical_model_shrinks_towards_the_global_mean(df, model_hierarchical):
    # the notebook draws and tunes 2000 per chain; fewer here (SMALL)
    idata_hierarchical = model_hierarchical.fit(
        target_accept=0.95, random_seed=random_seed, **SMALL
    )
    model_hierarchical.predict(idata_hierarchical)
    p = idata_hierarchical["posterior"]["p"].mean(("chain", "draw")).to_numpy()
    global_mean = (df["H"] / df["AB"]).mean()
    raw = df["batting_avg"].to_numpy()
    # extreme empirical averages (0% and 100% on one at-bat) are pulled to the global mean
    for player in ["abadfe01", "alberma01"]:
        i = df.index[df["playerID"] == player][0]
        assert abs(p[i] - global_mean) < 0.15
    # a player with 624 at-bats keeps his own average
    i = df.index[df["playerID"] == "abreujo02"][0]
    draws = draws_of(idata_hierarchical["posterior"], "p")[..., i]
    assert_posterior_near(draws, raw[i], slack=0.5, label="abreujo02")
    # every estimate lies between the player's average and the league-wide one
    low, high = np.minimum(raw, global_mean), np.maximum(raw, global_mean)
    assert np.all((p > low - 0.02) & (p < high + 0.02))
