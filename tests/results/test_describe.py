"""``print(model)``: priors grouped under the parameter they belong to, as Bambi prints them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayesformula as bf

RNG = np.random.default_rng(7)
N = 60
DATA = pd.DataFrame(
    {
        "y": RNG.normal(size=N),
        "x": RNG.uniform(0, 1, N),
        "g": RNG.choice(["g1", "g2", "g3"], N),
        "c": RNG.poisson(2, N),
    }
)


def _sections(text: str) -> dict[str, list[str]]:
    """``target = ...`` header -> the lines under it, up to the next header or section."""
    out: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("    target = "):
            current = line.strip()
            out[current] = []
        elif current is not None and line.startswith("        "):
            out[current].append(line.strip())
        else:
            current = None
    return out


def test_distributional_priors_are_grouped_by_parameter():
    model = bf.Model(bf.Formula("y ~ x + (1|g)", "sigma ~ x + (1|g)"), DATA)
    text = str(model)
    sections = _sections(text)
    assert list(sections) == ["target = mu", "target = sigma"]
    mu, sigma = sections["target = mu"], sections["target = sigma"]
    names = lambda lines: [line.split(" ~ ")[0] for line in lines if " ~ " in line]  # noqa: E731
    assert names(mu) == ["Intercept", "x", "1|g"]
    assert names(sigma) == ["sigma_Intercept", "sigma_x", "sigma_1|g"]
    assert sigma[0] == "Common-level effects" and "Group-level effects" in sigma
    assert "sigma_Intercept" in sigma[1] and "predictors' means" in " ".join(sigma[1:3])
    # the parameterisation of the group effects stays in the description
    assert "Group effects (parameterisation per grouping factor):" in text
    assert "g: non-centered" in text or "g: centered" in text


def test_zero_inflated_psi_formula_under_its_own_target():
    model = bf.Model(bf.Formula("c ~ x", "psi ~ x"), DATA, family="zero_inflated_poisson")
    sections = _sections(str(model))
    assert list(sections) == ["target = mu", "target = psi"]
    assert not any("psi" in line for line in sections["target = mu"])
    assert any(line.startswith("psi_x ~ Normal") for line in sections["target = psi"])


@pytest.mark.parametrize("family", ["zero_inflated_poisson", "negativebinomial"])
def test_scalar_auxiliary_parameter_stays_under_the_parent(family):
    model = bf.Model("c ~ x", DATA, family=family)
    sections = _sections(str(model))
    assert list(sections) == ["target = mu"]
    lines = sections["target = mu"]
    aux = lines.index("Auxiliary parameters")
    assert lines[aux + 1].startswith(("psi ~ ", "alpha ~ "))


def test_correlated_effects_of_an_auxiliary_formula():
    model = bf.Model(bf.Formula("y ~ x", "sigma ~ (1 + x|g)"), DATA)
    sections = _sections(str(model))
    assert "sigma_1+x|g_corr ~ LKJCorr(eta: 1)  (correlations)" in sections["target = sigma"]
    assert not any("|g" in line for line in sections["target = mu"])
