"""bf.load on files it should refuse (empty, truncated, damaged, foreign, newer, edited to run
code) and bf.save on arguments it should refuse. Every refusal is a FileFormatError (or a typed
argument error) that names the file and says what to do; nothing in a file is ever run."""

from __future__ import annotations

import json
import os
import shutil

import h5py
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import bayesformula as bf
from bayesformula import io as bfio
from bayesformula.errors import (
    ArgumentError,
    ArgumentTypeError,
    BayesformulaError,
    FileFormatError,
)
from tests.helpers import fit_tree

N, CHAINS, DRAWS = 40, 2, 50


@pytest.fixture(scope="module")
def fitted():
    """A model whose file holds user priors (one with an array argument), a stateful
    transform, a categorical column, and a fit-shaped tree of draws (no sampling needed)."""
    rng = np.random.default_rng(3)
    data = pd.DataFrame(
        {
            "x": rng.normal(3.0, 2.0, N),
            "a": pd.Categorical(rng.choice(["lo", "hi"], N), categories=["lo", "hi"]),
        }
    )
    data["y"] = 1.0 + 0.5 * data["x"] + rng.normal(0, 1, N)
    model = bf.Model(
        "y ~ scale(x) + a",
        data,
        priors={
            "a": bf.Prior("Normal", mu=0, sigma=np.array(3.0)),
            "sigma": bf.Prior("HalfNormal", sigma=2),
        },
    )
    draws = fit_tree(
        posterior={
            "Intercept": rng.normal(size=(CHAINS, DRAWS)),
            "scale(x)": rng.normal(size=(CHAINS, DRAWS)),
            "a": rng.normal(size=(CHAINS, DRAWS, 1)),
            "sigma": rng.gamma(2.0, size=(CHAINS, DRAWS)),
        },
        observed_data={"y": data["y"].to_numpy()},
    )
    return model, draws


@pytest.fixture(scope="module")
def saved(fitted, tmp_path_factory):
    model, draws = fitted
    return bf.save(model, draws, tmp_path_factory.mktemp("saved") / "fit.nc")


@pytest.fixture
def copy(saved, tmp_path):
    """A fresh copy of the saved file, to damage or edit."""
    target = tmp_path / "fit.nc"
    shutil.copyfile(saved, target)
    return target


def _load_error(path, cls=FileFormatError):
    with pytest.raises(cls) as info:
        bf.load(path)
    assert str(path) in str(info.value)  # every message names the file
    return str(info.value)


def _edit(path, key, change, *, restamp=True):
    """Replace the JSON attribute ``key`` of the file's 'bayesformula' group by
    ``change(parsed)``; with ``restamp`` store fresh checksums, so that only the checks of the
    content itself stand between the edit and the model."""
    with h5py.File(path, "r+") as handle:
        attrs = handle["bayesformula"].attrs
        value = change(json.loads(attrs[key]))
        attrs[key] = value if isinstance(value, str) else json.dumps(value)
    if restamp:
        bfio._stamp(path)


# ------------------------------------------------------------------------- intact files
def test_the_saved_file_loads_and_matches(fitted, saved):
    model, draws = fitted
    loaded, again = bf.load(saved)
    xr.testing.assert_identical(again["posterior"].to_dataset(), draws["posterior"].to_dataset())
    assert loaded.priors.common["a"] == model.priors.common["a"]
    np.testing.assert_array_equal(loaded.design.X, model.design.X)


def test_the_file_records_its_format_and_checksums(saved):
    with h5py.File(saved) as handle:
        attrs = handle["bayesformula"].attrs
        assert int(np.ravel(attrs["format"])[0]) == bfio.FORMAT
        assert json.loads(attrs["spec"])["format"] == bfio.FORMAT
        digests = json.loads(attrs["sha256"])
    assert {"posterior/Intercept", "observed_data/y", "bayesformula/c0"} <= set(digests["objects"])
    assert len(digests["model"]) == 64


# ------------------------------------------------------------------------- damaged files
def test_empty_file(tmp_path):
    path = tmp_path / "empty.nc"
    path.write_bytes(b"")
    message = _load_error(path)
    assert "is empty (0 bytes)" in message and "save the model again" in message


