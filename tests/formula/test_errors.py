"""Bad formulas and bad data raise typed bayesformula errors whose messages name the problem.

Every error test checks the bayesformula class *and* the builtin it subclasses (users catch
either), and matches a meaningful part of the message: the column, the term, the count or the
suggested fix. Models are only constructed (no compile, no sampling), so these tests are fast.
"""

from __future__ import annotations

import os  # noqa: F401  (deliberately in scope: a formula must not be able to reach it)
import re
import warnings

import numpy as np
import pandas as pd
import pytest

import bayesformula as bf
from bayesformula.errors import (
    BayesformulaError,
    DataError,
    DataTypeError,
    FormulaError,
    FormulaSyntaxError,
    UnknownNameError,
    UnsafeFormulaError,
)

from ..helpers import raises_each


def _df() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "y": [1.0, 2.0, 3.5, 4.0, 6.0],
            "x": [0.0, 1.0, 2.0, 3.0, 4.0],
            "g": ["a", "b", "a", "b", "c"],
        },
        index=["r0", "r1", "r2", "r3", "r4"],
    )


def _caret_column(message: str, formula: str) -> int:
    """Column (within ``formula``) of the ``^`` printed on the line below the formula."""
    lines = message.splitlines()
    for i, line in enumerate(lines[:-1]):
        if line.strip() == formula.strip() and "^" in lines[i + 1]:
            return lines[i + 1].index("^") - line.index(formula.strip())
    raise AssertionError(f"no formula line with a caret below it in:\n{message}")


# ------------------------------------------------------------------------------ syntax errors
@pytest.mark.parametrize(
    ("formula", "offender"),
    [("y ~ x $ 2", "$"), ("y ~ x + g & x", "&"), ("y ~ x ? g", "?")],
)
def test_syntax_error_shows_caret_under_offending_character(formula, offender):
    err = raises_each(
        lambda: bf.Model(formula, _df()),
        (FormulaSyntaxError, FormulaError, ValueError),
        match=re.escape(f"Unexpected character: {offender}"),
    )
    message = str(err)
    assert formula in message
    assert _caret_column(message, formula) == formula.index(offender)
    assert "Check the operators" in message


def test_syntax_error_caret_under_dangling_operator():
    formula = "y ~ x + * g"
    with pytest.raises(FormulaSyntaxError, match=r"parse '\*'") as info:
        bf.Model(formula, _df())
    assert _caret_column(str(info.value), formula) == formula.index("*")


def test_unclosed_parenthesis_points_at_end():
    formula = "y ~ (x + g"
    err = raises_each(
        lambda: bf.Model(formula, _df()),
        (FormulaSyntaxError, ValueError),
        match=r"Expect '\)'",
    )
    assert _caret_column(str(err), formula) == len(formula)


@pytest.mark.parametrize(
    ("formula", "match"),
    [
        ("", "formula is empty"),
        ("   ", "formula is empty"),
        ("y + x", r"has no '~'.*'response ~ predictors'"),
        ("~ x", "no response on the left of '~'"),
        ("y ~ x ~ g", "more than one '~'"),
    ],
)
def test_malformed_formula_is_a_syntax_error(formula, match):
    raises_each(lambda: bf.Model(formula, _df()), (FormulaSyntaxError, ValueError), match)


@pytest.mark.parametrize("formula", ["y ~ x z", "y ~ x ) + z", "y ~ x + 1 2"])
def test_trailing_tokens_are_not_silently_dropped(formula):
    df = _df().assign(z=[1.0, 0.0, 1.0, 0.0, 1.0])
    with pytest.raises(FormulaSyntaxError, match=re.escape(formula)):
        bf.Model(formula, df)


def test_formula_that_is_not_a_string():
    raises_each(
        lambda: bf.Model(3, _df()),
        (DataTypeError, TypeError),
        match="a formula must be a string, got int",
    )


