"""Data at the edges of what default priors can scale to, found before anything is sampled.

* `check_constant_columns`: a common-term column with one value in every row is an error when
  the model has an intercept (or thresholds in its place): its coefficient cannot be told apart
  from the intercept, so its posterior would be its prior and the intercept's would be
  distorted. A column that is 0 in every row (a level or a combination of levels that never
  occurs) does not touch the likelihood: its coefficient is its prior, with a warning.
* `is_constant` and `constant_scale`: a response or column with one value has no spread to
  scale priors by; the value's magnitude (or 1 for zero) stands in for it, so that default
  prior scales are always finite and positive.
* `find_separation`: complete or quasi-complete separation of binary and binomial outcomes
  (Albert and Anderson, 1984): a direction of the predictors along which every success lies
  on one side and every failure on the other. The likelihood then keeps growing as the
  coefficients grow, so their posterior is governed by the prior. Each column is checked for a
  threshold (or, for an indicator column, a level) that separates the outcomes; a linear
  program over all columns finds separation by a combination of them (Konis, 2007).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bayesformula.errors import DataError
from bayesformula.log import logger

__all__ = [
    "Separation",
    "check_constant_columns",
    "constant_scale",
    "describe_separation",
    "find_separation",
    "is_constant",
]

#: Likelihoods whose outcomes can be separated (successes out of trials, no extra zeros).
SEPARABLE = frozenset({"Bernoulli", "Binomial", "BetaBinomial"})

#: The linear program runs when the design has at most this many cells (rows x columns).
LP_MAX_CELLS = 200_000

_TOL = 1e-9


def is_constant(values: np.ndarray) -> np.ndarray:
    """Whether each column of ``values`` (or the 1-d array itself) has one value in every row.

    Exact: ``np.std`` of a constant float column is often a rounding error such as 1.4e-17,
    not 0, which would make a data-scaled prior scale absurdly small or large.
    """
    values = np.asarray(values, dtype=float)
    if values.shape[0] == 0:
        return np.ones(values.shape[1:], dtype=bool)
    return np.ptp(values, axis=0) == 0


def constant_scale(value: float) -> float:
    """The scale standing in for the spread of a constant: its magnitude, or 1 for 0."""
    value = abs(float(value))
    return value if np.isfinite(value) and value > 0 else 1.0


def _fmt(value: float) -> str:
    return f"{float(value):.6g}"


def check_constant_columns(design, has_intercept: bool, where: str = "") -> None:
    """Raise `DataError` for a common-term column of ``design`` that is constant (and not 0)
    when the model has an intercept (``has_intercept``); warn for a column that is 0 in every
    row.

    Parameters
    ----------
    design : Design
        The design of the main formula or of an auxiliary parameter's formula.
    has_intercept : bool
        Whether the linear predictor has an intercept or thresholds in its place.
    where : str
        Prefix for the message, e.g. "in the formula for sigma, ".
    """
    X = np.asarray(design.X, dtype=float)
    if X.ndim != 2 or X.shape[0] < 2:
        return
    constant = is_constant(X)
    if not constant.any():
        return
    n = X.shape[0]
    for term in design.common_terms:
        for offset, label in enumerate(term.columns):
            j = term.slice.start + offset
            if not constant[j]:
                continue
            value = X[0, j]
            alone = len(term.columns) == 1 and term.kind != "categoric"
            what = f"column '{label}'" + ("" if alone else f" of term '{term.name}'")
            if value == 0:
                logger.warning(
                    "%s%s is 0 in all %d rows (a level or combination of levels that never "
                    "occurs?), so the data say nothing about its coefficient: its estimate is "
                    "its prior, and so are predictions for rows where it is not 0.",
                    where,
                    what,
                    n,
                )
                continue
            if has_intercept:
                raise DataError(
                    f"{where}{what} is constant (value {float(value)!r} in all {n} rows); its "
                    "slope cannot be estimated beside the intercept; drop it from the formula."
                )


# ----------------------------------------------------------------------------- separation
@dataclass(frozen=True)
class Separation:
    """One way the outcomes are separated.

    Attributes
    ----------
    predictors : tuple of str
        The design columns involved (``"x"``, ``"a[hi]"``); empty when every outcome is the
        same (the intercept alone separates them).
    terms : tuple of str
        The terms owning those columns (the names of their coefficients).
    complete : bool
        Complete separation (no row on the boundary) rather than quasi-complete.
    detail : str
        What separates them, in words.
    """

    predictors: tuple[str, ...]
    terms: tuple[str, ...]
    complete: bool
    detail: str


def _labels(response) -> tuple[np.ndarray, np.ndarray]:
    """``(sign, keep)``: +1 for rows that are all successes, -1 for all failures, 0 for
    mixed rows (binomial rows with some of each); ``keep`` drops rows with no trials."""
    y = np.asarray(response.values, dtype=float)
    if response.trials is None:
        return np.where(y > 0, 1.0, -1.0), np.ones(y.shape, dtype=bool)
    trials = np.asarray(response.trials, dtype=float)
    sign = np.where(y >= trials, 1.0, np.where(y <= 0, -1.0, 0.0))
    return sign, trials > 0


def _columns(design):
    """``(label, term name, is indicator)`` of each column of the design's X."""
    out = []
    for term in design.common_terms:
        for label in term.columns:
            out.append((label, term.name, term.kind == "categoric"))
    return out


