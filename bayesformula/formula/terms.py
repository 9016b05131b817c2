"""Terms that are not columns of the common matrix ``X``: ``mo()`` and ``hsgp()``.

* ``mo(x)`` is a monotonic effect of an ordered predictor (brms): with ``x`` coded
  ``0, 1, ..., D`` its contribution is ``b * D * sum(zeta[:x])``, ``zeta`` a simplex of ``D``
  steps, so ``b`` is the average difference between adjacent levels. ``mo(x):z`` multiplies it
  by a numeric predictor ``z``.
* ``hsgp(x1[, x2, ...], m=..., c=... | L=...)`` is a Hilbert-space approximate Gaussian process
  (Riutort-Mayol et al. 2022): ``f(x) = sum_j phi_j(x) * beta_j`` with fixed basis functions
  ``phi_j`` (eigenfunctions of the Laplacian on ``[-L, L]``) and ``beta_j ~ Normal(0, S(omega_j))``,
  ``S`` the covariance function's spectral density.

formulae parses these calls like any other; `split_special_terms` takes them out of its model
description before the design matrices are built, and `evaluate_special_terms` evaluates them
here. Each term keeps what it learned from the fitting data (the levels of the monotonic
predictor; the centre, boundary and basis of the Gaussian process) and re-applies it to new data
with ``evaluate``.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bayesformula.errors import FormulaError, PredictionError, did_you_mean

__all__ = [
    "HSGP_ARGUMENTS",
    "HSGPTerm",
    "MonotonicTerm",
    "SPECIAL_CALLS",
    "check_special_calls",
    "evaluate_special_terms",
    "hsgp_basis",
    "inverse_gamma_tails",
    "split_special_terms",
]

#: Calls that make terms of their own (not columns of X).
SPECIAL_CALLS = ("mo", "hsgp")

#: Keyword arguments of hsgp(), with Bambi's names.
HSGP_ARGUMENTS = (
    "m",
    "L",
    "c",
    "by",
    "cov",
    "share_cov",
    "scale",
    "iso",
    "centered",
    "drop_first",
)

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

#: Riutort-Mayol et al. (2022, section 4.3; also ``pymc.gp.hsgp_approx.approx_hsgp_hyperparams``):
#: ``m`` basis functions on ``[-L, L]`` represent lengthscales down to about ``a * L / m``.
SHORTEST_LENGTHSCALE = {"expquad": 1.75, "matern32": 3.42, "matern52": 2.65}

# brms's argument names, to point users to ours
_BRMS_NAMES = {"k": "m", "gr": "by", "scale": "scale"}


def _callee(component) -> str | None:
    call = getattr(component, "call", None)
    callee = getattr(call, "callee", None)
    return callee if callee in SPECIAL_CALLS else None


def _special_components(term) -> list:
    return [c for c in getattr(term, "components", []) or [] if _callee(c)]


# ------------------------------------------------------------------ syntax checks
def check_special_calls(description, text: str) -> None:
    """Check where ``mo()`` and ``hsgp()`` appear and what they are given, before evaluation.

    Raises
    ------
    FormulaError
        For a special call inside a group-specific term, in an interaction it cannot be part of,
        or with arguments it does not take.
    """
    from formulae.terms.call_resolver import LazyValue, LazyVariable

    for term in description.group_terms:
        for part in (term.expr, term.factor):
            found = _special_components(part)
            if found:
                raise FormulaError(
                    f"'{found[0].call}' cannot be used inside the group-specific term "
                    f"'({term.expr.name}|{term.factor.name})' of '{text}'. Use it as a common term "
                    "(for a monotonic effect per group, add a group-specific slope of the numeric "
                    "codes instead; for a Gaussian process per level use hsgp(..., by=g))."
                )
    for term in description.common_terms:
        found = _special_components(term)
        if not found:
            continue
        components = term.components
        for component in found:
            call = component.call
            if call.callee == "mo":
                _check_mo_call(call, LazyVariable)
            else:
                _check_hsgp_call(call, LazyVariable, LazyValue)
        if any(_callee(c) == "hsgp" for c in components) and len(components) > 1:
            raise FormulaError(
                f"hsgp() cannot be part of the interaction '{term.name}' in '{text}'. For a "
                "separate Gaussian process per level of a categorical column g, write "
                "hsgp(x, ..., by=g)."
            )
        if len(found) > 1 or len(components) > 2:
            raise FormulaError(
                f"the interaction '{term.name}' in '{text}' is not supported: a monotonic effect "
                "can interact with one numeric predictor only (mo(x):z). Model the other "
                "combinations with categorical terms, e.g. C(x):a."
            )


def _check_mo_call(call, LazyVariable) -> None:
    if len(call.args) != 1 or not isinstance(call.args[0], LazyVariable):
        raise FormulaError(
            f"'{call}': mo() takes one column name, as in mo(x) or "
            "mo(x, levels=['low', 'mid', 'high']); transform the column in the data frame first."
        )
    unknown = [k for k in call.kwargs if k != "levels"]
    if unknown:
        raise FormulaError(
            f"'{call}': mo() has no argument '{unknown[0]}'; its only option is levels=[...] "
            "(the order of the levels, lowest first)."
        )


def _check_hsgp_call(call, LazyVariable, LazyValue) -> None:
    if not call.args:
        raise FormulaError(
            f"'{call}': hsgp() needs at least one numeric predictor, as in hsgp(x, m=10, c=1.5)."
        )
    for key, value in call.kwargs.items():
        if key not in HSGP_ARGUMENTS:
            hint = (
                f" (brms's '{key}' is '{_BRMS_NAMES[key]}' here)"
                if key in _BRMS_NAMES and _BRMS_NAMES[key] != key
                else ""
            )
            raise FormulaError(
                did_you_mean(key, HSGP_ARGUMENTS, f"argument of hsgp() in '{call}'")
                + hint
                + f" hsgp() takes {', '.join(HSGP_ARGUMENTS)}."
            )
        if key == "cov" and not (isinstance(value, LazyValue) and isinstance(value.value, str)):
            raise FormulaError(
                f"'{call}': cov must be a quoted name, e.g. cov='matern32'; one of "
                "'expquad', 'matern32', 'matern52'."
            )
        if key == "by" and not isinstance(value, LazyVariable):
            raise FormulaError(f"'{call}': by must name a column of the data, e.g. by=g.")
    if "m" not in call.kwargs:
        raise FormulaError(
            f"'{call}': hsgp() needs the number of basis functions m, as in hsgp(x, m=10, c=1.5) "
            "(one value per predictor for several, m=[10, 10])."
        )
    if ("c" in call.kwargs) == ("L" in call.kwargs):
        raise FormulaError(
            f"'{call}': give hsgp() exactly one of c (the boundary as a multiple of half the data "
            "range, e.g. c=1.5) or L (the boundary itself)."
        )


def split_special_terms(description) -> list:
    """Remove the ``mo()``/``hsgp()`` terms from a formulae model description; return them."""
    special = [t for t in description.common_terms if _special_components(t)]
    for term in special:
        description.common_terms.remove(term)
    return special


# ------------------------------------------------------------------ helpers
def _plain(value) -> str:
    return repr(value.item() if hasattr(value, "item") else value)


def _rows(index, mask, values=None, limit: int = 5) -> str:
    where = np.flatnonzero(mask)[:limit]
    if values is None:
        return ", ".join(repr(index[i]) for i in where)
    return ", ".join(f"row {index[i]!r}: {_plain(values[i])}" for i in where)


def _numeric(values, what: str, where: str, index, error=FormulaError) -> np.ndarray:
    dtype = getattr(values, "dtype", None)
    if isinstance(dtype, pd.CategoricalDtype) or (
        dtype is not None and getattr(dtype, "kind", "O") not in "biuf"
    ):
        raise error(
            f"{what} in '{where}' must be numeric, but it is {dtype}. For a separate Gaussian "
            "process per level of a categorical column use by=..., for an ordered categorical "
            "predictor mo()."
        )
    try:
        out = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise error(f"{what} in '{where}' must be numeric.") from None
    if out.ndim != 1:
        raise error(f"{what} in '{where}' must be one column, got shape {out.shape}.")
    bad = ~np.isfinite(out)
    if bad.any():
        raise error(
            f"{what} in '{where}' has {int(bad.sum())} missing or infinite value(s) "
            f"(rows {_rows(index, bad)})."
        )
    return out


# ------------------------------------------------------------------ monotonic effects
@dataclass(frozen=True, eq=False)
class MonotonicTerm:
    """A monotonic effect ``mo(x)`` (optionally times a numeric predictor, ``mo(x):z``).

    Attributes
    ----------
    name : str
        The term as written by formulae (``"mo(x)"``, ``"mo(x):z"``); also the name of its
        coefficient ``b``.
    variable : str
        The ordered column.
    levels : tuple
        The ordered levels (lowest first); ``x`` is coded ``0, ..., D`` by position.
    labels : tuple of str
        The levels as strings.
    codes : ndarray
        ``(n,)`` level positions of the fitting data.
    other : str or None
        The numeric factor of an interaction (``"z"``), else None.
    z : ndarray or None
        ``(n,)`` values of ``other``.
    """

    name: str
    variable: str
    levels: tuple
    labels: tuple[str, ...]
    codes: np.ndarray = field(repr=False)
    other: str | None = None
    z: np.ndarray | None = field(default=None, repr=False)
    _component: Any = field(default=None, repr=False)
    _env: Any = field(default=None, repr=False)
    kind: str = "mo"

    @property
    def D(self) -> int:
        """Number of steps between adjacent levels (levels - 1)."""
        return len(self.levels) - 1

    @property
    def simplex_name(self) -> str:
        return f"{self.name}_simplex"

    @property
    def simplex_dim(self) -> str:
        return f"{self.name}_simplex_dim"

    @property
    def steps(self) -> tuple[str, ...]:
        """Labels of the simplex's entries: ``"low->mid"``, ``"mid->high"``, ..."""
        return tuple(f"{a}->{b}" for a, b in itertools.pairwise(self.labels))

    def coords(self) -> dict[str, list]:
        return {self.simplex_dim: list(self.steps)}

    @property
    def covariate(self) -> np.ndarray:
        """The term's column when the steps are equal (``codes``, times ``z``): its default
        prior is scaled like a common term's with this column."""
        codes = self.codes.astype(float)
        return codes if self.z is None else codes * self.z

    @property
    def arrays(self) -> dict[str, np.ndarray]:
        """The term's data: level codes and, for an interaction, the numeric factor."""
        out = {"codes": self.codes}
        if self.z is not None:
            out["z"] = self.z
        return out

    def state(self) -> dict[str, Any]:
        """What the term learned from the fitting data, JSON-ready (for saved models)."""
        return {"levels": list(self.labels), "other": self.other}

    def describe(self) -> str:
        shown = ", ".join(self.labels)
        return f"{self.name}: levels {shown} ({self.D} steps, simplex {self.simplex_name})"

    def evaluate(self, data: pd.DataFrame) -> dict[str, np.ndarray]:
        """The term's arrays for new data (levels must be among the fitted ones)."""
        if self.variable not in data.columns:
            raise PredictionError(
                f"new data lacks column '{self.variable}', which the term '{self.name}' uses."
            )
        codes = _encode_levels(
            data[self.variable], self.levels, self.variable, self.name, data.index, PredictionError
        )
        out = {"codes": codes}
        if self.other is not None:
            out["z"] = _numeric(
                _component_values(self._component, data, self._env, PredictionError),
                f"'{self.other}'",
                self.name,
                data.index,
                PredictionError,
            )
        return out


