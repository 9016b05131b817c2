"""Responses that do not fit the family, and unknown families or links, raise typed errors.

Each error test checks the bayesformula class and the builtin it subclasses, and matches the
family, the offending row and value, or the suggested fix. Models are only constructed.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import bayesformula as bf
from bayesformula.errors import (
    BayesformulaError,
    DataError,
    FamilyError,
    ResponseError,
)

from ..helpers import raises_each

INDEX = ["r0", "r1", "r2", "r3"]
X = [0.0, 1.0, 2.0, 3.0]


def _df(y, **extra) -> pd.DataFrame:
    return pd.DataFrame({"y": y, "x": X, **extra}, index=INDEX)


RESPONSE = (ResponseError, DataError, BayesformulaError, ValueError)
FAMILY = (FamilyError, BayesformulaError, ValueError)


# ------------------------------------------------------------------------------ counts
@pytest.mark.parametrize("family", ["poisson", "negativebinomial"])
@pytest.mark.parametrize(("bad", "shown"), [(1.5, "1.5"), (-1.0, "-1")])
def test_counts_must_be_non_negative_whole_numbers(family, bad, shown):
    y = [0.0, 2.0, bad, 3.0]
    err = raises_each(
        lambda: bf.Model("y ~ x", _df(y), family=family),
        RESPONSE,
        match=rf"'y' \(family '{family}'\) must be non-negative whole numbers",
    )
    message = str(err)
    assert "1 value(s)" in message
    assert "row 'r2'" in message
    assert shown in message


@pytest.mark.parametrize("family", ["poisson", "negativebinomial"])
def test_valid_counts_are_accepted(family):
    model = bf.Model("y ~ x", _df([0, 2, 5, 3]), family=family)
    assert model.response_data.values.tolist() == [0, 2, 5, 3]


def test_offending_value_is_shown_plainly():
    with pytest.raises(ResponseError, match=r"row 'r2': 1\.5\b"):
        bf.Model("y ~ x", _df([0.0, 2.0, 1.5, 3.0]), family="poisson")


def test_binomial_negative_successes():
    raises_each(
        lambda: bf.Model("p(y, n) ~ x", _df([0, -1, 2, 3], n=[5, 5, 5, 5]), family="binomial"),
        RESPONSE,
        match=r"the successes in p\(y, n\) must be non-negative whole numbers; "
        r"found 1 value\(s\) \(row 'r1'",
    )


def test_binomial_negative_trials():
    raises_each(
        lambda: bf.Model("p(y, n) ~ x", _df([0, 1, 2, 3], n=[5, -5, 5, 5]), family="binomial"),
        RESPONSE,
        match=r"trials in p\(y, n\) must be non-negative.*row 'r1'",
    )


def test_binomial_trials_smaller_than_successes_is_refused():
    # Whatever the class, the model must not be built and the message must say why.
    raises_each(
        lambda: bf.Model("p(y, n) ~ x", _df([0, 1, 7, 3], n=[5, 5, 5, 5]), family="binomial"),
        (BayesformulaError, ValueError),
        match=r"successes.*greater than.*trials|successes exceed trials",
    )


def test_binomial_without_p():
    raises_each(
        lambda: bf.Model("y ~ x", _df([0, 1, 2, 3]), family="binomial"),
        RESPONSE,
        match=r"family 'binomial' needs the number of trials: write the response as p\(y, n\)",
    )


def test_binomial_with_p_is_accepted():
    model = bf.Model("p(y, n) ~ x", _df([0, 1, 2, 3], n=[5, 5, 6, 5]), family="binomial")
    assert model.response_data.values.tolist() == [0, 1, 2, 3]
    assert model.response_data.trials.tolist() == [5, 5, 6, 5]


@pytest.mark.parametrize("family", ["gaussian", "poisson", "bernoulli"])
def test_p_response_for_a_family_without_trials(family):
    raises_each(
        lambda: bf.Model("p(y, 5) ~ x", _df([0, 1, 2, 3]), family=family),
        RESPONSE,
        match=rf"p\(y, 5\) gives successes and trials.*family '{family}' needs a plain response",
    )


# ------------------------------------------------------------------------------ bernoulli
def test_bernoulli_response_not_zero_one():
    err = raises_each(
        lambda: bf.Model("y ~ x", _df([0, 1, 2, 1]), family="bernoulli"),
        RESPONSE,
        match=r"family 'bernoulli' needs 0/1 .*'y' has 1 value\(s\) \(row 'r2'",
    )
    assert "family='binomial' with p(y, n)" in str(err)


def test_bernoulli_three_level_category():
    raises_each(
        lambda: bf.Model("y ~ x", _df(["a", "b", "c", "a"]), family="bernoulli"),
        RESPONSE,
        match=r"'y' has 3 levels \(a, b, c\)\. Pick one with y\[level\]",
    )


def test_bernoulli_two_level_category_uses_last_level_as_success():
    model = bf.Model("y ~ x", _df(["no", "yes", "yes", "no"]), family="bernoulli")
    assert model.response_data.values.tolist() == [0, 1, 1, 0]
    assert model.response_data.note == "modelling the probability that y == 'yes'"
    assert "modelling the probability that y == 'yes'" in str(model)


def test_bernoulli_two_level_category_other_labels():
    model = bf.Model("y ~ x", _df(["dead", "alive", "dead", "dead"]), family="bernoulli")
    # levels sort as ('alive', 'dead'): the last one, 'dead', is the success
    assert model.response_data.values.tolist() == [1, 0, 1, 1]
    assert "y == 'dead'" in model.response_data.note


def test_bernoulli_respects_pandas_category_order():
    y = pd.Categorical(["no", "yes", "yes", "no"], categories=["yes", "no"])
    model = bf.Model("y ~ x", _df(y), family="bernoulli")
    assert model.response_data.values.tolist() == [1, 0, 0, 1]


def test_bernoulli_boolean_response():
    model = bf.Model("y ~ x", _df([False, True, True, False]), family="bernoulli")
    assert model.response_data.values.tolist() == [0, 1, 1, 0]


def test_bernoulli_pick_one_level_as_suggested():
    model = bf.Model("y[b] ~ x", _df(["a", "b", "c", "b"]), family="bernoulli")
    assert model.response_data.values.tolist() == [0, 1, 0, 1]


# ------------------------------------------------------------------------------ continuous
@pytest.mark.parametrize("family", ["gamma", "exponential"])
@pytest.mark.parametrize("bad", [0.0, -0.5])
def test_positive_families_reject_non_positive(family, bad):
    err = raises_each(
        lambda: bf.Model("y ~ x", _df([1.0, 2.0, bad, 3.0]), family=family),
        RESPONSE,
        match=rf"family '{family}' needs a response > 0; 'y' has 1 value\(s\) \(row 'r2'",
    )
    assert str(bad) in str(err)


@pytest.mark.parametrize("bad", [0.0, 1.0, 1.5, -0.2])
def test_beta_rejects_outside_open_unit_interval(bad):
    err = raises_each(
        lambda: bf.Model("y ~ x", _df([0.2, 0.5, bad, 0.9]), family="beta"),
        RESPONSE,
        match=r"family 'beta' needs a response strictly between 0 and 1; 'y' has 1 value\(s\) "
        r"\(row 'r2'",
    )
    assert str(bad) in str(err)


def test_beta_accepts_open_unit_interval():
    model = bf.Model("y ~ x", _df([0.2, 0.5, 0.01, 0.99]), family="beta")
    assert model.response_data.values.tolist() == [0.2, 0.5, 0.01, 0.99]


@pytest.mark.parametrize("family", ["gaussian", "t"])
@pytest.mark.parametrize(
    ("y", "levels"),
    [(["a", "b", "c", "d"], "a, b, c, d"), (["1", "2", "x", "4"], "1, 2, 4, x")],
)
def test_gaussian_and_t_need_a_numeric_response(family, y, levels):
    err = raises_each(
        lambda: bf.Model("y ~ x", _df(y), family=family),
        RESPONSE,
        match=rf"family '{family}' needs a numeric response, but 'y' is categorical with levels "
        rf"{re.escape(levels)}",
    )
    assert "Convert it to numbers" in str(err)


@pytest.mark.parametrize("bad", [np.inf, -np.inf])
def test_non_finite_response(bad):
    raises_each(
        lambda: bf.Model("y ~ x", _df([1.0, bad, 2.0, 3.0])),
        RESPONSE,
        match=r"'y' has 1 value\(s\) \(row 'r1'.*that are not finite",
    )


# ------------------------------------------------------------------------------ names
@pytest.mark.parametrize(
    ("name", "suggestion"),
    [("gausian", "gaussian"), ("poison", "poisson"), ("binomal", "binomial")],
)
def test_unknown_family_suggests_the_nearest(name, suggestion):
    err = raises_each(
        lambda: bf.Model("y ~ x", _df([1.0, 2.0, 3.0, 4.0]), family=name),
        FAMILY,
        match=rf"unknown family '{name}'; did you mean '{suggestion}'\?",
    )
    assert "Known: 'acat', 'asymmetriclaplace', 'bernoulli', 'beta'" in str(err)


def test_unknown_family_without_close_match():
    err = raises_each(lambda: bf.get_family("zzz"), FAMILY, match=r"unknown family 'zzz'\. Known: ")
    assert "did you mean" not in str(err)


def test_family_of_wrong_type():
    raises_each(
        lambda: bf.Model("y ~ x", _df([1.0, 2.0, 3.0, 4.0]), family=3),
        FAMILY,
        match="family must be a name or a Family, got int",
    )


def test_unknown_link_suggests_the_nearest():
    raises_each(
        lambda: bf.Model("y ~ x", _df([1.0, 2.0, 3.0, 4.0]), link="logg"),
        FAMILY,
        match=r"unknown link 'logg'; did you mean 'log'\? Known: 'cloglog', 'identity'",
    )


@pytest.mark.parametrize(
    ("family", "link", "supported"),
    [
        ("gaussian", "logit", "identity, log, inverse"),
        ("poisson", "probit", "log, identity"),
        ("bernoulli", "log", "logit, probit, cloglog, identity"),
    ],
)
def test_link_the_family_does_not_support(family, link, supported):
    y = [0, 1, 1, 0]
    raises_each(
        lambda: bf.Model("y ~ x", _df(y), family=family, link=link),
        FAMILY,
        match=rf"family '{family}' does not support link '{link}'; supported links: "
        rf"{re.escape(supported)}",
    )


def test_link_for_a_parameter_without_one():
    raises_each(
        lambda: bf.Model("y ~ x", _df([1.0, 2.0, 3.0, 4.0]), link={"sigma": "log"}),
        FAMILY,
        match=r"link= sets the link of \['sigma'\], which have no formula",
    )
    raises_each(
        lambda: bf.Model("y ~ x", _df([1.0, 2.0, 3.0, 4.0]), link={"nu": "log"}),
        FAMILY,
        match=r"link was given for \['nu'\], which family 'gaussian' does not have",
    )


def test_supported_link_is_used():
    model = bf.Model("y ~ x", _df([1, 2, 3, 4]), family="poisson", link="identity")
    assert model.link.name == "identity"
    model = bf.Model("y ~ x", _df([1, 2, 3, 4]), family="poisson", link={"mu": "log"})
    assert model.link.name == "log"
