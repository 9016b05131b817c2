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
import functools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bayesformula as bf
from bayesformula.density import kernels, likelihoods, rows
from bayesformula.density import priors as numeric_priors
from bayesformula.families.links import get_link
from bayesformula.families.registry import get_family
from bayesformula.testing import check_density

# a few hundred reference graphs compiled (minutes): with the sampling tests in `make test`,
# out of the `make test-fast` inner loop (tests/density/test_density.py stays in it)
pytestmark = pytest.mark.slow

#: models generated per run (seeded: the same models every run)
N_SPECS = int(__import__("os").environ.get("BF_N_SPECS", 130))


def _claimed_pairs() -> list[tuple[str, str]]:
    """Every (family, link) the fast path claims: the registered likelihoods and every link of
    each family with a row likelihood."""
    pairs = set(likelihoods.FAST_LIKELIHOODS)
    for name in rows.ROW_FAMILIES:
        pairs |= {(name, link) for link in get_family(name).link_names}
    return sorted(pairs)


PAIRS = _claimed_pairs()
FAMILIES = sorted({family for family, _ in PAIRS})


def _row_entry(family: str, link: str):
    """The row likelihood a model of ``family`` with ``link`` evaluates (None: none)."""
    entry = rows.ROW_FAMILIES.get(family)
    if entry is None or entry.for_family is None:
        return entry
    return entry.for_family(get_family(family), get_link(link))


def _has_loop(family: str, link: str) -> bool:
    """Whether the likelihood has a compiled row loop."""
    glm = likelihoods.FAST_LIKELIHOODS.get((family, link))
    if glm is not None:
        return glm.kernel is not None
    entry = _row_entry(family, link)
    return entry is not None and entry.compiled is not None


def _fused(family: str, link: str) -> bool:
    """Whether the row likelihood runs whole in the compiled loop with this link."""
    entry = _row_entry(family, link)
    return entry is not None and entry.fused is not None and entry.fused(link) is not None


#: the (family, link) pairs of row likelihoods with a compiled loop of the likelihood alone
#: (those whose whole row runs in the loop, FUSED, take that loop in its place)
COMPILED = [
    pair
    for pair in PAIRS
    if pair not in likelihoods.FAST_LIKELIHOODS and _has_loop(*pair) and not _fused(*pair)
]
FUSED = [pair for pair in PAIRS if pair not in likelihoods.FAST_LIKELIHOODS and _fused(*pair)]

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


#: a valid value of each auxiliary parameter's support, and of the parent's
_AUX_VALUE = {"positive": 2.0, "unit": 0.6, "real": 0.5}
_PARENT = {"p": 0.4, "unit": 0.4, "positive": 2.0, "count": 2.0, "trials": 0.4}


def _response(family: str, eta: np.ndarray, rng, trials):
    """Responses drawn from the family itself (its numpy draws), the parent varying a little
    with ``eta`` inside its support."""
    fam = get_family(family)
    if family == "gaussian":
        return eta + rng.normal(0, 1.0, eta.size)
    if family == "poisson":
        return rng.poisson(np.exp(np.clip(eta, -3, 3)))
    if family in ("bernoulli", "binomial"):
        p = 1 / (1 + np.exp(-eta))
        return rng.binomial(trials, p) if family == "binomial" else rng.binomial(1, p)
    if fam.parent_over_levels:  # ordinal: four ordered categories of a latent variable
        codes = np.digitize(eta + rng.logistic(size=eta.size), [-1.0, 0.0, 1.0])
        codes[:4] = [0, 1, 2, 3]  # every category observed
        return pd.Categorical(codes, ordered=True)
    spread = np.exp(0.3 * np.tanh(eta))
    if fam.support in ("unit", "trials") or fam.parent == "p":
        parent = 1 / (1 + np.exp(-0.5 * np.tanh(eta)))
    elif fam.support in ("real", "circular") or "lognormal" in family:
        parent = 0.5 * np.tanh(eta)
    else:
        parent = 2.0 * spread
    params = {aux.name: _AUX_VALUE[aux.support] for aux in fam.aux}
    params[fam.parent] = parent
    if fam.support == "trials":
        params["trials"] = trials
    return np.asarray(fam.draw(rng, **fam.to_dist(params)), dtype=float)


