"""`check_density`: the fast path's log-density and gradient equal to the PyMC graph's.

The fast path (`bayesformula.density`) is a second implementation of each model it claims, so it
is trusted only as far as this check proves it equal to the reference, the model's PyMC graph
(`bayesformula.graph`). At random points of the fast path's unconstrained space it compares

* the named variables (names, shapes, dims) with the graph's;
* the log-density, normalising constants and Jacobians included;
* the gradient: the fast path may sample a reparameterisation of the graph's variables (the
  anchored group effects, ``a_j = Intercept + b_j``), an affine map ``z = T(x)`` with unit
  Jacobian, so its gradient must equal ``J' grad_z`` with ``J`` the map's matrix.

Points are drawn where the graph's log-density is finite when possible (a link may take a
parameter outside its support); where it is not, both must be -inf. Where the graph's own
gradient is not finite, or is the one of the two that disagrees with central differences of the
graph's log-density (PyMC's rewrites lose accuracy in a few likelihoods' gradients), the fast
path's gradient is compared with those central differences instead (``report.notes`` says
where).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import numpy as np

from bayesformula.density import Unsupported, density_of_spec
from bayesformula.errors import BayesformulaError
from bayesformula.report import CheckReport

__all__ = ["DensityReport", "check_density"]

#: PyMC's transforms the fast path samples through: their forward maps (value -> sampled).
_FORWARD = {
    "LogTransform": np.log,
    "LogOddsTransform": lambda v: np.log(v) - np.log1p(-v),
    "Ordered": lambda v: np.concatenate([v[..., :1], np.log(np.diff(v, axis=-1))], axis=-1),
    "CholeskyCovPacked": lambda v: _log_diagonal(v),
    "SimplexTransform": lambda v: np.log(v)[..., :-1] - np.mean(np.log(v), axis=-1, keepdims=True),
}


def _log_diagonal(packed):
    """A packed lower-triangular factor (rows in order) with its diagonal's logarithm."""
    n = int(round((np.sqrt(8 * packed.shape[-1] + 1) - 1) / 2))
    out = np.array(packed, dtype=float)
    diag = np.cumsum(np.arange(1, n + 1)) - 1
    out[..., diag] = np.log(out[..., diag])
    return out


#: each spec's compiled reference (a spec is frozen: its graph never changes)
_GRAPHS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@dataclass(kw_only=True)
class DensityReport(CheckReport):
    """The outcome of `check_density`, with the largest discrepancies found."""

    model: str = ""
    claimed: bool = False
    max_logp_error: float = 0.0
    max_grad_error: float = 0.0
    #: where a gradient was compared with central differences instead of the graph's gradient
    notes: list = field(default_factory=list)

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
    import pytensor

    # the few evaluations of shapes and initial points a check makes run in Python: compiling
    # them with numba took most of a check's time
    with pytensor.config.change_flags(mode="FAST_COMPILE"):
        graph = _GRAPHS.get(spec)
        if graph is None:
            graph = _GRAPHS[spec] = _Graph(spec)
        _check_names(report, dens, graph.model)
    rng = np.random.default_rng(seed)
    inside = [
        _check_point(report, dens, graph, _point(dens, graph, rng), i, rtol) for i in range(points)
    ]
    report.record(
        "support",
        any(inside),
        f"none of the {points} random points is inside the parameters' support: nothing was "
        "compared but -inf (try more points)",
    )
    if raise_on_failure and not report.ok:
        raise BayesformulaError(str(report))
    return report


