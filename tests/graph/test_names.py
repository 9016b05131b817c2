"""Parameter names, dims and coordinates, as Bambi gives them.

* Every categorical term keeps its levels along a dim, even with one column (two levels with an
  intercept): ``a`` with dim ``a_dim`` = ``["lo"]``, on the PyMC graph and on the fast path (the
  two must name, shape and dim their variables alike: `check_density`).
* Numeric terms with one column (a 0/1 indicator too) are scalars.
* A numeric term with several columns (a spline's basis) has the column positions
  ``0, 1, ...`` as coordinates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import bayesformula as bf
from bayesformula.formula.design import make_design

RNG = np.random.default_rng(3)
N = 48
DATA = pd.DataFrame(
    {
        "a": RNG.choice(["lo", "hi"], N),
        "b": RNG.choice(["p", "q", "r"], N),
        "z": RNG.integers(0, 2, N),
        "x": RNG.normal(0, 1, N),
        "g": RNG.choice(["g1", "g2", "g3", "g4"], N),
    }
)
DATA["y"] = 1.0 + 0.5 * (DATA["a"] == "lo") + 0.3 * DATA["x"] + RNG.normal(0, 1, N)
DATA["k"] = RNG.binomial(1, 0.4, N)


def _dims(model) -> dict:
    pm_model = model.build()
    return {name: tuple(dims) for name, dims in pm_model.named_vars_to_dims.items()}


def _coords(model) -> dict:
    return {k: list(v) for k, v in model.build().coords.items()}


def _shape(model, name: str) -> tuple:
    return model.build().initial_point()[name].shape


def test_two_level_categorical_has_a_dim_with_its_level():
    model = bf.Model("y ~ a", DATA)
    dims, coords = _dims(model), _coords(model)
    assert dims["a"] == ("a_dim",)
    assert coords["a_dim"] == ["lo"]  # "hi" (first in order) is the reference level
    assert _shape(model, "a") == (1,)


def test_numeric_indicator_stays_scalar_and_c_makes_it_categorical():
    model = bf.Model("y ~ z + x", DATA)
    dims = _dims(model)
    assert "z" not in dims and "x" not in dims
    assert _shape(model, "z") == ()
    model = bf.Model("y ~ C(z)", DATA)
    assert _dims(model)["C(z)"] == ("C(z)_dim",)
    assert _coords(model)["C(z)_dim"] == ["1"]


@pytest.mark.parametrize(
    ("formula", "name", "levels"),
    [
        ("y ~ 0 + a", "a", ["hi", "lo"]),
        ("y ~ a:x", "a:x", ["hi", "lo"]),
        ("y ~ x + a:x", "a:x", ["lo"]),
        ("y ~ a + b", "a", ["lo"]),
        ("y ~ a + b", "b", ["q", "r"]),
    ],
)
def test_categorical_terms_and_interactions_keep_levels(formula, name, levels):
    model = bf.Model(formula, DATA)
    assert _dims(model)[name] == (f"{name}_dim",)
    assert _coords(model)[f"{name}_dim"] == levels


def test_design_marks_categorical_terms():
    design = make_design("y ~ a + z + a:x", DATA)
    by_name = {t.name: t for t in design.common_terms}
    assert by_name["a"].categorical and by_name["a"].dim == "a_dim"
    assert by_name["a"].labels == ("lo",)
    assert by_name["a:x"].categorical and by_name["a:x"].dim == "a:x_dim"
    assert not by_name["z"].categorical and by_name["z"].dim is None


def test_group_term_with_two_level_categorical_keeps_its_level():
    model = bf.Model("y ~ x + (0 + a|g)", DATA)
    dims, coords = _dims(model), _coords(model)
    assert dims["a|g"] == ("g__factor_dim", "a__expr_dim")
    assert coords["a__expr_dim"] == ["hi", "lo"]
    model = bf.Model("y ~ x + (a||g)", DATA)
    dims, coords = _dims(model), _coords(model)
    assert dims["a|g"] == ("g__factor_dim", "a__expr_dim")
    assert dims["a|g_sigma"] == ("a__expr_dim",)
    assert coords["a__expr_dim"] == ["lo"]
    assert dims["1|g"] == ("g__factor_dim",)


def test_correlated_block_labels_a_two_level_categorical_by_level():
    model = bf.Model("y ~ x + (1 + a|g)", DATA)
    coords, dims = _coords(model), _dims(model)
    assert coords["1+a|g__dim"] == ["Intercept", "a[lo]"]
    assert coords["1+a|g__corr_dim"] == ["Intercept,a[lo]"]
    assert dims["a|g"] == ("g__factor_dim", "a__expr_dim")
    assert dims["a|g_sigma"] == ("a__expr_dim",)


def test_categorical_family_term_keeps_level_and_categories():
    data = DATA.assign(cat=RNG.choice(["u", "v", "w"], N))
    model = bf.Model("cat ~ a", data, family="categorical")
    dims = _dims(model)
    assert dims["a"][0] == "a_dim"
    assert _shape(model, "a") == (1, 2)


def test_two_level_term_logp_equals_scipy():
    """The one-coefficient vector enters the linear predictor as the scalar did."""
    prior = bf.Prior("Normal", mu=0, sigma=2)
    model = bf.Model(
        "y ~ a",
        DATA,
        priors={"Intercept": prior, "a": prior, "sigma": bf.Prior("HalfNormal", sigma=3)},
        center_predictors=False,
    )
    pm_model = model.build()
    point = {"Intercept": 0.7, "a": np.array([0.4]), "sigma_log__": np.log(1.3)}
    ours = float(pm_model.compile_logp()(point))
    mu = 0.7 + 0.4 * (DATA["a"] == "lo").to_numpy()
    expected = (
        stats.norm(0, 2).logpdf(0.7)
        + stats.norm(0, 2).logpdf(0.4)
        + stats.halfnorm(scale=3).logpdf(1.3)
        + np.log(1.3)
        + stats.norm(mu, 1.3).logpdf(DATA["y"]).sum()
    )
    assert ours == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize(
    ("formula", "family"),
    [
        ("y ~ a + z + x", "gaussian"),
        ("y ~ a + (a||g)", "gaussian"),
        ("k ~ a + b + (0 + a||g)", "bernoulli"),
    ],
)
def test_fast_path_names_categorical_terms_like_the_graph(formula, family):
    model = bf.Model(formula, DATA, family=family, noncentered=False)
    density = model.density()
    assert density is not None, model.fast_path_note
    assert density.dims["a"] == ("a_dim",) and density.shapes["a"] == (1,)
    assert density.coords["a_dim"] == ["lo"]
    if "(a||g)" in formula:
        assert density.shapes["a|g"] == (4, 1) and density.dims["a|g"] == (
            "g__factor_dim",
            "a__expr_dim",
        )
        assert density.shapes["a|g_sigma"] == (1,)
    report = bf.check_density(model.spec)
    assert report.ok, str(report)


def test_spline_coords_are_basis_positions():
    knots = np.quantile(DATA["x"], [0.25, 0.5, 0.75])
    model = bf.Model("y ~ bs(x, knots=iknots)", DATA, extra_namespace={"iknots": knots})
    name = "bs(x, knots=iknots)"
    assert _dims(model)[name] == (f"{name}_dim",)
    assert _coords(model)[f"{name}_dim"] == [0, 1, 2, 3, 4, 5]
    (term,) = model.design.common_terms
    assert term.columns[5] == f"{name}[5]" and term.labels == (0, 1, 2, 3, 4, 5)
    density = model.density()
    assert density is not None and density.coords[f"{name}_dim"] == [0, 1, 2, 3, 4, 5]


def test_spline_group_expression_coords_are_basis_positions():
    model = bf.Model("y ~ x + (0 + bs(x, df=3)||g)", DATA)
    coords = _coords(model)
    assert coords["bs(x, df=3)__expr_dim"] == [0, 1, 2]
