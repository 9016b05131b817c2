"""What a terminal and a notebook show of a model, a diagnostics report and a summary table:
the text fits 88 columns, the HTML is self-contained and renders in a real headless browser
with every prior in the table, nothing clipped and nothing wider than a notebook's output."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayesformula as bf
from bayesformula.diagnostics import check
from bayesformula.many import ManyFits
from bayesformula.many.run import Outcome
from bayesformula.results.describe import WIDTH
from tests import browser
from tests.helpers import fit_tree


@pytest.fixture(scope="module")
def models(bioassay, sleepstudy):
    rng = np.random.default_rng(3)
    x = rng.normal(size=40)
    frame = pd.DataFrame({"x": x, "y": 1 + x + rng.normal(size=40) * np.exp(0.3 * x)})
    return {
        "bioassay": bf.Model("p(deaths, n) ~ dose", bioassay, family="binomial"),
        "sleepstudy": bf.Model("Reaction ~ Days + (Days|Subject)", sleepstudy),
        "distributional": bf.Model(bf.Formula("y ~ x", "sigma ~ x"), frame, family="t"),
        "categorical": bf.Model("y ~ x", {"y": list("abcab" * 8), "x": x}, family="categorical"),
    }


@pytest.fixture(scope="module")
def diagnostics():
    """A report with problems (two chains that disagree, divergences) and passed checks."""
    rng = np.random.default_rng(0)
    theta = np.stack([rng.normal(0, 1, 300), rng.normal(5, 1, 300)])
    diverging = np.zeros((2, 300), dtype=bool)
    diverging[0, :4] = True
    idata = fit_tree(
        posterior={"theta": theta, "good": rng.normal(size=(2, 300))},
        sample_stats={"diverging": diverging, "energy": rng.normal(size=(2, 300))},
    )
    return check(idata)


@pytest.fixture(scope="module")
def many():
    """A `ManyFits` of three datasets, one failed (from workers' outcomes, no sampling)."""
    rng = np.random.default_rng(2)
    outcomes = []
    for name in ("north", "south"):
        table = bf.summary(
            fit_tree(posterior={"a": rng.normal(size=(2, 100)), "b": rng.normal(size=(2, 100))})
        )
        diagnostics = {"ok": True, "divergences": 0, "problems": "", "engine": "nutpie"}
        outcomes.append(Outcome(name, pd.DataFrame(table), diagnostics, seconds=0.2))
    outcomes.append(Outcome("west", error="ResponseError: 'y' needs 0/1 responses"))
    return ManyFits.from_outcomes(outcomes, ["region"], seconds=0.5, executor="this process")


def test_print_fits_a_terminal(models):
    for name, model in models.items():
        lines = str(model).splitlines()
        assert max(map(len, lines)) <= WIDTH, name
        assert repr(model) == str(model)
        assert lines[0] == f"       Formula: {model.formula}"
        # a wrapped line continues under its own indentation, past the label
        text = " ".join(line.strip() for line in lines)
        assert f"Fast path: {model.fast_path_note}" in " ".join(text.split())


def test_html_holds_what_print_shows_and_nothing_external(models):
    for model in models.values():
        page = model._repr_html_()
        assert "<script" not in page and "src=" not in page and "href=" not in page
        for name in model.prior_table()["parameter"]:
            assert f">{name}</td>" in page
    # the text is escaped: a formula with < and & stays text
    assert "&lt;" in bf.Model("y ~ I(x < 0)", {"y": [1.0, 2, 3], "x": [-1.0, 0, 1]})._repr_html_()


def test_diagnostics_html_lists_problems_first(diagnostics):
    page = diagnostics._repr_html_()
    assert f"{len(diagnostics.problems)} problem(s)" in page
    assert page.index(">problem<") < page.index(">ok<")
    for finding in diagnostics.findings:
        assert f">{finding.check}<" in page


def _cells(table: dict) -> list[list[str]]:
    return [[cell["text"].strip() for cell in row] for row in table["rows"]]


def test_many_fits_show_counts_failures_and_the_summary(many):
    text = repr(many)
    assert "Datasets: 3" in text and "Failed: 1" in text and "failed 'west'" in text
    page = many._repr_html_()
    assert ">west<" in page and ">north<" in page and "<script" not in page


def test_html_renders_in_a_headless_browser(models, diagnostics, many, tmp_path):
    summary = bf.summary(
        fit_tree(posterior={"theta": np.random.default_rng(1).normal(size=(2, 200))})
    )
    cells = {name: model._repr_html_() for name, model in models.items()}
    cells["diagnostics"] = diagnostics._repr_html_()
    cells["summary"] = summary._repr_html_()
    cells["many"] = many._repr_html_()
    shot = Path(os.environ.get("BAYESFORMULA_SCREENSHOTS", tmp_path)) / "notebook.png"
    layout = browser.render(browser.notebook_page(cells, width=900), shot)

    for name, model in models.items():
        out = layout[name]
        header, priors = out["tables"][0], out["tables"][1]
        assert header["className"] == "header" and priors["className"] == "priors"
        labels = [row[0] for row in _cells(header)]
        assert labels[:4] == ["Formula", "Family", "Link", "Observations"]
        assert labels[-1] == "Fast path"
        assert _cells(header)[0][1] == str(model.formula)
        # labels in one bold column, values in one column to their right
        lefts = {round(row[0]["box"]["left"]) for row in header["rows"]}
        value_lefts = {round(row[1]["box"]["left"]) for row in header["rows"]}
        assert len(lefts) == 1 and len(value_lefts) == 1 and value_lefts.pop() > lefts.pop()
        assert all(row[0]["bold"] and not row[1]["bold"] for row in header["rows"])
        # the priors table: its column heads on one line, left to right, and every prior
        head = priors["rows"][0]
        assert [c["text"] for c in head] == ["parameter", "prior", "note"]
        assert len({round(c["box"]["top"]) for c in head}) == 1
        assert head[0]["box"]["left"] < head[1]["box"]["left"] < head[2]["box"]["left"]
        shown = {row[0] for row in _cells(priors)[1:] if len(row) == 3}
        assert shown == set(model.prior_table()["parameter"])
        assert all(t["box"]["right"] <= out["box"]["right"] + 1 for t in out["tables"])

    groups = layout["sleepstudy"]["tables"][2]
    assert groups["className"] == "groups" and _cells(groups)[1][0] == "Subject"
    report = layout["diagnostics"]
    assert f"{len(diagnostics.problems)} problem(s)" in report["text"]
    assert _cells(report["tables"][0])[1][0] == "problem"
    assert ["theta"] in [row[:1] for row in _cells(layout["summary"]["tables"][0])]
    fits = {t["className"]: _cells(t) for t in layout["many"]["tables"]}
    assert fits["header"][0] == ["Datasets", "3"]
    assert fits["errors"][1][0] == "west"
    assert fits["summary"][0][:3] == ["region", "parameter", "mean"]
    assert [row[0] for row in fits["summary"][1:]] == ["north", "north", "south", "south"]

    for name, out in layout.items():
        for table in out["tables"]:
            assert not table["overflows"], f"{name}: a table is wider than the output"
            clipped = [c["text"] for row in table["rows"] for c in row if c["clipped"]]
            assert not clipped, f"{name}: clipped cells {clipped}"

    # the screenshot shows what the layout says: ink inside each output box in view, none
    # to the right of the outputs
    from PIL import Image

    image = np.asarray(Image.open(shot).convert("L"))
    assert image.shape == (1600, 1000)
    ink = image < 128
    right = max(out["box"]["right"] for out in layout.values())
    assert not ink[:, int(right) + 2 :].any()
    for name, out in layout.items():
        top, bottom = int(out["box"]["top"]), int(min(out["box"]["bottom"], 1600))
        if bottom - top > 10:
            box = ink[top:bottom, int(out["box"]["left"]) : int(out["box"]["right"])]
            assert box.mean() > 0.005, f"{name}: no text drawn where the layout puts it"
