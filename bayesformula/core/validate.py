"""Checks of public arguments: each returns the normalised value or raises a typed error that
names the function, the argument, the value given and what is allowed.

Every public entry point (``Model``, ``fit``, ``predict``, tables, plots, ``save``/``load``, the
CLI) checks its arguments here before any work starts, so a bad argument is never found after
a long fit, nor surfaces as a raw numpy or xarray error.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from bayesformula.errors import ArgumentError, ArgumentTypeError, did_you_mean

__all__ = [
    "check_bool",
    "check_choice",
    "check_int",
    "check_number",
    "check_prob",
    "check_seed",
    "check_names",
]


def _where(where: str, name: str) -> str:
    return f"{where}: {name}" if where else name


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_bool(value: Any, name: str, where: str = "", *, allow_none: bool = False):
    """``value`` as a bool; True/False (or numpy booleans) only, None if ``allow_none``."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    allowed = "True, False or None" if allow_none else "True or False"
    raise ArgumentTypeError(f"{_where(where, name)} must be {allowed}, got {_short(value)}.")


def check_int(
    value: Any,
    name: str,
    where: str = "",
    *,
    minimum: int | None = 0,
    maximum: int | None = None,
    allow_none: bool = False,
) -> int | None:
    """``value`` as an int within ``[minimum, maximum]``; whole floats (``1e3``) are accepted,
    booleans are not."""
    if value is None and allow_none:
        return None
    label = _where(where, name)
    bound = ""
    if minimum is not None and maximum is not None:
        bound = f" between {minimum} and {maximum}"
    elif minimum is not None:
        bound = f" >= {minimum}"
    elif maximum is not None:
        bound = f" <= {maximum}"
    none = " (or None)" if allow_none else ""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(f"{label} must be an integer{bound}{none}, got {_short(value)}.")
    if isinstance(value, numbers.Integral):
        number = int(value)
    elif math.isfinite(float(value)) and float(value).is_integer():
        number = int(value)
    else:
        raise ArgumentTypeError(f"{label} must be an integer{bound}{none}, got {_short(value)}.")
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise ArgumentError(f"{label} must be an integer{bound}{none}, got {_short(value)}.")
    return number


def check_number(
    value: Any,
    name: str,
    where: str = "",
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    allow_none: bool = False,
) -> float | None:
    """``value`` as a finite float within the given bounds (closed unless ``*_open``)."""
    if value is None and allow_none:
        return None
    label = _where(where, name)
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '>='} {low:g}")
    if high is not None:
        parts.append(f"{'<' if high_open else '<='} {high:g}")
    bound = f" {' and '.join(parts)}" if parts else ""
    none = " (or None)" if allow_none else ""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(f"{label} must be a number{bound}{none}, got {_short(value)}.")
    number = float(value)
    bad = not math.isfinite(number)
    if low is not None:
        bad |= number <= low if low_open else number < low
    if high is not None:
        bad |= number >= high if high_open else number > high
    if bad:
        raise ArgumentError(f"{label} must be a finite number{bound}{none}, got {_short(value)}.")
    return number


def check_prob(value: Any, name: str, where: str = "", *, allow_none: bool = False):
    """A probability strictly between 0 and 1 (interval widths, ``target_accept``)."""
    if value is None and allow_none:
        return None
    label = _where(where, name)
    text = f"{label} must be a number strictly between 0 and 1 (0.94 for 94%), got {_short(value)}."
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(text)
    if not 0 < float(value) < 1:
        raise ArgumentError(text)
    return float(value)


def check_choice(value: Any, name: str, choices: Iterable[str], where: str = "") -> str:
    """``value`` if it is one of ``choices`` (strings), else an error suggesting the nearest."""
    choices = list(choices)
    label = _where(where, name)
    if not isinstance(value, str):
        listing = ", ".join(f"'{c}'" for c in choices)
        raise ArgumentTypeError(f"{label} must be one of {listing}, got {_short(value)}.")
    if value not in choices:
        raise ArgumentError(f"{label}: " + did_you_mean(value, choices, name))
    return value


def check_seed(value: Any, name: str = "random_seed", where: str = ""):
    """A random seed numpy and PyMC accept: None, a non-negative integer, a sequence of them,
    a ``numpy.random.SeedSequence`` or ``Generator``."""
    label = _where(where, name)
    allowed = (
        "None, a non-negative integer, a list of them, a numpy SeedSequence or a numpy Generator"
    )
    if value is None or isinstance(value, np.random.Generator | np.random.SeedSequence):
        return value
    if isinstance(value, np.random.RandomState):
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_):
        if int(value) < 0:
            raise ArgumentError(f"{label} must be {allowed}, got {_short(value)}.")
        return int(value)
    if isinstance(value, Sequence | np.ndarray) and not isinstance(value, str | bytes):
        items = list(np.ravel(np.asarray(value, dtype=object)))
        if items and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool | np.bool_) and int(v) >= 0
            for v in items
        ):
            return value
    raise ArgumentTypeError(f"{label} must be {allowed}, got {_short(value)}.")


def check_names(
    value: Any, name: str, known: Iterable[str], what: str, where: str = "", *, allow_none=True
):
    """A name or list of names (``var_names=``), each one of ``known``; returns a list or None."""
    if value is None and allow_none:
        return None
    label = _where(where, name)
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, Iterable) or not all(isinstance(v, str) for v in names):
        raise ArgumentTypeError(f"{label} must be a name or a list of names, got {_short(value)}.")
    names = list(names)
    known = list(known)
    for item in names:
        if item not in known:
            raise ArgumentError(f"{label}: " + did_you_mean(item, known, what))
    return names
