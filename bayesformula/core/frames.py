"""Data frames of any library in, pandas inside, the caller's kind back out.

Users pass pandas, polars (eager or lazy), pyarrow tables, a dict of columns or anything else
narwhals reads; each is converted once, at the boundary, to the pandas DataFrame every stage
works on (`to_pandas`). Tables built from the caller's data go back in the caller's kind, or
the kind asked for (`as_kind`).
"""

from __future__ import annotations

import pandas as pd

from bayesformula.errors import DataTypeError

__all__ = ["RETURN_TYPES", "as_kind", "to_pandas"]

#: what ``return_type=`` accepts
RETURN_TYPES = ("pandas", "polars", "pyarrow")


def to_pandas(data, what: str = "data", where: str = "") -> tuple[pd.DataFrame, str]:
    """``data`` as a pandas DataFrame, and the kind it came as (``"pandas"``, ``"polars"``,
    ``"pyarrow"``, another narwhals backend's name, or ``"dict"``).

    A polars LazyFrame is collected. A pandas DataFrame is returned as it is.
    """
    if isinstance(data, pd.DataFrame):
        return data, "pandas"
    label = f"{where}: {what}" if where else what
    if isinstance(data, dict):
        try:
            return pd.DataFrame(data), "dict"
        except (ValueError, TypeError) as err:
            raise DataTypeError(
                f"{label} is a dict that pandas cannot make a table of ({err}); give one "
                "column of equal length per key."
            ) from None
    import narwhals as nw

    try:
        frame = nw.from_native(data, pass_through=False)
    except TypeError:
        raise DataTypeError(
            f"{label} must be a DataFrame (pandas, polars eager or lazy, a pyarrow Table or "
            f"another that narwhals reads) or a dict of columns, got {type(data).__name__}."
        ) from None
    if isinstance(frame, nw.LazyFrame):
        frame = frame.collect()
    if not isinstance(frame, nw.DataFrame):
        raise DataTypeError(f"{label} must be a DataFrame, got a {type(data).__name__}.")
    kind = nw.get_native_namespace(frame).__name__.split(".")[0]
    return frame.to_pandas(), kind


def as_kind(table: pd.DataFrame, kind: str | None, return_type: str | None = None):
    """``table`` in ``return_type`` if given, else in the caller's ``kind`` (pandas for
    pandas, a dict or an unknown kind). A non-default index becomes a column first."""
    target = return_type or (kind if kind in RETURN_TYPES else "pandas")
    if target not in RETURN_TYPES:
        raise DataTypeError(f"return_type must be one of {list(RETURN_TYPES)}, got {target!r}.")
    if target == "pandas":
        return table
    plain = table
    default = isinstance(table.index, pd.RangeIndex) and table.index.equals(
        pd.RangeIndex(len(table))
    )
    if not default:
        plain = table.reset_index()
    plain = pd.DataFrame(plain)
    plain.columns = [str(c) for c in plain.columns]
    if target == "polars":
        import polars as pl

        return pl.from_pandas(plain)
    import pyarrow as pa

    return pa.Table.from_pandas(plain, preserve_index=False)
