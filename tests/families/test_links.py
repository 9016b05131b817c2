"""Links: numpy and PyTensor inverses agree, and link(linkinv(x)) == x."""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt
import pytest

import bayesformula as bf
from bayesformula.errors import FamilyError
from bayesformula.families import LINKS


@pytest.mark.parametrize("name", sorted(LINKS))
def test_numpy_and_pytensor_inverse_agree(name):
    link = LINKS[name]
    positive = name in ("inverse", "inverse_squared")  # defined for eta > 0 only
    eta = np.linspace(0.2, 3, 13) if positive else np.linspace(-3, 3, 13)
    x = pt.dvector("x")
    np.testing.assert_allclose(link.linkinv_pt(x).eval({x: eta}), link.linkinv(eta), rtol=1e-12)
    np.testing.assert_allclose(link.link(link.linkinv(eta)), eta, rtol=1e-9, atol=1e-12)


def test_family_links_and_defaults():
    assert bf.get_family("gaussian").resolve_link(None).name == "identity"
    assert bf.get_family("binomial").resolve_link("probit").name == "probit"
    assert bf.get_family("gamma").resolve_link(None).name == "log"
    assert bf.get_family("bernoulli").resolve_link({"p": "cloglog"}).name == "cloglog"
    with pytest.raises(FamilyError, match="does not support link 'logit'"):
        bf.get_family("poisson").resolve_link("logit")


def test_registry_lists_core_families_and_accepts_custom():
    names = set(bf.list_families())
    assert {
        "gaussian",
        "t",
        "bernoulli",
        "binomial",
        "poisson",
        "negativebinomial",
        "gamma",
        "beta",
        "exponential",
    } <= names
    import dataclasses

    laplace = dataclasses.replace(bf.get_family("gaussian"), name="my_gaussian")
    bf.register_family(laplace)
    try:
        assert bf.get_family("my_gaussian") is laplace
        with pytest.raises(FamilyError, match="already registered"):
            bf.register_family(laplace)
    finally:
        from bayesformula.families.registry import FAMILIES

        FAMILIES.pop("my_gaussian")


def test_custom_link_object_is_used():
    import pandas as pd

    loglog = bf.Link(
        "loglog",
        link=lambda p: -np.log(-np.log(p)),
        linkinv=lambda e: np.exp(-np.exp(-e)),
        linkinv_pt=lambda e: pt.exp(-pt.exp(-e)),
    )
    df = pd.DataFrame({"y": [0, 1, 1, 0, 1], "x": [0.1, 0.4, 0.8, 0.3, 0.9]})
    model = bf.Model("y ~ x", df, family="bernoulli", link=loglog)
    assert model.link is loglog and "p = loglog" in str(model)
