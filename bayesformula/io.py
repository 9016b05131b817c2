"""Save a fitted model and its draws to one netCDF file, and load both back.

The file is the fit's tree (posterior, sample_stats, ...; one netCDF group each, as ArviZ
writes them) plus one extra group, ``bayesformula``, holding

* the model specification as JSON (formula, family, link, user priors, options, versions),
* the encodings the formula learned from the data (category levels, contrasts, the state of
  stateful transforms such as ``scale()``'s mean and sd, the levels of ``mo()`` terms and the
  centre and boundary of ``hsgp()`` terms, the design's column names and a hash of the design
  matrix), and
* the data columns the formula uses, with their pandas dtypes.

Loading rebuilds the model from that data, checks that the rebuilt encodings equal the stored
ones (so predictions on new data are exactly those of the original model), and returns
``(model, idata)``. Files written by bayesformula 0.1 (ArviZ 0.23's ``InferenceData``) have
the same groups and load the same way.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from bayesformula.core.prior import Prior
from bayesformula.core.tree import groups, has_group, is_tree, make_tree
from bayesformula.errors import BayesformulaError, FamilyError, FileFormatError
from bayesformula.families.links import LINKS
from bayesformula.families.registry import FAMILIES

__all__ = ["load", "save"]

GROUP = "bayesformula"
FORMAT = 1
_ROW = "__row__"


# ------------------------------------------------------------------ JSON helpers
def _plain(value: Any) -> Any:
    """JSON-ready copy of numbers, arrays, priors and containers."""
    if isinstance(value, Prior):
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


def _restore(value: Any) -> Any:
    if isinstance(value, dict):
        if "__prior__" in value:
            args = {k: _restore(v) for k, v in value["args"].items()}
            return Prior(value["__prior__"], auto_scale=value["auto_scale"], **args)
        if "__array__" in value:
            return np.asarray(value["__array__"], dtype=value["dtype"])
        return {k: _restore(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_restore(v) for v in value]
    return value


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


def _dataset_to_frame(dataset: xr.Dataset, meta: list[dict[str, Any]]) -> pd.DataFrame:
    columns, index_cols = {}, []
    for i, info in enumerate(meta):
        values = dataset[f"c{i}"].values
        if "categories" in info:
            series = pd.Series(
                pd.Categorical.from_codes(
                    values.astype(int), categories=info["categories"], ordered=info["ordered"]
                )
            )
        elif info.get("strings"):
            series = pd.Series(values.astype(str), dtype=object)
            try:
                series = series.astype(info["dtype"])
            except (TypeError, ValueError):
                pass
        else:
            series = pd.Series(values).astype(info["dtype"])
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


# ------------------------------------------------------------------ save / load
def _thawed(value):
    """A stored option as plain Python: read-only mappings as dicts, tuples as lists."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def _spec(model) -> dict[str, Any]:
    import arviz
    import formulae
    import pymc

    from bayesformula.version import __version__

    family = model.family
    if FAMILIES.get(family.name) is not family:
        raise FamilyError(
            f"family '{family.name}' is not in the registry, so a saved file could not name it; "
            "register it with bf.register_family(family) before saving (and before loading)."
        )
    link = model.link
    if link.name not in LINKS or LINKS[link.name] is not link:
        raise FamilyError(
            f"link '{link.name}' is a custom Link object, which cannot be saved by name; use one "
            f"of {sorted(LINKS)}."
        )
    options = model.spec.options
    noncentered = options.noncentered
    return {
        "format": FORMAT,
        "formula": [model.formula.main, *model.formula.additionals],
        "family": family.name,
        "link": link.name if options.link is not None else None,
        "priors": _plain(_thawed(options.priors)),
        "categorical": _plain(_thawed(options.categorical)),
        "dropna": bool(options.dropna),
        "extra_namespace": list(options.extra_namespace),
        "auto_scale": bool(options.auto_scale),
        "noncentered": (
            {str(k): bool(v) for k, v in noncentered.items()}
            if isinstance(noncentered, Mapping)
            else None
            if noncentered is None
            else bool(noncentered)
        ),
        "center_predictors": bool(options.center_predictors),
        "n_dropped": int(model.design.n_dropped),
        "versions": {
            "bayesformula": __version__,
            "formulae": formulae.__version__,
            "pymc": pymc.__version__,
            "arviz": arviz.__version__,
        },
    }


