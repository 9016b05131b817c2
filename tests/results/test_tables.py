"""summary / params / conf_int / hdi_bounds and Model.predictions against independent references.

References are computed here with numpy, scipy and ArviZ directly from the posterior draws, never
from the function under test.
"""

from __future__ import annotations

import copy

import arviz as az
import numpy as np
import pandas as pd
import pytest
from scipy import special

import bayesformula as bf
from bayesformula.errors import BayesformulaError, PredictionError
from bayesformula.results.tables import hdi_bounds
from tests.helpers import fit_tree

COLUMNS = [
    "mean",
    "sd",
    "hdi_3%",
    "hdi_97%",
    "mcse_mean",
    "mcse_sd",
    "ess_bulk",
    "ess_tail",
    "r_hat",
]


def _stacked(idata, name):
    """(chain * draw, ...) draws of one posterior variable."""
    da = idata.posterior[name]
    return da.values.reshape((-1,) + da.shape[2:])


def _reference_draws(idata, include_internal=False):
    """label -> 1-D draws, with labels 'name' or 'name[level]' built from the coordinates."""
    out = {}
    for name, da in idata.posterior.data_vars.items():
        if not include_internal and name.endswith(("_centered", "_offset")):
            continue
        values = _stacked(idata, name)
        other = [d for d in da.dims if d not in ("chain", "draw")]
        if not other:
            out[name] = values
        else:
            assert len(other) == 1  # the fixtures only have vector variables
            for j, level in enumerate(da[other[0]].values):
                out[f"{name}[{level}]"] = values[:, j]
    return out


def _az_hdi(draws, prob):
    lo, hi = az.hdi(np.asarray(draws, dtype=float), prob=prob)
    return lo, hi


# --------------------------------------------------------------------------- summary


def test_summary_rows_bioassay_leave_out_internal_variables(bioassay_fit):
    _, idata = bioassay_fit
    table = bf.summary(idata)
    assert sorted(table.index) == ["Intercept", "dose"]
    assert list(table.columns) == COLUMNS
    assert table.index.name == "parameter"
    internal = bf.summary(idata, include_internal=True)
    assert sorted(internal.index) == ["Intercept", "Intercept_centered", "dose"]


def test_summary_row_labels_group_fit(group_fit):
    _, idata = group_fit
    table = bf.summary(idata)
    # the reference level of a (alphabetically first, "hi") has no coefficient
    expected = {"x", "a[lo]", "a[mid]", "Intercept", "sigma", "1|g_sigma"}
    expected |= {f"1|g[g{i}]" for i in range(8)}
    assert set(table.index) == expected
    assert len(table) == len(expected)


@pytest.mark.parametrize("fixture", ["bioassay_fit", "group_fit", "sleep_fit"])
def test_summary_mean_sd_match_numpy(fixture, request):
    _, idata = request.getfixturevalue(fixture)
    table = bf.summary(idata)
    reference = _reference_draws(idata)
    assert set(table.index) == set(reference)
    for label, draws in reference.items():
        np.testing.assert_allclose(table.loc[label, "mean"], draws.mean(), rtol=1e-12)
        np.testing.assert_allclose(table.loc[label, "sd"], draws.std(ddof=1), rtol=1e-12)


@pytest.mark.parametrize(
    "prob, lower, upper",
    [(0.94, "hdi_3%", "hdi_97%"), (0.9, "hdi_5%", "hdi_95%"), (0.95, "hdi_2.5%", "hdi_97.5%")],
)
def test_summary_hdi_columns_named_and_equal_arviz(group_fit, prob, lower, upper):
    _, idata = group_fit
    table = bf.summary(idata, prob=prob)
    assert list(table.columns[2:4]) == [lower, upper]
    for label, draws in _reference_draws(idata).items():
        lo, hi = _az_hdi(draws, prob)
        np.testing.assert_allclose(table.loc[label, lower], lo, rtol=1e-12)
        np.testing.assert_allclose(table.loc[label, upper], hi, rtol=1e-12)


