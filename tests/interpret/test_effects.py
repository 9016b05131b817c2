"""Predictions, comparisons, slopes and hypotheses against numpy computations from the
posterior draws (to 1e-10), statsmodels' average marginal effects (within Monte Carlo error)
and ArviZ's HDI. The logistic fit of conftest.py serves every exact test."""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

import bayesformula as bf
from bayesformula.errors import DataTypeError, PredictionError


def _draws(idata, name, level=None):
    da = idata["posterior"][name]
    if level is not None:
        da = da.sel({da.dims[-1]: level})
    return da.values.reshape(-1)


def _eta(idata, frame):
    """The linear predictor of every draw (rows) and row of ``frame`` (columns), from the
    formula written out by hand."""
    a, bx, bd = (_draws(idata, n) for n in ("Intercept", "x", "d"))
    bb, bc = _draws(idata, "c", "b"), _draws(idata, "c", "c")
    x, d = frame["x"].to_numpy(float), frame["d"].to_numpy(float)
    cb = (frame["c"] == "b").to_numpy(float)
    cc = (frame["c"] == "c").to_numpy(float)
    return a[:, None] + bx[:, None] * x + bd[:, None] * d + bb[:, None] * cb + bc[:, None] * cc


def _assert_summary(result, draws):
    """``result``'s draws, estimates and intervals are those of ``draws`` (S, rows)."""
    np.testing.assert_allclose(result.draws, draws, rtol=0, atol=1e-10)
    np.testing.assert_allclose(result["estimate"], draws.mean(axis=0), rtol=0, atol=1e-10)
    hdi = np.array([az.hdi(draws[:, j], prob=0.94) for j in range(draws.shape[1])])
    np.testing.assert_allclose(result["hdi_3%"], hdi[:, 0], rtol=0, atol=1e-10)
    np.testing.assert_allclose(result["hdi_97%"], hdi[:, 1], rtol=0, atol=1e-10)


def _group_means(values, frame, by, weights=None):
    weights = np.ones(len(frame)) if weights is None else np.asarray(weights, float)
    labels = sorted(frame[by].unique())
    out = [
        (values[:, mask] * weights[mask]).sum(axis=1) / weights[mask].sum()
        for mask in ((frame[by] == label).to_numpy() for label in labels)
    ]
    return labels, np.column_stack(out)


def test_unit_level_predictions_on_every_scale(logistic):
    model, idata = logistic
    frame = model.data
    eta = _eta(idata, frame)
    mean = bf.predictions(model, idata)
    assert list(mean.index) == list(frame.index)
    assert list(mean.columns[:3]) == ["x", "d", "c"]
    _assert_summary(mean, expit(eta))
    _assert_summary(bf.predictions(model, idata, target="linpred"), eta)


def test_predictions_by_group_weighted_and_on_a_grid(logistic):
    model, idata = logistic
    frame = model.data
    p = expit(_eta(idata, frame))
    result = bf.predictions(model, idata, by="c", wts="w")
    labels, expected = _group_means(p, frame, "c", frame["w"])
    assert list(result["c"]) == labels
    _assert_summary(result, expected)
    everything = bf.predictions(model, idata, average=True, wts=frame["w"].to_numpy())
    _assert_summary(everything, (p * frame["w"].to_numpy()).sum(1, keepdims=True) / frame.w.sum())
    grid = bf.datagrid(model, c=["a", "c"], x=[0.0, 1.5])
    assert grid[["c", "x"]].values.tolist() == [["a", 0.0], ["a", 1.5], ["c", 0.0], ["c", 1.5]]
    assert grid["d"].tolist() == [frame["d"].mean()] * 4  # a numeric predictor at its mean
    _assert_summary(bf.predictions(model, idata, grid), expit(_eta(idata, grid)))


def test_datagrid_holds_other_variables_at_typical_values(logistic):
    model, _ = logistic
    grid = bf.datagrid(model, x=[-1, 1])
    assert list(grid.columns) == ["x", "d", "c"]
    assert grid["x"].tolist() == [-1, 1]
    assert grid["d"].tolist() == [model.data["d"].mean()] * 2
    assert grid["c"].tolist() == [model.data["c"].mode().iloc[0]] * 2
    typical = model.data.assign(c="b")
    assert bf.datagrid(model, typical, x=0)["c"].tolist() == ["b"]  # from the data given
    with pytest.raises(PredictionError, match="'xx'"):
        bf.datagrid(model, xx=1)


