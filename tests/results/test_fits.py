"""Posteriors agree with independent references: statsmodels MLE, lme4, known truth.

Tolerances: with wide priors the posterior mean of a regression coefficient differs from the
MLE by O(1/n) of its standard error, and our estimate of the posterior mean carries Monte Carlo
error ``mcse``. We therefore allow ``4 * mcse + c * se`` with a small ``c`` stated per test.
"""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

import bayesformula as bf

from ..conftest import FIT

WIDE = {
    "common": bf.Prior("Normal", mu=0, sigma=1000),
    "Intercept": bf.Prior("Normal", mu=0, sigma=1000),
}


def _close(idata, var, reference, se, c, coord=None):
    post = idata.posterior[var]
    if coord is not None:
        post = post.sel(coord)
    summary = az.summary(post.to_dataset(name="v"), kind="all")
    mean, mcse = float(summary["mean"].iloc[0]), float(summary["mcse_mean"].iloc[0])
    tol = 4 * mcse + c * se
    assert abs(mean - reference) < tol, f"{var}{coord or ''}: {mean} vs {reference} (tol {tol})"
    return float(summary["sd"].iloc[0])


def test_sleepstudy_fixed_effects_near_lme4(sleep_fit):
    """lme4 (REML): (Intercept) 251.405, Days 10.467 (SEs 6.825, 1.546)."""
    _, idata = sleep_fit
    # Bayesian and REML point estimates differ slightly through the priors on the variance
    # components; 0.3 standard errors bounds that with room to spare.
    _close(idata, "Intercept", 251.405, 6.825, 0.3)
    _close(idata, "Days", 10.467, 1.546, 0.3)
    assert float(az.rhat(idata)["Intercept"]) < 1.02
    # residual SD: lme4 25.59
    assert abs(float(idata.posterior["sigma"].mean()) - 25.59) < 1.5


def test_sleepstudy_variance_components_near_lme4(sleep_fit):
    """lme4 (REML) for (Days|Subject): SDs 24.741 and 5.922, correlation 0.066.

    With 18 subjects the posteriors of the SDs are wide and right-skewed, so the posterior
    median (not the mean) is compared with the REML estimate, within 0.5 posterior sds; the
    correlation's posterior sd is about 0.3, and lme4's value must lie inside its central 90 %.
    """
    _, idata = sleep_fit
    post = idata.posterior
    for name, reml in (("1|Subject_sigma", 24.741), ("Days|Subject_sigma", 5.922)):
        values = post[name].values.ravel()
        assert abs(np.median(values) - reml) < 0.5 * values.std(), name
    r = post["1+Days|Subject_corr"].values.ravel()
    lo, hi = np.quantile(r, [0.05, 0.95])
    assert lo < 0.066 < hi
    assert 0.1 < r.std() < 0.5


def test_gaussian_matches_statsmodels_ols():
    rng = np.random.default_rng(10)
    n = 200
    df = pd.DataFrame(
        {"x": rng.normal(size=n), "z": rng.uniform(0, 5, n), "a": rng.choice(list("pqr"), n)}
    )
    df["y"] = (
        1.0
        + 2.0 * df.x
        - 0.5 * df.z
        + df.a.map({"p": 0, "q": 1.5, "r": -1})
        + rng.normal(0, 1.2, n)
    )
    ols = smf.ols("y ~ x + z + a", df).fit()
    model = bf.Model("y ~ x + z + a", df, priors=WIDE)
    idata = model.fit(random_seed=1, **FIT)
    # With flat-equivalent priors the posterior of the coefficients is a t centred at OLS:
    # only Monte Carlo error remains (c = 0.05 covers the wide-prior shrinkage).
    _close(idata, "Intercept", ols.params["Intercept"], ols.bse["Intercept"], 0.05)
    sd = _close(idata, "x", ols.params["x"], ols.bse["x"], 0.05)
    assert abs(sd / ols.bse["x"] - 1) < 0.15
    _close(idata, "z", ols.params["z"], ols.bse["z"], 0.05)
    _close(idata, "a", ols.params["a[T.q]"], ols.bse["a[T.q]"], 0.05, {"a_dim": "q"})
    _close(idata, "a", ols.params["a[T.r]"], ols.bse["a[T.r]"], 0.05, {"a_dim": "r"})
    assert abs(float(idata.posterior["sigma"].mean()) - np.sqrt(ols.scale)) < 0.1


def test_binomial_logistic_matches_statsmodels_mle():
    rng = np.random.default_rng(20)
    n = 400
    df = pd.DataFrame({"x": rng.normal(size=n), "w": rng.normal(size=n)})
    trials = rng.integers(5, 15, n)
    p = 1 / (1 + np.exp(-(-0.3 + 0.8 * df.x - 0.4 * df.w)))
    df["k"], df["trials"] = rng.binomial(trials, p), trials
    glm = smf.glm("k + I(trials - k) ~ x + w", df, family=sm.families.Binomial()).fit()
    model = bf.Model("p(k, trials) ~ x + w", df, family="binomial", priors=WIDE)
    idata = model.fit(random_seed=2, **FIT)
    # Posterior mean vs MLE in a logistic model differs by O(1/n) of the SE: c = 0.1.
    _close(idata, "Intercept", glm.params["Intercept"], glm.bse["Intercept"], 0.1)
    _close(idata, "x", glm.params["x"], glm.bse["x"], 0.1)
    _close(idata, "w", glm.params["w"], glm.bse["w"], 0.1)


