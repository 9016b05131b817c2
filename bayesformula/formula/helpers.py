"""Response helpers: ``censored()``, ``truncated()``, ``constrained()`` and ``weighted()``.

    censored(time, status) ~ x              status per row: "none", "left" or "right"
    censored(lower, upper, status) ~ x      plus "interval": the value lies in [lower, upper]
    truncated(y, lb=0) ~ x                  y is only observed within [lb, ub]
    truncated(y, -5, 5) ~ x                 the same, bounds by position (lb, ub), as in Bambi
    constrained(y, 0, 1) ~ x                Bambi's bounded response: truncated() with numbers
    weighted(y, w) ~ x                      row i's log-likelihood counts w[i] times

Bambi's ``constrained()`` is its ``truncated()`` with numbers as bounds, whose draws and
pointwise log-likelihood also respect the bounds; bayesformula's ``truncated()`` always does, so
the two give the same model (a truncated helper with `ResponseHelper.constrained` set).

The helper is taken off the formula before formulae sees it: its first argument is the
response formulae evaluates (a column or an expression such as ``np.log(y)``); the other
arguments are data columns or numbers (status columns hold strings, or -1/0/1 for
left/none/right as in Bambi and brms, or 2 for interval). Nothing in them is executed.
"""

from __future__ import annotations

import ast
import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayesformula.errors import FormulaError, PredictionError, ResponseError
from bayesformula.formula.limits import check_nesting

__all__ = ["HELPERS", "ResponseHelper", "evaluate_helper", "split_response_helper"]

HELPERS = ("censored", "truncated", "constrained", "weighted")
STATUS_CODES = {"none": 0, "left": -1, "right": 1, "interval": 2}
_NUMERIC_STATUS = {0: "none", -1: "left", 1: "right", 2: "interval"}


@dataclass(frozen=True)
class HelperSpec:
    """A parsed helper call: its kind, the response text and the other arguments."""

    kind: str
    response: str
    args: tuple  # column names (str) or numbers, after the response
    kwargs: dict
    text: str


@dataclass(frozen=True)
class ResponseHelper:
    """What a helper adds to the likelihood, one value per observation.

    Attributes
    ----------
    kind : {"censored", "truncated", "weighted"}
        ``constrained()`` is ``"truncated"`` (with `constrained` set).
    status : ndarray of int or None
        Censoring per row: 0 none, -1 left, 1 right, 2 interval (`STATUS_CODES`).
    upper : ndarray or None
        Upper end of interval-censored rows (NaN elsewhere).
    lower_bound, upper_bound : ndarray or None
        Truncation bounds (``-inf`` / ``inf`` where absent).
    weights : ndarray or None
    text : str
        The helper as written, for messages and printing.
    bound_args : tuple
        The truncation bounds as written (column names or numbers), for new data.
    columns : tuple of str
        The data columns the helper reads (kept by `bayesformula.save`).
    constrained : bool
        Written as Bambi's ``constrained()`` (fixed bounds).
    """

    kind: str
    text: str
    status: np.ndarray | None = None
    upper: np.ndarray | None = None
    lower_bound: np.ndarray | None = None
    upper_bound: np.ndarray | None = None
    weights: np.ndarray | None = None
    bound_args: tuple = (-np.inf, np.inf)
    columns: tuple[str, ...] = ()
    constrained: bool = False

    def truncation_for(self, data: pd.DataFrame | None, n: int):
        """Truncation bounds ``(lower, upper)`` for prediction rows: the fitted rows when
        ``data`` is None, otherwise from ``data``'s bound columns (or the fixed numbers)."""
        if self.kind != "truncated":
            return None
        if data is None:
            return self.lower_bound, self.upper_bound
        out = []
        for arg in self.bound_args:
            if isinstance(arg, str):
                if arg not in data.columns:
                    raise PredictionError(
                        f"the model's response is {self.text}; new data needs the bound "
                        f"column '{arg}' for responses to respect it."
                    )
                out.append(data[arg].to_numpy(dtype=float))
            else:
                out.append(np.full(n, float(arg)))
        return out[0], out[1]

    def describe(self) -> str:
        """One line for the model's printout."""
        if self.kind == "censored":
            counts = {name: int(np.sum(self.status == code)) for name, code in STATUS_CODES.items()}
            shown = ", ".join(f"{v} {k}" for k, v in counts.items() if v)
            return f"{self.text}: {shown}"
        if self.kind == "truncated":
            lo, hi = np.unique(self.lower_bound), np.unique(self.upper_bound)
            lo_text = f"{lo[0]:g}" if lo.size == 1 else "per row"
            hi_text = f"{hi[0]:g}" if hi.size == 1 else "per row"
            return f"{self.text}: observed within [{lo_text}, {hi_text}]"
        return f"{self.text}: weights from {np.min(self.weights):g} to {np.max(self.weights):g}"


