"""Ordinal families: cumulative, sratio, cratio and acat with the logit, probit and cloglog links.

* The built model's joint log-density (priors and likelihood, no Jacobian) equals category
  probabilities written out from brms's definitions with scipy's logistic, normal and
  Gumbel (minimum) CDFs, at random points, for every family and link.
* Predictions and the pointwise log-likelihood, evaluated on chosen "posterior" draws, equal
  the same reference; a simulated cumulative model recovers its slope and thresholds.
* Responses, priors and formulas that cannot work raise typed errors that say what to do.

Models are cached per family and link, so each compiles once.
"""

from __future__ import annotations

import functools
import zlib

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats

import bayesformula as bf
from bayesformula.errors import (
    BayesformulaError,
    DataError,
    FamilyError,
    PredictionError,
    PriorError,
    ResponseError,
)
from bayesformula.families.ordinal import empirical_thresholds
from bayesformula.graph.thresholds import ordered_prior_sample, ordered_start
from tests.graph.test_logp import _prior_logp, _value_point

FAMILIES = ("cumulative", "sratio", "cratio", "acat")
LINKS = ("logit", "probit", "cloglog")
CDF = {"logit": stats.logistic, "probit": stats.norm, "cloglog": stats.gumbel_l}

N = 16
RNG = np.random.default_rng(11)
X = RNG.normal(0.4, 1.2, N)
A = np.array(["u", "v", "w", "w"] * 4)
LEVELS = ["never", "rarely", "often", "always"]
CODES = np.array([0, 1, 2, 3, 1, 2, 0, 3, 2, 2, 1, 0, 3, 1, 2, 0])
DATA = pd.DataFrame(
    {
        "y": pd.Categorical.from_codes(CODES, categories=LEVELS, ordered=True),
        "x": X,
        "a": A,
    },
    index=[f"r{i}" for i in range(N)],
)
# treatment coding of a (reference "u"), as the model's design has it
XD = np.column_stack([X, A == "v", A == "w"]).astype(float)


def reference_probabilities(family: str, link: str, eta, theta) -> np.ndarray:
    """P(y = k) for each observation (rows of ``eta``) from brms's definitions, with
    ``F`` the link's CDF and ``S = 1 - F`` its survival function (from scipy, exact in the
    upper tail)."""
    F, S = CDF[link].cdf, CDF[link].sf
    eta = np.asarray(eta, dtype=float)[..., None]
    ones = np.ones(np.broadcast_shapes(eta.shape, np.shape(theta))[:-1] + (1,))
    if family == "cumulative":  # P(y <= k) = F(theta_k - eta)
        z = theta - eta
        lower, upper = z[..., :-1], z[..., 1:]
        # F(upper) - F(lower), or equally S(lower) - S(upper) where both F are near 1
        middle = np.where(F(lower) < 0.5, F(upper) - F(lower), S(lower) - S(upper))
        return np.concatenate([F(z[..., :1]), middle, S(z[..., -1:])], axis=-1)
    if family == "sratio":  # P(y = k | y >= k) = F(theta_k - eta)
        z = theta - eta
        reach = np.concatenate([ones, np.cumprod(S(z), axis=-1)], axis=-1)
        return reach * np.concatenate([F(z), ones], axis=-1)
    if family == "cratio":  # P(y > k | y >= k) = F(eta - theta_k)
        z = eta - theta
        reach = np.concatenate([ones, np.cumprod(F(z), axis=-1)], axis=-1)
        return reach * np.concatenate([S(z), ones], axis=-1)
    if family == "acat":  # P(y = k+1 | y in {k, k+1}) = F(eta - theta_k)
        z = eta - theta
        q, not_q = F(z), S(z)
        K = z.shape[-1] + 1
        unnorm = np.stack(
            [np.prod(q[..., :k], axis=-1) * np.prod(not_q[..., k:], axis=-1) for k in range(K)],
            axis=-1,
        )
        return unnorm / unnorm.sum(axis=-1, keepdims=True)
    raise ValueError(family)


@functools.cache
def ordinal_model(family: str, link: str) -> bf.Model:
    return bf.Model("y ~ x + a", DATA, family=family, link=link)


