"""Bambi's spellings under ``import bayesformula as bmb``: set_priors, set_alias, custom families
(Likelihood, Link, Family), truncated()/constrained() bounds, Prior(transform=...), the
asymmetric Laplace's kappa, Formula's repr and additionals_lhs, components, inference_methods
and plot_priors (see docs/bambi-differences.md).

Model densities are checked against scipy.stats at fixed points (exact: rtol 1e-9); the few
fits use few draws and compare with the known truth within a few posterior standard deviations.
"""

from __future__ import annotations

import math
import pickle
import warnings

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import pytest
from scipy import stats

import bayesformula as bmb
from bayesformula.errors import FamilyError, FormulaError, ModelError, PriorError
from tests.helpers import fit_tree

N = 30
RNG = np.random.default_rng(20240611)
X = RNG.normal(0.3, 1.2, N)
G = np.array(["a", "b", "c"] * (N // 3))


@pytest.fixture(scope="module")
def data():
    y = 1.0 + 2.0 * X + RNG.normal(0, 0.7, N)
    return pd.DataFrame({"y": y, "x": X, "z": RNG.normal(size=N), "g": G})


def _point(model, values: dict) -> dict:
    """Values of the free variables (constrained scale) as the model's value variables."""
    point = {}
    for rv in model.free_RVs:
        value = np.asarray(values[rv.name], dtype=float)
        transform = model.rvs_to_transforms.get(rv)
        if transform is not None:
            value = transform.forward(pt.as_tensor(value)).eval()
        point[model.rvs_to_values[rv].name] = value
    return point


def _logp(model, values: dict) -> float:
    pm_model = model.build()
    return float(
        pm_model.compile_logp(jacobian=False, mode="FAST_COMPILE")(_point(pm_model, values))
    )


def _normal(prior, value) -> float:
    return float(stats.norm.logpdf(value, prior.args["mu"], prior.args["sigma"]).sum())


def _half_t(prior, value) -> float:
    a = prior.args
    return float(np.log(2) + stats.t.logpdf(value, a["nu"], scale=a["sigma"]))


# ------------------------------------------------------------------ 1. set_priors
def test_set_priors_common_and_group_specific_follow_bambi(data):
    model = bmb.Model("y ~ x + z + (1|g) + (x|g)", data)
    intercept = model.priors.common["Intercept"]
    wide = bmb.Prior("Normal", mu=0, sigma=10)
    hyper = bmb.Prior("Normal", mu=0, sigma=bmb.Prior("HalfNormal", sigma=3))
    model.set_priors(common=wide, group_specific=hyper)
    assert model.priors.common["x"] == wide and model.priors.common["z"] == wide
    assert model.priors.common["Intercept"] == intercept  # common leaves the intercept alone
    assert model.priors.group["1|g"] == hyper and model.priors.group["x|g"] == hyper
    # named priors win over common in the same call; calls add up
    tight = bmb.Prior("Normal", mu=1, sigma=0.5)
    model.set_priors(priors={"x": tight}, common=bmb.Prior("Normal", mu=0, sigma=3))
    assert model.priors.common["x"] == tight
    assert model.priors.common["z"].args["sigma"] == 3
    assert model.priors.group["1|g"] == hyper
    # a later common replaces an earlier named prior (Bambi's last call wins)
    model.set_priors(common=wide)
    assert model.priors.common["x"] == wide


def test_set_priors_changes_the_model_that_is_built(data):
    """The next build (and so the next fit) uses the new prior: the log-density of the rebuilt
    PyMC model equals the scipy density with the new prior."""
    model = bmb.Model("y ~ x", data)
    first = model.build()
    new = bmb.Prior("Normal", mu=3, sigma=0.25)
    model.set_priors(priors={"x": new, "sigma": bmb.Prior("HalfNormal", sigma=2)})
    assert model.build() is not first
    values = {"Intercept_centered": 1.4, "x": 1.9, "sigma": 0.8}
    mu = 1.4 + (X - X.mean()) * 1.9
    expected = stats.norm.logpdf(data["y"], mu, 0.8).sum()
    expected += _normal(model.priors.common["Intercept"], 1.4) + _normal(new, 1.9)
    expected += stats.halfnorm.logpdf(0.8, scale=2)
    np.testing.assert_allclose(_logp(model, values), expected, rtol=1e-9)


def test_set_priors_keeps_every_other_option(data):
    """The model is specified again with the same formula, data and options (rows dropped,
    categorical columns, parameterisation, links, extra_namespace), without new warnings."""
    df = data.assign(k=np.arange(N) % 3, x=data["x"].where(np.arange(N) != 4))
    with pytest.warns(UserWarning):  # the dropped row
        model = bmb.Model(
            bmb.Formula("y ~ f(x) + k + (1|g)", "sigma ~ z"),
            df,
            categorical=["k"],
            dropna=True,
            noncentered={"g": False},
            link={"sigma": "log"},
            extra_namespace={"f": np.tanh},
        )
    before = model.spec
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.set_priors(priors={"sigma_z": bmb.Prior("Normal", mu=0, sigma=1)})
    after = model.spec
    assert after is not before and after.design.n_dropped == 1
    np.testing.assert_array_equal(after.design.X, before.design.X)
    assert after.options == before.options.__class__(
        **{**vars(before.options), "priors": after.options.priors}
    )
    assert after.priors.common["sigma_z"] == bmb.Prior("Normal", mu=0, sigma=1)
    assert after.centered_factors == ["g"]


def test_set_priors_rejects_unknown_names_and_keeps_the_model(data):
    model = bmb.Model("y ~ x", data)
    before = model.spec
    with pytest.raises(PriorError, match="did you mean 'x'"):
        model.set_priors(priors={"xx": bmb.Prior("Normal", mu=0, sigma=1)})
    with pytest.raises(PriorError, match="dict"):
        model.set_priors(priors=[bmb.Prior("Normal", mu=0, sigma=1)])
    assert model.spec is before


def test_set_priors_warns_when_a_changed_graph_is_dropped(data):
    model = bmb.Model("y ~ x", data)
    with model.build():
        pm.Potential("extra", pt.constant(0.0))
    with pytest.warns(UserWarning, match="changed after it was built"):
        model.set_priors(common=bmb.Prior("Normal", mu=0, sigma=5))
    assert "extra" not in model.build().named_vars


def test_set_priors_fit_uses_the_new_prior(data):
    """A prior far from the data and very tight pins the slope in the next fit."""
    model = bmb.Model("y ~ x", data)
    model.set_priors(priors={"x": bmb.Prior("Normal", mu=-5, sigma=0.001)})
    idata = model.fit(draws=200, tune=200, chains=2, random_seed=1, progressbar=False)
    # the likelihood moves the mean by about sigma_prior**2 / sigma_lik**2 * shift: < 1e-3
    assert abs(float(idata["posterior"]["x"].mean()) + 5) < 0.01


# ------------------------------------------------------------------ 2. set_alias
def test_set_alias_names_the_replacements(data):
    model = bmb.Model("y ~ x", data)
    with pytest.raises(ModelError, match=r"rename_vars\(\{'x': 'beta'\}\)") as info:
        model.set_alias({"x": "beta"})
    assert "bf.summary(idata).rename" in str(info.value)
    assert "MapLabeller" in str(info.value)


# ------------------------------------------------------------------ 3. custom families
def test_bambi_custom_family_equals_the_builtin_one(data):
    """Bambi's docs' family (Normal with mu and sigma) is the gaussian family: same density."""
    likelihood = bmb.Likelihood("Normal", params=["mu", "sigma"], parent="mu")
    family = bmb.Family("my_normal", likelihood, {"mu": "identity", "sigma": "log"})
    custom = bmb.Model("y ~ x", data, family=family)
    builtin = bmb.Model("y ~ x", data)
    assert custom.family.name == "my_normal" and custom.link.name == "identity"
    assert custom.priors.aux == builtin.priors.aux
    values = {"Intercept_centered": 1.2, "x": 2.3, "sigma": 0.9}
    np.testing.assert_allclose(_logp(custom, values), _logp(builtin, values), rtol=1e-12)


def test_bambi_zip_example_with_a_formula_for_psi():
    """The zero-inflated Poisson of Bambi's custom-family example, with ``psi ~ x``: the same
    density as the built-in family (psi's formula takes the logit link the family gives it)."""
    rng = np.random.default_rng(4)
    y = np.where(rng.random(N) < 0.3, 0, rng.poisson(np.exp(0.5 + 0.3 * X)))
    df = pd.DataFrame({"x": X, "y": y})
    likelihood = bmb.Likelihood("ZeroInflatedPoisson", params=["mu", "psi"], parent="mu")
    family = bmb.Family("zip", likelihood, {"mu": "log", "psi": "logit"})
    formula = bmb.Formula("y ~ x", "psi ~ x")
    custom = bmb.Model(formula, df, family=family)
    builtin = bmb.Model(formula, df, family="zero_inflated_poisson")
    assert custom.aux_parts["psi"].link.name == "logit"
    values = {"Intercept_centered": 0.6, "x": 0.25, "psi_Intercept_centered": 0.4, "psi_x": -0.3}
    np.testing.assert_allclose(_logp(custom, values), _logp(builtin, values), rtol=1e-12)


def test_bambi_family_keywords_and_defaults():
    likelihood = bmb.Likelihood("ZeroInflatedPoisson", params=["mu", "psi"], parent="mu")
    family = bmb.Family("zip", likelihood=likelihood, link={"mu": "log", "psi": "logit"})
    assert family.aux_names == ("psi",) and family.support == "count"
    assert bmb.Likelihood("Normal").params == ("mu", "sigma")
    assert bmb.Likelihood("Normal", dist=pm.Normal).name == "Normal"
    assert bmb.Family("f", bmb.Likelihood("Bernoulli", parent="p"), "logit").links == ("logit",)


def test_generic_likelihood_density_matches_scipy(data):
    """A likelihood no built-in family has (Logistic, parameters as PyMC names them)."""
    likelihood = bmb.Likelihood("Logistic", params=["mu", "s"], parent="mu")
    family = bmb.Family("logistic", likelihood, {"mu": "identity", "s": "log"})
    model = bmb.Model("y ~ x", data, family=family)
    assert model.density() is None  # the fast path has no logistic likelihood
    values = {"Intercept_centered": 0.8, "x": 1.7, "s": 0.6}
    mu = 0.8 + (X - X.mean()) * 1.7
    expected = stats.logistic.logpdf(data["y"], mu, 0.6).sum()
    expected += _normal(model.priors.common["Intercept"], 0.8)
    expected += _normal(model.priors.common["x"], 1.7)
    expected += _half_t(model.priors.aux["s"], 0.6)
    np.testing.assert_allclose(_logp(model, values), expected, rtol=1e-9)
    restored = pickle.loads(pickle.dumps(model))
    assert restored.family.name == "logistic" and restored.priors.aux == model.priors.aux


def test_generic_likelihood_fits_known_truth():
    """Logistic errors, mu = 1 + 2 x, s = 0.5: the posterior means lie within 4 posterior
    standard deviations of the truth, and responses drawn with PyMC have the data's mean."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=200)
    df = pd.DataFrame({"x": x, "y": 1 + 2 * x + rng.logistic(0, 0.5, 200)})
    likelihood = bmb.Likelihood("Logistic", params=["mu", "s"], parent="mu")
    family = bmb.Family("logistic", likelihood, {"mu": "identity", "s": "log"})
    model = bmb.Model("y ~ x", df, family=family)
    idata = model.fit(draws=200, tune=200, chains=2, random_seed=2, progressbar=False)
    post = idata["posterior"]
    for name, truth in (("Intercept", 1.0), ("x", 2.0), ("s", 0.5)):
        assert abs(float(post[name].mean()) - truth) < 4 * float(post[name].std()), name
    model.predict(idata, kind="response", random_seed=3)
    draws = idata["posterior_predictive"][model.response_component.term.name]
    # the mean of 400 x 200 draws: its sd is about s * pi / sqrt(3) / sqrt(200) = 0.064
    assert abs(float(draws.mean()) - df["y"].mean()) < 0.2


def test_link_by_bambi_signature():
    assert bmb.Link("logit") == bmb.families.LINKS["logit"]
    loglog = bmb.Link(
        "loglog", link=lambda p: -np.log(-np.log(p)), linkinv=lambda e: np.exp(-np.exp(-e))
    )
    eta = pt.dvector("eta")
    got = loglog.linkinv_pt(eta).eval({eta: np.array([-1.0, 0.0, 2.0])})
    np.testing.assert_allclose(got, np.exp(-np.exp(-np.array([-1.0, 0.0, 2.0]))), rtol=1e-12)

    def normal_cdf(eta):
        return 0.5 * (1.0 + pt.erf(eta / np.sqrt(2.0)))

    backend = bmb.Link(
        "probit2", link=stats.norm.ppf, linkinv=stats.norm.cdf, linkinv_backend=normal_cdf
    )
    assert backend.linkinv_pt is normal_cdf


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({}, "unknown link 'mine'"),
        ({"link": np.log}, "needs linkinv="),
        ({"link": stats.norm.ppf, "linkinv": stats.norm.cdf}, "linkinv_pt="),
        ({"link": np.log, "linkinv": np.vectorize(math.exp)}, "linkinv_pt="),
    ],
)
def test_link_errors_say_what_is_missing(kwargs, match):
    with pytest.raises(FamilyError, match=match):
        bmb.Link("mine", **kwargs)


def test_custom_link_object_gives_the_builtin_density():
    """Poisson with Link('mylog', np.log, np.exp) (PyTensor inverse derived from np.exp) has
    the log link's density."""
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"x": X, "y": rng.poisson(3, N)})
    mylog = bmb.Link("mylog", link=np.log, linkinv=np.exp)
    family = bmb.Family("my_poisson", bmb.Likelihood("Poisson"), mylog)
    custom = bmb.Model("y ~ x", df, family=family)
    builtin = bmb.Model("y ~ x", df, family="poisson")
    assert custom.link is mylog
    values = {"Intercept_centered": 1.1, "x": 0.2}
    np.testing.assert_allclose(_logp(custom, values), _logp(builtin, values), rtol=1e-12)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: bmb.Likelihood("Gaussian", params=["mu", "sigma"], parent="mu"), "'Normal'"),
        (lambda: bmb.Likelihood("Logistic", params=["mu", "scale"], parent="mu"), "no parameter"),
        (lambda: bmb.Likelihood("Normal", params=["mu", "sigma"], parent="nu"), "parent"),
        (lambda: bmb.Likelihood("Logistic"), "needs params"),
        (lambda: bmb.Likelihood("Normal", dist=lambda *a: None), "of your own"),
        (
            lambda: bmb.Family("f", bmb.Likelihood("Normal"), {"mu": "identity", "sigma": "logit"}),
            "positive parameter",
        ),
        (lambda: bmb.Family("f", bmb.Likelihood("Normal"), {"sigma": "log"}), "parent 'mu'"),
        (lambda: bmb.Family("f", "Normal", "identity"), "parent|missing"),
    ],
)
def test_custom_family_errors(make, match):
    with pytest.raises((FamilyError, TypeError), match=match):
        make()


