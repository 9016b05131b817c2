"""``inference_method="auto"`` off the fast path: engines chosen by their measured costs
(`bayesformula.samplers.costs`)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import bayesformula as bf
from bayesformula.samplers import auto, costs


@pytest.fixture
def records(monkeypatch, tmp_path):
    """A file of records of this test's own."""
    file = tmp_path / "costs.json"
    monkeypatch.setenv("BAYESFORMULA_COSTS", str(file))
    return file


def _write(file, **engines):
    file.write_text(json.dumps(engines))


def _entry(size, grad, compile_=2.0, steps=7.0):
    return {"size": size, "compile": compile_, "grad": grad, "steps": steps}


def test_the_file_is_where_the_environment_says(monkeypatch, tmp_path):
    monkeypatch.setenv("BAYESFORMULA_COSTS", "off")
    assert costs.path() is None
    monkeypatch.setenv("BAYESFORMULA_COSTS", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert costs.path() == tmp_path / "bayesformula" / "costs.json"


def test_without_records_the_defaults_are_used(records):
    est = costs.estimate("pymc", size=100, chains=2, tune=1000, draws=1000)
    d = costs.DEFAULTS["pymc"]
    assert est.measured == 0
    assert est.compile == d["compile"]
    assert est.gradients == 2 * 2000 * d["steps"]
    assert est.per_gradient == pytest.approx(d["a"] + d["b"] * 100)
    assert est.seconds == pytest.approx(est.compile + est.gradients * est.per_gradient)
    records.write_text("{not json")  # an unreadable file: the defaults too
    assert costs.estimate("pymc", size=100, chains=2, tune=1000, draws=1000).measured == 0


def test_a_gradients_cost_is_fitted_over_the_records_sizes(records):
    a, b = 40e-6, 3e-9
    sizes = [1_000, 10_000, 100_000, 1_000_000]
    _write(
        records,
        nutpie=[_entry(s, a + b * s, compile_=c) for s, c in zip(sizes, [5, 6, 7, 9], strict=True)],
    )
    est = costs.estimate("nutpie", size=50_000, chains=4, tune=500, draws=500)
    assert est.measured == 4
    assert est.per_gradient == pytest.approx(a + b * 50_000, rel=1e-6)
    assert est.compile == 6.5  # the median
    assert est.gradients == 4 * 1000 * 7.0
    assert "compile 6.5 s" in est.describe()
    # one size measured: the defaults' slope through it
    _write(records, nutpie=[_entry(1_000, 1e-4), _entry(1_000, 3e-4)])
    est = costs.estimate("nutpie", size=1_000, chains=2, tune=1, draws=1)
    assert est.per_gradient == pytest.approx(2e-4, rel=1e-9)
    # a compile held already costs nothing
    cached = costs.estimate("nutpie", size=1_000, chains=2, tune=1, draws=1, cached=True)
    assert cached.compile == 0 and "compiled already" in cached.describe()


def test_coefficients_stay_non_negative(records):
    # costs falling with size (noise on a small model): a constant, not a negative slope
    _write(records, pymc=[_entry(1_000, 2e-4), _entry(100_000, 1e-4)])
    est = costs.estimate("pymc", size=10**9, chains=2, tune=1, draws=1)
    assert est.per_gradient == pytest.approx(1.5e-4)


def test_records_keep_the_latest(records, monkeypatch):
    monkeypatch.setattr(costs, "KEEP", 3)

    class Fit:  # what record() reads from a fit: its leapfrog steps per chain and draw
        sample_stats = {"n_steps": np.full((2, 10), 7.0)}

    for i in range(5):
        costs.record("pymc", size=10, compile_s=i, sampling_s=1.4, tune=10, idata=Fit())
    kept = json.loads(records.read_text())["pymc"]
    assert [e["compile"] for e in kept] == [2, 3, 4]
    # 2 chains x (10 + 10 draws) x 7 steps in 1.4 s
    assert kept[-1]["grad"] == pytest.approx(1.4 / 280) and kept[-1]["steps"] == 7.0
    costs.record("nutpie", size=10, compile_s=None, sampling_s=1.0, tune=0, idata=Fit())
    assert json.loads(records.read_text())["nutpie"][0]["compile"] is None
    # a compile measured by no record: the default
    est = costs.estimate("nutpie", size=10, chains=2, tune=0, draws=10)
    assert est.compile == costs.DEFAULTS["nutpie"]["compile"] and est.measured == 1


def test_measured_costs_decide_and_the_reason_says_so(records, monkeypatch, bioassay):
    pm_model = bf.Model("p(deaths, n) ~ dose", bioassay, family="binomial").build()
    monkeypatch.setattr(auto, "_installed", lambda *m: True)
    monkeypatch.setattr(auto, "_jax_gpu", lambda: False)
    name, reason = auto.choose(pm_model)
    assert name == "pymc" and "figures of a 2-core machine" in reason
    # on this machine nutpie compiled in 1 s and PyMC's NUTS in 3 s: nutpie is sooner
    _write(
        records,
        pymc=[_entry(8, 1e-4, compile_=3.0)],
        nutpie=[_entry(8, 1e-5, compile_=1.0), _entry(8, 1e-5, compile_=1.0)],
    )
    name, reason = auto.choose(pm_model)
    assert name == "nutpie", reason
    assert "from 3 fits measured on this machine" in reason
    assert "nutpie about" in reason and "against pymc about" in reason
    # more draws make the faster gradient pay for a slower compile, and fewer do not
    _write(records, pymc=[_entry(8, 1e-4, compile_=1.0)], nutpie=[_entry(8, 1e-5, 3.0)])
    assert auto.choose(pm_model, draws=100, tune=100)[0] == "pymc"
    assert auto.choose(pm_model, draws=20_000, tune=1000)[0] == "nutpie"
    monkeypatch.setattr(auto, "_installed", lambda *m: "nutpie" not in m)
    assert auto.choose(pm_model, draws=20_000)[0] == "pymc"


def test_fits_of_the_graph_record_what_they_measured(records, bioassay):
    model = bf.Model("p(deaths, n) ~ dose", bioassay, family="binomial")
    model.fit(
        inference_method="pymc",
        fast_path=False,
        draws=100,
        tune=100,
        chains=2,
        cores=1,
        random_seed=1,
        progressbar=False,
        diagnostics=False,
    )
    (entry,) = json.loads(records.read_text())["pymc"]
    assert entry["size"] == 4 * 2  # 4 rows x (intercept, slope)
    assert 0 < entry["compile"] < 120 and 0 < entry["grad"] < 0.1 and entry["steps"] >= 1
    # the fast path's log-density is not a compiled graph: nothing recorded
    model.fit(draws=50, tune=50, random_seed=1, progressbar=False, diagnostics=False)
    assert set(json.loads(records.read_text())) == {"pymc"}
