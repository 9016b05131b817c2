"""The fast path's numpy log-density is the PyMC model's log-density.

For each model we map random unconstrained points of the fast path onto the PyMC model's value
variables (log for positive parameters, the group effects or offsets) and compare the two
joint log-densities, Jacobians included. The reductions (sufficient statistics, merged covariate
patterns) and the centering on the intercept change the arithmetic, never the value: equality
at random points proves that sampling either targets the same posterior. The gradient is checked
against central finite differences of the fast path's own log-density.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayesformula as bf
from bayesformula.density import build as density_module
from bayesformula.density.build import build_density
from bayesformula.samplers.layout import model_variable_names

RNG = np.random.default_rng(99)
N = 240
G = np.repeat([f"g{i}" for i in range(12)], N // 12)
H = np.tile([f"h{i}" for i in range(5)], N // 5)
XC = RNG.normal(1.0, 2.0, N)  # continuous: no merging possible
XD = RNG.integers(0, 4, N).astype(float)  # discrete: patterns repeat
CAT = RNG.choice(["a", "b", "c"], N)
OFF = np.log(RNG.integers(1, 5, N).astype(float))
TRIALS = RNG.integers(1, 9, N)


def _df(y, **extra):
    return pd.DataFrame({"y": y, "xc": XC, "xd": XD, "cat": CAT, "g": G, "h": H, **extra})


GAUSS = _df(
    3 + 0.5 * XC + RNG.normal(0, 1.5, 12)[np.repeat(np.arange(12), 20)] + RNG.normal(0, 1, N)
)
BINOM = _df(RNG.binomial(TRIALS, 0.35), k=TRIALS)
BERN = _df(RNG.integers(0, 2, N))
POIS = _df(RNG.poisson(np.exp(0.3 + 0.2 * XD + OFF)), off=OFF)

CASES = {
    "gaussian-suffstats": (GAUSS, "y ~ xc + xd + cat", "gaussian", {}),
    "gaussian-suffstats-nointercept": (GAUSS, "y ~ 0 + xc + cat", "gaussian", {}),
    "gaussian-intercept-only": (GAUSS, "y ~ 1", "gaussian", {}),
    "gaussian-fixed-sigma-priors": (
        GAUSS,
        "y ~ xc",
        "gaussian",
        {"priors": {"sigma": 1.3, "xc": bf.Prior("StudentT", nu=3, mu=0.2, sigma=2)}},
    ),
    "gaussian-groups-centered-anchored": (
        GAUSS,
        "y ~ xc + (1|g) + (xc||h)",
        "gaussian",
        {"noncentered": False},
    ),
    "gaussian-slopes-anchored": (GAUSS, "y ~ xc + (xc||g)", "gaussian", {"noncentered": False}),
    "bernoulli-merged-slopes-anchored": (
        BERN,
        "y ~ xd + (xd||h)",
        "bernoulli",
        {"noncentered": False},
    ),
    "gaussian-groups-noncentered": (
        GAUSS,
        "y ~ xd + (1 + xd||g)",
        "gaussian",
        {"noncentered": True},
    ),
    "gaussian-groups-merged": (GAUSS, "y ~ xd + cat + (1|g)", "gaussian", {"noncentered": False}),
    "binomial-merged": (
        BINOM,
        "p(y, k) ~ xd + cat + (1|h)",
        "binomial",
        {"noncentered": {"h": False}},
    ),
    "bernoulli-merged-mixed": (
        BERN,
        "y ~ xd + (1|g) + (1|h)",
        "bernoulli",
        {"noncentered": {"g": True, "h": False}},
    ),
    "bernoulli-rows-slopes": (BERN, "y ~ xc + (xc||g)", "bernoulli", {}),
    "poisson-offset": (
        POIS,
        "y ~ xd + offset(off) + (1|g)",
        "poisson",
        {
            "noncentered": False,
            "priors": {
                "xd": bf.Prior("Cauchy", alpha=0, beta=2),
                "1|g": bf.Prior("Normal", mu=0, sigma=bf.Prior("Exponential", lam=2)),
            },
        },
    ),
    "poisson-rows": (
        POIS,
        "y ~ xc + (1|h)",
        "poisson",
        {"priors": {"1|h": bf.Prior("Normal", mu=0, sigma=bf.Prior("Gamma", alpha=2, beta=3))}},
    ),
}


def _pymc_point(model, values):
    """The PyMC model's value variables at the fast path's named values."""
    pm_model = model.build()
    point = {}
    for rv in pm_model.free_RVs:
        value_var = pm_model.rvs_to_values[rv]
        transform = pm_model.rvs_to_transforms.get(rv)
        v = np.asarray(values[rv.name], dtype=float)
        if transform is not None:
            assert type(transform).__name__ == "LogTransform", transform
            v = np.log(v)
        point[value_var.name] = v
    return point


#: gaussian cases that must take the per-row path (as models with many group levels do)
ROWS = {"gaussian-groups-merged", "gaussian-groups-noncentered"}


def _density(model, rows: bool):
    """The model's density; ``rows=True`` disables the sufficient statistics for groups."""
    names = ("_MAX_SUFF_COEF", "_MAX_SUFF_COEF_MANY_ROWS")
    saved = {name: getattr(density_module, name) for name in names}
    for name in names:
        setattr(density_module, name, 0 if rows else saved[name])
    try:
        return model.density()
    finally:
        for name in names:
            setattr(density_module, name, saved[name])


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request):
    data, formula, family, kwargs = CASES[request.param]
    model = bf.Model(formula, data, family=family, **kwargs)
    density = _density(model, request.param in ROWS)
    assert density is not None, model.fast_path_note
    logp = model.build().compile_logp(jacobian=True)
    return request.param, model, density, logp


