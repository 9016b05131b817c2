"""Everything a user hands to another process pickles: priors, families and links (by registry
name), formulas, models (their specs), fits and errors, with plain pickle and cloudpickle."""

from __future__ import annotations

import copy
import dataclasses
import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor

import cloudpickle
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import bayesformula as bf
from bayesformula import compiled, errors
from bayesformula.core.tree import dataset
from bayesformula.families import FAMILIES, LINKS, AuxParam, Family, Link, get_family
from bayesformula.spec import ModelSpec, SpecOptions

PICKLERS = pytest.mark.parametrize("module", [pickle, cloudpickle], ids=["pickle", "cloudpickle"])

#: small, seeded fits: the same seed gives the same draws
SMALL = {"draws": 200, "tune": 200, "chains": 2, "progressbar": False, "diagnostics": False}


def round_trip(module, obj):
    return module.loads(module.dumps(obj))


@pytest.fixture(scope="module")
def gaussian_data() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    g = np.repeat(["a", "b", "c", "d"], 10)
    x = rng.normal(size=40)
    effect = pd.Series(g).map({"a": -1.0, "b": 0.0, "c": 0.5, "d": 1.0}).to_numpy()
    y = 1.0 + 0.6 * x + effect + rng.normal(0, np.exp(0.3 * x) * 0.5)
    return pd.DataFrame({"y": y, "x": x, "g": g}, index=[f"r{i}" for i in range(40)])


@pytest.fixture(scope="module")
def new_rows() -> pd.DataFrame:
    return pd.DataFrame({"x": [-1.0, 0.25, 2.0], "g": ["a", "d", "b"]}, index=[10, 20, 30])


# ------------------------------------------------------------------------------ priors
@PICKLERS
def test_prior_round_trip(module):
    prior = bf.Prior("StudentT", mu=[0.0, 1.5], sigma=2.5, nu=4, auto_scale=False)
    back = round_trip(module, prior)
    assert back == prior
    assert back.name == "StudentT" and back.auto_scale is False
    np.testing.assert_array_equal(back.args["mu"], [0.0, 1.5])


@PICKLERS
def test_nested_prior_round_trip(module):
    prior = bf.Prior(
        "Normal",
        mu=0,
        sigma=bf.Prior("HalfNormal", sigma=bf.Prior("Exponential", lam=2.0)),
    )
    back = round_trip(module, prior)
    assert back == prior
    inner = back.args["sigma"]
    assert isinstance(inner, bf.Prior) and inner.name == "HalfNormal"
    assert inner.args["sigma"] == bf.Prior("Exponential", lam=2.0)
    assert back != prior.replace(sigma=bf.Prior("HalfNormal", sigma=2))


def test_prior_copies_and_stays_immutable():
    prior = bf.Prior("Normal", mu=1, sigma=bf.Prior("HalfNormal", sigma=1))
    assert copy.deepcopy(prior) == prior and copy.copy(prior) == prior
    back = pickle.loads(pickle.dumps(prior))
    with pytest.raises(AttributeError, match="immutable"):
        back.name = "Cauchy"


# ------------------------------------------------------------------------------ families, links
@PICKLERS
@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_registered_family_unpickles_as_the_registry_object(module, name):
    family = get_family(name)
    assert round_trip(module, family) is family


@PICKLERS
@pytest.mark.parametrize("name", sorted(LINKS))
def test_registered_link_unpickles_as_the_registry_object(module, name):
    link = LINKS[name]
    assert round_trip(module, link) is link


def test_every_registered_family_and_link_is_listed():
    assert set(bf.list_families()) == set(FAMILIES)
    assert {"identity", "log", "logit", "probit", "cloglog", "softmax"} <= set(LINKS)


def _functions(obj) -> list:
    """The callables a family, auxiliary parameter or link holds (partials unwrapped)."""
    out = []
    for value in vars(obj).values():
        if isinstance(value, tuple):
            for item in value:
                if isinstance(item, AuxParam):
                    out.extend(_functions(item))
        elif callable(value):
            out.append(getattr(value, "func", value))
    return out


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_registry_holds_named_module_functions(name):
    family = get_family(name)
    functions = _functions(family) + _functions(LINKS[family.default_link])
    assert functions
    for function in functions:
        qualname = getattr(function, "__qualname__", "")
        assert "<lambda>" not in qualname and "<locals>" not in qualname, (name, qualname)
        pickle.dumps(function)  # pickle finds each by module and name


@PICKLERS
def test_registered_family_pickles_by_name(module, monkeypatch):
    custom = dataclasses.replace(get_family("gaussian"), name="pickle_gaussian")
    monkeypatch.setitem(FAMILIES, custom.name, custom)
    payload = module.dumps(custom)
    assert module.loads(payload) is custom
    del FAMILIES[custom.name]  # a process that never registered it
    with pytest.raises(errors.FamilyError, match="'pickle_gaussian'.*register_family"):
        module.loads(payload)


