"""A log-density with its gradient: the model form that needs no compiling.

A `DensityModel` is what an engine that calls back into Python (nutpie's ``from_pyfunc``) can
sample directly: a function of an unconstrained vector returning the log-density and its
gradient, and a map from that vector to named variables. Samplers know nothing of formulas; the
model's author guarantees that ``logp_grad`` is the exact log-density (Jacobians included) of the
variables ``expand`` returns.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["DensityModel", "guarded", "inside"]


def guarded(logp_grad: Callable, ndim: int) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """``logp_grad`` returning ``(-inf, zeros)`` wherever its value or gradient is not finite
    or its arithmetic fails, quietly.

    A sampler's first steps can propose points such as a log-scale of -800, where a scale
    rounds to zero and a mean's exponential overflows. There the density is zero, as PyMC's
    graph has it, and a sampler rejects the proposal: no exception ends the chain and no
    numpy warning reaches the user.
    """

    def logp_grad_guarded(x: np.ndarray) -> tuple[float, np.ndarray]:
        try:
            with np.errstate(all="ignore"):
                lp, grad = logp_grad(x)
                total = float(lp) + float(grad.sum())
        except (ArithmeticError, ValueError):  # ValueError: math's domain errors
            return -math.inf, np.zeros(ndim)
        if math.isfinite(total):
            return lp, grad
        return -math.inf, np.zeros(ndim)

    return logp_grad_guarded


def inside(
    jittered: Callable[[np.random.Generator], np.ndarray],
    logp_grad: Callable[[np.ndarray], tuple[float, np.ndarray]],
    start: np.ndarray,
    tries: int = 12,
) -> Callable[[np.random.Generator], np.ndarray]:
    """``jittered`` (a starting point ``start`` plus random jitter) moved towards ``start``,
    halving the jitter, until the log-density there is finite.

    A link that can leave its parameter's support (the identity for a probability or a rate)
    puts part of the jittered points outside it; a point whose log-density is finite is
    returned as drawn, so the draws of every other model are unchanged.
    """

    def initial_point(rng: np.random.Generator) -> np.ndarray:
        x = jittered(rng)
        for _ in range(tries):
            if math.isfinite(logp_grad(x)[0]):
                return x
            x = start + 0.5 * (x - start)
        return x

    return initial_point


@dataclass(frozen=True)
class DensityModel:
    """A posterior as a log-density on ``R**ndim``.

    Attributes
    ----------
    ndim : int
        Length of the unconstrained vector.
    logp_grad : callable
        ``x -> (logp, grad)``, a float and an array of length ``ndim``.
    expand : callable
        ``x -> {name: array}``: the named variables (the posterior's) at ``x``.
    shapes : dict
        Variable name -> shape, in the order ``expand`` returns them.
    dims : dict
        Variable name -> dimension names (omitted for scalars).
    coords : dict
        Dimension name -> coordinate values.
    observed : dict
        Observed variable name -> ``(dims, values)`` for the ``observed_data`` group.
    initial_point : callable
        ``numpy.random.Generator -> x``: a (jittered) starting point.
    description : str
        One line saying what the density is (shown when a sampler uses it).
    releases_lock : bool
        True when all per-row work runs in a compiled loop that releases Python's lock, so
        that chains in threads compute their gradients at the same time; otherwise a sampler
        measures whether they do (`bayesformula.samplers.threads`).
    native : NativeDensity, optional
        The same log-density as one compiled function of ``x`` and the model's arrays
        (`bayesformula.density.native`), where the model is in its class.
    """

    ndim: int
    logp_grad: Callable[[np.ndarray], tuple[float, np.ndarray]]
    expand: Callable[[np.ndarray], dict[str, np.ndarray]]
    shapes: dict[str, tuple[int, ...]]
    dims: dict[str, tuple[str, ...]] = field(default_factory=dict)
    coords: dict[str, list] = field(default_factory=dict)
    observed: dict[str, tuple[tuple[str, ...], np.ndarray]] = field(default_factory=dict)
    initial_point: Callable[[np.random.Generator], np.ndarray] | None = None
    description: str = ""
    releases_lock: bool = False
    native: Any = None

    @property
    def variable_names(self) -> list[str]:
        """Names of the posterior variables."""
        return list(self.shapes)

    def observed_dataset(self):
        """The ``observed_data`` group as an ``xarray.Dataset``."""
        import xarray as xr

        variables = {}
        coords = {}
        for name, (dims, values) in self.observed.items():
            variables[name] = (dims, np.asarray(values))
            for dim in dims:
                if dim in self.coords:
                    coords[dim] = self.coords[dim]
        return xr.Dataset(variables, coords=coords)
