"""`ParameterTable`: a pandas DataFrame of parameter summaries that shows rounded values.

The values keep full precision (``.loc``, arithmetic, ``to_numpy()``, ``to_csv()`` and pickle
see them as computed); only the text that ``repr``, ``str``, ``to_string`` and a notebook's HTML
show is rounded, column by column:

* estimates (``mean``, ``sd``, interval bounds such as ``hdi_3%`` or ``lower``/``upper``) to the
  same decimals across a row: three significant digits of the row's ``sd`` (without an ``sd``
  column, of the spread of the row's estimates, such as an interval's width);
* Monte Carlo standard errors (``mcse_*``) to two significant digits;
* effective sample sizes (``ess_*``) as whole numbers, rounded down;
* ``r_hat`` to two decimals;
* any other number to four significant digits.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

__all__ = ["ParameterTable"]

#: Significant digits of a row's scale that set the decimals of its estimates.
ESTIMATE_DIGITS = 3
#: Significant digits of Monte Carlo standard errors.
MCSE_DIGITS = 2
#: Significant digits of other numbers.
OTHER_DIGITS = 4
#: Estimates are shown with at most this many decimals (smaller scales: significant digits).
MAX_DECIMALS = 8

_ESTIMATES = ("mean", "sd", "lower", "upper")
_INTERVALS = ("hdi_", "eti_")


def _is_estimate(column) -> bool:
    name = str(column)
    return name in _ESTIMATES or name.startswith(_INTERVALS)


def _significant(value: float, digits: int) -> str:
    """``value`` with ``digits`` significant digits, in positional notation where it is short."""
    if not math.isfinite(value):
        return str(value)
    if value != 0 and not 1e-4 <= abs(value) < 1e7:
        mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
        if "." in mantissa:
            mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}e{int(exponent)}"
    return np.format_float_positional(
        value, precision=digits, unique=False, fractional=False, trim="-"
    )


def _decimals(scale: float) -> int | None:
    """Decimals that show ``scale`` with `ESTIMATE_DIGITS` significant digits (None: too
    small or not a number, so each value gets its own significant digits)."""
    if not math.isfinite(scale) or scale <= 0:
        return None
    decimals = ESTIMATE_DIGITS - 1 - math.floor(math.log10(scale))
    return max(decimals, 0) if decimals <= MAX_DECIMALS else None


def _row_decimals(frame: pd.DataFrame, estimates: list) -> list[int | None]:
    """Decimals of each row's estimates, from the row's scale: its ``sd``; without one, the
    spread of its estimates (an interval's width), or the size of a single estimate."""
    values = frame[estimates].to_numpy(dtype=float)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # rows of missing values
        if "sd" in frame.columns:
            scales = np.abs(frame["sd"].to_numpy(dtype=float))
        elif values.shape[1] > 1:
            scales = np.nanmax(values, axis=1) - np.nanmin(values, axis=1)
        else:
            scales = np.abs(values[:, 0])
    return [_decimals(float(s)) for s in scales]


def _text(value, kind: str, decimals: int | None):
    """One cell as shown; missing values stay missing (pandas shows them as NaN)."""
    value = float(value)
    if math.isnan(value):
        return np.nan
    if kind == "ess":
        return str(math.floor(value)) if math.isfinite(value) else str(value)
    if kind == "r_hat":
        return f"{value:.2f}"
    if kind == "mcse":
        return _significant(value, MCSE_DIGITS)
    if kind == "estimate" and decimals is not None:
        return f"{value:.{decimals}f}"
    return _significant(value, OTHER_DIGITS)


def _kind(column) -> str:
    name = str(column)
    if name.startswith("ess"):
        return "ess"
    if name == "r_hat":
        return "r_hat"
    if name.startswith("mcse"):
        return "mcse"
    return "estimate" if _is_estimate(column) else "other"


def _unique_columns(frame: pd.DataFrame) -> bool:
    return frame.columns.is_unique and frame.index.is_unique


class ParameterTable(pd.DataFrame):
    """A DataFrame of parameter summaries (`bayesformula.summary`, `bayesformula.conf_int`)
    whose text display is rounded while its values keep full precision.

    It is a `pandas.DataFrame` in every other respect: selections, arithmetic and copies
    are ParameterTables too; ``to_csv``, ``to_numpy`` and pickle carry the full values. To
    format it yourself, pass ``float_format=`` or ``formatters=`` to `to_string`, round it
    (``table.round(3)`` is a plain DataFrame of rounded values), or use
    ``pandas.DataFrame(table)`` for pandas' own display.

    Examples
    --------
    >>> table = ParameterTable({"mean": [0.123456, 12.3456], "sd": [0.0123, 1.234]},
    ...                        index=["a", "b"])
    >>> print(table)
         mean      sd
    a  0.1235  0.0123
    b   12.35    1.23
    >>> float(table.loc["a", "mean"])
    0.123456
    """

    @property
    def _constructor(self):
        return ParameterTable

    def display_frame(self) -> pd.DataFrame:
        """The table as it is shown: each number formatted as text (a plain DataFrame)."""
        frame = pd.DataFrame(self)
        if frame.empty or not _unique_columns(frame):
            return frame
        numeric = [
            c
            for c in frame.columns
            if pd.api.types.is_numeric_dtype(frame[c].dtype)
            and not pd.api.types.is_bool_dtype(frame[c].dtype)
        ]
        estimates = [c for c in numeric if _kind(c) == "estimate"]
        decimals = _row_decimals(frame, estimates) if estimates else [None] * len(frame)
        out = frame.astype({c: object for c in numeric})
        for column in numeric:
            kind = _kind(column)
            out[column] = [
                _text(v, kind, d) for v, d in zip(frame[column].to_numpy(), decimals, strict=True)
            ]
        return out

    def round(self, decimals=0, *args, **kwargs) -> pd.DataFrame:
        """The values rounded to ``decimals`` (`pandas.DataFrame.round`), as a plain DataFrame:
        values rounded by hand are shown as they are."""
        return pd.DataFrame(self).round(decimals, *args, **kwargs)

    def __repr__(self) -> str:
        return repr(self.display_frame())

    def __str__(self) -> str:
        return repr(self)

    def to_string(self, *args, **kwargs) -> str | None:
        """`pandas.DataFrame.to_string` of the rounded display; with ``float_format`` or
        ``formatters`` given, of the full values formatted that way."""
        if kwargs.get("float_format") is not None or kwargs.get("formatters") is not None:
            return pd.DataFrame(self).to_string(*args, **kwargs)
        return self.display_frame().to_string(*args, **kwargs)

    def _repr_html_(self) -> str | None:
        return self.display_frame()._repr_html_()