def _point(family, link, rng):
    """Random slopes and centred thresholds (increasing for the cumulative family)."""
    b = rng.normal(0, 0.6, 3)
    theta_c = rng.normal(0, 1.2, 3)
    if family == "cumulative":
        theta_c = np.sort(theta_c)
    return b, theta_c


# ------------------------------------------------------------------------------ log-density
@pytest.mark.parametrize("link", LINKS)
@pytest.mark.parametrize("family", FAMILIES)
def test_joint_logp_matches_reference(family, link):
    model = ordinal_model(family, link)
    pm_model = model.build()
    assert {v.name for v in pm_model.free_RVs} == {"x", "a", "threshold_centered"}
    logp = pm_model.compile_logp(jacobian=False, mode="FAST_COMPILE")
    rng = np.random.default_rng(zlib.crc32(f"{family}-{link}".encode()))
    for _ in range(3):
        b, theta_c = _point(family, link, rng)
        point = _value_point(pm_model, {"x": b[0], "a": b[1:], "threshold_centered": theta_c})
        # thresholds at the predictors' means: theta - eta = theta_c - (X - mean X) b
        eta_c = (XD - XD.mean(axis=0)) @ b
        p = reference_probabilities(family, link, eta_c, theta_c)
        expected = np.log(p[np.arange(N), CODES]).sum()
        expected += _prior_logp(model.priors.common["x"], b[0])
        expected += _prior_logp(model.priors.common["a"], b[1:])
        expected += _prior_logp(model.priors.aux["threshold"], theta_c)
        assert np.isfinite(expected)
        # a wrong parameterisation is off by O(1); float32 constants (as in PyMC's own
        # normal_lcdf) would be off by 1e-7
        np.testing.assert_allclose(logp(point), expected, rtol=1e-10)


def test_sratio_and_cratio_differ_only_for_asymmetric_links():
    """With a symmetric F, 1 - F(eta - t) = F(t - eta): the two models coincide; with cloglog
    they do not (so the tests above tell them apart)."""
    eta, theta = np.array([-0.3, 0.8]), np.array([-0.5, 0.2, 1.1])
    for link in ("logit", "probit"):
        np.testing.assert_allclose(
            reference_probabilities("sratio", link, eta, theta),
            reference_probabilities("cratio", link, eta, theta),
        )
    s = reference_probabilities("sratio", "cloglog", eta, theta)
    c = reference_probabilities("cratio", "cloglog", eta, theta)
    assert np.abs(s - c).max() > 0.05


def test_acat_logit_is_the_adjacent_log_odds():
    eta, theta = np.array([-0.3, 0.8]), np.array([-0.5, 0.2, 1.1])
    p = reference_probabilities("acat", "logit", eta, theta)
    np.testing.assert_allclose(np.log(p[:, 1:] / p[:, :-1]), eta[:, None] - theta, rtol=1e-12)


