"""censored(), truncated() and weighted() responses: parsing, errors, the log-likelihood
against scipy, the pointwise log-likelihood and predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import bayesformula as bf
from bayesformula.errors import FormulaError, PredictionError, ResponseError
from bayesformula.formula.helpers import split_response_helper
from tests.graph.test_logp import _prior_logp, _value_point

N = 10
RNG = np.random.default_rng(11)
X = RNG.normal(size=N)
Y = 1 + 0.5 * X + RNG.normal(size=N)
STATUS = np.array(["none", "left", "right", "interval", "none"] * 2)
UPPER = Y + np.where(STATUS == "interval", 0.7, 0.0)
COUNTS = RNG.poisson(3, N) + 1


def _frame(**extra):
    return pd.DataFrame({"y": Y, "x": X, "status": STATUS, "hi": UPPER, **extra})


def test_split_takes_the_helper_off_the_formula():
    main, spec = split_response_helper("censored(np.log(t), status) ~ x + (1|g)")
    assert main == "np.log(t) ~ x + (1|g)"
    assert (spec.kind, spec.response, spec.args) == ("censored", "np.log(t)", ("status",))
    main, spec = split_response_helper("truncated(y, lb=0, ub=hi) ~ x")
    assert main == "y ~ x" and spec.kwargs == {"lb": 0, "ub": "hi"}
    assert split_response_helper("y ~ x") == ("y ~ x", None)


@pytest.mark.parametrize(
    "formula, error, match",
    [
        ("censored(y) ~ x", FormulaError, r"censored\(y, status\)"),
        ("truncated(y) ~ x", FormulaError, "at least one bound"),
        ("weighted(y, w, 2) ~ x", FormulaError, r"weighted\(y, weights\)"),
        ("weighted(y, np.abs(x)) ~ x", FormulaError, "must be a data column or a number"),
        ("weighted(y, wt) ~ x", FormulaError, "'wt' in 'weighted\\(y, wt\\)' is not a column"),
        ("truncated(y, lb=1.5) ~ x", ResponseError, "outside the truncation bounds in rows"),
        ("censored(y, status) ~ x", ResponseError, r"censored\(lower, upper, status\)"),
        ("censored(y, x) ~ x", ResponseError, "is not one of"),
        ("weighted(y, neg) ~ x", ResponseError, "must be finite and >= 0"),
    ],
)
def test_bad_helpers_say_what_to_do(formula, error, match):
    df = _frame(neg=-np.ones(N))
    with pytest.raises(error, match=match):
        bf.Model(formula, df)


def test_families_without_a_cdf_cannot_be_censored():
    with pytest.raises(bf.errors.FamilyError, match="cumulative distribution function"):
        bf.Model("censored(y, status) ~ x", _frame(status="none"), family="skewnormal")


def _check_logp(model, expected_loglik, aux_names=("sigma",)):
    pm_model = model.build()
    logp = pm_model.compile_logp(jacobian=False, mode="FAST_COMPILE")
    rng = np.random.default_rng(5)
    for _ in range(3):
        ic, b = rng.normal(1, 0.3), rng.normal(0.5, 0.2)
        aux = {name: rng.uniform(0.5, 2) for name in aux_names}
        point = _value_point(pm_model, {"Intercept_centered": ic, "x": b, **aux})
        eta = ic + (X - X.mean()) * b
        expected = expected_loglik(eta, aux).sum()
        expected += _prior_logp(model.priors.common["Intercept"], ic)
        expected += _prior_logp(model.priors.common["x"], b)
        for name, value in aux.items():
            expected += _prior_logp(model.priors.aux[name], value)
        # 1e-7: PyMC and scipy compute log-CDFs differently (about 1e-8 apart); a wrong
        # censoring or truncation term is off by O(1)
        np.testing.assert_allclose(logp(point), expected, rtol=1e-7)


def _censored_normal(eta, aux):
    s = aux["sigma"]
    return np.select(
        [STATUS == "none", STATUS == "left", STATUS == "right"],
        [
            stats.norm.logpdf(Y, eta, s),
            stats.norm.logcdf(Y, eta, s),
            stats.norm.logsf(Y, eta, s),
        ],
        np.log(stats.norm.cdf(UPPER, eta, s) - stats.norm.cdf(Y, eta, s)),
    )


def test_censored_gaussian_logp_matches_scipy():
    model = bf.Model("censored(y, hi, status) ~ x", _frame())
    assert "4 none, 2 left, 2 right, 2 interval" in str(model)
    _check_logp(model, _censored_normal)


def test_censored_poisson_counts_use_the_survival_function():
    status = np.where(
        np.arange(N) % 3 == 0, "right", np.where(np.arange(N) % 3 == 1, "left", "none")
    )
    df = pd.DataFrame({"y": COUNTS, "x": X, "status": status})
    model = bf.Model("censored(y, status) ~ x", df, family="poisson")

    def expected(eta, aux):
        mu = np.exp(eta)
        return np.select(
            [status == "none", status == "left"],
            [stats.poisson.logpmf(COUNTS, mu), stats.poisson.logcdf(COUNTS, mu)],
            stats.poisson.logsf(COUNTS, mu),  # right: P(Y > y)
        )

    _check_logp(model, expected, aux_names=())


def test_truncated_logp_matches_scipy():
    lower, upper = Y.min() - 0.3, Y + 1.0
    model = bf.Model(f"truncated(y, lb={float(lower)!r}, ub=hi) ~ x", _frame(hi=upper))

    def expected(eta, aux):
        s = aux["sigma"]
        mass = stats.norm.cdf(upper, eta, s) - stats.norm.cdf(lower, eta, s)
        return stats.norm.logpdf(Y, eta, s) - np.log(mass)

    _check_logp(model, expected)


def test_truncation_to_a_narrow_interval_keeps_float64_precision():
    """Bounds close together relative to sigma: the normalising mass is a small difference of
    CDFs. The lower bounds' log-CDFs once went through a float32 vector (``full_like`` of a
    Python -inf), which moved each row's log-likelihood by about 1e-6 here; PyMC's own
    float32 sqrt(2) moves it by under 1e-7."""
    lower, upper = Y - 0.05, Y + 0.05
    model = bf.Model("truncated(y, lb=lo, ub=hi) ~ x", _frame(lo=lower, hi=upper))
    pm_model = model.build()
    obs = pm_model.observed_RVs[0]
    rows = pm_model.compile_fn(pm_model.logp(vars=[obs], sum=False)[0], mode="FAST_COMPILE")
    ic, b, sigma = 1.0, 0.5, 6.0
    point = _value_point(pm_model, {"Intercept_centered": ic, "x": b, "sigma": sigma})
    eta = ic + (X - X.mean()) * b
    mass = stats.norm.cdf(upper, eta, sigma) - stats.norm.cdf(lower, eta, sigma)
    expected = stats.norm.logpdf(Y, eta, sigma) - np.log(mass)
    np.testing.assert_allclose(rows(point), expected, rtol=0, atol=2e-7)


def test_zero_truncated_counts_keep_lb_possible():
    df = pd.DataFrame({"y": COUNTS, "x": X})
    model = bf.Model("truncated(y, lb=1) ~ x", df, family="poisson")

    def expected(eta, aux):
        mu = np.exp(eta)
        return stats.poisson.logpmf(COUNTS, mu) - stats.poisson.logsf(0, mu)  # P(Y >= 1)

    _check_logp(model, expected, aux_names=())


def test_weighted_logp_multiplies_each_row():
    w = RNG.uniform(0, 3, N)
    model = bf.Model("weighted(y, w) ~ x", _frame(w=w))
    _check_logp(model, lambda eta, aux: w * stats.norm.logpdf(Y, eta, aux["sigma"]))


@pytest.fixture(scope="module")
def censored_fit():
    model = bf.Model("censored(y, hi, status) ~ x", _frame())
    idata = model.fit(
        draws=20, tune=50, chains=1, random_seed=3, progressbar=False, diagnostics=False
    )
    return model, idata


def test_pointwise_log_likelihood_is_the_censored_one(censored_fit):
    model, idata = censored_fit
    model.compute_log_likelihood(idata)
    post = idata.posterior.isel(chain=0, draw=7)
    eta = float(post["Intercept"]) + X * float(post["x"])
    expected = _censored_normal(eta, {"sigma": float(post["sigma"])})
    got = idata.log_likelihood["y"].isel(chain=0, draw=7).values
    np.testing.assert_allclose(got, expected, rtol=1e-6)  # log-CDF implementations differ


def test_truncated_predictions_respect_the_bounds():
    rng = np.random.default_rng(8)
    x = rng.normal(size=80)
    y = 1 + x + rng.normal(size=80)
    df = pd.DataFrame({"y": y[y > 0.5], "x": x[y > 0.5]})
    model = bf.Model("truncated(y, lb=0.5) ~ x", df)
    idata = model.fit(
        draws=50, tune=100, chains=1, random_seed=1, progressbar=False, diagnostics=False
    )
    model.predict(idata, kind="response")
    assert float(idata.posterior_predictive["y"].min()) >= 0.5
    new = pd.DataFrame({"x": [-3.0, 0.0, 3.0]})
    out = model.predict(idata, kind="response", data=new, inplace=False, random_seed=2)
    assert float(out.posterior_predictive["y"].min()) >= 0.5

    varying = bf.Model("truncated(y, lb=lo) ~ x", df.assign(lo=0.5))
    idata = varying.fit(
        draws=20, tune=50, chains=1, random_seed=1, progressbar=False, diagnostics=False
    )
    with pytest.raises(PredictionError, match="bound column 'lo'"):
        varying.predict(idata, kind="response", data=new)


def test_truncated_draws_far_in_a_tail_are_exact():
    """Where redrawing cannot reach the bounds (a normal with mean 0 truncated above 8:
    acceptance 6e-16), the gaussian and lognormal draw from the truncated distribution's
    inverse CDF: the draws' mean is the truncated normal's (scipy), not the bound."""
    from scipy import stats

    from bayesformula.families import get_family
    from bayesformula.results.predict import _truncate

    rng = np.random.default_rng(3)
    n = 4000
    kwargs = {"mu": np.zeros(n), "sigma": np.ones(n)}
    y = _truncate(get_family("gaussian"), kwargs, np.zeros(n), 8.0, np.inf, rng, rounds=5)
    assert y.min() >= 8.0
    truth = stats.truncnorm(8.0, np.inf)
    assert abs(y.mean() - truth.mean()) < 4 * truth.std() / np.sqrt(n)
    y = _truncate(get_family("lognormal"), kwargs, np.ones(n), 0.0, np.exp(-8.0), rng, rounds=5)
    assert y.max() <= np.exp(-8.0) and y.min() > 0
    log_truth = stats.truncnorm(-np.inf, -8.0)
    assert abs(np.log(y).mean() - log_truth.mean()) < 4 * log_truth.std() / np.sqrt(n)


def test_saved_helper_model_keeps_its_columns(censored_fit, tmp_path):
    model, idata = censored_fit
    path = tmp_path / "censored.nc"
    bf.save(model, idata, path)
    loaded, _ = bf.load(path)
    assert loaded.response_helper.text == "censored(y, hi, status)"
    np.testing.assert_array_equal(loaded.response_helper.status, model.response_helper.status)
    np.testing.assert_array_equal(loaded.response_helper.upper, model.response_helper.upper)
