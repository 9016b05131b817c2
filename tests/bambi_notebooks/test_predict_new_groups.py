"""Bambi's "Predict New Groups" notebook (docs/notebooks/predict_new_groups.ipynb):
predictions for groups not seen in fitting with ``sample_new_groups=True``.

The notebook uses the OSIC pulmonary fibrosis data (Kaggle; not bundled): lung capacity
``fvc`` of 176 patients over ``weeks``, both min-max scaled, with the patient's
``smoking_status``. The test simulates 60 patients with the same columns and a known truth.

New groups differ on purpose: the effect of an unseen patient is drawn, per posterior draw,
from the fitted population distribution Normal(0, sigma) (Bambi copies the effect of a
randomly chosen existing patient; docs/bambi-differences.md, "Predictions").
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayesformula as bmb
from bayesformula.errors import PredictionError
from tests.bambi_notebooks.helpers import SMALL, draws_of

STATUS = ["Currently smokes", "Ex-smoker", "Never smoked"]


def _osic(n_patients: int = 60, seed: int = 13) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for patient in range(n_patients):
        status = rng.choice(STATUS, p=[0.05, 0.7, 0.25])
        visits = rng.integers(6, 11)
        weeks = np.sort(rng.uniform(-5, 133, visits))
        base = {"Currently smokes": 0.45, "Ex-smoker": 0.4, "Never smoked": 0.35}[status]
        slope = rng.normal(-0.1, 0.06)
        fvc = base + rng.normal(0, 0.05) + slope * (weeks + 5) / 138 + rng.normal(0, 0.03, visits)
        rows.append(
            pd.DataFrame(
                {
                    "patient": f"ID{patient:05d}",
                    "weeks": weeks,
                    "fvc": fvc,
                    "smoking_status": status,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def label_encoder(labels):
    """
    Encode patient IDs as integers.
    """
    unique_labels = np.unique(labels)
    label_to_index = {label: index for index, label in enumerate(unique_labels)}
    encoded_labels = labels.map(label_to_index)
    return encoded_labels


@pytest.fixture(scope="module")
def data():
    data = _osic()
    predictors = ["patient", "weeks", "fvc", "smoking_status"]
    data["patient"] = label_encoder(data["patient"])
    data["weeks"] = (data["weeks"] - data["weeks"].min()) / (
        data["weeks"].max() - data["weeks"].min()
    )
    data["fvc"] = (data["fvc"] - data["fvc"].min()) / (data["fvc"].max() - data["fvc"].min())
    return data[predictors]


@pytest.fixture(scope="module")
def fitted(data):
    model = bmb.Model(
        "fvc ~ 0 + weeks + smoking_status + (0 + weeks | patient)",
        data,
        categorical=["patient", "smoking_status"],
    )
    # the notebook draws 1500 per chain in 4 chains; fewer here (SMALL)
    idata = model.fit(target_accept=0.95, random_seed=42, **SMALL)
    return model, idata


@pytest.fixture(scope="module")
def new_data(data):
    weeks = np.linspace(0, 1, 5)
    return pd.DataFrame(
        {
            "patient": np.repeat([0, 176, 177], len(weeks)),  # one seen, two new patients
            "weeks": np.tile(weeks, 3),
            "smoking_status": ["Ex-smoker"] * 10 + ["Never smoked"] * 5,
        }
    )


def test_unseen_groups_need_sample_new_groups(fitted, new_data):
    model, idata = fitted
    with pytest.raises(PredictionError):
        model.predict(idata, kind="response_params", data=new_data, inplace=False)


def test_predictions_for_seen_and_new_groups(fitted, new_data):
    model, idata = fitted
    preds = model.predict(
        idata,
        kind="response_params",
        data=new_data,
        sample_new_groups=True,
        inplace=False,
        random_seed=7,  # the draws of the new patients' effects
    )
    mu = draws_of(preds["posterior"], "mu")
    post = idata["posterior"]
    weeks = new_data["weeks"].to_numpy()
    slope = draws_of(post, "weeks")[..., None]
    status = post["smoking_status"]
    level = {s: draws_of(status.sel(smoking_status_dim=s))[..., None] for s in STATUS}
    shift = np.concatenate([level[s] for s in new_data["smoking_status"]], axis=-1)
    # a patient seen in fitting: exactly the fitted intercept-free line of that patient
    seen = slice(0, 5)
    effect = draws_of(post["weeks|patient"].sel(patient__factor_dim="0"))[..., None]
    np.testing.assert_allclose(
        mu[..., seen], shift[..., seen] + (slope + effect) * weeks[seen], rtol=1e-6
    )
    # new patients: mean weeks * slope + smoking level, and the spread of the population of
    # patients added, Var = Var(slope * w + level) + w^2 E[sigma^2]
    sigma = draws_of(post, "weeks|patient_sigma")[..., None]
    for new in (slice(5, 10), slice(10, 15)):
        w = weeks[new]
        typical = shift[..., new] + slope * w
        # mu - typical = w * (new effect), independent draws: their mean is within
        # 4 w sqrt(E[sigma^2] / n_draws) of zero
        n_draws = mu.shape[0] * mu.shape[1]
        gap = np.abs(mu[..., new].mean(axis=(0, 1)) - typical.mean(axis=(0, 1)))
        assert np.all(gap <= 4 * w * np.sqrt((sigma**2).mean() / n_draws) + 1e-12)
        expected_sd = np.sqrt(typical.var(axis=(0, 1)) + w**2 * (sigma**2).mean())
        np.testing.assert_allclose(mu[..., new].std(axis=(0, 1)), expected_sd, rtol=0.15)
    # the two new patients get independent draws
    assert not np.allclose(mu[..., 6], mu[..., 11] - (shift[..., 11] - shift[..., 6]))


def test_posterior_predictive_for_new_groups(fitted, new_data):
    model, idata = fitted
    preds = model.predict(
        idata, kind="response", data=new_data, sample_new_groups=True, inplace=False, random_seed=8
    )
    y = draws_of(preds["posterior_predictive"], "fvc")
    assert y.shape[-1] == len(new_data)
    # response draws add the residual noise to the spread of the mean: Var(y) = Var(mu) +
    # E[sigma^2]. A variance from 600 draws has a relative Monte Carlo sd of about 7% here,
    # so the ratio is checked row by row at 5 such sds and on average over the 15 rows
    mu = draws_of(preds["posterior"], "mu")
    sigma2 = (draws_of(idata["posterior"], "sigma") ** 2).mean()
    ratio = y.var(axis=(0, 1)) / (mu.var(axis=(0, 1)) + sigma2)
    assert np.all(np.abs(ratio - 1) < 0.35) and abs(ratio.mean() - 1) < 0.1
