"""Checks of `save`'s and `load`'s arguments: the path, the folder written to, the fit
passed with the model, and the ``extra_namespace`` given to `load`."""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from bayesformula.core.tree import groups, has_group
from bayesformula.errors import (
    ArgumentError,
    ArgumentTypeError,
)
from bayesformula.io.stored import _short


# ------------------------------------------------------------------ arguments
def _check_path(path: Any, where: str) -> Path:
    """``path`` as a `Path`; a str or an ``os.PathLike`` naming a file, nothing else."""
    if not isinstance(path, str | os.PathLike):
        raise ArgumentTypeError(
            f"{where}: path must be a str or an os.PathLike such as pathlib.Path, got "
            f"{type(path).__name__} {_short(path)}."
        )
    text = os.fspath(path)
    if not isinstance(text, str):
        raise ArgumentTypeError(f"{where}: path must name a file as text, got {_short(text)}.")
    if not text:
        raise ArgumentError(f"{where}: path is empty; give a file name such as 'fit.nc'.")
    return Path(text)


def _check_target(path: Path) -> None:
    """Refuse a target that cannot be written before any work is done."""
    folder = path.parent
    if path.is_dir():
        raise IsADirectoryError(
            errno.EISDIR,
            f"cannot save to {path}: it is a folder; give a file name such as {path / 'fit.nc'}",
            str(path),
        )
    if not folder.exists():
        raise ArgumentError(f"cannot save to {path}: folder {folder} does not exist.")
    if not folder.is_dir():
        raise NotADirectoryError(
            errno.ENOTDIR, f"cannot save to {path}: {folder} is a file, not a folder", str(path)
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(
            errno.EACCES,
            f"cannot save to {path}: the folder {folder} is not writable; save to a folder you "
            "can write to",
            str(path),
        )


def _write_error(path: Path, err: OSError) -> OSError:
    """An `OSError` of the same kind as ``err`` that names ``path`` and says what to do."""
    code = err.errno
    if code is None:  # h5py reports the C library's errno inside its message
        found = re.search(r"errno = (\d+)", str(err))
        code = int(found.group(1)) if found else None
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        reason = f"the folder {path.parent} is not writable ({os.strerror(code)})"
        advice = "save to a folder you can write to"
    elif code in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        reason = f"there is no space left for it ({os.strerror(code)})"
        advice = "free some space or save elsewhere"
    else:
        reason = os.strerror(code) if code is not None else str(err)
        advice = "check the path and try again"
    message = f"cannot save to {path}: {reason}; {advice}"
    return OSError(code, message, str(path)) if code is not None else OSError(message)


def _model_names(model, graph: bool) -> set[str]:
    """Variable names a fit of ``model`` can hold in its posterior: the parameters, the
    per-observation parameters predictions add, and with ``graph`` every named variable of
    the built PyMC model."""
    family = model.family
    names = {family.parent, *family.aux_names}
    priors = model.priors
    for mapping in (priors.common, priors.group, priors.aux, priors.terms):
        names |= set(mapping)
    names |= {f"{name}_sigma" for name in priors.group} | {f"{name}_corr" for name in priors.corr}
    names |= set(getattr(model, "aux_parts", None) or {})
    density = model.density()
    if density is not None:
        names |= set(density.variable_names)
    if graph:
        names |= set(model.build().named_vars)
    return names


def _check_fit(model, idata) -> None:
    """Refuse an ``idata`` that is not a fit of ``model`` (no posterior, another model's
    parameters, or other observed data)."""
    if not has_group(idata, "posterior") or not idata["posterior"].data_vars:
        present = ", ".join(groups(idata)) or "none"
        raise ArgumentError(
            f"save(): idata has no posterior draws (its groups: {present}); pass the result of "
            "model.fit() for this model."
        )
    posterior = {str(name) for name in idata["posterior"].data_vars}
    unknown = posterior - _model_names(model, graph=False)
    if unknown:  # names only the PyMC graph knows (offsets, deterministics) are checked there
        unknown -= _model_names(model, graph=True)
    if unknown:
        raise ArgumentError(
            f"save(): idata is not a fit of this model ({model.formula.main!r}, family "
            f"'{model.family.name}'): its posterior has {sorted(unknown)[:5]}, which the model "
            "does not have. Save each model with its own fit."
        )
    if not has_group(idata, "observed_data"):
        return
    observed = idata["observed_data"]
    name = model.response_name
    if name not in observed.data_vars:
        raise ArgumentError(
            f"save(): idata is not a fit of this model: its observed data hold "
            f"{sorted(map(str, observed.data_vars))[:5]}, not the model's response '{name}'. "
            "Save each model with its own fit."
        )
    stored = np.asarray(observed[name].values)
    expected = np.asarray(model.response_data.values)
    if stored.shape[:1] != expected.shape[:1]:
        raise ArgumentError(
            f"save(): idata is not a fit of this model: its observed '{name}' has "
            f"{stored.shape[0] if stored.ndim else 1} rows, the model's data {expected.shape[0]}. "
            "Save each model with its own fit."
        )
    numeric = stored.dtype.kind in "biuf" and expected.dtype.kind in "biuf"
    if numeric and stored.shape == expected.shape:
        same = np.isclose(stored, expected, rtol=1e-12, atol=0.0, equal_nan=True)
        if not same.all():
            row = int(np.argwhere(~same)[0][0])
            raise ArgumentError(
                f"save(): idata is not a fit of this model: its observed '{name}' differs from "
                f"the model's data (first at row {row}). Save each model with its own fit."
            )


def _check_namespace(extra_namespace: Any) -> dict[str, Any]:
    if extra_namespace is None:
        return {}
    if not isinstance(extra_namespace, Mapping) or not all(
        isinstance(k, str) for k in extra_namespace
    ):
        raise ArgumentTypeError(
            "load(): extra_namespace must be a dict of name -> function or value, got "
            f"{_short(extra_namespace)}."
        )
    return dict(extra_namespace)
