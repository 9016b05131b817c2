"""Pointwise log-likelihood, LOO, compare and Bayesian R2 against scipy/numpy references."""

from __future__ import annotations

import contextlib
import warnings

import arviz as az
import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

import bayesformula as bf
from bayesformula.errors import BayesformulaError
from bayesformula.results.compare import bayes_r2

TINY = {"draws": 200, "tune": 200, "chains": 2, "cores": 1, "progressbar": False}


def _stacked(idata, name):
    da = idata.posterior[name]
    return da.values.reshape((-1,) + da.shape[2:])


def _bioassay_loglik(idata, data):
    """binom.logpmf(deaths | n, expit(Intercept + dose * x)), shape (draws, rows)."""
    p = special.expit(
        _stacked(idata, "Intercept")[:, None]
        + _stacked(idata, "dose")[:, None] * data["dose"].to_numpy()[None, :]
    )
    return stats.binom.logpmf(data["deaths"].to_numpy(), data["n"].to_numpy(), p)


def _group_mu(idata, data):
    """mu = Intercept + x b + a-effect + u[g] for every draw, from the draws with numpy."""
    mu = (
        _stacked(idata, "Intercept")[:, None]
        + _stacked(idata, "x")[:, None] * data["x"].to_numpy()[None, :]
    )
    a = _stacked(idata, "a")
    for j, level in enumerate(idata.posterior["a_dim"].values):
        mu = mu + a[:, j][:, None] * (data["a"].to_numpy() == level)
    levels = list(idata.posterior["g__factor_dim"].values)
    return mu + _stacked(idata, "1|g")[:, [levels.index(g) for g in data["g"]]]