def test_probit_bernoulli_matches_statsmodels_mle():
    """The probit link on the fast path: posterior means at statsmodels' Probit MLE."""
    from scipy.special import ndtr

    rng = np.random.default_rng(21)
    n = 800
    df = pd.DataFrame({"x": rng.normal(size=n), "w": rng.normal(size=n)})
    df["y"] = rng.binomial(1, ndtr(0.2 + 0.6 * df.x - 0.3 * df.w))
    mle = smf.probit("y ~ x + w", df).fit(disp=0)
    model = bf.Model("y ~ x + w", df, family="bernoulli", link="probit", priors=WIDE)
    assert model.density() is not None
    idata = model.fit(random_seed=3, **FIT)
    assert idata["posterior"].attrs["inference_method"] == "nutpie"
    for name in ("Intercept", "x", "w"):  # mean vs MLE: O(1/n) of the SE, as above
        _close(idata, name, mle.params[name], mle.bse[name], 0.1)


def test_categorical_matches_statsmodels_mnlogit():
    """Multinomial logistic regression on the fast path: posterior means at statsmodels'
    MNLogit MLE (the same reference category, the first)."""
    rng = np.random.default_rng(22)
    n = 900
    df = pd.DataFrame({"x": rng.normal(size=n), "w": rng.normal(size=n)})
    eta = np.column_stack([np.zeros(n), 0.3 + 0.9 * df.x, -0.4 - 0.6 * df.x + 0.5 * df.w])
    prob = np.exp(eta) / np.exp(eta).sum(axis=1, keepdims=True)
    df["y"] = np.array(["a", "b", "c"])[[rng.choice(3, p=q) for q in prob]]
    mle = sm.MNLogit(pd.Categorical(df["y"]).codes, sm.add_constant(df[["x", "w"]])).fit(disp=0)
    model = bf.Model("y ~ x + w", df, family="categorical", priors=WIDE)
    assert model.density() is not None
    idata = model.fit(random_seed=5, **FIT)
    assert idata["posterior"].attrs["inference_method"] == "nutpie"
    for j, level in enumerate(("b", "c")):
        for name, row in (("Intercept", "const"), ("x", "x"), ("w", "w")):
            coord = {idata.posterior[name].dims[-1]: level}
            _close(idata, name, mle.params.loc[row, j], mle.bse.loc[row, j], 0.1, coord)


@pytest.mark.parametrize("family", ["poisson", "bernoulli"])
def test_known_truth_is_recovered(family):
    rng = np.random.default_rng(30)
    n = 600
    df = pd.DataFrame({"x": rng.normal(size=n), "g": rng.choice([f"s{i}" for i in range(6)], n)})
    u = dict(zip([f"s{i}" for i in range(6)], rng.normal(0, 0.5, 6), strict=True))
    eta = 0.5 + 0.7 * df.x + df.g.map(u)
    df["y"] = (
        rng.poisson(np.exp(eta)) if family == "poisson" else rng.binomial(1, 1 / (1 + np.exp(-eta)))
    )
    model = bf.Model("y ~ x + (1|g)", df, family=family)
    idata = model.fit(random_seed=4, **FIT)
    post = idata.posterior
    # the truth lies within 3.5 posterior SDs (a 1-in-2000 miss per parameter)
    for name, truth in (("x", 0.7),):
        assert abs(float(post[name].mean()) - truth) < 3.5 * float(post[name].std())
    effects = post["1|g"].mean(("chain", "draw"))
    truth = np.array([u[level] for level in effects["g__factor_dim"].values])
    centered = effects.values - effects.values.mean()
    assert np.corrcoef(centered, truth - truth.mean())[0, 1] > 0.8
    assert set(idata.children) >= {"posterior", "sample_stats", "observed_data"}


def test_same_seed_gives_same_draws(bioassay):
    a = bf.Model("p(deaths, n) ~ dose", bioassay, family="binomial").fit(
        random_seed=9, **{**FIT, "draws": 100, "tune": 100}
    )
    b = bf.Model("p(deaths, n) ~ dose", bioassay, family="binomial").fit(
        random_seed=9, **{**FIT, "draws": 100, "tune": 100}
    )
    np.testing.assert_array_equal(a.posterior["dose"].values, b.posterior["dose"].values)


def test_fit_layout_names_and_dims(group_fit, group_data):
    model, idata = group_fit
    post = idata.posterior
    assert {"Intercept", "Intercept_centered", "x", "a", "1|g", "1|g_sigma", "sigma"} <= set(
        post.data_vars
    )
    assert "1|g_offset" not in post  # omitted by default
    assert post["1|g"].dims == ("chain", "draw", "g__factor_dim")
    assert list(post["g__factor_dim"].values) == [f"g{i}" for i in range(8)]
    assert post["a"].dims == ("chain", "draw", "a_dim")
    assert sorted(post["a_dim"].values) == ["lo", "mid"]  # "hi" is the reference level
    obs = idata.observed_data["y"]
    assert obs.dims == ("__obs__",) and list(obs["__obs__"].values) == list(group_data.index)
    assert "constant_data" not in idata.children
    stats = idata.sample_stats
    assert {"diverging", "tree_depth", "step_size", "energy", "lp"} <= set(stats.data_vars)
    # Intercept is the uncentred intercept: Intercept_centered - xbar . b
    xbar = model.design.X.mean(axis=0)
    b = np.concatenate([post["x"].values[..., None], post["a"].values], axis=-1)
    np.testing.assert_allclose(post["Intercept"], post["Intercept_centered"] - b @ xbar, rtol=1e-10)
