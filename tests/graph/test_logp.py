"""The built model's log-density equals an independent scipy.stats computation.

For each family (and some alternative links) we evaluate the PyMC model's joint log-density
(priors plus likelihood, no Jacobian) at random parameter points and compare it with the same
quantity written out with scipy.stats and numpy from the raw data. Equality at random points
proves the model is the intended posterior, which is what sampling would target.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd
import pytensor.tensor as pt
import pytest
from scipy import special, stats

import bayesformula as bf
from bayesformula.core.prior import Prior

N = 12
RNG = np.random.default_rng(2024)
X = RNG.normal(0.5, 1.3, N)
A = np.array(["a", "b", "c"] * 4)


def _data(y, **extra):
    return pd.DataFrame({"y": y, "x": X, "a": A, **extra})


def _responses():
    rng = np.random.default_rng(7)
    trials = rng.integers(3, 9, N)
    return {
        "gaussian": _data(rng.normal(3, 2, N)),
        "t": _data(rng.standard_t(3, N) * 2 + 1),
        "bernoulli": _data(rng.integers(0, 2, N)),
        "binomial": _data(rng.binomial(trials, 0.4), k=trials),
        "poisson": _data(rng.poisson(4, N)),
        "negativebinomial": _data(rng.negative_binomial(3, 0.3, N)),
        "gamma": _data(rng.gamma(2.0, 1.5, N)),
        "beta": _data(rng.beta(2, 3, N)),
        "exponential": _data(rng.exponential(2.0, N)),
    }


DATA = _responses()

INVLINK = {
    "identity": lambda e: e,
    "log": np.exp,
    "logit": special.expit,
    "probit": stats.norm.cdf,
    "cloglog": lambda e: 1 - np.exp(-np.exp(e)),
    "inverse": lambda e: 1 / e,
}


def _prior_logp(prior: Prior, value) -> float:
    a = prior.args
    value = np.asarray(value, dtype=float)
    if prior.name == "Normal":
        return stats.norm.logpdf(value, a["mu"], a["sigma"]).sum()
    if prior.name == "HalfStudentT":
        return (np.log(2) + stats.t.logpdf(value, a["nu"], scale=a["sigma"])).sum()
    if prior.name == "HalfCauchy":
        return (np.log(2) + stats.cauchy.logpdf(value, scale=a["beta"])).sum()
    if prior.name == "HalfNormal":
        return stats.halfnorm.logpdf(value, scale=a["sigma"]).sum()
    if prior.name == "Gamma":
        return stats.gamma.logpdf(value, a["alpha"], scale=1 / a["beta"]).sum()
    if prior.name == "Beta":
        return stats.beta.logpdf(value, a["alpha"], a["beta"]).sum()
    raise NotImplementedError(prior.name)


def _loglik(family, y, mu, aux, trials=None) -> float:
    if family == "gaussian":
        return stats.norm.logpdf(y, mu, aux["sigma"]).sum()
    if family == "t":
        return stats.t.logpdf(y, aux["nu"], mu, aux["sigma"]).sum()
    if family == "bernoulli":
        return stats.bernoulli.logpmf(y, mu).sum()
    if family == "binomial":
        return stats.binom.logpmf(y, trials, mu).sum()
    if family == "poisson":
        return stats.poisson.logpmf(y, mu).sum()
    if family == "negativebinomial":
        alpha = aux["alpha"]
        return stats.nbinom.logpmf(y, alpha, alpha / (mu + alpha)).sum()
    if family == "gamma":
        return stats.gamma.logpdf(y, aux["alpha"], scale=mu / aux["alpha"]).sum()
    if family == "beta":
        k = aux["kappa"]
        return stats.beta.logpdf(y, mu * k, (1 - mu) * k).sum()
    if family == "exponential":
        return stats.expon.logpdf(y, scale=mu).sum()
    raise NotImplementedError(family)


def _value_point(model, constrained: dict) -> dict:
    """Map constrained values to the model's value variables (log for positive parameters)."""
    point = {}
    for rv in model.free_RVs:
        value = np.asarray(constrained[rv.name], dtype=float)
        transform = model.rvs_to_transforms.get(rv)
        value_var = model.rvs_to_values[rv]
        if transform is not None:
            value = transform.forward(pt.as_tensor(value)).eval()
        point[value_var.name] = value
    return point


CASES = [
    ("gaussian", None),
    ("gaussian", "log"),
    ("t", None),
    ("bernoulli", None),
    ("bernoulli", "probit"),
    ("binomial", None),
    ("binomial", "cloglog"),
    ("poisson", None),
    ("negativebinomial", None),
    ("gamma", None),
    ("beta", None),
    ("exponential", None),
]


