"""Simulation-based calibration (`bf.sbc`): a correct model's ranks pass as uniform, and the
test rejects ranks that are not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayesformula as bf
from bayesformula.errors import ArgumentError
from bayesformula.many.sbc import LEVEL, _tests


@pytest.fixture(scope="module")
def grouped():
    rng = np.random.default_rng(0)
    data = pd.DataFrame({"x": rng.normal(size=40), "g": rng.choice(list("abcd"), 40)})
    data["y"] = 1 + data.x + rng.normal(size=40)
    return bf.Model("y ~ x + (1|g)", data)


def test_a_gaussian_model_with_group_effects_is_calibrated(grouped):
    """30 simulations (the smoke version of the benchmark's 200): every rank in 0..L, every
    parameter of the fit ranked, and the family-wise test passes (it fails by chance with
    probability at most 1%)."""
    result = bf.sbc(grouped, n=30, draws=300, random_seed=1, progressbar=False)
    assert not result.failed and result.ranks.shape == (30, 8)
    assert set(result.ranks.columns) == {
        "Intercept",
        "x",
        "sigma",
        "1|g_sigma",
        "1|g[a]",
        "1|g[b]",
        "1|g[c]",
        "1|g[d]",
    }
    assert result.ranks.to_numpy().min() >= 0 and result.ranks.to_numpy().max() <= result.L
    assert result.ok, result.tests
    assert "uniform" in repr(result)
    fig = result.plot(["x", "sigma"])
    assert len(fig.axes) == 4


def test_the_fits_run_on_the_executor_given(grouped):
    """``executor=`` reaches `fit_many`: every simulation is submitted to it, and the ranks are
    those of the fits in this process (each dataset has its own seed)."""
    from concurrent.futures import ThreadPoolExecutor

    class Counting(ThreadPoolExecutor):
        submitted = 0

        def submit(self, *args, **kwargs):
            Counting.submitted += 1
            return super().submit(*args, **kwargs)

    settings = {"n": 4, "draws": 50, "random_seed": 7, "progressbar": False}
    with Counting(max_workers=2) as pool:
        pooled = bf.sbc(grouped, executor=pool, **settings)
    assert Counting.submitted == 4
    here = bf.sbc(grouped, **settings)
    pd.testing.assert_frame_equal(pooled.ranks, here.ranks)


def test_ranks_that_are_not_uniform_fail():
    """Posteriors too narrow put the prior draw at the ends (a smile); biased ones at one end."""
    rng = np.random.default_rng(4)
    uniform = rng.integers(0, 100, 200)
    smile = np.where(rng.random(200) < 0.5, rng.integers(0, 15, 200), rng.integers(85, 100, 200))
    ranks = pd.DataFrame({"good": uniform, "smile": smile})
    tests = _tests(ranks, 99, 10)
    assert tests.loc["good", "p_value"] > 0.01
    assert tests.loc["smile", "p_bonferroni"] < 1e-6
    result = bf.SBCResult(ranks, 99, tests, {}, 10)
    assert not result.ok and result.p_value < LEVEL and "NOT uniform" in repr(result)


@pytest.mark.parametrize("family", ["categorical", "cumulative", "multinomial"])
def test_responses_of_categories_and_counts_are_calibrated(family):
    """Categories are simulated as the response's own (the reference first, ordered for the
    ordinal families) and counts as their columns; a dataset missing a category is left out
    and says why. 20 simulations, a smoke test (fails by chance at most 1% of runs)."""
    rng = np.random.default_rng(0)
    data = pd.DataFrame({"x": rng.normal(size=40), "y": rng.choice(["b", "a", "c"], 40)})
    data[["k1", "k2", "k3"]] = rng.multinomial(4, [0.3, 0.3, 0.4], 40)
    formula = "c(k1, k2, k3) ~ x" if family == "multinomial" else "y ~ x"
    if family == "cumulative":
        data["y"] = pd.Categorical(data["y"], categories=["c", "a", "b"], ordered=True)
    model = bf.Model(formula, data, family=family)
    result = bf.sbc(model, n=20, draws=100, random_seed=2, progressbar=False)
    names = {
        "categorical": {"Intercept[b]", "Intercept[c]", "x[b]", "x[c]"},
        "cumulative": {"threshold[c|a]", "threshold[a|b]", "x"},
        "multinomial": {"Intercept[k2]", "Intercept[k3]", "x[k2]", "x[k3]"},
    }[family]
    assert set(result.ranks.columns) == names
    assert len(result.ranks) + len(result.failed) == 20 and len(result.ranks) >= 10
    assert all("no row drew the category" in why for why in result.failed.values())
    assert result.ok, result.tests


@pytest.fixture(scope="module")
def censored_model():
    """A gaussian response right-censored at 1.5 (about a third of the rows) and left-censored
    at -0.5 (about a tenth)."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=60)
    latent = 0.5 + x + rng.normal(size=60)
    y = np.clip(latent, -0.5, 1.5)
    status = np.where(latent > 1.5, "right", np.where(latent < -0.5, "left", "none"))
    data = pd.DataFrame({"x": x, "y": y, "status": status})
    return bf.Model("censored(y, status) ~ x", data)