def test_comparisons_difference_ratio_lift_unit_level_and_averaged(logistic):
    model, idata = logistic
    frame = model.data
    lo = expit(_eta(idata, frame))
    hi = expit(_eta(idata, frame.assign(x=frame.x + 1)))
    unit = bf.comparisons(model, idata, "x")
    assert list(unit.index) == list(frame.index)
    assert set(unit["term"]) == {"x"} and set(unit["contrast"]) == {"x+1 - x"}
    _assert_summary(unit, hi - lo)
    for comparison, value in (("ratio", hi / lo), ("lift", (hi - lo) / lo)):
        result = bf.comparisons(model, idata, {"x": 1}, comparison=comparison, average=True)
        _assert_summary(result, value.mean(axis=1, keepdims=True))
    custom = bf.comparisons(model, idata, "x", comparison=lambda h, l: np.log(h / l), by="c")
    labels, expected = _group_means(np.log(hi / lo), frame, "c")
    assert list(custom["c"]) == labels
    _assert_summary(custom, expected)
    weighted = bf.comparisons(model, idata, "x", by="d", wts="w")
    _, expected = _group_means(hi - lo, frame, "d", frame["w"])
    _assert_summary(weighted, expected)


def test_numeric_spans(logistic):
    model, idata = logistic
    frame = model.data
    sd = frame["x"].std(ddof=1)
    q1, q3 = frame["x"].quantile([0.25, 0.75])
    cases = {
        "sd": (frame.x - sd / 2, frame.x + sd / 2),
        "2sd": (frame.x - sd, frame.x + sd),
        "iqr": (q1, q3),
        "minmax": (frame.x.min(), frame.x.max()),
    }
    for how, (low, high) in cases.items():
        result = bf.comparisons(model, idata, {"x": how}, average=True)
        value = expit(_eta(idata, frame.assign(x=high))) - expit(_eta(idata, frame.assign(x=low)))
        _assert_summary(result, value.mean(axis=1, keepdims=True))


def test_categorical_contrasts(logistic):
    model, idata = logistic
    frame = model.data
    p = {level: expit(_eta(idata, frame.assign(c=level))) for level in "abc"}
    reference = bf.comparisons(model, idata, "c", average=True)
    assert reference["contrast"].tolist() == ["b - a", "c - a"]
    _assert_summary(
        reference,
        np.column_stack([(p["b"] - p["a"]).mean(1), (p["c"] - p["a"]).mean(1)]),
    )
    pairwise = bf.comparisons(model, idata, {"c": "pairwise"}, average=True)
    assert pairwise["contrast"].tolist() == ["b - a", "c - a", "c - b"]
    chosen = bf.comparisons(model, idata, {"c": ["c", "b"]}, comparison="ratio", average=True)
    assert chosen["contrast"].tolist() == ["b / c"]
    _assert_summary(chosen, (p["b"] / p["c"]).mean(1, keepdims=True))


def test_average_effects_agree_with_statsmodels():
    """With wide priors and 2,000 rows the posterior means of the average discrete change of
    ``d`` and of the average slope in ``x`` are the maximum likelihood estimates' (statsmodels'
    ``get_margeff``) within Monte Carlo error: tolerance 4 Monte Carlo standard errors plus
    0.005 for the posterior mean's distance from the MLE at this sample size."""
    import statsmodels.api as sm

    rng = np.random.default_rng(5)
    n = 2000
    data = pd.DataFrame({"x": rng.normal(size=n), "d": rng.integers(0, 2, n)})
    data["y"] = rng.binomial(1, expit(-0.3 + 0.8 * data.x + 0.9 * data.d))
    wide = bf.Prior("Normal", mu=0, sigma=20)
    model = bf.Model("y ~ x + d", data, family="bernoulli", priors={"x": wide, "d": wide})
    idata = model.fit(draws=1000, progressbar=False, random_seed=7)
    X = sm.add_constant(data[["x", "d"]].astype(float))
    mle = sm.Logit(data["y"], X).fit(disp=0)
    margeff = mle.get_margeff(at="overall", dummy=True).summary_frame()
    change = bf.comparisons(model, idata, {"d": [0, 1]}, average=True)
    slope = bf.slopes(model, idata, "x", average=True)
    for ours, name in ((change, "d"), (slope, "x")):
        draws = ours.draws[:, 0]
        mcse = draws.std() / np.sqrt(az.ess(draws.reshape(2, -1)))
        assert abs(ours["estimate"].iloc[0] - margeff.loc[name, "dy/dx"]) < 4 * mcse + 0.005


