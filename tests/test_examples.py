"""The example scripts run end to end (fast mode) and write what they promise."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_example(script: str, out_dir: Path) -> str:
    """Run examples/<script> in fast mode with OUT_DIR as its argument; return its stdout."""
    env = {**os.environ, "BAYESFORMULA_FAST": "1", "MPLBACKEND": "Agg"}
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / script), str(out_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_bioassay_example_runs_and_writes_figures(tmp_path):
    text = run_example("bioassay.py", tmp_path / "figs")
    for name in ("prior_curves.png", "trace.png", "posterior_curve.png"):
        path = tmp_path / "figs" / name
        assert path.exists() and path.stat().st_size > 10_000, name
    assert "Formula: p(deaths, n) ~ dose" in text and "dose ~ Normal" in text
    assert "r_hat" in text and "ess_bulk" in text


def test_plots_example_writes_six_figures(tmp_path):
    stdout = run_example("plots.py", tmp_path / "figs")
    names = ("priors", "prior_predictive", "trace", "posterior", "ppc", "predictions")
    for name in names:
        path = tmp_path / "figs" / f"{name}.png"
        assert path.exists() and path.stat().st_size > 10_000, name
        assert f"wrote {path}" in stdout
    written = sorted(p.name for p in (tmp_path / "figs").iterdir())
    assert written == sorted(f"{name}.png" for name in names)


def test_radon_workflow_example_reproduces_gelman_hill(tmp_path):
    text = run_example("radon_workflow.py", tmp_path)
    assert (tmp_path / "radon_fit.nc").exists()
    assert (tmp_path / "uranium_by_floor.png").stat().st_size > 10_000
    assert "the loaded model predicts identically" in text
    means = {}
    for line in text.split("posterior means:")[1].splitlines()[2:7]:
        name, value = line.split()
        means[name] = float(value)
    # Gelman & Hill (2007, section 12.6): floor -0.67, uranium 0.72, county sd 0.16, sigma 0.76.
    # Posterior sds are 0.07, 0.10, 0.05 and 0.02; 600 draws give MCSEs below 0.01.
    assert abs(means["floor"] + 0.67) < 0.1
    assert abs(means["uranium"] - 0.72) < 0.15
    assert abs(means["1|county_sigma"] - 0.16) < 0.08
    assert abs(means["sigma"] - 0.76) < 0.03
    assert "elpd_diff" in text and "Bayesian R2" in text


def test_families_example_recovers_known_truth(tmp_path):
    """Quantile regression, zero-inflated counts, censored survival times, ordered ratings,
    unordered categories and overdispersed counts per category on simulated data: each
    estimate lies within 4 posterior sds of the value the data were simulated with, and the
    categorical model's posterior means lie within 0.3 posterior sds of statsmodels' MNLogit
    maximum-likelihood estimates (600 rows: the prior moves them by less than 0.1 sd, and
    600 draws add a Monte Carlo error of about 0.08 sd)."""
    import pandas as pd

    stdout = " ".join(run_example("families.py", tmp_path / "out").split())  # lines wrap
    assert "90% quantile (family='asymmetriclaplace')" in stdout
    assert "share of zeros" in stdout
    table = pd.read_csv(tmp_path / "out" / "estimates.csv")
    assert set(table["model"]) == {
        "90% quantile",
        "zero-inflated counts",
        "censored survival",
        "ordinal ratings",
        "transport mode",
        "pollen counts",
    }
    assert "Response: censored(time, status):" in stdout
    assert "Intercept: none; the thresholds of family 'cumulative' take its place" in stdout
    assert "P(rating = level) for new units" in stdout and "mean[excellent]" in stdout
    sd = (table["hdi_high"] - table["hdi_low"]) / (2 * 1.88)  # 94 % interval ~ +-1.88 sd
    assert ((table["mean"] - table["truth"]).abs() < 4 * sd).all(), table

    # 5a: per-category coefficients against the reference 'walk', next to MNLogit
    assert "coefficients compare each with the reference 'walk'" in stdout
    assert "transport mode (family='categorical')" in stdout and "MNLogit se" in stdout
    modes = table[table["model"] == "transport mode"].set_index("parameter")
    assert set(modes.index) == {
        "Intercept[bike]",
        "Intercept[car]",
        "distance[bike]",
        "distance[car]",
    }
    mode_sd = sd[table["model"] == "transport mode"].to_numpy()
    assert ((modes["mean"] - modes["reference"]).abs().to_numpy() < 0.3 * mode_sd).all(), modes
    # 5b: phi and the coefficients of the counts, and counts predicted for new samples
    assert "totals 20 to 60; coefficients compare each category with the reference 'pine'" in (
        stdout
    )
    pollen = table[table["model"] == "pollen counts"]
    assert set(pollen["parameter"]) == {
        "Intercept[oak]",
        "Intercept[grass]",
        "temp[oak]",
        "temp[grass]",
        "phi",
    }
    lines = stdout.split("counts out of 50 (response_mean[...]) for new samples:")[1]
    header, *rows = lines.strip().splitlines()[:4]
    assert "mean[grass]" in header and "response_mean[oak]" in header
    for row in rows:  # the drawn counts of each new sample average to its total, 50
        values = [float(v) for v in row.split()[2:]]  # after the index and temp
        assert abs(sum(values[:3]) - 1) < 0.02 and abs(sum(values[3:]) - 50) < 0.05, row


def test_variance_models_example_recovers_sigma_formula_and_matches_lme4(tmp_path):
    import pandas as pd

    stdout = run_example("variance_models.py", tmp_path / "out")
    assert "Link: mu = identity, sigma = log" in stdout
    table = pd.read_csv(tmp_path / "out" / "estimates.csv").set_index("parameter")
    sigma_part = table[table["model"] == "sigma ~ x"]
    # known truth: each estimate within 4 posterior sds
    assert ((sigma_part["mean"] - sigma_part["reference"]).abs() < 4 * sigma_part["sd"]).all()
    lme4 = table[table["model"] == "(Days|Subject)"]
    # posterior medians next to REML: within one posterior sd (skewed variance posteriors)
    assert ((lme4["mean"] - lme4["reference"]).abs() < lme4["sd"]).all(), lme4
    assert "sigma ~ x" in stdout.split("LOO comparison")[1].splitlines()[2]


def test_terms_example_recovers_known_truth(tmp_path):
    """mo() and hsgp() on simulated data: the monotonic coefficient, its simplex and the
    Gaussian-process curve at ten points each lie within 4 posterior sds of the truth. A
    calibrated posterior misses that by chance with probability about 6e-5 per estimate (1e-3
    for all 15); a wrong step coding or basis misses it by far (the step shares differ by 0.2 to
    0.5 and the curve's sd is about 0.15)."""
    import pandas as pd

    stdout = run_example("terms.py", tmp_path / "out")
    assert "mo(education)_simplex ~ Dirichlet(a: [1, 1, 1])" in stdout
    assert "hsgp(x, m=15, c=1.5)_ell ~ InverseGamma" in stdout
    assert (tmp_path / "out" / "gp_curve.png").stat().st_size > 10_000
    table = pd.read_csv(tmp_path / "out" / "estimates.csv")
    assert set(table["model"]) == {"monotonic", "gaussian process"}
    assert "mo(education)_simplex[primary->secondary]" in set(table["parameter"])
    assert (table["model"] == "gaussian process").sum() == 10
    assert ((table["mean"] - table["truth"]).abs() < 4 * table["sd"]).all(), table


def test_interpreting_example_prints_tables_and_writes_figures(tmp_path):
    text = run_example("interpreting.py", tmp_path / "figs")
    for name in ("bioassay_slope.png", "radon_floor.png"):
        path = tmp_path / "figs" / name
        assert path.exists() and path.stat().st_size > 5_000, name
    assert "-Intercept / dose < 0" in text and "post_prob" in text
    assert "10 homes or more" in text and "under 10 homes" in text


def test_course_notebook_runs_in_a_kernel():
    """examples/bioassay_course.ipynb, executed top to bottom in a real Jupyter kernel (fast
    mode): no cell fails; the sliders' widget shows and redraws the prior curves when a slider
    moves; the posterior curve shows; the model, its diagnostics and the tables show as HTML;
    and the LD50 is near the published one (Gelman et al. 2013, section 3.7: about -0.11
    under flat priors; the posterior sd is about 0.14, so 600 draws put the mean within 0.02
    of its long-run value, and the default priors move it by about 0.03)."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipywidgets")
    notebook = nbformat.read(ROOT / "examples" / "bioassay_course.ipynb", as_version=4)
    # what a student does next: move the slope's slider, narrow then wide
    check = """
    import json
    steep = []
    for sd in (0.5, 20.0):
        sliders.children[1].value = sd
        axes = sliders.result.axes[0]  # the figure the sliders drew
        steep.append(axes.get_title().split("; ")[1].split("%")[0])
    curves = len(axes.lines)
    print(json.dumps({"ld50": float(ld50["estimate"].iloc[0]), "steep": steep, "curves": curves}))
    """
    notebook.cells.append(nbformat.v4.new_code_cell(textwrap.dedent(check)))
    client = nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BAYESFORMULA_FAST", "1")
        patch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
        client.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    shown = [
        o.get("data", {}) for o in outputs if o.output_type in ("execute_result", "display_data")
    ]
    html = "\n".join(d.get("text/html", "") for d in shown)
    assert "bayesformula.Model" in html and "Fast path" in html
    assert "Diagnostics: no problems found" in html
    assert "-Intercept / dose &lt; 0" in html or "-Intercept / dose < 0" in html
    assert any("application/vnd.jupyter.widget-view+json" in d for d in shown)
    assert any("image/png" in d for d in shown)  # the posterior curve
    result = json.loads(notebook.cells[-1].outputs[0]["text"])
    assert result["curves"] == 40
    narrow, wide = map(float, result["steep"])
    assert narrow < 10 < 50 < wide
    assert abs(result["ld50"] + 0.11) < 0.1


def test_many_ab_tests_example_recovers_each_markets_effect(tmp_path):
    """fit_many over 100 simulated markets (fast mode): the 94% intervals cover the markets'
    true treatment effects. For calibrated intervals the coverage is Binomial(100, 0.94) / 100
    (sd 0.024); 0.80 is six sds below, while a wrong coefficient or sign covers almost none."""
    import pandas as pd

    stdout = run_example("many_ab_tests.py", tmp_path / "out")
    assert "100 markets in" in stdout and "markets/s" in stdout
    table = pd.read_csv(tmp_path / "out" / "treatment_effects.csv")
    assert len(table) == 100 and table["market"].is_unique
    assert table["covered"].mean() >= 0.80, table
    assert (table["r_hat"] < 1.1).all()
