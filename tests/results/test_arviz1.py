"""A fit is an xarray.DataTree that ArviZ 1's own functions take as it is: summary, loo,
compare, plot_trace and plot_ppc_dist, with no conversion step in between."""

from __future__ import annotations

import warnings

import arviz as az
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import xarray as xr  # noqa: E402

import bayesformula as bf  # noqa: E402


@pytest.fixture(scope="module")
def complete(group_fit):
    """The group model's fit with responses and the pointwise log-likelihood added."""
    model, idata = group_fit
    full = model.predict(idata, kind="response", inplace=False, random_seed=1)
    model.compute_log_likelihood(full)
    return model, full


def test_the_fit_is_a_datatree_in_arviz_layout(complete):
    _, idata = complete
    assert isinstance(idata, xr.DataTree)
    assert {
        "posterior",
        "sample_stats",
        "observed_data",
        "posterior_predictive",
        "log_likelihood",
    } <= set(idata.children)
    for group in ("posterior", "sample_stats", "posterior_predictive", "log_likelihood"):
        assert idata[group].dims["chain"] == 2, group
    assert idata["observed_data"]["y"].dims == ("__obs__",)


def test_arviz_summary_agrees_with_bf_summary(complete):
    _, idata = complete
    theirs = az.summary(
        idata, var_names=["x", "sigma"], ci_kind="hdi", ci_prob=0.94, round_to="none"
    )
    ours = bf.summary(idata, var_names=["x", "sigma"])
    for column in ("mean", "sd", "ess_bulk", "r_hat"):
        np.testing.assert_allclose(ours[column], theirs[column], rtol=1e-12)
    np.testing.assert_allclose(ours["hdi_3%"], theirs["hdi94_lb"], rtol=1e-12)


def test_arviz_loo_and_compare_take_fits(complete, group_fit):
    model, idata = complete
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pareto k warnings on 120 rows are not the point
        result = az.loo(idata)
        ours = bf.loo(idata)
        table = az.compare({"full": idata, "again": idata.copy(deep=True)})
    assert result.elpd == pytest.approx(ours.elpd, rel=1e-12)
    assert isinstance(table, pd.DataFrame) and set(table.index) == {"full", "again"}
    # the pointwise values ArviZ reads are the family's log-density at each row
    assert idata["log_likelihood"]["y"].shape[-1] == model.design.X.shape[0]


def test_arviz_plots_take_fits(complete):
    _, idata = complete
    trace = az.plot_trace(idata, var_names=["x", "sigma"])
    ppc = az.plot_ppc_dist(idata, var_names=["y"], num_samples=20)
    for plot in (trace, ppc):
        fig = plot.viz["figure"].item()
        assert fig.axes and any(ax.lines for ax in fig.axes)
    plt.close("all")
