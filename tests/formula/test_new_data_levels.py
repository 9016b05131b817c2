"""New data's category levels are matched to the fitted ones by value, whatever their type."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayesformula.errors import PredictionError
from bayesformula.formula import evaluate_new_data, make_design
from bayesformula.formula.new_data import describe_levels, fitted_levels, match_levels


@pytest.fixture
def df():
    rng = np.random.default_rng(1)
    n = 24
    return pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "x": rng.normal(size=n),
            "g": np.repeat([308, 309, 310, 330], 6),  # integer group ids, as in sleepstudy
            "s": np.tile(["1", "2", "3"], 8),  # text that reads as numbers
        }
    )


@pytest.fixture
def design(df):
    return make_design("y ~ x + s + C(g) + (1|g)", df)


@pytest.mark.parametrize(
    "value",
    [308, "308", " 308", np.int64(308), 308.0, np.float32(308.0)],
    ids=["int", "str", "padded str", "np.int64", "float", "np.float32"],
)
def test_group_and_categorical_levels_match_by_value(design, value):
    reference = evaluate_new_data(design, pd.DataFrame({"x": [0.5], "s": ["2"], "g": [308]}))
    new = evaluate_new_data(design, pd.DataFrame({"x": [0.5], "s": ["2"], "g": [value]}))
    np.testing.assert_array_equal(new.group_index["g"], reference.group_index["g"])
    assert new.group_index["g"][0] == 0 and new.new_levels["g"] == ()
    np.testing.assert_array_equal(new.X, reference.X)  # C(g) coded as for 308


@pytest.mark.parametrize(
    "column",
    [
        pd.Categorical(["308", "330"]),
        pd.Categorical([308, 330]),
        pd.Series(["308", "330"], dtype="category"),
    ],
    ids=["str categories", "int categories", "category series"],
)
def test_categorical_new_data_matches(design, column):
    new = evaluate_new_data(design, pd.DataFrame({"x": [0.0, 0.0], "s": ["1", "1"], "g": column}))
    np.testing.assert_array_equal(new.group_index["g"], [0, 3])


def test_text_levels_match_numbers(design):
    # 's' was fitted as text: the number 3 is its level '3'
    as_text = evaluate_new_data(design, pd.DataFrame({"x": [1.0], "s": ["3"], "g": [309]}))
    as_number = evaluate_new_data(design, pd.DataFrame({"x": [1.0], "s": [3], "g": [309]}))
    np.testing.assert_array_equal(as_number.X, as_text.X)
    other = evaluate_new_data(design, pd.DataFrame({"x": [1.0], "s": ["2"], "g": [309]}))
    assert not np.array_equal(other.X, as_text.X)  # the comparison can fail: levels differ


def test_unseen_group_levels_stay_new():
    fitted = pd.DataFrame({"y": [1.0, 2, 3, 4], "x": [0.0, 1, 2, 3], "g": [1, 1, 2, 2]})
    design = make_design("y ~ x + (1|g)", fitted)
    new = pd.DataFrame({"x": [0.0, 0.0, 0.0, 0.0], "g": ["2", "7", 7, "x"]})
    out = evaluate_new_data(design, new)
    assert out.group_index["g"].tolist() == [1, 2, 2, 3]  # "7" and 7 are one new level
    assert out.new_levels["g"] == ("7", "x")


def test_input_frame_is_not_changed(design):
    new = pd.DataFrame({"x": [0.0], "s": ["1"], "g": ["308"]})
    converted = match_levels(design, new)
    assert new["g"].tolist() == ["308"]
    assert converted["g"].tolist() == [308] and converted["g"].dtype == np.int64
    same = pd.DataFrame({"x": [0.0], "s": ["1"], "g": [308]})
    assert match_levels(design, same) is same  # nothing to convert: no copy


def test_fitted_levels_lists_categorical_columns(design):
    levels = fitted_levels(design)
    assert set(levels) == {"s", "g"}
    assert levels["g"] == ([308, 309, 310, 330], True)  # C(g) makes g a strict predictor too
    assert levels["s"] == (["1", "2", "3"], True)


def test_ambiguous_match_is_a_clear_error():
    fitted = pd.DataFrame({"y": [1.0, 2, 3, 4], "k": ["1", "01", "2", "2"]})
    design = make_design("y ~ k", fitted)
    with pytest.raises(PredictionError, match=r"holds 1, which equals several levels.*'01'.*'1'"):
        evaluate_new_data(design, pd.DataFrame({"k": [1]}))
    # the exact spelling is unambiguous
    exact = evaluate_new_data(design, pd.DataFrame({"k": ["01"]}))
    assert exact.X.shape == (1, 2)


def test_unseen_categorical_level_names_stored_type(design):
    with pytest.raises(
        PredictionError,
        match=r"'s'.*\['abc'\].*text of dtype str \('1', '2', '3'\)",
    ):
        evaluate_new_data(design, pd.DataFrame({"x": [0.0], "s": ["abc"], "g": [308]}))
    with pytest.raises(
        PredictionError,
        match=r"'g'.*\['S308'\].*numbers of dtype int64.*pandas.to_numeric\(new_df\['g'\]\)",
    ):
        evaluate_new_data(design, pd.DataFrame({"x": [0.0], "s": ["1"], "g": ["S308"]}))


def test_describe_levels():
    assert describe_levels([308, 309]) == "numbers of dtype int64 (308, 309)"
    assert describe_levels(["a", "b", "c", "d", "e"]) == (
        "text of dtype str ('a', 'b', 'c', 'd', ... 5 in all)"
    )
