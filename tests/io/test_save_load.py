"""bf.save / bf.load: one file, and a fresh process predicts exactly as the original model."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

import bayesformula as bf
from bayesformula.errors import BayesformulaError, FamilyError, FileFormatError
from bayesformula.io import encodings
from tests.conftest import FIT
from tests.helpers import fit_tree


@pytest.fixture(scope="module")
def transformed_fit():
    """A model whose encodings depend on the data: scale(), an ordered categorical, groups."""
    rng = np.random.default_rng(8)
    n = 90
    data = pd.DataFrame(
        {
            "x": rng.normal(3.0, 2.0, n),
            "a": pd.Categorical(rng.choice(["lo", "mid", "hi"], n), categories=["lo", "mid", "hi"]),
            "g": rng.choice(["u", "v", "w", "z"], n),
        },
        index=pd.Index([f"id{i}" for i in range(n)], name="row_id"),
    )
    data["y"] = 1.0 + 0.5 * data["x"] + rng.normal(0, 1, n)
    model = bf.Model(
        "y ~ scale(x) + a + (1|g)",
        data,
        priors={"a": bf.Prior("Normal", mu=0, sigma=3), "sigma": bf.Prior("HalfNormal", sigma=2)},
    )
    idata = model.fit(random_seed=2, **{**FIT, "draws": 150, "tune": 150, "chains": 1})
    return model, idata


NEW = pd.DataFrame(
    {"x": [-1.0, 3.0, 9.5], "a": ["hi", "lo", "mid"], "g": ["w", "u", "z"]},
    index=pd.Index([10, 3, 7], name="case"),
)


def test_one_file_holds_spec_encodings_data_and_draws(transformed_fit, tmp_path):
    import h5py

    model, idata = transformed_fit
    path = bf.save(model, idata, tmp_path / "fit.nc")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fit.nc"]
    with h5py.File(path) as handle:
        groups = set(handle)
        attrs = dict(handle["bayesformula"].attrs)
    assert {"posterior", "sample_stats", "observed_data", "bayesformula"} <= groups
    spec = json.loads(attrs["spec"])
    assert spec["formula"] == ["y ~ scale(x) + a + (1|g)"] and spec["family"] == "gaussian"
    assert spec["priors"]["a"]["args"] == {"mu": 0, "sigma": 3}
    enc = json.loads(attrs["encodings"])
    scale = enc["terms"]["common:scale(x)"][0]["transform"]
    x = model.data["x"]
    assert scale["mean"] == pytest.approx(x.mean(), rel=1e-12)
    assert scale["std"] == pytest.approx(x.std(ddof=0), rel=1e-12)
    assert enc["group_levels"]["g"] == ["u", "v", "w", "z"]
    # the caller's idata is untouched
    assert "bayesformula" not in idata.children


def test_fresh_process_predicts_exactly_as_the_original(transformed_fit, tmp_path):
    model, idata = transformed_fit
    path = bf.save(model, idata, tmp_path / "fit.nc")
    expected = model.predictions(idata, data=NEW)
    NEW.to_csv(tmp_path / "new.csv")
    script = textwrap.dedent(
        f"""
        import warnings; warnings.filterwarnings("ignore")
        import pandas as pd, bayesformula as bf
        model, idata = bf.load({str(path)!r})
        new = pd.read_csv({str(tmp_path / "new.csv")!r}, index_col="case")
        model.predictions(idata, data=new).to_csv({str(tmp_path / "out.csv")!r})
        print(model.formula, model.priors.common["a"], model.priors.aux["sigma"])
        """
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Normal(mu: 0, sigma: 3) HalfNormal(sigma: 2)" in run.stdout
    got = pd.read_csv(tmp_path / "out.csv", index_col="case")
    assert list(got.index) == [10, 3, 7]
    # CSV round trip prints 17 significant digits: exact equality of float64 values
    np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy())


def test_loaded_model_matches_in_process(transformed_fit, tmp_path):
    model, idata = transformed_fit
    path = bf.save(model, idata, tmp_path / "fit.nc")
    loaded, draws = bf.load(path)
    assert "bayesformula" not in draws.children
    np.testing.assert_array_equal(
        draws.posterior["scale(x)"].values, idata.posterior["scale(x)"].values
    )
    assert loaded.data.index.name == "row_id" and list(loaded.data.index) == list(model.data.index)
    assert loaded.data["a"].cat.categories.tolist() == ["lo", "mid", "hi"]
    assert encodings(loaded.design) == json.loads(json.dumps(encodings(model.design)))
    pd.testing.assert_frame_equal(
        loaded.predictions(draws, data=NEW, kind="response", random_seed=4),
        model.predictions(idata, data=NEW, kind="response", random_seed=4),
    )
    assert loaded.noncentered is None and loaded.parameterization == model.parameterization


def test_parameterisation_option_round_trips(transformed_fit, tmp_path):
    model, idata = transformed_fit
    forced = bf.Model(model.formula.main, model.data, noncentered={"g": False})
    loaded, _ = bf.load(bf.save(forced, idata, tmp_path / "forced.nc"))
    assert loaded.noncentered == {"g": False}
    assert loaded.parameterization["g"].noncentered is False


def test_binomial_trials_and_categorical_dataset_round_trip(bioassay_fit, tmp_path):
    model, idata = bioassay_fit
    loaded, draws = bf.load(bf.save(model, idata, tmp_path / "b.nc"))
    new = pd.DataFrame({"dose": [-0.3, 0.4], "n": [5, 20]})
    pd.testing.assert_frame_equal(
        loaded.predictions(draws, data=new), model.predictions(idata, data=new)
    )


def test_load_rejects_changed_encodings(transformed_fit, tmp_path):
    import h5py

    model, idata = transformed_fit
    path = bf.save(model, idata, tmp_path / "fit.nc")
    with h5py.File(path, "r+") as handle:
        enc = json.loads(handle["bayesformula"].attrs["encodings"])
        enc["terms"]["common:scale(x)"][0]["transform"]["mean"] += 0.5
        handle["bayesformula"].attrs["encodings"] = json.dumps(enc)
    with pytest.raises(FileFormatError, match=r"does not encode the data.*scale\(x\)"):
        bf.load(path)


def test_load_errors(tmp_path, bioassay_fit):
    with pytest.raises(FileNotFoundError, match="no such file"):
        bf.load(tmp_path / "missing.nc")
    (tmp_path / "junk.nc").write_text("not netcdf")
    with pytest.raises(FileFormatError, match="not a readable netCDF"):
        bf.load(tmp_path / "junk.nc")
    _, idata = bioassay_fit
    idata.to_netcdf(str(tmp_path / "plain.nc"))
    with pytest.raises(FileFormatError, match="not written by bf.save"):
        bf.load(tmp_path / "plain.nc")


def test_save_errors(bioassay_fit, bioassay, tmp_path):
    model, idata = bioassay_fit
    with pytest.raises(BayesformulaError, match="xarray.DataTree"):
        bf.save(model, {"posterior": 1}, tmp_path / "x.nc")
    with pytest.raises(BayesformulaError, match="does not exist"):
        bf.save(model, idata, tmp_path / "no" / "x.nc")
    custom = bf.Family(
        name="my_binomial",
        likelihood="Binomial",
        parent="p",
        links=("logit",),
        support="trials",
        to_dist=lambda d: {"n": d["trials"], "p": d["p"]},
        draw=lambda rng, n, p: rng.binomial(n.astype(int), p),
    )
    unregistered = bf.Model("p(deaths, n) ~ dose", bioassay, family=custom)
    with pytest.raises(FamilyError, match="register it with bf.register_family"):
        bf.save(unregistered, idata, tmp_path / "x.nc")


def test_extra_namespace_must_be_given_again(tmp_path):
    rng = np.random.default_rng(1)
    data = pd.DataFrame({"x": rng.uniform(1, 2, 30)})
    data["y"] = rng.normal(size=30)

    def cube(v):
        return v**3

    model = bf.Model("y ~ cube(x)", data, extra_namespace={"cube": cube})
    idata = model.prior_predictive(draws=20, random_seed=1)
    idata["posterior"] = idata["prior"].to_dataset()
    path = bf.save(model, idata, tmp_path / "ns.nc")
    with pytest.raises(BayesformulaError, match=r"\['cube'\].*extra_namespace"):
        bf.load(path)
    loaded, _ = bf.load(path, extra_namespace={"cube": cube})
    np.testing.assert_array_equal(loaded.design.X, model.design.X)


def test_load_checks_the_encodings_of_auxiliary_formulas(tmp_path):
    import h5py

    rng = np.random.default_rng(3)
    df = pd.DataFrame({"y": rng.normal(size=30), "x": rng.normal(size=30)})
    df["z"] = rng.normal(5.0, 2.0, 30)
    model = bf.Model(bf.Formula("y ~ x", "sigma ~ scale(z)"), df)
    draws = fit_tree(posterior={"x": np.zeros((1, 4))})
    loaded, _ = bf.load(bf.save(model, draws, tmp_path / "sigma.nc"))
    assert loaded.aux_parts["sigma"].formula == model.aux_parts["sigma"].formula
    path = bf.save(model, draws, tmp_path / "changed.nc")
    with h5py.File(path, "r+") as handle:
        enc = json.loads(handle["bayesformula"].attrs["encodings"])
        enc["aux_parts"]["sigma"]["terms"]["common:scale(z)"][0]["transform"]["mean"] += 0.5
        handle["bayesformula"].attrs["encodings"] = json.dumps(enc)
    with pytest.raises(FileFormatError, match=r"does not encode the data.*aux_parts.*scale\(z\)"):
        bf.load(path)