def _point(dens, graph: _Graph, rng, tries: int = 20) -> np.ndarray:
    """A random point near the sampler's start where the graph's log-density is finite, when
    one is found in ``tries`` (a link such as the identity for a positive mean leaves part of
    the space outside the parameter's support). After half the tries the points are drawn
    ever closer to the start (an identity link for a probability leaves the support within a
    unit of it)."""
    center = None
    for i in range(tries):
        x = dens.initial_point(rng) + rng.normal(0.0, 0.5, dens.ndim)
        if i >= tries // 2:
            if center is None:  # the start: the jittered points' mean
                center = np.mean([dens.initial_point(rng) for _ in range(64)], axis=0)
            x = center + 0.5 ** (i - tries // 2 + 1) * (x - center)
        try:
            lp = float(graph.logp_dlogp(graph.point(dens.expand(x)))[0])
        except KeyError:  # reported by the point's check
            return x
        if np.isfinite(lp):
            return x
    return x


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
        for dim in dens.dims.get(name, ()):  # the labels the posterior's coordinates get
            labels = dens.coords.get(dim)
            if labels is None or list(labels) != list(pm_model.coords.get(dim) or ()):
                problems.append(f"dim '{dim}' of '{name}' has coords {labels}")
    report.record("names", not problems, "; ".join(problems))


def _check_point(
    report: DensityReport, dens, graph: _Graph, x: np.ndarray, i: int, rtol: float
) -> bool:
    """Compare at ``x``; False where both log-densities are -inf (nothing else to compare)."""
    try:
        point = graph.point(dens.expand(x))
    except KeyError as err:
        report.record(f"point {i}", False, f"the fast path gives no value for {err}")
        return True  # a failure already
    lp_fast, grad_fast = dens.logp_grad(x)
    if dens.native is not None:  # the same density compiled whole (`density.native`)
        lp_c, grad_c = dens.native.logp_grad(x)
        same = bool(
            (lp_c == lp_fast or abs(lp_c - lp_fast) <= rtol * max(1.0, abs(lp_fast)))
            and np.allclose(grad_c, grad_fast, rtol=rtol, atol=rtol)
        )
        report.record(
            f"compiled form {i}",
            same,
            f"{lp_c!r} compiled, {lp_fast!r} in Python (gradients differ by "
            f"{np.max(np.abs(np.asarray(grad_c) - grad_fast)):.3g})",
        )
    lp_graph, grad_graph = graph.logp_dlogp(point)
    lp_graph = float(lp_graph)
    if lp_graph == -np.inf or lp_fast == -np.inf:  # a link took a parameter outside its support
        report.record(
            f"log-density {i}",
            lp_fast == lp_graph,
            f"{lp_fast!r} on the fast path, {lp_graph!r} on the graph (outside the support)",
        )
        return False  # no gradient there
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
        return True
    grad_graph = np.asarray(grad_graph, dtype=float)
    if not np.all(np.isfinite(grad_graph)):
        _check_by_differences(report, dens, graph, x, i, grad_fast)
        return True
    expected = jac.T @ grad_graph
    gerr = np.abs(grad_fast - expected)
    # rounding scales with the terms summed, which may cancel (anchored effects: a group
    # effect's gradient reaches the intercept too)
    scale = np.maximum(1.0, np.maximum(np.abs(expected), np.abs(jac).T @ np.abs(grad_graph)))
    off = np.flatnonzero(gerr > rtol * scale)
    if off.size and _graph_gradient_inaccurate(dens, graph, x, off, expected, grad_fast):
        report.record(f"gradient {i}", True, "")
        report.notes.append(
            f"point {i}, entries {off.tolist()}: the graph's own gradient differs from central "
            "differences of its log-density; the fast path's agrees with them"
        )
        return True
    report.max_grad_error = max(report.max_grad_error, float(np.max(gerr, initial=0.0)))
    ok = not off.size
    worst = int(np.argmax(gerr / scale)) if gerr.size else None
    report.record(
        f"gradient {i}",
        ok,
        ""
        if ok
        else f"entry {worst}: {grad_fast[worst]!r} on the fast path, {expected[worst]!r} from "
        "the graph",
    )
    return True


def _difference(dens, graph, x, direction, h=1e-3) -> tuple[float, float]:
    """The derivative of the graph's log-density along ``direction`` (in the fast path's
    space) by Richardson-extrapolated central differences, and an estimate of its error."""

    def logp(at):
        return float(graph.logp_dlogp(graph.point(dens.expand(at)))[0])

    def central(step):
        return (logp(x + step * direction) - logp(x - step * direction)) / (2 * step)

    c1, c2, c4 = central(h), central(h / 2), central(h / 4)
    fine, coarse = (4 * c4 - c2) / 3, (4 * c2 - c1) / 3
    return fine, abs(fine - coarse)


def _graph_gradient_inaccurate(dens, graph, x, entries, expected, grad_fast) -> bool:
    """Whether, at every entry where the two gradients differ, the graph's gradient is the one
    that disagrees with central differences of the graph's own log-density (PyMC's rewrites
    lose accuracy in some likelihoods' gradients) while the fast path's agrees with them."""
    for j in entries:
        step = np.zeros(x.size)
        step[j] = 1.0
        fd, error = _difference(dens, graph, x, step)
        tol = max(1e-8 * max(1.0, abs(fd)), 10 * error)
        if not (abs(grad_fast[j] - fd) <= tol < abs(expected[j] - fd)):
            return False
    return True


def _check_by_differences(report, dens, graph, x, i, grad_fast):
    """Where the graph's gradient is not finite (PyMC's rewrites of some likelihoods lose it
    where the log-density is still finite), the fast path's gradient along a random direction
    is compared with a central difference of the graph's log-density instead."""
    direction = np.random.default_rng(i).normal(size=x.size)
    fd, error = _difference(dens, graph, x, direction)
    along = float(grad_fast @ direction)
    scale = max(1.0, abs(fd), float(np.abs(grad_fast) @ np.abs(direction)))
    ok = bool(np.isfinite(fd) and abs(along - fd) <= max(1e-8 * scale, 10 * error))
    report.notes.append(
        f"point {i}: the graph's gradient is not finite; compared with central differences"
    )
    report.record(
        f"gradient {i}",
        ok,
        f"the graph's gradient is not finite here; along a random direction the fast path's "
        f"is {along!r}, a central difference of the graph's log-density {fd!r}",
    )
