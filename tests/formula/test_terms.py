"""mo() and hsgp() terms at the design level, against independent references.

* Monotonic predictors: level codes and step labels written out by hand from the data.
* Gaussian processes: the basis against PyMC's own ``pm.gp.HSGP.prior_linearized`` (fitting and
  new data), the spectral densities against PyMC's covariance functions and the closed forms of
  Rasmussen & Williams (2006) / Riutort-Mayol et al. (2022), the approximation against the exact
  kernel, and the default lengthscale prior's tails against scipy.stats.invgamma.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bayesformula.errors import FormulaError, PredictionError
from bayesformula.formula.design import evaluate_new_data, make_design
from bayesformula.formula.terms import basis_indices, hsgp_basis, inverse_gamma_tails

N = 40
RNG = np.random.default_rng(11)
DF = pd.DataFrame(
    {
        "y": RNG.normal(size=N),
        "x": RNG.uniform(0, 10, N),
        "x2": RNG.uniform(-2, 2, N),
        "g": np.array(["a", "b", "c", "d"] * 10),
        "e": pd.Categorical(
            np.array(["lo", "mid", "hi", "mid", "lo"] * 8),
            categories=["lo", "mid", "hi", "top"],
            ordered=True,
        ),
        "k": np.array([0, 1, 2, 3] * 10),
        "s": np.array(["b", "a", "c", "a"] * 10),
        "z": RNG.normal(size=N),
    },
    index=[f"r{i}" for i in range(N)],
)


def _term(design, name):
    return next(t for t in design.special_terms if t.name == name)


# ------------------------------------------------------------------ mo()
def test_mo_codes_levels_and_steps():
    d = make_design("y ~ mo(e) + mo(k):z + mo(s, levels=['c', 'b', 'a'])", DF)
    assert d.X.shape == (N, 0)  # none of them is a column of X
    e = _term(d, "mo(e)")
    # the ordered categorical's categories are the scale, the unused "top" included
    assert e.levels == ("lo", "mid", "hi", "top") and e.D == 3
    expected = DF["e"].map({"lo": 0, "mid": 1, "hi": 2}).astype(int).to_numpy()
    np.testing.assert_array_equal(e.codes, expected)
    assert e.steps == ("lo->mid", "mid->hi", "hi->top")
    assert e.coords() == {"mo(e)_simplex_dim": ["lo->mid", "mid->hi", "hi->top"]}

    k = _term(d, "mo(k):z")
    assert k.levels == (0, 1, 2, 3) and k.other == "z"
    np.testing.assert_array_equal(k.codes, DF["k"].to_numpy())
    np.testing.assert_array_equal(k.z, DF["z"].to_numpy())
    np.testing.assert_allclose(k.covariate, DF["k"] * DF["z"])

    s = _term(d, "mo(s, levels=['c', 'b', 'a'])")
    np.testing.assert_array_equal(s.codes, DF["s"].map({"c": 0, "b": 1, "a": 2}).to_numpy())
    assert s.steps == ("c->b", "b->a")


def test_mo_integer_levels_start_at_zero():
    df = DF.assign(k=DF["k"] + 2)  # values 2..5: levels 0..5, as brms codes integers
    term = _term(make_design("y ~ mo(k)", df), "mo(k)")
    assert term.levels == tuple(range(6)) and term.D == 5


def test_mo_new_data_codes_and_errors():
    d = make_design("y ~ mo(e) + mo(k):z", DF)
    new = pd.DataFrame(
        {"e": pd.Categorical(["hi", "top", "lo"]), "k": [3, 0, 2], "z": [1.0, 2.0, 3.0]},
        index=["p", "q", "r"],
    )
    out = evaluate_new_data(d, new)
    np.testing.assert_array_equal(out.special["mo(e)"]["codes"], [2, 3, 0])
    np.testing.assert_array_equal(out.special["mo(k):z"]["codes"], [3, 0, 2])
    np.testing.assert_array_equal(out.special["mo(k):z"]["z"], [1.0, 2.0, 3.0])
    with pytest.raises(PredictionError, match=r"not levels of 'mo\(e\)': 'top!'.*'q'"):
        evaluate_new_data(d, new.assign(e=["hi", "top!", "lo"]))
    with pytest.raises(PredictionError, match="not levels of 'mo\\(k\\):z': 7"):
        evaluate_new_data(d, new.assign(k=[3, 7, 2]))
    with pytest.raises(PredictionError, match="missing"):
        evaluate_new_data(d, new.assign(e=["hi", None, "lo"]))
    with pytest.raises(PredictionError, match="lacks column 'e'"):
        evaluate_new_data(d, new.drop(columns="e"))


@pytest.mark.parametrize(
    "formula, data, match",
    [
        ("y ~ mo(g)", DF, r"needs the order of the levels of 'g'.*mo\(g, levels="),
        (
            "y ~ mo(e)",
            DF.assign(e=DF["e"].cat.as_unordered()),
            r"unordered categorical.*ordered=True",
        ),
        ("y ~ mo(k)", DF.assign(k=DF["k"] - 1), r"whole numbers 0, 1, 2.*row 'r0': -1"),
        ("y ~ mo(x)", DF, "whole numbers"),
        ("y ~ mo(s, levels=['a', 'b'])", DF, r"not among the levels.*'c'"),
        ("y ~ mo(k)", DF.assign(k=0), "at least two levels"),
        ("y ~ mo(np.log(x))", DF, "takes one column name"),
        ("y ~ mo(k, id=1)", DF, "has no argument 'id'"),
        ("y ~ mo(k):g", DF, "categorical 'g' is not supported"),
        ("y ~ mo(k):mo(e)", DF, r"interaction 'mo\(k\):mo\(e\)'.*not supported"),
        ("y ~ mo(k):z:x", DF, "not supported"),
        ("y ~ (mo(k)|g)", DF, "group-specific term"),
    ],
)
def test_mo_errors(formula, data, match):
    with pytest.raises(FormulaError, match=match):
        make_design(formula, data)


# ------------------------------------------------------------------ hsgp(): basis
def _pymc_hsgp(X, m, c, ls=1.0):
    import pymc as pm
    import pytensor

    d = X.shape[1]
    cov = pm.gp.cov.ExpQuad(d, ls=ls)
    gp = pm.gp.HSGP(m=list(m), c=c, cov_func=cov)
    shared = pytensor.shared(X)
    phi, _ = gp.prior_linearized(shared)
    return gp, shared, phi


def _pymc_order(m):
    """Index tuples of PyMC's basis columns (its eigenvalue grid, first input varying fastest)."""
    grid = np.meshgrid(*[np.arange(1, 1 + k) for k in m])
    return [tuple(row) for row in np.vstack([s.flatten() for s in grid]).T]


