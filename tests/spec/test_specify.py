"""`specify` and the frozen `ModelSpec` the facade holds."""

from __future__ import annotations

import dataclasses

import pytest

import bayesformula as bf
from bayesformula.spec import ModelSpec, specify


def test_specify_is_what_the_model_holds(bioassay):
    spec = specify("p(deaths, n) ~ dose", bioassay, family="binomial", dropna=True)
    model = bf.Model("p(deaths, n) ~ dose", bioassay, family="binomial", dropna=True)
    assert isinstance(model.spec, ModelSpec)
    assert list(spec.priors.common) == list(model.priors.common) == ["Intercept", "dose"]
    assert spec.priors.common["dose"] == model.priors.common["dose"]
    assert spec.family is model.family and spec.link.name == model.link.name == "logit"
    assert spec.options.dropna and model.spec.options.dropna
    assert str(model) == str(bf.Model.from_spec(spec))


def test_the_spec_and_the_model_views_are_read_only(bioassay):
    model = bf.Model("p(deaths, n) ~ dose", bioassay, family="binomial")
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.spec.priors = None
    for name in ("priors", "design", "family", "formula", "data"):
        with pytest.raises(AttributeError):
            setattr(model, name, None)


def test_user_options_are_kept_as_given_and_cannot_be_changed_later(bioassay):
    priors = {"dose": bf.Prior("Normal", mu=0, sigma=3)}
    model = bf.Model("p(deaths, n) ~ dose", bioassay, family="binomial", priors=priors)
    priors["dose"] = bf.Prior("Normal", mu=5, sigma=1)  # the caller's dict changes afterwards
    assert model.spec.options.priors["dose"] == bf.Prior("Normal", mu=0, sigma=3)
    assert model.priors.common["dose"] == bf.Prior("Normal", mu=0, sigma=3)
    with pytest.raises(TypeError):
        model.spec.options.priors["dose"] = None