def _threshold(x: np.ndarray, sign: np.ndarray) -> tuple[str, float, float] | None:
    """A threshold of ``x`` separating the outcomes: ``(direction, low, high)`` with every
    row above ``high`` a success and every row below ``low`` a failure (``direction`` "up"),
    or the reverse ("down"); ``low == high`` is quasi-complete separation."""
    for direction, s in (("up", sign), ("down", -sign)):
        low = np.max(x[s < 1])  # rows that are not successes (failures, mixed) lie at or below
        high = np.min(x[s > -1])  # rows that are not failures lie at or above
        if low <= high:
            return direction, float(low), float(high)
    return None


def _column_separation(x, sign, label, term, indicator, words) -> Separation | None:
    """Separation by one column ``x``; ``words`` maps 1 and 0 to the outcomes in words."""
    found = _threshold(x, sign)
    if found is None:
        return None
    direction, low, high = found
    success, failure = (words[1], words[0]) if direction == "up" else (words[0], words[1])
    complete = low < high
    if indicator:  # x is 0 or 1: a level whose rows (or whose absence) fix the outcome
        if complete:
            detail = f"all rows with {label} have {success}, all others {failure}"
        elif high == 0:
            detail = f"all {int(np.sum(x == 1))} rows with {label} have {success}"
        else:
            detail = f"all {int(np.sum(x == 0))} rows without {label} have {failure}"
    elif complete:
        detail = (
            f"every row with {label} >= {_fmt(high)} has {success} and every row with "
            f"{label} <= {_fmt(low)} has {failure}"
        )
    else:
        detail = (
            f"every row with {label} > {_fmt(low)} has {success} and every row with {label} < "
            f"{_fmt(low)} has {failure} (rows at {_fmt(low)} have either)"
        )
    return Separation((label,), (term,), complete, detail)


def _lp_direction(Z: np.ndarray, sign: np.ndarray) -> np.ndarray | None:
    """A direction ``b`` with ``sign * (Z @ b) >= 0`` on labelled rows, ``Z @ b == 0`` on
    mixed rows and a positive total margin, or None (Konis, 2007)."""
    from scipy.optimize import linprog

    labelled = sign != 0
    scale = np.max(np.abs(Z), axis=0)
    scale[scale == 0] = 1.0
    Zs = Z / scale
    A_ub = -(sign[labelled, None] * Zs[labelled])
    mixed = ~labelled
    result = linprog(
        c=A_ub.sum(axis=0),
        A_ub=A_ub,
        b_ub=np.zeros(A_ub.shape[0]),
        A_eq=Zs[mixed] if mixed.any() else None,
        b_eq=np.zeros(int(mixed.sum())) if mixed.any() else None,
        bounds=[(-1.0, 1.0)] * Z.shape[1],
        method="highs",
    )
    if result.status != 0 or -result.fun <= 1e-7:
        return None
    b = np.where(np.abs(result.x) > 1e-7, result.x, 0.0)
    margins = Zs @ b
    if np.any(sign[labelled] * margins[labelled] < -1e-7) or np.any(np.abs(margins[mixed]) > 1e-7):
        return None  # the solver's tolerance let a violated constraint through
    return b


