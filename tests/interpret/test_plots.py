"""plot_comparisons and plot_slopes draw what comparisons and slopes compute on the grid."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import bayesformula as bf  # noqa: E402
from bayesformula.errors import PredictionError  # noqa: E402


def test_plot_comparisons_draws_one_line_per_contrast(logistic):
    model, idata = logistic
    fig = bf.plot_comparisons(model, idata, "c", "x", n_points=20, random_seed=1)
    ax = fig.axes[0]
    lines = [line for line in ax.lines if not line.get_label().startswith("_")]
    assert [line.get_label() for line in lines] == ["b - a", "c - a"]
    grid = bf.datagrid(model, x=list(lines[0].get_xdata()))
    expected = bf.comparisons(model, idata, "c", grid, include_group_specific=False)
    for line, contrast in zip(lines, ["b - a", "c - a"], strict=True):
        part = expected[expected["contrast"] == contrast]
        np.testing.assert_allclose(line.get_ydata(), part["estimate"], atol=1e-12)
    assert ax.get_xlabel() == "x" and ax.get_ylabel() == "difference in mean (c)"
    plt.close(fig)


def test_plot_slopes_by_group_and_over_levels(logistic):
    model, idata = logistic
    fig = bf.plot_slopes(model, idata, "x", "x", by="c", n_points=10)
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.lines if not line.get_label().startswith("_")]
    assert labels == ["c = a", "c = b", "c = c"]
    first = next(line for line in ax.lines if line.get_label() == "c = a")
    grid = bf.datagrid(model, c="a", x=list(first.get_xdata()))
    expected = bf.slopes(model, idata, "x", grid, include_group_specific=False)
    np.testing.assert_allclose(first.get_ydata(), expected["estimate"], atol=1e-12)
    plt.close(fig)
    over_levels = bf.plot_slopes(model, idata, "x", "c")
    ticks = [t.get_text() for t in over_levels.axes[0].get_xticklabels()]
    assert ticks == ["a", "b", "c"]
    plt.close(over_levels)


def test_plot_errors_name_the_argument(logistic):
    model, idata = logistic
    with pytest.raises(PredictionError, match="colour"):
        bf.plot_comparisons(model, idata, "x", "colour")
    with pytest.raises(PredictionError, match="both 'x'"):
        bf.plot_slopes(model, idata, "x", "x", by="x")