def test_slopes_are_the_graphs_derivatives(logistic):
    """dp/dx = p (1 - p) b_x for the logistic model, to rounding (x enters the design
    linearly), in each of the four kinds, unit by unit, by group and weighted."""
    model, idata = logistic
    frame = model.data
    p = expit(_eta(idata, frame))
    dydx = p * (1 - p) * _draws(idata, "x")[:, None]
    x = frame["x"].to_numpy()
    result = bf.slopes(model, idata, "x")
    assert list(result.index) == list(frame.index) and set(result["slope"]) == {"dydx"}
    _assert_summary(result, dydx)
    for kind, value in (("eyex", dydx * x / p), ("eydx", dydx / p), ("dyex", dydx * x)):
        _assert_summary(
            bf.slopes(model, idata, "x", slope=kind, average=True), value.mean(1)[:, None]
        )
    labels, expected = _group_means(dydx, frame, "c", frame["w"])
    _assert_summary(bf.slopes(model, idata, "x", by="c", wts="w"), expected)
    linear = bf.slopes(model, idata, ["x", "d"], target="linpred", average=True)
    assert linear["term"].tolist() == ["x", "d"]
    _assert_summary(linear, np.column_stack([_draws(idata, "x"), _draws(idata, "d")]))


def test_slopes_through_a_transformation():
    """In ``np.log(z)`` the design's change is a central difference, second order in eps: the
    slope b / z (linear predictor) and p (1 - p) b / z (mean) within 1e-6 of their size."""
    rng = np.random.default_rng(8)
    data = pd.DataFrame({"z": rng.uniform(0.5, 3.0, 200)})
    data["y"] = rng.binomial(1, expit(-0.2 + 0.7 * np.log(data.z)))
    model = bf.Model("y ~ np.log(z)", data, family="bernoulli")
    idata = model.fit(draws=200, progressbar=False, random_seed=2)
    b = _draws(idata, "np.log(z)")[:, None]
    z = data["z"].to_numpy()
    p = expit(_draws(idata, "Intercept")[:, None] + b * np.log(z))
    np.testing.assert_allclose(bf.slopes(model, idata, target="linpred").draws, b / z, rtol=1e-6)
    np.testing.assert_allclose(bf.slopes(model, idata).draws, p * (1 - p) * b / z, rtol=1e-6)


@pytest.fixture(scope="module")
def distributional():
    rng = np.random.default_rng(4)
    data = pd.DataFrame({"x": rng.normal(size=300)})
    data["y"] = 1.0 + 0.5 * data.x + rng.normal(size=300) * np.exp(-0.3 + 0.4 * data.x)
    model = bf.Model(bf.Formula("y ~ x", "sigma ~ x"), data, family="gaussian")
    return model, model.fit(draws=300, progressbar=False, random_seed=5)


def test_an_auxiliary_parameters_predictions_and_slopes(distributional):
    model, idata = distributional
    x = model.data["x"].to_numpy()
    sigma = np.exp(
        _draws(idata, "sigma_Intercept")[:, None] + _draws(idata, "sigma_x")[:, None] * x
    )
    _assert_summary(bf.predictions(model, idata, target="sigma"), sigma)
    slope = bf.slopes(model, idata, "x", target="sigma")
    _assert_summary(slope, sigma * _draws(idata, "sigma_x")[:, None])
    mean = bf.predictions(model, idata, target="mu", average=True)  # the parent by name
    intercept, b = _draws(idata, "Intercept")[:, None], _draws(idata, "x")[:, None]
    _assert_summary(mean, (intercept + b * x).mean(1)[:, None])


