"""Invalid priors raise PriorError (a ValueError) naming the term, parameter or value; user
priors show up in ``print(model)`` and ``model.prior_table()``. Models are only constructed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayesformula as bf
from bayesformula.errors import BayesformulaError, PriorError

from ..helpers import raises_each

ERR = (PriorError, BayesformulaError, ValueError)


def _df() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "y": [1.0, 2.0, 3.0, 4.0, 2.0, 3.0],
            "dose": [0.0, 1.0, 2.0, 3.0, 1.0, 2.0],
            "g": ["a", "b", "a", "b", "c", "c"],
        }
    )


def _normal(sigma=1.0):
    return bf.Prior("Normal", mu=0, sigma=sigma)


def _group(sigma=1.0):
    return bf.Prior("Normal", mu=0, sigma=bf.Prior("HalfNormal", sigma=sigma))


# ------------------------------------------------------------------------------ unknown keys
@pytest.mark.parametrize(
    ("formula", "key", "suggestion", "prior"),
    [
        ("y ~ dose", "dos", "dose", _normal()),
        ("y ~ dose", "intercept", "Intercept", _normal()),
        ("y ~ dose", "sigmaa", "sigma", 1.0),
        ("y ~ dose + (1|g)", "1|G", "1|g", _group()),
        ("y ~ dose + (1|g)", "group_specifc", "group_specific", _group()),
    ],
)
def test_prior_for_unknown_term_suggests_the_nearest(formula, key, suggestion, prior):
    err = raises_each(
        lambda: bf.Model(formula, _df(), priors={key: prior}),
        ERR,
        match=rf"unknown term in priors '{key}'; did you mean '{suggestion}'\?",
    )
    message = str(err)
    assert "'Intercept'" in message and "'dose'" in message
    assert "as printed with the model" in message


def test_auxiliary_prior_for_a_family_without_it():
    df = _df().assign(y=[0, 1, 2, 3, 1, 2])
    err = raises_each(
        lambda: bf.Model("p(y, 5) ~ dose", df, family="binomial", priors={"sigma": 1.0}),
        ERR,
        match=r"family 'binomial' has no auxiliary parameter 'sigma'",
    )
    assert "Intercept, dose" in str(err)  # lists what can have a prior


def test_priors_not_a_dict():
    raises_each(
        lambda: bf.Model("y ~ dose", _df(), priors=[("dose", _normal())]),
        ERR,
        match=r"priors must be a dict of name -> bf\.Prior, got list",
    )


# ------------------------------------------------------------------------------ invalid Prior
@pytest.mark.parametrize(
    ("name", "suggestion"),
    [("Normall", "Normal"), ("normal", "Normal"), ("HalfNormall", "HalfNormal")],
)
def test_unknown_distribution_name(name, suggestion):
    raises_each(
        lambda: bf.Prior(name, mu=0, sigma=1),
        ERR,
        match=rf"unknown distribution '{name}'; did you mean '{suggestion}'\?",
    )


def test_distribution_name_not_a_string():
    raises_each(
        lambda: bf.Prior(3, mu=0),
        ERR,
        match=r"distribution name must be a string, got 3",
    )


def test_unknown_parameter_name():
    raises_each(
        lambda: bf.Prior("Normal", mu=0, sd=1),
        ERR,
        match=r"Normal has no parameter 'sd'; its parameters are mu, sigma, tau",
    )


@pytest.mark.parametrize(
    ("dist", "param", "value", "shown"),
    [
        ("Normal", "sigma", 0, "0"),
        ("Normal", "sigma", -2.5, "-2.5"),
        ("HalfNormal", "sigma", -1, "-1"),
        ("StudentT", "nu", 0, "0"),
        ("Exponential", "lam", -3, "-3"),
        ("Normal", "sigma", [1.0, -1.0], r"\[1\.0, -1\.0\]"),
    ],
)
def test_scale_parameters_must_be_positive(dist, param, value, shown):
    kwargs = {"mu": 0} if dist in ("Normal", "StudentT") else {}
    if dist == "StudentT":
        kwargs["sigma"] = 1
    raises_each(
        lambda: bf.Prior(dist, **kwargs, **{param: value}),
        ERR,
        match=rf"{dist}: parameter '{param}' must be > 0, got {shown}",
    )


@pytest.mark.parametrize(
    ("param", "value", "shown"),
    [("mu", np.nan, "nan"), ("sigma", np.inf, "inf"), ("mu", -np.inf, "-inf")],
)
def test_parameters_must_be_finite(param, value, shown):
    kwargs = {"mu": 0, "sigma": 1, param: value}
    raises_each(
        lambda: bf.Prior("Normal", **kwargs),
        ERR,
        match=rf"Normal: parameter '{param}' must be finite, got {shown}",
    )


def test_parameter_not_a_number():
    raises_each(
        lambda: bf.Prior("Normal", mu="zero", sigma=1),
        ERR,
        match=r"parameter 'mu' must be a number, an array or a Prior, got 'zero'",
    )


def test_uniform_bounds_in_order():
    raises_each(
        lambda: bf.Prior("Uniform", lower=2, upper=1),
        ERR,
        match=r"Uniform: lower \(2\) must be below upper \(1\)",
    )


def test_skewnormal_alpha_may_be_negative():
    prior = bf.Prior("SkewNormal", mu=0, sigma=1, alpha=-2)
    assert prior.args["alpha"] == -2


# ------------------------------------------------------------------------------ model priors
@pytest.mark.parametrize(
    "prior",
    [
        bf.Prior("HalfNormal", sigma=1),
        bf.Prior("StudentT", nu=3, mu=0, sigma=1),
        bf.Prior("Normal", mu=1, sigma=bf.Prior("HalfNormal", sigma=1)),
        bf.Prior("Normal", mu=0),
    ],
)
@pytest.mark.parametrize("key", ["1|g", "group_specific"])
def test_group_specific_prior_must_be_normal_zero_sigma(prior, key):
    err = raises_each(
        lambda: bf.Model("y ~ dose + (1|g)", _df(), priors={key: prior}),
        ERR,
        match=rf"group-specific term '{key}' takes a prior of the form "
        r"Normal\(mu=0, sigma=\.\.\.\)",
    )
    assert repr(prior) in str(err)


def test_group_specific_prior_not_a_prior():
    raises_each(
        lambda: bf.Model("y ~ dose + (1|g)", _df(), priors={"1|g": 1.0}),
        ERR,
        match=r"the prior for '1\|g' must be a bf\.Prior, got 1\.0",
    )


@pytest.mark.parametrize("key", ["dose", "Intercept"])
def test_common_prior_not_a_prior(key):
    raises_each(
        lambda: bf.Model("y ~ dose", _df(), priors={key: "Normal"}),
        ERR,
        match=rf"the prior for '{key}' must be a bf\.Prior, got 'Normal'",
    )


def test_common_key_not_a_prior():
    raises_each(
        lambda: bf.Model("y ~ dose", _df(), priors={"common": 2.5}),
        ERR,
        match=r"priors\['common'\] must be a bf\.Prior, got 2\.5",
    )


@pytest.mark.parametrize(
    ("value", "shown"), [(-1.0, "-1.0"), (0, "0"), (np.nan, "nan"), ("1", "'1'"), (True, "True")]
)
def test_fixed_auxiliary_value_must_be_a_positive_number(value, shown):
    raises_each(
        lambda: bf.Model("y ~ dose", _df(), priors={"sigma": value}),
        ERR,
        match=rf"the prior for 'sigma' must be a bf\.Prior or a number > 0 to fix it, "
        rf"got {shown}",
    )


def test_numeric_value_fixes_auxiliary_parameter():
    model = bf.Model("y ~ dose", _df(), priors={"sigma": 0.5})
    assert model.priors.aux["sigma"] == 0.5
    assert "sigma ~ 0.5 (fixed)" in str(model)
    table = model.prior_table().set_index("parameter")
    assert table.loc["sigma", "prior"] == "0.5 (fixed)"
    assert table.loc["sigma", "source"] == "user"


def test_integer_fixes_auxiliary_parameter_as_float():
    model = bf.Model("y ~ dose", _df(), priors={"sigma": 2})
    assert "sigma ~ 2.0 (fixed)" in str(model)


def test_user_priors_appear_in_print_and_table():
    priors = {
        "dose": bf.Prior("Normal", mu=0, sigma=3),
        "1|g": _group(sigma=2),
        "sigma": bf.Prior("HalfNormal", sigma=4),
    }
    model = bf.Model("y ~ dose + (1|g)", _df(), priors=priors)
    text = str(model)
    assert "dose ~ Normal(mu: 0, sigma: 3)" in text
    assert "1|g ~ Normal(mu: 0, sigma: HalfNormal(sigma: 2))" in text
    assert "sigma ~ HalfNormal(sigma: 4)" in text
    assert repr(model) == text

    table = model.prior_table()
    assert list(table.columns) == ["parameter", "kind", "prior", "source"]
    rows = table.set_index("parameter")
    assert rows.loc["dose", "prior"] == "Normal(mu: 0, sigma: 3)"
    assert rows.loc["1|g", "prior"] == "Normal(mu: 0, sigma: HalfNormal(sigma: 2))"
    assert rows.loc["sigma", "prior"] == "HalfNormal(sigma: 4)"
    assert rows.loc[["dose", "1|g", "sigma"], "source"].tolist() == ["user"] * 3
    assert rows.loc["Intercept", "source"] == "default"
    assert rows.loc[["Intercept", "dose", "1|g", "sigma"], "kind"].tolist() == [
        "common",
        "common",
        "group",
        "aux",
    ]


def test_common_and_group_specific_keys_mark_every_term_as_user():
    model = bf.Model(
        "y ~ dose + g + (1|g)",
        _df(),
        priors={"common": bf.Prior("Normal", mu=0, sigma=7), "group_specific": _group(5)},
    )
    rows = model.prior_table().set_index("parameter")
    assert rows.loc["dose", "prior"] == rows.loc["g", "prior"] == "Normal(mu: 0, sigma: 7)"
    assert rows.loc["1|g", "prior"] == "Normal(mu: 0, sigma: HalfNormal(sigma: 5))"
    assert rows.loc[["dose", "g", "1|g"], "source"].tolist() == ["user"] * 3
    # "common" does not touch the intercept
    assert rows.loc["Intercept", "source"] == "default"
    assert rows.loc["Intercept", "prior"] != "Normal(mu: 0, sigma: 7)"


def test_default_priors_are_marked_default():
    table = bf.Model("y ~ dose", _df()).prior_table()
    assert set(table["source"]) == {"default"}
    assert table["parameter"].tolist() == ["Intercept", "dose", "sigma"]
