"""`check_density`: the fast path's log-density and gradient equal to the PyMC graph's.

The fast path (`bayesformula.density`) is a second implementation of each model it claims, so it
is trusted only as far as this check proves it equal to the reference, the model's PyMC graph
(`bayesformula.graph`). At random points of the fast path's unconstrained space it compares

* the named variables (names, shapes, dims) with the graph's;
* the log-density, normalising constants and Jacobians included;
* the gradient: the fast path may sample a reparameterisation of the graph's variables (the
  anchored group effects, ``a_j = Intercept + b_j``), an affine map ``z = T(x)`` with unit
  Jacobian, so its gradient must equal ``J' grad_z`` with ``J`` the map's matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bayesformula.density import Unsupported, density_of_spec
from bayesformula.errors import BayesformulaError
from bayesformula.report import CheckReport

__all__ = ["DensityReport", "check_density"]

#: PyMC transforms the fast path's positive parameters match (it samples ``log(value)``).
_FORWARD = {"LogTransform": np.log}


@dataclass(kw_only=True)
class DensityReport(CheckReport):
    """The outcome of `check_density`, with the largest discrepancies found."""

    model: str = ""
    claimed: bool = False
    max_logp_error: float = 0.0
    max_grad_error: float = 0.0

    def title(self) -> str:
        return f"check_density({self.model!r})"


class _Graph:
    """The reference: the spec's PyMC model, its log-density and gradient (compiled once)."""

    def __init__(self, spec):
        from bayesformula.graph.model import build_graph

        self.model = build_graph(spec).model
        # the rewrites that give log-densities their numerically stable forms (such as
        # log(sigmoid(x)) -> -softplus(-x)), with the python linker: no C compile, which a few
        # evaluations per model do not repay
        from pytensor.compile.mode import Mode

        mode = Mode(linker="py", optimizer="fast_compile").including(
            "canonicalize", "stabilize", "specialize"
        )
        self.logp_dlogp = self.model.compile_fn([self.model.logp(), self.model.dlogp()], mode=mode)
        self.values = list(self.model.value_vars)
        self.rvs = [self.model.values_to_rvs[v] for v in self.values]
        # each value variable's shape (dims make static shapes unknown)
        self.shapes = {k: np.shape(v) for k, v in self.model.initial_point().items()}

    def point(self, named: dict) -> dict:
        """The graph's value variables at the fast path's named variables."""
        out = {}
        for value, rv in zip(self.values, self.rvs, strict=True):
            if rv.name not in named:
                raise KeyError(rv.name)
            x = np.asarray(named[rv.name], dtype=float)
            transform = self.model.rvs_to_transforms.get(rv)
            if transform is not None:
                x = _FORWARD[type(transform).__name__](x)
            out[value.name] = x.reshape(self.shapes[value.name])
        return out

    def flat(self, point: dict) -> np.ndarray:
        return np.concatenate([np.zeros(0)] + [np.ravel(point[v.name]) for v in self.values])


def check_density(
    model,
    *,
    points: int = 3,
    seed: int = 0,
    rtol: float = 1e-8,
    kernel: bool | None = None,
    raise_on_failure: bool = False,
) -> DensityReport:
    """Check that the fast path's log-density and gradient equal the PyMC graph's.

    Parameters
    ----------
    model : Model or ModelSpec
        The model to check. A model the fast path does not claim passes trivially (it is
        sampled from its graph); ``report.claimed`` says which.
    points : int, default 3
        Random points of the unconstrained space to compare at.
    seed : int, default 0
        Seed of the points.
    kernel : bool, optional
        Evaluate a bernoulli, binomial or poisson likelihood in the compiled row loop (True)
        or in numpy (False); by default as a fit would (the loop from 2,000 rows on).
    rtol : float, default 1e-8
        Tolerance relative to the size of the log-density, and of each gradient entry (or of
        the graph's gradient terms it sums, when they are larger: their rounding errors add).
    raise_on_failure : bool, default False
        Raise `BayesformulaError` with the report when a check fails.

    Returns
    -------
    DensityReport

    Examples
    --------
    >>> import bayesformula as bf
    >>> model = bf.Model("p(deaths, n) ~ dose", bf.load_data("bioassay"), family="binomial")
    >>> bf.check_density(model).ok
    True
    """
    spec = getattr(model, "spec", model)
    report = DensityReport(model=str(spec.formula))
    try:
        dens = density_of_spec(spec, kernel=kernel)
    except Unsupported as why:
        report.passed.append(f"not claimed ({why}): the graph is sampled")
        return report
    report.claimed = True
    graph = _Graph(spec)
    _check_names(report, dens, graph.model)
    rng = np.random.default_rng(seed)
    for i in range(points):
        x = dens.initial_point(rng) + rng.normal(0.0, 0.5, dens.ndim)
        _check_point(report, dens, graph, x, i, rtol)
    if raise_on_failure and not report.ok:
        raise BayesformulaError(str(report))
    return report