def _mutated(entry, wrap, compiled_only=False):
    """``entry`` with its compiled loop and (unless ``compiled_only``) its numpy log-likelihood
    replaced by ``wrap(loglik)``, also in the entries it gives per link (the ordinal
    families')."""
    if entry.for_family is not None:
        per_link = entry.for_family

        def for_family(family, link):
            inner = per_link(family, link)
            return None if inner is None else _mutated(inner, wrap, compiled_only)

        return dataclasses.replace(entry, for_family=for_family)
    compiled = None if entry.compiled is None else wrap(entry.compiled)
    loglik = entry.loglik if compiled_only else wrap(entry.loglik)
    return dataclasses.replace(entry, loglik=loglik, compiled=compiled)


def _aux_prior(support: str, d):
    """A user's prior (or fixed value) for an auxiliary parameter of this support."""
    if support == "positive":
        return d.draw(st.sampled_from(POSITIVE_PRIORS))(d) if d.draw(st.integers(0, 3)) else 1.5
    if support == "unit":
        return bf.Prior("Beta", alpha=d.draw(_pos) + 0.5, beta=d.draw(_pos) + 0.5)
    return d.draw(st.sampled_from(COEF_PRIORS[:3]))(d)


def _bounded(family: str, link: str) -> bool:
    """Whether ``link`` can take the family's parent parameter outside its support."""
    entry = rows.ROW_FAMILIES.get(family)
    support = entry.mu_support if entry is not None else "real"
    if support == "positive":
        return link in ("identity", "inverse", "inverse_squared")
    return support == "unit" and link == "identity"


