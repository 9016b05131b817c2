"""Row order and display of the parameter tables (summary, params, conf_int).

Rows follow the model as written: the intercept, the common terms, the group-specific terms
(standard deviation, then effects; correlations after the terms), then the auxiliary
parameters. Tables display rounded numbers while keeping the full values.
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

import bayesformula as bf
from bayesformula.results.display import ParameterTable
from bayesformula.results.tables import parameter_order
from tests.helpers import fit_tree

RNG = np.random.default_rng(4)
CHAINS, DRAWS = 2, 100


def _draws(*shape, loc=0.0, scale=1.0):
    return RNG.normal(loc, scale, size=(CHAINS, DRAWS, *shape))


def _graph_like_fit():
    """A posterior in the order PyMC writes it: free variables, then deterministics."""
    posterior = {
        "x": _draws(loc=0.123456789, scale=0.01),
        "a": _draws(1),
        "sigma": np.abs(_draws()) + 1,
        "Intercept": _draws(loc=12345.678, scale=25.0),
        "1+a|g_corr": _draws(1),
        "1|g_sigma": np.abs(_draws()),
        "1|g": _draws(3),
        "a|g_sigma": np.abs(_draws(1)),
        "a|g": _draws(3, 1),
    }
    dims = {
        "a": ["a_dim"],
        "1+a|g_corr": ["1+a|g__corr_dim"],
        "1|g": ["g__factor_dim"],
        "a|g_sigma": ["a__expr_dim"],
        "a|g": ["g__factor_dim", "a__expr_dim"],
    }
    coords = {
        "a_dim": ["lo"],
        "1+a|g__corr_dim": ["Intercept,a[lo]"],
        "g__factor_dim": ["g1", "g2", "g3"],
        "a__expr_dim": ["lo"],
    }
    return fit_tree(posterior=posterior, dims=dims, coords=coords)


EXPECTED = [
    "Intercept",
    "x",
    "a[lo]",
    "1|g_sigma",
    "1|g[g1]",
    "1|g[g2]",
    "1|g[g3]",
    "a|g_sigma[lo]",
    "a|g[g1, lo]",
    "a|g[g2, lo]",
    "a|g[g3, lo]",
    "1+a|g_corr[Intercept,a[lo]]",
    "sigma",
]


def _line(text: str, label: str) -> str:
    """The displayed row of ``label``."""
    (line,) = [row for row in text.splitlines() if row.startswith(f"{label} ")]
    return line


def test_summary_rows_in_model_order():
    idata = _graph_like_fit()
    assert list(bf.summary(idata).index) == EXPECTED
    assert list(bf.params(idata).index) == EXPECTED
    assert list(bf.conf_int(idata).index) == EXPECTED


def test_var_names_keep_the_order_given():
    idata = _graph_like_fit()
    assert list(bf.summary(idata, var_names=["sigma", "x"]).index) == ["sigma", "x"]


def test_distributional_and_threshold_order():
    names = [
        "x",
        "Intercept_centered",
        "1|g_sigma",
        "sigma_x",
        "sigma_Intercept_centered",
        "Intercept",
        "1|g",
        "sigma_Intercept",
    ]
    assert parameter_order(names) == [
        "Intercept",
        "Intercept_centered",
        "x",
        "1|g_sigma",
        "1|g",
        "sigma_Intercept",
        "sigma_Intercept_centered",
        "sigma_x",
    ]
    assert parameter_order(["x", "threshold_centered", "threshold"]) == [
        "threshold",
        "threshold_centered",
        "x",
    ]
    # a scalar auxiliary parameter: its own name, not a prefix
    assert parameter_order(["sigma_x", "sigma", "Intercept"]) == ["Intercept", "sigma_x", "sigma"]


def test_summary_displays_rounded_values_and_keeps_full_precision():
    idata = _graph_like_fit()
    table = bf.summary(idata)
    assert isinstance(table, pd.DataFrame) and isinstance(table, ParameterTable)
    assert repr(table) == str(table)
    text = table.to_string()
    assert "0.1234567" not in text and "0.1234567" not in str(table)
    x_mean = float(idata.posterior["x"].mean())
    # the values are the full ones...
    assert table.loc["x", "mean"] == pytest.approx(x_mean, rel=1e-12)
    assert repr(x_mean) not in text and repr(round(x_mean, 6)) not in text
    # ...the display rounds each row to 3 significant digits of its sd
    x_sd = float(table.loc["x", "sd"])
    decimals = 2 - int(np.floor(np.log10(x_sd)))
    x_row = _line(text, "x")
    assert f" {x_mean:.{decimals}f} " in x_row
    assert f" {table.loc['Intercept', 'mean']:.1f} " in _line(text, "Intercept")
    assert f" {int(np.floor(table.loc['x', 'ess_bulk']))} " in x_row
    assert x_row.endswith(f" {table.loc['x', 'r_hat']:.2f}")


def test_table_behaves_as_a_dataframe():
    idata = _graph_like_fit()
    table = bf.summary(idata)
    sub = table.loc[["x", "sigma"], ["mean", "sd"]]
    assert isinstance(sub, ParameterTable)
    np.testing.assert_allclose((table * 2)["mean"], 2 * table["mean"].to_numpy())
    assert isinstance(table.loc["x"], pd.Series)
    back = pickle.loads(pickle.dumps(table))
    assert isinstance(back, ParameterTable)
    pd.testing.assert_frame_equal(back, table)
    own = table.to_string(float_format="{:.8f}".format)
    assert f"{table.loc['x', 'mean']:.8f}" in own
    assert table._repr_html_().startswith("<div>")


def test_round_to_rounds_the_values():
    idata = _graph_like_fit()
    rounded = bf.summary(idata, round_to=3)
    assert type(rounded) is pd.DataFrame
    assert rounded.loc["x", "mean"] == round(float(idata.posterior["x"].mean()), 3)
    # rounding a table by hand shows the rounded values as they are (the CLI's --digits)
    by_hand = bf.summary(idata).round(5)
    assert type(by_hand) is pd.DataFrame
    assert f"{by_hand.loc['x', 'mean']:.5f}" in _line(by_hand.to_string(), "x")


def test_conf_int_displays_rounded():
    idata = _graph_like_fit()
    ci = bf.conf_int(idata)
    assert isinstance(ci, ParameterTable)
    for label in ("Intercept", "x"):
        lower, upper = ci.loc[label, "lower"], ci.loc[label, "upper"]
        decimals = max(0, 2 - int(np.floor(np.log10(upper - lower))))  # 3 digits of the width
        shown = _line(str(ci), label).split()[1:]
        assert shown == [f"{lower:.{decimals}f}", f"{upper:.{decimals}f}"]
        assert repr(float(lower)) not in str(ci)


def test_display_rules():
    table = ParameterTable(
        {
            "mean": [0.123456, 1234.5678, np.nan],
            "sd": [0.0123, 0.0, 1.0],
            "mcse_mean": [0.000123456, 1.23456, np.nan],
            "ess_tail": [99.9, 1234.2, np.nan],
            "r_hat": [1.004, 1.0, np.nan],
        },
        index=["p", "q", "r"],
    )
    shown = table.display_frame()
    assert list(shown.loc["p"]) == ["0.1235", "0.0123", "0.00012", "99", "1.00"]
    # sd 0 (a constant): each value keeps 4 significant digits
    assert list(shown.loc["q"])[:3] == ["1235", "0", "1.2"]
    assert shown.loc["r"].isna().tolist() == [True, False, True, True, True]


@pytest.mark.slow
def test_two_level_categorical_names_through_fit_predict_save_load(tmp_path):
    rng = np.random.default_rng(12)
    n = 80
    data = pd.DataFrame(
        {
            "a": rng.choice(["lo", "hi"], n),
            "x": rng.normal(0, 1, n),
            "g": rng.choice(["g1", "g2", "g3"], n),
        }
    )
    data["y"] = 0.5 + 1.5 * (data["a"] == "lo") + 0.3 * data["x"] + rng.normal(0, 0.5, n)
    model = bf.Model("y ~ a + x + (a||g)", data)
    idata = model.fit(draws=150, tune=150, chains=1, random_seed=3, progressbar=False)
    assert idata.posterior["a"].dims == ("chain", "draw", "a_dim")
    assert list(idata.posterior["a_dim"].values) == ["lo"]
    table = bf.summary(idata)
    assert list(table.index[:3]) == ["Intercept", "a[lo]", "x"]
    assert table.index[-1] == "sigma"
    assert {"a|g_sigma[lo]", "a|g[g2, lo]"} <= set(table.index)
    assert table.loc["a[lo]", "mean"] == pytest.approx(1.5, abs=0.4)

    new = pd.DataFrame({"a": ["hi", "lo"], "x": [0.0, 0.0], "g": ["g1", "g1"]})
    mu = model.predict(idata, data=new, inplace=False).posterior["mu"]
    a = idata.posterior["a"].sel(a_dim="lo")
    diff = (mu.isel(__obs__=1) - mu.isel(__obs__=0)).values
    expected = (a + idata.posterior["a|g"].sel(g__factor_dim="g1", a__expr_dim="lo")).values
    np.testing.assert_allclose(diff, expected, rtol=1e-8, atol=1e-10)

    path = bf.save(model, idata, tmp_path / "fit.nc")
    loaded, back = bf.load(path)
    assert back.posterior["a"].dims == ("chain", "draw", "a_dim")
    assert list(bf.summary(back).index) == list(table.index)
    again = loaded.predict(back, data=new, inplace=False).posterior["mu"]
    np.testing.assert_allclose(again.values, mu.values, rtol=1e-10)