def test_summary_rhat_ess_match_arviz(group_fit):
    _, idata = group_fit
    table = bf.summary(idata)
    rhat = az.rhat(idata)
    bulk = az.ess(idata, method="bulk")
    tail = az.ess(idata, method="tail")
    for label in table.index:
        name, _, level = label.partition("[")
        sel = {}
        if level:
            dim = [d for d in idata.posterior[name].dims if d not in ("chain", "draw")][0]
            sel = {dim: level.rstrip("]")}
        row = table.loc[label]
        np.testing.assert_allclose(row["r_hat"], float(rhat[name].sel(sel)), rtol=1e-12)
        np.testing.assert_allclose(row["ess_bulk"], float(bulk[name].sel(sel)), rtol=1e-12)
        np.testing.assert_allclose(row["ess_tail"], float(tail[name].sel(sel)), rtol=1e-12)


def _arviz_frame(idata, names, prob, kind, columns):
    """ArviZ's own wide summary frame, with bayesformula's column names and order."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ref = az.summary(idata, var_names=names, ci_prob=prob, ci_kind=kind, round_to="none")
    bounds = {c: columns[2] if c.endswith("_lb") else columns[3] for c in ref.columns}
    ref = ref.rename(columns={c: v for c, v in bounds.items() if c.endswith(("_lb", "_ub"))})
    return ref[list(columns)]


def _synthetic_fits():
    rng = np.random.default_rng(3)
    matrix = fit_tree(
        posterior={
            "b": rng.normal(size=(2, 150, 2, 3)),
            "s": rng.gamma(2.0, size=(2, 150)),
            "k": rng.poisson(3.0, size=(2, 150)),  # integer draws
        },
        coords={"row": ["r0", "r1"], "col": ["c0", "c1", "c2"]},
        dims={"b": ["row", "col"]},
    )
    one_chain = fit_tree(posterior={"a": rng.normal(size=(1, 300, 4))}, dims={"a": ["level"]})
    return {"matrix": matrix, "one chain": one_chain}


@pytest.mark.parametrize("kind, prob", [("hdi", 0.94), ("eti", 0.9)])
@pytest.mark.parametrize("include_internal", [False, True])
def test_summary_is_arviz_summary_frame(group_fit, sleep_fit, kind, prob, include_internal):
    """The table is ArviZ's summary, row for row and value for value (computed on stacked
    arrays instead of through xarray)."""
    fits = {"group": group_fit[1], "correlated": sleep_fit[1], **_synthetic_fits()}
    for what, idata in fits.items():
        table = bf.summary(idata, prob=prob, kind=kind, include_internal=include_internal)
        names = list(dict.fromkeys(label.split("[")[0] for label in table.index))
        ref = _arviz_frame(idata, names, prob, kind, table.columns)
        assert list(table.index) == list(ref.index), what
        np.testing.assert_array_equal(table.to_numpy(), ref.to_numpy(dtype=float), err_msg=what)


def test_summary_var_names_and_rounding(bioassay_fit):
    _, idata = bioassay_fit
    only = bf.summary(idata, var_names="dose")
    assert list(only.index) == ["dose"]
    rounded = bf.summary(idata, round_to=2)
    np.testing.assert_allclose(
        rounded.loc["dose", "mean"], round(_stacked(idata, "dose").mean(), 2)
    )
    with pytest.raises(BayesformulaError, match="dos"):
        bf.summary(idata, var_names=["dos"])


@pytest.mark.parametrize("prob", [0, 1, 1.5, -0.2, "x", True, None])
def test_bad_prob_is_an_error(bioassay_fit, prob):
    _, idata = bioassay_fit
    with pytest.raises(BayesformulaError, match="prob must be a number strictly between 0 and 1"):
        bf.summary(idata, prob=prob)
    with pytest.raises(BayesformulaError, match="prob"):
        bf.conf_int(idata, prob=prob)


def test_object_without_posterior_is_a_clear_error(bioassay):
    with pytest.raises(bf.errors.DataTypeError, match="'posterior' group.*got DataFrame"):
        bf.summary(bioassay)
    no_post = fit_tree(observed_data={"y": np.zeros(3)})
    with pytest.raises(BayesformulaError, match="'posterior' group.*observed_data"):
        bf.summary(no_post)
    with pytest.raises(BayesformulaError, match="posterior"):
        bf.params(no_post)
    with pytest.raises(BayesformulaError, match="posterior"):
        bf.conf_int(no_post)


# --------------------------------------------------------------------------- params


@pytest.mark.parametrize("fixture", ["bioassay_fit", "group_fit", "sleep_fit"])
def test_params_are_numpy_means_indexed_like_summary(fixture, request):
    _, idata = request.getfixturevalue(fixture)
    means = bf.params(idata)
    assert isinstance(means, pd.Series)
    assert list(means.index) == list(bf.summary(idata).index)
    for label, draws in _reference_draws(idata).items():
        np.testing.assert_allclose(means[label], draws.mean(), rtol=1e-12)


def test_params_include_internal(bioassay_fit):
    _, idata = bioassay_fit
    means = bf.params(idata, include_internal=True)
    assert set(means.index) == {"dose", "Intercept", "Intercept_centered"}
    np.testing.assert_allclose(
        means["Intercept_centered"], _stacked(idata, "Intercept_centered").mean(), rtol=1e-12
    )


def test_matrix_variable_labels_agree_across_tables():
    """A 2-D parameter: params/conf_int rows are labelled exactly like ArviZ's summary rows."""
    rng = np.random.default_rng(1)
    b = rng.normal(size=(2, 200, 2, 3)) + np.arange(6).reshape(2, 3)
    idata = fit_tree(
        posterior={"b": b, "s": rng.gamma(2.0, size=(2, 200))},
        coords={"row": ["r0", "r1"], "col": ["c0", "c1", "c2"]},
        dims={"b": ["row", "col"]},
    )
    labels = ["s"] + [f"b[r{i}, c{j}]" for i in range(2) for j in range(3)]
    assert set(bf.summary(idata).index) == set(labels)
    means = bf.params(idata)
    assert list(means.index) == list(bf.summary(idata).index)
    assert list(bf.conf_int(idata).index) == list(means.index)
    for i in range(2):
        for j in range(3):
            draws = b[:, :, i, j].ravel()
            np.testing.assert_allclose(means[f"b[r{i}, c{j}]"], draws.mean(), rtol=1e-12)
            lo, hi = _az_hdi(draws, 0.94)
            ci = bf.conf_int(idata).loc[f"b[r{i}, c{j}]"]
            np.testing.assert_allclose([ci["lower"], ci["upper"]], [lo, hi], rtol=1e-12)


