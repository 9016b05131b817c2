"""Plots: every figure renders to a PNG, and what it draws matches independent numpy values."""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from scipy.special import expit  # noqa: E402

import bayesformula as bf  # noqa: E402
from bayesformula.core.tree import make_tree  # noqa: E402
from bayesformula.plots import (  # noqa: E402
    plot_posterior,
    plot_ppc,
    plot_predictions,
    plot_prior_predictive,
    plot_priors,
    plot_trace,
)
from tests.helpers import raises_each  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def save(fig, tmp_path, name):
    """Render ``fig`` to a PNG and check a real image came out."""
    path = tmp_path / f"{name}.png"
    fig.savefig(path, dpi=60)
    assert path.exists() and path.stat().st_size > 3_000, name
    plt.close(fig)


def titles(fig):
    return [ax.get_title() for ax in fig.axes]


def trace_names(fig):
    """The variables of a trace figure: ArviZ 1 labels each row's trace panel."""
    return [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()]


def draws(idata, name):
    """Posterior draws of ``name`` flattened over chain and draw: (S,) or (S, k)."""
    da = idata["posterior"][name]
    other = [d for d in da.dims if d not in ("chain", "draw")]
    return da.transpose("chain", "draw", *other).values.reshape((-1,) + da.shape[2:])


@pytest.fixture(scope="module")
def bioassay_prior(bioassay_fit):
    model, _ = bioassay_fit
    return model.prior_predictive(draws=100, random_seed=2)


# ---------------------------------------------------------------------------- priors
def test_plot_priors_shows_each_parameter(group_fit, tmp_path):
    model, _ = group_fit
    fig = plot_priors(model, draws=200, random_seed=1)
    shown = [t for t in titles(fig) if t]
    # population-level and hyper-priors only; one panel per level of a vector parameter
    assert shown == ["Intercept", "x", "a\nlo", "a\nmid", "1|g_sigma", "sigma"]
    save(fig, tmp_path, "priors")

    fig = plot_priors(model, draws=200, group_levels=True, random_seed=1)
    shown = [t for t in titles(fig) if t]
    assert shown[:6] == ["Intercept", "x", "a\nlo", "a\nmid", "1|g_sigma", "sigma"]
    assert shown[6:] == [f"1|g\ng{i}" for i in range(8)]  # one per group level, last
    assert not any(t.startswith(("Intercept_centered", "y")) for t in shown)
    save(fig, tmp_path, "priors_levels")

    fig = plot_priors(model, draws=100, var_names=["sigma"], random_seed=1)
    assert titles(fig) == ["sigma"]
    save(fig, tmp_path, "priors_sigma")


def test_plot_priors_unknown_name(bioassay_fit):
    model, _ = bioassay_fit
    raises_each(
        lambda: plot_priors(model, draws=20, var_names="doze", random_seed=1),
        (bf.errors.PredictionError, ValueError),
        "did you mean 'dose'",
    )


def test_plot_prior_predictive_draws_data_sets_and_observed(bioassay_fit, bioassay_prior, tmp_path):
    model, idata = bioassay_fit
    fig = plot_prior_predictive(model, bioassay_prior, random_seed=1)
    (ax,) = fig.axes
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["Prior predictive", "Observed"]
    assert ax.get_xlabel() == "deaths (out of n = 5)"
    # one ECDF per prior draw (deaths are counts) and the observed one, in black
    black = [line for line in ax.lines if to_hex(line.get_color()) == "#000000"]
    assert len(ax.lines) == 100 + 1 and len(black) == 1
    # the black line is the observed ECDF: it steps to 1 at the largest observed count
    assert np.max(black[0].get_ydata()) == pytest.approx(1.0)
    assert np.max(black[0].get_xdata()) == model.data["deaths"].max()
    save(fig, tmp_path, "prior_predictive")

    with pytest.raises(bf.errors.PredictionError, match="prior_predictive"):
        plot_prior_predictive(model, idata)  # a posterior is not a prior predictive


# ---------------------------------------------------------------------------- posterior
def test_plot_trace_leaves_out_per_observation_variables(bioassay_fit, tmp_path):
    model, idata = bioassay_fit
    with_p = model.predict(idata, kind="response_params", inplace=False)
    assert "__obs__" in with_p.posterior["p"].dims
    fig = plot_trace(with_p)
    assert sorted(trace_names(fig)) == ["Intercept", "dose"]
    assert len(fig.axes) == 4
    save(fig, tmp_path, "trace")

    fig = plot_trace(idata, var_names="dose")
    assert trace_names(fig) == ["dose"]
    with pytest.raises(bf.errors.PredictionError, match="did you mean 'Intercept'"):
        plot_trace(idata, var_names=["Intercep"])
    with pytest.raises(bf.errors.PredictionError, match="posterior"):
        plot_trace(make_tree({"observed_data": idata["observed_data"]}))