# ------------------------------------------------------------------ 4. truncated / constrained
def _bounded_data():
    rng = np.random.default_rng(11)
    y = np.clip(rng.normal(1, 2, N), -4.9, 4.9)
    return pd.DataFrame({"y": y, "x": X})


@pytest.mark.parametrize(
    "formula",
    ["truncated(y, -5, 5) ~ x", "truncated(y, -5, ub=5) ~ x", "constrained(y, -5, 5) ~ x"],
)
def test_positional_bounds_and_constrained_match_scipy(formula):
    df = _bounded_data()
    model = bmb.Model(formula, df)
    helper = model.response_helper
    assert helper.kind == "truncated"
    assert np.all(helper.lower_bound == -5) and np.all(helper.upper_bound == 5)
    assert model.response_component.term.is_constrained == formula.startswith("constrained")
    values = {"Intercept_centered": 0.9, "x": 0.4, "sigma": 1.7}
    mu = 0.9 + (X - X.mean()) * 0.4
    a, b = (-5 - mu) / 1.7, (5 - mu) / 1.7
    expected = stats.truncnorm.logpdf(df["y"], a, b, loc=mu, scale=1.7).sum()
    expected += _normal(model.priors.common["Intercept"], 0.9)
    expected += _normal(model.priors.common["x"], 0.4)
    expected += _half_t(model.priors.aux["sigma"], 1.7)
    np.testing.assert_allclose(_logp(model, values), expected, rtol=1e-9)