def test_ordinal_predictions_have_a_row_per_level():
    rng = np.random.default_rng(6)
    data = pd.DataFrame({"x": rng.normal(size=200)})
    data["y"] = pd.Categorical(
        np.digitize(0.8 * data.x + rng.logistic(size=200), [-1.0, 0.5, 2.0]).astype(str),
        ordered=True,
    )
    model = bf.Model("y ~ x", data, family="cumulative")
    idata = model.fit(draws=200, progressbar=False, random_seed=1)
    levels = list(model.response_data.levels)
    grid = bf.datagrid(model, x=[-1.0, 1.0])
    result = bf.predictions(model, idata, grid)
    assert result["level"].tolist() == levels * 2 and result["x"].tolist() == [-1.0] * 4 + [1.0] * 4
    total = result.draws.reshape(result.draws.shape[0], 2, len(levels)).sum(axis=2)
    np.testing.assert_allclose(total, 1.0, atol=1e-12)
    change = bf.comparisons(model, idata, "x", grid, average=True)
    assert change["level"].tolist() == levels
    np.testing.assert_allclose(change.draws.sum(axis=1), 0.0, atol=1e-12)  # shares move, sum 1


def test_chunks_give_the_same_averages(logistic):
    model, idata = logistic
    whole = bf.comparisons(model, idata, "x", by="c", wts="w")
    chunked = bf.comparisons(model, idata, "x", by="c", wts="w", chunk_size=7)
    np.testing.assert_allclose(chunked.draws, whole.draws, rtol=0, atol=1e-12)
    unit = bf.predictions(model, idata, chunk_size=33, progressbar=False)
    np.testing.assert_allclose(unit.draws, bf.predictions(model, idata).draws, atol=0)


def test_response_target_is_seeded_and_shares_random_numbers(logistic):
    model, idata = logistic
    one = bf.predictions(model, idata, target="response", average=True, random_seed=1)
    again = bf.predictions(model, idata, target="response", average=True, random_seed=1)
    np.testing.assert_array_equal(one.draws, again.draws)
    mean = bf.predictions(model, idata, average=True)
    # an average of 400 bernoulli draws per posterior draw: sd at most 0.025 about the mean
    assert abs(one["estimate"].iloc[0] - mean["estimate"].iloc[0]) < 0.01
    # both sides of a comparison use the same random numbers: with x unchanged (a step of
    # 0) every response is the same, so every difference is 0
    nothing = bf.comparisons(model, idata, {"x": 0}, target="response", random_seed=2)
    assert np.all(nothing.draws == 0)


def test_hypothesis_probabilities_are_shares_of_draws(logistic):
    model, idata = logistic
    x, a = _draws(idata, "x"), _draws(idata, "Intercept")
    cb, cc = _draws(idata, "c", "b"), _draws(idata, "c", "c")
    result = bf.hypothesis(
        idata, ["x > 0.9", "c[b] - c[c] = 0", "-Intercept / x < 0"], rope=(-0.1, 0.1)
    )
    assert result["hypothesis"].tolist() == ["x > 0.9", "c[b] - c[c] = 0", "-Intercept / x < 0"]
    share = np.mean(x - 0.9 > 0)
    assert result["post_prob"].iloc[0] == share
    assert result["evid_ratio"].iloc[0] == pytest.approx(share / (1 - share), rel=1e-12)
    assert np.isnan(result["post_prob"].iloc[1]) and np.isnan(result["evid_ratio"].iloc[1])
    d = cb - cc
    assert result["pd"].iloc[1] == max(np.mean(d > 0), np.mean(d < 0))
    assert result["rope"].iloc[1] == np.mean((d >= -0.1) & (d <= 0.1))
    assert result["post_prob"].iloc[2] == np.mean(-a / x < 0)
    _assert_summary(result, np.column_stack([x - 0.9, d, -a / x]))


def test_hypothesis_on_a_result_names_rows_b1_b2(logistic):
    model, idata = logistic
    levels = bf.predictions(model, idata, bf.datagrid(model, c=["a", "b", "c"]))
    result = bf.hypothesis(levels, ["b2 - b1 > 0", "b3 / b1 = 1", "logit(b2) > 0"])
    draws = levels.draws
    _assert_summary(
        result,
        np.column_stack(
            [
                draws[:, 1] - draws[:, 0],
                draws[:, 2] / draws[:, 0] - 1,
                np.log(draws[:, 1] / (1 - draws[:, 1])),
            ]
        ),
    )
    assert result["post_prob"].iloc[0] == np.mean(draws[:, 1] > draws[:, 0])