def test_logp_equals_pymc_at_random_points(case):
    name, model, density, pm_logp = case
    rng = np.random.default_rng(1)
    for _ in range(4):
        x = density.initial_point(rng) + rng.normal(0, 0.3, density.ndim)
        ours, _ = density.logp_grad(x)
        theirs = float(pm_logp(_pymc_point(model, density.expand(x))))
        assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-7), name


def test_gradient_matches_finite_differences(case):
    name, _, density, _ = case
    rng = np.random.default_rng(2)
    x = density.initial_point(rng) + rng.normal(0, 0.2, density.ndim)
    _, grad = density.logp_grad(x)
    h = 1e-6
    numeric = np.empty(density.ndim)
    for i in range(density.ndim):
        e = np.zeros(density.ndim)
        e[i] = h
        numeric[i] = (density.logp_grad(x + e)[0] - density.logp_grad(x - e)[0]) / (2 * h)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-5 * (1 + np.abs(numeric).max()))


def test_names_shapes_and_dims_match_the_pymc_model(case):
    name, model, density, _ = case
    pm_model = model.build()
    assert set(density.variable_names) == set(model_variable_names(pm_model)), name
    values = density.expand(density.initial_point(np.random.default_rng(0)))
    point = pm_model.initial_point()
    for rv in pm_model.free_RVs:
        assert values[rv.name].shape == point[pm_model.rvs_to_values[rv].name].shape, rv.name
    for var, dims in pm_model.named_vars_to_dims.items():
        if var in density.shapes and dims:
            assert tuple(density.dims[var]) == tuple(dims), var


def test_reductions_are_used():
    notes = {}
    for key in (
        "gaussian-suffstats",
        "binomial-merged",
        "gaussian-groups-merged",
        "poisson-rows",
        "gaussian-groups-centered-anchored",
    ):
        data, formula, family, kwargs = CASES[key]
        model = bf.Model(formula, data, family=family, **kwargs)
        notes[key] = _density(model, key in ROWS).description
    assert "sufficient statistics" in notes["gaussian-suffstats"]
    # intercept, xc, 12 levels of g, 5 levels x (1, xc) of h
    assert "a 24x24 matrix, group effects included" in notes["gaussian-groups-centered-anchored"]
    patterns = len(BINOM[["xd", "cat", "h"]].drop_duplicates())
    assert patterns < 100
    assert f"240 rows -> {patterns}" in notes["binomial-merged"]
    assert "merged" in notes["gaussian-groups-merged"]
    assert notes["poisson-rows"].endswith("240 rows")


def test_anchored_slopes_are_the_level_coefficients():
    """With g anchored, the sampler's raw values are each level's intercept (at the mean of xc)
    and slope: shifting every level's raw slope by d and the common slope by d changes no
    named group effect."""
    data, formula, family, kwargs = CASES["gaussian-slopes-anchored"]
    model = bf.Model(formula, data, family=family, **kwargs)
    density = model.density()
    x = density.initial_point(np.random.default_rng(5))
    moved = x.copy()
    layout = {name: i for i, name in enumerate(["Intercept_centered", "xc"])}
    moved[layout["xc"]] += 0.7
    moved[-12:] += 0.7  # xc|g effects are the last block
    a, b = density.expand(x), density.expand(moved)
    np.testing.assert_allclose(a["xc|g"], b["xc|g"], atol=1e-12)
    np.testing.assert_allclose(a["1|g"], b["1|g"] - 0.0, atol=1e-12)
    assert b["xc"] == pytest.approx(a["xc"] + 0.7)