def _component_values(component, data, env, error):
    try:
        if hasattr(component, "call"):
            return component.call.eval(data, env)
        return data[component.name]
    except KeyError as err:
        raise error(f"new data lacks column {err}.") from None


def _encode_levels(values, levels, variable, name, index, error) -> np.ndarray:
    """Positions of ``values`` among ``levels``; values outside them are an error."""
    raw = np.asarray(values, dtype=object)
    missing = np.asarray(pd.isna(raw), dtype=bool)
    if missing.any():
        raise error(
            f"'{variable}' has {int(missing.sum())} missing value(s) in '{name}' (rows "
            f"{_rows(index, missing)})."
        )
    numeric_levels = all(
        isinstance(v, int | float | np.number) and not isinstance(v, bool) for v in levels
    )
    if numeric_levels:
        try:
            as_float = np.asarray(raw, dtype=float)
        except (TypeError, ValueError):
            as_float = None
        if as_float is not None:
            raw = np.where(
                as_float == np.round(as_float), as_float.round().astype(np.int64), as_float
            ).astype(object)
    codes = pd.Index(list(levels), dtype=object).get_indexer(raw)
    unseen = codes < 0
    if unseen.any():
        found = list(dict.fromkeys(_plain(v) for v in raw[unseen]))[:10]
        known = ", ".join(map(_plain, levels))
        if error is PredictionError:
            raise PredictionError(
                f"new data has values of '{variable}' that are not levels of '{name}': "
                f"{', '.join(found)} (rows {_rows(index, unseen)}). Predictions can only use the "
                f"levels the model was built with: {known}."
            )
        raise FormulaError(
            f"'{variable}' has values that are not among the levels of '{name}': "
            f"{', '.join(found)} (rows {_rows(index, unseen)}); the levels are {known}. List every "
            "level in levels=[...]."
        )
    return codes.astype(np.int64)


