"""Approximate Gaussian processes, ``hsgp(...)``: the term and how it is made from the data.

``hsgp(x1[, x2, ...], m=..., c=... | L=...)`` is a Hilbert-space approximate Gaussian process
(Riutort-Mayol et al. 2022): ``f(x) = sum_j phi_j(x) * beta_j`` with fixed basis functions
``phi_j`` (eigenfunctions of the Laplacian on ``[-L, L]``, `bayesformula.formula.hsgp_math`) and
``beta_j ~ Normal(0, S(omega_j))``, ``S`` the covariance function's spectral density.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bayesformula.errors import FormulaError, PredictionError, did_you_mean
from bayesformula.formula.hsgp_math import (
    SHORTEST_LENGTHSCALE,
    _max_distance,
    basis_indices,
    hsgp_basis,
)
from bayesformula.formula.term_values import _encode_levels, _evaluate, _numeric

#: The most basis functions (the product of ``m`` over the predictors) one term may have.
MAX_BASIS = 10_000

__all__ = ["HSGPTerm"]


#: Covariance functions of hsgp(): accepted spellings -> canonical name.
_COVARIANCES = {
    "expquad": "expquad",
    "exp_quad": "expquad",
    "ExpQuad": "expquad",
    "matern32": "matern32",
    "Matern32": "matern32",
    "matern52": "matern52",
    "Matern52": "matern52",
}


def _per_variable(value, d: int, what: str, name: str) -> np.ndarray:
    arr = np.asarray(value, dtype=object)
    if arr.ndim > 1:
        raise FormulaError(
            f"'{name}': {what} must be one number or one per predictor; a value per level of "
            "by= is not supported."
        )
    try:
        arr = np.asarray(np.broadcast_to(np.asarray(value, dtype=float), (d,)), dtype=float)
    except (TypeError, ValueError):
        raise FormulaError(
            f"'{name}': {what} must be a number or a list of {d} numbers (one per predictor), "
            f"got {value!r}."
        ) from None
    return arr


def _flag(value, key: str, name: str) -> bool:
    if value is None and key == "scale":
        return False
    if not isinstance(value, bool | np.bool_):
        raise FormulaError(f"'{name}': {key} must be True or False, got {value!r}.")
    return bool(value)


@dataclass(frozen=True, eq=False)
class HSGPTerm:
    """An approximate Gaussian process ``hsgp(...)`` (see the module docstring).

    Inputs are centred at the midpoint of their fitting range (the same for every level of
    ``by``) and, with ``scale=True``, divided by ``scale``; ``L`` and the lengthscale are in
    those units.

    Attributes
    ----------
    name : str
        The term as written by formulae; also the name of its basis weights.
    variables : tuple of str
        The predictors.
    m : tuple of int
        Basis functions per predictor.
    cov : {"expquad", "matern32", "matern52"}
        Covariance function.
    by : str or None
        Column with one Gaussian process per level.
    by_levels : tuple of str or None
        Its levels.
    share_cov, iso, centered, drop_first : bool
        Bambi's options (see docs/formulas.md).
    scale : float
        Divisor of the inputs (the largest distance between fitting points with
        ``scale=True``, else 1).
    center : ndarray
        ``(levels, d)`` centre of the inputs, in the data's units (equal rows: all levels share
        the fitting data's domain).
    L : ndarray
        ``(levels, d)`` boundary of the approximation around the centre (scaled units).
    indices : ndarray
        ``(M, d)`` indices of the basis functions used.
    extent : ndarray
        Largest distance between fitting points (one number when ``iso``, else per predictor),
        scaled units: the upper end of the default lengthscale prior.
    shortest : ndarray
        Shortest lengthscale the basis represents, ``a * L / m`` (Riutort-Mayol et al. 2022;
        same shape as ``extent``): the lower end of the default lengthscale prior.
    basis : ndarray
        ``(n, M)`` basis functions at the fitting rows.
    by_index : ndarray or None
        ``(n,)`` level of each fitting row.
    """

    name: str
    variables: tuple[str, ...]
    m: tuple[int, ...]
    cov: str
    by: str | None
    by_levels: tuple[str, ...] | None
    share_cov: bool
    iso: bool
    centered: bool
    drop_first: bool
    scale: float
    center: np.ndarray = field(repr=False)
    L: np.ndarray = field(repr=False)
    indices: np.ndarray = field(repr=False)
    extent: np.ndarray = field(repr=False)
    shortest: np.ndarray = field(repr=False)
    basis: np.ndarray = field(repr=False)
    by_index: np.ndarray | None = field(default=None, repr=False)
    _args: Any = field(default=None, repr=False)
    _by_values: Any = field(default=None, repr=False)
    _env: Any = field(default=None, repr=False)
    kind: str = "hsgp"

    @property
    def d(self) -> int:
        return len(self.variables)

    @property
    def n_basis(self) -> int:
        return int(self.indices.shape[0])

    @property
    def n_levels(self) -> int:
        return 1 if self.by_levels is None else len(self.by_levels)

    @property
    def weights_dim(self) -> str:
        return f"{self.name}_weights_dim"

    @property
    def by_dim(self) -> str:
        return f"{self.name}_by"

    @property
    def var_dim(self) -> str:
        return f"{self.name}_var"

    @property
    def weights_dims(self) -> tuple[str, ...]:
        """Dims of the basis weights (variable ``name``)."""
        return (self.weights_dim,) + ((self.by_dim,) if self.by_levels else ())

    @property
    def per_level(self) -> bool:
        """One sigma and lengthscale per level of ``by`` (``share_cov=False``)."""
        return self.by_levels is not None and not self.share_cov

    @property
    def sigma_dims(self) -> tuple[str, ...]:
        return (self.by_dim,) if self.per_level else ()

    @property
    def ell_dims(self) -> tuple[str, ...]:
        var = () if self.iso or self.d == 1 else (self.var_dim,)
        return var + self.sigma_dims

    @property
    def omega(self) -> np.ndarray:
        """``(levels, M, d)`` square roots of the Laplacian's eigenvalues,
        ``pi j_d / (2 L_d)``."""
        return np.pi * self.indices[None, :, :] / (2.0 * self.L[:, None, :])

    def coords(self) -> dict[str, list]:
        coords: dict[str, list] = {self.weights_dim: list(range(self.n_basis))}
        if self.by_levels is not None:
            coords[self.by_dim] = list(self.by_levels)
        if not self.iso and self.d > 1:
            coords[self.var_dim] = list(self.variables)
        return coords

    @property
    def arrays(self) -> dict[str, np.ndarray]:
        """The term's data: the basis at each row and, with ``by``, each row's level."""
        out = {"basis": self.basis}
        if self.by_index is not None:
            out["by"] = self.by_index
        return out

    def state(self) -> dict[str, Any]:
        """What the term learned from the fitting data, JSON-ready (for saved models)."""
        return {
            "m": list(self.m),
            "cov": self.cov,
            "by_levels": None if self.by_levels is None else list(self.by_levels),
            "scale": round(self.scale, 12),
            "center": np.round(self.center, 12).tolist(),
            "L": np.round(self.L, 12).tolist(),
            "n_basis": self.n_basis,
        }

    def describe(self) -> str:
        domain = []
        for d, var in enumerate(self.variables):
            lo = self.center[:, d] - self.L[:, d] * self.scale
            hi = self.center[:, d] + self.L[:, d] * self.scale
            domain.append(f"{var} in [{lo.min():.4g}, {hi.max():.4g}]")
        parts = [
            f"{self.cov}",
            f"{self.n_basis} basis functions",
            "boundary " + ", ".join(domain),
        ]
        if self.by_levels is not None:
            shared = "shared" if self.share_cov else "separate"
            parts.append(f"one GP per level of {self.by} ({shared} sigma and ell)")
        if self.scale != 1.0:
            parts.append(f"inputs divided by {self.scale:.4g}")
        parts.append("centered" if self.centered else "non-centered")
        return f"{self.name}: " + ", ".join(parts)

    def _inputs(self, data, error) -> np.ndarray:
        columns = []
        for arg in self._args:
            values = _evaluate(arg, data, self._env, self.name, error)
            columns.append(_numeric(values, f"'{arg}'", self.name, data.index, error))
        return np.column_stack(columns)

    def evaluate(self, data: pd.DataFrame) -> dict[str, np.ndarray]:
        """The basis (and levels) at new data, with the fitted centre and boundary."""
        X = self._inputs(data, PredictionError)
        out: dict[str, np.ndarray] = {}
        if self.by is None:
            idx = np.zeros(len(data), dtype=np.int64)
        else:
            if self.by not in data.columns:
                raise PredictionError(
                    f"new data lacks column '{self.by}', which '{self.name}' uses (by=)."
                )
            idx = _encode_levels(
                np.asarray(data[self.by], dtype=object).astype(str),
                self.by_levels,
                self.by,
                self.name,
                data.index,
                PredictionError,
            )
            out["by"] = idx
        xs = (X - self.center[idx]) / self.scale
        L = self.L[idx]
        outside = np.abs(xs) > L * (1 + 1e-9)
        if outside.any():
            rows = np.flatnonzero(outside.any(axis=1))
            lo = self.center - self.L * self.scale
            hi = self.center + self.L * self.scale
            bounds = ", ".join(
                f"{v} in [{lo[:, d].min():.4g}, {hi[:, d].max():.4g}]"
                for d, v in enumerate(self.variables)
            )
            raise PredictionError(
                f"new data lies outside the boundary of the approximate Gaussian process "
                f"'{self.name}' ({bounds}) in {len(rows)} row(s) (first: "
                f"{[data.index[i] for i in rows[:5]]}); its basis functions vanish there. "
                "Refit with a larger c (or L) to predict that far out."
            )
        out["basis"] = hsgp_basis(xs, L, self.indices)
        return out


def _make_hsgp(term, name: str, data, env, dtypes) -> HSGPTerm:
    call = term.components[0].call
    kwargs = {
        key: (None if key == "by" else _evaluate(value, data, env, name))
        for key, value in call.kwargs.items()
    }
    columns = [
        _numeric(_evaluate(arg, data, env, name), f"'{arg}'", name, data.index, FormulaError)
        for arg in call.args
    ]
    X = np.column_stack(columns)
    d = X.shape[1]

    m_values = _per_variable(kwargs["m"], d, "m", name)
    if np.any(m_values < 1) or np.any(m_values != np.round(m_values)):
        raise FormulaError(f"'{name}': m must be whole numbers >= 1, got {kwargs['m']!r}.")
    m = tuple(int(v) for v in m_values)
    if math.prod(m) > MAX_BASIS:
        raise FormulaError(
            f"'{name}': m={kwargs['m']!r} gives {math.prod(m)} basis functions, more than the "
            f"{MAX_BASIS} supported; a few dozen per predictor usually suffice (raise m only "
            "while the posterior of the lengthscale piles up at its lower end)."
        )
    cov_arg = kwargs.get("cov", "expquad")
    if cov_arg not in _COVARIANCES and str(cov_arg).lower() not in _COVARIANCES:
        raise FormulaError(
            did_you_mean(str(cov_arg), ["expquad", "matern32", "matern52"], f"cov of '{name}'")
            + " (the exponential kernel, Matern 1/2, is not available)."
        )
    cov = _COVARIANCES.get(cov_arg) or _COVARIANCES[str(cov_arg).lower()]
    share_cov = _flag(kwargs.get("share_cov", True), "share_cov", name)
    iso = _flag(kwargs.get("iso", True), "iso", name)
    centered = _flag(kwargs.get("centered", False), "centered", name)
    drop_first = _flag(kwargs.get("drop_first", False), "drop_first", name)
    scale_on = _flag(kwargs.get("scale", False), "scale", name)

    by = by_levels = by_index = None
    if "by" in call.kwargs:
        by = call.kwargs["by"].name
        if by not in data.columns:
            raise FormulaError(f"'{name}': by={by} is not a column of the data.")
        values = data[by]
        dtype = dtypes.get(by)
        if isinstance(values.dtype, pd.CategoricalDtype):
            levels = [v for v in values.cat.categories if (values == v).any()]
        else:
            levels = sorted(pd.unique(np.asarray(values, dtype=object)), key=lambda v: str(v))
            if dtype is not None and getattr(dtype, "kind", "O") in "biuf":
                levels = sorted(pd.unique(np.asarray(values)))
        by_levels = tuple(str(v) for v in levels)
        by_index = _encode_levels(
            np.asarray(values, dtype=object).astype(str),
            by_levels,
            by,
            name,
            data.index,
            FormulaError,
        )
        if len(by_levels) < 2:
            warnings.warn(
                f"'{name}': by={by} has a single level ({by_levels[0]}); the term is one "
                "Gaussian process.",
                UserWarning,
                stacklevel=6,
            )
    idx = np.zeros(len(X), dtype=np.int64) if by_index is None else by_index
    n_levels = 1 if by_levels is None else len(by_levels)

    scale = _max_distance(X) if scale_on else 1.0
    if scale_on and scale <= 0:
        raise FormulaError(f"'{name}': the predictors take a single value; scale=True needs more.")
    # one domain for all levels of by (so that every level predicts over the whole range)
    center = np.broadcast_to((X.max(axis=0) + X.min(axis=0)) / 2, (n_levels, d)).copy()
    half = np.broadcast_to((X.max(axis=0) - X.min(axis=0)) / 2 / scale, (n_levels, d)).copy()
    if np.any(half <= 0):
        j = int(np.argwhere(half[0] <= 0)[0, 0])
        raise FormulaError(
            f"'{name}': '{call.args[j]}' takes a single value; a Gaussian process needs a range "
            "of values."
        )
    if "c" in kwargs:
        c = _per_variable(kwargs["c"], d, "c", name)
        if np.any(c <= 1):
            raise FormulaError(
                f"'{name}': c must be larger than 1 (the boundary lies c times half the data "
                f"range from its centre; 1.5 to 2 is usual), got {kwargs['c']!r}."
            )
        if np.any(c < 1.2):
            warnings.warn(
                f"'{name}': c = {kwargs['c']!r} is below 1.2; the approximation is poor near the "
                "ends of the data range (Riutort-Mayol et al. recommend c >= 1.2).",
                UserWarning,
                stacklevel=6,
            )
        L = half * c[None, :]
    else:
        L_value = _per_variable(kwargs["L"], d, "L", name)
        L = np.broadcast_to(L_value, (n_levels, d)).copy()
        if np.any(L <= half):
            g, j = np.argwhere(L <= half)[0]
            raise FormulaError(
                f"'{name}': L = {L_value[j]:g} does not cover the data: '{call.args[j]}' reaches "
                f"{half[g, j]:.4g} from the centre of its range (after centring"
                + (" and scaling" if scale_on else "")
                + "). Use a larger L, or c=1.5 to set it from the data."
            )

    indices = basis_indices(m)
    if drop_first:
        indices = indices[1:]
    if len(indices) == 0:
        raise FormulaError(f"'{name}': drop_first=True leaves no basis function; raise m.")
    basis = hsgp_basis((X - center[idx]) / scale, L[idx], indices)

    factor = SHORTEST_LENGTHSCALE[cov]
    shortest_each = factor * L.max(axis=0) / np.asarray(m, dtype=float)
    if iso or d == 1:
        extent = np.asarray(_max_distance(X) / scale)
        shortest = np.asarray(shortest_each.max())
    else:
        extent = np.ptp(X, axis=0) / scale
        shortest = shortest_each
    return HSGPTerm(
        name=name,
        variables=tuple(str(a) for a in call.args),
        m=m,
        cov=cov,
        by=by,
        by_levels=by_levels,
        share_cov=share_cov,
        iso=iso,
        centered=centered,
        drop_first=drop_first,
        scale=float(scale),
        center=center,
        L=L,
        indices=indices,
        extent=extent,
        shortest=shortest,
        basis=basis,
        by_index=by_index,
        _args=tuple(call.args),
        _env=env,
    )