@pytest.mark.parametrize("family, link", CASES)
def test_joint_logp_matches_scipy(family, link):
    df = DATA[family]
    formula = "p(y, k) ~ x + a" if family == "binomial" else "y ~ x + a"
    model = bf.Model(formula, df, family=family, link=link)
    pm_model = model.build()
    logp = pm_model.compile_logp(jacobian=False, mode="FAST_COMPILE")

    # independent design: treatment coding with reference level "a"
    Xd = np.column_stack([X, (A == "b").astype(float), (A == "c").astype(float)])
    link_name = link or bf.get_family(family).links[0]
    rng = np.random.default_rng(zlib.crc32(f"{family}-{link_name}".encode()))
    for _ in range(3):
        scale = 0.3 if link_name in ("identity", "log") and family != "gaussian" else 0.5
        b = rng.normal(0, scale, 3)
        ic = rng.normal(0, 0.3) + (0.8 if link_name == "log" else 0.0)
        if family in ("gaussian", "t") and link_name == "identity":
            ic += df["y"].mean()
        aux = {name: rng.uniform(0.5, 3.0) for name in bf.get_family(family).aux_names}
        if "nu" in aux:
            aux["nu"] = rng.uniform(2, 10)
        constrained = {"Intercept_centered": ic, "x": b[0], "a": b[1:], **aux}
        point = _value_point(pm_model, constrained)

        eta = ic + (Xd - Xd.mean(axis=0)) @ b
        mu = INVLINK[link_name](eta)
        y = df["y"].to_numpy()
        expected = _loglik(family, y, mu, aux, trials=df.get("k"))
        expected += _prior_logp(model.priors.common["Intercept"], ic)
        expected += _prior_logp(model.priors.common["x"], b[0])
        expected += _prior_logp(model.priors.common["a"], b[1:])
        for name, value in aux.items():
            expected += _prior_logp(model.priors.aux[name], value)
        assert np.isfinite(expected)
        np.testing.assert_allclose(logp(point), expected, rtol=1e-9, atol=1e-8)


def test_group_model_logp_matches_scipy():
    """Non-centered varying intercepts and slopes: indexing by level gives the same density."""
    rng = np.random.default_rng(3)
    g = np.array(["u", "v", "w", "z"] * 3)
    df = _data(rng.normal(1, 2, N), g=g)
    model = bf.Model("y ~ x + (1|g) + (x|g)", df)
    pm_model = model.build()
    logp = pm_model.compile_logp(jacobian=False, mode="FAST_COMPILE")
    idx = pd.Categorical(g, categories=["u", "v", "w", "z"]).codes
    for _ in range(3):
        ic, b = rng.normal(1, 0.5), rng.normal(0, 1)
        s1, s2, sigma = rng.uniform(0.3, 2, 3)
        z1, z2 = rng.normal(size=4), rng.normal(size=4)
        constrained = {
            "Intercept_centered": ic,
            "x": b,
            "1|g_sigma": s1,
            "1|g_offset": z1,
            "x|g_sigma": s2,
            "x|g_offset": z2,
            "sigma": sigma,
        }
        point = _value_point(pm_model, constrained)
        mu = ic + (X - X.mean()) * b + z1[idx] * s1 + z2[idx] * s2 * X
        expected = stats.norm.logpdf(df["y"], mu, sigma).sum()
        expected += _prior_logp(model.priors.common["Intercept"], ic)
        expected += _prior_logp(model.priors.common["x"], b)
        expected += _prior_logp(model.priors.group["1|g"].args["sigma"], s1)
        expected += _prior_logp(model.priors.group["x|g"].args["sigma"], s2)
        expected += stats.norm.logpdf(np.r_[z1, z2]).sum()
        expected += _prior_logp(model.priors.aux["sigma"], sigma)
        np.testing.assert_allclose(logp(point), expected, rtol=1e-9)


def test_offset_enters_linear_predictor_with_coefficient_one():
    rng = np.random.default_rng(5)
    exposure = rng.uniform(1, 10, N)
    df = _data(rng.poisson(3 * exposure), t=exposure)
    model = bf.Model("y ~ x + offset(np.log(t))", df, family="poisson")
    pm_model = model.build()
    logp = pm_model.compile_logp(jacobian=False, mode="FAST_COMPILE")
    ic, b = 1.1, 0.2
    point = _value_point(pm_model, {"Intercept_centered": ic, "x": b})
    mu = np.exp(ic + (X - X.mean()) * b + np.log(exposure))
    expected = stats.poisson.logpmf(df["y"], mu).sum()
    expected += _prior_logp(model.priors.common["Intercept"], ic)
    expected += _prior_logp(model.priors.common["x"], b)
    np.testing.assert_allclose(logp(point), expected, rtol=1e-9)
