"""`bf.fit_many`: one model over many datasets, in this process, on a pool or on a real Dask
cluster; the same seed gives the same draws whatever runs them, and each dataset's posterior
is the one its own `Model().fit()` gives."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

import bayesformula as bf
from bayesformula.errors import ArgumentError, ArgumentTypeError, BayesformulaError

FORMULA = "y ~ treatment + x"
#: short fits: each check compares draws or Monte Carlo errors, which any length gives
FIT = {"family": "bernoulli", "draws": 300, "tune": 300, "progressbar": False}


def ab_tests(n_markets: int, seed: int = 0) -> pd.DataFrame:
    """One A/B test per market: 200-400 users, a treatment that raises the log-odds by 0.3."""
    rng = np.random.default_rng(seed)
    parts = []
    for market in range(n_markets):
        n = int(rng.integers(200, 401))
        treated = rng.integers(0, 2, n)
        x = rng.normal(size=n)
        y = rng.binomial(1, expit(-0.5 + 0.3 * treated + 0.5 * x))
        parts.append(
            pd.DataFrame(
                {"market": f"m{market:02d}", "treatment": np.where(treated, "B", "A"), "x": x}
            ).assign(y=y)
        )
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def markets():
    return ab_tests(50)


@pytest.fixture(scope="module")
def in_process(markets):
    return bf.fit_many(FORMULA, markets, by="market", random_seed=7, **FIT)


def test_each_dataset_has_the_posterior_of_its_own_fit(markets, in_process):
    """Against fits of each market by hand with other seeds: every posterior mean within
    five Monte Carlo standard errors of the two (150 comparisons)."""
    summary = in_process.summary.set_index(["market", "parameter"])
    assert len(in_process.diagnostics) == 50 and not in_process.errors
    for i, (market, frame) in enumerate(markets.groupby("market")):
        model = bf.Model(FORMULA, frame.drop(columns="market"), family="bernoulli")
        fit_kwargs = {k: v for k, v in FIT.items() if k != "family"}
        own = bf.summary(model.fit(random_seed=1000 + i, diagnostics=False, **fit_kwargs))
        theirs = summary.loc[market].loc[own.index]
        tolerance = 5 * np.hypot(own["mcse_mean"], theirs["mcse_mean"])
        assert (np.abs(own["mean"] - theirs["mean"]) < tolerance).all(), market


def test_the_seed_gives_the_same_draws_on_every_executor(markets, in_process):
    distributed = pytest.importorskip("distributed")
    subset = markets[markets.market.isin(["m00", "m01", "m02", "m03"])]
    first = in_process.summary.query("market in ['m00', 'm01', 'm02', 'm03']")
    # a dataset's seed follows its position: the first four fit alone as in the whole run
    alone = bf.fit_many(FORMULA, subset, by="market", random_seed=7, **FIT)
    pd.testing.assert_frame_equal(
        pd.DataFrame(alone.summary), pd.DataFrame(first).reset_index(drop=True)
    )
    with ThreadPoolExecutor(2) as pool:
        threads = bf.fit_many(FORMULA, subset, by="market", random_seed=7, executor=pool, **FIT)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        dask = bf.fit_many(
            FORMULA, subset, by="market", random_seed=7, executor=client, keep="draws", **FIT
        )
    assert dask.executor == "Dask (2 workers)"
    for other in (threads, dask):
        pd.testing.assert_frame_equal(pd.DataFrame(other.summary), pd.DataFrame(alone.summary))
    assert dict(dask.posterior.sizes) == {"dataset": 4, "chain": 2, "draw": 300, "treatment_dim": 1}
    assert list(dask.posterior["dataset"].values) == ["m00", "m01", "m02", "m03"]


def test_failures_are_collected_or_raised(markets):
    data = markets[markets.market.isin(["m00", "m01", "m02"])].copy()
    data.loc[data.market == "m01", "y"] = 2  # not a 0/1 response
    result = bf.fit_many(FORMULA, data, by="market", errors="collect", random_seed=1, **FIT)
    assert list(result.errors) == ["m01"] and "needs 0/1" in result.errors["m01"]
    assert list(result.diagnostics.index) == ["m00", "m02"]
    assert set(result.summary["market"]) == {"m00", "m02"}
    assert "Failed: 1" in repr(result) and ">m01<" in result._repr_html_()
    with pytest.raises(BayesformulaError, match="dataset 'm01' failed: ResponseError"):
        bf.fit_many(FORMULA, data, by="market", random_seed=1, **FIT)


def test_datasets_as_a_dict_or_a_list_and_tidy_tables(markets):
    frames = [f.drop(columns="market") for _, f in markets.groupby("market")][:2]
    by_list = bf.fit_many(FORMULA, datasets=frames, random_seed=3, **FIT)
    by_dict = bf.fit_many(FORMULA, datasets={"a": frames[0], "b": frames[1]}, random_seed=3, **FIT)
    assert list(by_list.diagnostics.index) == [0, 1]
    assert list(by_dict.diagnostics.index) == ["a", "b"]
    np.testing.assert_array_equal(by_list.summary["mean"], by_dict.summary["mean"])
    columns = list(by_dict.summary.columns)
    assert columns[:3] == ["dataset", "parameter", "mean"] and columns[-1] == "divergences"
    assert set(by_dict.diagnostics.columns) >= {"ok", "divergences", "problems", "seconds"}


def test_bad_arguments_say_what_to_do(markets):
    with pytest.raises(ArgumentError, match="give data= with by="):
        bf.fit_many(FORMULA, markets, datasets=[markets])
    with pytest.raises(ArgumentError, match="needs by="):
        bf.fit_many(FORMULA, markets)
    with pytest.raises(ArgumentError, match=r"by= column\(s\) \['shop'\]"):
        bf.fit_many(FORMULA, markets, by="shop")
    with pytest.raises(ArgumentError, match="errors must be one of"):
        bf.fit_many(FORMULA, markets, by="market", errors="ignore")
    with pytest.raises(ArgumentError, match="keep must be one of"):
        bf.fit_many(FORMULA, markets, by="market", keep="everything")
    with pytest.raises(ArgumentTypeError, match="diagnostics= is set by fit_many"):
        bf.fit_many(FORMULA, markets, by="market", **{"diagnostics": False})
    with pytest.raises(ArgumentTypeError, match="executor must be"):
        bf.fit_many(FORMULA, markets.head(300), by="market", executor=object(), **FIT)


def test_warnings_about_a_dataset_go_to_its_diagnostics(caplog):
    """A model's separation warning is kept with its dataset, not shown once per dataset."""
    frame = pd.DataFrame({"x": [0.0, 0, 0, 1, 1, 1] * 5, "g": ["a"] * 15 + ["b"] * 15})
    frame["y"] = [0, 0, 0, 1, 1, 1] * 2 + [0, 0, 0] + [0, 1, 0, 1, 0, 1] * 2 + [1, 0, 1]
    with caplog.at_level(logging.WARNING, logger="bayesformula"):
        result = bf.fit_many("y ~ x", frame, by="g", random_seed=1, **FIT)
    assert "complete separation by 'x'" in result.diagnostics.loc["a", "warnings"]
    assert result.diagnostics.loc["b", "warnings"] == ""
    assert "separation" not in caplog.text
