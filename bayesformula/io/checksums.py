"""SHA-256 checksums of a saved file's arrays and attributes: computing, storing and
comparing them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from bayesformula.io.stored import _DIGEST_ATTR, GROUP, _Damaged

#: HDF5 bookkeeping attributes holding object references (not content, and not comparable).
_REFERENCE_ATTRS = frozenset({"DIMENSION_LIST", "REFERENCE_LIST"})


# ------------------------------------------------------------------ checksums
def _canonical(value: Any) -> bytes:
    """Bytes that identify a stored value (array or attribute) exactly."""
    if isinstance(value, bytes):
        return b"b" + value
    if isinstance(value, str):
        return b"s" + value.encode("utf-8", "surrogatepass")
    array = np.asarray(value)
    head = f"{array.dtype.str}{array.shape}".encode()
    if array.dtype.kind in "OSU":
        items = array.ravel().tolist()
        return head + b"\x1f".join(
            _canonical(v) if isinstance(v, bytes | str) else repr(v).encode() for v in items
        )
    return head + np.ascontiguousarray(array).tobytes()


def _digests(handle) -> dict[str, Any]:
    """SHA-256 of every array with its attributes and of every group's attributes, keyed by
    HDF5 path, and of the ``bayesformula`` group's attributes (the model) as ``"model"``."""
    items = [("/", handle)]
    handle.visititems(lambda name, obj: items.append((name, obj)))
    objects: dict[str, str] = {}
    model = ""
    for name, obj in sorted(items, key=lambda item: item[0]):
        digest = hashlib.sha256()
        for key in sorted(obj.attrs):
            if key in _REFERENCE_ATTRS or (name == GROUP and key == _DIGEST_ATTR):
                continue
            digest.update(key.encode() + b"\x1e" + _canonical(obj.attrs[key]) + b"\x1d")
        if hasattr(obj, "shape") and hasattr(obj, "dtype"):  # an array
            digest.update(_canonical(obj[()]))
        if name == GROUP:
            model = digest.hexdigest()
        else:
            objects[name] = digest.hexdigest()
    return {"objects": objects, "model": model}


def _stamp(path: Path) -> None:
    """Store the checksums of a written file in it (the ``sha256`` attribute)."""
    import h5py

    with h5py.File(path, "r+") as handle:
        handle[GROUP].attrs[_DIGEST_ATTR] = json.dumps(_digests(handle))


def _check_digests(header: dict[str, Any], part: str) -> None:
    """Compare stored and recomputed checksums of the arrays (``part="objects"``) or of the
    model's description (``part="model"``); a file without checksums (version 0.1) passes."""
    stored = header["stored"]
    if stored is None:
        return
    if not isinstance(stored, dict) or not isinstance(stored.get("objects"), dict):
        raise _Damaged("its checksums are unreadable")
    computed = header["computed"]
    if part == "model":
        if stored.get("model") != computed["model"]:
            raise _Damaged(
                f"the model description in its '{GROUP}' group changed after it was saved (its "
                "checksum differs)"
            )
        return
    old, new = stored["objects"], computed["objects"]
    missing = sorted(set(old) - set(new))
    changed = sorted(k for k in set(old) & set(new) if old[k] != new[k])
    added = sorted(set(new) - set(old))
    for names, what in ((changed, "changed"), (missing, "missing"), (added, "not saved")):
        if names:
            raise _Damaged(
                f"{_list(names)} {'is' if len(names) == 1 else 'are'} {what} since it was saved "
                "(checksums of its contents differ)"
            )


def _list(names: list[str], limit: int = 3) -> str:
    shown = ", ".join(f"'{n}'" for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