@st.composite
def models(draw) -> Drawn:
    family = draw(st.sampled_from(FAMILIES))  # every family about equally often
    link = draw(st.sampled_from([k for f, k in PAIRS if f == family]))
    n = draw(st.integers(10, 50))
    rng = np.random.default_rng(draw(st.integers(0, 2**20)))
    grid = draw(st.booleans())  # predictors on a small grid: covariate patterns repeat
    data = {}
    terms = []
    numeric = [f"x{i}" for i in range(draw(st.integers(0, 2)))]
    # a link whose range is wider than the parameter's support (the identity for a positive
    # mean): predictors on [0, 1] and an intercept, so that part of the space is inside it
    bounded = _bounded(family, link)
    for name in numeric:
        if bounded:
            data[name] = rng.uniform(0, 1, n).round(1 if grid else 6)
        else:
            data[name] = rng.integers(0, 3, n).astype(float) if grid else rng.normal(0, 1.5, n)
    terms += numeric
    if draw(st.booleans()):
        data["c"] = rng.choice(["a", "b", "c"][: draw(st.integers(2, 3))], n)
        terms.append("c")
    factors = ["g", "h"][: draw(st.integers(0, 2))]
    for factor in factors:
        levels = [f"{factor}{i}" for i in range(draw(st.integers(2, 5)))]
        data[factor] = rng.choice(levels, n)
        data[factor][:2] = levels[:2]  # at least two levels, as a group term needs
        kinds = ["1"] + [f"0 + {x}" for x in numeric] + [f"{x}||" for x in numeric]
        kinds += [f"1 + {x}" for x in numeric]  # correlated effects (an LKJ prior)
        kind = draw(st.sampled_from(kinds))
        terms.append(f"({kind}{factor})" if kind.endswith("||") else f"({kind}|{factor})")
    if draw(st.booleans()) and not bounded:
        data["o"] = rng.uniform(-0.5, 0.5, n)
        terms.append("offset(o)")
    intercept = draw(st.booleans()) or not terms or bounded
    eta = sum((data[x] * rng.normal(0, 0.5) for x in numeric), np.zeros(n))
    trials = rng.integers(1, 6, n)
    data["y"] = _response(family, eta + 0.2, rng, trials)
    data["n"] = trials
    lhs = "p(y, n)" if get_family(family).support == "trials" else "y"
    rhs = " + ".join(terms) if terms else "1"
    formula = f"{lhs} ~ {rhs}" if intercept else f"{lhs} ~ 0 + {rhs}"

    priors = {}
    has_intercept = intercept and get_family(family).intercept  # not for ordinal families
    model_terms = (
        (["Intercept"] if has_intercept else []) + numeric + (["c"] if "c" in data else [])
    )
    for name in model_terms:
        if bounded and name == "Intercept":  # its default prior starts inside the support
            continue
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
            # independent terms only: a correlated block's terms share one kind of sd prior
            key = inner.replace("0 + ", "") if "||" not in term and "1 + " not in term else None
            if key is not None:
                priors[key] = bf.Prior("Normal", mu=0, sigma=sigma)
    for aux in get_family(family).aux:
        if draw(st.booleans()):
            priors[aux.name] = _aux_prior(aux.support, _Drawer(draw))
    # the likelihoods with a compiled row loop are also checked in it
    kernel = _has_loop(family, link) and draw(st.booleans())
    options = {
        "link": link,
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
        loop = _has_loop(drawn.family, drawn.options["link"])
        checked.append((drawn.formula, drawn.family, drawn.kernel, loop))
        assert report.claimed, f"{drawn}: not claimed by the fast path: {report}"
        assert report.ok, f"{drawn}\n{report}"

    check()
    assert len(checked) >= N_SPECS
    # the matrix was covered (every family and link: `test_every_claimed_family_and_link`):
    # many families, group terms, offsets and models without intercept
    assert len({family for _, family, _, _ in checked}) >= len(FAMILIES) // 2
    with_loop = [kernel for _, _, kernel, loop in checked if loop]
    assert sum(with_loop) > len(with_loop) // 4
    formulas = [f for f, _, _, _ in checked]
    assert sum("|" in f for f in formulas) > N_SPECS // 4
    assert sum("||" in f for f in formulas) > N_SPECS // 25
    assert sum("offset(" in f for f in formulas) > N_SPECS // 5
    assert sum("(1 + x" in f for f in formulas) > N_SPECS // 25
    assert sum("~ 0 +" in f for f in formulas) > 10


@pytest.mark.parametrize("family, link", PAIRS)
def test_every_claimed_family_and_link(family, link):
    """Each (family, link) the fast path claims, with a slope, a group term and merged rows
    (x repeats), equals the graph (non-negative predictors where the link can leave the
    support)."""
    formula = "y ~ x + (1|g)" if _bounded(family, link) else "y ~ x + z + (x||g)"
    report = check_density(_model(family, formula=formula, link=link), points=3)
    assert report.claimed and report.ok, str(report)


#: (family, auxiliary parameter) pairs whose row likelihood takes the parameter per row
PER_ROW = [(name, param) for name, e in sorted(rows.ROW_FAMILIES.items()) for param in e.row_aux]


@functools.cache  # shared by the tests of one model: its reference graph compiles once
def _distributional(family: str, param: str, center: bool = True):
    formula = bf.Formula("y ~ x + (1|g)", f"{param} ~ z + x")
    return bf.Model(formula, _data(family), family=family, center_predictors=center)


@pytest.mark.parametrize("family, param", PER_ROW)
@pytest.mark.parametrize("center", [True, False])
def test_formulas_for_auxiliary_parameters(family, param, center):
    """A formula for an auxiliary parameter (its own coefficients, link and centred intercept)
    equals the graph's distributional model."""
    report = check_density(_distributional(family, param, center), points=3)
    assert report.claimed and report.ok, str(report)


@pytest.mark.parametrize(("family", "param"), PER_ROW)
def test_group_terms_in_formulas_for_auxiliary_parameters(family, param):
    """Group intercepts and slopes (one column and a factor's several; ``||`` read there too)
    in an auxiliary parameter's formula, non-centered as the graph builds them, one with a
    fixed standard deviation; rows repeat, so merged rows carry the formula's levels."""
    rng = np.random.default_rng(8)
    data = _data(family).assign(h=rng.choice(["p", "q", "r"], 40), c=rng.choice(["u", "v"], 40))
    # standard deviations of moderate size: at a nu of exp(27) the t's log-gamma differences
    # cancel to noise on both sides
    small = bf.Prior("Normal", mu=0, sigma=bf.Prior("HalfNormal", sigma=0.5))
    priors = {f"{param}_1|h": bf.Prior("Normal", mu=0, sigma=0.3)}  # fixed
    priors |= {f"{param}_{term}": small for term in ("1|g", "x|g", "c|h")}
    formula = bf.Formula("y ~ x + (1|g)", f"{param} ~ x + (1|h) + (x||g) + (0 + c|h)")
    model = bf.Model(formula, data, family=family, priors=priors)
    report = check_density(model, points=3)
    assert report.claimed and report.ok, str(report)


MONOTONIC = {
    "gaussian": ("gaussian", "y ~ x + mo(e) + (1|g)", {}),
    "gaussian-not-centered": ("gaussian", "y ~ mo(e)", {"center_predictors": False}),
    "gaussian-no-intercept": ("gaussian", "y ~ 0 + x + mo(e)", {}),
    "bernoulli-merged": ("bernoulli", "y ~ mo(e) + mo(f)", {}),  # two terms; f has one step
    "poisson-interaction": ("poisson", "y ~ mo(e):z + (1|g)", {}),
    "t-dirichlet": (
        "t",
        "y ~ x + mo(e)",
        {"priors": {"mo(e)_simplex": bf.Prior("Dirichlet", a=[2.0, 1.0, 3.0])}},
    ),
}


@functools.cache
def _monotonic(key: str):
    family, formula, options = MONOTONIC[key]
    levels = ["lo", "mid", "hi", "top"]
    rng = np.random.default_rng(6)
    data = _data(family).assign(
        e=pd.Categorical(rng.choice(levels, 40), categories=levels, ordered=True),
        f=pd.Categorical(rng.choice(["a", "b"], 40), categories=["a", "b"], ordered=True),
    )
    return bf.Model(formula, data, family=family, **options)


@pytest.mark.parametrize("key", sorted(MONOTONIC))
def test_monotonic_terms_equal_the_graph(key):
    """``mo()`` terms: the coefficient, the simplex through PyMC's simplex transform with its
    Dirichlet prior, the term's mean moved into the intercept when it is centred."""
    report = check_density(_monotonic(key), points=3)
    assert report.claimed and report.ok, str(report)


@pytest.mark.parametrize("part", ["prior", "gradient"])
def test_an_error_in_a_monotonic_term_is_caught(part, monkeypatch):
    """A relative error of 1e-6 in the simplex prior's value or in the term's gradient fails
    `check_density`."""
    from bayesformula.density.monotonic import MonotonicPart

    model = _monotonic("gaussian")
    assert check_density(model).ok
    if part == "prior":
        original = MonotonicPart.prior
        monkeypatch.setattr(
            MonotonicPart, "prior", lambda self, x, grad: original(self, x, grad) * (1 + 1e-6)
        )
    else:
        original = MonotonicPart.backward

        def backward(self, grad, deta, x):
            before = grad.copy()
            original(self, grad, deta, x)
            grad += (grad - before) * 1e-6

        monkeypatch.setattr(MonotonicPart, "backward", backward)
    report = check_density(model)
    assert report.claimed and not report.ok
    assert ("log-density" if part == "prior" else "gradient") in " ".join(report.failed)


CORRELATED = {
    "gaussian-sufficient-statistics": ("gaussian", "y ~ x + (1 + x|g)", {}),
    "gaussian-anchored": ("gaussian", "y ~ x + z + (1 + x|g)", {"noncentered": False}),
    "gaussian-two-blocks-rows": ("gaussian", "y ~ x + z + (1 + x|g) + (1 + z|h)", {}),
    "bernoulli-noncentered": ("bernoulli", "y ~ x + (1 + x + z|g)", {"noncentered": True}),
    "poisson-vector-term": ("poisson", "y ~ x + (1 + c|g) + (1|h)", {"noncentered": False}),
    "t-lkj-eta": ("t", "y ~ x + (1 + x|g)", {"priors": {"1+x|g_corr": bf.Prior("LKJCorr", eta=3)}}),
    "cumulative-student-sds": (
        "cumulative",
        "y ~ x + (1 + x|g)",
        {
            "priors": {
                "group_specific": bf.Prior(
                    "Normal", mu=0, sigma=bf.Prior("HalfStudentT", nu=3, sigma=1.5)
                )
            }
        },
    ),
}


@functools.cache
def _correlated(key: str):
    family, formula, options = CORRELATED[key]
    data = _data(family).assign(
        h=lambda d: np.where(d["z"] > 0, "u", "v"), c=lambda d: np.where(d["x"] > 1, "p", "q")
    )
    if get_family(family).support == "trials":
        formula = formula.replace("y ~", "p(y, n) ~")
    return bf.Model(formula, data, family=family, **options)


@pytest.mark.parametrize("key", sorted(CORRELATED))
def test_correlated_effects_equal_the_graph(key):
    """Correlated group effects (PyMC's LKJCholeskyCov, the effects jointly normal, centered or
    not) in sufficient statistics, merged rows, the compiled loop and row likelihoods."""
    model = _correlated(key)
    for kernel in (False, True):
        report = check_density(model, points=3, kernel=kernel)
        assert report.claimed and report.ok, str(report)


def test_centered_correlated_effects_are_anchored_on_the_common_coefficients():
    """With the block's factor the anchor, the sampler holds each level's own intercept and
    slope: moving ``Intercept_centered`` (or the common slope) alone moves every level's
    intercept (or slope) effect the opposite way; the density stays the graph's
    (``CORRELATED["gaussian-anchored"]``)."""
    model = bf.Model("y ~ x + (1 + x|g)", _data("gaussian"), family="gaussian", noncentered=False)
    assert model.anchor == "g" and check_density(model).ok
    density = model.density()
    x = density.initial_point(np.random.default_rng(1))
    base = density.expand(x)
    for name, effects in (("Intercept_centered", "1|g"), ("x", "x|g")):
        where = next(
            j
            for j in range(density.ndim)
            if not np.isclose(density.expand(x + np.eye(density.ndim)[j])[name], base[name])
        )
        moved = density.expand(x + 0.5 * np.eye(density.ndim)[where])
        assert np.allclose(moved[name] - base[name], 0.5)
        assert np.allclose(moved[effects] - base[effects], -0.5)


@pytest.mark.parametrize("part", ["value", "gradient"])
@pytest.mark.parametrize("noncentered", [False, True])
def test_an_error_in_the_correlated_effects_is_caught(part, noncentered, monkeypatch):
    """A relative error of 1e-6 in the correlated block's log-density or in its gradient
    fails `check_density`."""
    from bayesformula.density import correlated

    model = bf.Model(
        "y ~ x + (1 + x|g)", _data("gaussian"), family="gaussian", noncentered=noncentered
    )
    assert check_density(model).ok
    forward, backward = correlated.CorrelatedBlock.forward, correlated.CorrelatedBlock.backward
    if part == "value":

        def wrong_forward(self, x):
            lp, b, state = forward(self, x)
            return lp * (1 + 1e-6), b, state

        monkeypatch.setattr(correlated.CorrelatedBlock, "forward", wrong_forward)
    else:

        def wrong_backward(self, grad, db, state):
            before = grad.copy()
            backward(self, grad, db, state)
            grad[self.chol.slice] += 1e-6 * (grad - before)[self.chol.slice]

        monkeypatch.setattr(correlated.CorrelatedBlock, "backward", wrong_backward)
    report = check_density(model)
    assert report.claimed and not report.ok
    assert ("log-density" if part == "value" else "gradient") in " ".join(report.failed)


def test_a_formula_the_row_likelihood_cannot_take_keeps_the_graph():
    model = bf.Model(bf.Formula("y ~ x", "alpha ~ z"), _data("gamma"), family="gamma")
    assert model.density() is None and "the formula for alpha" in model.fast_path_note


# --------------------------------------------------------------------------- mutations
def _data(family: str) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 40
    x = rng.integers(0, 3, n).astype(float)  # repeating patterns: merged rows too
    g = rng.choice(["a", "b", "c", "d"], n)
    trials = rng.integers(1, 6, n)
    y = _response(family, 0.4 * x - 0.2, rng, trials)
    return pd.DataFrame({"y": y, "x": x, "z": rng.normal(size=n), "g": g, "n": trials})


def _model(family: str, priors=None, formula="y ~ x + z + (1|g)", link=None):
    if get_family(family).support == "trials":
        formula = formula.replace("y ~", "p(y, n) ~")
    return bf.Model(
        formula, _data(family), family=family, link=link, priors=priors, noncentered=False
    )


#: (family, link, compiled loop) of weighted() models: each kind of likelihood (gaussian rows,
#: the logistic and Poisson sums with their loop, the row likelihoods of summed successes, of
#: counts, of shapes and of the fused beta loop)
WEIGHTED = [
    ("gaussian", "identity", False),
    ("bernoulli", "logit", True),
    ("binomial", "logit", False),
    ("binomial", "probit", False),
    ("bernoulli", "identity", False),
    ("poisson", "log", True),
    ("poisson", "identity", False),
    ("negativebinomial", "log", False),
    ("t", "identity", False),
    ("gamma", "log", False),
    ("beta", "logit", True),
    ("lognormal", "identity", False),
]


@pytest.mark.parametrize(("family", "link", "kernel"), WEIGHTED)
def test_weighted_rows_equal_the_graph(family, link, kernel):
    """``weighted(y, w)``: each row's log-likelihood, constants included, times its weight (not
    whole numbers here), on the fast path as in the graph; rows repeat, so merged rows carry
    their weights' sums."""
    data = _data(family).assign(w=np.random.default_rng(5).uniform(0.2, 3.0, 40))
    y = "p(y, n)" if get_family(family).support == "trials" else "y"
    formula = (
        f"weighted({y}, w) ~ x + (1|g)"
        if _bounded(family, link)
        else f"weighted({y}, w) ~ x + z + (1|g)"
    )
    model = bf.Model(formula, data, family=family, link=link, noncentered=False)
    report = check_density(model, points=3, kernel=kernel)
    assert report.claimed and report.ok, str(report)


@pytest.mark.parametrize("key", sorted(likelihoods.FAST_LIKELIHOODS))
@pytest.mark.parametrize("part", ["constant", "value", "gradient"])
def test_an_error_in_any_likelihood_is_caught(key, part, monkeypatch):
    family, link = key
    model = _model(family, link=link)
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


_GLM_PAIRS = set(likelihoods.FAST_LIKELIHOODS)


@functools.cache
def _row_model(name: str, sampled: str | None):
    """The model a row likelihood's mutations are checked on (shared by them: its reference
    graph compiles once): the first link the row likelihood computes (others may have entries
    of their own), a fixed unit parameter ``sampled`` given a Beta prior."""
    link = next(k for k in get_family(name).link_names if (name, k) not in _GLM_PAIRS)
    priors = {sampled: bf.Prior("Beta", alpha=2, beta=2)} if sampled else None
    return _model(name, link=link, priors=priors)


def _row_mutations():
    for name, entry in sorted(rows.ROW_FAMILIES.items()):
        for part in ("value", "mu", *entry.aux):
            yield name, part


@pytest.mark.parametrize("name, part", list(_row_mutations()))
def test_an_error_in_any_row_likelihood_is_caught(name, part, monkeypatch):
    """A relative error of 1e-6 in a row likelihood's value, its derivative in the parent or
    in any auxiliary parameter fails `check_density` (at the family's default link)."""
    aux = {a.name: a for a in get_family(name).aux}
    # fixed unless given a prior (asymmetric Laplace's q): sampled here
    sampled = part in aux and not isinstance(aux[part].default_prior(1.0), bf.Prior)
    model = _row_model(name, part if sampled else None)
    assert check_density(model).ok  # the unmodified likelihood passes
    entry = rows.ROW_FAMILIES[name]

    def wrap(original):
        def loglik(mu, data, aux):
            lp, dmu, daux = original(mu, data, aux)
            if part == "value":
                lp = lp * (1 + 1e-6)
            elif part == "mu":
                dmu = dmu * (1 + 1e-6)
            else:
                daux = {**daux, part: daux[part] * (1 + 1e-6)}
            return lp, dmu, daux

        return loglik

    monkeypatch.setitem(rows.ROW_FAMILIES, name, _mutated(entry, wrap))
    report = check_density(model)
    assert report.claimed and not report.ok
    assert ("log-density" if part == "value" else "gradient") in " ".join(report.failed)


@pytest.mark.parametrize("family, param", PER_ROW)
def test_an_error_in_a_per_row_derivative_is_caught(family, param, monkeypatch):
    model = _distributional(family, param)
    entry = rows.ROW_FAMILIES[family]

    def wrap(original):
        def loglik(mu, data, aux):
            lp, dmu, daux = original(mu, data, aux)
            assert np.ndim(daux[param]) == 1  # the per-row path is the one mutated
            return lp, dmu, {**daux, param: daux[param] * (1 + 1e-6)}

        return loglik

    monkeypatch.setitem(rows.ROW_FAMILIES, family, _mutated(entry, wrap))
    report = check_density(model)
    assert report.claimed and not report.ok
    assert "gradient" in " ".join(report.failed)


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
    "InverseGamma": (
        "1|g",
        bf.Prior("Normal", mu=0, sigma=bf.Prior("InverseGamma", alpha=3, beta=2)),
    ),
    "LogNormal": ("1|g", bf.Prior("Normal", mu=0, sigma=bf.Prior("LogNormal", mu=-0.5, sigma=1))),
    "Beta": ("psi", bf.Prior("Beta", alpha=2, beta=3)),
}
#: the family of each case (poisson unless named)
PRIOR_FAMILY = {"Beta": "zero_inflated_poisson"}


