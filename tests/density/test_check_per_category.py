"""The fast path of the categorical, multinomial and dirichlet-multinomial families
(`bayesformula.density.categorical`) equals their PyMC graphs, and `check_density` catches an
error in each of their likelihoods' values and gradients.

The models cover what these families take: intercept-only, numeric and categorical
predictors, no intercept, group intercepts and slopes of one and of several columns (one set
of effects per category), centered and non-centered, rows merged by covariate pattern, and
users' priors (per category, per column, heavy-tailed, flat, fixed standard deviations, a
fixed or sampled precision).
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pandas as pd
import pytest

import bayesformula as bf
from bayesformula.density import categorical
from bayesformula.testing import check_density

pytestmark = pytest.mark.slow  # a reference graph compiled per model (about a minute in all)


@functools.cache
def _data(seed: int = 0, n: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "xg": rng.integers(0, 3, n) / 2.0,  # a grid: covariate patterns repeat
            "c": rng.choice(["p", "q", "r"], n),
            "g": rng.choice(list("abcde"), n),
        }
    )
    eta = np.column_stack([np.zeros(n), 0.4 + 0.8 * data.x, -0.2 - 0.5 * data.x])
    prob = np.exp(eta) / np.exp(eta).sum(axis=1, keepdims=True)
    data["y"] = np.array(["lo", "mid", "hi"])[[rng.choice(3, p=q) for q in prob]]
    totals = rng.integers(2, 9, n)
    mix = rng.dirichlet([3.0, 2.0, 2.0, 1.0], n)
    counts = np.array([rng.multinomial(t, q) for t, q in zip(totals, mix, strict=True)])
    for j in range(counts.shape[1]):
        data[f"k{j}"] = counts[:, j]
    return data


COUNTS = "c(k0, k1, k2, k3)"
CASES = [
    ("categorical", "y ~ 1", {}),
    ("categorical", "y ~ x + c", {}),
    ("categorical", "y ~ 0 + x + c", {}),
    ("categorical", "y ~ xg + (xg || g)", {}),  # merged rows
    ("categorical", "y ~ x + (c || g)", {"noncentered": False}),  # a slope of two columns
    ("categorical", "y ~ x + (1|g)", {"noncentered": True}),
    (
        "categorical",
        "y ~ x + c + (1|g)",
        {
            "priors": {
                "Intercept": bf.Prior("StudentT", nu=4, mu=[0.5, -0.5], sigma=2.0),
                "c": bf.Prior("Normal", mu=0, sigma=[1.0, 3.0]),  # per column
                "x": bf.Prior("Cauchy", alpha=0.0, beta=[1.0, 2.0]),  # per category
                "1|g": bf.Prior("Normal", mu=0, sigma=bf.Prior("HalfStudentT", nu=3, sigma=1)),
            }
        },
    ),
    (
        "categorical",
        "y ~ x + (1|g)",
        {"priors": {"x": bf.Prior("Flat"), "1|g": bf.Prior("Normal", mu=0, sigma=0.7)}},
    ),
    ("categorical", "y ~ x", {"center_predictors": False}),
    ("multinomial", f"{COUNTS} ~ x + (1|g)", {}),
    ("multinomial", f"{COUNTS} ~ xg + c", {"noncentered": True}),  # merged rows
    ("multinomial", f"{COUNTS} ~ 0 + x + (x || g)", {"noncentered": False}),
    ("dirichlet_multinomial", f"{COUNTS} ~ x + (1|g)", {}),
    ("dirichlet_multinomial", f"{COUNTS} ~ xg + c", {"priors": {"phi": 8.0}}),
    (
        "dirichlet_multinomial",
        f"{COUNTS} ~ x",
        {"priors": {"phi": bf.Prior("Gamma", alpha=2.0, beta=0.1)}},
    ),
]


@functools.cache
def _model(index: int) -> bf.Model:
    family, formula, options = CASES[index]
    return bf.Model(formula, _data(), family=family, **options)


@pytest.mark.parametrize("index", range(len(CASES)), ids=[f"{c[0]}: {c[1]}" for c in CASES])
def test_per_category_models_equal_the_graph(index):
    report = check_density(_model(index), points=3)
    assert report.claimed, str(report)
    assert report.ok, str(report)


def test_merged_rows_are_used():
    """Categorical and multinomial rows with the same covariate pattern merge; the
    dirichlet-multinomial's do not (its likelihood is not one of summed counts)."""
    assert "merged" in _model(3).density().description
    assert "merged" in _model(10).density().description
    assert "merged" not in _model(13).density().description


@functools.cache
def _mutation_model(family: str) -> bf.Model:
    formula = "y ~ x + (1|g)" if family == "categorical" else f"{COUNTS} ~ x + (1|g)"
    return bf.Model(formula, _data(), family=family)


def _mutations():
    for family in sorted(categorical.PER_CATEGORY):
        parts = ["value", "eta"] + (["phi"] if family == "dirichlet_multinomial" else [])
        for part in parts:
            yield family, part


@pytest.mark.parametrize(("family", "part"), list(_mutations()))
def test_an_error_in_a_per_category_likelihood_is_caught(family, part, monkeypatch):
    """A relative error of 1e-6 in the likelihood's value, its gradient in the linear
    predictors or in the precision fails `check_density`."""
    model = _mutation_model(family)
    assert check_density(model).ok  # unmodified, it passes
    entry = categorical.PER_CATEGORY[family]
    original = entry.loglik

    def loglik(eta, data, phi):
        lp, deta, dphi = original(eta, data, phi)
        if part == "value":
            lp = lp * (1 + 1e-6)
        elif part == "eta":
            deta = deta * (1 + 1e-6)
        else:
            dphi = dphi * (1 + 1e-6)
        return lp, deta, dphi

    monkeypatch.setitem(categorical.PER_CATEGORY, family, dataclasses.replace(entry, loglik=loglik))
    report = check_density(model)
    assert report.claimed and not report.ok
    assert ("log-density" if part == "value" else "gradient") in " ".join(report.failed)
