"""plot_ppc and plot_prior_predictive: always the observed rows, on the response's scale, within
its support, with labelled axes."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

import bayesformula as bf
from bayesformula.core.tree import make_tree
from bayesformula.plots import plot_ppc, plot_prior_predictive
from tests.plots.helpers import SMALL_FIT

ECDF_LABEL = "share of values \u2264 x (ECDF)"


@pytest.fixture(scope="module")
def new_doses():
    """Three new doses with more trials than the observed rows have."""
    return pd.DataFrame({"dose": [-0.5, 0.0, 0.5], "n": [10, 10, 10]})


@pytest.fixture(scope="module")
def varying_trials_fit(bioassay):
    data = bioassay.assign(n=[5, 6, 5, 8])
    model = bf.Model("p(deaths, n) ~ dose", data, family="binomial")
    return model, model.fit(random_seed=4, **SMALL_FIT)


def split_lines(ax):
    """The simulated data sets' lines and the observed (black) one."""
    observed = [line for line in ax.lines if to_hex(line.get_color()) == "#000000"]
    simulated = [line for line in ax.lines if to_hex(line.get_color()) != "#000000"]
    (observed,) = observed
    return simulated, observed


def x_range(lines):
    xs = np.concatenate([np.asarray(line.get_xdata(), dtype=float) for line in lines])
    return xs.min(), xs.max()


def test_ppc_ignores_predictions_on_new_data(bioassay_fit, new_doses, caplog, tmp_path):
    model, idata = bioassay_fit
    predicted = model.predict(idata, data=new_doses, kind="response", inplace=False)
    kept = predicted["posterior_predictive"]["deaths"].values.copy()
    with caplog.at_level(logging.INFO, logger="bayesformula"):
        fig = plot_ppc(model, predicted, num_pp_samples=30, random_seed=3)
    (ax,) = fig.axes
    simulated, observed = split_lines(ax)
    assert len(simulated) == 30
    for line in simulated:  # ECDFs of the 4 observed rows: steps of 1/4, not 1/3
        y = np.asarray(line.get_ydata(), dtype=float)
        np.testing.assert_allclose(y * 4, np.round(y * 4), atol=1e-9)
    low, high = x_range(ax.lines)
    assert low >= 0 and high <= 5  # deaths out of the observed n = 5, not the new n = 10
    # the caller's predictions are untouched
    assert predicted["posterior_predictive"].sizes["__obs__"] == 3
    np.testing.assert_array_equal(predicted["posterior_predictive"]["deaths"].values, kept)
    assert "predictions on new data" in caplog.text
    fig.savefig(tmp_path / "ppc.png", dpi=60)


def test_ppc_redraws_predictions_on_new_data_of_the_same_shape(bioassay_fit, monkeypatch):
    """New data with the fitting data's rows and index: only predict's in_sample mark tells."""
    model, idata = bioassay_fit
    in_sample = model.predict(idata, kind="response", inplace=False, random_seed=1)
    assert in_sample["posterior_predictive"].attrs["in_sample"] == 1
    shifted = model.data.assign(dose=model.data["dose"] + 1.0)
    with_pp = model.predict(idata, data=shifted, kind="response", inplace=False, random_seed=1)
    assert with_pp["posterior_predictive"].attrs["in_sample"] == 0
    calls = []
    predict = model.predict

    def counting(*args, **kwargs):
        calls.append(kwargs)
        return predict(*args, **kwargs)

    monkeypatch.setattr(model, "predict", counting)
    plot_ppc(model, in_sample, num_pp_samples=10, random_seed=1)
    assert calls == []  # in-sample draws are used as they are
    plot_ppc(model, with_pp, num_pp_samples=10, random_seed=1)
    assert [call["kind"] for call in calls] == ["response"]
    assert with_pp["posterior_predictive"].attrs["in_sample"] == 0


def test_ppc_without_posterior_to_redraw_from_is_an_error(bioassay_fit, new_doses):
    model, idata = bioassay_fit
    predicted = model.predict(idata, data=new_doses, kind="response", inplace=False)
    tree = make_tree(
        {
            "posterior_predictive": predicted["posterior_predictive"],
            "observed_data": idata["observed_data"],
        }
    )
    with pytest.raises(
        bf.errors.PredictionError,
        match=r"not in-sample \(it holds predictions on new data.*no 'posterior' group.*model\.fit",
    ):
        plot_ppc(model, tree)


def test_count_ppc_is_labelled_and_within_trials(bioassay_fit):
    model, idata = bioassay_fit
    (ax,) = plot_ppc(model, idata, num_pp_samples=40, random_seed=1).axes
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("deaths (out of n = 5)", ECDF_LABEL)
    low, high = x_range(ax.lines)
    assert low >= 0 and high <= 5
    left, right = ax.get_xlim()
    assert -0.5 <= left <= 0 and 5 <= right <= 5.5

    with pytest.warns(UserWarning, match="look discrete"):  # ArviZ's advice on kde of counts
        (ax,) = plot_ppc(model, idata, num_pp_samples=20, random_seed=1, kind="kde").axes
    assert ax.get_ylabel() == "density"
    left, right = ax.get_xlim()
    assert -0.5 <= left and right <= 5.5  # the densities' tails are cut at the support


def test_varying_trials_are_proportions(varying_trials_fit, tmp_path):
    model, idata = varying_trials_fit
    fig = plot_ppc(model, idata, num_pp_samples=30, random_seed=2)
    (ax,) = fig.axes
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("deaths / n (proportion)", ECDF_LABEL)
    simulated, observed = split_lines(ax)
    low, high = x_range(ax.lines)
    assert low >= 0 and high <= 1
    proportions = model.data["deaths"] / model.data["n"]
    assert np.max(observed.get_xdata()) == pytest.approx(proportions.max())
    fig.savefig(tmp_path / "ppc_proportions.png", dpi=60)

    (ax,) = plot_prior_predictive(model, draws=50, random_seed=1).axes
    assert ax.get_xlabel() == "deaths / n (proportion)"
    low, high = x_range(ax.lines)
    assert low >= 0 and high <= 1