def test_every_prior_distribution_has_a_mutation_case():
    assert set(PRIOR_CASES) == set(numeric_priors.PRIOR_KINDS)


@pytest.mark.parametrize("name", sorted(PRIOR_CASES))
@pytest.mark.parametrize("part", ["value", "gradient"])
def test_an_error_in_any_prior_is_caught(name, part, monkeypatch):
    term, prior = PRIOR_CASES[name]
    model = _model(PRIOR_FAMILY.get(name, "poisson"), priors={term: prior})
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


@functools.cache
def _ordinal_rows_model():
    """A cumulative logit model over 2,500 rows (the compiled loop's size), predictors wide
    enough that some categories' probabilities fall below 1e-9 at the checked points."""
    rng = np.random.default_rng(5)
    n = 2_500
    x = rng.normal(0, 8, n)
    y = _response("cumulative", 0.2 * x, rng, None)
    data = pd.DataFrame({"y": y, "x": x, "g": rng.choice(list("abcde"), n)})
    return bf.Model("y ~ x + (1|g)", data, family="cumulative")


def test_the_compiled_ordinal_loop_equals_the_graph_in_the_tails():
    model = _ordinal_rows_model()
    assert "compiled row loop" in model.density().description
    assert check_density(model, points=3).ok


@pytest.mark.parametrize("name, link", COMPILED)
@pytest.mark.parametrize("part", ["value", "mu", "aux"])
def test_an_error_in_a_compiled_row_loop_is_caught(name, link, part, monkeypatch):
    """A relative error of 1e-6 in a compiled row loop's value or either derivative fails
    `check_density` in the loop, while the numpy likelihood still passes."""
    model = _model(name, link=link)
    assert check_density(model, kernel=True).ok
    (param,) = _row_entry(name, link).aux

    def wrap(compiled):
        def loglik(mu, data, aux):
            lp, dmu, daux = compiled(mu, data, aux)
            if part == "value":
                return lp * (1 + 1e-6), dmu, daux
            if part == "mu":
                return lp, dmu * (1 + 1e-6), daux
            return lp, dmu, {param: daux[param] * (1 + 1e-6)}

        return loglik

    wrong = _mutated(rows.ROW_FAMILIES[name], wrap, compiled_only=True)
    monkeypatch.setitem(rows.ROW_FAMILIES, name, wrong)
    report = check_density(model, kernel=True)
    assert report.claimed and not report.ok
    assert ("log-density" if part == "value" else "gradient") in " ".join(report.failed)
    assert check_density(model, kernel=False).ok  # the numpy likelihood is untouched