def split_response_helper(formula: str) -> tuple[str, HelperSpec | None]:
    """Take a response helper off ``formula``; return the plain formula and the helper."""
    if "~" not in formula:
        return formula, None
    lhs, rhs = formula.split("~", 1)
    text = lhs.strip()
    head = text.split("(", 1)[0].strip()
    if head not in HELPERS:
        return formula, None
    check_nesting(text)
    try:
        call = ast.parse(text, mode="eval").body
        response = ast.unparse(call.args[0]) if isinstance(call, ast.Call) and call.args else ""
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise FormulaError(
            f"could not read the response '{text}'; write it as {head}(y, ...) with columns "
            "or numbers as the other arguments."
        ) from None
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
        raise FormulaError(f"could not read the response '{text}'.")
    if not call.args:
        raise FormulaError(f"{head}() needs the response as its first argument: '{text}'.")
    args = tuple(_literal(a, text) for a in call.args[1:])
    kwargs = {k.arg: _literal(k.value, text) for k in call.keywords}
    spec = HelperSpec(kind=head, response=response, args=args, kwargs=kwargs, text=text)
    if head in ("truncated", "constrained"):
        spec = _named_bounds(spec)
    _check_signature(spec)
    return f"{spec.response} ~{rhs}", spec


def _literal(node, text: str):
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float | str):
        return node.value if not isinstance(node.value, str) else ("str", node.value)
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, int | float)
    ):
        return -node.operand.value
    raise FormulaError(
        f"in '{text}', '{ast.unparse(node)}' must be a data column or a number; put an "
        "expression in a column of its own first."
    )


def _named_bounds(spec: HelperSpec) -> HelperSpec:
    """``truncated(y, lb, ub)``: bounds given by position as the keywords ``lb`` and ``ub``
    (Bambi's signature ``truncated(x, lb=None, ub=None)``)."""
    if len(spec.args) > 2:
        raise FormulaError(
            f"{spec.kind}() takes {spec.kind}(y, lb, ub): the response and at most two bounds; "
            f"got '{spec.text}'."
        )
    kwargs = dict(spec.kwargs)
    for key, value in zip(("lb", "ub"), spec.args, strict=False):
        if key in kwargs:
            raise FormulaError(f"'{spec.text}' gives {key} twice, by position and as {key}=.")
        kwargs[key] = value
    return dataclasses.replace(spec, args=(), kwargs=kwargs)


def _check_signature(spec: HelperSpec) -> None:
    n, keys = len(spec.args), set(spec.kwargs)
    if spec.kind == "censored":
        if n not in (1, 2) or keys:
            raise FormulaError(
                f"censored() takes censored(y, status) or censored(lower, upper, status); got "
                f"'{spec.text}'."
            )
    elif spec.kind in ("truncated", "constrained"):
        what = "a number or a column" if spec.kind == "truncated" else "a number"
        if n or not keys or not keys <= {"lb", "ub"}:
            raise FormulaError(
                f"{spec.kind}() takes {spec.kind}(y, lb, ub) or {spec.kind}(y, lb=..., ub=...) "
                f"with at least one bound ({what}); got '{spec.text}'."
            )
        if spec.kind == "constrained" and any(isinstance(v, str) for v in spec.kwargs.values()):
            raise FormulaError(
                f"constrained() takes numbers as bounds, as in Bambi; got '{spec.text}'. For "
                "bounds that change from row to row write truncated(y, lb=column, ub=column)."
            )
    elif n != 1 or keys:
        raise FormulaError(f"weighted() takes weighted(y, weights); got '{spec.text}'.")


