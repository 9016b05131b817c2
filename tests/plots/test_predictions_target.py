"""plot_predictions(target=...): any parameter of the likelihood along a predictor, with the
response and what is shown of it on the y axis; and a distributional model's posterior plots."""

from __future__ import annotations

import numpy as np
import pytest

import bayesformula as bf
from bayesformula.plots import plot_posterior, plot_predictions
from tests.plots.helpers import SMALL_FIT, stacked


@pytest.fixture(scope="module")
def sigma_fit(sleepstudy):
    """A distributional gaussian model: sigma has a formula of its own (log link)."""
    model = bf.Model(bf.Formula("Reaction ~ Days", "sigma ~ Days"), sleepstudy)
    return model, model.fit(random_seed=7, **SMALL_FIT)


@pytest.fixture(scope="module")
def zip_fit():
    data = bf.load_data("epilepsy")
    model = bf.Model("seizures ~ lbase + trt", data, family="zero_inflated_poisson")
    return model, model.fit(random_seed=8, **SMALL_FIT)


def band_limits(ax):
    """Lowest and highest y of the interval band."""
    ys = ax.collections[0].get_paths()[0].vertices[:, 1]
    return ys.min(), ys.max()


def test_target_sigma_of_a_distributional_model(sigma_fit, tmp_path):
    model, idata = sigma_fit
    fig = plot_predictions(model, idata, "Days", target="sigma", n_points=10, prob=0.9)
    (ax,) = fig.axes
    (line,) = ax.lines
    x = np.linspace(0, 9, 10)
    np.testing.assert_allclose(line.get_xdata(), x)
    sigma = np.exp(
        stacked(idata, "sigma_Intercept")[:, None] + stacked(idata, "sigma_Days")[:, None] * x
    )
    np.testing.assert_allclose(line.get_ydata(), sigma.mean(axis=0), rtol=1e-8)
    low, high = np.quantile(sigma, [0.05, 0.95], axis=0)
    assert band_limits(ax) == pytest.approx((low.min(), high.max()), rel=1e-8)
    assert ax.get_ylabel() == "Reaction (sigma)"
    assert ax.get_title() == "sigma: posterior mean and 90% interval"
    assert len(ax.collections) == 1  # no observed points: sigma is not on the data's scale
    fig.savefig(tmp_path / "sigma.png", dpi=60)

    (ax,) = plot_predictions(model, idata, "Days", n_points=10).axes  # the default: mu
    mu = stacked(idata, "Intercept")[:, None] + stacked(idata, "Days")[:, None] * x
    np.testing.assert_allclose(ax.lines[0].get_ydata(), mu.mean(axis=0), rtol=1e-8)
    assert ax.get_ylabel() == "Reaction (mean)"
    assert len(ax.collections) == 2  # band and observed points


def test_target_psi_of_a_zero_inflated_poisson(zip_fit, tmp_path):
    model, idata = zip_fit
    fig = plot_predictions(model, idata, "lbase", target="psi", n_points=5)
    (ax,) = fig.axes
    psi = stacked(idata, "psi")
    np.testing.assert_allclose(ax.lines[0].get_ydata(), np.full(5, psi.mean()), rtol=1e-10)
    low, high = np.quantile(psi, [0.03, 0.97])
    assert band_limits(ax) == pytest.approx((low, high), rel=1e-8)
    assert ax.get_ylabel() == "seizures (psi: P(not an extra zero))"
    fig.savefig(tmp_path / "psi.png", dpi=60)

    (ax,) = plot_predictions(model, idata, "lbase", n_points=5).axes
    assert ax.get_ylabel() == "seizures (mu)"  # the Poisson part's rate, not the mean
    assert len(ax.collections) == 1  # so no observed points beside it


def test_target_errors(zip_fit):
    model, idata = zip_fit
    with pytest.raises(bf.errors.ArgumentError, match="unknown target 'pis'; did you mean 'psi'"):
        plot_predictions(model, idata, "lbase", target="pis")
    with pytest.raises(bf.errors.PredictionError, match="kind='response' draws new responses"):
        plot_predictions(model, idata, "lbase", target="psi", kind="response")


def test_posterior_leaves_out_every_internal_intercept(sigma_fit):
    _, idata = sigma_fit
    shown = [ax.get_title() for ax in plot_posterior(idata).axes if ax.get_title()]
    assert sorted(shown) == ["Days", "Intercept", "sigma_Days", "sigma_Intercept"]
