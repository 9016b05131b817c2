"""The fast path's compiled form (`density.native`) against its Python log-density, and nutpie
sampling through it.

The Python ``logp_grad`` is itself proven equal to the PyMC graph (`test_check_density`); the
compiled form must give the same log-density and gradient at every point, for every model it
claims, and claim no model outside its class.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bayesformula as bf
from bayesformula import compiled
from bayesformula.density import density_of_spec
from bayesformula.samplers import native


def _data(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    arm = rng.choice(["a", "b", "c"], n)
    exposure = rng.uniform(0.5, 3.0, n)
    eta = -0.3 + 0.6 * x + np.where(arm == "b", 0.4, 0.0)
    p = 1 / (1 + np.exp(-eta))
    return pd.DataFrame(
        {
            "x": x,
            "z": rng.normal(size=n),
            "arm": arm,
            "exposure": exposure,
            "g": rng.choice([f"g{i}" for i in range(5)], n),
            "y": rng.binomial(1, p),
            "k": rng.binomial(8, p),
            "trials": np.full(n, 8),
            "count": rng.poisson(np.exp(eta) * exposure),
        }
    )


CLAIMED = {
    "bernoulli": ("y ~ x + z", {"family": "bernoulli"}),
    "bernoulli, categories (rows merged)": ("y ~ arm", {"family": "bernoulli"}),
    "bernoulli, no intercept": ("y ~ 0 + x + arm", {"family": "bernoulli"}),
    "bernoulli, own priors": (
        "y ~ x + arm",
        {
            "family": "bernoulli",
            "priors": {"x": bf.Prior("Normal", mu=0.5, sigma=0.3), "arm": bf.Prior("Normal")},
        },
    ),
    "binomial": ("p(k, trials) ~ x + arm", {"family": "binomial"}),
    "poisson with an offset": ("count ~ x + arm + offset(log(exposure))", {"family": "poisson"}),
    "intercept only": ("y ~ 1", {"family": "bernoulli"}),
    "group intercepts, non-centered": (
        "y ~ x + (1|g)",
        {"family": "bernoulli", "noncentered": True},
    ),
    "independent slopes": (
        "count ~ x + (x||g) + (1|arm)",
        {"family": "poisson", "noncentered": True},
    ),
}

NOT_CLAIMED = {
    "centered group effects": ("y ~ x + (1|g)", {"family": "bernoulli", "noncentered": False}),
    "correlated group effects": ("y ~ x + (1 + x|g)", {"family": "bernoulli", "noncentered": True}),
    "a Student t sd prior": (
        "y ~ x + (1|g)",
        {
            "family": "bernoulli",
            "noncentered": True,
            "priors": {"1|g": bf.Prior("Normal", sigma=bf.Prior("HalfStudentT", nu=4, sigma=1))},
        },
    ),
    "a Student t prior": (
        "y ~ x",
        {"family": "bernoulli", "priors": {"x": bf.Prior("StudentT", nu=3, sigma=1)}},
    ),
    "gaussian": ("x ~ z", {}),
    "negative binomial": ("count ~ x", {"family": "negativebinomial"}),
    "probit link": ("y ~ x", {"family": "bernoulli", "link": "probit"}),
}


@pytest.mark.parametrize("what", list(CLAIMED))
@pytest.mark.parametrize("n", [40, 2500])  # numpy's loop below 2,000 rows, compiled above
def test_the_compiled_form_equals_the_python_density(what, n):
    formula, kwargs = CLAIMED[what]
    model = bf.Model(formula, _data(n, seed=len(what) + n), **kwargs)
    dens = density_of_spec(model.spec, kernel=True)
    assert dens.native is not None, what
    rng = np.random.default_rng(7)
    for scale in (0.1, 1.0, 3.0):
        x = dens.initial_point(rng) + rng.normal(scale=scale, size=dens.ndim)
        lp, grad = dens.logp_grad(x)
        lp_native, grad_native = dens.native.logp_grad(x)
        assert lp_native == pytest.approx(lp, rel=1e-12, abs=1e-9), what
        np.testing.assert_allclose(grad_native, grad, rtol=1e-10, atol=1e-9, err_msg=what)


@pytest.mark.parametrize("what", list(NOT_CLAIMED))
def test_models_outside_the_class_have_no_compiled_form(what):
    formula, kwargs = NOT_CLAIMED[what]
    model = bf.Model(formula, _data(300, seed=1), **kwargs)
    dens = density_of_spec(model.spec, kernel=True)
    assert dens is None or dens.native is None, what


@st.composite
def _claimed_models(draw):
    """Models of the compiled form's class: family, terms, intercept, offset, priors, rows."""
    family = draw(st.sampled_from(["bernoulli", "binomial", "poisson"]))
    terms = draw(
        st.lists(st.sampled_from(["x", "z", "arm", "x:z", "arm:x", "I(x ** 2)"]), unique=True)
    )
    intercept = draw(st.booleans()) or not terms
    response = {"bernoulli": "y", "binomial": "p(k, trials)", "poisson": "count"}[family]
    rhs = " + ".join(terms) if terms else "1"
    if not intercept:
        rhs = "0 + " + rhs
    if family == "poisson" and draw(st.booleans()):
        rhs += " + offset(log(exposure))"
    rhs += draw(st.sampled_from(["", " + (1|g)", " + (x||g)", " + (1|g) + (1|arm)"]))
    priors = {}
    for term in terms:
        if ":" not in term and draw(st.booleans()):
            mu = draw(st.floats(-2, 2))
            sigma = draw(st.floats(0.05, 5))
            priors[term] = bf.Prior("Normal", mu=mu, sigma=sigma)
    n = draw(st.sampled_from([30, 700, 2100]))
    seed = draw(st.integers(0, 1000))
    return f"{response} ~ {rhs}", family, priors, n, seed


@settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(_claimed_models())
def test_generated_models_compiled_form_equals_the_python_density(drawn):
    formula, family, priors, n, seed = drawn
    model = bf.Model(
        formula, _data(n, seed), family=family, priors=priors or None, noncentered=True
    )
    dens = density_of_spec(model.spec, kernel=True)
    assert dens.native is not None, drawn
    rng = np.random.default_rng(seed)
    for _ in range(3):
        x = dens.initial_point(rng) + rng.normal(scale=1.0, size=dens.ndim)
        lp, grad = dens.logp_grad(x)
        lp_native, grad_native = dens.native.logp_grad(x)
        assert lp_native == pytest.approx(lp, rel=1e-12, abs=1e-9), drawn
        np.testing.assert_allclose(grad_native, grad, rtol=1e-10, atol=1e-9, err_msg=str(drawn))


def test_a_deliberate_error_in_the_compiled_form_is_caught():
    """The comparison above can fail: a prior mean moved by 1e-6 changes the log-density."""
    formula, kwargs = CLAIMED["bernoulli, own priors"]
    model = bf.Model(formula, _data(100, seed=3), **kwargs)
    dens = density_of_spec(model.spec, kernel=True)
    arrays = list(dens.native.arrays)
    arrays[dens.native.names.index("mu")] = arrays[dens.native.names.index("mu")] + 1e-6
    x = dens.initial_point(np.random.default_rng(0))
    wrong, _ = dens.native.inner(x, *arrays)
    assert wrong != pytest.approx(dens.logp_grad(x)[0], rel=1e-12, abs=1e-9)


@pytest.mark.parametrize("formula", ["y ~ x + arm", "y ~ x + (1|g)"])
def test_nutpie_samples_the_compiled_form_like_the_python_density(formula):
    """Through the compiled form (fit_many's way) and through Python (a single fit's), the
    same model's posterior means agree within Monte Carlo error."""
    data = _data(600, seed=11)
    fit = {"draws": 1000, "tune": 500, "chains": 2, "progressbar": False}
    kwargs = {"family": "bernoulli", "noncentered": True}
    model = bf.Model(formula, data, **kwargs)
    compiled.use_row_loop(model.spec)
    with native.native_fits():
        through_c = model.fit(random_seed=1, **fit)
    assert through_c.sample_stats.attrs["chain_threads"].startswith("compiled density")
    through_python = bf.Model(formula, data, **kwargs).fit(random_seed=2, **fit)
    assert not through_python.sample_stats.attrs["chain_threads"].startswith("compiled")
    a, b = bf.summary(through_c), bf.summary(through_python)
    assert list(a.index) == list(b.index)
    se = np.hypot(a["mcse_mean"], b["mcse_mean"])
    assert (np.abs(a["mean"] - b["mean"]) < 5 * se).all(), pd.concat([a["mean"], b["mean"]], axis=1)
    assert (a["r_hat"] < 1.02).all()
