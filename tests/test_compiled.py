"""The fast path's gate: a model whose PyMC graph was changed after building samples the graph."""

from __future__ import annotations

import dataclasses

import numpy as np
import pymc as pm
import pytest

import bayesformula as bf
from bayesformula import compiled

FIT = {"draws": 600, "tune": 600, "chains": 2, "cores": 1, "progressbar": False}


def _bioassay(bioassay):
    return bf.Model("p(deaths, n) ~ dose", bioassay, family="binomial")


def test_building_alone_keeps_the_fast_path(bioassay):
    model = _bioassay(bioassay)
    model.build()
    assert compiled.fast_path(model.spec) is model.density() is not None
    assert "numpy log-density" in model.fast_path_note


def test_a_potential_added_after_building_closes_the_fast_path(bioassay):
    model = _bioassay(bioassay)
    with model.build():
        pm.Potential("pin", pm.logp(pm.Normal.dist(10.0, 0.1), model.build()["dose"]))
    assert compiled.fast_path(model.spec) is None
    assert "changed after building" in model.fast_path_note
    # the density itself is still there (it is the spec's), but the gate does not use it
    assert model.density() is not None


def _deterministic(m):
    with m:
        pm.Deterministic("twice", 2 * m["dose"])


def _variable(m):
    with m:
        pm.Normal("extra", 0.0, 1.0)


def _new_data(m):
    pm.set_data({"__X": np.zeros((4, 1))}, model=m)


@pytest.mark.parametrize("change", [_deterministic, _variable, _new_data])
def test_any_change_to_the_graph_closes_the_fast_path(bioassay, change):
    model = _bioassay(bioassay)
    assert compiled.fast_path(model.spec) is not None
    change(model.build())
    assert compiled.fast_path(model.spec) is None


def test_a_pinned_dose_is_respected_by_the_default_fit(bioassay):
    """A potential pinning dose near 10 moves the posterior there with the default fit()."""
    free = _bioassay(bioassay).fit(random_seed=1, diagnostics=False, **FIT)
    model = _bioassay(bioassay)
    with model.build():
        pm.Potential("pin", pm.logp(pm.Normal.dist(10.0, 0.1), model.build()["dose"]))
    idata = model.fit(random_seed=1, diagnostics=False, **FIT)
    assert free.posterior.attrs["inference_method"] == "nutpie"  # the fast path
    assert idata.posterior.attrs["inference_method"] == "pymc"  # the changed graph
    # the pinned posterior: the prior sd 0.1 dominates the likelihood (dose sd ~ 5 alone), so
    # the mean is within a few Monte Carlo errors (0.1 / sqrt(ESS) < 0.01) of 10
    assert abs(float(idata.posterior["dose"].mean()) - 10.0) < 0.05
    assert abs(float(free.posterior["dose"].mean()) - 10.0) > 2  # without it, about 7.8


def test_artefacts_are_cached_per_spec(bioassay):
    model = _bioassay(bioassay)
    assert compiled.built_graph(model.spec, build=False) is None  # nothing built yet
    model.build()
    built = model.backend
    assert built is not None and compiled.built_graph(model.spec) is built
    assert compiled.predictor(model.spec) is compiled.predictor(model.spec)
    other = bf.Model.from_spec(dataclasses.replace(model.spec))
    assert compiled.built_graph(other.spec) is not built  # another spec, its own artefacts