def find_separation(design, response, family, response_name: str = "y") -> tuple[Separation, ...]:
    """Complete or quasi-complete separation of the outcomes of a binary or binomial model.

    Parameters
    ----------
    design : Design
    response : ResponseData
    family : Family
        Only families whose likelihood is in `SEPARABLE` are checked (others return ``()``).
    response_name : str
        Used in the descriptions.

    Returns
    -------
    tuple of Separation
        One per separating column; if none separates alone but a combination does, one for
        the combination; ``()`` when the outcomes are not separated.
    """
    if family.likelihood not in SEPARABLE or response.values is None:
        return ()
    sign, keep = _labels(response)
    if sign.ndim != 1:
        return ()
    X = np.asarray(design.X, dtype=float)[keep] if design.X is not None else None
    sign = sign[keep]
    if sign.size < 2:
        return ()
    if response.trials is None:
        words = {1: f"{response_name} = 1", 0: f"{response_name} = 0"}
    else:
        words = {1: "only successes", 0: "only failures"}
    if np.all(sign == 1) or np.all(sign == -1):
        return (
            Separation(
                (),
                ("Intercept",) if design.intercept else (),
                True,
                f"every row has {words[1] if sign[0] == 1 else words[0]}",
            ),
        )
    if not np.any(sign == 1) or not np.any(sign == -1):
        return ()  # only mixed rows and one kind: nothing separates them
    columns = _columns(design) if X is not None and X.ndim == 2 else []
    found = []
    if design.intercept:
        for j, (label, term, indicator) in enumerate(columns):
            x = X[:, j]
            if np.ptp(x) == 0:
                continue
            record = _column_separation(x, sign, label, term, indicator, words)
            if record is not None:
                found.append(record)
    if found or not columns or X.size > LP_MAX_CELLS:
        return tuple(found)
    Z = np.column_stack([np.ones(len(sign)), X]) if design.intercept else X
    b = _lp_direction(Z, sign)
    if b is None:
        return ()
    weights = b[1:] if design.intercept else b
    involved = [columns[j] for j in np.flatnonzero(weights)]
    if not involved:
        return ()
    complete = bool(np.all(sign != 0) and np.all(sign * (Z @ b) > _TOL))
    names = ", ".join(label for label, _, _ in involved)
    return (
        Separation(
            tuple(label for label, _, _ in involved),
            tuple(dict.fromkeys(term for _, term, _ in involved)),
            complete,
            f"a combination of {names} is larger for every row with {words[1]} than for every "
            f"row with {words[0]}",
        ),
    )


def describe_separation(records: tuple[Separation, ...]) -> str:
    """One paragraph naming each separation and what it means for the estimates."""
    parts = []
    for record in records:
        kind = "complete" if record.complete else "quasi-complete"
        if record.predictors:
            names = ", ".join(f"'{p}'" for p in record.predictors)
            parts.append(f"{kind} separation by {names}: {record.detail}")
        else:
            parts.append(f"{kind} separation: {record.detail}")
    terms = sorted({t for r in records for t in r.terms})
    governed = ", ".join(f"'{t}'" for t in terms) or "the intercept"
    one = len(terms) <= 1
    return (
        "; ".join(parts)
        + f". The likelihood keeps growing as the coefficient{'' if one else 's'} of "
        + f"{governed} grow{'s' if one else ''} without bound, so {'its' if one else 'their'} "
        + f"estimate{'' if one else 's'} {'is' if one else 'are'} governed by the prior, not by "
        + f"the data: report {'it' if one else 'them'} as such, or set an informative prior."
    )
