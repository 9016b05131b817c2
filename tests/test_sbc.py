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


def test_unsupported_models_are_refused(grouped):
    categorical = bf.Model(
        "y ~ x", {"y": list("abcab" * 4), "x": np.arange(20.0)}, family="categorical"
    )
    with pytest.raises(ArgumentError, match="not supported"):
        bf.sbc(categorical, n=5)
    with pytest.raises(ArgumentError, match="must be at least L"):
        bf.sbc(grouped, n=5, draws=20, chains=2, L=99)