def test_plot_posterior_interval_and_variables(group_fit, tmp_path):
    _, idata = group_fit
    fig = plot_posterior(idata, prob=0.9)
    shown = titles(fig)
    assert {"Intercept", "x", "sigma", "1|g_sigma", "a\nlo", "a\nmid"} <= set(shown)
    assert "Intercept_centered" not in shown
    # the interval under the x panel is the 90% HDI of bf.conf_int, the point its mean
    (x_ax,) = [ax for ax in fig.axes if ax.get_title() == "x"]
    (interval,) = [line for line in x_ax.lines if len(line.get_xdata()) == 2]
    lower, upper = bf.conf_int(idata, prob=0.9).loc["x"]
    np.testing.assert_allclose(np.sort(interval.get_xdata()), [lower, upper], rtol=1e-9)
    (point,) = x_ax.collections
    assert point.get_offsets()[0][0] == pytest.approx(draws(idata, "x").mean(), rel=1e-9)
    assert any(t.get_text().endswith("mean") for t in x_ax.texts)
    save(fig, tmp_path, "posterior")
    with pytest.raises(ValueError, match="between 0 and 1"):
        plot_posterior(idata, prob=94)


def test_plot_ppc_leaves_caller_idata_alone(bioassay_fit, tmp_path):
    model, idata = bioassay_fit
    groups = list(idata.children)
    fig = plot_ppc(model, idata, num_pp_samples=50, random_seed=3)
    assert list(idata.children) == groups and "posterior_predictive" not in groups
    (ax,) = fig.axes
    assert ax.get_xlabel() == "deaths (out of n = 5)"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["Posterior predictive", "Observed"]
    assert len(ax.lines) == 50 + 1
    save(fig, tmp_path, "ppc")


def test_plot_ppc_uses_existing_posterior_predictive(bioassay_fit, monkeypatch, tmp_path):
    model, idata = bioassay_fit
    with_pp = model.predict(idata, kind="response", inplace=False, random_seed=1)

    def fail(*args, **kwargs):
        raise AssertionError("predict must not be called when posterior_predictive exists")

    monkeypatch.setattr(model, "predict", fail)
    save(plot_ppc(model, with_pp, num_pp_samples=20, random_seed=1), tmp_path, "ppc_existing")


# ---------------------------------------------------------------------------- predictions
def test_plot_predictions_matches_numpy_curve(bioassay_fit, bioassay, tmp_path):
    model, idata = bioassay_fit
    fig = plot_predictions(model, idata, "dose", prob=0.9)
    (ax,) = fig.axes
    (line,) = ax.lines
    x = np.linspace(bioassay["dose"].min(), bioassay["dose"].max(), 100)
    np.testing.assert_allclose(line.get_xdata(), x)
    p = expit(draws(idata, "Intercept")[:, None] + draws(idata, "dose")[:, None] * x[None, :])
    np.testing.assert_allclose(line.get_ydata(), p.mean(axis=0), rtol=1e-8)
    # the band spans the 5% and 95% quantiles
    (band,) = ax.collections[:1]
    ys = band.get_paths()[0].vertices[:, 1]
    low, high = np.quantile(p, [0.05, 0.95], axis=0)
    assert ys.min() == pytest.approx(low.min(), rel=1e-8)
    assert ys.max() == pytest.approx(high.max(), rel=1e-8)
    # observed proportions deaths / n
    offsets = ax.collections[-1].get_offsets()
    np.testing.assert_allclose(offsets[:, 0], bioassay["dose"])
    np.testing.assert_allclose(offsets[:, 1], bioassay["deaths"] / bioassay["n"])
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("dose", "deaths / n (mean)")
    assert ax.get_title() == "p: posterior mean and 90% interval"
    save(fig, tmp_path, "predictions")


def test_plot_predictions_response_kind_is_proportion(bioassay_fit, tmp_path):
    model, idata = bioassay_fit
    fig = plot_predictions(model, idata, "dose", kind="response", n_points=20, random_seed=4)
    (ax,) = fig.axes
    (line,) = ax.lines
    y = line.get_ydata()
    assert len(y) == 20 and np.all((y >= 0) & (y <= 1))
    x = line.get_xdata()
    p = expit(draws(idata, "Intercept")[:, None] + draws(idata, "dose")[:, None] * x[None, :])
    np.testing.assert_allclose(y, p.mean(axis=0), atol=0.06)
    assert ax.get_ylabel() == "deaths / n (posterior predictive)"
    save(fig, tmp_path, "predictions_response")


def test_plot_predictions_grid_from_given_data(bioassay_fit, bioassay, tmp_path):
    model, idata = bioassay_fit
    fig = plot_predictions(model, idata, "dose", data=bioassay.iloc[1:3], n_points=5)
    (line,) = fig.axes[0].lines
    np.testing.assert_allclose(line.get_xdata(), np.linspace(-0.30, -0.05, 5))
    save(fig, tmp_path, "predictions_data")
    with pytest.raises(bf.errors.PredictionError, match=r"lacks the column\(s\) \['dose'\]"):
        plot_predictions(model, idata, "dose", data=bioassay.drop(columns="dose"))


