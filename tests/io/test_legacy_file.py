"""A file saved by bayesformula 0.1 (PyMC 5.28, ArviZ 0.23's InferenceData) loads as a fit
(xarray.DataTree) and predicts exactly what it predicted when it was saved."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

import bayesformula as bf

DATA = Path(__file__).parent / "data"


def test_a_file_saved_by_version_0_1_loads_and_predicts_identically():
    model, idata = bf.load(DATA / "sleepstudy-v0.1.nc")
    assert isinstance(idata, xr.DataTree)
    assert set(idata.children) == {"posterior", "sample_stats", "observed_data"}
    assert idata["posterior"].sizes["chain"] == 2 and idata["posterior"].sizes["draw"] == 60
    new = pd.read_csv(DATA / "sleepstudy-v0.1-new.csv", index_col=0)
    new["Subject"] = new["Subject"].astype(str)
    predicted = model.predict(idata, data=new, inplace=False)
    mu = predicted["posterior"]["mu"].mean(("chain", "draw")).to_numpy()
    expected = json.loads((DATA / "sleepstudy-v0.1-expected.json").read_text())["mu_mean"]
    # the same draws through the same design: equal up to summation order
    np.testing.assert_allclose(mu, expected, rtol=1e-12)
    assert list(predicted["posterior"]["mu"]["__obs__"].values) == list(new.index)
    table = bf.summary(idata)
    assert "1|Subject[308]" in table.index and "scale(Days)" in table.index


def test_a_loaded_old_file_saves_again_in_the_new_layout(tmp_path):
    model, idata = bf.load(DATA / "sleepstudy-v0.1.nc")
    path = bf.save(model, idata, tmp_path / "again.nc")
    again_model, again = bf.load(path)
    assert set(again.children) == set(idata.children)
    xr.testing.assert_identical(again["posterior"].to_dataset(), idata["posterior"].to_dataset())
    assert again_model.formula.main == model.formula.main