def test_censored_simulations_are_censored_at_each_rows_limit(censored_model):
    """A row's status follows its simulated value: censored rows keep their limit, a draw
    beyond it is reported at it, other draws exactly; rows observed exactly stay so."""
    from bayesformula.many.sbc import _censor

    helper = censored_model.response_helper
    y = np.asarray(censored_model.response_data.values, dtype=float)
    coding = censored_model.data["status"]
    draws = np.where(helper.status == 1, y + np.tile([0.3, -0.3], 30), y + 5.0)
    response, status = _censor(helper, y, draws, coding)
    right = helper.status == 1
    beyond = right & (draws > y)
    assert beyond.any() and (right & ~beyond).any()
    np.testing.assert_array_equal(response[beyond], y[beyond])
    assert set(status[beyond]) == {"right"}
    assert set(status[right & ~beyond]) == {"none"}
    np.testing.assert_array_equal(response[~beyond], draws[~beyond])
    left = helper.status == -1  # draws above a left limit: observed
    assert left.any() and set(status[left]) == {"none"}
    # numeric status columns keep their coding
    _, codes = _censor(helper, y, draws, pd.Series(helper.status))
    assert codes.dtype == np.int64 and set(codes[beyond]) == {1}


def test_censored_and_truncated_responses_are_calibrated(censored_model):
    """15 simulations each, a smoke test (fails by chance at most 1% of runs; the benchmark
    runs 200)."""
    result = bf.sbc(censored_model, n=15, draws=100, random_seed=3, progressbar=False)
    assert not result.failed and set(result.ranks.columns) == {"Intercept", "x", "sigma"}
    assert result.ok, result.tests
    rng = np.random.default_rng(5)
    x = rng.normal(size=60)
    y = 0.5 + x + rng.normal(size=60)
    keep = y > 0
    data = pd.DataFrame({"x": x[keep], "y": y[keep]})
    truncated = bf.Model("truncated(y, lb=0) ~ x", data)
    result = bf.sbc(truncated, n=15, draws=100, random_seed=4, progressbar=False)
    assert not result.failed and result.ok, result.tests


def test_unsupported_models_are_refused(grouped):
    data = {"y": np.arange(20.0), "x": np.arange(20.0), "w": np.ones(20)}
    with pytest.raises(ArgumentError, match="no generative reading"):
        bf.sbc(bf.Model("weighted(y, w) ~ x", data), n=5)
    literal = bf.Model('censored(y, "right") ~ x', data)
    with pytest.raises(ArgumentError, match="status as a column"):
        bf.sbc(literal, n=5)
    with pytest.raises(ArgumentError, match="must be at least L"):
        bf.sbc(grouped, n=5, draws=20, chains=2, L=99)