@pytest.mark.parametrize("name, link", FUSED)
@pytest.mark.parametrize("part", ["value", "coefficients", "effects", "aux"])
def test_an_error_in_a_fused_row_loop_is_caught(name, link, part, monkeypatch):
    """A relative error of 1e-6 in the value or any derivative of a loop that computes whole
    rows (linear predictor, link, likelihood) fails `check_density`; the numpy likelihood
    still passes."""
    model = _model(name, link=link)
    assert check_density(model, kernel=True).ok
    call = kernels.RowLoop.__call__
    at = {"value": 0, "coefficients": 2, "effects": 3, "aux": 4}[part]

    def wrong(self, *args):
        out = list(call(self, *args))
        out[at] = out[at] * (1 + 1e-6)
        return tuple(out)

    monkeypatch.setattr(kernels.RowLoop, "__call__", wrong)
    report = check_density(model, kernel=True)
    assert report.claimed and not report.ok
    assert ("log-density" if part == "value" else "gradient") in " ".join(report.failed)
    assert check_density(model, kernel=False).ok


def test_every_fused_loop_is_tested():
    assert ("beta", "logit") in FUSED


def _cloglog_model():
    rng = np.random.default_rng(3)
    data = pd.DataFrame(
        {"x0": rng.normal(0, 1.5, 20), "x1": rng.normal(0, 1.5, 20), "y": rng.binomial(1, 0.4, 20)}
    )
    return bf.Model(
        "y ~ 0 + x0 + x1", data, family="bernoulli", link="cloglog", center_predictors=False
    )


