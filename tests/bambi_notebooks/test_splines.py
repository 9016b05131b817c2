"""Bambi's splines notebook (docs/notebooks/splines_cherry_blossoms.ipynb), on the bundled
``cherry_blossoms`` data: B-splines with interior knots computed in the caller's code.

Formula strings here do not see the caller's variables (docs/bambi-differences.md, "Formula
strings cannot see the caller's variables"): the knots are passed with ``extra_namespace``.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.interpolate import BSpline

import bayesformula as bmb
from bayesformula.errors import FormulaError
from tests.bambi_notebooks.helpers import SMALL, assert_posterior_near, draws_of

SEED = 7355608


@pytest.fixture(scope="module")
def data():
    data = bmb.load_data("cherry_blossoms")
    data = data.dropna(subset=["doy"]).reset_index(drop=True)
    assert data.shape == (827, 5)
    return data


@pytest.fixture(scope="module")
def iknots(data):
    num_knots = 15
    knots = np.quantile(data["year"], np.linspace(0, 1, num_knots))
    return knots[1:-1]


@pytest.fixture(scope="module")
def priors():
    return {
        "Intercept": bmb.Prior("Normal", mu=100, sigma=10),
        "common": bmb.Prior("Normal", mu=0, sigma=10),
        "sigma": bmb.Prior("Exponential", lam=1),
    }


def _basis(year: np.ndarray, iknots: np.ndarray, intercept: bool) -> np.ndarray:
    """Cubic B-spline basis with boundary knots at the data's range, built with scipy."""
    t = np.r_[[year.min()] * 4, iknots, [year.max()] * 4]
    basis = BSpline.design_matrix(year, t, 3).toarray()
    return basis if intercept else basis[:, 1:]


@pytest.fixture(scope="module")
def least_squares(data, iknots):
    year = data["year"].to_numpy(dtype=float)
    x = np.column_stack([np.ones(len(year)), _basis(year, iknots, intercept=False)])
    coef, *_ = np.linalg.lstsq(x, data["doy"].to_numpy(), rcond=None)
    fitted = x @ coef
    residual = data["doy"].to_numpy() - fitted
    return fitted, np.sqrt(residual @ residual / (len(year) - x.shape[1]))


def test_knots_from_the_callers_namespace(data, iknots, priors):
    # as the notebook writes it: the formula refers to a variable of the caller
    with pytest.raises(FormulaError, match="extra_namespace"):
        bmb.Model("doy ~ bs(year, knots=iknots, intercept=True)", data, priors=priors)


@pytest.fixture(scope="module")
def model_and_fit(data, iknots, priors):
    model = bmb.Model(
        "doy ~ bs(year, knots=iknots, intercept=True)",
        data,
        priors=priors,
        extra_namespace={"iknots": iknots},
    )
    idata = model.fit(random_seed=SEED, idata_kwargs={"log_likelihood": True}, **SMALL)
    return model, idata


def test_basis_is_the_cubic_b_spline_basis(data, iknots, model_and_fit):
    model, _ = model_and_fit
    # 13 interior knots + 4 = 17 basis functions with intercept=True
    name = "bs(year, knots=iknots, intercept=True)"
    columns = [c for term in model.design.common_terms if term.name == name for c in term.columns]
    assert len(columns) == 17
    design = np.asarray(model.design.X)[:, -17:]
    reference = _basis(data["year"].to_numpy(dtype=float), iknots, intercept=True)
    np.testing.assert_allclose(design, reference, atol=1e-10)


def test_fitted_curve(model_and_fit, least_squares):
    model, idata = model_and_fit
    model.predict(idata)
    mu = draws_of(idata["posterior"], "mu")
    fitted, sigma = least_squares
    # the spline's coefficients are well determined except for the near-constant direction
    # the Intercept shares with the basis (set by the priors); the curve is the least-squares
    # fit in the spline space
    assert_posterior_near(mu, fitted, slack=0.5, label="mu")
    assert_posterior_near(draws_of(idata["posterior"], "sigma"), sigma, 0.5, "sigma")


def test_spline_without_its_own_intercept(data, iknots, priors, model_and_fit, least_squares):
    model_new = bmb.Model(
        "doy ~ bs(year, knots=iknots)", data, priors=priors, extra_namespace={"iknots": iknots}
    )
    idata_new = model_new.fit(random_seed=SEED, idata_kwargs={"log_likelihood": True}, **SMALL)
    model_new.predict(idata_new)
    fitted, _ = least_squares
    # the same function space: the same curve as the first model
    assert_posterior_near(draws_of(idata_new["posterior"], "mu"), fitted, 0.5, "mu")
