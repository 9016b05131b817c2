"""How a saved file stores its values: the layout's constants, JSON helpers for priors and
arrays, the encodings a formula learned from the data, and data frames as netCDF datasets."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from bayesformula.core.prior import Prior
from bayesformula.errors import BayesformulaError, PriorError

GROUP = "bayesformula"
#: The save format this version writes and the newest it reads. Raise it when a change to the
#: layout would make older versions misread a file; older versions then ask for an upgrade.
FORMAT = 1
_ROW = "__row__"
_FORMAT_ATTR = "format"
_DIGEST_ATTR = "sha256"
#: What a stored dtype may look like ("float64", "category", "datetime64[ns, UTC]", "str").
_DTYPE_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9_\[\], :/+-]{0,63}")
_REPAIR = "Restore the file from a copy, or save the model again with bf.save."


# ------------------------------------------------------------------ JSON helpers
def _plain(value: Any) -> Any:
    """JSON-ready copy of numbers, arrays, priors and containers."""
    if isinstance(value, Prior):
        if value.options:  # a PyMC transform object has no stored form
            raise PriorError(
                f"cannot save the prior {value!r}: its {', '.join(value.options)} has no stored "
                "form in a file; pickle the model instead (pickle.dump(model, file))."
            )
        return {
            "__prior__": value.name,
            "auto_scale": value.auto_scale,
            "args": {k: _plain(v) for k, v in value.args.items()},
        }
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return {"__array__": value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise BayesformulaError(
        f"cannot save a value of type {type(value).__name__} ({value!r}) in the model "
        "specification; priors must be bayesformula.Prior objects or numbers."
    )


class _Damaged(Exception):
    """A stored value that does not have the layout `save` writes (the loader names the file)."""


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _restore(value: Any, where: str) -> Any:
    """Rebuild what `_plain` wrote: priors as `Prior` (names looked up in PyMC's registry,
    parameters checked as numbers), arrays as numeric arrays, containers as containers; any
    other layout is `_Damaged`. ``where`` names the value in messages."""
    if isinstance(value, dict):
        if "__prior__" in value:
            name, args = value["__prior__"], value.get("args", {})
            auto = value.get("auto_scale", True)
            if (
                not isinstance(name, str)
                or not isinstance(auto, bool)
                or not isinstance(args, dict)
                or {"name", "auto_scale"} & set(args)
            ):
                raise _Damaged(f"{where} is not a stored prior: {_short(value)}")
            restored = {k: _restore(v, f"{where}.{k}") for k, v in args.items()}
            return Prior(name, auto_scale=auto, **restored)
        if "__array__" in value:
            return _array(value, where)
        return {k: _restore(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_restore(v, where) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise _Damaged(f"{where} holds {_short(value)}")  # pragma: no cover - JSON has no others


def _array(value: dict, where: str) -> np.ndarray:
    """A stored numeric array (``{"__array__": [...], "dtype": "float64"}``)."""
    dtype = value.get("dtype")
    if not isinstance(dtype, str) or not _DTYPE_TEXT.fullmatch(dtype):
        raise _Damaged(f"{where} has an invalid array dtype {_short(dtype)}")
    try:
        kind = np.dtype(dtype).kind
        if kind not in "biuf":
            raise TypeError(f"dtype {dtype} is not numeric")
        return np.asarray(value["__array__"], dtype=dtype)
    except (TypeError, ValueError) as err:
        raise _Damaged(f"{where} is not a numeric array ({err})") from None


# ------------------------------------------------------------------ encodings
def _state(obj) -> dict[str, Any]:
    out = {}
    for key, value in vars(obj).items():
        if isinstance(value, np.ndarray | np.generic | int | float | str | bool):
            out[key] = _plain(np.asarray(value)) if isinstance(value, np.ndarray) else _plain(value)
    return out


def _component(component) -> dict[str, Any]:
    info: dict[str, Any] = {"name": str(getattr(component, "name", component))}
    levels = getattr(component, "levels", None)
    if levels is not None:
        info["levels"] = [str(v) for v in levels]
    contrast = getattr(component, "contrast_matrix", None)
    if contrast is not None and hasattr(contrast, "matrix"):
        info["contrast"] = np.asarray(contrast.matrix, dtype=float).round(12).tolist()
    call = getattr(component, "call", None)
    transform = getattr(call, "stateful_transform", None) if call is not None else None
    if transform is not None:
        info["transform"] = {"type": type(transform).__name__, **_state(transform)}
    return info


def model_encodings(model) -> dict[str, Any]:
    """The encodings of the main formula and, when there are any, of the formulas of
    auxiliary parameters (``"aux_parts"``; absent otherwise, so older files compare equal)."""
    out = encodings(model.design)
    parts = getattr(model, "aux_parts", None)
    if parts:
        out["aux_parts"] = {param: encodings(part.design) for param, part in parts.items()}
    return out


def encodings(design) -> dict[str, Any]:
    """What the formula learned from the data, as plain JSON-ready values."""
    terms: dict[str, Any] = {}
    matrices = design.matrices
    for part in ("common", "group"):
        block = getattr(matrices, part, None)
        if block is None:
            continue
        for name, term in block.terms.items():
            parts = []
            for attr in ("expr", "factor"):
                sub = getattr(term, attr, None)
                if sub is not None:
                    parts += [_component(c) for c in getattr(sub, "components", [sub])]
            parts += [_component(c) for c in getattr(term, "components", [])]
            terms[f"{part}:{name}"] = parts
    x = np.ascontiguousarray(design.X, dtype=np.float64)
    out = {
        "terms": terms,
        "columns": [list(t.columns) for t in design.common_terms],
        "group_levels": {f: list(v) for f, v in design.group_levels.items()},
        "X_sha256": hashlib.sha256(x.tobytes()).hexdigest(),
    }
    special = getattr(design, "special_terms", ())
    if special:  # only then: files of models without these terms keep their encodings
        out["special_terms"] = {t.name: t.state() for t in special}
    return out


# ------------------------------------------------------------------ data frames
def _frame_to_dataset(frame: pd.DataFrame) -> tuple[xr.Dataset, list[dict[str, Any]]]:
    index_names = [
        n if n is not None else f"__index_{i}__" for i, n in enumerate(frame.index.names)
    ]
    flat = frame.copy()
    flat.index = flat.index.set_names(index_names)
    flat = flat.reset_index()
    variables, meta = {}, []
    for i, column in enumerate(flat.columns):
        series = flat[column]
        info: dict[str, Any] = {
            "name": column if isinstance(column, str) else _plain(column),
            "dtype": str(series.dtype),
            "index": i < len(index_names),
        }
        if isinstance(series.dtype, pd.CategoricalDtype):
            info["categories"] = _plain(list(series.cat.categories))
            info["ordered"] = bool(series.cat.ordered)
            values = series.cat.codes.to_numpy()
        elif series.dtype.kind in "biufcM":
            values = series.to_numpy()
        else:
            values = series.astype(str).to_numpy(dtype=object)
            info["strings"] = True
        variables[f"c{i}"] = xr.DataArray(values, dims=(_ROW,))
        meta.append(info)
    return xr.Dataset(variables), meta


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, bool | int | float | str)


def _column_dtype(info: dict[str, Any], label: str):
    """The pandas dtype a stored column names: only a short dtype name that pandas resolves
    from its registry (``"float64"``, ``"category"``, ``"str"``), never anything else."""
    text = info.get("dtype")
    if not isinstance(text, str) or not _DTYPE_TEXT.fullmatch(text):
        raise _Damaged(f"{label} has an invalid dtype {_short(text)}")
    try:
        dtype = pd.api.types.pandas_dtype(text)
    except (TypeError, ValueError):
        raise _Damaged(f"{label} has the dtype {text!r}, which pandas does not know") from None
    if isinstance(dtype, np.dtype) and dtype.kind not in "biufcmMOSU":
        raise _Damaged(f"{label} has the dtype {text!r}, which is not a column dtype")
    return dtype


def _check_column(info: Any, i: int, dataset: xr.Dataset) -> str:
    """Check one entry of the stored column list; returns its label for messages."""
    if not isinstance(info, dict):
        raise _Damaged(f"column entry {i} is {_short(info)}, not a description of a column")
    name = info.get("name")
    if not (isinstance(name, str) or (isinstance(name, list) and all(map(_scalar, name)))):
        raise _Damaged(f"column entry {i} has an invalid name {_short(name)}")
    label = f"column {name!r}"
    if f"c{i}" not in dataset.data_vars or dataset[f"c{i}"].dims != (_ROW,):
        raise _Damaged(f"the values of {label} (variable c{i}) are missing")
    flags = [info.get("index"), info.get("ordered", False), info.get("strings", False)]
    if not all(isinstance(flag, bool) for flag in flags):
        raise _Damaged(f"{label} has invalid flags {_short(info)}")
    categories = info.get("categories")
    if categories is not None and not (
        isinstance(categories, list) and all(map(_scalar, categories))
    ):
        raise _Damaged(f"{label} has invalid categories {_short(categories)}")
    return label


def _dataset_to_frame(dataset: xr.Dataset, meta: Any) -> pd.DataFrame:
    if not isinstance(meta, list):
        raise _Damaged(f"the column list is {_short(meta)}, not a list")
    columns, index_cols = {}, []
    for i, info in enumerate(meta):
        label = _check_column(info, i, dataset)
        dtype = _column_dtype(info, label)
        values = dataset[f"c{i}"].values
        try:
            if "categories" in info:
                codes = values.astype(int)
                if codes.size and (codes.min() < -1 or codes.max() >= len(info["categories"])):
                    raise ValueError("category codes out of range")
                series = pd.Series(
                    pd.Categorical.from_codes(
                        codes, categories=info["categories"], ordered=info.get("ordered", False)
                    )
                )
            elif info.get("strings"):
                series = pd.Series(values.astype(str), dtype=object)
                try:
                    series = series.astype(dtype)
                except (TypeError, ValueError):
                    pass
            else:
                series = pd.Series(values).astype(dtype)
        except (TypeError, ValueError) as err:
            raise _Damaged(
                f"the values of {label} cannot be read as {info['dtype']} ({err})"
            ) from None
        name = info["name"] if isinstance(info["name"], str) else tuple(info["name"])
        columns[name] = series
        if info["index"]:
            index_cols.append(name)
    frame = pd.DataFrame(columns)
    if index_cols:
        frame = frame.set_index(index_cols)
        frame.index = frame.index.set_names(
            [None if str(n).startswith("__index_") else n for n in frame.index.names]
        )
    return frame
