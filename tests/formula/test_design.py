"""Formula -> Design: terms, coding, transforms, group structure, new-data encoding."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayesformula as bf
from bayesformula.formula import evaluate_new_data, make_design


@pytest.fixture
def df():
    rng = np.random.default_rng(0)
    n = 24
    return pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "x": rng.normal(2, 3, n),
            "z": rng.uniform(1, 4, n),
            "a": np.tile(["p", "q", "r"], 8),
            "g1": np.repeat(["A", "B"], 12),
            "g2": np.tile(np.repeat(["u", "v", "w"], 2), 4),
        }
    )


def test_intercept_numeric_and_treatment_coded_categorical(df):
    d = make_design("y ~ x + a", df)
    assert d.intercept
    assert [t.name for t in d.common_terms] == ["x", "a"]
    a = d.common_terms[1]
    assert a.labels == ("q", "r") and a.dim == "a_dim"
    np.testing.assert_array_equal(d.X[:, a.slice], np.column_stack([df.a == "q", df.a == "r"]))


def test_no_intercept_forms(df):
    for formula in ("y ~ 0 + x", "y ~ x - 1"):
        d = make_design(formula, df)
        assert not d.intercept and d.X.shape == (24, 1)
    d = make_design("y ~ 0 + a", df)  # full-rank coding keeps every level
    assert d.common_terms[0].labels == ("p", "q", "r")


def test_interactions(df):
    d = make_design("y ~ x * a", df)
    assert [t.name for t in d.common_terms] == ["x", "a", "x:a"]
    inter = d.common_terms[2]
    np.testing.assert_allclose(d.X[:, inter.slice][:, 0], df.x * (df.a == "q"))
    d = make_design("y ~ x:z", df)
    np.testing.assert_allclose(d.X[:, 0], df.x * df.z)


def test_transforms_and_their_state_on_new_data(df):
    d = make_design(
        "y ~ np.log(z) + log(z) + sqrt(z) + scale(x) + center(x) + I(x**2) + {x**2}", df
    )
    X = d.X
    np.testing.assert_allclose(X[:, 0], np.log(df.z))
    np.testing.assert_allclose(X[:, 1], np.log(df.z))
    np.testing.assert_allclose(X[:, 2], np.sqrt(df.z))
    np.testing.assert_allclose(X[:, 3], (df.x - df.x.mean()) / np.std(df.x))  # ddof=0
    np.testing.assert_allclose(X[:, 4], df.x - df.x.mean())
    np.testing.assert_allclose(X[:, 5], df.x**2)
    assert X.shape[1] == 6  # I(x**2) and {x**2} are the same term
    np.testing.assert_allclose(make_design("y ~ {x**2}", df).X[:, 0], df.x**2)
    new = pd.DataFrame({"x": [df.x.mean()], "z": [1.0]})
    out = evaluate_new_data(d, new)
    # scale() and center() reuse the fitted mean: the fitted mean maps to 0
    np.testing.assert_allclose(out.X[0, 3:5], [0.0, 0.0], atol=1e-12)


def test_levels_argument_sets_reference(df):
    d = make_design("y ~ C(a, levels=['r', 'p', 'q'])", df)
    assert d.common_terms[0].labels == ("p", "q")


def test_group_terms_are_level_indices_not_dense_matrices(df):
    d = make_design("y ~ x + (x|g1) + (1|g1:g2) + (1|g1/g2)", df)
    names = [t.name for t in d.group_terms]
    assert names == ["1|g1", "x|g1", "1|g1:g2"]  # (1|g1/g2) = 1|g1 + 1|g1:g2, merged
    assert d.group_levels["g1"] == ("A", "B")
    assert len(d.group_levels["g1:g2"]) == 6
    idx = d.group_index["g1"]
    assert idx.shape == (24,) and idx.dtype == np.int64
    np.testing.assert_array_equal(idx, (df.g1 == "B").astype(int))
    slope = d.group_terms[1]
    assert slope.Z.shape == (24, 1) and slope.dims == ("g1__factor_dim",)
    np.testing.assert_allclose(slope.Z[:, 0], df.x)
    assert d.group_terms[2].kind == "intercept" and d.group_terms[2].factor == "g1:g2"
    labels = np.array(d.group_levels["g1:g2"])[d.group_index["g1:g2"]]
    np.testing.assert_array_equal(labels, df.g1 + ":" + df.g2)


def test_categorical_group_expression_has_expr_dim(df):
    d = make_design("y ~ (0 + a|g1)", df)
    term = d.group_terms[0]
    assert term.columns == ("p", "q", "r") and term.dims == ("g1__factor_dim", "a__expr_dim")


def test_response_helpers(df):
    df = df.assign(k=np.arange(24) % 5, n=5)
    d = make_design("p(k, n) ~ x + offset(np.log(z))", df)
    assert d.response.name == "k" and d.response.kind == "proportion"
    np.testing.assert_array_equal(d.response.trials, 5)
    np.testing.assert_allclose(d.offset, np.log(df.z))
    assert d.X.shape == (24, 1)  # the offset is not a column with a coefficient


def test_categorical_argument_and_bool_response(df):
    df = df.assign(code=np.tile([1, 2, 3], 8), yes=df.y > 0)
    d = make_design("y ~ code", df, categorical=["code"])
    assert d.common_terms[0].labels == ("2", "3")
    m = bf.Model("yes ~ x", df, family="bernoulli")
    np.testing.assert_array_equal(m.response_data.values, (df.y > 0).astype(int))


def test_model_coords_name_terms_and_levels(df):
    m = bf.Model("y ~ x + a + (1|g1) + (0 + a||g2)", df)
    coords = m.build().coords
    assert list(coords["a_dim"]) == ["q", "r"]
    assert list(coords["g1__factor_dim"]) == ["A", "B"]
    assert list(coords["g2__factor_dim"]) == ["u", "v", "w"]
    assert list(coords["a__expr_dim"]) == ["p", "q", "r"]
    assert len(coords["__obs__"]) == 24
    names = {v.name for v in m.build().free_RVs}
    assert {"Intercept_centered", "x", "a", "1|g1_sigma", "1|g1_offset", "a|g2_sigma"} <= names


def test_contrast_names_are_allowed(df):
    d = make_design("y ~ C(a, Sum)", df)
    # sum-to-zero coding: the last level is -1 in every column
    np.testing.assert_array_equal(d.X[df.a.to_numpy() == "r"], -1.0)


def test_pandas_category_order_sets_the_reference_level():
    """Like R's factors: the first category is the reference; unused categories are dropped."""
    df = pd.DataFrame(
        {
            "y": np.arange(6.0),
            "a": pd.Categorical(list("abcabc"), categories=["c", "b", "a", "unused"]),
            "g": pd.Categorical(list("xyxyxy"), categories=["y", "x"]),
        }
    )
    design = make_design("y ~ a + (1|g)", df)
    assert design.common_terms[0].columns == ("a[b]", "a[a]")
    np.testing.assert_array_equal(design.X, [[0, 1], [1, 0], [0, 0]] * 2)
    assert design.group_levels == {"g": ("y", "x")}
    new = evaluate_new_data(design, pd.DataFrame({"a": ["a", "c", "b"], "g": ["x", "y", "x"]}))
    np.testing.assert_array_equal(new.X, [[0, 1], [0, 0], [1, 0]])
    # plain strings keep formulae's sorted order
    plain = make_design("y ~ a", df.assign(a=df["a"].astype(str)))
    assert plain.common_terms[0].columns == ("a[b]", "a[c]")


