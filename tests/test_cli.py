"""The `bayesformula` command: output, files written and exit codes a script can rely on."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import bayesformula as bf
from bayesformula.cli import main


@pytest.fixture(scope="module")
def cli_fit(tmp_path_factory):
    """One real `fit` run through the command line, shared by the tests that read its output."""
    folder = tmp_path_factory.mktemp("cli")
    bf.load_data("bioassay").to_csv(folder / "bio.csv", index=False)
    argv = [
        "fit", "p(deaths, n) ~ dose", "--data", str(folder / "bio.csv"), "--family", "binomial",
        "--draws", "300", "--tune", "300", "--chains", "2", "--cores", "1", "--seed", "7",
        "--no-progress", "--out", str(folder / "fit.nc"), "--summary-csv", str(folder / "s.csv"),
    ]  # fmt: skip
    return folder, argv


def test_fit_prints_priors_diagnostics_summary_and_saves(cli_fit, capsys):
    folder, argv = cli_fit
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "Formula: p(deaths, n) ~ dose" in out and "dose ~ Normal" in out
    assert out.count("Diagnostics:") == 1
    assert "hdi_3%" in out and "r_hat" in out
    # what ran, read from the fit: "auto" samples bioassay's fast path with nutpie
    assert "Sampling: nutpie, 2 chains x 300 draws after 300 warm-up steps." in out
    summary = pd.read_csv(folder / "s.csv", index_col=0)
    assert set(summary.index) == {"dose", "Intercept"}
    model, idata = bf.load(folder / "fit.nc")
    np.testing.assert_allclose(
        summary.loc["dose", "mean"], idata.posterior["dose"].values.mean(), rtol=1e-12
    )
    # bioassay's dose effect is clearly positive (BDA3 3.7: posterior mean about 10 with a
    # flat prior; the default prior shrinks it, but the 94% interval stays above zero)
    assert summary.loc["dose", "hdi_3%"] > 0


def test_predict_writes_input_rows_with_prediction_columns(cli_fit, capsys, tmp_path):
    folder, argv = cli_fit
    if not (folder / "fit.nc").exists():
        assert main(argv) == 0
    new = pd.DataFrame({"id": ["a", "b", "c"], "dose": [-0.5, 0.0, 0.6], "n": [5, 10, 5]})
    new.to_csv(tmp_path / "new.csv", index=False)
    rc = main(
        ["predict", str(folder / "fit.nc"), "--data", str(tmp_path / "new.csv"),
         "--out", str(tmp_path / "pred.csv"), "--kind", "response", "--seed", "3"]
    )  # fmt: skip
    assert rc == 0
    pred = pd.read_csv(tmp_path / "pred.csv")
    assert list(pred["id"]) == ["a", "b", "c"]
    assert {"mean", "sd", "hdi_3%", "hdi_97%", "pi_3%", "pi_97%"} <= set(pred.columns)
    model, idata = bf.load(folder / "fit.nc")
    expected = model.predictions(idata, data=new, kind="response", random_seed=3)
    np.testing.assert_array_equal(pred["mean"], expected["mean"])
    np.testing.assert_array_equal(pred["pi_97%"], expected["pi_97%"])
    assert ((pred["pi_3%"] >= 0) & (pred["pi_97%"] <= new["n"])).all()
    # without --out the CSV goes to standard output
    capsys.readouterr()
    assert main(["predict", str(folder / "fit.nc"), "--data", str(tmp_path / "new.csv")]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("id,dose,n,mean,sd") and len(printed) == 4


def test_datasets_lists_and_writes(capsys, tmp_path):
    assert main(["datasets"]) == 0
    listed = capsys.readouterr().out
    for name in bf.list_datasets():
        assert name in listed
    assert main(["datasets", "sleepstudy", "--out", str(tmp_path / "s.csv")]) == 0
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "s.csv"), bf.load_data("sleepstudy"), check_dtype=False
    )


def test_exit_codes_and_messages(capsys, tmp_path):
    bf.load_data("bioassay").to_csv(tmp_path / "bio.csv", index=False)
    data = ["--data", str(tmp_path / "bio.csv")]
    # 3: bad input, with the library's message
    assert main(["fit", "p(deaths, n) ~ dos", *data, "--family", "binomial"]) == 3
    err = capsys.readouterr().err
    assert "did you mean 'dose'" in err and err.startswith("bayesformula: error:")
    assert main(["fit", "deaths ~ dose", *data, "--family", "gausian"]) == 3
    assert "did you mean 'gaussian'" in capsys.readouterr().err
    assert main(["datasets", "radom"]) == 3
    assert "did you mean 'radon'" in capsys.readouterr().err
    # 4: files
    assert main(["fit", "y ~ x", "--data", str(tmp_path / "missing.csv")]) == 4
    assert "not found" in capsys.readouterr().err
    assert main(["predict", str(tmp_path / "missing.nc"), *data]) == 4
    assert main(["predict", str(tmp_path / "bio.csv"), *data]) == 4
    assert "not a readable netCDF" in capsys.readouterr().err
    # 2: usage
    assert main(["fit", "y ~ x"]) == 2
    assert "exactly one of --data" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["fit"])
    assert exc.value.code == 2


def test_an_older_bambi_method_name_is_a_usage_error_naming_the_replacement(capsys):
    argv = ["fit", "p(deaths, n) ~ dose", "--dataset", "bioassay", "--inference-method", "mcmc"]
    assert main(argv) == 2
    assert "write inference_method='pymc'" in capsys.readouterr().err


def test_strict_exits_5_when_diagnostics_find_problems(capsys, tmp_path):
    bf.load_data("bioassay").to_csv(tmp_path / "bio.csv", index=False)
    # 2 chains x 20 draws cannot reach the 200 effective draws the ESS check asks for
    argv = [
        "fit", "p(deaths, n) ~ dose", "--data", str(tmp_path / "bio.csv"), "--family",
        "binomial", "--draws", "20", "--tune", "50", "--chains", "2", "--cores", "1",
        "--seed", "1", "--no-progress",
    ]  # fmt: skip
    assert main([*argv, "--strict"]) == 5
    assert "Next step:" in capsys.readouterr().out
    assert main(argv) == 0


def test_module_entry_point_and_version():
    run = subprocess.run(
        [sys.executable, "-m", "bayesformula", "--version"], capture_output=True, text=True
    )
    assert run.returncode == 0 and run.stdout.strip() == f"bayesformula {bf.__version__}"