def _values(arg, data: pd.DataFrame, index: pd.Index, spec: HelperSpec, what: str) -> np.ndarray:
    """A column (rows of the design) or a number, as an array over the observations."""
    if isinstance(arg, tuple) and what == "the status":  # the same status for every row
        return np.full(len(index), arg[1], dtype=object)
    if isinstance(arg, tuple):  # a string literal
        raise FormulaError(
            f"in '{spec.text}', {what} must be a column or a number, got {arg[1]!r}."
        )
    if isinstance(arg, str):
        if arg not in data.columns:
            raise FormulaError(
                f"'{arg}' in '{spec.text}' is not a column of the data; columns are "
                f"{list(map(str, data.columns))}."
            )
        column = data.loc[index, arg]
        if column.isna().any():
            rows = list(column.index[column.isna()][:5])
            raise ResponseError(
                f"{what} '{arg}' in '{spec.text}' is missing for rows {rows}; drop or fill them."
            )
        return column.to_numpy()
    return np.full(len(index), float(arg))


def _status(values: np.ndarray, spec: HelperSpec, index: pd.Index) -> np.ndarray:
    series = pd.Series(values, dtype=object)
    codes = series.map(lambda v: STATUS_CODES.get(v) if isinstance(v, str) else None)
    numeric = pd.to_numeric(series.where(codes.isna()), errors="coerce")
    codes = codes.fillna(numeric.where(numeric.isin(list(_NUMERIC_STATUS))))
    bad = np.flatnonzero(codes.isna().to_numpy())
    if bad.size:
        raise ResponseError(
            f"censoring status {values[bad[0]]!r} in row {index[bad[0]]!r} of '{spec.text}' is "
            'not one of "none", "left", "right", "interval" (or -1, 0, 1, 2)'
            + (f"; {bad.size - 1} more row(s) too." if bad.size > 1 else ".")
        )
    return codes.to_numpy(dtype=np.int64)


def evaluate_helper(
    spec: HelperSpec, data: pd.DataFrame, index: pd.Index, y: np.ndarray
) -> ResponseHelper:
    """The helper's arrays over the design's observations (``index``) with response ``y``."""
    y = np.asarray(y, dtype=float)
    helper = _evaluate(spec, data, index, y)
    columns = tuple(
        a for a in (*spec.args, *spec.kwargs.values()) if isinstance(a, str) and a in data.columns
    )
    return dataclasses.replace(helper, columns=columns)


def _evaluate(spec: HelperSpec, data: pd.DataFrame, index: pd.Index, y: np.ndarray):
    if spec.kind == "weighted":
        w = np.asarray(_values(spec.args[0], data, index, spec, "the weights"), dtype=float)
        bad = ~np.isfinite(w) | (w < 0)
        if bad.any():
            raise ResponseError(
                f"weights in '{spec.text}' must be finite and >= 0; rows "
                f"{list(index[bad][:5])} are not."
            )
        return ResponseHelper(kind="weighted", text=spec.text, weights=w)
    if spec.kind in ("truncated", "constrained"):
        lb = spec.kwargs.get("lb", -np.inf)
        ub = spec.kwargs.get("ub", np.inf)
        lower = np.asarray(_values(lb, data, index, spec, "lb"), dtype=float)
        upper = np.asarray(_values(ub, data, index, spec, "ub"), dtype=float)
        bad = (y < lower) | (y > upper)
        if bad.any():
            rows = list(index[bad][:5])
            raise ResponseError(
                f"'{spec.text}': the response lies outside the truncation bounds in rows {rows}; "
                "a truncated response is only observed within [lb, ub]."
            )
        if np.any(lower >= upper):
            raise ResponseError(f"'{spec.text}': lb must be below ub.")
        return ResponseHelper(
            kind="truncated",
            text=spec.text,
            lower_bound=lower,
            upper_bound=upper,
            bound_args=(lb, ub),
            constrained=spec.kind == "constrained",
        )
    status_arg = spec.args[-1]
    status = _status(_values(status_arg, data, index, spec, "the status"), spec, index)
    upper = np.full(len(y), np.nan)
    if len(spec.args) == 2:
        upper = np.asarray(_values(spec.args[0], data, index, spec, "upper"), dtype=float)
        interval = status == STATUS_CODES["interval"]
        bad = interval & ~(upper > y)
        if bad.any():
            raise ResponseError(
                f"'{spec.text}': interval-censored rows need lower < upper; rows "
                f"{list(index[bad][:5])} do not."
            )
        upper = np.where(interval, upper, np.nan)
    elif np.any(status == STATUS_CODES["interval"]):
        raise ResponseError(
            f"'{spec.text}' has interval-censored rows; write censored(lower, upper, status) "
            "to give each interval's upper end."
        )
    return ResponseHelper(kind="censored", text=spec.text, status=status, upper=upper)
