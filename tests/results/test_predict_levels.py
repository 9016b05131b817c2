"""predict() on new data whose group levels and categories have another type than in fitting.

The draws come from the prior (fast, no sampling): the check is that equal levels select equal
effects, which holds for any draws.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import bayesformula as bf
from bayesformula.errors import PredictionError


@pytest.fixture(scope="module")
def sleep_prior(sleepstudy):
    data = sleepstudy.assign(Subject=sleepstudy["Subject"].astype(np.int64))
    model = bf.Model("Reaction ~ Days + (Days|Subject)", data)
    return model, model.prior_predictive(draws=40, random_seed=7)


def _mu(model, idata, subject, **kwargs):
    new = pd.DataFrame({"Days": [5], "Subject": subject})
    out = model.predict(idata, data=new, inplace=False, group="prior", **kwargs)
    return out.prior["mu"].values


@pytest.mark.parametrize(
    "subject",
    [["308"], [np.int64(308)], [308.0], pd.Categorical(["308"]), pd.Categorical([308])],
    ids=["str", "np.int64", "float", "str category", "int category"],
)
def test_level_of_another_type_predicts_as_the_fitted_level(sleep_prior, subject):
    model, idata = sleep_prior
    expected = _mu(model, idata, [308])
    np.testing.assert_array_equal(_mu(model, idata, subject), expected)
    # and it is subject 308's effect, not another's or none
    assert not np.array_equal(expected, _mu(model, idata, [309]))
    assert not np.array_equal(expected, _mu(model, idata, [308], include_group_specific=False))


def test_unseen_level_error_says_how_levels_were_stored(sleep_prior):
    model, idata = sleep_prior
    with pytest.raises(
        PredictionError,
        match=r"\['S308'\].*'Subject' was fitted with numbers of dtype int64 \(308, 309, "
        r".*pandas\.to_numeric\(new_df\['Subject'\]\).*sample_new_groups=True",
    ):
        _mu(model, idata, ["S308"])


def test_sampling_a_new_group_of_another_type_warns(sleep_prior):
    model, idata = sleep_prior
    with pytest.warns(UserWarning, match=r"'Subject'.*\['S308'\].*another type"):
        _mu(model, idata, ["S308"], sample_new_groups=True, random_seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a new level of the fitted type is no cause to warn
        _mu(model, idata, [999], sample_new_groups=True, random_seed=1)


def test_categorical_predictor_levels_match_by_value(sleepstudy):
    data = sleepstudy.assign(block=(sleepstudy["Days"] // 4).astype(str))  # '0', '1', '2'
    model = bf.Model("Reaction ~ Days + block", data)
    idata = model.prior_predictive(draws=30, random_seed=2)

    def mu(block):
        new = pd.DataFrame({"Days": [5, 5], "block": block})
        out = model.predict(idata, data=new, inplace=False, group="prior")
        return out.prior["mu"].values

    np.testing.assert_array_equal(mu([1, 2]), mu(["1", "2"]))
    assert not np.array_equal(mu([1, 1]), mu(["1", "2"]))
