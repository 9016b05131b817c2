"""Bambi's distributional models notebook (docs/notebooks/distributional_models.ipynb).

The first part simulates its data (the same generator and seed here, so the same data); the
second uses ``bmb.load_data("bikes")`` (UCI bike sharing, every 50th hour: 348 rows), which is
not bundled: the test simulates 348 hourly counts from a known daily curve.
"""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

import bayesformula as bmb
from tests.bambi_notebooks.helpers import SMALL, assert_posterior_near, draws_of


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(121195)
    N = 200
    a, b = 0.5, 1.1
    x = rng.uniform(-1.5, 1.5, N)
    shape = np.exp(0.3 + x * 0.5 + rng.normal(scale=0.1, size=N))
    y = rng.gamma(shape, np.exp(a + b * x) / shape, N)
    return pd.DataFrame({"x": x, "y": y})


@pytest.fixture(scope="module")
def new_data():
    return pd.DataFrame({"x": np.linspace(-1.5, 1.5, num=50)})


def _gamma_mle(data: pd.DataFrame, varying: bool) -> np.ndarray:
    """Maximum likelihood of y ~ Gamma(mean exp(a + b x), shape exp(c [+ d x]))."""
    x, y = data["x"].to_numpy(), data["y"].to_numpy()

    def negative_log_likelihood(theta):
        a, b, c = theta[:3]
        shape = np.exp(c + (theta[3] * x if varying else 0.0))
        return -stats.gamma.logpdf(y, shape, scale=np.exp(a + b * x) / shape).sum()

    start = np.zeros(4 if varying else 3)
    return optimize.minimize(negative_log_likelihood, start, method="BFGS").x


@pytest.fixture(scope="module")
def constant(data, new_data):
    formula = bmb.Formula("y ~ x")
    model_constant = bmb.Model(formula, data, family="gamma", link="log")
    idata_constant = model_constant.fit(
        random_seed=121195, idata_kwargs={"log_likelihood": True}, **SMALL
    )
    return model_constant, idata_constant


@pytest.fixture(scope="module")
def varying(data):
    formula_varying = bmb.Formula("y ~ x", "alpha ~ x")
    model_varying = bmb.Model(
        formula_varying, data, family="gamma", link={"mu": "log", "alpha": "log"}
    )
    # the notebook then plots the posterior of alpha of each observation; with Bambi 0.21 it
    # is stored by include_response_params=True (Bambi 0.9 stored it by default)
    idata_varying = model_varying.fit(
        random_seed=121195,
        idata_kwargs={"log_likelihood": True},
        include_response_params=True,
        **SMALL,
    )
    return model_varying, idata_varying


def test_constant_alpha(data, new_data, constant):
    model_constant, idata_constant = constant
    a, b, c = _gamma_mle(data, varying=False)
    posterior = idata_constant["posterior"]
    assert_posterior_near(draws_of(posterior, "Intercept"), a, label="Intercept")
    assert_posterior_near(draws_of(posterior, "x"), b, label="x")
    assert_posterior_near(draws_of(posterior, "alpha"), np.exp(c), slack=0.5, label="alpha")

    model_constant.predict(idata_constant, kind="response_params", data=new_data)
    model_constant.predict(idata_constant, kind="response", data=new_data)
    mu = draws_of(idata_constant["posterior"], "mu")
    expected = np.exp(
        draws_of(posterior, "Intercept")[..., None]
        + draws_of(posterior, "x")[..., None] * new_data["x"].to_numpy()
    )
    np.testing.assert_allclose(mu, expected, rtol=1e-6)
    # the notebook's az.extract(idata.posterior_predictive, ...) is ArviZ 0.x; ArviZ 1 takes the
    # fit and the group's name
    extracted = az.extract(idata_constant, group="posterior_predictive", var_names="y")
    qts_constant = extracted.quantile([0.025, 0.975], "sample").to_numpy()
    mean_constant = extracted.mean("sample")
    assert qts_constant.shape == (2, 50)
    # the predictive mean follows the mean curve (Gamma noise: sd mu / sqrt(alpha) per draw)
    y_draws = draws_of(idata_constant["posterior_predictive"], "y")
    noise = mu.mean(axis=(0, 1)) / np.sqrt(draws_of(posterior, "alpha").mean())
    gap = np.abs(mean_constant.to_numpy() - mu.mean(axis=(0, 1)))
    assert np.all(gap < 5 * noise / np.sqrt(y_draws.shape[0] * y_draws.shape[1]) + 0.02)