def _monotonic_levels(values, dtype, levels_arg, variable: str, name: str, index) -> tuple:
    if levels_arg is not None:
        levels = list(np.atleast_1d(np.asarray(levels_arg, dtype=object)))
        if len(set(map(repr, levels))) != len(levels):
            raise FormulaError(f"levels=[...] in '{name}' lists a level twice: {levels}.")
        return tuple(v.item() if hasattr(v, "item") else v for v in levels)
    if isinstance(dtype, pd.CategoricalDtype):
        if not dtype.ordered:
            cats = list(dtype.categories)
            raise FormulaError(
                f"'{name}' needs the order of the levels of '{variable}', but it is an unordered "
                f"categorical (categories {cats}). Make it ordered, e.g. df['{variable}'] = "
                f"pd.Categorical(df['{variable}'], categories={cats}, ordered=True), or list the "
                f"levels lowest first: mo({variable}, levels={cats})."
            )
        return tuple(v.item() if hasattr(v, "item") else v for v in dtype.categories)
    kind = getattr(dtype, "kind", "O")
    if kind in "biuf":
        x = np.asarray(values, dtype=float)
        bad = (x < 0) | (x != np.round(x))
        if bad.any():
            raise FormulaError(
                f"'{name}' needs whole numbers 0, 1, 2, ... in '{variable}' (0 is the lowest "
                f"level); found {int(bad.sum())} other value(s) ({_rows(index, bad, x)}). Recode "
                f"the column, or make it an ordered categorical."
            )
        return tuple(range(int(x.max()) + 1))
    found = sorted(map(str, pd.unique(np.asarray(values, dtype=object))))[:10]
    raise FormulaError(
        f"'{name}' needs the order of the levels of '{variable}', which holds {dtype} values "
        f"({found}). Make it an ordered categorical (pd.Categorical(..., categories=[...], "
        f"ordered=True)) or list the levels lowest first: mo({variable}, levels={found})."
    )