@pytest.mark.parametrize("keep", [0.5, 0.99])
def test_truncated_file(copy, keep):
    data = copy.read_bytes()
    copy.write_bytes(data[: int(len(data) * keep)])
    message = _load_error(copy)
    assert f"is truncated: it has {int(len(data) * keep):,} of its {len(data):,} bytes" in message
    assert "save the model again" in message


def test_text_file_renamed_to_nc(tmp_path):
    path = tmp_path / "notes.nc"
    path.write_text("y,x\n1,2\n")
    message = _load_error(path)
    assert "not a readable netCDF file" in message and "text file" in message


def _first_nonzero(data: bytes, start: int, width: int) -> int:
    """The first offset from ``start`` whose ``width`` bytes are not all zero (HDF5's unused
    space is zeros; damage there changes nothing that is read)."""
    for offset in range(start, len(data) - width):
        if any(data[offset : offset + width]):
            return offset
    raise AssertionError("no content after start")


def test_random_bytes_in_the_middle(copy):
    data = bytearray(copy.read_bytes())
    at = _first_nonzero(data, len(data) // 2, 64)
    data[at : at + 64] = np.random.default_rng(0).bytes(64)
    copy.write_bytes(bytes(data))
    message = _load_error(copy)
    assert "is damaged" in message and "save the model again" in message


def test_damage_in_each_array_is_found_and_named(copy, tmp_path):
    with h5py.File(copy) as handle:
        where = {
            name: handle[name].id.get_offset()
            for name in ("posterior/sigma", "observed_data/y", "bayesformula/c1")
        }
    original = copy.read_bytes()
    for name, offset in where.items():
        data = bytearray(original)
        data[offset + 8] ^= 0xFF  # one flipped byte inside the array's values
        path = tmp_path / f"flip-{name.replace('/', '-')}.nc"
        path.write_bytes(bytes(data))
        assert f"'{name}' is changed since it was saved" in _load_error(path)


def test_sweep_of_damage_never_loads_wrong_content(fitted, copy, tmp_path):
    """Damage anywhere gives a FileFormatError, except in unused space, where the file still
    loads with exactly the saved content (every array and attribute has a checksum)."""
    _, draws = fitted
    original = copy.read_bytes()
    rng = np.random.default_rng(1)
    path = tmp_path / "damaged.nc"
    refused = 0
    for offset in np.linspace(0, len(original) - 16, 60).astype(int):
        data = bytearray(original)
        data[offset : offset + 16] = rng.bytes(16)
        path.write_bytes(bytes(data))
        try:
            _, loaded = bf.load(path)
        except FileFormatError as err:
            assert str(path) in str(err)
            refused += 1
            continue
        assert not any(original[offset : offset + 16]), f"damage at {offset} went unnoticed"
        xr.testing.assert_identical(
            loaded["posterior"].to_dataset(), draws["posterior"].to_dataset()
        )
    assert refused >= 40  # most of the file is content or metadata


# ------------------------------------------------------------------------- foreign files
def test_plain_arviz_file(fitted, tmp_path):
    _, draws = fitted
    path = tmp_path / "plain.nc"
    draws.to_netcdf(str(path))
    message = _load_error(path)
    assert "not written by bf.save" in message and "xarray.open_datatree" in message


def test_hdf5_file_with_other_content(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as handle:
        handle["measurements"] = np.arange(10.0)
    message = _load_error(path)
    assert "without a 'bayesformula' group" in message and "measurements" in message


def test_netcdf3_file(tmp_path):
    path = tmp_path / "classic.nc"
    xr.Dataset({"v": ("t", np.arange(3.0))}).to_netcdf(path, engine="scipy")
    assert "netCDF-3" in _load_error(path)


def test_a_folder_is_not_a_file(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a folder"):
        bf.load(tmp_path)


# ------------------------------------------------------------------------- format numbers
def test_newer_format_asks_for_an_upgrade(copy):
    with h5py.File(copy, "r+") as handle:
        attrs = handle["bayesformula"].attrs
        attrs["format"] = bfio.FORMAT + 1
        attrs["spec"] = "a later layout this version cannot parse"  # never read
    message = _load_error(copy)
    assert f"save format {bfio.FORMAT + 1}" in message
    assert "Upgrade bayesformula (pip install --upgrade bayesformula)" in message


def test_newer_format_in_a_file_without_the_format_attribute(copy):
    """Files of version 0.1 keep the format only in their specification."""
    with h5py.File(copy, "r+") as handle:
        attrs = handle["bayesformula"].attrs
        del attrs["format"]
        spec = json.loads(attrs["spec"])
        spec["format"] = 7
        spec["versions"]["bayesformula"] = "9.0.0"
        attrs["spec"] = json.dumps(spec)
    message = _load_error(copy)
    assert "written by bayesformula 9.0.0 in save format 7" in message
    assert "Upgrade bayesformula" in message


@pytest.mark.parametrize("value", ["one", 0, 1.5, [1, 1]])
def test_garbled_format_number(copy, value):
    with h5py.File(copy, "r+") as handle:
        handle["bayesformula"].attrs["format"] = value
    assert "save-format number" in _load_error(copy)


# ------------------------------------------------------------------------- missing or bad metadata
@pytest.mark.parametrize("key", ["spec", "columns", "encodings"])
def test_missing_attribute(copy, key):
    with h5py.File(copy, "r+") as handle:
        del handle["bayesformula"].attrs[key]
    message = _load_error(copy)
    assert f"has no '{key}' attribute" in message and "save the model again" in message


@pytest.mark.parametrize("key", ["spec", "columns", "encodings", "sha256"])
def test_garbled_json(copy, key):
    _edit(copy, key, lambda _: '{"formula": ["y ~ x"', restamp=False)
    assert "is not valid JSON" in _load_error(copy)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("formula", "y ~ x"),
        ("formula", []),
        ("dropna", "yes"),
        ("n_dropped", -1),
        ("n_dropped", True),
        ("noncentered", {"g": "yes"}),
        ("extra_namespace", "np"),
    ],
)
def test_spec_entries_of_the_wrong_type(copy, key, value):
    _edit(copy, "spec", lambda spec: {**spec, key: value})
    message = _load_error(copy)
    assert f"'{key}'" in message and "damaged or was edited" in message


def test_spec_entry_missing(copy):
    _edit(copy, "spec", lambda spec: {k: v for k, v in spec.items() if k != "family"})
    assert "has no 'family' entry" in _load_error(copy)


def test_group_without_posterior(copy):
    with h5py.File(copy, "r+") as handle:
        del handle["posterior"]
    bfio._stamp(copy)
    assert "no posterior group" in _load_error(copy)


def test_an_edit_is_caught_by_the_checksums(copy):
    """A valid-looking change (a prior's scale) that every other check accepts."""

    def wider(spec):
        spec["priors"]["sigma"]["args"]["sigma"] = 20
        return spec

    _edit(copy, "spec", wider, restamp=False)
    assert "changed after it was saved" in _load_error(copy)
    bfio._stamp(copy)  # checksums detect damage, not intent: a consistent file is data again
    loaded, _ = bf.load(copy)
    assert loaded.priors.aux["sigma"] == bf.Prior("HalfNormal", sigma=20)


# ------------------------------------------------------------------------- code in a file
def _payloads(marker):
    return [
        f"__import__('os').system('touch {marker}')",
        f"open('{marker}', 'w')",
        f"exec(\"open('{marker}', 'w')\")",
        f"os.system('touch {marker}')",
    ]


def _set(*keys):
    """An edit that puts a value at ``keys`` of a parsed JSON attribute."""

    def change(value):
        def apply(parsed):
            target = parsed
            for key in keys[:-1]:
                target = target[key]
            target[keys[-1]] = value
            return parsed

        return apply

    return change


def _column(meta, name):
    return next(i for i, info in enumerate(meta) if info["name"] == name)


EDITS = {
    # the formula: the same checks as a formula typed by a user
    "formula": lambda p: ("spec", _set("formula")([f"y ~ {p} + scale(x) + a"])),
    "formula response": lambda p: ("spec", _set("formula")([f"{p} ~ scale(x)"])),
    "formula I()": lambda p: ("spec", _set("formula")([f"y ~ I({p}) + a"])),
    "aux formula": lambda p: ("spec", _set("formula")(["y ~ a", f"sigma ~ {p}"])),
    # names looked up in registries
    "family": lambda p: ("spec", _set("family")(p)),
    "link": lambda p: ("spec", _set("link")(p)),
    "prior name": lambda p: ("spec", _set("priors", "sigma", "__prior__")(p)),
    "prior argument": lambda p: ("spec", _set("priors", "sigma", "args", "sigma")(p)),
    "prior argument name": lambda p: ("spec", _set("priors", "sigma", "args")({p: 1})),
    "prior array dtype": lambda p: (
        "spec",
        _set("priors", "a", "args", "sigma", "dtype")(f"object; {p}"),
    ),
    "prior array values": lambda p: (
        "spec",
        _set("priors", "a", "args", "sigma", "__array__")([p]),
    ),
    "categorical": lambda p: ("spec", _set("categorical")([p])),
    "noncentered": lambda p: ("spec", _set("noncentered")({p: True})),
    "extra_namespace": lambda p: ("spec", _set("extra_namespace")([p])),
    # the data columns: dtypes are names pandas resolves, never expressions
    "column dtype": lambda p: (
        "columns",
        lambda meta: [
            {**info, "dtype": f"object; {p}"} if info["name"] == "x" else info for info in meta
        ],
    ),
    "column name": lambda p: (
        "columns",
        lambda meta: [{**info, "name": p} if info["name"] == "x" else info for info in meta],
    ),
    "categories": lambda p: (
        "columns",
        lambda meta: [
            {**info, "categories": [p, "hi"]} if "categories" in info else info for info in meta
        ],
    ),
    # the encodings are only compared, never used
    "encoding transform": lambda p: (
        "encodings",
        _set("terms", "common:scale(x)", 0, "transform", "type")(p),
    ),
    "encoding levels": lambda p: ("encodings", _set("terms", "common:a", 0, "levels")([p])),
}


@pytest.mark.parametrize("what", sorted(EDITS))
@pytest.mark.parametrize("which", range(4))
def test_code_in_a_file_is_never_run(copy, tmp_path, what, which):
    marker = tmp_path / "pwned"
    payload = _payloads(marker)[which]
    key, change = EDITS[what](payload)
    _edit(copy, key, change)
    with pytest.raises(BayesformulaError) as info:
        bf.load(copy, extra_namespace={"np": np})
    assert not marker.exists()
    # the checksums were refreshed: the content checks themselves refused the payload
    assert "checksum" not in str(info.value)


def test_a_file_edited_into_a_shell_command_is_refused(copy, tmp_path):
    marker = tmp_path / "pwned"
    _edit(copy, "spec", _set("formula")([f"y ~ os.system('touch {marker}') + a"]))
    message = _load_error(copy)
    assert "cannot be rebuilt" in message and "os.system" in message
    assert not marker.exists()


# ------------------------------------------------------------------------- save's arguments
class _PathLike:
    def __init__(self, path):
        self.path = path

    def __fspath__(self):
        return str(self.path)


def test_save_and_load_take_a_str_or_a_pathlike(fitted, tmp_path):
    model, draws = fitted
    assert bf.save(model, draws, str(tmp_path / "s.nc")).exists()
    written = bf.save(model, draws, _PathLike(tmp_path / "p.nc"))
    assert written == tmp_path / "p.nc"
    bf.load(_PathLike(written))


@pytest.mark.parametrize("path", [123, None, b"fit.nc", ["fit.nc"]])
def test_path_of_the_wrong_type(fitted, path):
    model, draws = fitted
    for call in (lambda: bf.save(model, draws, path), lambda: bf.load(path)):
        with pytest.raises(ArgumentTypeError, match="path must be a str or an os.PathLike"):
            call()
        with pytest.raises(TypeError):
            call()


def test_empty_path(fitted):
    model, draws = fitted
    with pytest.raises(ArgumentError, match="path is empty"):
        bf.save(model, draws, "")


def test_load_extra_namespace_type(saved):
    with pytest.raises(ArgumentTypeError, match="extra_namespace must be a dict"):
        bf.load(saved, extra_namespace=["np"])


def test_save_model_and_idata_types(fitted, tmp_path):
    model, draws = fitted
    with pytest.raises(ArgumentTypeError, match="model must be a bayesformula.Model"):
        bf.save(model.spec, draws, tmp_path / "x.nc")
    with pytest.raises(ArgumentTypeError, match="xarray.DataTree"):
        bf.save(model, draws["posterior"].to_dataset(), tmp_path / "x.nc")


def test_save_refuses_a_tree_without_posterior(fitted, tmp_path):
    model, _ = fitted
    prior_only = fit_tree(prior={"Intercept": np.zeros((1, 5))})
    with pytest.raises(ArgumentError, match=r"no posterior draws \(its groups: prior\)"):
        bf.save(model, prior_only, tmp_path / "x.nc")
    assert not (tmp_path / "x.nc").exists()


def test_save_refuses_the_fit_of_another_model(fitted, tmp_path):
    model, draws = fitted
    other = fit_tree(posterior={"Intercept": np.zeros((1, 5)), "z": np.zeros((1, 5))})
    with pytest.raises(ArgumentError, match=r"not a fit of this model.*\['z'\]"):
        bf.save(model, other, tmp_path / "x.nc")
    y = model.response_data.values
    posterior = {"Intercept": np.zeros((1, 5))}
    for observed, match in [
        ({"w": y}, r"observed data hold \['w'\], not the model's response 'y'"),
        ({"y": y[:-1]}, rf"has {N - 1} rows, the model's data {N}"),
        ({"y": np.r_[y[:5], y[5] + 1, y[6:]]}, "differs from the model's data .first at row 5"),
    ]:
        tree = fit_tree(posterior=posterior, observed_data=observed)
        with pytest.raises(ArgumentError, match=match):
            bf.save(model, tree, tmp_path / "x.nc")


def test_save_to_a_folder_or_below_a_file(fitted, tmp_path):
    model, draws = fitted
    with pytest.raises(IsADirectoryError, match=f"cannot save to {tmp_path}: it is a folder"):
        bf.save(model, draws, tmp_path)
    blocker = tmp_path / "file.txt"
    blocker.write_text("")
    with pytest.raises(NotADirectoryError, match="is a file, not a folder"):
        bf.save(model, draws, blocker / "fit.nc")


def test_save_to_a_missing_folder(fitted, tmp_path):
    model, draws = fitted
    with pytest.raises(ArgumentError, match="folder .* does not exist"):
        bf.save(model, draws, tmp_path / "no" / "fit.nc")


def test_save_to_a_read_only_folder(fitted, tmp_path, monkeypatch):
    model, draws = fitted
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):  # root ignores permission bits: answer as for others
            monkeypatch.setattr(os, "access", lambda path, mode, **kwargs: False)
        with pytest.raises(PermissionError, match=f"cannot save to {folder}.*not writable"):
            bf.save(model, draws, folder / "fit.nc")
    finally:
        folder.chmod(0o700)


def test_a_failed_write_names_the_path_and_keeps_the_old_file(fitted, saved, tmp_path, monkeypatch):
    model, draws = fitted
    target = tmp_path / "fit.nc"
    shutil.copyfile(saved, target)
    before = target.read_bytes()

    def refuse(self, path, **kwargs):
        raise OSError(f"Unable to synchronously create file (name = '{path}', errno = 13)")

    monkeypatch.setattr(xr.DataTree, "to_netcdf", refuse)
    with pytest.raises(PermissionError, match=f"cannot save to {target}: the folder .* writable"):
        bf.save(model, draws, target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fit.nc"]  # no temporary left


def test_save_replaces_an_existing_file(fitted, tmp_path):
    model, draws = fitted
    target = tmp_path / "fit.nc"
    target.write_text("an older file")
    bf.save(model, draws, target)
    _, loaded = bf.load(target)
    assert set(loaded.children) == {"posterior", "observed_data"}
