"""predict(): in-sample and new-data predictions against a numpy reference from the draws."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special

import bayesformula as bf
from bayesformula.errors import PredictionError


def _draws(idata, name):
    da = idata.posterior[name]
    return da.values.reshape((-1,) + da.shape[2:])


def _reference_mu(idata, data, include_group=True):
    """mu = Intercept + x b + a-effect + u[g], computed directly from the draws."""
    mu = _draws(idata, "Intercept")[:, None] + _draws(idata, "x")[:, None] * data["x"].to_numpy()
    a = _draws(idata, "a")
    levels = list(idata.posterior["a_dim"].values)
    for j, level in enumerate(levels):
        mu = mu + a[:, j][:, None] * (data["a"].to_numpy() == level)
    if include_group:
        u = _draws(idata, "1|g")
        groups = list(idata.posterior["g__factor_dim"].values)
        mu = mu + u[:, [groups.index(g) for g in data["g"]]]
    return mu


def test_in_sample_response_params_match_reference(group_fit, group_data):
    model, idata = group_fit
    out = model.predict(idata, inplace=False)
    mu = out.posterior["mu"]
    assert mu.dims == ("chain", "draw", "__obs__")
    assert list(mu["__obs__"].values) == list(group_data.index)
    np.testing.assert_allclose(
        mu.values.reshape(-1, len(group_data)), _reference_mu(idata, group_data), rtol=1e-10
    )
    assert "mu" not in idata.posterior  # inplace=False left the original alone


def test_new_data_keeps_index_and_matches_reference(group_fit):
    model, idata = group_fit
    new = pd.DataFrame(
        {"x": [-1.0, 0.0, 2.5], "a": ["hi", "lo", "mid"], "g": ["g3", "g0", "g7"]},
        index=["first", "second", "third"],
    )
    out = model.predict(idata, data=new, inplace=False)
    assert list(out.posterior["__obs__"].values) == ["first", "second", "third"]
    np.testing.assert_allclose(
        out.posterior["mu"].values.reshape(-1, 3), _reference_mu(idata, new), rtol=1e-10
    )
    fixed = model.predict(idata, data=new, inplace=False, include_group_specific=False)
    np.testing.assert_allclose(
        fixed.posterior["mu"].values.reshape(-1, 3), _reference_mu(idata, new, False), rtol=1e-10
    )


def test_inplace_prediction_replaces_earlier_one(group_fit, group_data):
    model, idata = group_fit
    copy = model.predict(idata, inplace=False)
    assert model.predict(copy, data=group_data.iloc[:2]) is None
    assert copy.posterior["mu"].shape[-1] == 2


def test_unseen_category_is_a_clear_error(group_fit):
    model, idata = group_fit
    new = pd.DataFrame({"x": [0.0], "a": ["huge"], "g": ["g0"]})
    with pytest.raises(PredictionError, match="huge"):
        model.predict(idata, data=new, inplace=False)


def test_new_group_needs_sample_new_groups(group_fit):
    model, idata = group_fit
    new = pd.DataFrame({"x": [0.0, 0.0], "a": ["lo", "lo"], "g": ["g0", "brand-new"]})
    with pytest.raises(PredictionError, match="brand-new.*sample_new_groups=True"):
        model.predict(idata, data=new, inplace=False)
    out = model.predict(idata, data=new, inplace=False, sample_new_groups=True, random_seed=1)
    mu = out.posterior["mu"].values.reshape(-1, 2)
    fixed = _reference_mu(idata, new, include_group=False)
    # the known group keeps its own effect; the new one adds Normal(0, sigma) per draw
    np.testing.assert_allclose(mu[:, 0], _reference_mu(idata, new.iloc[:1])[:, 0], rtol=1e-10)
    extra = mu[:, 1] - fixed[:, 1]
    sigma = _draws(idata, "1|g_sigma")
    z = extra / sigma
    assert abs(z.mean()) < 4 / np.sqrt(len(z)) and abs(z.std() - 1) < 0.1


def test_response_draws_binomial(bioassay_fit):
    model, idata = bioassay_fit
    new = pd.DataFrame({"dose": [-1.0, 0.0, 1.0]})
    out = model.predict(idata, data=new, kind="response", inplace=False, random_seed=3)
    p = out.posterior["p"].values.reshape(-1, 3)
    ref = special.expit(
        _draws(idata, "Intercept")[:, None]
        + _draws(idata, "dose")[:, None] * new["dose"].to_numpy()
    )
    np.testing.assert_allclose(p, ref, rtol=1e-10)
    deaths = out.posterior_predictive["deaths"]
    assert deaths.dims == ("chain", "draw", "__obs__")
    values = deaths.values.reshape(-1, 3)
    assert values.min() >= 0 and values.max() <= 5  # the constant 5 trials from fitting
    # mean predicted deaths = 5 * mean p within Monte Carlo error
    se = np.sqrt(5 * p.mean(0) * (1 - p.mean(0)) / len(values)) + 1e-9
    assert np.all(np.abs(values.mean(0) - 5 * p.mean(0)) < 5 * se + 0.05)
    more = pd.DataFrame({"dose": [0.0], "n": [40]})
    out = model.predict(idata, data=more, kind="response", inplace=False, random_seed=3)
    assert out.posterior_predictive["deaths"].max() > 5  # trials taken from the new data


def test_prior_predictive_and_prior_curves(bioassay_fit):
    model, _ = bioassay_fit
    prior = model.prior_predictive(draws=200, random_seed=1)
    assert {"prior", "prior_predictive"} <= set(prior.children)
    assert prior.prior_predictive["deaths"].shape == (1, 200, 4)
    # the prior's slope draws have the default prior's scale: 2.5 / sd(dose)
    sd = float(prior.prior["dose"].std())
    expected = 2.5 / np.std(model.design.X[:, 0])
    assert abs(sd / expected - 1) < 0.2  # 200 draws: relative SE of an SD ~ 5 %
    grid = pd.DataFrame({"dose": np.linspace(-1, 1, 5)})
    curves = model.predict(prior, data=grid, inplace=False, group="prior")
    assert curves.prior["p"].shape == (1, 200, 5)


@pytest.mark.parametrize(
    "family, params, mean",
    [
        ("gaussian", {"mu": 2.0, "sigma": 1.0}, 2.0),
        ("t", {"mu": 2.0, "sigma": 1.0, "nu": 5.0}, 2.0),
        ("bernoulli", {"p": 0.3}, 0.3),
        ("binomial", {"p": 0.3, "trials": np.array(10)}, 3.0),
        ("poisson", {"mu": 4.0}, 4.0),
        ("negativebinomial", {"mu": 4.0, "alpha": 2.0}, 4.0),
        ("gamma", {"mu": 4.0, "alpha": 2.0}, 4.0),
        ("beta", {"mu": 0.3, "kappa": 5.0}, 0.3),
        ("exponential", {"mu": 4.0}, 4.0),
    ],
)
def test_family_draws_have_the_modelled_mean(family, params, mean):
    fam = bf.get_family(family)
    rng = np.random.default_rng(0)
    full = {k: np.full(40_000, v, dtype=float) for k, v in params.items()}
    draws = np.asarray(fam.draw(rng, **fam.to_dist(full)), dtype=float)
    se = draws.std() / np.sqrt(draws.size)
    assert abs(draws.mean() - mean) < 5 * se