def test_where_the_graphs_gradient_fails_central_differences_decide(monkeypatch):
    """The bernoulli cloglog graph's gradient is NaN at one of these points and off by more
    than the tolerance at another (PyMC's rewrites): there the fast path's gradient is compared
    with central differences of the graph's log-density, which still catch an error of 1e-6."""
    model = _cloglog_model()
    report = check_density(model, kernel=False)
    assert report.ok, str(report)
    notes = " ".join(report.notes)
    assert "gradient is not finite" in notes and "own gradient differs" in notes
    key = ("bernoulli", "cloglog")
    entry = likelihoods.FAST_LIKELIHOODS[key]

    def loglik(*args):
        lp, deta = entry.loglik(*args)
        return lp, deta * (1 + 1e-6)

    monkeypatch.setitem(
        likelihoods.FAST_LIKELIHOODS, key, dataclasses.replace(entry, loglik=loglik)
    )
    wrong = check_density(model, kernel=False)
    assert not wrong.ok
    assert {"gradient 1", "gradient 2"} <= set(wrong.failed)  # the two compared by differences


def test_a_model_the_fast_path_does_not_claim_passes_as_such():
    data = _data("gamma").assign(hi=lambda d: d["y"] * 2.0, status="interval")
    report = check_density(bf.Model("censored(y, hi, status) ~ x", data, family="gamma"))
    assert report.ok and not report.claimed
    assert "not claimed" in report.passed[0] and "family 'gamma'" in report.passed[0]


def test_raise_on_failure_names_the_check(monkeypatch):
    key = ("poisson", "log")
    entry = likelihoods.FAST_LIKELIHOODS[key]
    wrong = dataclasses.replace(entry, constant=lambda y, t: entry.constant(y, t) - 1.0)
    monkeypatch.setitem(likelihoods.FAST_LIKELIHOODS, key, wrong)
    with pytest.raises(bf.BayesformulaError, match="log-density 0"):
        check_density(_model("poisson"), raise_on_failure=True)