def _check_names(report: DensityReport, dens, pm_model) -> None:
    problems = []
    free = {rv.name for rv in pm_model.free_RVs}
    missing = sorted(free - set(dens.shapes))
    if missing:
        problems.append(f"graph variables {missing} have no value on the fast path")
    for name, shape in dens.shapes.items():
        if name not in pm_model.named_vars:
            problems.append(f"'{name}' is not a variable of the graph")
            continue
        graph_shape = tuple(pm_model.named_vars[name].shape.eval())
        if graph_shape != tuple(shape):
            problems.append(f"'{name}' has shape {tuple(shape)}, the graph's {graph_shape}")
        graph_dims = tuple(pm_model.named_vars_to_dims.get(name, ()) or ())
        if tuple(dens.dims.get(name, ())) != graph_dims:
            problems.append(
                f"'{name}' has dims {dens.dims.get(name, ())}, the graph's {graph_dims}"
            )
    report.record("names", not problems, "; ".join(problems))


def _check_point(report: DensityReport, dens, graph: _Graph, x: np.ndarray, i: int, rtol: float):
    try:
        point = graph.point(dens.expand(x))
    except KeyError as err:
        report.record(f"point {i}", False, f"the fast path gives no value for {err}")
        return
    lp_fast, grad_fast = dens.logp_grad(x)
    lp_graph, grad_graph = graph.logp_dlogp(point)
    lp_graph = float(lp_graph)
    err = abs(lp_fast - lp_graph)
    report.max_logp_error = max(report.max_logp_error, err)
    report.record(
        f"log-density {i}",
        bool(err <= rtol * max(1.0, abs(lp_graph))),
        f"{lp_fast!r} on the fast path, {lp_graph!r} on the graph (difference {err:.3g})",
    )
    # the map x -> z (graph's value vector) is affine: its matrix column by column
    z0 = graph.flat(point)
    jac = np.empty((z0.size, x.size))
    for j in range(x.size):
        step = np.zeros(x.size)
        step[j] = 1.0
        jac[:, j] = graph.flat(graph.point(dens.expand(x + step))) - z0
    direction = np.random.default_rng(i).normal(size=x.size)
    moved = graph.flat(graph.point(dens.expand(x + direction))) - z0
    affine = np.allclose(moved, jac @ direction, rtol=1e-9, atol=1e-9)
    report.record(
        f"affine map {i}",
        affine,
        "the fast path's variables are not an affine map of the graph's value variables",
    )
    if not affine:
        return
    grad_graph = np.asarray(grad_graph, dtype=float)
    expected = jac.T @ grad_graph
    gerr = np.abs(grad_fast - expected)
    # rounding scales with the terms summed, which may cancel (anchored effects: a group
    # effect's gradient reaches the intercept too)
    scale = np.maximum(1.0, np.maximum(np.abs(expected), np.abs(jac).T @ np.abs(grad_graph)))
    report.max_grad_error = max(report.max_grad_error, float(np.max(gerr, initial=0.0)))
    ok = bool(np.all(gerr <= rtol * scale))
    worst = int(np.argmax(gerr / scale)) if gerr.size else None
    report.record(
        f"gradient {i}",
        ok,
        ""
        if ok
        else f"entry {worst}: {grad_fast[worst]!r} on the fast path, {expected[worst]!r} from "
        "the graph",
    )
