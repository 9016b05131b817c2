"""Reading a saved file before the model is rebuilt: recognising netCDF-4/HDF5, the format
number, the stored specification, column list, encodings and checksums, and the draws."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from bayesformula.errors import FileFormatError
from bayesformula.io.checksums import _digests
from bayesformula.io.stored import (
    _DIGEST_ATTR,
    _FORMAT_ATTR,
    _REPAIR,
    FORMAT,
    GROUP,
    _Damaged,
    _short,
)

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


# ------------------------------------------------------------------ reading a file
def _is_names(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_link_map(value: Any) -> bool:
    return isinstance(value, dict) and _is_names(list(value.values()))


def _is_flags(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(v, bool) for v in value.values())


#: Each entry of the stored specification: a check of its JSON value and what it must be.
_SPEC_FIELDS: dict[str, tuple[Any, str]] = {
    "formula": (lambda v: _is_names(v) and len(v) > 0, "a list of formula strings"),
    "family": (lambda v: isinstance(v, str), "a family name"),
    "link": (
        lambda v: v is None or isinstance(v, str) or _is_link_map(v),
        "a link name or a dict of them",
    ),
    "priors": (lambda v: v is None or isinstance(v, dict), "a dict of priors"),
    "categorical": (lambda v: v is None or isinstance(v, str) or _is_names(v), "column names"),
    "dropna": (lambda v: isinstance(v, bool), "true or false"),
    "extra_namespace": (_is_names, "a list of names"),
    "auto_scale": (lambda v: isinstance(v, bool), "true or false"),
    "noncentered": (lambda v: v is None or isinstance(v, bool) or _is_flags(v), "a flag"),
    "center_predictors": (lambda v: isinstance(v, bool), "true or false"),
    "n_dropped": (lambda v: type(v) is int and v >= 0, "a count of rows"),
}


def _check_spec(spec: Any) -> dict[str, Any]:
    """The stored specification, each entry of the type `save` writes, or `_Damaged`."""
    if not isinstance(spec, dict):
        raise _Damaged(f"the model description is {_short(spec)}, not a JSON object")
    for key, (valid, what) in _SPEC_FIELDS.items():
        if key not in spec:
            raise _Damaged(f"the model description has no '{key}' entry")
        if not valid(spec[key]):
            raise _Damaged(f"the model description's '{key}' is {_short(spec[key])}, not {what}")
    return spec


def _json_attr(attrs, key: str, what: str) -> Any:
    """An attribute of the ``bayesformula`` group holding JSON text, parsed."""
    if key not in attrs:
        raise _Damaged(f"the '{GROUP}' group has no '{key}' attribute ({what})")
    text = attrs[key]
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not isinstance(text, str):
        raise _Damaged(f"the '{key}' attribute ({what}) holds {_short(text)}, not JSON text")
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise _Damaged(
            f"its {what} (the '{key}' attribute) is not valid JSON ({err.msg} at character "
            f"{err.pos})"
        ) from None
    except RecursionError:
        raise _Damaged(f"its {what} (the '{key}' attribute) is nested too deeply") from None


def _writer(attrs) -> str:
    """'bayesformula 0.3.0' from a stored specification, or 'a newer bayesformula'."""
    try:
        version = json.loads(attrs["spec"])["versions"]["bayesformula"]
    except Exception:  # noqa: BLE001 - only for a message; any layout may be there
        version = None
    return f"bayesformula {version}" if isinstance(version, str) else "a newer bayesformula"


def _format_number(path: Path, attrs) -> int:
    """The file's save format, read before anything else and refused when newer than
    `FORMAT` (files of version 0.1 keep it only in their specification)."""
    from bayesformula.version import __version__

    if _FORMAT_ATTR in attrs:
        value = attrs[_FORMAT_ATTR]
    else:
        value = _json_attr(attrs, "spec", "model description")
        value = value.get("format") if isinstance(value, dict) else None
    array = np.asarray(value).ravel()  # netCDF stores a number as an array of one
    if array.size != 1 or array.dtype.kind not in "iu" or int(array[0]) < 1:
        raise _Damaged(f"its save-format number is {_short(value)}, not a format number")
    number = int(array[0])
    if number > FORMAT:
        raise FileFormatError(
            f"{path} was written by {_writer(attrs)} in save format {number}; this version of "
            f"bayesformula ({__version__}) reads save formats up to {FORMAT}. Upgrade "
            "bayesformula (pip install --upgrade bayesformula) to load it."
        )
    return number


def _sniff(path: Path) -> None:
    """Refuse an empty file or one that is not netCDF-4/HDF5, saying what it is instead."""
    size = path.stat().st_size
    if size == 0:
        raise FileFormatError(
            f"{path} is empty (0 bytes), so it holds no saved model: the save that wrote it did "
            f"not finish, or it was created empty. {_REPAIR}"
        )
    with path.open("rb") as handle:
        head = handle.read(512)
        offset = 0  # HDF5 looks for its signature at 0, 512, 1024, 2048, ...
        while offset + len(_HDF5_SIGNATURE) <= size:
            handle.seek(offset)
            if handle.read(len(_HDF5_SIGNATURE)) == _HDF5_SIGNATURE:
                return
            offset = 512 if offset == 0 else 2 * offset
    if head[:3] == b"CDF" and head[3:4] in (b"\x01", b"\x02", b"\x05"):
        kind = "a netCDF-3 file (bf.save writes netCDF-4 files); open it with xarray"
    elif b"\x00" not in head:
        text = head[:40].decode("utf-8", "replace")
        kind = f"a text file (it starts with {text!r})"
    else:
        kind = f"not a netCDF-4/HDF5 file (it starts with {head[:8]!r})"
    raise FileFormatError(
        f"{path} is not a readable netCDF file written by bf.save: it is {kind}. bf.load reads "
        "only the files bf.save writes."
    )


def _open_problem(path: Path, err: Exception) -> str:
    text = str(err)
    found = re.search(r"truncated file: eof = (\d+).*stored_eof = (\d+)", text)
    if found:
        have, want = (int(v) for v in found.groups())
        return (
            f"{path} is truncated: it has {have:,} of its {want:,} bytes (a save or a copy of "
            f"it did not finish). {_REPAIR}"
        )
    return (
        f"{path} is damaged: it starts as a netCDF-4/HDF5 file does, but HDF5 cannot read it "
        f"({_short(text, 200)}). {_REPAIR}"
    )


def _read_header(path: Path) -> dict[str, Any]:
    """Open the file with h5py and read, in this order, the format number, the stored
    specification, column list and encodings, and the checksums (stored and recomputed)."""
    import h5py

    try:
        handle = h5py.File(path, "r")
    except Exception as err:  # noqa: BLE001 - h5py's errors differ by kind of damage
        raise FileFormatError(_open_problem(path, err)) from None
    with handle:
        try:
            found = list(handle)
            if GROUP not in found or not isinstance(handle[GROUP], h5py.Group):
                if "posterior" in found:
                    raise FileFormatError(
                        f"{path} holds draws but no '{GROUP}' group: it was not written by "
                        "bf.save (plain ArviZ files have no model to rebuild; use "
                        "xarray.open_datatree for those)."
                    )
                raise FileFormatError(
                    f"{path} is an HDF5 file without a '{GROUP}' group (it holds "
                    f"{_short(found)}): it was not written by bf.save; open it with h5py or "
                    "xarray."
                )
            attrs = handle[GROUP].attrs
            header = {"format": _format_number(path, attrs)}
            header["spec"] = _check_spec(_json_attr(attrs, "spec", "model description"))
            if header["spec"].get("format") != header["format"]:
                raise _Damaged(
                    f"its save-format number ({header['format']}) and its model description's "
                    f"({_short(header['spec'].get('format'))}) differ"
                )
            header["columns"] = _json_attr(attrs, "columns", "column list")
            header["encodings"] = _json_attr(attrs, "encodings", "encodings")
            header["stored"] = None
            if _DIGEST_ATTR in attrs:
                header["stored"] = _json_attr(attrs, _DIGEST_ATTR, "checksums")
                header["computed"] = _digests(handle)
        except (FileFormatError, _Damaged):
            raise
        except Exception as err:  # noqa: BLE001 - a damaged object inside the file
            raise FileFormatError(
                f"{path} is damaged: HDF5 cannot read part of it ({_short(str(err), 200)}). "
                f"{_REPAIR}"
            ) from None
    return header


def _read_tree(path: Path) -> xr.DataTree:
    try:
        with xr.open_datatree(str(path), engine="h5netcdf") as stored:
            return stored.load().copy()
    except Exception as err:  # noqa: BLE001 - h5py/xarray errors differ by kind of damage
        raise FileFormatError(
            f"{path} is damaged: its groups cannot be read ({_short(str(err), 200)}). {_REPAIR}"
        ) from None
