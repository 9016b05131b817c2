"""``check_family`` passes for every built-in family and catches broken ones."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import bayesformula as bf
from bayesformula.errors import FamilyError
from bayesformula.families import AuxParam
from bayesformula.families.registry import FAMILIES
from bayesformula.testing import check_family

BUILTIN = sorted(FAMILIES)


@pytest.mark.parametrize("name", BUILTIN)
def test_every_builtin_family_conforms(name):
    report = check_family(name)
    assert report.ok
    assert {"links", "likelihood", "draw matches likelihood", "predict response"} <= set(
        report.passed
    )


def test_wrong_numpy_draw_is_caught():
    """Weibull's draw without the gamma-function correction of the scale: a 10 % error."""
    weibull = bf.get_family("weibull")
    broken = dataclasses.replace(
        weibull,
        name="weibull_broken",
        draw=lambda rng, alpha, beta: beta * 1.1 * rng.weibull(np.broadcast_to(alpha, beta.shape)),
    )
    report = check_family(broken, raise_on_failure=False)
    assert list(report.failed) == ["draw matches likelihood"]
    with pytest.raises(FamilyError, match="draw matches likelihood"):
        check_family(broken)


def test_wrong_ordinal_draw_is_caught():
    """The per-level parent is checked too: categories drawn in reverse order (and codes past
    the last level) fail."""
    cumulative = bf.get_family("cumulative")
    draw = cumulative.draw
    reversed_levels = dataclasses.replace(
        cumulative, name="cumulative_reversed", draw=lambda rng, p: draw(rng, p[..., ::-1])
    )
    report = check_family(reversed_levels, raise_on_failure=False)
    assert list(report.failed) == ["draw matches likelihood"]
    shifted = dataclasses.replace(
        cumulative, name="cumulative_shifted", draw=lambda rng, p: draw(rng, p) + 1
    )
    report = check_family(shifted, raise_on_failure=False)
    assert "predict response" in report.failed
    assert "not codes 0..2" in report.failed["predict response"]


def test_draws_outside_the_support_are_caught():
    gamma = bf.get_family("gamma")
    broken = dataclasses.replace(
        gamma, name="gamma_signed", draw=lambda rng, alpha, beta: -rng.gamma(alpha, 1.0 / beta)
    )
    report = check_family(broken, raise_on_failure=False)
    assert "predict response" in report.failed
    assert "needs a response > 0" in report.failed["predict response"]


def test_bad_declarations_are_caught():
    poisson = bf.get_family("poisson")
    report = check_family(
        dataclasses.replace(poisson, name="nope", likelihood="Poison"), raise_on_failure=False
    )
    assert "likelihood" in report.failed
    fixed = dataclasses.replace(
        bf.get_family("asymmetriclaplace"),
        name="al_bad",
        aux=(
            bf.get_family("asymmetriclaplace").aux[0],
            AuxParam("q", lambda _: 1.5, support="unit"),
        ),
    )
    report = check_family(fixed, raise_on_failure=False)
    assert "default priors" in report.failed
    assert "strictly between 0 and 1" in report.failed["default priors"]


def test_user_family_works_end_to_end():
    """A Gumbel family registered by a user: conformance, a fit, and both predictions."""
    gumbel = bf.Family(
        name="gumbel_test",
        likelihood="Gumbel",
        parent="mu",
        links=("identity",),
        support="real",
        aux=(AuxParam("beta", lambda sd_y: bf.Prior("HalfNormal", sigma=sd_y)),),
        to_dist=lambda d: {"mu": d["mu"], "beta": d["beta"]},
        draw=lambda rng, mu, beta: rng.gumbel(*np.broadcast_arrays(mu, beta)),
        scale_by_response=True,
    )
    bf.register_family(gumbel)
    try:
        assert check_family("gumbel_test").ok
        rng = np.random.default_rng(4)
        df = pd.DataFrame({"x": rng.normal(size=200)})
        df["y"] = 1 + 2 * df["x"] + rng.gumbel(0, 0.5, 200)
        model = bf.Model("y ~ x", df, family="gumbel_test")
        idata = model.fit(
            draws=300, tune=300, chains=2, random_seed=1, progressbar=False, diagnostics=False
        )
        post = idata.posterior
        # truth: slope 2, scale 0.5; 600 draws, posterior sds about 0.03
        assert abs(float(post["x"].mean()) - 2) < 0.15
        assert abs(float(post["beta"].mean()) - 0.5) < 0.1
        model.predict(idata, kind="response")
        assert idata.posterior_predictive["y"].shape == (2, 300, 200)
    finally:
        del FAMILIES["gumbel_test"]
