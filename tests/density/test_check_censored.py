"""Censored and truncated responses on the fast path (`bayesformula.density.censored`) equal
the PyMC graph, and `check_density` catches an error in any family's log-CDF: its value, its
derivative in the parent parameter or in an auxiliary parameter."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

import bayesformula as bf
from bayesformula.density import censored
from bayesformula.testing import check_density

pytestmark = pytest.mark.slow  # a reference graph compiled per model


@functools.cache
def _data() -> pd.DataFrame:
    rng = np.random.default_rng(4)
    n = 120
    data = pd.DataFrame({"x": rng.normal(size=n), "g": rng.choice(list("abcde"), n)})
    data["real"] = 0.5 + data.x + rng.normal(size=n)
    data["pos"] = np.exp(0.3 * data.x + rng.normal(0, 0.5, n))
    data["count"] = rng.poisson(np.exp(0.5 + 0.3 * data.x))
    data["status"] = rng.choice(["none", "left", "right", "interval"], n, p=[0.4, 0.2, 0.2, 0.2])
    data["real_hi"] = data.real + rng.uniform(0.1, 2.0, n)
    data["pos_hi"] = data.pos * rng.uniform(1.1, 3.0, n)
    data["count_hi"] = data["count"] + rng.integers(1, 4, n)
    data["real_lb"] = data.real - rng.uniform(0.0, 2.0, n)
    data["real_ub"] = data.real + rng.uniform(0.1, 2.0, n)
    data["pos_lb"] = data.pos * rng.uniform(0.3, 1.0, n)
    return data


#: family -> the response column it takes
RESPONSE = {
    "gaussian": "real",
    "laplace": "real",
    "lognormal": "pos",
    "exponential": "pos",
    "weibull": "pos",
    "poisson": "count",
}


def _formula(family: str, kind: str) -> str:
    y = RESPONSE[family]
    if kind == "censored":
        return f"censored({y}, {y}_hi, status) ~ x + (1|g)"
    if y == "real":
        return f"truncated({y}, lb={y}_lb, ub={y}_ub) ~ x + (1|g)"
    if y == "pos":
        return f"truncated({y}, lb=pos_lb, ub=40) ~ x"
    return "truncated(count, lb=0, ub=count_hi) ~ x + (1|g)"  # lb: F(-1), no mass removed


@functools.cache
def _model(family: str, kind: str) -> bf.Model:
    return bf.Model(_formula(family, kind), _data(), family=family)


def test_every_log_cdf_is_tested():
    assert set(censored.LOG_CDFS) == set(RESPONSE)


@pytest.mark.parametrize("kind", ["censored", "truncated"])
@pytest.mark.parametrize("family", sorted(RESPONSE))
def test_censored_and_truncated_responses_equal_the_graph(family, kind):
    """Every censoring status (none, left, right, interval) in one model, or both truncation
    bounds per row, with group effects; equal to the graph at random points."""
    report = check_density(_model(family, kind), points=3)
    assert report.claimed, str(report)
    assert report.ok, str(report)


def test_a_family_without_a_log_cdf_keeps_the_graph():
    model = bf.Model("censored(pos, pos_hi, status) ~ x", _data(), family="gamma")
    assert model.density() is None
    assert "censored(pos, pos_hi, status)" in model.fast_path_note


def _mutations():
    for family in sorted(censored.LOG_CDFS):
        aux = [a.name for a in bf.get_family(family).aux]
        for part in ("value", "mu", *aux):
            yield family, part


@pytest.mark.parametrize(("family", "part"), list(_mutations()))
def test_an_error_in_a_log_cdf_is_caught(family, part, monkeypatch):
    """A relative error of 1e-6 in a log-CDF's value or in one of its derivatives fails
    `check_density` on the censored model."""
    model = _model(family, "censored")
    assert check_density(model).ok
    original = censored.LOG_CDFS[family]

    def logcdf(mu, x, aux):
        value, dmu, daux = original(mu, x, aux)
        if part == "value":
            value = value * (1 + 1e-6)
        elif part == "mu":
            dmu = dmu * (1 + 1e-6)
        else:
            daux = {**daux, part: daux[part] * (1 + 1e-6)}
        return value, dmu, daux

    monkeypatch.setitem(censored.LOG_CDFS, family, logcdf)
    report = check_density(model)
    assert report.claimed and not report.ok
    assert ("log-density" if part == "value" else "gradient") in " ".join(report.failed)