def test_anchor_is_the_centered_factor_with_an_intercept():
    data, formula, family, kwargs = CASES["gaussian-groups-centered-anchored"]
    model = bf.Model(formula, data, family=family, **kwargs)
    assert model.anchor == "g"
    assert "g: centered, centered on the common coefficients" in str(model)
    mixed = bf.Model(
        "y ~ xd + (1|g) + (1|h)", BERN, family="bernoulli", noncentered={"g": True, "h": False}
    )
    assert mixed.anchor == "h"


def _loglog_inv(eta):
    return np.exp(-np.exp(-eta))


@pytest.mark.parametrize(
    "family, kwargs, why",
    [
        (
            "bernoulli",
            {"link": bf.Link("loglog", link=lambda p: -np.log(-np.log(p)), linkinv=_loglog_inv)},
            "link 'loglog'",
        ),
        (
            "poisson",
            {"priors": {"xd": bf.Prior("Normal", sigma=bf.Prior("HalfNormal", sigma=1))}},
            "hyperprior",
        ),
        ("poisson", {"priors": {"xd": bf.Prior("HalfNormal", sigma=1)}}, "bounds it"),
        ("gaussian", {"priors": {"xd": bf.Prior("Laplace", mu=0, b=1)}}, "Laplace"),
    ],
)
def test_unsupported_models_fall_back_to_the_graph(family, kwargs, why):
    data = BERN if family == "bernoulli" else POIS
    model = bf.Model("y ~ xd", data, family=family, **kwargs)
    assert model.density() is None
    assert why in model.fast_path_note


def test_same_build_as_density_directly():
    data, formula, family, kwargs = CASES["binomial-merged"]
    model = bf.Model(formula, data, family=family, **kwargs)
    direct = build_density(
        model.design,
        model.family,
        model.link,
        model.priors,
        model.response_data,
        model.parameterization,
        anchor=model.anchor,
    )
    x = direct.initial_point(np.random.default_rng(3))
    assert direct.logp_grad(x)[0] == model.density().logp_grad(x)[0]


NON_GAUSSIAN = sorted(k for k, (_, _, fam, _) in CASES.items() if fam != "gaussian")


def _direct(model, kernel):
    return build_density(
        model.design,
        model.family,
        model.link,
        model.priors,
        model.response_data,
        model.parameterization,
        anchor=model.anchor,
        kernel=kernel,
    )


@pytest.mark.parametrize("key", NON_GAUSSIAN)
def test_compiled_row_loop_equals_numpy(key):
    """The compiled likelihood loop gives the numpy path's log-density and gradient (which the
    tests above tie to the PyMC model), for merged and unmerged rows, offsets, slopes and
    anchored effects."""
    data, formula, family, kwargs = CASES[key]
    model = bf.Model(formula, data, family=family, **kwargs)
    compiled, plain = _direct(model, True), _direct(model, False)
    assert "compiled row loop" in compiled.description
    assert "numpy" in plain.description
    rng = np.random.default_rng(4)
    for _ in range(3):
        x = plain.initial_point(rng) + rng.normal(0, 0.5, plain.ndim)
        lp_c, grad_c = compiled.logp_grad(x)
        lp_p, grad_p = plain.logp_grad(x)
        assert lp_c == pytest.approx(lp_p, rel=1e-11, abs=1e-9)
        np.testing.assert_allclose(grad_c, grad_p, rtol=1e-10, atol=1e-9)


def test_row_loop_chosen_by_size_and_extreme_predictors():
    """Large non-gaussian models take the compiled loop by default; a bernoulli likelihood stays
    finite and exact where |eta| is large (no overflow of exp, products of 512 rows)."""
    rng = np.random.default_rng(8)
    n = density_module.KERNEL_MIN_ROWS + 1000
    x = rng.normal(0, 1, n)
    df = pd.DataFrame({"y": rng.integers(0, 2, n), "x": x, "g": rng.choice(list("abcd"), n)})
    model = bf.Model("y ~ x + (1|g)", df, family="bernoulli")
    assert "compiled row loop" in model.density().description
    compiled, plain = _direct(model, True), _direct(model, False)
    point = plain.initial_point(rng)
    point[1] = 300.0  # the slope of x (after Intercept_centered): |eta| up to about 1,000
    lp_c, grad_c = compiled.logp_grad(point)
    lp_p, grad_p = plain.logp_grad(point)
    assert np.isfinite(lp_c)
    assert lp_c == pytest.approx(lp_p, rel=1e-11)
    np.testing.assert_allclose(grad_c, grad_p, rtol=1e-10, atol=1e-8)