def _custom_family() -> Family:
    return Family(
        name="unregistered_normal",
        likelihood="Normal",
        parent="mu",
        links=("identity", "log"),
        support="real",
        aux=(AuxParam("sigma", lambda sd_y: bf.Prior("HalfNormal", sigma=2 * sd_y)),),
        to_dist=lambda d: {"mu": d["mu"], "sigma": d["sigma"]},
        draw=lambda rng, mu, sigma: rng.normal(mu, sigma),
        scale_by_response=True,
    )


@PICKLERS
def test_unregistered_family_with_lambdas_pickles_by_value(module):
    family = _custom_family()
    back = round_trip(module, family)
    assert back is not family and back.name == family.name
    assert (back.parent, back.links, back.support) == (family.parent, family.links, family.support)
    assert back.to_dist({"mu": 1.5, "sigma": 2.0}) == {"mu": 1.5, "sigma": 2.0}
    assert back.aux[0].default_prior(3.0) == bf.Prior("HalfNormal", sigma=6.0)
    draws = back.draw(np.random.default_rng(1), mu=np.zeros(4), sigma=1.0)
    np.testing.assert_array_equal(draws, np.random.default_rng(1).normal(np.zeros(4), 1.0))


@PICKLERS
def test_unregistered_variant_of_a_builtin_family_pickles_by_value(module):
    family = dataclasses.replace(get_family("cumulative"), name="my_cumulative")
    back = round_trip(module, family)
    assert back == family and back is not family
    for ours, theirs in (
        (back.parent_fn, family.parent_fn),
        (back.aux[0].data_prior, family.aux[0].data_prior),
    ):
        # functools.partial of a module function and the family's kind
        assert ours.func is theirs.func and ours.args == theirs.args == ("cumulative",)


@PICKLERS
def test_user_link_pickles_by_value(module):
    link = Link("square_root", np.sqrt, np.square, lambda x: x**2)
    back = round_trip(module, link)
    assert back.name == "square_root" and back.link is np.sqrt
    assert back.linkinv_pt(3.0) == 9.0


# ------------------------------------------------------------------------------ formulas
@PICKLERS
def test_formula_round_trip(module):
    formula = bf.Formula("y ~ x + (1|g)", "sigma ~ x")
    back = round_trip(module, formula)
    assert back == formula
    assert back.main == "y ~ x + (1|g)" and back.additionals == ("sigma ~ x",)


# ------------------------------------------------------------------------------ models
def _models(gaussian_data) -> dict:
    return {
        "group": lambda: bf.Model("y ~ x + (1|g)", gaussian_data),
        "binomial": lambda: bf.Model(
            "p(deaths, n) ~ dose", bf.load_data("bioassay"), family="binomial"
        ),
        "distributional": lambda: bf.Model(bf.Formula("y ~ x", "sigma ~ x"), gaussian_data),
    }


MODELS = pytest.mark.parametrize("kind", ["group", "binomial", "distributional"])


@pytest.fixture(scope="module")
def fits(gaussian_data) -> dict:
    """Each model with a small seeded fit."""
    out = {}
    for kind, make in _models(gaussian_data).items():
        model = make()
        out[kind] = (model, model.fit(random_seed=1, **SMALL))
    return out


def _same_spec(a: ModelSpec, b: ModelSpec) -> None:
    assert a is not b
    assert a.formula == b.formula and a.family is b.family and a.link is b.link
    assert a.options == b.options
    assert a.priors == b.priors
    assert dict(a.parameterization) == dict(b.parameterization) and a.anchor == b.anchor
    pd.testing.assert_frame_equal(a.data, b.data)
    for da, db in zip(a.designs, b.designs, strict=True):
        np.testing.assert_array_equal(da.X, db.X)
        assert da.common_terms == db.common_terms
        assert [t.name for t in da.group_terms] == [t.name for t in db.group_terms]
        assert da.group_levels == db.group_levels
        pd.testing.assert_index_equal(da.index, db.index)
    np.testing.assert_array_equal(a.response_data.values, b.response_data.values)


@PICKLERS
@MODELS
def test_unfitted_model_round_trip(module, kind, gaussian_data):
    model = _models(gaussian_data)[kind]()
    back = round_trip(module, model)
    assert isinstance(back, bf.Model)
    _same_spec(model.spec, back.spec)
    assert str(back) == str(model)


@PICKLERS
@MODELS
def test_spec_round_trip(module, kind, gaussian_data):
    spec = _models(gaussian_data)[kind]().spec
    back = round_trip(module, spec)
    assert isinstance(back, ModelSpec)
    _same_spec(spec, back)