def test_category_logp_stays_finite_and_accurate_in_the_tails():
    """Far from the thresholds (probit, |eta| = 40) probabilities underflow to 0, but their
    logarithms are finite and equal a log-space reference from scipy's log_ndtr."""
    import pytensor
    import pytensor.tensor as pt
    from scipy.special import log_ndtr, logsumexp

    from bayesformula.families.links import get_link
    from bayesformula.families.ordinal import category_logp

    eta_in = pt.vector("eta")
    theta = np.array([-1.0, 0.5, 2.0])
    logps = pytensor.function(
        [eta_in],
        [category_logp(f, eta_in, theta, get_link("probit")) for f in FAMILIES],
        mode="FAST_COMPILE",
    )(np.array([-40.0, 0.0, 40.0]))
    eta = np.array([-40.0, 0.0, 40.0])[:, None]

    def log_diff(a, b):  # log(exp(a) - exp(b)), a > b
        with np.errstate(divide="ignore"):  # np.where below evaluates both branches
            return a + np.log1p(-np.exp(b - a))

    z = theta - eta  # cumulative and sratio
    lf, ls = log_ndtr(z), log_ndtr(-z)
    upper_tail = z[:, :-1] > 0
    middle = np.where(upper_tail, log_diff(ls[:, :-1], ls[:, 1:]), log_diff(lf[:, 1:], lf[:, :-1]))
    zeros = np.zeros((3, 1))
    passed_s = np.concatenate([zeros, np.cumsum(ls, axis=1)], axis=1)
    w = eta - theta  # cratio and acat
    wf, ws = log_ndtr(w), log_ndtr(-w)
    passed_c = np.concatenate([zeros, np.cumsum(wf, axis=1)], axis=1)
    unnorm = np.stack([wf[:, :k].sum(1) + ws[:, k:].sum(1) for k in range(4)], axis=1)
    expected = {
        "cumulative": np.concatenate([lf[:, :1], middle, ls[:, -1:]], axis=1),
        "sratio": np.concatenate([lf + passed_s[:, :-1], passed_s[:, -1:]], axis=1),
        "cratio": np.concatenate([ws + passed_c[:, :-1], passed_c[:, -1:]], axis=1),
        "acat": unnorm - logsumexp(unnorm, axis=1, keepdims=True),
    }
    for family, got in zip(FAMILIES, logps, strict=True):
        assert np.isfinite(got).all(), family
        assert got.min() < -700  # probabilities that underflow float64
        np.testing.assert_allclose(got, expected[family], rtol=1e-9, atol=1e-12, err_msg=family)


# ------------------------------------------------------------------------------ predictions
# each compiles a prediction and a log-likelihood function (seconds of C compilation);
# the fitted cumulative logit model below is checked the same way
LOGLIK_CASES = [("acat", "logit"), ("cratio", "probit")]


def _posterior(model, rng, chains=2, draws=3) -> xr.DataTree:
    """Chosen parameter values laid out as a posterior (uncentred thresholds, as fit() stores)."""
    x, a, thr = [], [], []
    for _ in range(chains * draws):
        b, theta_c = _point(model.family.name, model.link.name, rng)
        x.append(b[0])
        a.append(b[1:])
        thr.append(theta_c + XD.mean(axis=0) @ b)
    shape = (chains, draws)
    coords = {"chain": np.arange(chains), "draw": np.arange(draws)}
    return xr.DataTree.from_dict(
        {
            "posterior": xr.Dataset(
                {
                    "x": (("chain", "draw"), np.reshape(x, shape)),
                    "a": (("chain", "draw", "a_dim"), np.reshape(a, (*shape, 2))),
                    "threshold": (
                        ("chain", "draw", "threshold_dim"),
                        np.reshape(thr, (*shape, 3)),
                    ),
                },
                coords={
                    **coords,
                    "a_dim": ["v", "w"],
                    "threshold_dim": ["never|rarely", "rarely|often", "often|always"],
                },
            )
        }
    )


def _reference_from_posterior(model, idata, data):
    post = idata.posterior
    x = post["x"].values.reshape(-1)
    a = post["a"].values.reshape(-1, 2)
    thr = post["threshold"].values.reshape(-1, 3)
    xd = np.column_stack([data["x"], data["a"] == "v", data["a"] == "w"]).astype(float)
    eta = x[:, None] * xd[:, 0] + a @ xd[:, 1:].T  # (S, n)
    return reference_probabilities(model.family.name, model.link.name, eta, thr[:, None, :])


def check_predictions_and_loglik(model, idata, data: pd.DataFrame, codes: np.ndarray) -> None:
    """In-sample p and the pointwise log-likelihood equal the reference at every draw."""
    expected = _reference_from_posterior(model, idata, data)  # (S, n, K)
    out = model.predict(idata, kind="response_params", inplace=False)
    p = out.posterior["p"]
    assert p.dims == ("chain", "draw", "__obs__", "y_dim")
    assert list(p["y_dim"].values) == LEVELS
    assert list(p["__obs__"].values) == list(data.index)
    np.testing.assert_allclose(p.values.reshape(expected.shape), expected, rtol=1e-9)
    np.testing.assert_allclose(p.sum("y_dim"), 1.0, rtol=1e-12)

    with_loglik = model.compute_log_likelihood(idata, inplace=False)
    loglik = with_loglik.log_likelihood["y"]
    assert loglik.dims == ("chain", "draw", "__obs__")
    np.testing.assert_allclose(
        loglik.values.reshape(len(expected), -1),
        np.log(expected[:, np.arange(len(codes)), codes]),
        rtol=1e-9,
    )