# ------------------------------------------------------------------------------ unknown names
@pytest.mark.parametrize(
    ("formula", "wrong", "suggested"),
    [
        ("y ~ xx", "xx", "x"),
        ("y ~ x + gg", "gg", "g"),
        ("yy ~ x", "yy", "y"),
        ("y ~ x + (1|gg)", "gg", "g"),
        ("y ~ np.log(xx)", "xx", "x"),
    ],
)
def test_unknown_column_is_named_with_suggestion(formula, wrong, suggested):
    err = raises_each(
        lambda: bf.Model(formula, _df()),
        (UnknownNameError, FormulaError, KeyError, ValueError),
        match=re.escape(f"unknown column '{wrong}'; did you mean '{suggested}'?"),
    )
    message = str(err)
    # a KeyError would normally show its message quoted; ours reads as plain text
    assert message.startswith("unknown column")
    assert "Data columns: 'g', 'x', 'y'" in message
    assert "extra_namespace" in message


def test_unknown_column_without_close_match_lists_columns():
    err = raises_each(
        lambda: bf.Model("y ~ temperature", _df()),
        (UnknownNameError, KeyError),
        match=r"unknown column 'temperature'\. Data columns: 'g', 'x', 'y'",
    )
    assert "did you mean" not in str(err)


# ------------------------------------------------------------------------------ data problems
@pytest.mark.parametrize(
    ("data", "typename"),
    [
        (np.array([[1.0, 0.0], [2.0, 1.0]]), "ndarray"),
        ([[1.0, 0.0], [2.0, 1.0]], "list"),
        (None, "NoneType"),
        (pd.Series([1.0, 2.0], name="y"), "Series"),
    ],
)
def test_data_not_a_dataframe(data, typename):
    raises_each(
        lambda: bf.Model("y ~ x", data),
        (DataTypeError, BayesformulaError, TypeError),
        match=rf"data must be a (pandas )?DataFrame.*got {typename}",
    )


def test_empty_data():
    empty = _df().iloc[:0]
    raises_each(
        lambda: bf.Model("y ~ x", empty),
        (DataError, BayesformulaError, ValueError),
        match="data has no rows",
    )


def _with_missing() -> pd.DataFrame:
    df = _df()
    df.loc["r1", "x"] = np.nan
    df.loc["r3", "y"] = np.nan
    df["unused"] = [np.nan] * 5  # not in the formula: must not count
    return df


def test_missing_values_are_an_error_that_counts_rows_and_suggests_dropna():
    err = raises_each(
        lambda: bf.Model("y ~ x", _with_missing()),
        (DataError, BayesformulaError, ValueError),
        match=r"2 of 5 rows have missing values",
    )
    message = str(err)
    assert "Pass dropna=True" in message
    assert "'y': 1" in message and "'x': 1" in message
    assert "'r1'" in message and "'r3'" in message
    assert "unused" not in message


def test_missing_values_in_unused_columns_are_ignored():
    df = _df().assign(unused=np.nan)
    model = bf.Model("y ~ x", df)
    assert model.design.n_obs == 5


def test_dropna_drops_rows_and_warns_how_many():
    with pytest.warns(UserWarning, match=r"dropped 2 of 5 rows with missing values") as record:
        model = bf.Model("y ~ x", _with_missing(), dropna=True)
    assert model.design.n_obs == 3
    assert list(model.design.index) == ["r0", "r2", "r4"]
    assert model.design.n_dropped == 2
    assert "(2 rows with missing values dropped)" in str(model)
    # the warning points at the caller's line, not at bayesformula internals
    ours = [w for w in record if "dropped 2 of 5" in str(w.message)]
    assert ours and ours[0].filename == __file__