def test_linpred_kind_stores_the_design_times_the_draws(logistic):
    model, idata = logistic
    out = model.predict(idata, kind="linpred", inplace=False)
    eta = out["posterior"]["linpred"].transpose("chain", "draw", "__obs__").values
    np.testing.assert_allclose(
        eta.reshape(-1, len(model.data)), _eta(idata, model.data), rtol=0, atol=1e-10
    )
    grid = bf.datagrid(model, x=[0.0, 1.0])
    model.predict(out, kind="linpred", data=grid)  # replaces the in-sample one
    assert out["posterior"]["linpred"].sizes["__obs__"] == 2


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda m, i: bf.predictions(m, i, target="sd"), PredictionError, "target"),
        (lambda m, i: bf.comparisons(m, i, "z"), PredictionError, "'z'"),
        (lambda m, i: bf.comparisons(m, i, "x", wts="w"), PredictionError, "average=True"),
        (lambda m, i: bf.comparisons(m, i, "x", comparison="log"), PredictionError, "comparison"),
        (lambda m, i: bf.comparisons(m, i, {"c": ["a", "q"]}), PredictionError, "levels"),
        (lambda m, i: bf.comparisons(m, i, {"x": "max"}), PredictionError, "numeric 'x'"),
        (lambda m, i: bf.predictions(m, i, by="colour"), PredictionError, "colour"),
        (lambda m, i: bf.predictions(m, i, data=[1, 2]), DataTypeError, "DataFrame"),
        (lambda m, i: bf.predictions(m, i, average=True, wts=[1, 2]), PredictionError, "wts"),
        (lambda m, i: bf.hypothesis(i, "x >> 0"), PredictionError, "cannot read|compares"),
        (lambda m, i: bf.hypothesis(i, "slope > 0"), PredictionError, "slope"),
        (lambda m, i: bf.hypothesis(i, "x.mean() > 0"), PredictionError, "numbers, names"),
        (lambda m, i: bf.hypothesis(m, "x > 0"), DataTypeError, "fit"),
        (
            lambda m, i: bf.predictions(m, i, m.data.assign(k=np.nan), by="k"),
            PredictionError,
            "missing values",
        ),
        (lambda m, i: bf.slopes(m, i, "c"), PredictionError, "categorical"),
        (lambda m, i: bf.slopes(m, i, target="response"), PredictionError, "derivative"),
        (lambda m, i: bf.slopes(m, i, slope="dy"), PredictionError, "slope"),
        (lambda m, i: bf.slopes(m, i, eps=0), PredictionError, "eps"),
    ],
)
def test_clear_errors(logistic, call, error, match):
    model, idata = logistic
    with pytest.raises(error, match=match):
        call(model, idata)


def test_new_group_levels_as_predict_handles_them():
    """A level not seen in fitting is an error unless ``sample_new_groups``, which draws its
    effects from the fitted population distribution: the same for both sides of a
    comparison (seeded), so a comparison on new levels is the common effects' change."""
    rng = np.random.default_rng(9)
    data = pd.DataFrame({"x": rng.normal(size=120), "g": rng.choice(["a", "b", "c"], 120)})
    data["y"] = (
        1.0 + 0.5 * data.x + data.g.map({"a": -0.5, "b": 0.0, "c": 0.5}) + rng.normal(size=120)
    )
    model = bf.Model("y ~ x + (1|g)", data)
    idata = model.fit(draws=200, progressbar=False, random_seed=4)
    new = pd.DataFrame({"x": [0.0, 1.0], "g": ["z", "z"]})
    with pytest.raises(PredictionError, match="z"):
        bf.predictions(model, idata, new)
    one = bf.predictions(model, idata, new, sample_new_groups=True, random_seed=3)
    again = bf.predictions(model, idata, new, sample_new_groups=True, random_seed=3)
    np.testing.assert_array_equal(one.draws, again.draws)
    change = bf.comparisons(model, idata, "x", new, sample_new_groups=True, random_seed=3)
    np.testing.assert_allclose(change.draws, _draws(idata, "x")[:, None].repeat(2, 1), atol=1e-12)


def test_the_default_rows_are_those_fitted_after_dropna(logistic):
    model, idata = logistic
    data = model.data.copy()
    data.loc[data.index[:5], "x"] = np.nan
    with pytest.warns(UserWarning, match="dropped 5"):
        dropped = bf.Model("y ~ x + d + c", data, family="bernoulli", dropna=True)
    result = bf.predictions(dropped, idata)
    assert list(result.index) == list(data.index[5:])
    _assert_summary(result, expit(_eta(idata, data.iloc[5:])))