@pytest.mark.parametrize(("family", "link"), LOGLIK_CASES)
def test_predictions_and_pointwise_loglik_match_reference(family, link):
    model = ordinal_model(family, link)
    idata = _posterior(model, np.random.default_rng(zlib.crc32(family.encode())))
    check_predictions_and_loglik(model, idata, DATA, CODES)


def test_prediction_table_has_one_probability_column_per_level(cumulative_fit):
    model, idata, _ = cumulative_fit
    new = pd.DataFrame({"x": [-2.0, 0.0, 3.0], "a": ["w", "u", "v"]}, index=["lo", "mid", "hi"])
    table = model.predictions(idata, data=new, kind="response", random_seed=1)
    assert list(table.index) == ["lo", "mid", "hi"]
    means = table[[f"mean[{level}]" for level in LEVELS]]
    expected = _reference_from_posterior(model, idata, new).mean(axis=0)
    np.testing.assert_allclose(means.to_numpy(), expected, rtol=1e-9)
    np.testing.assert_allclose(means.sum(axis=1), 1.0, rtol=1e-12)
    for level in LEVELS:
        assert (table[f"hdi_3%[{level}]"] <= table[f"mean[{level}]"]).all()
        assert (table[f"mean[{level}]"] <= table[f"hdi_97%[{level}]"]).all()
    shares = table[[f"response[{level}]" for level in LEVELS]]
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    assert set(table["response_mode"]) <= set(LEVELS)
    # 800 draws per row: a share of drawn categories has sd <= 0.018 around the mean
    # probability, so 5 sds bound the difference
    assert np.abs(shares.to_numpy() - means.to_numpy()).max() < 0.09


def test_response_draws_are_category_codes():
    model = ordinal_model("cratio", "probit")
    idata = _posterior(model, np.random.default_rng(5), draws=40)
    out = model.predict(idata, kind="response", inplace=False, random_seed=2)
    y = out.posterior_predictive["y"]
    assert y.shape == (2, 40, N)
    assert set(np.unique(y.values)) <= {0, 1, 2, 3}
    assert np.issubdtype(y.dtype, np.integer)


# ------------------------------------------------------------------------------ known truth
@pytest.fixture(scope="module")
def cumulative_fit():
    """y* = 1.2 x - 0.8 [a == v] + 0.5 [a == w] + logistic noise, cut at (-1.0, 0.3, 1.6)."""
    rng = np.random.default_rng(2026)
    n = 600
    x = rng.normal(0.5, 1.0, n)  # mean 0.5: the thresholds are recovered uncentred
    a = rng.choice(["u", "v", "w"], n)
    latent = 1.2 * x - 0.8 * (a == "v") + 0.5 * (a == "w") + rng.logistic(size=n)
    codes = np.digitize(latent, [-1.0, 0.3, 1.6])
    df = pd.DataFrame(
        {"y": pd.Categorical.from_codes(codes, LEVELS, ordered=True), "x": x, "a": a},
        index=[f"unit{i}" for i in range(n)],
    )
    model = bf.Model("y ~ x + a", df, family="cumulative")
    idata = model.fit(
        draws=400, tune=400, chains=2, cores=1, random_seed=7, progressbar=False, diagnostics=False
    )
    return model, idata, df


def test_cumulative_recovers_slopes_and_thresholds(cumulative_fit):
    model, idata, _ = cumulative_fit
    summary = bf.summary(idata)
    truth = {
        "x": 1.2,
        "a[v]": -0.8,
        "a[w]": 0.5,
        "threshold[never|rarely]": -1.0,
        "threshold[rarely|often]": 0.3,
        "threshold[often|always]": 1.6,
    }
    for name, value in truth.items():
        mean, sd = summary.loc[name, "mean"], summary.loc[name, "sd"]
        # posterior sds are 0.09-0.17 and 800 draws give MCSEs below 0.01: a correct model
        # puts the truth within 4 sds (|z| > 4 has probability 6e-5); a sign error in
        # theta - eta is off by more than 10 sds
        assert abs(mean - value) < 4 * sd, (name, mean, sd)
    assert summary["r_hat"].max() < 1.02