def save(model, idata, path: str | Path) -> Path:
    """Write the model (formula, encodings, priors, family, data) and its draws to one file.

    Parameters
    ----------
    model : bayesformula.Model
    idata : xarray.DataTree
        The fit to store (``model.fit()``'s result, possibly with predictions added).
    path : str or Path
        Target file, conventionally ``*.nc`` (netCDF4/HDF5). An existing file is replaced.

    Returns
    -------
    Path
        The path written.

    Examples
    --------
    >>> bf.save(model, idata, "fit.nc")  # doctest: +SKIP
    >>> model, idata = bf.load("fit.nc")  # doctest: +SKIP
    """
    if not is_tree(idata):
        raise BayesformulaError(
            f"save needs the fit from model.fit() (an xarray.DataTree), got {type(idata).__name__}."
        )
    if has_group(idata, GROUP):
        raise BayesformulaError(f"idata already has a '{GROUP}' group; it is reserved.")
    path = Path(path)
    spec = _spec(model)
    design = model.design
    used = list(design.data_columns)
    if getattr(model, "response_helper", None) is not None:
        used += [c for c in model.response_helper.columns if c not in used]
    frame = model.data.loc[design.index, used]
    dataset, meta = _frame_to_dataset(frame)
    dataset.attrs["spec"] = json.dumps(spec)
    dataset.attrs["columns"] = json.dumps(meta)
    dataset.attrs["encodings"] = json.dumps(model_encodings(model))
    out = make_tree({**{g: idata[g] for g in groups(idata)}, GROUP: dataset})
    out.attrs.update(idata.attrs)
    if path.parent and not path.parent.exists():
        raise BayesformulaError(f"cannot save to {path}: folder {path.parent} does not exist.")
    tmp = path.with_name(path.name + ".tmp")
    out.to_netcdf(str(tmp), engine="h5netcdf")
    tmp.replace(path)
    return path


def _diff(stored: Any, rebuilt: Any, where: str = "") -> str | None:
    if isinstance(stored, dict) and isinstance(rebuilt, dict):
        for key in sorted(set(stored) | set(rebuilt)):
            if key not in stored or key not in rebuilt:
                side = "file" if key in stored else "rebuilt model"
                return f"{where}/{key} is only in the {side}"
            found = _diff(stored[key], rebuilt[key], f"{where}/{key}")
            if found:
                return found
        return None
    if stored != rebuilt:
        return f"{where}: file has {str(stored)[:80]}, rebuilt model has {str(rebuilt)[:80]}"
    return None


def load(path: str | Path, extra_namespace: dict[str, Any] | None = None):
    """Load a file written by `save`: ``model, idata = bf.load("fit.nc")``.

    Parameters
    ----------
    path : str or Path
    extra_namespace : dict, optional
        The functions the formula used through ``extra_namespace`` when it was fitted (code is
        not stored in the file).

    Returns
    -------
    (Model, xarray.DataTree)
        The rebuilt model, which predicts on new data exactly as the original did, and the
        draws.

    Raises
    ------
    FileNotFoundError
        No such file.
    FileFormatError
        Not a bayesformula file, or the encodings rebuilt from the stored data differ from the
        stored ones (for example after a formulae upgrade that changed an encoding).
    """
    from bayesformula.model import Model

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    try:
        with xr.open_datatree(str(path), engine="h5netcdf") as stored:
            idata = stored.load().copy()
    except Exception as err:  # h5py/xarray errors differ by corruption kind
        raise FileFormatError(f"{path} is not a readable netCDF file: {err}") from None
    if not has_group(idata, GROUP):
        raise FileFormatError(
            f"{path} holds draws but no '{GROUP}' group: it was not written by bf.save "
            "(plain ArviZ files have no model to rebuild; use xarray.open_datatree for those)."
        )
    dataset = idata[GROUP].to_dataset()
    spec = json.loads(dataset.attrs["spec"])
    if spec.get("format") != FORMAT:
        raise FileFormatError(
            f"{path} uses save format {spec.get('format')}; this version reads format {FORMAT}."
        )
    meta = json.loads(dataset.attrs["columns"])
    stored_enc = json.loads(dataset.attrs["encodings"])
    data = _dataset_to_frame(dataset, meta)
    needed = spec["extra_namespace"]
    given = extra_namespace or {}
    missing = [n for n in needed if n not in given]
    if missing:
        raise BayesformulaError(
            f"the formula used {missing} through extra_namespace; pass them again: "
            f"bf.load({str(path)!r}, extra_namespace={{...}})."
        )
    if spec["family"] not in FAMILIES:
        raise FamilyError(
            f"the file's family '{spec['family']}' is not registered in this session; register "
            "it with bf.register_family before loading."
        )
    formula = spec["formula"]
    from bayesformula.formula import Formula

    model = Model(
        Formula(*formula) if len(formula) > 1 else formula[0],
        data,
        family=spec["family"],
        priors=_restore(spec["priors"]),
        link=spec["link"],
        categorical=_restore(spec["categorical"]),
        dropna=spec["dropna"],
        auto_scale=spec["auto_scale"],
        noncentered=spec["noncentered"],
        center_predictors=spec["center_predictors"],
        extra_namespace=extra_namespace,
    )
    if spec["n_dropped"]:
        model = Model.from_spec(model.spec.with_n_dropped(spec["n_dropped"]))
    problem = _diff(stored_enc, json.loads(json.dumps(model_encodings(model))))
    if problem:
        raise FileFormatError(
            f"the model rebuilt from {path} does not encode the data as the saved one did "
            f"({problem}). The file was written with {spec['versions']}; install those "
            "versions to use it."
        )
    del idata[GROUP]
    return model, idata