@pytest.mark.parametrize(
    "formula, columns, m, c",
    [
        ("y ~ hsgp(x, m=12, c=1.5)", ["x"], (12,), 1.5),
        ("y ~ hsgp(x, x2, m=[4, 3], c=1.8)", ["x", "x2"], (4, 3), 1.8),
    ],
)
def test_hsgp_basis_equals_pymc(formula, columns, m, c):
    """Same centre (mid-range), boundary L = c * half-range and eigenfunctions as PyMC, on the
    fitting data and on new data."""
    d = make_design(formula, DF)
    term = d.special_terms[0]
    X = DF[columns].to_numpy()
    gp, shared, phi = _pymc_hsgp(X, m, c)
    ours = {tuple(j): i for i, j in enumerate(term.indices)}
    order = [ours[j] for j in _pymc_order(m)]
    np.testing.assert_allclose(term.basis[:, order], phi.eval(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(term.L[0], np.asarray(gp.L.eval()), rtol=1e-12)

    new_X = np.column_stack([np.linspace(X[:, j].min(), X[:, j].max(), 7) for j in range(len(m))])
    shared.set_value(new_X)  # PyMC keeps the fitting data's centre and boundary
    new = evaluate_new_data(d, pd.DataFrame(new_X, columns=columns))
    np.testing.assert_allclose(new.special[term.name]["basis"][:, order], phi.eval(), atol=1e-12)


def test_hsgp_by_levels_share_the_domain():
    """With by=, every level's process lives on the whole data's domain (same centre and
    boundary, so each level predicts over the whole range): each row's basis is PyMC's for all
    the data."""
    d = make_design("y ~ hsgp(x, m=6, c=1.5, by=g, share_cov=False, drop_first=True)", DF)
    term = d.special_terms[0]
    assert term.by_levels == ("a", "b", "c", "d") and term.n_basis == 5
    np.testing.assert_array_equal(term.by_index, pd.Categorical(DF["g"]).codes)
    _, _, phi = _pymc_hsgp(DF[["x"]].to_numpy(), (6,), 1.5)
    np.testing.assert_allclose(term.basis, phi.eval()[:, 1:], atol=1e-12)  # first one dropped
    assert term.weights_dims == (term.weights_dim, term.by_dim)
    assert term.sigma_dims == (term.by_dim,) and term.ell_dims == (term.by_dim,)
    new = DF.iloc[[0, 1]].assign(g=["b", "zz"])
    with pytest.raises(PredictionError, match=r"not levels of .*'zz'"):
        evaluate_new_data(d, new)
    # a level predicts anywhere in the data's range, also where it has no data
    narrow = DF.assign(x=np.where(DF["g"] == "a", DF["x"] / 10, DF["x"]))
    d = make_design("y ~ hsgp(x, m=6, c=1.5, by=g)", narrow)
    evaluate_new_data(d, pd.DataFrame({"x": [narrow["x"].max()], "g": ["a"]}))


def test_hsgp_scale_and_explicit_boundary():
    d = make_design("y ~ hsgp(x, x2, m=3, L=[1.2, 0.8], scale=True, iso=False)", DF)
    term = d.special_terms[0]
    X = DF[["x", "x2"]].to_numpy()
    distance = max(np.linalg.norm(a - b) for a in X for b in X)  # by brute force
    assert term.scale == pytest.approx(distance)
    centre = (X.max(axis=0) + X.min(axis=0)) / 2
    by_hand = hsgp_basis((X - centre) / distance, np.array([1.2, 0.8]), basis_indices((3, 3)))
    np.testing.assert_allclose(term.basis, by_hand)
    assert term.ell_dims == (term.var_dim,)
    assert term.coords()[term.var_dim] == ["x", "x2"]


def test_hsgp_new_data_beyond_boundary_is_an_error():
    d = make_design("y ~ hsgp(x, m=5, c=1.2)", DF)
    lo, hi = DF["x"].min(), DF["x"].max()
    centre, L = (lo + hi) / 2, 1.2 * (hi - lo) / 2
    evaluate_new_data(d, pd.DataFrame({"x": [centre - 0.999 * L, centre + 0.999 * L]}))
    with pytest.raises(PredictionError, match=r"outside the boundary.*larger c"):
        evaluate_new_data(d, pd.DataFrame({"x": [centre + 1.01 * L]}))


@pytest.mark.parametrize(
    "formula, match",
    [
        ("y ~ hsgp(x, c=1.5)", "needs the number of basis functions m"),
        ("y ~ hsgp(x, m=10)", "exactly one of c"),
        ("y ~ hsgp(x, m=10, c=1.5, L=3)", "exactly one of c"),
        ("y ~ hsgp(x, m=10, c=0.9)", "c must be larger than 1"),
        ("y ~ hsgp(x, m=10, L=2)", r"L = 2 does not cover the data"),
        ("y ~ hsgp(x, m=0, c=1.5)", "whole numbers >= 1"),
        ("y ~ hsgp(x, m=[5, 5], c=1.5)", "m must be a number or a list of 1"),
        ("y ~ hsgp(x, k=10, c=1.5)", r"brms's 'k' is 'm' here"),
        ("y ~ hsgp(x, m=10, c=1.5, cov='matern')", r"Known: 'expquad', 'matern32', 'matern52'"),
        ("y ~ hsgp(x, m=10, c=1.5, cov=matern32)", "quoted name"),
        ("y ~ hsgp(x, m=10, c=1.5, centered=1)", "centered must be True or False"),
        ("y ~ hsgp(g, m=10, c=1.5)", "must be numeric.*by="),
        ("y ~ hsgp(x, m=10, c=1.5):z", r"Interaction with 'hsgp' is not supported.*by=g"),
        ("y ~ (hsgp(x, m=10, c=1.5)|g)", "group-specific term"),
        ("y ~ hsgp(x, m=10, c=1.5, by=nope)", "nope"),
    ],
)
def test_hsgp_errors(formula, match):
    with pytest.raises((FormulaError, KeyError), match=match):
        make_design(formula, DF)


def test_hsgp_warns_for_small_c():
    with pytest.warns(UserWarning, match="below 1.2"):
        make_design("y ~ hsgp(x, m=5, c=1.1)", DF)


# ------------------------------------------------------------------ spectral densities
def _psd_pymc(cov, omega, ls):
    import pymc as pm

    d = omega.shape[1]
    kernel = {"expquad": pm.gp.cov.ExpQuad, "matern32": pm.gp.cov.Matern32}
    kernel["matern52"] = pm.gp.cov.Matern52
    return kernel[cov](d, ls=ls).power_spectral_density(omega).eval()


def _psd_closed_form(cov, omega, sigma, ls):
    """Rasmussen & Williams (2006) eq. 4.20 (expquad) and 4.15 (Matern nu) in d dimensions, with
    lengthscales per input: S(w) = sigma^2 prod(l) s(|l * w|^2)."""
    from scipy.special import gamma

    d = omega.shape[1]
    r2 = ((omega * ls) ** 2).sum(axis=1)
    if cov == "expquad":
        unit = (2 * np.pi) ** (d / 2) * np.exp(-r2 / 2)
    else:
        nu = {"matern32": 1.5, "matern52": 2.5}[cov]
        const = 2**d * np.pi ** (d / 2) * gamma(nu + d / 2) * (2 * nu) ** nu / gamma(nu)
        unit = const * (2 * nu + r2) ** (-(nu + d / 2))
    return sigma**2 * np.prod(np.broadcast_to(ls, (d,))) * unit


@pytest.mark.parametrize("cov", ["expquad", "matern32", "matern52"])
@pytest.mark.parametrize("ls", [0.7, [0.5, 2.0]])
def test_spectral_density_equals_pymc_and_closed_form(cov, ls):
    from bayesformula.graph.terms import spectral_density

    d = np.size(ls)
    omega = np.abs(np.random.default_rng(1).normal(0, 2, (9, d)))
    ours = spectral_density(cov, omega, 1.7, np.asarray(ls, dtype=float), d).eval()
    np.testing.assert_allclose(ours, _psd_closed_form(cov, omega, 1.7, np.asarray(ls)), rtol=1e-12)
    # PyMC computes the Matern constants' Gamma function in single precision (about 1e-8)
    np.testing.assert_allclose(ours, 1.7**2 * _psd_pymc(cov, omega, ls), rtol=1e-7)


def test_spectral_density_closed_forms_in_one_dimension():
    """Riutort-Mayol et al. (2022), eq. 1-3: S(w) for d = 1 with amplitude a and lengthscale l."""
    from bayesformula.graph.terms import spectral_density

    w = np.linspace(0, 6, 13)[:, None]
    a, l = 1.3, 0.8
    closed = {
        "expquad": a**2 * np.sqrt(2 * np.pi) * l * np.exp(-0.5 * l**2 * w[:, 0] ** 2),
        "matern32": a**2 * 4 * (np.sqrt(3) / l) ** 3 / ((np.sqrt(3) / l) ** 2 + w[:, 0] ** 2) ** 2,
        "matern52": a**2
        * 16
        / 3
        * (np.sqrt(5) / l) ** 5
        / ((np.sqrt(5) / l) ** 2 + w[:, 0] ** 2) ** 3,
    }
    for cov, expected in closed.items():
        ours = spectral_density(cov, w, a, l, 1).eval()
        np.testing.assert_allclose(ours, expected, rtol=1e-12, err_msg=cov)


@pytest.mark.parametrize("cov", ["expquad", "matern52"])
def test_hsgp_approximates_the_exact_kernel(cov):
    """Phi diag(S) Phi' is the HSGP's covariance. For l/S = 0.4 and c = 2.5 Riutort-Mayol et al.
    (2022, section 4.3) recommend c >= 3.2 * 0.4 = 1.28 and m >= 1.75 c / 0.4 = 11 (expquad),
    c >= 4.1 * 0.4 = 1.64 and m >= 2.65 c / 0.4 = 17 (matern52); with m = 60, well above both,
    the approximation must match the exact kernel closely everywhere in the data range. The
    bound 1e-4 (of a unit variance) leaves room for matern52's polynomial spectral tail, which
    the 60 basis functions truncate (about 3e-5; expquad's error is about 1e-12); a wrong basis,
    boundary or density gives errors of order 0.01 to 1 (c = 1.2 gives 0.5)."""
    from bayesformula.graph.terms import spectral_density

    x = np.linspace(-1, 1, 41)[:, None]  # S = 1, l = 0.4
    L, m, ell = np.array([2.5]), 60, 0.4
    indices = basis_indices((m,))
    phi = hsgp_basis(x, L, indices)
    omega = np.pi * indices / (2 * L)
    psd = spectral_density(cov, omega, 1.0, ell, 1).eval()
    approx = phi @ np.diag(psd) @ phi.T
    r = np.abs(x - x.T) / ell
    exact = np.exp(-0.5 * r**2) if cov == "expquad" else (1 + np.sqrt(5) * r + 5 * r**2 / 3)
    if cov == "matern52":
        exact = exact * np.exp(-np.sqrt(5) * r)
    assert np.abs(approx - exact).max() < 1e-4


# ------------------------------------------------------------------ default lengthscale prior
def test_inverse_gamma_tails():
    for lower, upper in ((0.13, 1.0), (1.0, 2.0), (1e-3, 50.0)):
        alpha, beta = inverse_gamma_tails(lower, upper)
        dist = stats.invgamma(alpha, scale=beta)
        assert dist.cdf(lower) == pytest.approx(0.01, abs=1e-9)
        assert dist.sf(upper) == pytest.approx(0.01, abs=1e-9)


def test_default_lengthscale_prior_spans_resolvable_range():
    """1% prior mass below the shortest lengthscale the basis represents (a L / m,
    Riutort-Mayol et al. 2022; a = 1.75 expquad, 3.42 matern32) and 1% above the data's
    largest distance, computed here from the data by hand."""
    from bayesformula.priors.auto import lengthscale_prior

    lo, hi = DF["x"].min(), DF["x"].max()
    for cov, a in (("expquad", 1.75), ("matern32", 3.42)):
        d = make_design(f"y ~ hsgp(x, m=15, c=1.6, cov='{cov}')", DF)
        prior = lengthscale_prior(d.special_terms[0])
        dist = stats.invgamma(prior.args["alpha"], scale=prior.args["beta"])
        shortest = a * 1.6 * (hi - lo) / 2 / 15
        assert dist.cdf(shortest) == pytest.approx(0.01, abs=1e-9)
        assert dist.sf(hi - lo) == pytest.approx(0.01, abs=1e-9)

    # per predictor when not isotropic: each predictor's own range
    d = make_design("y ~ hsgp(x, x2, m=[10, 8], c=1.5, iso=False)", DF)
    prior = lengthscale_prior(d.special_terms[0])
    dist = stats.invgamma(prior.args["alpha"], scale=prior.args["beta"])
    ranges = np.ptp(DF[["x", "x2"]].to_numpy(), axis=0)
    shortest = 1.75 * 1.5 * ranges / 2 / np.array([10, 8])
    np.testing.assert_allclose(dist.cdf(shortest), 0.01, atol=1e-9)
    np.testing.assert_allclose(dist.sf(ranges), 0.01, atol=1e-9)
