"""Distributional regression: formulas for auxiliary parameters, ``Formula("y ~ x", "sigma ~ z")``.

The log-density of the built model is compared with scipy.stats at random points (which
proves the posterior), one known-truth fit checks recovery, and predictions and the pointwise
log-likelihood are checked against the same scipy formulas applied to posterior draws.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

import bayesformula as bf
from bayesformula.errors import DataError, FamilyError, FormulaError, PriorError

from ..conftest import FIT
from .test_logp import _prior_logp, _value_point


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(1)
    n = 400
    x, z = rng.normal(size=n), rng.uniform(-1, 1, n)
    g = rng.choice(list("abcdef"), n)
    u = dict(zip("abcdef", rng.normal(0, 0.3, 6), strict=True))
    sigma = np.exp(0.2 + 0.8 * z + pd.Series(g).map(u).to_numpy())
    y = 1 + 2 * x + rng.normal(0, sigma)
    counts = rng.poisson(np.exp(0.5 + 0.3 * x)) * (rng.uniform(size=n) > special.expit(-1 + z))
    return pd.DataFrame({"y": y, "x": x, "z": z, "g": g, "k": counts})


def test_gaussian_sigma_formula_logp_matches_scipy(data):
    df = data.iloc[:40]
    model = bf.Model(bf.Formula("y ~ x", "sigma ~ z + (1|g)"), df)
    pm_model = model.build()
    logp = pm_model.compile_logp(jacobian=False)
    levels = sorted(df["g"].unique())
    idx = pd.Categorical(df["g"], categories=levels).codes
    x, z = df["x"].to_numpy(), df["z"].to_numpy()
    rng = np.random.default_rng(5)
    for _ in range(3):
        ic, b, sic, sb = rng.normal(size=4)
        s_g, off = rng.uniform(0.2, 1.5), rng.normal(size=len(levels))
        point = _value_point(
            pm_model,
            {
                "Intercept_centered": ic,
                "x": b,
                "sigma_Intercept_centered": sic,
                "sigma_z": sb,
                "sigma_1|g_sigma": s_g,
                "sigma_1|g_offset": off,
            },
        )
        mu = ic + b * (x - x.mean())
        sigma = np.exp(sic + sb * (z - z.mean()) + s_g * off[idx])
        expected = stats.norm.logpdf(df["y"], mu, sigma).sum()
        for name, value in (
            ("Intercept", ic),
            ("x", b),
            ("sigma_Intercept", sic),
            ("sigma_z", sb),
        ):
            expected += _prior_logp(model.priors.common[name], value)
        expected += _prior_logp(model.priors.group["sigma_1|g"].args["sigma"], s_g)
        expected += stats.norm.logpdf(off).sum()
        np.testing.assert_allclose(logp(point), expected, rtol=1e-9)


def test_zero_inflation_formula_logp_matches_scipy(data):
    """psi, a probability, gets the logit link; no intercept centring with 0 + ..."""
    df = data.iloc[:30]
    model = bf.Model(
        bf.Formula("k ~ x", "psi ~ z"), df, family="zero_inflated_poisson", center_predictors=False
    )
    pm_model = model.build()
    logp = pm_model.compile_logp(jacobian=False)
    x, z, k = df["x"].to_numpy(), df["z"].to_numpy(), df["k"].to_numpy()
    rng = np.random.default_rng(6)
    for _ in range(3):
        a, b, c, d = rng.normal(0, 0.7, 4)
        point = _value_point(pm_model, {"Intercept": a, "x": b, "psi_Intercept": c, "psi_z": d})
        mu, psi = np.exp(a + b * x), special.expit(c + d * z)
        # PyMC's psi is the probability of the Poisson part
        like = np.where(
            k == 0,
            np.log((1 - psi) + psi * np.exp(-mu)),
            np.log(psi) + stats.poisson.logpmf(k, mu),
        ).sum()
        expected = like + sum(
            _prior_logp(model.priors.common[n], v)
            for n, v in (("Intercept", a), ("x", b), ("psi_Intercept", c), ("psi_z", d))
        )
        np.testing.assert_allclose(logp(point), expected, rtol=1e-9)


@pytest.fixture(scope="module")
def fitted(data):
    model = bf.Model(bf.Formula("y ~ x", "sigma ~ z + (1|g)"), data)
    idata = model.fit(random_seed=3, diagnostics=False, **FIT)
    return model, idata


def test_recovers_the_scale_model(fitted):
    """Truth: sigma = exp(0.2 + 0.8 z + u_g), u_g ~ N(0, 0.3); 400 rows."""
    _, idata = fitted
    post = idata.posterior
    for name, truth in (("x", 2.0), ("Intercept", 1.0), ("sigma_z", 0.8)):
        values = post[name].values.ravel()
        assert abs(values.mean() - truth) < 4 * values.std(), name
    assert "sigma" not in post  # modelled per observation, not a parameter
    assert "sigma_1|g_offset" not in post and "sigma_1|g" in post


def test_predictions_carry_the_rows_sigma(fitted, data):
    model, idata = fitted
    out = model.predict(idata, kind="response", inplace=False, random_seed=2)
    sigma = out.posterior["sigma"]
    assert sigma.dims == ("chain", "draw", "__obs__") and sigma.shape[-1] == len(data)
    post = out.posterior
    expected = np.exp(
        post["sigma_Intercept"].values[..., None]
        + post["sigma_z"].values[..., None] * data["z"].to_numpy()
        + post["sigma_1|g"].sel({"g__factor_dim": list(data["g"])}).values
    )
    np.testing.assert_allclose(sigma.values, expected, rtol=1e-10)
    new = pd.DataFrame({"x": [0.0, 0.0], "z": [-1.0, 1.0], "g": ["a", "a"]})
    table = model.predictions(idata, data=new, kind="response", random_seed=1)
    # response sd ~ exp(0.8 * 2) = 5x larger at z = 1 than at z = -1 (MC error a few %)
    ratio = table.loc[1, "response_sd"] / table.loc[0, "response_sd"]
    assert 3.5 < ratio < 7.0


def test_pointwise_log_likelihood_uses_each_rows_sigma(fitted, data):
    model, idata = fitted
    ll = model.compute_log_likelihood(idata, inplace=False).log_likelihood["y"]
    with_params = model.predict(idata, inplace=False)
    mu = with_params.posterior["mu"].values
    sigma = with_params.posterior["sigma"].values
    np.testing.assert_allclose(
        ll.values, stats.norm.logpdf(data["y"].to_numpy(), mu, sigma), rtol=1e-9
    )


def test_save_and_load_keep_the_formulas(fitted, tmp_path):
    model, idata = fitted
    path = bf.save(model, idata, tmp_path / "dist.nc")
    loaded, loaded_idata = bf.load(path)
    assert loaded.formula.additionals == ("sigma ~ z + (1|g)",)
    assert list(loaded.aux_parts) == ["sigma"]
    a = model.predictions(idata)
    b = loaded.predictions(loaded_idata)
    np.testing.assert_allclose(a["mean"], b["mean"])


def test_priors_of_the_parts(data):
    model = bf.Model(
        bf.Formula("y ~ x", "sigma ~ z"),
        data,
        priors={
            "common": bf.Prior("Normal", mu=0, sigma=10),
            "sigma_z": bf.Prior("Normal", mu=0, sigma=1),
        },
    )
    assert model.priors.common["x"] == bf.Prior("Normal", mu=0, sigma=10)
    # "common" leaves the sigma formula's terms (on the log scale) alone
    assert model.priors.common["sigma_z"] == bf.Prior("Normal", mu=0, sigma=1)
    ic = model.priors.common["sigma_Intercept"]
    assert np.isclose(ic.args["mu"], np.log(np.std(data["y"])))
    assert "sigma" not in model.priors.aux
    text = str(model)
    assert "Link: mu = identity, sigma = log" in text
    assert "sigma_Intercept ~ Normal" in text
    # a formula for sigma is on the fast path (tests/density), with independent group terms
    # too; one with correlated group terms is not
    assert model.density() is not None
    assert bf.Model(bf.Formula("y ~ x", "sigma ~ z + (1|g)"), data).density() is not None
    correlated = bf.Model(bf.Formula("y ~ x", "sigma ~ z + (1 + z|g)"), data)
    assert correlated.density() is None and "formula for sigma" in correlated.fast_path_note
    # '||' in an additional formula: independent effects, no correlation block
    independent = bf.Model(bf.Formula("y ~ x", "sigma ~ z + (1 + z || g)"), data).build()
    assert {"sigma_1|g", "sigma_z|g"} <= set(independent.named_vars)
    assert not any("cholesky" in name for name in independent.named_vars)


@pytest.mark.parametrize(
    ("formula", "kwargs", "error", "match"),
    [
        (
            ("y ~ x", "nu ~ z"),
            {},
            FormulaError,
            "family 'gaussian' has no auxiliary parameter 'nu'",
        ),
        (("y ~ x", "mu ~ z"), {}, FormulaError, "models the parent parameter 'mu'"),
        (("y ~ x", "sigma ~ z", "sigma ~ x"), {}, FormulaError, "'sigma' has two formulas"),
        (("y ~ x", "sigma ~ nope"), {}, bf.errors.UnknownNameError, "nope"),
        (("y ~ x", "sigma ~ z"), {"priors": {"sigma": 1.0}}, PriorError, "modelled by its own"),
        (
            ("y ~ x", "sigma ~ z"),
            {"link": {"sigma": "identity"}},
            FamilyError,
            "takes the link 'log'",
        ),
        (("y ~ x",), {"link": {"sigma": "log"}}, FamilyError, "which have no formula"),
    ],
)
def test_errors(data, formula, kwargs, error, match):
    with pytest.raises(error, match=match):
        bf.Model(bf.Formula(*formula), data, **kwargs)


def test_missing_values_in_the_part_drop_the_row(data):
    df = data.iloc[:30].copy()
    df.loc[df.index[3], "z"] = np.nan
    with pytest.raises(DataError, match="'z': 1"):
        bf.Model(bf.Formula("y ~ x", "sigma ~ z"), df)
    with pytest.warns(UserWarning, match="dropped 1 of 30 rows"):
        model = bf.Model(bf.Formula("y ~ x", "sigma ~ z"), df, dropna=True)
    assert model.design.n_obs == 29 and model.aux_parts["sigma"].design.n_obs == 29
