"""Correlated group-specific effects ``(1 + x | g)``: parsing, log-density, predictions.

The log-density checks write the model out with scipy.stats. For two correlated effects with
standard deviations ``s1, s2`` and correlation ``r``, the packed Cholesky factor is
``L = (s1, s2 r, s2 sqrt(1 - r^2))``; its density follows from those of ``s1, s2`` (the terms'
HalfNormal priors) and ``r`` (LKJ(eta) for two dimensions: ``(r + 1) / 2 ~ Beta(eta, eta)``) by
the change of variables ``|d(s1, s2, r) / dL| = sqrt(1 - r^2) / s2``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import bayesformula as bf
from bayesformula.errors import PriorError
from bayesformula.formula.design import make_design
from bayesformula.results.predict import _new_block_effects


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    n_groups, per = 30, 8
    g = np.repeat([f"g{i:02d}" for i in range(n_groups)], per)
    cov = np.array([[1.0, -0.6 * 1.0 * 0.5], [-0.6 * 1.0 * 0.5, 0.25]])
    u = rng.multivariate_normal([0, 0], cov, n_groups)
    x = rng.normal(size=n_groups * per)
    gi = np.repeat(np.arange(n_groups), per)
    y = 1.0 + 0.5 * x + u[gi, 0] + u[gi, 1] * x + rng.normal(0, 0.4, n_groups * per)
    return pd.DataFrame({"y": y, "x": x, "g": g, "c": rng.choice(list("pqr"), len(g))})


@pytest.mark.parametrize(
    ("formula", "blocks"),
    [
        ("y ~ x + (x|g)", {"1+x|g": ("Intercept", "x")}),
        ("y ~ x + (1 + x|g)", {"1+x|g": ("Intercept", "x")}),
        ("y ~ x + (x||g)", {}),
        ("y ~ x + (1|g) + (0 + x|g)", {}),
        ("y ~ x + (0 + x + c|g)", {"x+c|g": ("x", "c[p]", "c[q]", "c[r]")}),
        ("y ~ (1|g) + (x|c)", {"1+x|c": ("Intercept", "x")}),
        ("y ~ (x|g) + (1|c)", {"1+x|g": ("Intercept", "x")}),
    ],
)
def test_blocks_follow_the_bars(data, formula, blocks):
    design = make_design(formula, data)
    assert {b.name: b.columns for b in design.group_blocks} == blocks
    for block in design.group_blocks:
        n = block.size
        assert len(block.corr_labels) == n * (n - 1) // 2
        assert set(block.terms) <= {t.name for t in design.group_terms}


def test_double_bar_keeps_the_formula_text(data):
    model = bf.Model("y ~ x + (x||g)", data)
    assert str(model.formula) == "y ~ x + (x||g)"
    assert [t.name for t in model.design.group_terms] == ["1|g", "x|g"]
    assert model.priors.corr == {}
    assert model.density() is not None  # independent effects keep the fast path


def test_a_term_written_twice_belongs_to_its_first_part(data):
    """(x|g) implies 1|g; after (1|g) it adds only the slope, uncorrelated (as in Bambi)."""
    design = make_design("y ~ (1|g) + (x|g)", data)
    assert [t.name for t in design.group_terms] == ["1|g", "x|g"]
    assert design.group_blocks == ()
    design = make_design("y ~ (x|g) + (1|g)", data)
    assert [b.name for b in design.group_blocks] == ["1+x|g"]


def _unconstrained(L):
    """PyMC samples the packed factor with its diagonal on the log scale."""
    u = np.array(L, dtype=float)
    u[[0, 2]] = np.log(u[[0, 2]])
    return u


def _packed_logp_reference(L, scale1, scale2, eta):
    s1 = L[0]
    s2 = np.hypot(L[1], L[2])
    r = L[1] / s2
    return (
        stats.halfnorm(scale=scale1).logpdf(s1)
        + stats.halfnorm(scale=scale2).logpdf(s2)
        + stats.beta(eta, eta).logpdf((r + 1) / 2)
        - np.log(2)
        + 0.5 * np.log1p(-(r**2))
        - np.log(s2)
    )


@pytest.fixture(scope="module")
def centered(data):
    model = bf.Model(
        "y ~ x + (x|g)",
        data,
        noncentered=False,
        priors={"1+x|g_corr": bf.Prior("LKJCorr", eta=2.5)},
    )
    return model, model.build()


def test_lkj_prior_density_matches_scipy(centered):
    model, pm_model = centered
    (chol_rv,) = [v for v in pm_model.free_RVs if v.name == "1+x|g_cholesky"]
    logp = pm_model.compile_fn(
        pm_model.logp(vars=[chol_rv], jacobian=False),
        inputs=[pm_model.rvs_to_values[chol_rv]],
        point_fn=False,
    )
    scale1 = model.priors.group["1|g"].args["sigma"].args["sigma"]
    scale2 = model.priors.group["x|g"].args["sigma"].args["sigma"]
    rng = np.random.default_rng(0)
    actual, expected = [], []
    for _ in range(6):
        s1, s2, r = rng.uniform(0.2, 3), rng.uniform(0.2, 3), rng.uniform(-0.95, 0.95)
        L = np.array([s1, s2 * r, s2 * np.sqrt(1 - r**2)])
        actual.append(float(logp(_unconstrained(L))))
        expected.append(_packed_logp_reference(L, scale1, scale2, 2.5))
    # Differences between points: PyMC's LKJ normalising constant has the opposite sign
    # (+log 2 instead of -log 2 for eta = 1, two dimensions), a constant that sampling,
    # LOO and every posterior quantity ignore; everything that varies must match.
    np.testing.assert_allclose(np.diff(actual), np.diff(expected), rtol=1e-9, atol=1e-12)


def test_centered_effects_are_multivariate_normal(centered):
    model, pm_model = centered
    joint = pm_model["1+x|g_joint"]
    chol_value = pm_model.rvs_to_values[pm_model["1+x|g_cholesky"]]
    fn = pm_model.compile_fn(
        pm_model.logp(vars=[joint], jacobian=False),
        inputs=[pm_model.rvs_to_values[joint], chol_value],
        point_fn=False,
    )
    rng = np.random.default_rng(1)
    s1, s2, r = 1.3, 0.7, -0.55
    L = np.array([s1, s2 * r, s2 * np.sqrt(1 - r**2)])
    cov = np.array([[s1**2, r * s1 * s2], [r * s1 * s2, s2**2]])
    b = rng.normal(size=(30, 2))
    expected = stats.multivariate_normal(np.zeros(2), cov).logpdf(b).sum()
    np.testing.assert_allclose(float(fn(b, _unconstrained(L))), expected, rtol=1e-9)


def test_noncentered_effects_and_reported_values(data):
    """Effects are offset @ L^T; the reported sigmas and correlation are those of L L^T."""
    model = bf.Model("y ~ x + (x|g)", data, noncentered=True)
    pm_model = model.build()
    names = ["1+x|g_offset", "1+x|g_cholesky"]
    values = [pm_model.rvs_to_values[pm_model[n]] for n in names]
    outs = pm_model.replace_rvs_by_values(
        [pm_model[n] for n in ("1|g", "x|g", "1|g_sigma", "x|g_sigma", "1+x|g_corr")]
    )
    fn = pm_model.compile_fn(outs, inputs=values, on_unused_input="ignore", point_fn=False)
    z = np.random.default_rng(2).normal(size=(30, 2))
    s1, s2, r = 0.9, 2.1, 0.35
    L = np.array([[s1, 0.0], [s2 * r, s2 * np.sqrt(1 - r**2)]])
    b0, b1, sd0, sd1, corr = fn(z, _unconstrained(L[np.tril_indices(2)]))
    np.testing.assert_allclose(np.column_stack([b0, b1]), z @ L.T, rtol=1e-12)
    np.testing.assert_allclose([sd0, sd1, corr[0]], [s1, s2, r], rtol=1e-12)


def test_correlation_prior_errors(data):
    with pytest.raises(PriorError, match="LKJ prior"):
        bf.Model("y ~ x + (x|g)", data, priors={"1+x|g_corr": bf.Prior("Normal", mu=0, sigma=1)})
    mixed = {"x|g": bf.Prior("Normal", mu=0, sigma=bf.Prior("Exponential", lam=1))}
    model = bf.Model("y ~ x + (x|g)", data, priors=mixed)
    with pytest.raises(PriorError, match="one kind of prior"):
        model.build()


def test_prior_table_lists_the_correlations(data):
    model = bf.Model("y ~ x + (x|g)", data, priors={"1+x|g_corr": bf.Prior("LKJCorr", eta=2)})
    table = model.prior_table().set_index("parameter")
    assert table.loc["1+x|g_corr", "kind"] == "correlation"
    assert table.loc["1+x|g_corr", "source"] == "user"
    assert "1+x|g_corr ~ LKJCorr(eta: 2)" in str(model)
    assert model.density() is not None  # on the fast path (tests/density check it)
    assert "nothing to compile" in model.fast_path_note


def test_new_level_effects_have_the_posterior_covariance():
    """Unseen levels are drawn from Normal(0, diag(s) R diag(s)) per draw."""
    import xarray as xr

    from bayesformula.formula.design import CorrBlock

    block = CorrBlock("1+x|g", "g", ("1|g", "x|g"), ("Intercept", "x"), (1, 1))
    draws = xr.Dataset(
        {
            "1|g_sigma": (("chain", "draw"), [[2.0, 1.0]]),
            "x|g_sigma": (("chain", "draw"), [[3.0, 0.5]]),
            "1+x|g_corr": (("chain", "draw", "pair"), [[[0.8], [-0.3]]]),
        },
        coords={"chain": [0], "draw": [0, 1]},
    )
    n = 40_000
    extra = _new_block_effects(draws, block, n, np.random.default_rng(4))
    assert extra.shape == (2, n, 2)
    for s, (sd0, sd1, r) in enumerate([(2.0, 3.0, 0.8), (1.0, 0.5, -0.3)]):
        cov = np.cov(extra[s].T)
        # sample sd and correlation: relative MC error ~ 1/sqrt(2n) = 0.0035 and ~ 1/sqrt(n)
        np.testing.assert_allclose(np.sqrt(np.diag(cov)), [sd0, sd1], rtol=0.02)
        assert abs(cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1]) - r) < 0.02


@pytest.fixture(scope="module")
def correlated_fit(data):
    model = bf.Model("y ~ x + (x|g)", data)
    idata = model.fit(
        draws=500, tune=700, chains=2, cores=1, random_seed=8, progressbar=False, diagnostics=False
    )
    return model, idata


def test_recovers_a_negative_correlation(correlated_fit):
    """Truth: r = -0.6 (30 groups); the 94 % interval covers it and excludes 0.3."""
    _, idata = correlated_fit
    r = idata.posterior["1+x|g_corr"].sel({"1+x|g__corr_dim": "Intercept,x"}).values.ravel()
    lo, hi = np.quantile(r, [0.03, 0.97])
    assert lo < -0.6 < hi
    assert hi < 0.3
    assert "1+x|g_cholesky" not in idata.posterior
    assert "1+x|g_offset" not in idata.posterior and "1+x|g_joint" not in idata.posterior


def test_predictions_for_new_groups(correlated_fit, data):
    model, idata = correlated_fit
    new = pd.DataFrame({"x": [0.0, 1.0, 1.0], "g": ["g00", "new1", "new2"]})
    with pytest.raises(bf.errors.PredictionError, match="not seen in fitting"):
        model.predictions(idata, data=new)
    table = model.predictions(idata, data=new, sample_new_groups=True, random_seed=1)
    assert list(table.index) == [0, 1, 2]
    # a new group's mean is the population line (1.0 + 0.5 x); its spread includes both sds
    assert table.loc[1, "sd"] > 2 * table.loc[0, "sd"]


def test_lkj_prior_only_for_correlations(data):
    with pytest.raises(PriorError, match="LKJCorr is the prior of correlations"):
        bf.Model("y ~ x + (x|g)", data, priors={"x": bf.Prior("LKJCorr", eta=2)})
