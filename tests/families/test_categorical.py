"""Unordered categories: the categorical, multinomial and dirichlet_multinomial families.

* The built models' joint log-densities (priors and likelihood, no Jacobian) equal softmax
  probabilities with the first level as reference, written out with scipy (categorical:
  ``log p[y]``; ``scipy.stats.multinomial``; ``scipy.stats.dirichlet_multinomial``), at random
  points, with per-category common and group-specific coefficients.
* Predictions and the pointwise log-likelihood, evaluated on chosen "posterior" draws, equal the
  same reference; drawn responses are codes or count vectors that sum to each row's total.
* A categorical fit agrees with statsmodels' MNLogit maximum likelihood; a
  dirichlet-multinomial fit recovers the precision phi it was simulated with.
* Responses, formulas and priors that cannot work raise typed errors that say what to do.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import special, stats

import bayesformula as bf
from bayesformula.errors import (
    BayesformulaError,
    FamilyError,
    FormulaError,
    PredictionError,
    ResponseError,
)
from tests.graph.test_logp import _value_point

N = 18
RNG = np.random.default_rng(31)
X = RNG.normal(0.3, 1.1, N)
Z = RNG.normal(size=N)
A = np.array(["u", "v", "w", "w", "v", "w"] * 3)  # unequal shares: one prior sd per column
G = np.array(["g1", "g2", "g3"] * 3 + ["g2", "g3", "g1"] * 3)
GI = np.array([int(g[1]) - 1 for g in G])
# the response's categories in pandas order: "dog" is the reference, not the sorted "cat"
LEVELS = ["dog", "cat", "fish"]
CODES = np.array([0, 1, 2, 2, 1, 0, 1, 1, 2, 0, 0, 2, 1, 2, 0, 1, 2, 1])
COUNTS = RNG.integers(0, 6, size=(N, 3))
COUNTS[3] = 0  # a row with total 0 contributes nothing
DATA = pd.DataFrame(
    {
        "y": pd.Categorical.from_codes(CODES, categories=LEVELS),
        "y1": COUNTS[:, 0],
        "y2": COUNTS[:, 1],
        "y3": COUNTS[:, 2],
        "x": X,
        "z": Z,
        "a": A,
        "g": G,
    },
    index=[f"r{i}" for i in range(N)],
)
XD = np.column_stack([X, A == "v", A == "w"]).astype(float)  # x, then a's treatment columns
X_SIGMA = np.array([1.0, 2.0])  # a user prior with one sd per category


def softmax_ref(eta):
    """Probabilities (..., K) from log-ratios (..., K - 1) to the first category."""
    full = np.concatenate([np.zeros(eta.shape[:-1] + (1,)), eta], axis=-1)
    return special.softmax(full, axis=-1)


@functools.cache
def categorical_model() -> bf.Model:
    return bf.Model(
        "y ~ x + a + (x || g)",
        DATA,
        family="categorical",
        noncentered=True,
        priors={"x": bf.Prior("Normal", mu=0, sigma=X_SIGMA)},
    )


@functools.cache
def count_model(family: str, formula: str = "c(y1, y2, y3) ~ x + (1|g)") -> bf.Model:
    return bf.Model(formula, DATA, family=family, noncentered=True)


def _normal(prior, value, per_column=False):
    mu, sigma = np.asarray(prior.args["mu"], float), np.asarray(prior.args["sigma"], float)
    if per_column:  # one sd per column of a multi-column term, broadcast over categories
        mu, sigma = np.reshape(mu, (-1, 1)), np.reshape(sigma, (-1, 1))
    return stats.norm.logpdf(value, mu, sigma).sum()


def _group_prior_logp(model, name, sigma, offset):
    hyper = model.priors.group[name].args["sigma"]
    return (
        stats.halfnorm.logpdf(sigma, scale=hyper.args["sigma"]).sum()
        + stats.norm.logpdf(offset).sum()
    )


# ------------------------------------------------------------------------------ log-density
def test_categorical_joint_logp_matches_scipy():
    model = categorical_model()
    pm_model = model.build()
    assert {v.name for v in pm_model.free_RVs} == {
        "x",
        "a",
        "Intercept_centered",
        "1|g_sigma",
        "1|g_offset",
        "x|g_sigma",
        "x|g_offset",
    }
    assert pm_model.named_vars_to_dims["a"] == ("a_dim", "y_reduced_dim")
    assert pm_model.named_vars_to_dims["1|g"] == ("g__factor_dim", "y_reduced_dim")
    assert list(pm_model.coords["y_reduced_dim"]) == ["cat", "fish"]
    logp = pm_model.compile_logp(jacobian=False, mode="FAST_COMPILE")
    rng = np.random.default_rng(4)
    for _ in range(3):
        b = rng.normal(0, 0.7, (3, 2))  # rows: x, a[v], a[w]; columns: cat, fish
        ic = rng.normal(0, 1, 2)
        s1, sx = rng.uniform(0.3, 1.5, 2), rng.uniform(0.3, 1.5, 2)
        o1, ox = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
        values = {
            "x": b[0],
            "a": b[1:],
            "Intercept_centered": ic,
            "1|g_sigma": s1,
            "1|g_offset": o1,
            "x|g_sigma": sx,
            "x|g_offset": ox,
        }
        point = _value_point(pm_model, values)
        eta = ic + (XD - XD.mean(axis=0)) @ b + (o1 * s1)[GI] + (ox * sx)[GI] * X[:, None]
        expected = np.log(softmax_ref(eta)[np.arange(N), CODES]).sum()
        expected += stats.norm.logpdf(b[0], 0, X_SIGMA).sum()  # one sd per category
        expected += _normal(model.priors.common["a"], b[1:], per_column=True)
        expected += _normal(model.priors.common["Intercept"], ic)
        expected += _group_prior_logp(model, "1|g", s1, o1)
        expected += _group_prior_logp(model, "x|g", sx, ox)
        np.testing.assert_allclose(logp(point), expected, rtol=1e-10)


def test_multi_column_group_terms_have_one_effect_per_column_and_category():
    """(a || g) with a three-level a: a|g has (level, column, category) effects and one sd per
    column and category, its default prior sds differing by column."""
    model = bf.Model("y ~ (a || g)", DATA, family="categorical", noncentered=True)
    pm_model = model.build()
    assert pm_model.named_vars_to_dims["a|g"] == ("g__factor_dim", "a__expr_dim", "y_reduced_dim")
    assert pm_model.named_vars_to_dims["a|g_sigma"] == ("a__expr_dim", "y_reduced_dim")
    hyper = np.asarray(model.priors.group["a|g"].args["sigma"].args["sigma"])
    assert hyper.shape == (2,) and hyper[0] != hyper[1]
    logp = pm_model.compile_logp(jacobian=False, mode="FAST_COMPILE")
    rng = np.random.default_rng(14)
    ic, s1, o1 = rng.normal(size=2), rng.uniform(0.3, 1.5, 2), rng.normal(size=(3, 2))
    sa, oa = rng.uniform(0.3, 1.5, (2, 2)), rng.normal(size=(3, 2, 2))
    point = _value_point(
        pm_model,
        {"Intercept": ic, "1|g_sigma": s1, "1|g_offset": o1, "a|g_sigma": sa, "a|g_offset": oa},
    )
    ad = XD[:, 1:]  # a's columns v, w
    effects = (oa * sa)[GI]  # (n, column, category)
    eta = ic + (o1 * s1)[GI] + (ad[:, :, None] * effects).sum(axis=1)
    expected = np.log(softmax_ref(eta)[np.arange(N), CODES]).sum()
    expected += _normal(model.priors.common["Intercept"], ic)
    expected += _group_prior_logp(model, "1|g", s1, o1)
    expected += stats.halfnorm.logpdf(sa, scale=hyper[:, None]).sum()
    expected += stats.norm.logpdf(oa).sum()
    np.testing.assert_allclose(logp(point), expected, rtol=1e-10)


def _count_point(rng, pm_model, extra=None):
    b, ic = rng.normal(0, 0.7, 2), rng.normal(0, 1, 2)
    s1, o1 = rng.uniform(0.3, 1.5, 2), rng.normal(size=(3, 2))
    values = {"x": b, "Intercept_centered": ic, "1|g_sigma": s1, "1|g_offset": o1}
    values.update(extra or {})
    eta = ic + (X - X.mean())[:, None] * b + (o1 * s1)[GI]
    return _value_point(pm_model, values), values, softmax_ref(eta)


def _count_priors(model, values):
    return (
        _normal(model.priors.common["x"], values["x"])
        + _normal(model.priors.common["Intercept"], values["Intercept_centered"])
        + _group_prior_logp(model, "1|g", values["1|g_sigma"], values["1|g_offset"])
    )


def test_multinomial_joint_logp_matches_scipy():
    model = count_model("multinomial")
    pm_model = model.build()
    name = "c(y1, y2, y3)"
    assert model.response_name == name
    assert pm_model.named_vars_to_dims[name] == ("__obs__", f"{name}_dim")
    assert list(pm_model.coords[f"{name}_reduced_dim"]) == ["y2", "y3"]
    logp = pm_model.compile_logp(jacobian=False, mode="FAST_COMPILE")
    rng = np.random.default_rng(5)
    for _ in range(3):
        point, values, p = _count_point(rng, pm_model)
        totals = COUNTS.sum(axis=1)
        expected = stats.multinomial.logpmf(COUNTS, totals, p).sum()
        expected += _count_priors(model, values)
        np.testing.assert_allclose(logp(point), expected, rtol=1e-10)


def test_dirichlet_multinomial_joint_logp_matches_scipy():
    model = count_model("dirichlet_multinomial")
    pm_model = model.build()
    assert model.priors.aux["phi"] == bf.Prior("Exponential", lam=0.01)
    logp = pm_model.compile_logp(jacobian=False, mode="FAST_COMPILE")
    rng = np.random.default_rng(6)
    for phi in (0.7, 12.0, 300.0):
        point, values, p = _count_point(rng, pm_model, {"phi": phi})
        totals = COUNTS.sum(axis=1)
        expected = sum(
            stats.dirichlet_multinomial.logpmf(COUNTS[i], phi * p[i], totals[i]) for i in range(N)
        )
        expected += _count_priors(model, values) + stats.expon.logpdf(phi, scale=100.0)
        np.testing.assert_allclose(logp(point), expected, rtol=1e-10)


def test_dirichlet_multinomial_with_a_formula_for_phi_matches_scipy():
    model = bf.Model(
        bf.Formula("c(y1, y2, y3) ~ x", "phi ~ z"), DATA, family="dirichlet_multinomial"
    )
    pm_model = model.build()
    assert "phi" not in model.priors.aux
    logp = pm_model.compile_logp(jacobian=False, mode="FAST_COMPILE")
    b, ic, p0, p1 = np.array([0.4, -0.3]), np.array([0.2, -0.5]), 1.5, 0.8
    point = _value_point(
        pm_model, {"x": b, "Intercept_centered": ic, "phi_Intercept_centered": p0, "phi_z": p1}
    )
    p = softmax_ref(ic + (X - X.mean())[:, None] * b)
    phi = np.exp(p0 + p1 * (Z - Z.mean()))  # log link, intercept at z's mean
    totals = COUNTS.sum(axis=1)
    expected = sum(
        stats.dirichlet_multinomial.logpmf(COUNTS[i], phi[i] * p[i], totals[i]) for i in range(N)
    )
    expected += _normal(model.priors.common["x"], b)
    expected += _normal(model.priors.common["Intercept"], ic)
    expected += _normal(model.priors.common["phi_Intercept"], p0)
    expected += _normal(model.priors.common["phi_z"], p1)
    np.testing.assert_allclose(logp(point), expected, rtol=1e-10)


def test_two_categories_dirichlet_multinomial_is_the_beta_binomial():
    df = DATA.assign(n=DATA["y1"] + DATA["y2"])
    dm = bf.Model("c(y2, y1) ~ x", df, family="dirichlet_multinomial").build()
    bb = bf.Model("p(y1, n) ~ x", df, family="beta_binomial").build()
    # the same intercept and slope, log-ratios of y1 to y2 = logit of y1's share
    shared = {"x": 0.6, "Intercept_centered": -0.2}
    a = _value_point(dm, {"x": [0.6], "Intercept_centered": [-0.2], "phi": 3.0})
    b = _value_point(bb, {**shared, "kappa": 3.0})
    dm_lik = dm.compile_fn(dm.observedlogp)(a)
    bb_lik = bb.compile_fn(bb.observedlogp)(b)
    np.testing.assert_allclose(dm_lik, bb_lik, rtol=1e-10)


# ------------------------------------------------------------------------------ predictions
def _categorical_posterior(rng, chains=2, draws=3) -> xr.DataTree:
    shape = (chains, draws)
    coords = {
        "chain": np.arange(chains),
        "draw": np.arange(draws),
        "y_reduced_dim": ["cat", "fish"],
        "a_dim": ["v", "w"],
        "g__factor_dim": ["g1", "g2", "g3"],
    }
    cd = ("chain", "draw")
    return xr.DataTree.from_dict(
        {
            "posterior": xr.Dataset(
                {
                    "Intercept": (cd + ("y_reduced_dim",), rng.normal(0, 1, (*shape, 2))),
                    "x": (cd + ("y_reduced_dim",), rng.normal(0, 1, (*shape, 2))),
                    "a": (cd + ("a_dim", "y_reduced_dim"), rng.normal(0, 1, (*shape, 2, 2))),
                    "1|g": (
                        cd + ("g__factor_dim", "y_reduced_dim"),
                        rng.normal(0, 0.5, (*shape, 3, 2)),
                    ),
                    "x|g": (
                        cd + ("g__factor_dim", "y_reduced_dim"),
                        rng.normal(0, 0.5, (*shape, 3, 2)),
                    ),
                },
                coords=coords,
            )
        }
    )


def _categorical_reference(idata, data) -> np.ndarray:
    post = idata.posterior
    S = post.sizes["chain"] * post.sizes["draw"]
    intercept = post["Intercept"].values.reshape(S, 1, 2)
    bx = post["x"].values.reshape(S, 1, 2)
    ba = post["a"].values.reshape(S, 2, 2)
    u1 = post["1|g"].values.reshape(S, 3, 2)
    ux = post["x|g"].values.reshape(S, 3, 2)
    x = data["x"].to_numpy()
    ad = np.column_stack([data["a"] == "v", data["a"] == "w"]).astype(float)
    gi = np.array([int(g[1]) - 1 for g in data["g"]])
    eta = intercept + x[None, :, None] * bx + ad @ ba + u1[:, gi] + ux[:, gi] * x[None, :, None]
    return softmax_ref(eta)  # (S, n, K)


def test_categorical_predictions_and_pointwise_loglik_match_reference():
    model = categorical_model()
    idata = _categorical_posterior(np.random.default_rng(7))
    expected = _categorical_reference(idata, DATA)
    out = model.predict(idata, kind="response_params", inplace=False)
    p = out.posterior["p"]
    assert p.dims == ("chain", "draw", "__obs__", "y_dim")
    assert list(p["y_dim"].values) == LEVELS
    assert list(p["__obs__"].values) == list(DATA.index)
    np.testing.assert_allclose(p.values.reshape(expected.shape), expected, rtol=1e-9)
    loglik = model.compute_log_likelihood(idata, inplace=False).log_likelihood["y"]
    assert loglik.dims == ("chain", "draw", "__obs__")
    np.testing.assert_allclose(
        loglik.values.reshape(len(expected), -1),
        np.log(expected[:, np.arange(N), CODES]),
        rtol=1e-9,
    )
    # new data: the index is kept and one probability column per level
    new = pd.DataFrame(
        {"x": [-1.0, 0.5], "a": ["w", "u"], "g": ["g3", "g1"]}, index=["first", "second"]
    )
    table = model.predictions(idata, data=new)
    assert list(table.index) == ["first", "second"]
    means = table[[f"mean[{level}]" for level in LEVELS]].to_numpy()
    np.testing.assert_allclose(means, _categorical_reference(idata, new).mean(axis=0), rtol=1e-9)


def test_categorical_response_draws_are_codes_with_the_predicted_shares():
    model = categorical_model()
    idata = _categorical_posterior(np.random.default_rng(8), draws=400)
    out = model.predict(idata, kind="response", inplace=False, random_seed=3)
    y = out.posterior_predictive["y"]
    assert y.shape == (2, 400, N)
    assert set(np.unique(y.values)) <= {0, 1, 2}
    expected = _categorical_reference(idata, DATA).mean(axis=0)  # (n, K)
    shares = np.stack([(y.values == k).mean(axis=(0, 1)) for k in range(3)], axis=1)
    # 800 draws per row: a share has sd <= 0.018, so 5 sds bound the difference
    assert np.abs(shares - expected).max() < 0.09


def _count_posterior(rng, chains=2, draws=3, phi=None) -> xr.DataTree:
    shape = (chains, draws)
    cd = ("chain", "draw")
    red = "c(y1, y2, y3)_reduced_dim"
    variables = {
        "Intercept": (cd + (red,), rng.normal(0, 1, (*shape, 2))),
        "x": (cd + (red,), rng.normal(0, 1, (*shape, 2))),
        "1|g": (cd + ("g__factor_dim", red), rng.normal(0, 0.5, (*shape, 3, 2))),
    }
    if phi is not None:
        variables["phi"] = (cd, np.full(shape, phi))
    coords = {"chain": np.arange(chains), "draw": np.arange(draws), red: ["y2", "y3"]}
    coords["g__factor_dim"] = ["g1", "g2", "g3"]
    return xr.DataTree.from_dict({"posterior": xr.Dataset(variables, coords=coords)})


def _count_reference(idata, data) -> np.ndarray:
    post = idata.posterior
    S = post.sizes["chain"] * post.sizes["draw"]
    intercept = post["Intercept"].values.reshape(S, 1, 2)
    bx = post["x"].values.reshape(S, 1, 2)
    u1 = post["1|g"].values.reshape(S, 3, 2)
    gi = np.array([int(g[1]) - 1 for g in data["g"]])
    return softmax_ref(intercept + data["x"].to_numpy()[None, :, None] * bx + u1[:, gi])


@pytest.mark.parametrize("family", ["multinomial", "dirichlet_multinomial"])
def test_count_predictions_loglik_and_draws(family):
    model = count_model(family)
    phi = 4.0 if family == "dirichlet_multinomial" else None
    idata = _count_posterior(np.random.default_rng(9), draws=200, phi=phi)
    expected = _count_reference(idata, DATA)  # (S, n, K)
    name = "c(y1, y2, y3)"
    out = model.predict(idata, kind="response", inplace=False, random_seed=4)
    np.testing.assert_allclose(
        out.posterior["p"].values.reshape(expected.shape), expected, rtol=1e-9
    )
    y = out.posterior_predictive[name]
    assert y.dims == ("chain", "draw", "__obs__", f"{name}_dim")
    assert list(y[f"{name}_dim"].values) == ["y1", "y2", "y3"]
    totals = COUNTS.sum(axis=1)
    np.testing.assert_array_equal(y.values.sum(axis=-1), np.broadcast_to(totals, y.shape[:3]))
    # the drawn counts' mean over 400 draws is total * p (sd of a mean below 0.25 here)
    mean = y.values.reshape(-1, N, 3).mean(axis=0)
    assert np.abs(mean - totals[:, None] * expected.mean(axis=0)).max() < 1.3

    loglik = model.compute_log_likelihood(idata, inplace=False).log_likelihood[name]
    assert loglik.dims == ("chain", "draw", "__obs__")
    S = expected.shape[0]
    if phi is None:
        ref = stats.multinomial.logpmf(COUNTS[None], totals[None], expected)
    else:
        ref = np.array(
            [
                [
                    stats.dirichlet_multinomial.logpmf(COUNTS[i], phi * expected[s, i], totals[i])
                    for i in range(N)
                ]
                for s in range(S)
            ]
        )
    np.testing.assert_allclose(loglik.values.reshape(S, N), ref, rtol=1e-9)


def test_count_predictions_on_new_data_need_the_count_columns_only_for_responses():
    model = count_model("multinomial")
    idata = _count_posterior(np.random.default_rng(10), draws=50)
    new = pd.DataFrame({"x": [0.0, 1.0], "g": ["g1", "g2"]}, index=["a", "b"])
    table = model.predictions(idata, data=new)
    np.testing.assert_allclose(
        table[["mean[y1]", "mean[y2]", "mean[y3]"]].sum(axis=1), 1.0, rtol=1e-12
    )
    with pytest.raises(PredictionError, match="lacks.*'y1'.*response_params"):
        model.predictions(idata, data=new, kind="response")
    with_counts = new.assign(y1=[10, 0], y2=[0, 5], y3=[0, 0])
    table = model.predictions(idata, data=with_counts, kind="response", random_seed=1)
    totals = table[["response_mean[y1]", "response_mean[y2]", "response_mean[y3]"]].sum(axis=1)
    np.testing.assert_allclose(totals, [10, 5])
    assert (table["pi_97%[y1]"] <= 10).all()


# ------------------------------------------------------------------------------ fits
@pytest.fixture(scope="module")
def mnlogit_data():
    rng = np.random.default_rng(2027)
    n = 600
    x = rng.normal(1.0, 1.0, n)  # mean 1: the intercepts are recovered uncentred
    a = rng.choice(["u", "v"], n)
    eta = np.column_stack([0.4 + 0.9 * x - 0.6 * (a == "v"), -0.5 - 0.7 * x + 0.8 * (a == "v")])
    p = softmax_ref(eta)
    codes = (rng.random(n)[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
    levels = ["none", "some", "many"]
    return pd.DataFrame({"y": pd.Categorical.from_codes(codes, levels), "x": x, "a": a})


def test_categorical_fit_agrees_with_statsmodels_mnlogit(mnlogit_data):
    import statsmodels.api as sm

    df = mnlogit_data
    model = bf.Model("y ~ x + a", df, family="categorical")
    idata = model.fit(draws=600, tune=600, chains=2, random_seed=3, progressbar=False)
    exog = sm.add_constant(np.column_stack([df["x"], (df["a"] == "v").astype(float)]), prepend=True)
    mle = sm.MNLogit(df["y"].cat.codes.to_numpy(), exog).fit(disp=False)
    params, se = np.asarray(mle.params), np.asarray(mle.bse)  # (3 columns, 2 categories)
    post = idata.posterior
    ours = np.stack(
        [
            post["Intercept"].mean(("chain", "draw")).values,
            post["x"].mean(("chain", "draw")).values,
            post["a"].mean(("chain", "draw")).values.reshape(-1),
        ]
    )
    sds = np.stack(
        [
            post["Intercept"].std(("chain", "draw")).values,
            post["x"].std(("chain", "draw")).values,
            post["a"].std(("chain", "draw")).values.reshape(-1),
        ]
    )
    # with 600 rows and weakly informative priors the posterior mean is within a small
    # fraction of an SE of the MLE; 1200 draws add a Monte Carlo error of about 0.04 sd
    np.testing.assert_array_less(np.abs(ours - params), 0.25 * se)
    np.testing.assert_allclose(sds, se, rtol=0.15)


def test_dirichlet_multinomial_fit_recovers_phi():
    rng = np.random.default_rng(2028)
    n, phi = 250, 6.0
    x = rng.normal(size=n)
    p = softmax_ref(np.column_stack([0.3 + 0.7 * x, -0.4 - 0.5 * x]))
    totals = rng.integers(10, 40, n)
    counts = np.array(
        [rng.multinomial(t, rng.dirichlet(phi * row)) for t, row in zip(totals, p, strict=True)]
    )
    df = pd.DataFrame(counts, columns=["k1", "k2", "k3"]).assign(x=x)
    model = bf.Model("c(k1, k2, k3) ~ x", df, family="dirichlet_multinomial")
    idata = model.fit(draws=500, tune=500, chains=2, random_seed=4, progressbar=False)
    post = idata.posterior
    estimates = {
        "phi": (post["phi"], phi),
        "x[k2]": (post["x"].sel({"c(k1, k2, k3)_reduced_dim": "k2"}), 0.7),
        "x[k3]": (post["x"].sel({"c(k1, k2, k3)_reduced_dim": "k3"}), -0.5),
    }
    for name, (draws, truth) in estimates.items():
        mean, sd = float(draws.mean()), float(draws.std())
        assert abs(mean - truth) < 4 * sd, (name, mean, sd, truth)
    # the multinomial ignores the overdispersion: LOO prefers the dirichlet-multinomial
    multinomial = bf.Model("c(k1, k2, k3) ~ x", df, family="multinomial")
    m_idata = multinomial.fit(draws=300, tune=300, chains=2, random_seed=5, progressbar=False)
    table = bf.compare({"dm": (model, idata), "multinomial": (multinomial, m_idata)})
    assert table.index[0] == "dm"


# ------------------------------------------------------------------------------ errors
def test_unsupported_terms_and_helpers_raise_clear_errors():
    with pytest.raises(FormulaError, match=r"correlated effects \(1\+x\|g\).*'\|\|'"):
        bf.Model("y ~ x + (1 + x | g)", DATA, family="categorical")
    with pytest.raises(FormulaError, match="offset"):
        bf.Model("y ~ x + offset(z)", DATA, family="categorical")
    with pytest.raises(FormulaError, match=r"mo\(\)"):
        bf.Model("c(y1, y2, y3) ~ mo(k)", DATA.assign(k=CODES), family="multinomial")
    with pytest.raises(FamilyError, match="not available for the categorical family"):
        bf.Model("weighted(y, z) ~ x", DATA.assign(z=1.0), family="categorical")
    with pytest.raises(FamilyError, match="does not support link 'logit'"):
        bf.Model("y ~ x", DATA, family="categorical", link="logit")
    with pytest.raises(FormulaError, match=r"c\(\.\.\.\).*left of '~'"):
        bf.Model("y ~ c(x, z)", DATA, family="categorical")


def test_priors_of_the_wrong_shape_for_per_category_coefficients():
    from bayesformula.errors import PriorError

    wrong = bf.Prior("Normal", mu=0, sigma=[1.0, 2.0, 3.0])
    with pytest.raises(PriorError, match=r"'x'.*span 2 categories \(cat, fish\).*2 values"):
        bf.Model("y ~ x", DATA, family="categorical", priors={"x": wrong})
    with pytest.raises(PriorError, match=r"'a'.*2 columns x 2 categories.*\(2, 2\) array"):
        bf.Model("y ~ a", DATA, family="categorical", priors={"a": wrong})
    table = bf.Prior("Normal", mu=0, sigma=[[1.0, 2.0], [3.0, 4.0]])  # (columns, categories)
    model = bf.Model("y ~ a", DATA, family="categorical", priors={"a": table})
    import pymc as pm

    value = np.array([[0.5, -0.2], [0.1, 0.3]])
    logp = pm.logp(model.build()["a"], value).eval().sum()
    expected = stats.norm.logpdf(value, 0, [[1.0, 2.0], [3.0, 4.0]]).sum()
    np.testing.assert_allclose(logp, expected, rtol=1e-12)


def test_bad_responses_say_what_to_do():
    with pytest.raises(ResponseError, match=r"c\(y1, y2, \.\.\., yK\)"):
        bf.Model("y1 ~ x", DATA, family="multinomial")
    bad = DATA.assign(y2=DATA["y2"].astype(float))
    bad.loc["r4", "y2"] = -1.0
    with pytest.raises(ResponseError, match=r"row 'r4' column 'y2': -1\.0"):
        bf.Model("c(y1, y2, y3) ~ x", bad, family="dirichlet_multinomial")
    with pytest.raises(ResponseError, match="family='multinomial'"):
        bf.Model("c(y1, y2) ~ x", DATA, family="poisson")
    with pytest.raises(ResponseError, match="at least two response categories"):
        bf.Model("y ~ x", DATA.assign(y="same"), family="categorical")
    with pytest.raises(ResponseError, match="family='categorical'"):
        bf.Model("y ~ x", DATA, family="gaussian")


def test_reference_level_printout_r2_and_fast_path():
    model = categorical_model()
    text = " ".join(str(model).split())  # long lines wrap to fit a terminal
    assert "Link: p = softmax" in text
    assert "coefficients compare each with the reference 'dog'" in text
    assert model.density() is not None and "exact numpy" in model.fast_path_note
    # numbers as categories: sorted, the smallest is the reference
    numeric = bf.Model("k ~ x", DATA.assign(k=CODES * 10), family="categorical")
    assert numeric.response_data.levels == ("0", "10", "20")
    idata = _categorical_posterior(np.random.default_rng(1))
    with pytest.raises(BayesformulaError, match="bf.loo or bf.compare"):
        bf.r2(model, idata)


@pytest.mark.parametrize("family", ["categorical", "multinomial"])
def test_save_and_load_round_trip(family, tmp_path):
    if family == "categorical":
        model, idata = categorical_model(), _categorical_posterior(np.random.default_rng(12))
    else:
        model, idata = count_model(family), _count_posterior(np.random.default_rng(12))
    loaded, draws = bf.load(bf.save(model, idata, tmp_path / "fit.nc"))
    assert loaded.family.name == family
    assert loaded.response_data.levels == model.response_data.levels
    before = model.predict(idata, inplace=False).posterior["p"]
    after = loaded.predict(draws, inplace=False).posterior["p"]
    np.testing.assert_allclose(after.values, before.values, rtol=1e-12)


def test_lgamma_difference_is_accurate_for_any_concentration():
    """gammaln(x + y) - gammaln(x) against the exact sum of log(x + j), j < y, from below the
    Stirling cut-off to x = 1e15 (where the direct difference of gammaln has no digit left)."""
    import math

    import pytensor.tensor as pt

    from bayesformula.families.categorical import STIRLING_FROM, lgamma_diff

    xs = [0.1, 5.0, STIRLING_FROM - 0.1, STIRLING_FROM, STIRLING_FROM + 0.1, 1e3, 1e8, 1e15]
    ys = [0.0, 1.0, 3.0, 17.0, 250.0]
    x, y = (pt.dvector(name) for name in "xy")
    f = (lgamma_diff(x, y)).eval
    grid = np.array([(a, b) for a in xs for b in ys])
    got = f({x: grid[:, 0], y: grid[:, 1]})
    exact = [math.fsum(math.log(a + j) for j in range(int(b))) for a, b in grid]
    np.testing.assert_allclose(got, exact, rtol=1e-12, atol=1e-12)


def test_dirichlet_multinomial_tends_to_the_multinomial_for_large_phi():
    """The variance factor (total + phi) / (1 + phi) goes to 1: at phi = 1e12 the log-density
    equals the multinomial's to O(total^2 / phi); the direct gamma-function differences
    would be off by thousands there."""
    import pytensor.tensor as pt

    from bayesformula.families.categorical import dirichlet_multinomial_logp

    p = softmax_ref(np.random.default_rng(13).normal(size=(N, 2)))
    totals = COUNTS.sum(axis=1)
    got = dirichlet_multinomial_logp(
        pt.as_tensor(COUNTS), pt.as_tensor(totals), pt.as_tensor(1e12 * p)
    ).eval()
    np.testing.assert_allclose(got, stats.multinomial.logpmf(COUNTS, totals, p), atol=1e-8)


def test_beta_binomial_tends_to_the_binomial_for_large_kappa():
    """The beta-binomial's log-density is the same accurate form: at kappa = 1e12 it equals the
    binomial's, in the model as built and in the pointwise log-likelihood."""
    df = DATA.assign(n=DATA["y1"] + DATA["y2"] + 3)
    model = bf.Model("p(y1, n) ~ x", df, family="beta_binomial")
    pm_model = model.build()
    point = _value_point(pm_model, {"x": 0.4, "Intercept_centered": -0.3, "kappa": 1e12})
    mu = special.expit(-0.3 + 0.4 * (X - X.mean()))
    expected = stats.binom.logpmf(df["y1"], df["n"], mu).sum()
    np.testing.assert_allclose(
        pm_model.compile_fn(pm_model.observedlogp)(point), expected, rtol=0, atol=1e-7
    )