def test_varying_alpha(data, new_data, varying):
    model_varying, idata_varying = varying
    a, b, c, d = _gamma_mle(data, varying=True)
    posterior = idata_varying["posterior"]
    assert_posterior_near(draws_of(posterior, "Intercept"), a, label="Intercept")
    assert_posterior_near(draws_of(posterior, "x"), b, label="x")
    assert_posterior_near(draws_of(posterior, "alpha_Intercept"), c, label="alpha_Intercept")
    assert_posterior_near(draws_of(posterior, "alpha_x"), d, label="alpha_x")
    # one alpha per observation: exp(alpha_Intercept + alpha_x * x)
    alpha = draws_of(idata_varying.posterior, "alpha")
    expected = np.exp(
        draws_of(posterior, "alpha_Intercept")[..., None]
        + draws_of(posterior, "alpha_x")[..., None] * data["x"].to_numpy()
    )
    np.testing.assert_allclose(alpha, expected, rtol=1e-6)

    model_varying.predict(idata_varying, kind="response_params", data=new_data)
    model_varying.predict(idata_varying, kind="response", data=new_data)
    alpha_new = draws_of(idata_varying["posterior"], "alpha")
    expected = np.exp(
        draws_of(posterior, "alpha_Intercept")[..., None]
        + draws_of(posterior, "alpha_x")[..., None] * new_data["x"].to_numpy()
    )
    np.testing.assert_allclose(alpha_new, expected, rtol=1e-6)


def test_model_comparison(constant, varying):
    _, idata_constant = constant
    _, idata_varying = varying
    comparison = az.compare({"constant": idata_constant, "varying": idata_varying})
    # the notebook finds "a slight preference for the varying model" (elpd -309.2 vs -318.9)
    assert list(comparison.index) == ["varying", "constant"]
    elpd = comparison["elpd" if "elpd" in comparison.columns else "elpd_loo"]
    assert -330 < float(elpd.iloc[0]) < -295


def test_bikes_splines_for_mean_and_alpha():
    rng = np.random.default_rng(2)
    hour = np.tile(np.arange(24), 15)[:348]
    # a smooth daily curve (low at night, high in the afternoon) that 8 B-splines represent
    truth = np.exp(4.2 + 1.3 * np.sin(2 * np.pi * (np.arange(24) - 10) / 24))
    mean_curve = truth[hour]
    alpha_curve = np.where((hour >= 7) & (hour <= 20), 6.0, 2.0)
    count = rng.negative_binomial(alpha_curve, alpha_curve / (alpha_curve + mean_curve))
    data = pd.DataFrame({"hour": hour, "count": count})
    formula = bmb.Formula(
        "count ~ 0 + bs(hour, 8, intercept=True)", "alpha ~ 0 + bs(hour, 8, intercept=True)"
    )
    model_bikes = bmb.Model(formula, data, family="negativebinomial")
    idata_bikes = model_bikes.fit(random_seed=3, **SMALL)
    grid = np.linspace(0, 23, num=200)
    new_data = pd.DataFrame({"hour": grid})
    model_bikes.predict(idata_bikes, data=new_data, kind="response")
    dims = ("chain", "draw")
    mean = idata_bikes.posterior["mu"].mean(dims).to_numpy()
    y_interval = idata_bikes.posterior_predictive["count"].quantile([0.025, 0.975], dims)
    assert y_interval.shape == (2, 200)
    # the fitted mean recovers the simulated curve: within 3 posterior sds (the sampling
    # variation of the data) at nearly every hour
    sd = idata_bikes.posterior["mu"].std(dims).to_numpy()
    at_hours = np.interp(np.arange(24), grid, mean)
    sd_at_hours = np.interp(np.arange(24), grid, sd)
    assert np.mean(np.abs(at_hours - truth) < 3 * sd_at_hours) >= 22 / 24
