"""Compiled artefacts of a `ModelSpec`, cached per spec, and the one gate of the fast path.

A spec is frozen, so whatever is built from it stays valid for as long as the spec lives: the
PyMC graph, the fast path's log-density, the prediction function and the pointwise
log-likelihood function are each built once per spec, on first use, and kept in a cache keyed by
the spec (weakly: they go when the spec goes). No object's attributes are written.

`fast_path` is the only place that decides whether a model is sampled through its numpy
log-density: the model must be one the fast path claims (`bayesformula.density.build_density`
raises `Unsupported` otherwise), and its PyMC graph, if built, must be unchanged since building
(``with model.build(): pm.Potential(...)`` makes it a different model, which only the graph
samples).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from bayesformula.density import DensityModel, Unsupported, density_of_spec

__all__ = [
    "built_graph",
    "density",
    "fast_path",
    "fast_path_note",
    "loglik",
    "predictor",
    "slope_predictor",
    "use_row_loop",
]

_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _cached(spec, key: str, make: Callable[[], Any]) -> Any:
    entry = _CACHE.setdefault(spec, {})
    if key not in entry:
        entry[key] = make()
    return entry[key]


def _peek(spec, key: str) -> Any:
    """The cached artefact, or None if it was not built."""
    return _CACHE.get(spec, {}).get(key)


def built_graph(spec, *, build: bool = True):
    """The spec's PyMC model with the handles prediction needs (`graph.model.BuiltModel`);
    with ``build=False`` only if it was built already (else None)."""
    if not build:
        return _peek(spec, "graph")

    def make():
        from bayesformula.graph.model import build_graph

        return build_graph(spec)

    return _cached(spec, "graph", make)


def _density_or_reason(spec, kernel: bool | None = None) -> tuple[DensityModel | None, str]:
    def make():
        try:
            dens = density_of_spec(spec, kernel=kernel)
        except Unsupported as why:
            return None, f"not available ({why}); the PyMC graph is compiled"
        return dens, dens.description

    return _cached(spec, "density", make)


def use_row_loop(spec) -> None:
    """Build the spec's density with the compiled row loop whatever the number of rows, where
    the family has one: for many fits in one process, which load the loop once. Only before
    anything else has built the density (it is built once per spec)."""
    _density_or_reason(spec, kernel=True)


def density(spec) -> DensityModel | None:
    """The spec's exact numpy log-density, or None where the fast path does not claim it."""
    return _density_or_reason(spec)[0]


def fast_path(spec) -> DensityModel | None:
    """The density to sample instead of the graph, or None: the gate (see the module doc)."""
    graph = built_graph(spec, build=False)
    if graph is not None and graph.touched():
        return None
    return density(spec)


def fast_path_note(spec) -> str:
    """Whether the fast path covers the spec's model, and if not why."""
    graph = built_graph(spec, build=False)
    if graph is not None and graph.touched():
        return "not used: the PyMC model was changed after building, so its graph is sampled"
    return _density_or_reason(spec)[1]


def predictor(spec):
    """The compiled prediction function (`graph.predict.Predictor`) of the spec's graph."""

    def make():
        from bayesformula.graph.predict import compile_predictor

        return compile_predictor(built_graph(spec))

    return _cached(spec, "predictor", make)


def slope_predictor(spec, target: str):
    """The compiled value-and-derivative function of ``target`` (``"mean"``, ``"linpred"`` or
    an auxiliary parameter with a formula of its own), `graph.predict.SlopePredictor`."""

    def make():
        from bayesformula.graph.predict import compile_slope_predictor

        built = built_graph(spec)
        if target == "mean":
            output = built.parent
        elif target == "linpred":
            output = built.linpred
        else:
            output = built.aux_parents[target]
        return compile_slope_predictor(built, output)

    return _cached(spec, f"slope:{target}", make)


def loglik(spec):
    """The compiled pointwise log-likelihood function (`graph.loglik.compile_loglik`)."""

    def make():
        from bayesformula.graph.loglik import compile_loglik

        return compile_loglik(spec)

    return _cached(spec, "loglik", make)