@pytest.mark.parametrize(
    "formula, match",
    [
        ("constrained(y, lo, 5) ~ x", "numbers as bounds"),
        ("truncated(y, -5, lb=-4) ~ x", "lb twice"),
        ("truncated(y, -5, 5, 6) ~ x", "at most two bounds"),
        ("constrained(y) ~ x", "at least one bound"),
    ],
)
def test_bound_errors(formula, match):
    df = _bounded_data().assign(lo=-6.0)
    with pytest.raises(FormulaError, match=match):
        bmb.Model(formula, df)


# ------------------------------------------------------------------ 5. Prior(transform=...)
def test_prior_transform_is_a_value():
    log = pm.distributions.transforms.log
    prior = bmb.Prior("HalfNormal", sigma=1, transform=log)
    assert dict(prior.options) == {"transform": log} and dict(prior.args) == {"sigma": 1}
    assert repr(prior) == "HalfNormal(sigma: 1, transform: log)"
    assert prior != bmb.Prior("HalfNormal", sigma=1)
    assert prior.replace(sigma=2).options["transform"] is log
    assert pickle.loads(pickle.dumps(prior)).options["transform"].name == "log"
    with pytest.raises(PriorError, match="PyMC transform"):
        bmb.Prior("Normal", mu=0, sigma=1, transform="ordered")
    with pytest.raises(PriorError, match="takes no transform"):
        bmb.Prior("LKJCorr", eta=2, transform=log)