# --------------------------------------------------------------------------- conf_int


@pytest.mark.parametrize("prob", [0.5, 0.9, 0.94])
def test_conf_int_eti_is_numpy_quantile(group_fit, prob):
    _, idata = group_fit
    ci = bf.conf_int(idata, prob=prob, kind="eti")
    assert list(ci.columns) == ["lower", "upper"]
    for label, draws in _reference_draws(idata).items():
        q = np.quantile(draws, [(1 - prob) / 2, (1 + prob) / 2])
        np.testing.assert_allclose(ci.loc[label].to_numpy(), q, rtol=1e-12)


@pytest.mark.parametrize("prob", [0.5, 0.9, 0.94])
def test_conf_int_hdi_is_arviz_hdi(group_fit, prob):
    _, idata = group_fit
    ci = bf.conf_int(idata, prob=prob)
    assert list(ci.columns) == ["lower", "upper"]
    assert set(ci.index) == set(_reference_draws(idata))
    for label, draws in _reference_draws(idata).items():
        np.testing.assert_allclose(ci.loc[label].to_numpy(), _az_hdi(draws, prob), rtol=1e-12)
    assert (ci["lower"] < ci["upper"]).all()


def test_conf_int_bad_kind(bioassay_fit):
    _, idata = bioassay_fit
    with pytest.raises(BayesformulaError, match="kind must be 'hdi' or 'eti'"):
        bf.conf_int(idata, kind="quantile")


@pytest.mark.parametrize("prob", [0.3, 0.5, 0.8, 0.9, 0.94, 0.99])
@pytest.mark.parametrize("n", [57, 1000, 4001])
def test_hdi_bounds_equal_arviz_on_skewed_samples(prob, n):
    rng = np.random.default_rng(n)
    columns = np.column_stack(
        [rng.gamma(0.7, size=n), rng.gamma(3.0, 2.0, size=n), rng.lognormal(0, 1, size=n)]
    )
    lo, hi = hdi_bounds(columns, prob)
    for j in range(columns.shape[1]):
        ref = _az_hdi(columns[:, j], prob)
        np.testing.assert_allclose([lo[j], hi[j]], ref, rtol=1e-12)
        lo1, hi1 = hdi_bounds(columns[:, j], prob)  # 1-D input
        np.testing.assert_allclose([lo1, hi1], ref, rtol=1e-12)
    if n >= 1000:  # with enough draws, the HDI of a right-skewed density lies left of the ETI
        eti = np.quantile(columns[:, 0], [(1 - prob) / 2, (1 + prob) / 2])
        assert lo[0] <= eti[0] and hi[0] <= eti[1]


