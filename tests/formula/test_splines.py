"""bs() B-spline bases (formulae's stateful transform) against scipy.interpolate.BSpline.

The reference is built independently: knots as R's ``splines::bs`` places them (boundary knots
at the data's range, interior knots at the quantiles ``seq(0, 1, length = k + 2)[-c(1, k + 2)]``
of the fitting data, R's default type-7 quantiles, which are numpy's default) and the basis from
``scipy.interpolate.BSpline.design_matrix``. New data must use the fitting data's knots (and the
fitting data's centring), which is what makes predictions from a spline model correct.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.interpolate import BSpline

from bayesformula.errors import FormulaError
from bayesformula.formula.design import evaluate_new_data, make_design

RNG = np.random.default_rng(5)
X = RNG.gamma(2.0, 2.0, 60)  # skewed, so quantile knots differ from equally spaced ones
DF = pd.DataFrame({"y": RNG.normal(size=60), "x": X})
NEW = pd.DataFrame({"x": [X.min(), 0.7, 2.5, 6.0, X.max()]}, index=list("abcde"))


def _knots(x, n_inner, degree=3, lower=None, upper=None):
    inner = np.quantile(x, np.linspace(0, 1, n_inner + 2)[1:-1])
    lower = x.min() if lower is None else lower
    upper = x.max() if upper is None else upper
    return np.r_[[lower] * (degree + 1), inner, [upper] * (degree + 1)]


def _basis(x, knots, degree=3):
    return BSpline.design_matrix(np.asarray(x, dtype=float), knots, degree).toarray()


def test_uncentered_basis_equals_scipy_on_fitting_and_new_data():
    d = make_design("y ~ bs(x, df=6, center=False)", DF)
    knots = _knots(
        X, 2
    )  # df = 6 = 2 interior knots + degree 3 + 1 (R: bs(x, df=6, intercept=TRUE))
    np.testing.assert_allclose(d.X, _basis(X, knots), atol=1e-12)
    (term,) = d.common_terms
    assert term.name == "bs(x, df=6, center=False)" and len(term.columns) == 6
    new = evaluate_new_data(d, NEW)
    np.testing.assert_allclose(new.X, _basis(NEW["x"], knots), atol=1e-12)


def test_default_basis_is_the_centred_span_with_fitting_knots():
    """bs(x, df=5) has R's knots for bs(x, df=5) (2 interior knots, 6 basis functions) and
    spans the same space minus the constant: its 5 columns are fixed combinations of the 6
    B-splines (found by least squares on the fitting data, exact to 1e-10) that sum to zero
    over the fitting data, and the same combinations give the new data's columns."""
    d = make_design("y ~ bs(x, df=5)", DF)
    assert d.X.shape == (60, 5)
    full = _basis(X, _knots(X, 2))
    combo, *_ = np.linalg.lstsq(full, d.X, rcond=None)
    np.testing.assert_allclose(full @ combo, d.X, atol=1e-10)
    np.testing.assert_allclose(d.X.sum(axis=0), 0, atol=1e-10)
    assert np.linalg.matrix_rank(np.column_stack([np.ones(60), d.X])) == 6

    new = evaluate_new_data(d, NEW)
    np.testing.assert_allclose(new.X, _basis(NEW["x"], _knots(X, 2)) @ combo, atol=1e-10)


def test_explicit_knots_degree_and_bounds():
    formula = "y ~ bs(x, knots=[1.5, 4.0], degree=2, lower_bound=0, upper_bound=30, center=False)"
    d = make_design(formula, DF)
    knots = np.r_[[0.0] * 3, 1.5, 4.0, [30.0] * 3]
    np.testing.assert_allclose(d.X, _basis(X, knots, 2), atol=1e-12)
    new = evaluate_new_data(d, pd.DataFrame({"x": [0.0, 20.0, 29.0]}))
    np.testing.assert_allclose(new.X, _basis([0.0, 20.0, 29.0], knots, 2), atol=1e-12)


def test_model_term_prior_and_interaction_error():
    """In a model the term is one coefficient vector with a dim over its columns, its default
    prior scales per column (docs/priors.md), and formulae refuses interactions with it."""
    import bayesformula as bf

    model = bf.Model("y ~ bs(x, df=4)", DF)
    (term,) = model.design.common_terms
    assert term.dim == "bs(x, df=4)_dim"
    sd_y, sd_cols = DF["y"].std(ddof=0), model.design.X.std(axis=0)
    np.testing.assert_allclose(model.priors.common[term.name].args["sigma"], 2.5 * sd_y / sd_cols)
    with pytest.raises(FormulaError, match="Interaction with .bs."):
        bf.Model("y ~ bs(x, df=4):x", DF)
