"""`save` and `load`: writing a model and its draws to one file and rebuilding both
from it."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bayesformula.core.tree import groups, has_group, is_tree, make_tree
from bayesformula.errors import (
    ArgumentError,
    ArgumentTypeError,
    BayesformulaError,
    FamilyError,
    FileFormatError,
)
from bayesformula.families.links import LINKS
from bayesformula.families.registry import FAMILIES
from bayesformula.io.checks import (
    _check_fit,
    _check_namespace,
    _check_path,
    _check_target,
    _write_error,
)
from bayesformula.io.checksums import _check_digests, _stamp
from bayesformula.io.reading import _read_header, _read_tree, _sniff
from bayesformula.io.stored import (
    _FORMAT_ATTR,
    _REPAIR,
    FORMAT,
    GROUP,
    _Damaged,
    _dataset_to_frame,
    _frame_to_dataset,
    _plain,
    _restore,
    _short,
    model_encodings,
)
from bayesformula.io.upgrade import with_level_dims


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
        "link": (
            {str(k): getattr(v, "name", v) for k, v in options.link.items()}
            if isinstance(options.link, Mapping)
            else None
            if options.link is None
            else link.name
        ),
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


def save(model, idata, path: str | os.PathLike) -> Path:
    """Write the model (formula, encodings, priors, family, data) and its draws to one file.

    Parameters
    ----------
    model : bayesformula.Model
    idata : xarray.DataTree
        The fit of ``model`` to store (``model.fit()``'s result, possibly with predictions
        added): it must have a posterior, every posterior variable must be one of the model's,
        and its observed data, if any, must be the model's response.
    path : str or os.PathLike
        Target file, conventionally ``*.nc`` (netCDF4/HDF5). An existing file is replaced; the
        new file is written next to it first, so an interrupted save leaves the old one intact.

    Returns
    -------
    Path
        The path written.

    Raises
    ------
    ArgumentTypeError
        ``model``, ``idata`` or ``path`` has the wrong type.
    ArgumentError
        ``idata`` is not a fit of ``model``, or the folder of ``path`` does not exist.
    OSError
        ``path`` cannot be written (a folder, or a folder without write permission, or a full
        disk); the message names the path.

    Examples
    --------
    >>> bf.save(model, idata, "fit.nc")  # doctest: +SKIP
    >>> model, idata = bf.load("fit.nc")  # doctest: +SKIP
    """
    from bayesformula.model import Model

    if not isinstance(model, Model):
        raise ArgumentTypeError(
            f"save(): model must be a bayesformula.Model, got {type(model).__name__}."
        )
    if not is_tree(idata):
        raise ArgumentTypeError(
            "save(): idata must be the fit from model.fit() (an xarray.DataTree), got "
            f"{type(idata).__name__}."
        )
    path = _check_path(path, "save()")
    if has_group(idata, GROUP):
        raise ArgumentError(f"save(): idata already has a '{GROUP}' group; it is reserved.")
    _check_target(path)
    _check_fit(model, idata)
    spec = _spec(model)
    design = model.design
    used = list(design.data_columns)
    if getattr(model, "response_helper", None) is not None:
        used += [c for c in model.response_helper.columns if c not in used]
    frame = model.data.loc[design.index, used]
    dataset, meta = _frame_to_dataset(frame)
    dataset.attrs[_FORMAT_ATTR] = FORMAT
    dataset.attrs["spec"] = json.dumps(spec)
    dataset.attrs["columns"] = json.dumps(meta)
    dataset.attrs["encodings"] = json.dumps(model_encodings(model))
    out = make_tree({**{g: idata[g] for g in groups(idata)}, GROUP: dataset})
    out.attrs.update(idata.attrs)
    tmp = path.with_name(path.name + ".tmp")
    try:
        out.to_netcdf(str(tmp), engine="h5netcdf")
        _stamp(tmp)
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise _write_error(path, err) from err
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
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


def load(path: str | os.PathLike, extra_namespace: dict[str, Any] | None = None):
    """Load a file written by `save`: ``model, idata = bf.load("fit.nc")``.

    The file is data, never code: its formula passes the checks of a formula typed by a user,
    its names are looked up in bayesformula's registries, and every stored value is checked
    against the layout `save` writes (see the module docstring).

    Parameters
    ----------
    path : str or os.PathLike
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
    ArgumentTypeError
        ``path`` or ``extra_namespace`` has the wrong type.
    FileNotFoundError
        No such file.
    FileFormatError
        The file is empty, truncated, damaged or edited (its checksums differ, or a stored value
        does not have the layout `save` writes), was not written by `save`, was written by a
        newer bayesformula (upgrade to load it), or the model rebuilt from it encodes the data
        differently (for example after a formulae upgrade that changed an encoding). The
        message names the file and says what to do.
    FamilyError
        The file's family is a custom one not registered in this session.
    """
    from bayesformula.formula import Formula
    from bayesformula.model import Model

    path = _check_path(path, "load()")
    given = _check_namespace(extra_namespace)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; give the path of a file bf.save wrote.")
    _sniff(path)
    try:
        header = _read_header(path)
        _check_digests(header, "objects")
        idata = _read_tree(path)
        if not has_group(idata, "posterior"):
            raise _Damaged("it has no posterior group")
        spec = header["spec"]
        data = _dataset_to_frame(idata[GROUP].to_dataset(), header["columns"])
        if not isinstance(header["encodings"], dict):
            raise _Damaged(f"its encodings are {_short(header['encodings'])}, not a JSON object")
        priors = _restore(spec["priors"], "priors")
    except _Damaged as err:
        raise FileFormatError(f"{path} is damaged or was edited: {err}. {_REPAIR}") from None
    except BayesformulaError as err:
        if isinstance(err, FileFormatError):
            raise
        raise FileFormatError(
            f"{path} is damaged or was edited: its priors are invalid ({err}). {_REPAIR}"
        ) from err
    missing = [n for n in spec["extra_namespace"] if n not in given]
    if missing:
        raise BayesformulaError(
            f"the formula used {missing} through extra_namespace; pass them again: "
            f"bf.load({str(path)!r}, extra_namespace={{...}})."
        )
    if spec["family"] not in FAMILIES:
        raise FamilyError(
            f"the file's family {_short(spec['family'])} is not registered in this session; "
            "register it with bf.register_family before loading."
        )
    formula = spec["formula"]
    versions = spec.get("versions")
    try:
        model = Model(
            Formula(*formula) if len(formula) > 1 else formula[0],
            data,
            family=spec["family"],
            priors=priors,
            link=spec["link"],
            categorical=spec["categorical"],
            dropna=spec["dropna"],
            auto_scale=spec["auto_scale"],
            noncentered=spec["noncentered"],
            center_predictors=spec["center_predictors"],
            extra_namespace=extra_namespace,
        )
        if spec["n_dropped"]:
            model = Model.from_spec(model.spec.with_n_dropped(spec["n_dropped"]))
    except BayesformulaError as err:
        raise FileFormatError(
            f"the model stored in {path} cannot be rebuilt ({type(err).__name__}: {err}). If the "
            f"file was not edited, it was written with {_short(versions, 200)}; install those "
            "versions to load it."
        ) from err
    problem = _diff(header["encodings"], json.loads(json.dumps(model_encodings(model))))
    if problem:
        raise FileFormatError(
            f"the model rebuilt from {path} does not encode the data as the saved one did "
            f"({problem}). The file was written with {_short(versions, 200)}; install those "
            "versions to use it."
        )
    try:
        _check_digests(header, "model")
    except _Damaged as err:
        raise FileFormatError(f"{path} is damaged or was edited: {err}. {_REPAIR}") from None
    del idata[GROUP]
    return model, with_level_dims(model.spec, idata)