def test_hdi_bounds_too_few_draws():
    with pytest.raises(BayesformulaError, match="too few"):
        hdi_bounds(np.array([1.0]), 0.5)


# --------------------------------------------------------------------------- predictions


def _bioassay_p(idata, dose):
    """p = expit(Intercept + dose * x) for every draw, computed with numpy."""
    intercept = _stacked(idata, "Intercept")[:, None]
    slope = _stacked(idata, "dose")[:, None]
    return special.expit(intercept + slope * np.asarray(dose, dtype=float)[None, :])


def _snapshot(idata):
    return {g: copy.deepcopy(idata[g]) for g in idata.children}


def _assert_unchanged(idata, snapshot):
    assert list(idata.children) == list(snapshot)
    for group, dataset in snapshot.items():
        assert set(idata[group].data_vars) == set(dataset.data_vars)
        assert idata[group].identical(dataset)


@pytest.mark.parametrize(
    "index",
    [pd.Index(["a", "b", "c"]), pd.Index([7, 0, 3]), pd.Index([2, 0, 1])],
    ids=["labels", "shuffled-int", "permuted-range"],
)
def test_predictions_keep_index_and_match_numpy(bioassay_fit, index):
    model, idata = bioassay_fit
    snapshot = _snapshot(idata)
    new = pd.DataFrame({"dose": [-0.5, 0.0, 0.8], "n": [5, 10, 20]}, index=index)
    table = model.predictions(idata, data=new)
    assert table.index.equals(new.index)
    assert list(table.columns) == ["mean", "sd", "hdi_3%", "hdi_97%"]
    p = _bioassay_p(idata, new["dose"])
    np.testing.assert_allclose(table["mean"], p.mean(axis=0), rtol=1e-10)
    np.testing.assert_allclose(table["sd"], p.std(axis=0, ddof=1), rtol=1e-10)
    for j, label in enumerate(new.index):
        lo, hi = _az_hdi(p[:, j], 0.94)
        np.testing.assert_allclose(table.loc[label, ["hdi_3%", "hdi_97%"]], [lo, hi], rtol=1e-10)
    # joining back onto the input pairs each row with its own dose
    joined = new.join(table)
    np.testing.assert_allclose(
        joined["mean"], _bioassay_p(idata, joined["dose"]).mean(axis=0), rtol=1e-10
    )
    _assert_unchanged(idata, snapshot)


def test_in_sample_predictions_use_fitting_index(group_fit, group_data):
    model, idata = group_fit
    table = model.predictions(idata, prob=0.9)
    assert table.index.equals(group_data.index)
    assert list(table.columns) == ["mean", "sd", "hdi_5%", "hdi_95%"]
    # mu = Intercept + x b + a-effect + u[g], directly from the draws
    mu = (
        _stacked(idata, "Intercept")[:, None]
        + _stacked(idata, "x")[:, None] * group_data["x"].to_numpy()
    )
    a = _stacked(idata, "a")
    for j, level in enumerate(idata.posterior["a_dim"].values):
        mu = mu + a[:, j][:, None] * (group_data["a"].to_numpy() == level)
    levels = list(idata.posterior["g__factor_dim"].values)
    mu = mu + _stacked(idata, "1|g")[:, [levels.index(g) for g in group_data["g"]]]
    np.testing.assert_allclose(table["mean"], mu.mean(axis=0), rtol=1e-10)
    np.testing.assert_allclose(table["sd"], mu.std(axis=0, ddof=1), rtol=1e-10)
    for j in (0, 41, 119):
        lo, hi = _az_hdi(mu[:, j], 0.9)
        np.testing.assert_allclose(table.iloc[j][["hdi_5%", "hdi_95%"]], [lo, hi], rtol=1e-10)


