"""Any data frame in (pandas, polars eager and lazy, pyarrow, a dict of columns), the same
posterior out, and prediction tables in the caller's kind."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayesformula as bf
from bayesformula.core.frames import as_kind, to_pandas
from bayesformula.errors import DataTypeError

pl = pytest.importorskip("polars")
pa = pytest.importorskip("pyarrow")


def _data(n=60):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"x": rng.normal(size=n), "g": rng.choice(["a", "b"], n)})
    frame["y"] = 1.0 + 0.5 * frame.x + np.where(frame.g == "b", 0.3, 0.0) + rng.normal(size=n)
    return frame


KINDS = {
    "pandas": lambda d: d,
    "polars": pl.from_pandas,
    "polars lazy": lambda d: pl.from_pandas(d).lazy(),
    "pyarrow": lambda d: pa.Table.from_pandas(d, preserve_index=False),
    "dict": lambda d: {c: d[c].tolist() for c in d.columns},
}


@pytest.fixture(scope="module")
def reference():
    model = bf.Model("y ~ x + g", _data())
    return model.fit(draws=100, chains=2, random_seed=5, progressbar=False)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_of_frame_gives_the_same_posterior(kind, reference):
    model = bf.Model("y ~ x + g", KINDS[kind](_data()))
    assert isinstance(model.data, pd.DataFrame)
    idata = model.fit(draws=100, chains=2, random_seed=5, progressbar=False)
    for name in ("Intercept", "x", "g", "sigma"):
        np.testing.assert_array_equal(idata["posterior"][name], reference["posterior"][name])


@pytest.mark.parametrize(
    "kind, native", [("polars", pl.DataFrame), ("pyarrow", pa.Table), ("pandas", pd.DataFrame)]
)
def test_prediction_tables_come_back_in_the_callers_kind(kind, native, reference):
    model = bf.Model("y ~ x + g", _data())
    new = pd.DataFrame({"x": [0.0, 1.0, 2.0], "g": ["a", "b", "a"]})
    expected = model.predictions(reference, new)
    table = model.predictions(reference, KINDS[kind](new))
    assert isinstance(table, native)
    values = table if kind == "pandas" else pd.DataFrame(table.to_pandas())
    np.testing.assert_array_equal(values["mean"].to_numpy(), expected["mean"].to_numpy())
    as_pandas = model.predictions(reference, KINDS[kind](new), return_type="pandas")
    assert isinstance(as_pandas, pd.DataFrame)
    lazy = model.predictions(reference, pl.from_pandas(new).lazy())
    assert isinstance(lazy, pl.DataFrame)  # a LazyFrame is collected


def test_interpretation_and_predict_accept_other_frames(reference):
    model = bf.Model("y ~ x + g", _data())
    grid = bf.datagrid(model, x=[0.0, 1.0])
    expected = {
        "comparisons": bf.comparisons(model, reference, "g", grid),
        "slopes": bf.slopes(model, reference, "x", grid),
        "predictions": bf.predictions(model, reference, grid),
    }
    for frame, native in (
        (pl.from_pandas(grid), pl.DataFrame),
        (pa.Table.from_pandas(grid, preserve_index=False), pa.Table),
    ):
        for name, reference_table in expected.items():
            arguments = {"predictions": (), "comparisons": ("g",), "slopes": ("x",)}[name]
            call = getattr(bf, name)
            table = call(model, reference, *arguments, frame)  # the caller's kind back
            assert isinstance(table, native), name
            shown = pd.DataFrame(table.to_pandas())
            np.testing.assert_array_equal(shown["estimate"], reference_table["estimate"])
            # the pandas table carries the draws
            full = call(model, reference, *arguments, frame, return_type="pandas")
            np.testing.assert_array_equal(full.draws, reference_table.draws)
    as_polars = bf.predictions(model, reference, grid, return_type="polars")
    assert isinstance(as_polars, pl.DataFrame)
    with pytest.raises(bf.errors.PredictionError, match="return_type must be one of"):
        bf.predictions(model, reference, grid, return_type="excel")
    out = model.predict(reference, data=pl.from_pandas(grid), inplace=False)
    assert out["posterior"]["mu"].sizes["__obs__"] == 2


def test_conversion_helpers_and_errors():
    frame = pd.DataFrame({"a": [1, 2]}, index=["p", "q"])
    assert as_kind(frame, "pandas") is frame
    polars = as_kind(frame, "polars")
    assert polars.columns == ["index", "a"] and polars["index"].to_list() == ["p", "q"]
    assert isinstance(as_kind(frame, "dict"), pd.DataFrame)
    assert isinstance(as_kind(frame, "pandas", return_type="pyarrow"), pa.Table)
    with pytest.raises(DataTypeError, match="return_type"):
        as_kind(frame, "pandas", return_type="excel")
    with pytest.raises(DataTypeError, match="DataFrame"):
        to_pandas([1, 2], "data", "Model()")
    with pytest.raises(DataTypeError, match="dict"):
        to_pandas({"a": [1, 2], "b": [1]})
    assert to_pandas({"a": [1, 2]})[1] == "dict"