def test_fitted_model_predictions_loglik_and_loo(cumulative_fit):
    model, idata, df = cumulative_fit
    check_predictions_and_loglik(model, idata, df, df["y"].cat.codes.to_numpy())
    table = model.predictions(idata)
    assert table.index.equals(df.index)
    probs = table[[f"mean[{level}]" for level in LEVELS]].to_numpy()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-12)
    # the fitted probability of the observed category beats the marginal share on average
    observed = probs[np.arange(len(df)), df["y"].cat.codes]
    marginal = df["y"].value_counts(normalize=True)[df["y"]].to_numpy()
    assert observed.mean() > marginal.mean()
    loo = bf.loo((model, idata))
    assert np.isfinite(loo.elpd)
    with pytest.raises(BayesformulaError, match="bf.loo or bf.compare"):
        model.r2(idata)


def test_prior_predictive_thresholds_are_ordered(cumulative_fit):
    model, _, _ = cumulative_fit
    prior = model.prior_predictive(draws=60, random_seed=3)
    for name in ("threshold_centered", "threshold"):
        assert (np.diff(prior.prior[name].values, axis=-1) > 0).all(), name
    y = prior.prior_predictive["y"].values
    assert y.shape == (1, 60, 600) and set(np.unique(y)) <= {0, 1, 2, 3}
    p = model.predict(prior, group="prior", inplace=False).prior["p"]
    assert (p.values >= 0).all()
    np.testing.assert_allclose(p.sum("y_dim"), 1.0, rtol=1e-12)


def test_ordered_prior_draws_match_rejection_sampling():
    """PyMC's forward draws ignore the ordering; sorting them is not the ordered prior when
    the threshold means differ, the Gibbs refinement is (compared with exact rejection)."""
    rng = np.random.default_rng(0)
    mu, s = np.array([-1.4, -0.4, 0.4, 1.4]), 2.5
    prior = bf.Prior("Normal", mu=mu, sigma=s)
    draws = ordered_prior_sample(prior, rng.normal(mu, s, (2000, 4)), rng)
    exact = rng.normal(mu, s, (200_000, 4))
    exact = exact[(np.diff(exact, axis=1) > 0).all(axis=1)][:2000]
    assert len(exact) == 2000
    p_gibbs = [stats.ks_2samp(draws[:, j], exact[:, j]).pvalue for j in range(4)]
    p_sorted = [
        stats.ks_2samp(np.sort(rng.normal(mu, s, (2000, 4)), axis=1)[:, j], exact[:, j]).pvalue
        for j in range(4)
    ]
    assert min(p_gibbs) > 1e-3
    assert min(p_sorted) < 1e-4


# ------------------------------------------------------------------------------ model set-up
def test_printout_says_the_intercept_is_dropped():
    model = ordinal_model("cumulative", "logit")
    text = " ".join(str(model).split())  # long lines wrap to fit a terminal
    assert "Intercept: none; the thresholds of family 'cumulative' take its place" in text
    assert "Response: ordered categories never < rarely < often < always (K = 4)" in text
    assert "threshold ~ Normal(mu: [" in text and "prior at the predictors' means" in text
    assert "Intercept" not in model.priors.common
    assert not model.design.intercept


def test_default_threshold_prior_reproduces_observed_shares():
    """At eta = 0 the prior means give back the observed category shares, for each family."""
    counts = np.bincount(CODES)
    shares = counts / counts.sum()
    for family in FAMILIES:
        for link in LINKS:
            model = ordinal_model(family, link)
            mu = np.asarray(model.priors.aux["threshold"].args["mu"])
            np.testing.assert_allclose(
                mu, empirical_thresholds(family, counts, model.link), atol=1e-4
            )
            p = reference_probabilities(family, link, np.zeros(1), mu)[0]
            np.testing.assert_allclose(p, shares, atol=1e-3)
            assert model.priors.aux["threshold"].args["sigma"] == 2.5
    cumulative_mu = ordinal_model("cumulative", "probit").priors.aux["threshold"].args["mu"]
    assert np.all(np.diff(cumulative_mu) > 0)