@pytest.mark.parametrize("weighted", [False, True])
def test_compiled_cumulative_logit_equals_numpy_in_both_tails(weighted):
    """The cumulative logit model's compiled loop gives the numpy row likelihood's value and
    gradients (which `check_density` ties to the graph), for linear predictors from moderate
    to extreme (probabilities below 1e-9, exponentials that overflow), in every category, with
    and without merged-row weights."""
    from bayesformula.density import rows_ordinal

    rng = np.random.default_rng(11)
    n = 3000
    eta = np.concatenate([rng.normal(0, 2, n - 8), [-40.0, 40.0, -800.0, 800.0] * 2])
    code = np.concatenate([rng.integers(0, 5, n - 8), [0, 0, 4, 4, 2, 2, 1, 3]])
    w = rng.integers(1, 4, n).astype(float) if weighted else None
    data = rows_ordinal._prepare(code.astype(float), None, w)
    aux = {"threshold": np.array([-1.5, -0.3, -0.29, 1.8])}  # two thresholds close together
    lp_n, deta_n, daux_n = rows_ordinal._cumulative("logit", eta, data, aux)
    lp_c, deta_c, daux_c = rows_ordinal._cumulative_logit_compiled(eta, data, aux)
    assert np.isfinite(lp_c) and lp_c == pytest.approx(lp_n, rel=1e-12)
    np.testing.assert_allclose(deta_c, deta_n, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(daux_c["threshold"], daux_n["threshold"], rtol=1e-10)


EXTREME_CASES = [
    ("yg ~ x", "gaussian"),
    ("yg ~ x + (1|g)", "gaussian"),
    ("yb ~ x + (1|g)", "bernoulli"),
    ("yb ~ x + (1|g)", "bernoulli:probit"),
    ("yb ~ x", "bernoulli:identity"),
    ("yp ~ x + (1|g)", "poisson"),
    ("ybeta ~ x", "beta"),
    ("yt ~ x + (1|g)", "t"),
    ("yp ~ x", "negativebinomial"),
    ("ypos ~ x", "lognormal"),
    ("yo ~ x", "cumulative"),
    ("yo ~ x + (1|g)", "categorical"),
]


@pytest.fixture(scope="module")
def extreme_data():
    rng = np.random.default_rng(0)
    n = 300
    data = pd.DataFrame({"x": rng.normal(size=n), "g": rng.choice(list("abcdef"), n)})
    data["yg"], data["yt"] = rng.normal(size=n), rng.standard_t(3, n)
    data["yb"], data["yp"] = rng.integers(0, 2, n), rng.poisson(2, n)
    data["ybeta"], data["ypos"] = rng.uniform(0.05, 0.95, n), rng.gamma(2.0, 1.0, n)
    data["yo"] = rng.integers(1, 5, n)
    return data


@pytest.mark.parametrize(("formula", "family"), EXTREME_CASES)
def test_extreme_points_give_minus_infinity_quietly(extreme_data, formula, family, recwarn):
    """Where a scale rounds to zero or a mean overflows (a sampler's first proposals can go
    there), the density is -inf with a zero gradient, or finite with a finite gradient: never
    an exception, NaN or a numpy warning. Before the guard, -800 raised ValueError in the
    gaussian and lognormal densities and ZeroDivisionError in the Student t's."""
    from bayesformula.density import density_of_spec

    family, _, link = family.partition(":")
    kwargs = {"link": link} if link else {}
    density = density_of_spec(bf.Model(formula, extreme_data, family=family, **kwargs).spec)
    for value in (-800.0, 800.0, -1e10, 1e10, np.nan, np.inf, -np.inf):
        lp, grad = density.logp_grad(np.full(density.ndim, value))
        assert lp == -np.inf or np.isfinite(lp), (value, lp)
        assert grad.shape == (density.ndim,) and np.all(np.isfinite(grad)), value
        if lp == -np.inf:
            assert not grad.any()
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
    for seed in range(5):  # inside the support (the identity link leaves it near the start)
        x = density.initial_point(np.random.default_rng(seed))
        lp, grad = density.logp_grad(x)
        assert np.isfinite(lp) and np.all(np.isfinite(grad))