def test_prior_transform_reaches_the_graph_and_the_fast_path_declines(data):
    ordered = pm.distributions.transforms.ordered
    df = data.assign(a=np.array(["p", "q", "r"] * (N // 3)))
    model = bmb.Model(
        "y ~ a",
        df,
        priors={
            "a": bmb.Prior("Normal", mu=0, sigma=2, transform=ordered),
            "sigma": bmb.Prior("HalfNormal", sigma=2, default_transform=None),
        },
    )
    assert model.density() is None and "transform" in model.fast_path_note
    pm_model = model.build()
    transforms = {rv.name: pm_model.rvs_to_transforms.get(rv) for rv in pm_model.free_RVs}
    assert transforms["sigma"] is None  # default_transform=None: sampled as sigma itself
    assert transforms["a"] is ordered  # Normal has no default transform: ordered alone
    assert "a_ordered__" in [v.name for v in pm_model.value_vars]
    # the density with the transform's Jacobian differs from the plain one only by that term
    value = {"Intercept_centered": 1.0, "a": np.array([-0.5, 0.7]), "sigma": 1.3}
    plain = bmb.Model(
        "y ~ a",
        df,
        priors={"a": bmb.Prior("Normal", mu=0, sigma=2), "sigma": bmb.Prior("HalfNormal", sigma=2)},
    )
    np.testing.assert_allclose(_logp(model, value), _logp(plain, value), rtol=1e-12)


@pytest.mark.parametrize(
    "formula, priors, match",
    [
        ("y ~ x + (1|g)", {"1|g": "outer"}, "set it on the prior of sigma"),
        ("y ~ x + (1 + x|g)", {"group_specific": "sigma"}, "jointly"),
    ],
)
def test_prior_transform_where_it_is_not_used_is_an_error(data, formula, priors, match):
    log = pm.distributions.transforms.log
    key, where = next(iter(priors.items()))
    prior = (
        bmb.Prior("Normal", mu=0, sigma=1, transform=log)
        if where == "outer"
        else bmb.Prior("Normal", mu=0, sigma=bmb.Prior("HalfNormal", sigma=1, transform=log))
    )
    with pytest.raises(PriorError, match=match):
        bmb.Model(formula, data, priors={key: prior})


def test_prior_transform_cannot_be_saved_but_pickles(data, tmp_path):
    prior = bmb.Prior("HalfNormal", sigma=1, default_transform=None)
    model = bmb.Model("y ~ x", data, priors={"sigma": prior})
    draws = {name: np.zeros((1, 5)) for name in ("Intercept", "x", "sigma")}
    with pytest.raises(PriorError, match="pickle the model"):
        bmb.save(model, fit_tree(posterior=draws), tmp_path / "m.nc")
    assert pickle.loads(pickle.dumps(model)).priors.aux["sigma"] == prior


# ------------------------------------------------------------------ 6. kappa
def test_fixed_kappa_is_the_quantile_q(data):
    """A fixed kappa fixes q = kappa**2 / (1 + kappa**2): PyMC's densities of the two
    parameterisations agree, and the model is the one with that q."""
    model = bmb.Model("y ~ x", data, family="asymmetriclaplace", priors={"kappa": 2.0})
    assert model.priors.aux["q"] == pytest.approx(0.8)
    y, mu, b = data["y"].to_numpy(), 1.0 + X, 1.3
    by_kappa = pm.logp(pm.AsymmetricLaplace.dist(b=b, kappa=2.0, mu=mu), y).eval()
    by_q = pm.logp(pm.AsymmetricLaplace.dist(b=b, q=0.8, mu=mu), y).eval()
    np.testing.assert_allclose(by_kappa, by_q, rtol=1e-12)
    same = bmb.Model("y ~ x", data, family="asymmetriclaplace", priors={"q": 0.8})
    values = {"Intercept_centered": 1.0, "x": 1.1, "b": 1.3}
    np.testing.assert_allclose(_logp(model, values), _logp(same, values), rtol=1e-12)


@pytest.mark.parametrize(
    "priors, match",
    [
        ({"kappa": bmb.Prior("HalfNormal", sigma=1)}, r"q = kappa\*\*2 / \(1 \+ kappa\*\*2\)"),
        ({"kappa": -1.0}, "> 0"),
        ({"kappa": 2.0, "q": 0.3}, "both"),
    ],
)
def test_kappa_errors_name_q(data, priors, match):
    with pytest.raises(PriorError, match=match) as info:
        bmb.Model("y ~ x", data, family="asymmetriclaplace", priors=priors)
    assert "'q'" in str(info.value)


# ------------------------------------------------------------------ 7. Formula
def test_formula_repr_and_additionals_lhs_as_bambi():
    formula = bmb.Formula("y ~ x", "sigma ~ z")
    assert repr(formula) == "Formula('y ~ x', 'sigma ~ z')"  # Bambi 0.21's repr
    assert repr(bmb.Formula("y ~ x")) == "Formula('y ~ x')"
    assert formula.additionals_lhs == ["sigma"]
    assert formula.get_all_formulas() == ["y ~ x", "sigma ~ z"]
    with pytest.raises(FormulaError, match="left of '~'"):
        bmb.Formula("y ~ x", "log(sigma) ~ z").additionals_lhs  # noqa: B018


# ------------------------------------------------------------------ 8. components
def test_components_as_bambi(data):
    df = data.assign(log_n=np.log(np.arange(1, N + 1)))
    model = bmb.Model(bmb.Formula("y ~ x + offset(log_n) + (1|g)", "sigma ~ z"), df)
    components = model.components
    assert list(components) == ["mu", "sigma"]
    mu, sigma = components["mu"], components["sigma"]
    assert mu.is_parent and list(mu.terms) == ["Intercept", "x", "1|g", "offset"]
    assert list(mu.common_terms) == ["x"]  # without the intercept, as in Bambi
    assert mu.intercept_term.name == "Intercept"
    assert mu.intercept_term.prior == model.priors.common["Intercept"]
    np.testing.assert_array_equal(mu.common_terms["x"].data, X)
    group = mu.group_specific_terms["1|g"]
    assert group.groups == ["a", "b", "c"] and group.factor == "g"
    np.testing.assert_array_equal(np.asarray(group.groups)[group.group_index], G)
    assert mu.group_specific_groups == {"g": ["1|g"]}
    np.testing.assert_allclose(mu.offset_terms["offset"].data, df["log_n"])
    assert list(sigma.terms) == ["Intercept", "z"]
    assert sigma.terms["z"].name == "sigma_z" and sigma.prefix == "sigma_"
    assert sigma.terms["z"].prior == model.priors.common["sigma_z"]
    plain = bmb.Model("y ~ x", data).components["sigma"]
    assert plain.name == "sigma" and plain.prior == bmb.Model("y ~ x", data).priors.aux["sigma"]


def test_response_component_names_the_fit_variable(bioassay):
    model = bmb.Model("p(deaths, n) ~ dose", bioassay, family="binomial")
    component = model.response_component
    term = component.term
    assert term.name == model.response_name == "deaths"
    assert term.expr == "p(deaths, n)"
    np.testing.assert_array_equal(term.data, bioassay["deaths"])
    np.testing.assert_array_equal(term.trials, bioassay["n"])
    assert not (term.is_censored or term.is_truncated or term.is_weighted)
    assert component.response is term


# ------------------------------------------------------------------ 9. inference_methods
def test_inference_methods_list_the_registered_engines():
    names = bmb.inference_methods.names
    assert set(names) == {"pymc"} and {"mcmc", "vi", "laplace"} <= set(names["pymc"])
    listed = [m for kind in names["pymc"].values() for m in kind]
    assert sorted(listed) == bmb.list_samplers()  # each registered engine once
    for engine in ("pymc", "nutpie", "numpyro", "blackjax", "auto"):
        assert engine in names["pymc"]["mcmc"]
    assert names["pymc"]["vi"] == ["pathfinder", "vi"]
    assert names["pymc"]["laplace"] == ["laplace"]


# ------------------------------------------------------------------ 10. plot_priors
def test_plot_priors_delegates(monkeypatch, data):
    import bayesformula.bambi_api as api

    calls = []
    monkeypatch.setattr(api, "_plot_priors", lambda *a, **k: calls.append((a, k)) or "axes")
    model = bmb.Model("y ~ x", data)
    assert model.plot_priors(draws=50, var_names=["x"]) == "axes"
    assert calls == [((model,), {"draws": 50, "var_names": ["x"]})]


def test_no_warning_from_the_views(data):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = bmb.Model("y ~ x", data)
        _ = model.components, model.response_component, bmb.inference_methods.names


def test_prior_transform_on_ordered_thresholds_is_an_error():
    ordered = pm.distributions.transforms.ordered
    df = pd.DataFrame({"y": pd.Categorical(["lo", "mid", "hi"] * 10, ["lo", "mid", "hi"]), "x": X})
    prior = bmb.Prior("Normal", mu=0, sigma=2, transform=ordered)
    with pytest.raises(PriorError, match="ordered transform"):
        bmb.Model("y ~ x", df, family="cumulative", priors={"threshold": prior})


def test_prior_transform_on_per_category_terms_with_columns_is_an_error():
    log = pm.distributions.transforms.log
    a = np.array(["p", "q", "r"] * (N // 3))
    df = pd.DataFrame({"y": np.array(["u", "v", "w", "v", "u"] * (N // 5)), "a": a, "x": X})
    prior = bmb.Prior("Normal", mu=0, sigma=2, transform=log)
    with pytest.raises(PriorError, match="several columns"):
        bmb.Model("y ~ a", df, family="categorical", priors={"a": prior})
    bmb.Model("y ~ x", df, family="categorical", priors={"x": prior})  # one column: used


def test_math_is_pymc_math_imported_on_first_use():
    import subprocess
    import sys

    code = (
        "import sys, bayesformula as bmb; assert 'pymc' not in sys.modules; "
        "import pymc.math; assert bmb.math is pymc.math; print(bmb.math.sigmoid(0.0).eval())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert float(out.stdout) == 0.5
    with pytest.raises(AttributeError, match="no attribute 'maths'"):
        bmb.maths  # noqa: B018


def test_custom_link_functions_are_checked_against_each_other():
    from scipy import special

    with pytest.raises(bmb.errors.FamilyError, match=r"linkinv\(-3\) is NaN.*other way round"):
        bmb.Link("mine", link=special.expit, linkinv=special.logit)
    with pytest.raises(bmb.errors.FamilyError, match=r"not each other's inverse"):
        bmb.Link("mine", link=np.log, linkinv=lambda eta: np.exp(2 * eta))
    with pytest.raises(bmb.errors.FamilyError, match="give different values"):
        bmb.Link("mine", link=special.logit, linkinv=special.expit, linkinv_backend=pt.exp)
    link = bmb.Link("mine", link=special.logit, linkinv=special.expit, linkinv_backend=pt.sigmoid)
    np.testing.assert_allclose(
        link.linkinv_pt(pt.as_tensor([0.0, 2.0])).eval(), special.expit([0.0, 2.0])
    )
