"""`check_density` over a generated support matrix, and proof that it catches errors.

The fast path is a second implementation of every model it claims. Here `hypothesis` generates
models across everything the fast path claims (each registered family and link, with and
without intercept, numeric and categorical predictors, offsets, one or two grouping factors
with intercepts and slopes, centered and non-centered, anchored or not, merged rows, user priors
of every distribution the numeric priors accept, fixed sigmas, numpy or the compiled row loop),
and `check_density` compares the log-density and gradient with the PyMC graph's at random
points. Each generated model must be claimed by the fast path (the generator stays inside the
claimed set, so an unclaimed model is a regression too). The mutation tests then put a
deliberate error into each registered likelihood and each prior distribution and require
`check_density` to fail.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bayesformula as bf
from bayesformula.density import likelihoods
from bayesformula.density import priors as numeric_priors
from bayesformula.testing import check_density

#: models generated per run (seeded: the same models every run)
N_SPECS = int(__import__("os").environ.get("BF_N_SPECS", 200))

FAMILIES = sorted({family for family, _ in likelihoods.FAST_LIKELIHOODS})

COEF_PRIORS = [
    lambda d: bf.Prior("Normal", mu=d.draw(_real), sigma=d.draw(_pos)),
    lambda d: bf.Prior("StudentT", nu=d.draw(_nu), mu=d.draw(_real), sigma=d.draw(_pos)),
    lambda d: bf.Prior("Cauchy", alpha=d.draw(_real), beta=d.draw(_pos)),
    lambda d: bf.Prior("Flat"),
]
POSITIVE_PRIORS = [
    lambda d: bf.Prior("HalfFlat"),
    lambda d: bf.Prior("HalfNormal", sigma=d.draw(_pos)),
    lambda d: bf.Prior("HalfStudentT", nu=d.draw(_nu), sigma=d.draw(_pos)),
    lambda d: bf.Prior("HalfCauchy", beta=d.draw(_pos)),
    lambda d: bf.Prior("Exponential", lam=d.draw(_pos)),
    lambda d: bf.Prior("Exponential", scale=d.draw(_pos)),
    lambda d: bf.Prior("Gamma", alpha=d.draw(_pos) + 1.0, beta=d.draw(_pos)),
]
_real = st.floats(-2.0, 2.0)
_pos = st.floats(0.3, 4.0)
_nu = st.floats(1.5, 10.0)


@dataclasses.dataclass
class Drawn:
    """A generated model: what `bf.Model` takes."""

    formula: str
    data: pd.DataFrame
    family: str
    options: dict
    kernel: bool = False

    def model(self):
        return bf.Model(self.formula, self.data, family=self.family, **self.options)


def _response(family: str, eta: np.ndarray, rng, trials):
    if family == "gaussian":
        return eta + rng.normal(0, 1.0, eta.size)
    if family == "poisson":
        return rng.poisson(np.exp(np.clip(eta, -3, 3)))
    p = 1 / (1 + np.exp(-eta))
    return rng.binomial(trials, p) if family == "binomial" else rng.binomial(1, p)


@st.composite
def models(draw) -> Drawn:
    family = draw(st.sampled_from(FAMILIES))
    n = draw(st.integers(10, 50))
    rng = np.random.default_rng(draw(st.integers(0, 2**20)))
    grid = draw(st.booleans())  # predictors on a small grid: covariate patterns repeat
    data = {}
    terms = []
    numeric = [f"x{i}" for i in range(draw(st.integers(0, 2)))]
    for name in numeric:
        data[name] = rng.integers(0, 3, n).astype(float) if grid else rng.normal(0, 1.5, n)
    terms += numeric
    if draw(st.booleans()):
        data["c"] = rng.choice(["a", "b", "c"][: draw(st.integers(2, 3))], n)
        terms.append("c")
    factors = ["g", "h"][: draw(st.integers(0, 2))]
    for factor in factors:
        data[factor] = rng.choice([f"{factor}{i}" for i in range(draw(st.integers(2, 5)))], n)
        kinds = ["1"] + [f"0 + {x}" for x in numeric] + [f"{x}||" for x in numeric]
        kind = draw(st.sampled_from(kinds))
        terms.append(f"({kind}{factor})" if kind.endswith("||") else f"({kind}|{factor})")
    if draw(st.booleans()):
        data["o"] = rng.uniform(-0.5, 0.5, n)
        terms.append("offset(o)")
    intercept = draw(st.booleans()) or not terms
    eta = sum((data[x] * rng.normal(0, 0.5) for x in numeric), np.zeros(n))
    trials = rng.integers(1, 6, n)
    data["y"] = _response(family, eta + 0.2, rng, trials)
    data["n"] = trials
    lhs = "p(y, n)" if family == "binomial" else "y"
    rhs = " + ".join(terms) if terms else "1"
    formula = f"{lhs} ~ {rhs}" if intercept else f"{lhs} ~ 0 + {rhs}"

    priors = {}
    model_terms = (["Intercept"] if intercept else []) + numeric + (["c"] if "c" in data else [])
    for name in model_terms:
        if draw(st.booleans()):
            priors[name] = draw(st.sampled_from(COEF_PRIORS))(_Drawer(draw))
    for term in terms:
        if term.startswith("(") and draw(st.booleans()):
            inner = term[1:-1].replace("||", "|")
            sigma = (
                draw(st.sampled_from(POSITIVE_PRIORS))(_Drawer(draw))
                if draw(st.integers(0, 4))
                else draw(_pos)
            )
            key = inner.replace("0 + ", "") if "||" not in term else None
            if key is not None:
                priors[key] = bf.Prior("Normal", mu=0, sigma=sigma)
    if family == "gaussian" and draw(st.booleans()):
        positive = draw(st.sampled_from(POSITIVE_PRIORS))(_Drawer(draw))
        priors["sigma"] = positive if draw(st.integers(0, 3)) else draw(_pos)
    # bernoulli, binomial and poisson likelihoods also in the compiled row loop
    kernel = family != "gaussian" and draw(st.booleans())
    options = {
        "priors": priors,
        "noncentered": draw(st.sampled_from([None, True, False])),
        "center_predictors": draw(st.booleans()),
    }
    return Drawn(formula, pd.DataFrame(data), family, options, kernel)


class _Drawer:
    """Gives the prior factories `draw` as a method."""

    def __init__(self, draw):
        self.draw = draw


def test_generated_models_equal_the_graph():
    checked = []

    @settings(
        max_examples=N_SPECS,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(models())
    def check(drawn):
        report = check_density(drawn.model(), points=2, kernel=drawn.kernel)
        checked.append((drawn.formula, drawn.family, drawn.kernel))
        assert report.claimed, f"{drawn}: not claimed by the fast path: {report}"
        assert report.ok, f"{drawn}\n{report}"

    check()
    assert len(checked) >= N_SPECS
    # the matrix was covered: every family, group terms, offsets and models without intercept
    assert {family for _, family, _ in checked} == set(FAMILIES)
    assert sum(kernel for _, _, kernel in checked) > N_SPECS // 5
    formulas = [f for f, _, _ in checked]
    assert sum("|" in f for f in formulas) > N_SPECS // 4
    assert sum("||" in f for f in formulas) > 10
    assert sum("offset(" in f for f in formulas) > N_SPECS // 5
    assert sum("~ 0 +" in f for f in formulas) > 10


# --------------------------------------------------------------------------- mutations
def _data(family: str) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 40
    x = rng.integers(0, 3, n).astype(float)  # repeating patterns: merged rows too
    g = rng.choice(["a", "b", "c", "d"], n)
    trials = rng.integers(1, 6, n)
    y = _response(family, 0.4 * x - 0.2, rng, trials)
    return pd.DataFrame({"y": y, "x": x, "z": rng.normal(size=n), "g": g, "n": trials})


def _model(family: str, priors=None, formula="y ~ x + z + (1|g)"):
    if family == "binomial":
        formula = formula.replace("y ~", "p(y, n) ~")
    return bf.Model(formula, _data(family), family=family, priors=priors, noncentered=False)


@pytest.mark.parametrize("key", sorted(likelihoods.FAST_LIKELIHOODS))
@pytest.mark.parametrize("part", ["constant", "value", "gradient"])
def test_an_error_in_any_likelihood_is_caught(key, part, monkeypatch):
    family, _ = key
    model = _model(family)
    assert check_density(model).ok  # the unmodified likelihood passes
    entry = likelihoods.FAST_LIKELIHOODS[key]
    if part == "constant":
        wrong = dataclasses.replace(entry, constant=lambda y, t: entry.constant(y, t) + 1e-4)
    else:

        def loglik(*args):
            out = list(entry.loglik(*args))
            if part == "value":
                out[0] = out[0] * (1 + 1e-6)
            else:
                out[-1] = out[-1] * (1 + 1e-6)
            return tuple(out)

        wrong = dataclasses.replace(entry, loglik=loglik)
    monkeypatch.setitem(likelihoods.FAST_LIKELIHOODS, key, wrong)
    report = check_density(model)
    assert report.claimed and not report.ok
    failed = " ".join(report.failed)
    assert ("gradient" in failed) if part == "gradient" else ("log-density" in failed)


PRIOR_CASES = {
    "Flat": ("x", bf.Prior("Flat")),
    "Normal": ("x", bf.Prior("Normal", mu=0.3, sigma=2.0)),
    "StudentT": ("x", bf.Prior("StudentT", nu=4, mu=0.1, sigma=1.5)),
    "Cauchy": ("x", bf.Prior("Cauchy", alpha=0.2, beta=1.2)),
    "HalfFlat": ("1|g", bf.Prior("Normal", mu=0, sigma=bf.Prior("HalfFlat"))),
    "HalfNormal": ("1|g", bf.Prior("Normal", mu=0, sigma=bf.Prior("HalfNormal", sigma=2))),
    "HalfStudentT": (
        "1|g",
        bf.Prior("Normal", mu=0, sigma=bf.Prior("HalfStudentT", nu=3, sigma=1)),
    ),
    "HalfCauchy": ("1|g", bf.Prior("Normal", mu=0, sigma=bf.Prior("HalfCauchy", beta=1))),
    "Exponential": ("1|g", bf.Prior("Normal", mu=0, sigma=bf.Prior("Exponential", lam=1.5))),
    "Gamma": ("1|g", bf.Prior("Normal", mu=0, sigma=bf.Prior("Gamma", alpha=2, beta=1))),
}


def test_every_prior_distribution_has_a_mutation_case():
    assert set(PRIOR_CASES) == set(numeric_priors.PRIOR_KINDS)


@pytest.mark.parametrize("name", sorted(PRIOR_CASES))
@pytest.mark.parametrize("part", ["value", "gradient"])
def test_an_error_in_any_prior_is_caught(name, part, monkeypatch):
    term, prior = PRIOR_CASES[name]
    model = _model("poisson", priors={term: prior})
    assert check_density(model).ok
    kind = numeric_priors.PRIOR_KINDS[name]

    def logp_grad(x, params):
        lp, grad = kind.logp_grad(x, params)
        if part == "value":
            return lp + 1e-4 * x, grad  # depends on the value: not a constant shift
        return lp, grad + 1e-4

    monkeypatch.setitem(
        numeric_priors.PRIOR_KINDS, name, dataclasses.replace(kind, logp_grad=logp_grad)
    )
    report = check_density(model)
    assert report.claimed and not report.ok
    assert ("gradient" if part == "gradient" else "log-density") in " ".join(report.failed)


def test_a_model_the_fast_path_does_not_claim_passes_as_such():
    data = _data("gaussian")
    report = check_density(bf.Model("y ~ x", data, family="t"))
    assert report.ok and not report.claimed
    assert "not claimed" in report.passed[0] and "family 't'" in report.passed[0]


def test_raise_on_failure_names_the_check(monkeypatch):
    key = ("poisson", "log")
    entry = likelihoods.FAST_LIKELIHOODS[key]
    wrong = dataclasses.replace(entry, constant=lambda y, t: entry.constant(y, t) - 1.0)
    monkeypatch.setitem(likelihoods.FAST_LIKELIHOODS, key, wrong)
    with pytest.raises(bf.BayesformulaError, match="log-density 0"):
        check_density(_model("poisson"), raise_on_failure=True)