GROUP_FORMULAS = [
    "y ~ x + (1|g)",
    "y ~ x + (x|g)",
    "y ~ (a|g)",
    "y ~ (0 + a|g)",
    "y ~ x + (1|g:h)",
    "y ~ (1|h) + (x|gc)",
    "y ~ x + (1|C(h))",
    "y ~ (1|g) + (0 + x|g)",
]


@pytest.mark.parametrize("formula", GROUP_FORMULAS)
def test_group_terms_match_formulae_own_encoding(formula):
    """Group terms are encoded without formulae's indicator matrix; levels, indices and
    expression columns equal what formulae itself computes, for fitted and new data."""
    import formulae as fm

    rng = np.random.default_rng(0)
    n = 60
    data = pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "x": rng.normal(size=n),
            "g": rng.choice(["b", "a", "c"], n),
            "h": rng.integers(0, 4, n),
            "a": rng.choice(["u", "v"], n),
        }
    )
    data["gc"] = pd.Categorical(data["g"], categories=["c", "a", "b"], ordered=True)
    design = make_design(formula, data)
    reference = fm.design_matrices(formula, data)
    new = pd.DataFrame(
        {"x": [0.5, 1.0, -1.0], "g": ["a", "zz", None], "h": [1, 9, 2], "a": ["u", "v", "u"]}
    )
    new["gc"] = pd.Categorical(["a", "b", "c"], categories=["c", "a", "b"], ordered=True)
    encoded = evaluate_new_data(design, new)
    terms = list(reference.group.terms.items())
    assert [t.name for t in design.group_terms] == [name for name, _ in terms]
    for (_, term), ours in zip(terms, design.group_terms, strict=True):
        index, _ = term.eval_new_data_group_index(data)
        np.testing.assert_array_equal(design.group_index[ours.factor], index)
        assert design.group_levels[ours.factor] == tuple(term.groups)
        z = np.asarray(term.expr.data, dtype=float)
        np.testing.assert_allclose(ours.Z, z[:, None] if z.ndim == 1 else z)
        new_index, new_levels = term.eval_new_data_group_index(new)
        np.testing.assert_array_equal(encoded.group_index[ours.factor], new_index)
        assert len(encoded.new_levels[ours.factor]) == len(new_levels)


def test_many_group_levels_need_no_rows_by_levels_matrix():
    """A 2,000-level factor over 40,000 rows: a rows x levels indicator would take 640 MB."""
    import tracemalloc

    rng = np.random.default_rng(1)
    n, levels = 40_000, 2_000
    data = pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "x": rng.normal(size=n),
            "g": rng.integers(0, levels, n).astype(str),
        }
    )
    tracemalloc.start()
    try:
        design = make_design("y ~ x + (x|g)", data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(design.group_levels["g"]) == levels
    assert peak < 64 * 2**20, f"peak {peak / 2**20:.0f} MB"