def test_thresholds_ordered_only_for_cumulative():
    """brms orders the thresholds of the cumulative family only."""
    for family in FAMILIES:
        pm_model = ordinal_model(family, "logit").build()
        rv = pm_model["threshold_centered"]
        transform = pm_model.rvs_to_transforms.get(rv)
        assert (transform is not None) == (family == "cumulative"), family
        assert pm_model.named_vars_to_dims["threshold"] == ("threshold_dim",)
        assert list(pm_model.coords["threshold_dim"]) == [
            "never|rarely",
            "rarely|often",
            "often|always",
        ]


@pytest.mark.parametrize("family", FAMILIES)
def test_every_ordinal_family_is_on_the_fast_path(family):
    """Each ordinal family and link has the fast path's log-density (`check_density` ties it
    to this graph in tests/density); its thresholds are named as the graph names them."""
    for link in LINKS:
        model = ordinal_model(family, link)
        density = model.density()
        assert density is not None, model.fast_path_note
        assert "nothing to compile" in model.fast_path_note
        assert density.shapes["threshold_centered"] == density.shapes["threshold"] == (3,)
        assert density.dims["threshold"] == ("threshold_dim",)


@pytest.mark.parametrize(
    ("y", "levels", "codes"),
    [
        # a Categorical keeps its category order (ordered or not); others sort
        (
            pd.Categorical(["b", "c", "a", "c"], categories=["c", "a", "b"], ordered=True),
            ("c", "a", "b"),
            [2, 0, 1, 0],
        ),
        (
            pd.Categorical(["b", "c", "a", "c"], categories=["c", "b", "a"]),
            ("c", "b", "a"),
            [1, 0, 2, 0],
        ),
        (["mid", "low", "high", "low"], ("high", "low", "mid"), [2, 1, 0, 1]),
        ([5, 1, 2, 5], ("1", "2", "5"), [2, 0, 1, 2]),
        ([2.0, 1.0, 1.0, 3.0], ("1", "2", "3"), [1, 0, 0, 2]),
        ([True, False, False, True], ("0", "1"), [1, 0, 0, 1]),
        # an unused category is dropped
        (
            pd.Categorical(["lo", "hi", "hi", "lo"], categories=["lo", "mid", "hi"], ordered=True),
            ("lo", "hi"),
            [0, 1, 1, 0],
        ),
    ],
)
def test_response_levels_and_codes(y, levels, codes):
    df = pd.DataFrame({"y": y, "x": [0.1, 0.4, -0.3, 1.0]})
    model = bf.Model("y ~ x", df, family="cumulative")
    assert model.response_data.levels == levels
    assert model.response_data.values.tolist() == codes
    assert model.response_data.coords["threshold_dim"] == [
        f"{a}|{b}" for a, b in zip(levels[:-1], levels[1:], strict=True)
    ]


def test_two_levels_work_and_intercept_only_models_have_only_thresholds():
    df = pd.DataFrame({"y": ["no", "yes", "yes", "no", "yes"], "x": [0.0, 1, 2, 3, 4]})
    model = bf.Model("y ~ 1", df, family="sratio")
    assert model.response_data.levels == ("no", "yes")
    pm_model = model.build()
    assert {v.name for v in pm_model.free_RVs} == {"threshold"}


# ------------------------------------------------------------------------------ errors
def test_one_level_only_is_refused():
    df = pd.DataFrame({"y": ["ok"] * 4, "x": [0.0, 1, 2, 3]})
    with pytest.raises(ResponseError, match="at least two response categories.*'ok'"):
        bf.Model("y ~ x", df, family="cumulative")


