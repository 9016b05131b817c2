"""Chains of a Python log-density side by side or one after another (`samplers.threads`)."""

from __future__ import annotations

import importlib.util
import os
import threading
import time

import numpy as np
import pandas as pd
import pytest

import bayesformula as bf
from bayesformula.density import density_of_spec
from bayesformula.samplers import threads

TWO_CORES = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs two cores")


#: Stands for Python's global lock in `_holds_the_lock`: a lock held through a sleep makes the
#: calls of two threads take turns whatever the machine's speed (a busy loop's timing swings
#: with the load of a shared machine).
_LOCK = threading.Lock()


def _holds_the_lock(x):
    """No part of a call runs without the lock, so threads cannot help (and a call takes well
    over `CHEAP_CALL_SECONDS`, so that it is measured)."""
    with _LOCK:
        time.sleep(5 * threads.CHEAP_CALL_SECONDS)
    return -0.5 * float(x @ x), -x


def _cheap(x):
    return -0.5 * float(x @ x), -x


def _lets_it_go(x):
    """Sleeps without the lock, as a numba loop compiled nogil computes without it."""
    time.sleep(0.002)
    return -0.5 * float(x @ x), -x


def test_cores_given_are_kept():
    assert threads.chain_cores(_holds_the_lock, np.zeros(2), chains=4, cores=3) == (
        3,
        "cores=3 as given",
    )


@TWO_CORES
def test_a_density_that_holds_the_lock_runs_its_chains_one_after_another():
    # the calls cannot overlap, so no measurement can truly exceed 1; a busy machine can
    # slow a one-thread round and make one look higher: the lowest of three is the estimate
    speedups = [threads.parallel_speedup(_holds_the_lock, np.zeros(2), threads=2) for _ in "abc"]
    assert min(speedups) < 1.2, speedups
    cores, note = threads.chain_cores(_holds_the_lock, np.zeros(2), chains=2, cores=None)
    assert cores == 1
    assert note.startswith("chains one after another: the log-density holds Python's lock")


@TWO_CORES
def test_a_density_that_lets_the_lock_go_runs_its_chains_side_by_side():
    # two sleeping threads finish in the time of one: a speed-up near 2
    assert threads.parallel_speedup(_lets_it_go, np.zeros(2), threads=2) > 1.5
    cores, note = threads.chain_cores(_lets_it_go, np.zeros(2), chains=2, cores=None)
    assert cores is None
    assert note.startswith("chains side by side: 2 threads gave")


def test_a_cheap_density_runs_its_chains_one_after_another_without_measuring(monkeypatch):
    def unmeasured(*args, **kwargs):
        raise AssertionError("a cheap density is not timed in threads")

    monkeypatch.setattr(threads, "parallel_speedup", unmeasured)
    cores, note = threads.chain_cores(_cheap, np.zeros(2), chains=2, cores=None)
    if (os.cpu_count() or 1) >= 2:
        assert cores == 1
        assert note.startswith("chains one after another: a call of the log-density takes")
    else:
        assert (cores, note) == (None, "one chain at a time: one core or one chain")


def test_one_chain_or_a_failing_density_is_left_to_the_sampler():
    assert threads.chain_cores(_holds_the_lock, np.zeros(2), chains=1, cores=None)[0] is None

    def fails(x):
        raise FloatingPointError("bad point")

    cores, note = threads.chain_cores(fails, np.zeros(2), chains=2, cores=None)
    assert cores is None and "could not be timed" in note


@pytest.mark.skipif(importlib.util.find_spec("nutpie") is None, reason="nutpie not installed")
def test_chains_give_the_same_draws_side_by_side_or_one_after_another(bioassay):
    """Each chain has its own seed: running them one after another changes nothing but the
    time; the choice is recorded with the fit."""
    model = bf.Model("p(deaths, n) ~ dose", bioassay, family="binomial")
    kwargs = dict(draws=50, tune=50, chains=2, random_seed=5, progressbar=False)
    fits = {cores: model.fit(cores=cores, diagnostics=False, **kwargs) for cores in (1, 2, None)}
    for cores in (2, None):
        np.testing.assert_array_equal(
            fits[1].posterior["dose"].values, fits[cores].posterior["dose"].values
        )
        np.testing.assert_array_equal(
            fits[1].sample_stats["lp"].values, fits[cores].sample_stats["lp"].values
        )
    assert fits[1].sample_stats.attrs["chain_threads"] == "cores=1 as given"
    # four rows of bioassay: a call is all Python, the chains run one after another
    if (os.cpu_count() or 1) >= 2:
        assert fits[None].sample_stats.attrs["chain_threads"].startswith("chains one after another")


def test_a_density_whose_row_loop_releases_the_lock_is_not_measured():
    def never(x):
        raise AssertionError("a density that releases the lock is not timed")

    cores, note = threads.chain_cores(never, np.zeros(2), chains=2, cores=None, releases_lock=True)
    assert cores is None  # nutpie's default: side by side (one core: one at a time anyway)
    if (os.cpu_count() or 1) >= 2:
        assert note == "chains side by side: the compiled row loop releases Python's lock"
    else:
        assert note == "one chain at a time: one core or one chain"


def test_the_density_says_whether_its_row_loop_releases_the_lock():
    rng = np.random.default_rng(0)
    n = 3000  # above the size from which the bernoulli rows run in the compiled loop
    data = {"x": rng.normal(size=n), "y": rng.integers(0, 2, n)}
    frame = pd.DataFrame(data)
    assert bf.Model("y ~ x", frame, family="bernoulli").density().releases_lock
    small = bf.Model("y ~ x", frame.iloc[:50], family="bernoulli").density()
    assert not small.releases_lock  # numpy on 50 rows: measured instead
    # a loop over 50 rows (fit_many's choice) leaves most of a call to Python, holding the lock
    looped = density_of_spec(
        bf.Model("y ~ x", frame.iloc[:50], family="bernoulli").spec, kernel=True
    )
    assert "compiled row loop" in looped.description and not looped.releases_lock
    assert not bf.Model("y ~ x", frame.assign(y=frame.x * 2.0)).density().releases_lock