@contextlib.contextmanager
def _quiet():
    """Silence ArviZ's Pareto-k warnings (the bioassay data has only four rows)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


def _lppd(loglik):
    """In-sample log pointwise predictive density: sum_i log mean_s exp(loglik[s, i])."""
    return float(np.sum(special.logsumexp(loglik, axis=0) - np.log(loglik.shape[0])))


@pytest.fixture(scope="module")
def flat_fit(bioassay):
    """Intercept-only bioassay model, fitted once with the log-likelihood via idata_kwargs."""
    model = bf.Model("p(deaths, n) ~ 1", bioassay, family="binomial")
    idata = model.fit(
        random_seed=2, diagnostics=False, idata_kwargs={"log_likelihood": True}, **TINY
    )
    return model, idata


# --------------------------------------------------------------------------- log-likelihood


def test_bioassay_log_likelihood_is_binomial_logpmf(bioassay_fit, bioassay):
    model, idata = bioassay_fit
    out = model.compute_log_likelihood(idata, inplace=False)
    assert "log_likelihood" not in idata.children  # the fixture is left alone
    ll = out.log_likelihood["deaths"]
    assert ll.dims == ("chain", "draw", "__obs__")
    assert list(ll["__obs__"].values) == list(bioassay.index)
    np.testing.assert_allclose(
        ll.values.reshape(-1, len(bioassay)), _bioassay_loglik(idata, bioassay), rtol=1e-9
    )
    # everything else in the copy is untouched
    assert out.posterior.identical(idata.posterior)


def test_gaussian_group_log_likelihood_is_normal_logpdf(group_fit, group_data):
    model, idata = group_fit
    out = model.compute_log_likelihood(idata, inplace=False)
    assert "log_likelihood" not in idata.children
    mu = _group_mu(idata, group_data)
    sigma = _stacked(idata, "sigma")[:, None]
    reference = stats.norm.logpdf(group_data["y"].to_numpy()[None, :], mu, sigma)
    ll = out.log_likelihood["y"]
    assert list(ll["__obs__"].values) == list(group_data.index)
    np.testing.assert_allclose(ll.values.reshape(reference.shape), reference, rtol=1e-9)


def test_inplace_log_likelihood_adds_group_and_replaces_it(bioassay_fit, bioassay):
    model, idata = bioassay_fit
    target = idata.copy(deep=True)
    assert model.compute_log_likelihood(target) is None
    assert "log_likelihood" in target.children
    assert "log_likelihood" not in idata.children
    target["log_likelihood"] = target["log_likelihood"].to_dataset() * 0.0
    model.compute_log_likelihood(target)  # a second call overwrites it
    np.testing.assert_allclose(
        target.log_likelihood["deaths"].values.reshape(-1, len(bioassay)),
        _bioassay_loglik(idata, bioassay),
        rtol=1e-9,
    )


def test_fit_idata_kwargs_log_likelihood(flat_fit, bioassay):
    model, idata = flat_fit
    assert "log_likelihood" in idata.children
    p = special.expit(_stacked(idata, "Intercept"))[:, None]
    reference = stats.binom.logpmf(bioassay["deaths"].to_numpy(), bioassay["n"].to_numpy(), p)
    np.testing.assert_allclose(
        idata.log_likelihood["deaths"].values.reshape(reference.shape), reference, rtol=1e-9
    )


# --------------------------------------------------------------------------- LOO


@pytest.mark.parametrize("fixture", ["bioassay_fit", "group_fit"])
def test_loo_against_in_sample_lppd(fixture, request, bioassay, group_data):
    model, idata = request.getfixturevalue(fixture)
    if fixture == "bioassay_fit":
        loglik = _bioassay_loglik(idata, bioassay)
    else:
        mu = _group_mu(idata, group_data)
        sigma = _stacked(idata, "sigma")[:, None]
        loglik = stats.norm.logpdf(group_data["y"].to_numpy()[None, :], mu, sigma)
    lppd = _lppd(loglik)
    with _quiet():  # 4 binomial rows: Pareto k may be high and ArviZ warns
        result = bf.loo((model, idata))
    # PSIS-LOO leaves each observation out, so it cannot exceed the in-sample lppd; ArviZ
    # defines p_loo = lppd - elpd_loo (ELPDData's p and elpd), so with our independent lppd
    # the identity holds to rounding (the log-likelihoods agree to 1e-9 relative, see the
    # tests above).
    assert result.elpd <= lppd
    np.testing.assert_allclose(lppd - result.elpd, result.p, atol=1e-8)
    assert "log_likelihood" not in idata.children
    # the pair and an idata with the group give the same LOO
    with_ll = model.compute_log_likelihood(idata, inplace=False)
    with _quiet():
        again = bf.loo(with_ll, pointwise=True)
    assert again.elpd == result.elpd
    assert len(again.elpd_i) == loglik.shape[1]


def test_loo_p_loo_is_about_the_number_of_parameters(group_fit):
    model, idata = group_fit
    result = bf.loo((model, idata))
    # p_loo estimates the effective number of parameters: Intercept, x, two a-levels and sigma
    # (5) plus eight partially pooled group effects (between 0 and 8).
    assert 5 < result.p < 14


def test_loo_without_log_likelihood_is_a_clear_error(bioassay_fit):
    _, idata = bioassay_fit
    with pytest.raises(BayesformulaError, match=r"log_likelihood=True"):
        bf.loo(idata)


# --------------------------------------------------------------------------- compare


def test_compare_ranks_dose_model_first(bioassay_fit, flat_fit):
    with _quiet():  # 4 rows: Pareto k may be high
        table = bf.compare({"flat": flat_fit, "dose": bioassay_fit})
    assert isinstance(table, pd.DataFrame)
    assert list(table.index) == ["dose", "flat"]
    assert table.loc["dose", "weight"] > 0.5
    assert table.loc["dose", "elpd"] > table.loc["flat", "elpd"]
    assert table.loc["dose", "elpd_diff"] == 0
    assert list(table["rank"]) == [0, 1]
    # elpd_diff is each model's elpd minus the best one's (ArviZ 1: negative below the best)
    np.testing.assert_allclose(
        table.loc["flat", "elpd_diff"],
        table.loc["flat", "elpd"] - table.loc["dose", "elpd"],
        rtol=1e-12,
    )
    for name in ("rank", "elpd", "p", "elpd_diff", "weight", "se", "dse"):
        assert name in table.columns
    assert "log_likelihood" not in bioassay_fit[1].children
    # the flat model's own elpd equals an independent az.loo on its stored log-likelihood
    with _quiet():
        flat_loo = az.loo(flat_fit[1])
    np.testing.assert_allclose(table.loc["flat", "elpd"], flat_loo.elpd, rtol=1e-12)


def test_compare_plain_idata_without_log_likelihood(bioassay_fit, flat_fit):
    _, idata = bioassay_fit
    with pytest.raises(
        BayesformulaError, match=r"'dose' has no log_likelihood.*log_likelihood=True"
    ):
        bf.compare({"dose": idata, "flat": flat_fit})


@pytest.mark.parametrize("models", ["one", "list", "bad-entry"])
def test_compare_bad_input(bioassay_fit, flat_fit, models):
    if models == "one":
        with pytest.raises(BayesformulaError, match="at least two"):
            bf.compare({"dose": bioassay_fit})
    elif models == "list":
        with pytest.raises(BayesformulaError, match="at least two"):
            bf.compare([bioassay_fit, flat_fit])
    else:
        with pytest.raises(BayesformulaError, match="expected a fit"):
            bf.compare({"dose": bioassay_fit, "flat": "flat.nc"})


# --------------------------------------------------------------------------- R2


def _hdi(draws, prob):
    return az.hdi(np.asarray(draws, dtype=float), prob=prob)


def test_r2_gaussian_matches_numpy(group_fit, group_data):
    model, idata = group_fit
    mu = _group_mu(idata, group_data)
    sigma = _stacked(idata, "sigma")
    # Gelman et al. (2019): var over observations (sample variance, ddof=1 as in rstanarm)
    var_fit = mu.var(axis=1, ddof=1)
    reference = var_fit / (var_fit + sigma**2)
    out = bf.r2(model, idata)
    np.testing.assert_allclose(out["r2"], reference.mean(), rtol=1e-10)
    np.testing.assert_allclose(out["sd"], reference.std(ddof=1), rtol=1e-10)
    lo, hi = _hdi(reference, 0.94)
    np.testing.assert_allclose([out["hdi_3%"], out["hdi_97%"]], [lo, hi], rtol=1e-10)
    per_draw = bf.r2(model, idata, summary=False)
    assert per_draw.shape == (idata.posterior.sizes["chain"] * idata.posterior.sizes["draw"],)
    assert np.all((per_draw >= 0) & (per_draw <= 1))
    np.testing.assert_allclose(per_draw, reference, rtol=1e-10)
    via_model = model.r2(idata, prob=0.9)
    np.testing.assert_allclose(via_model["r2"], reference.mean(), rtol=1e-10)
    assert list(via_model.index) == ["r2", "sd", "hdi_5%", "hdi_95%"]
    assert bayes_r2 is bf.r2


def test_r2_binomial_uses_residuals_on_proportion_scale(bioassay_fit, bioassay):
    model, idata = bioassay_fit
    p = special.expit(
        _stacked(idata, "Intercept")[:, None]
        + _stacked(idata, "dose")[:, None] * bioassay["dose"].to_numpy()[None, :]
    )
    y = (bioassay["deaths"] / bioassay["n"]).to_numpy()[None, :]
    var_fit = p.var(axis=1, ddof=1)
    reference = var_fit / (var_fit + (y - p).var(axis=1, ddof=1))
    per_draw = bf.r2(model, idata, summary=False)
    np.testing.assert_allclose(per_draw, reference, rtol=1e-10)
    assert np.all((per_draw >= 0) & (per_draw <= 1))


def test_r2_recovers_known_truth():
    """y = 2x + e, var(x) = 1, e ~ N(0, 1): true R2 = 4 / (4 + 1) = 0.8.

    With n = 400 the sample R2 has sd about (1 - R2^2) / sqrt(n) ~ 0.02 (and the posterior
    mean of the Bayesian R2 is within a few hundredths of it under weak default priors), so
    0.05 is about 2.5 sd: a loose but real check that var(E[y]) and sigma^2 are combined right.
    """
    rng = np.random.default_rng(2024)
    n = 400
    x = rng.normal(size=n)
    x = (x - x.mean()) / x.std(ddof=1)
    df = pd.DataFrame({"x": x, "y": 2 * x + rng.normal(size=n)})
    model = bf.Model("y ~ x", df)
    idata = model.fit(random_seed=1, diagnostics=False, **TINY)
    out = bf.r2(model, idata)
    assert abs(out["r2"] - 0.8) < 0.05
    assert out["hdi_3%"] < out["r2"] < out["hdi_97%"]


@pytest.mark.parametrize("prob", [0, 1.5, "x"])
def test_r2_bad_prob(bioassay_fit, prob):
    model, idata = bioassay_fit
    with pytest.raises(BayesformulaError, match="prob must be a number strictly between 0 and 1"):
        bf.r2(model, idata, prob=prob)


def test_numpy_scalars_are_accepted(bioassay_fit):
    model, idata = bioassay_fit
    new = pd.DataFrame({"dose": [0.0, 0.3, 0.6], "n": 5})
    table = model.predictions(idata, data=new, prob=np.float32(0.9), chunk_size=np.int64(2))
    assert list(table.columns[2:4]) == ["hdi_5%", "hdi_95%"]
    ll = model.compute_log_likelihood(idata, inplace=False)
    ll.log_likelihood["deaths"].values[:] = 0.0  # a real array, not a read-only view