def _make_monotonic(term, name: str, data, env, dtypes) -> MonotonicTerm:
    mo = next(c for c in term.components if _callee(c) == "mo")
    call = mo.call
    variable = call.args[0].name
    if variable not in data.columns:
        raise FormulaError(f"'{name}': '{variable}' is not a column of the data.")
    levels_arg = call.kwargs["levels"].eval(data, env) if "levels" in call.kwargs else None
    levels = _monotonic_levels(
        data[variable], dtypes.get(variable), levels_arg, variable, name, data.index
    )
    if len(levels) < 2:
        raise FormulaError(
            f"'{name}' needs at least two levels of '{variable}', found {list(levels)}."
        )
    codes = _encode_levels(data[variable], levels, variable, name, data.index, FormulaError)
    other = next((c for c in term.components if c is not mo), None)
    z = None
    if other is not None:
        dtype = None if hasattr(other, "call") else dtypes.get(other.name)
        if dtype is not None and (
            isinstance(dtype, pd.CategoricalDtype) or getattr(dtype, "kind", "O") not in "biuf"
        ):
            raise FormulaError(
                f"the interaction '{name}' of a monotonic effect with the categorical "
                f"'{other.name}' is not supported; interact it with numeric predictors only, or "
                f"fit mo() per level with separate models."
            )
        z = _numeric(
            _component_values(other, data, env, FormulaError), f"'{other.name}'", name, data.index
        )
    return MonotonicTerm(
        name=name,
        variable=variable,
        levels=levels,
        labels=tuple(str(v) for v in levels),
        codes=codes,
        other=None if other is None else str(other.name),
        z=z,
        _component=other,
        _env=env,
    )


# ------------------------------------------------------------------ Gaussian processes
def basis_indices(m: tuple[int, ...]) -> np.ndarray:
    """``(prod(m), d)`` indices ``j`` of the basis functions (the first variable's varies
    slowest)."""
    return np.array(list(itertools.product(*(range(1, k + 1) for k in m))), dtype=np.int64)


