"""One nutpie compile shared by models of the same structure (`bayesformula.samplers.reuse`):
recognised exactly, never across structures, and drawing what a fresh compile draws."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayesformula as bf
from bayesformula import compiled
from bayesformula.core.prior import shared_parameters
from bayesformula.samplers import reuse

pytest.importorskip("nutpie")


def _data(seed: int, n: int, levels: str = "abcd") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data = pd.DataFrame(
        {"x": rng.normal(size=n) * rng.uniform(0.5, 3.0), "g": rng.choice(list(levels), n)}
    )
    effects = dict(zip(levels, rng.normal(0, 0.5, len(levels)), strict=True))
    eta = -0.2 + 0.5 * data.x + data.g.map(effects)
    data["y"] = (rng.normal(size=n) < eta).astype(int)
    return data


def _graph(data, shared=True, **kwargs):
    kwargs = {"family": "bernoulli", "link": "probit", "noncentered": True, **kwargs}
    model = bf.Model("y ~ x + (1|g)", data, **kwargs)
    if shared:
        with shared_parameters():
            return compiled.built_graph(model.spec).model
    return compiled.built_graph(model.spec).model


@pytest.fixture(scope="module")
def graphs():
    return {
        "a": _graph(_data(1, 300)),
        "b": _graph(_data(2, 450, "wxyz")),
        "cloglog": _graph(_data(2, 450), link="cloglog"),
        "five levels": _graph(_data(3, 300, "abcde")),
        "a, constants": _graph(_data(1, 300), shared=False),
        "b, constants": _graph(_data(2, 450, "wxyz"), shared=False),
    }


def test_the_same_structure_is_recognised_and_no_other(graphs):
    """Other rows, other labels and priors scaled to other data: the same function of the data
    containers. Another link or another number of levels is not; neither are models whose
    prior scales are constants of their own data."""
    assert reuse._key(graphs["a"], "numba") == reuse._key(graphs["b"], "numba")
    assert reuse._same_function(graphs["a"], graphs["b"])
    assert reuse._key(graphs["a"], "numba") == reuse._key(graphs["cloglog"], "numba")
    assert not reuse._same_function(graphs["a"], graphs["cloglog"])
    assert reuse._key(graphs["a"], "numba") != reuse._key(graphs["five levels"], "numba")
    assert not reuse._same_function(graphs["a, constants"], graphs["b, constants"])
    assert any(name.startswith("__prior_") for name in graphs["a"].named_vars)
    assert not any(name.startswith("__prior_") for name in graphs["a, constants"].named_vars)


def test_prior_parameters_in_containers_leave_the_log_density_as_it_was(graphs):
    """The graph with its priors' parameters and the predictors' means in containers has the
    log-density of the graph with constants, at random points (to rounding)."""
    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        shared, constants = graphs[name], graphs[f"{name}, constants"]
        f, g = shared.compile_logp(), constants.compile_logp()
        start = shared.initial_point()
        for _ in range(3):
            point = {k: v + rng.normal(0, 0.5, np.shape(v)) for k, v in start.items()}
            assert f(point) == pytest.approx(g(point), rel=1e-12, abs=1e-9)


def test_a_reused_compile_draws_what_a_fresh_compile_draws():
    """Model B fitted through model A's compile gives B's labels and exactly the draws of B's
    own compile (same seed); a model of another structure is compiled anew."""
    reuse.clear()
    fit = {"inference_method": "nutpie", "draws": 200, "tune": 200, "progressbar": False}
    fit["fast_path"] = False  # the compiled graph, as for a model the fast path does not compute
    a, b = _data(1, 300), _data(2, 450, "wxyz")
    with shared_parameters(), reuse.reusing():
        bf.Model("y ~ x + (1|g)", a, family="bernoulli", link="probit", noncentered=True).fit(
            random_seed=1, **fit
        )
        reused = bf.Model(
            "y ~ x + (1|g)", b, family="bernoulli", link="probit", noncentered=True
        ).fit(random_seed=2, **fit)
        assert reuse.cache_info() == {"structures": 1, "compiled": 1, "reused": 1}
    with shared_parameters():
        fresh = bf.Model(
            "y ~ x + (1|g)", b, family="bernoulli", link="probit", noncentered=True
        ).fit(random_seed=2, **fit)
    assert list(reused["posterior"]["1|g"].coords["g__factor_dim"].values) == list("wxyz")
    for name in ("Intercept", "x", "1|g_sigma", "1|g"):
        np.testing.assert_array_equal(
            reused["posterior"][name].values, fresh["posterior"][name].values
        )
    reuse.clear()


def test_fit_many_compiles_a_graph_model_once():
    """fit_many on a model sampled from its graph (``fast_path=False``): one compile for
    three datasets, and each dataset's posterior means within five Monte Carlo standard errors
    of the two of its own plain fit's (PyMC's sampler, priors as constants)."""
    reuse.clear()
    frames = {i: _data(10 + i, 300) for i in range(3)}
    fit = {"draws": 500, "tune": 300, "progressbar": False, "fast_path": False}
    result = bf.fit_many(
        "y ~ x", datasets=frames, family="bernoulli", link="probit", random_seed=3, **fit
    )
    assert reuse.cache_info() == {"structures": 1, "compiled": 1, "reused": 2}
    assert set(result.diagnostics["engine"]) == {"nutpie"}
    table = result.summary.set_index(["dataset", "parameter"])
    for i, frame in frames.items():
        model = bf.Model("y ~ x", frame, family="bernoulli", link="probit")
        own = bf.summary(model.fit(random_seed=i, diagnostics=False, **fit))
        theirs = table.loc[i].loc[own.index]
        tolerance = 5 * np.hypot(own["mcse_mean"], theirs["mcse_mean"])
        assert (np.abs(own["mean"] - theirs["mean"]) < tolerance).all(), i
    reuse.clear()