def test_non_whole_numbers_are_refused_with_a_hint():
    df = pd.DataFrame({"y": [1.0, 2.5, 3.0, 1.0], "x": [0.0, 1, 2, 3]}, index=list("abcd"))
    with pytest.raises(ResponseError, match=r"row 'b': 2\.5.*pd\.cut"):
        bf.Model("y ~ x", df, family="acat")


def test_proportion_response_is_refused():
    df = pd.DataFrame({"y": [1, 2, 3, 1], "n": [4, 4, 4, 4], "x": [0.0, 1, 2, 3]})
    with pytest.raises(ResponseError, match="one column of ordered categories"):
        bf.Model("p(y, n) ~ x", df, family="cratio")


def test_missing_responses_need_dropna():
    df = pd.DataFrame({"y": ["a", None, "b", "c"], "x": [0.0, 1, 2, 3]})
    with pytest.raises(DataError, match="dropna=True"):
        bf.Model("y ~ x", df, family="cumulative")
    with pytest.warns(UserWarning, match="dropped 1 of 4 rows"):
        model = bf.Model("y ~ x", df, family="cumulative", dropna=True)
    assert model.response_data.levels == ("a", "b", "c")


def test_removing_the_intercept_gives_the_same_model():
    """'0 +' (as Bambi's ordinal examples write) keeps the reduced coding of categoricals."""
    written = bf.Model("y ~ 0 + x + a", DATA, family="cumulative")
    plain = bf.Model("y ~ x + a", DATA, family="cumulative")
    np.testing.assert_array_equal(written.design.X, plain.design.X)
    assert list(written.priors.common) == list(plain.priors.common)
    assert written.design.X.shape[1] == 1 + DATA["a"].nunique() - 1
    assert written.design.formula == "y ~ 0 + x + a"
    model = bf.Model("y ~ 0 + x", DATA, family="cumulative")
    assert list(model.priors.common) == ["x"]


@pytest.mark.parametrize(
    "response", ["weighted(y, w)", "censored(y, 'right')", "truncated(y, lb=0)"]
)
def test_response_helpers_are_refused(response):
    df = DATA.assign(y=CODES, w=1.0)
    with pytest.raises(FamilyError, match="not available for the ordinal family 'sratio'"):
        bf.Model(f"{response} ~ x", df, family="sratio")


def test_prior_errors():
    with pytest.raises(PriorError, match="no Intercept.*priors=\\{'threshold'"):
        bf.Model(
            "y ~ x",
            DATA,
            family="cumulative",
            priors={"Intercept": bf.Prior("Normal", mu=0, sigma=1)},
        )
    with pytest.raises(PriorError, match="must be a bf.Prior"):
        bf.Model("y ~ x", DATA, family="cumulative", priors={"threshold": 0.5})
    with pytest.raises(PriorError, match=r"shape \(2,\).*3 values \(never\|rarely"):
        bf.Model(
            "y ~ x",
            DATA,
            family="cumulative",
            priors={"threshold": bf.Prior("Normal", mu=[0, 1], sigma=1)},
        )
    with pytest.raises(FamilyError, match="does not support link 'identity'"):
        bf.Model("y ~ x", DATA, family="cumulative", link="identity")


def test_user_threshold_prior_and_its_start():
    prior = bf.Prior("StudentT", nu=3, mu=0, sigma=2)
    model = bf.Model("y ~ x", DATA, family="cumulative", priors={"threshold": prior})
    assert model.priors.aux["threshold"] == prior
    start = ordered_start(prior, 3)
    assert np.all(np.diff(start) > 0)
    assert np.all(np.diff(ordered_start(bf.Prior("Uniform", lower=-3, upper=3), 3)) > 0)
    assert np.all(np.abs(ordered_start(bf.Prior("Uniform", lower=-3, upper=3), 3)) < 3)


def test_plot_predictions_and_r2_explain_themselves(cumulative_fit):
    model, idata, _ = cumulative_fit
    with pytest.raises(BayesformulaError, match="probability per ordered category"):
        model.r2(idata)
    with pytest.raises(PredictionError, match="extra dimensions"):
        bf.plot_predictions(model, idata, "x")