def test_dropna_with_nothing_left_is_an_error():
    df = _df().assign(x=np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "dropped" warning before the error
        raises_each(
            lambda: bf.Model("y ~ x", df, dropna=True),
            (DataError, ValueError),
            match=r"all 5 rows have missing values \('x': 5\); nothing is left",
        )


# ------------------------------------------------------------------------------ safety
def test_os_system_is_refused_and_not_run(tmp_path):
    target = tmp_path / "pwned"
    formula = f"y ~ os.system('touch {target}') + x"
    err = raises_each(
        lambda: bf.Model(formula, _df()),
        (UnsafeFormulaError, UnknownNameError, FormulaError, KeyError, ValueError),
        match=r"unknown function 'os\.system'",
    )
    assert "extra_namespace" in str(err)
    assert not target.exists(), "the shell command in the formula was executed"


def test_echo_hacked_is_refused():
    raises_each(
        lambda: bf.Model("y ~ os.system('echo hacked') + x", _df()),
        (UnsafeFormulaError, KeyError),
        match=r"unknown function 'os\.system' in term 'os\.system\('echo hacked'\)'",
    )


@pytest.mark.parametrize(
    ("template", "callee"),
    [
        ("y ~ np.lib.npyio.os.system('touch {p}') + x", "np.lib.npyio.os.system"),
        ("y ~ np.testing.os.system('touch {p}') + x", "np.testing.os.system"),
        ("y ~ numpy.lib.npyio.os.system('touch {p}') + x", "numpy.lib.npyio.os.system"),
        ("y ~ np.load('{p}') + x", "np.load"),
        ("y ~ np.save('{p}', x) + x", "np.save"),
        ("y ~ np.savetxt('{p}', x) + x", "np.savetxt"),
        ("y ~ open('{p}', 'w') + x", "open"),
        ("y ~ eval('1') + x", "eval"),
        ("y ~ exec('1') + x", "exec"),
        ("y ~ compile('1', 'f', 'eval') + x", "compile"),
        # hidden inside allowed calls, the response, keyword arguments and group terms
        ("y ~ I(os.system('touch {p}')) + x", "os.system"),
        ("y ~ {{os.system('touch {p}')}} + x", "os.system"),
        ("y ~ np.log(os.system('touch {p}'))", "os.system"),
        ("y ~ C(g, levels=os.system('touch {p}'))", "os.system"),
        ("os.system('touch {p}') ~ x", "os.system"),
        ("p(y, os.system('touch {p}')) ~ x", "os.system"),
        ("y ~ x + (os.system('touch {p}')|g)", "os.system"),
        ("y ~ x + (1|os.system('touch {p}'))", "os.system"),
    ],
)
def test_escapes_are_refused_and_not_run(tmp_path, template, callee):
    target = tmp_path / "pwned.npy"
    formula = template.format(p=target)
    raises_each(
        lambda: bf.Model(formula, _df()),
        (UnsafeFormulaError, KeyError, ValueError),
        match=rf"unknown function '{re.escape(callee)}'",
    )
    assert not target.exists(), "a side effect of the formula ran"


def test_dunder_import_is_refused_and_not_run(tmp_path):
    target = tmp_path / "pwned"
    formula = f"y ~ __import__('os').system('touch {target}') + x"
    err = raises_each(
        lambda: bf.Model(formula, _df()),
        (FormulaSyntaxError, FormulaError, ValueError),
        match="Unexpected character: _",
    )
    assert _caret_column(str(err), formula) == formula.index("__import__")
    assert not target.exists()


def test_dunder_attribute_is_not_a_name():
    raises_each(
        lambda: bf.Model("y ~ np.__class__ + x", _df()),
        (UnknownNameError, KeyError),
        match=r"unknown column 'np\.__class__'",
    )


@pytest.mark.parametrize(
    "template",
    [
        "y ~ getattr(np, 'save')('{p}', x)",
        "y ~ np.vectorize(np.save)('{p}', x)",
        "y ~ np.frompyfunc(np.save, 2, 0)('{p}', x)",
    ],
)
def test_calling_a_call_is_refused_and_not_run(tmp_path, template):
    target = tmp_path / "pwned.npy"
    raises_each(
        lambda: bf.Model(template.format(p=target), _df()),
        (FormulaError, ValueError),
        match="could not interpret the formula",
    )
    assert not target.exists()


def test_calling_a_call_has_a_clear_message():
    with pytest.raises(FormulaError) as info:
        bf.Model("y ~ np.vectorize(np.log)(x)", _df())
    assert "object has no attribute" not in str(info.value)


def test_numpy_ufuncs_and_bare_math_still_work():
    model = bf.Model("y ~ np.log1p(x) + sqrt(x) + np.where(x > 1, 1, 0)", _df())
    assert [t.name for t in model.design.common_terms] == [
        "np.log1p(x)",
        "sqrt(x)",
        "np.where(x > 1, 1, 0)",
    ]
    np.testing.assert_allclose(model.design.X[:, 0], np.log1p(_df()["x"]))


# ------------------------------------------------------------------------------ misparses
@pytest.mark.parametrize(("formula", "power"), [("y ~ x**2", "2"), ("y ~ g + x**3", "3")])
def test_power_on_a_name_is_an_error_with_the_fix(formula, power):
    raises_each(
        lambda: bf.Model(formula, _df()),
        (FormulaError, ValueError),
        match=rf"'x\*\*{power}' in a formula is the interaction .*I\(x\*\*{power}\)",
    )


@pytest.mark.parametrize("formula", ["y ~ I(x**2)", "y ~ {x**2}", "y ~ (x + g)**2"])
def test_arithmetic_power_and_interaction_power_are_allowed(formula):
    model = bf.Model(formula, _df())
    assert model.design.n_obs == 5


def test_arithmetic_power_value():
    model = bf.Model("y ~ I(x**2)", _df())
    np.testing.assert_allclose(model.design.X[:, 0], _df()["x"] ** 2)


def test_percent_in_is_an_error():
    raises_each(
        lambda: bf.Model("y ~ x %in% g", _df()),
        (FormulaError, ValueError),
        match=r"'%in%' is not supported.*'a/x'",
    )


# ------------------------------------------------------------------------------ list literals
def test_levels_list_literal_sets_reference_level():
    model = bf.Model("y ~ C(g, levels=['b', 'a', 'c'])", _df())
    (term,) = model.design.common_terms
    assert term.name == "C(g, levels=['b', 'a', 'c'])"
    assert term.labels == ("a", "c")  # 'b' is the reference, absorbed by the intercept
    np.testing.assert_array_equal(model.design.X[:, 0], [1.0, 0.0, 1.0, 0.0, 0.0])
    assert term.name in model.priors.common


def test_levels_order_changes_the_reference_level():
    model = bf.Model('y ~ C(g, levels=["c", "b", "a"])', _df())
    assert model.design.common_terms[0].labels == ("b", "a")


def test_levels_list_with_code_is_refused(tmp_path):
    target = tmp_path / "pwned"
    raises_each(
        lambda: bf.Model(f"y ~ C(g, levels=[os.system('touch {target}')])", _df()),
        (FormulaError, ValueError),
        match=r"must contain only literal values",
    )
    assert not target.exists()


def test_levels_not_matching_the_data():
    raises_each(
        lambda: bf.Model("y ~ C(g, levels=['a', 'b'])", _df()),
        (FormulaError, ValueError),
        match=r"could not build the design for .*levels",
    )


# ------------------------------------------------------------------------------ extra_namespace
def test_user_function_needs_extra_namespace():
    raises_each(
        lambda: bf.Model("y ~ double(x)", _df()),
        (UnsafeFormulaError, KeyError),
        match=r"unknown function 'double'.*extra_namespace=",
    )


def test_extra_namespace_makes_a_user_function_visible():
    def double(v):
        return 2 * v

    model = bf.Model("y ~ double(x)", _df(), extra_namespace={"double": double})
    assert [t.name for t in model.design.common_terms] == ["double(x)"]
    np.testing.assert_allclose(model.design.X[:, 0], [0.0, 2.0, 4.0, 6.0, 8.0])


def test_extra_namespace_makes_a_value_visible():
    model = bf.Model("y ~ I(x * k)", _df(), extra_namespace={"k": 3})
    np.testing.assert_allclose(model.design.X[:, 0], [0.0, 3.0, 6.0, 9.0, 12.0])


@pytest.mark.parametrize("namespace", [[1, 2], "abc", 5])
def test_extra_namespace_not_a_dict(namespace):
    with pytest.raises(FormulaError, match="extra_namespace must be a dict"):
        bf.Model("y ~ x", _df(), extra_namespace=namespace)