def hsgp_basis(xs: np.ndarray, L: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Laplacian eigenfunctions on ``[-L, L]`` at centred inputs.

    Parameters
    ----------
    xs : ndarray
        ``(n, d)`` inputs minus the centre of the domain.
    L : ndarray
        ``(d,)`` boundary, or ``(n, d)`` one per row.
    indices : ndarray
        ``(M, d)`` positive integers ``j`` (see `basis_indices`).

    Returns
    -------
    ndarray
        ``(n, M)``: ``prod_d sin(pi j_d (x_d + L_d) / (2 L_d)) / sqrt(L_d)``.
    """
    xs = np.atleast_2d(np.asarray(xs, dtype=float))
    L = np.broadcast_to(np.asarray(L, dtype=float), xs.shape)
    phi = np.ones((xs.shape[0], indices.shape[0]))
    for d in range(xs.shape[1]):
        omega = np.pi * indices[None, :, d] / (2.0 * L[:, d, None])
        phi *= np.sin(omega * (xs[:, d, None] + L[:, d, None])) / np.sqrt(L[:, d, None])
    return phi


def _max_distance(X: np.ndarray) -> float:
    """Largest Euclidean distance between two rows of ``X``."""
    if X.shape[1] == 1:
        return float(np.ptp(X[:, 0]))
    points = np.unique(X, axis=0)
    if len(points) > 3:
        try:
            from scipy.spatial import ConvexHull

            points = points[ConvexHull(points).vertices]
        except Exception:  # noqa: BLE001 - degenerate (e.g. collinear) points: no hull
            if len(points) > 4000:  # the bounding box's diagonal bounds the distance above
                return float(np.linalg.norm(np.ptp(points, axis=0)))
    from scipy.spatial.distance import pdist

    return float(pdist(points).max()) if len(points) > 1 else 0.0


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
            try:
                values = arg.eval(data, self._env)
            except KeyError as err:
                raise error(f"new data lacks column {err}, which '{self.name}' uses.") from None
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
        key: (None if key == "by" else value.eval(data, env)) for key, value in call.kwargs.items()
    }
    columns = [
        _numeric(arg.eval(data, env), f"'{arg}'", name, data.index, FormulaError)
        for arg in call.args
    ]
    X = np.column_stack(columns)
    d = X.shape[1]

    m_values = _per_variable(kwargs["m"], d, "m", name)
    if np.any(m_values < 1) or np.any(m_values != np.round(m_values)):
        raise FormulaError(f"'{name}': m must be whole numbers >= 1, got {kwargs['m']!r}.")
    m = tuple(int(v) for v in m_values)
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
                stacklevel=5,
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
                stacklevel=5,
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


def evaluate_special_terms(terms, data: pd.DataFrame, env, dtypes, rename) -> tuple:
    """Evaluate ``mo()``/``hsgp()`` terms on the fitting data.

    Parameters
    ----------
    terms : list
        formulae terms returned by `split_special_terms`.
    data : pandas.DataFrame
        The fitting data (missing values already handled).
    env : formulae Environment
        Where the formula's names resolve.
    dtypes : dict
        Column -> dtype as the user gave it (before categories were made ordered).
    rename : callable
        Maps formulae's term name to the displayed one (list literals restored).

    Returns
    -------
    tuple of MonotonicTerm and HSGPTerm
    """
    out = []
    for term in terms:
        name = rename(term.name)
        kinds = {_callee(c) for c in term.components} - {None}
        if "hsgp" in kinds:
            out.append(_make_hsgp(term, name, data, env, dtypes))
        else:
            out.append(_make_monotonic(term, name, data, env, dtypes))
    return tuple(out)


def inverse_gamma_tails(lower: float, upper: float, tail: float = 0.01) -> tuple[float, float]:
    """``(alpha, beta)`` of the InverseGamma with ``tail`` probability below ``lower`` and
    ``tail`` above ``upper``.

    With ``X = 1 / G`` and ``G ~ Gamma(alpha, rate=beta)``, the quantiles of ``X`` are
    ``beta / q`` for quantiles ``q`` of ``Gamma(alpha, 1)``; ``alpha`` solves
    ``q(1 - tail) / q(tail) = upper / lower`` (the ratio falls as ``alpha`` grows) and
    ``beta = q(1 - tail) * lower``.
    """
    from scipy.optimize import brentq
    from scipy.special import gammaincinv

    if not 0 < lower < upper:
        raise ValueError(f"need 0 < lower < upper, got {lower}, {upper}")
    target = np.log(upper / lower)

    def gap(log_alpha):
        a = np.exp(log_alpha)
        return np.log(gammaincinv(a, 1 - tail)) - np.log(gammaincinv(a, tail)) - target

    # the ratio of quantiles is finite from alpha = 0.05 (ratios up to about 1e40) to 1e6
    alpha = float(np.exp(brentq(gap, np.log(0.05), np.log(1e6), xtol=1e-12)))
    beta = float(gammaincinv(alpha, 1 - tail) * lower)
    return alpha, beta