@PICKLERS
def test_spec_options_round_trip(module, gaussian_data):
    priors = {"x": bf.Prior("Normal", mu=0, sigma=1), "sigma": bf.Prior("HalfNormal", sigma=2)}
    model = bf.Model("y ~ x + (1|g)", gaussian_data, priors=priors, noncentered={"g": False})
    options = model.spec.options
    back = round_trip(module, options)
    assert isinstance(back, SpecOptions) and back == options
    assert dict(back.priors) == priors and dict(back.noncentered) == {"g": False}
    with pytest.raises(TypeError):
        back.priors["y"] = bf.Prior("Normal", mu=0, sigma=1)  # still a read-only view
    model_back = round_trip(module, model)
    assert model_back.priors == model.priors
    assert model_back.priors.common["x"] == priors["x"]
    assert not model_back.parameterization["g"].noncentered


@pytest.mark.slow
@PICKLERS
@MODELS
def test_fitted_model_fits_the_same_draws(module, kind, fits):
    model, idata = fits[kind]
    model.build()  # compiled artefacts are cached per spec and never pickled
    back = round_trip(module, model)
    assert compiled.built_graph(back.spec, build=False) is None
    assert compiled.built_graph(model.spec, build=False) is not None
    _same_spec(model.spec, back.spec)
    refit = back.fit(random_seed=1, **SMALL)
    xr.testing.assert_equal(dataset(refit, "posterior"), dataset(idata, "posterior"))


@pytest.mark.slow
@PICKLERS
@MODELS
def test_fitted_model_predicts_identically(module, kind, fits, new_rows):
    model, idata = fits[kind]
    back = round_trip(module, model)
    data = new_rows
    if kind == "binomial":
        data = pd.DataFrame({"dose": [-0.5, 0.0, 0.9], "n": [5, 5, 5]})
    for predict_kind in ("response_params", "response"):
        ours = model.predict(idata, kind=predict_kind, data=data, inplace=False, random_seed=3)
        theirs = back.predict(idata, kind=predict_kind, data=data, inplace=False, random_seed=3)
        assert dataset(theirs, "posterior")[model.family.parent].sizes["__obs__"] == len(data)
        for group in ("posterior", "posterior_predictive"):
            if group in ours.children:
                xr.testing.assert_identical(dataset(ours, group), dataset(theirs, group))


@pytest.mark.slow
@PICKLERS
def test_fitted_results_round_trip(module, fits):
    model, idata = fits["group"]
    fitted = model.predict(idata, kind="response", inplace=False, random_seed=0)
    back = round_trip(module, fitted)
    assert back.identical(fitted)
    assert set(back.children) >= {"posterior", "posterior_predictive", "observed_data"}


@PICKLERS
def test_extra_namespace_functions_travel_with_the_spec(module, gaussian_data, new_rows):
    model = bf.Model(
        "y ~ shift(x) + (1|g)", gaussian_data, extra_namespace={"shift": lambda v: v + 10.0}
    )
    back = round_trip(module, model)
    np.testing.assert_array_equal(back.design.X, gaussian_data[["x"]].to_numpy() + 10.0)
    assert back.spec.options.extra_namespace == ("shift",)
    assert back.spec.extra_namespace["shift"](1.0) == 11.0


@PICKLERS
def test_dropped_rows_and_recorded_count_survive(module, gaussian_data):
    data = gaussian_data.copy()
    data.loc[data.index[:3], "x"] = np.nan
    with pytest.warns(UserWarning):
        model = bf.Model("y ~ x", data, dropna=True)
    assert model.design.n_dropped == 3
    back = round_trip(module, model)
    assert back.design.n_dropped == 3 and len(back.design.index) == 37
    recorded = model.spec.with_n_dropped(5)
    assert round_trip(module, recorded).design.n_dropped == 5


@PICKLERS
def test_model_of_an_unregistered_family(module, gaussian_data):
    model = bf.Model("y ~ x", gaussian_data, family=_custom_family())
    back = round_trip(module, model)
    assert back.family.name == "unregistered_normal"
    assert back.priors.aux["sigma"] == model.priors.aux["sigma"]
    np.testing.assert_array_equal(back.design.X, model.design.X)


# ------------------------------------------------------------------------------ errors
ERROR_CLASSES = [
    getattr(errors, name) for name in errors.__all__ if isinstance(getattr(errors, name), type)
]


@PICKLERS
@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda c: c.__name__)
def test_error_round_trip(module, cls):
    error = cls("column 'x' is not in the data; did you mean 'x1'?")
    back = round_trip(module, error)
    assert type(back) is cls
    assert back.args == error.args and str(back) == str(error)
    assert isinstance(back, errors.BayesformulaError)


# ------------------------------------------------------------------------------ processes
@pytest.mark.slow
def test_model_fits_in_a_worker_process(fits):
    model, _ = fits["group"]
    here = model.fit(random_seed=5, **SMALL)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        there = pool.submit(model.fit, random_seed=5, **SMALL).result(timeout=300)
    xr.testing.assert_equal(dataset(there, "posterior"), dataset(here, "posterior"))
    back = pickle.loads(pickle.dumps(there))
    assert back.identical(there)