def test_response_predictions_bracket_and_stay_in_support(bioassay_fit):
    model, idata = bioassay_fit
    snapshot = _snapshot(idata)
    new = pd.DataFrame({"dose": [-0.9, -0.2, 0.1, 0.9], "n": [5, 10, 20, 3]}, index=list("wxyz"))
    table = model.predictions(idata, data=new, kind="response", random_seed=1)
    assert list(table.columns) == [
        "mean",
        "sd",
        "hdi_3%",
        "hdi_97%",
        "response_mean",
        "response_sd",
        "pi_3%",
        "pi_97%",
    ]
    assert table.index.equals(new.index)
    assert (table["pi_3%"] <= table["response_mean"]).all()
    assert (table["response_mean"] <= table["pi_97%"]).all()
    assert (table["pi_3%"] >= 0).all() and (table["pi_97%"] <= new["n"]).all()
    # E[y] = n * E[p]; the response mean over S draws has Monte Carlo sd response_sd / sqrt(S)
    p = _bioassay_p(idata, new["dose"])
    s = p.shape[0]
    err = np.abs(table["response_mean"] - new["n"] * p.mean(axis=0))
    assert (err < 5 * table["response_sd"] / np.sqrt(s) + 1e-12).all()
    # the draws themselves: integers within [0, n]
    drawn = model.predict(idata, data=new, kind="response", inplace=False, random_seed=1)
    y = drawn.posterior_predictive["deaths"].values.reshape(s, -1)
    assert np.all(y >= 0) and np.all(y <= new["n"].to_numpy()[None, :])
    np.testing.assert_array_equal(y, np.round(y))
    # the same seed gives the same table
    again = model.predictions(idata, data=new, kind="response", random_seed=1)
    pd.testing.assert_frame_equal(table, again, check_exact=True)
    _assert_unchanged(idata, snapshot)


def _assert_same_table(chunked, default):
    """Chunked and unchunked tables agree to floating-point rounding, not bit for bit.

    Two things change the last bits with the chunk width (checked when writing these tests):
    the design-matrix product ``X @ beta`` of a (S, k) x (k, rows) block is rounded differently
    for different ``rows`` once X has two or more columns (about 1e-15 here), and numpy sums a
    (S, rows) array down axis 0 in an order that depends on ``rows`` (pairwise summation only
    for one column). Both are a few ulps; 1e-13 relative/absolute at values |x| < 10 allows
    some hundred ulps and would still catch a row mix-up or a dropped/duplicated chunk.
    """
    assert chunked.index.equals(default.index)
    assert list(chunked.columns) == list(default.columns)
    for column in default.columns:
        np.testing.assert_allclose(
            chunked[column], default[column], rtol=1e-13, atol=1e-13, err_msg=column
        )


def test_chunking_gives_the_same_table(group_fit):
    model, idata = group_fit
    default = model.predictions(idata)
    for chunk_size in (1, 7, 200):
        chunked = model.predictions(idata, chunk_size=chunk_size, progressbar=False)
        _assert_same_table(chunked, default)


def test_progressbar_over_several_chunks(bioassay_fit):
    model, idata = bioassay_fit
    new = pd.DataFrame({"dose": np.linspace(-1, 1, 9), "n": 5}, index=[f"r{i}" for i in range(9)])
    shown = model.predictions(idata, data=new, chunk_size=2, progressbar=True)
    _assert_same_table(shown, model.predictions(idata, data=new))
    response = model.predictions(
        idata, data=new, kind="response", chunk_size=4, progressbar=True, random_seed=0
    )
    assert response.index.equals(new.index)


@pytest.mark.parametrize("chunk_size", [0, -3, 1.5, "2", True])
def test_bad_chunk_size(bioassay_fit, chunk_size):
    model, idata = bioassay_fit
    with pytest.raises(
        (bf.errors.ArgumentError, bf.errors.ArgumentTypeError),
        match=r"predictions\(\): chunk_size must be an integer >= 1",
    ):
        model.predictions(idata, chunk_size=chunk_size)


def test_predictions_bad_arguments(bioassay_fit):
    model, idata = bioassay_fit
    with pytest.raises(BayesformulaError, match="prob"):
        model.predictions(idata, prob=1.0)
    with pytest.raises(bf.errors.ArgumentError, match="kind: unknown kind 'draws'"):
        model.predictions(idata, kind="draws")
    with pytest.raises(PredictionError, match="no 'posterior' group"):
        model.predictions(fit_tree(observed_data={"deaths": np.zeros(4)}))