def _group_mu(idata, x, level, levels):
    """mu for a typical group (no group effect), from the posterior draws."""
    a = draws(idata, "a")
    effect = np.zeros(len(a)) if level not in levels else a[:, levels.index(level)]
    return draws(idata, "Intercept")[:, None] + draws(idata, "x")[:, None] * x + effect[:, None]


def test_plot_predictions_by_categorical(group_fit, group_data, tmp_path):
    model, idata = group_fit
    levels = [str(v) for v in idata.posterior["a_dim"].values]  # non-reference levels
    fig = plot_predictions(model, idata, "x", by="a")
    (ax,) = fig.axes
    assert [line.get_label() for line in ax.lines] == ["hi", "lo", "mid"]
    assert ax.get_legend().get_title().get_text() == "a"
    for line in ax.lines:
        x = line.get_xdata()
        assert x[0] == group_data["x"].min() and x[-1] == group_data["x"].max()
        mu = _group_mu(idata, x[None, :], line.get_label(), levels)
        np.testing.assert_allclose(line.get_ydata(), mu.mean(axis=0), rtol=1e-8)
    assert len(ax.collections) == 3 + 1  # three bands and the observed points
    points = ax.collections[-1]
    np.testing.assert_allclose(points.get_offsets()[:, 0], group_data["x"])
    colour = {"hi": "C0", "lo": "C1", "mid": "C2"}  # each point coloured like its level's line
    expected = [matplotlib.colors.to_rgb(colour[v]) for v in group_data["a"]]
    np.testing.assert_allclose(points.get_facecolors()[:, :3], expected)
    assert ax.get_ylabel() == "y (mean)"
    save(fig, tmp_path, "predictions_by")


def test_plot_predictions_categorical_covariate(group_fit, group_data, tmp_path):
    model, idata = group_fit
    levels = [str(v) for v in idata.posterior["a_dim"].values]
    fig = plot_predictions(model, idata, "a")
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_xticklabels()] == ["hi", "lo", "mid"]
    (bars,) = ax.containers
    x_mean = group_data["x"].mean()  # x is held at its mean
    expected = [_group_mu(idata, x_mean, lvl, levels).mean() for lvl in ["hi", "lo", "mid"]]
    np.testing.assert_allclose(bars.lines[0].get_ydata(), expected, rtol=1e-8)
    save(fig, tmp_path, "predictions_categorical")

    # a numeric `by` with many values gives its five quantiles, one series each
    fig = plot_predictions(model, idata, "a", by="x")
    assert len(fig.axes[0].containers) == 5
    save(fig, tmp_path, "predictions_categorical_by_x")


def test_plot_predictions_with_group_factor_held(sleep_fit, sleepstudy, tmp_path):
    model, idata = sleep_fit
    _, ax = plt.subplots()
    fig = plot_predictions(model, idata, "Days", n_points=10, ax=ax)
    assert fig is ax.get_figure()
    (line,) = ax.lines
    np.testing.assert_allclose(line.get_xdata(), np.linspace(0, 9, 10))
    mu = draws(idata, "Intercept")[:, None] + draws(idata, "Days")[:, None] * np.arange(10)
    np.testing.assert_allclose(line.get_ydata(), mu.mean(axis=0), rtol=1e-8)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Days", "Reaction (mean)")
    save(fig, tmp_path, "predictions_sleep")


def test_plot_predictions_errors(bioassay_fit, group_fit):
    model, idata = bioassay_fit
    raises_each(
        lambda: plot_predictions(model, idata, "doze"),
        (bf.errors.PredictionError, ValueError),
        r"unknown covariate 'doze'; did you mean 'dose'\?.*p\(deaths, n\) ~ dose",
    )
    with pytest.raises(bf.errors.PredictionError, match="has no 'posterior'|needs the 'posterior'"):
        plot_predictions(model, make_tree({"observed_data": idata["observed_data"]}), "dose")
    with pytest.raises(bf.errors.ArgumentError, match="kind: unknown kind 'mu'"):
        plot_predictions(model, idata, "dose", kind="mu")
    with pytest.raises(bf.errors.ArgumentError, match="between 0 and 1"):
        plot_predictions(model, idata, "dose", prob=1.5)

    gmodel, gidata = group_fit
    with pytest.raises(bf.errors.PredictionError, match="unknown by 'aa'; did you mean 'a'"):
        plot_predictions(gmodel, gidata, "x", by="aa")
    with pytest.raises(bf.errors.PredictionError, match="'g' is a grouping factor"):
        plot_predictions(gmodel, gidata, "x", by="g")
    with pytest.raises(bf.errors.PredictionError, match="both 'x'"):
        plot_predictions(gmodel, gidata, "x", by="x")
