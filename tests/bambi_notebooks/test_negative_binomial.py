"""Bambi's negative binomial notebook (docs/notebooks/negative_binomial.ipynb).

The notebook reads UCLA's ``nb_data.dta`` (days of absence of 314 high-school juniors, their
program and math score), which is not bundled. The test simulates a table with the same
columns and program sizes (167 Academic, 40 General, 107 Vocational), with the coefficients the
notebook reports as the truth (log link: 1.888, 2.339, 1.047 for the programs, -0.150 per
standard deviation of math, alpha 1.02).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

import bayesformula as bmb
from tests.bambi_notebooks.helpers import SMALL, assert_posterior_near, draws_of

PROGRAMS = ["Academic", "General", "Vocational"]


def _nb_data(seed: int = 17) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    prog = np.repeat([2.0, 1.0, 3.0], [167, 40, 107])  # Stata codes: 1 General, 2 Academic
    center = pd.Series(prog).map({1.0: 45.0, 2.0: 45.0, 3.0: 60.0}).to_numpy()
    math = np.clip(np.round(rng.normal(center, 20)), 1, 99)
    z = (math - math.mean()) / math.std()
    log_mu = pd.Series(prog).map({1.0: 2.339, 2.0: 1.888, 3.0: 1.047}).to_numpy() - 0.15 * z
    alpha = 1.02
    daysabs = rng.negative_binomial(alpha, alpha / (alpha + np.exp(log_mu))).astype(float)
    order = rng.permutation(prog.size)
    data = pd.DataFrame(
        {
            "id": 1001.0 + np.arange(prog.size),
            "gender": rng.choice(["male", "female"], prog.size),
            "math": math,
            "daysabs": daysabs,
            "prog": prog,
        }
    )
    return data.iloc[order].reset_index(drop=True)


@pytest.fixture(scope="module")
def data():
    data = _nb_data()
    data["prog"] = data["prog"].map({1: "General", 2: "Academic", 3: "Vocational"})
    return data


@pytest.fixture(scope="module")
def with_z(data):
    # scale() standardises with the population sd (formulae's np.std, as Bambi does)
    return data.assign(z=(data["math"] - data["math"].mean()) / data["math"].std(ddof=0))


def test_program_sizes(data):
    counts = data["prog"].value_counts()
    assert counts.to_dict() == {"Academic": 167, "Vocational": 107, "General": 40}


@pytest.fixture(scope="module")
def additive(data):
    model_additive = bmb.Model("daysabs ~ 0 + prog + scale(math)", data, family="negativebinomial")
    idata_additive = model_additive.fit(random_seed=1, **SMALL)
    return model_additive, idata_additive


@pytest.fixture(scope="module")
def interaction(data):
    model_interaction = bmb.Model(
        "daysabs ~ 0 + prog + scale(math) + prog:scale(math)", data, family="negativebinomial"
    )
    idata_interaction = model_interaction.fit(random_seed=2, **SMALL)
    return model_interaction, idata_interaction


def test_additive_model_matches_maximum_likelihood(additive, with_z):
    _, idata_additive = additive
    reference = smf.negativebinomial("daysabs ~ 0 + prog + z", with_z).fit(disp=0)
    posterior = idata_additive["posterior"]
    prog = posterior["prog"]
    for level in PROGRAMS:
        assert_posterior_near(
            draws_of(prog.sel(prog_dim=level)), reference.params[f"prog[{level}]"], label=level
        )
    assert_posterior_near(draws_of(posterior, "scale(math)"), reference.params["z"], label="z")
    # statsmodels' alpha is the inverse of PyMC's (variance mu + alpha mu^2)
    assert_posterior_near(
        draws_of(posterior, "alpha"), 1 / reference.params["alpha"], slack=0.5, label="alpha"
    )


def test_interaction_model_matches_maximum_likelihood(interaction, with_z):
    _, idata_interaction = interaction
    reference = smf.negativebinomial("daysabs ~ 0 + prog + z + prog:z", with_z).fit(disp=0)
    posterior = idata_interaction["posterior"]
    assert_posterior_near(draws_of(posterior, "scale(math)"), reference.params["z"], label="z")
    terms = posterior["prog:scale(math)"]
    dim = [d for d in terms.dims if d not in ("chain", "draw")][0]
    assert [str(v) for v in terms.coords[dim].to_numpy()] == ["General", "Vocational"]
    for level in ["General", "Vocational"]:
        assert_posterior_near(
            draws_of(terms.sel({dim: level})), reference.params[f"prog[T.{level}]:z"], label=level
        )


def test_predictions_for_each_program(interaction, data):
    model_interaction, idata_interaction = interaction
    math_score = np.arange(1, 100)
    posterior = idata_interaction["posterior"]
    mean, sd = data["math"].mean(), data["math"].std(ddof=0)
    z = (math_score - mean) / sd
    terms = posterior["prog:scale(math)"]
    dim = [d for d in terms.dims if d not in ("chain", "draw")][0]
    for program in PROGRAMS:
        new_data = pd.DataFrame({"math": math_score, "prog": [program] * len(math_score)})
        new_idata = model_interaction.predict(idata_interaction, data=new_data, inplace=False)
        prediction = draws_of(new_idata["posterior"], "mu")
        # the mean is exp(program + slope * scale(math)), with math scaled by the mean and sd
        # of the fitting data (not of the new data)
        slope = draws_of(posterior, "scale(math)")
        if program != "Academic":
            slope = slope + draws_of(terms.sel({dim: program}))
        level = draws_of(posterior["prog"].sel(prog_dim=program))
        expected = np.exp(level[..., None] + slope[..., None] * z)
        np.testing.assert_allclose(prediction, expected, rtol=1e-6)
