"""A logistic fit shared by the interpretation tests (fast path, 2 chains x 500 draws): every
result they check is a function of the draws, so a fit of any length proves the arithmetic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

import bayesformula as bf

N = 400


@pytest.fixture(scope="module")
def logistic():
    rng = np.random.default_rng(11)
    data = pd.DataFrame(
        {
            "x": rng.normal(size=N),
            "d": rng.integers(0, 2, N),
            "c": rng.choice(["a", "b", "c"], N),
            "w": rng.uniform(0.5, 2.0, N),
        },
        index=pd.RangeIndex(1000, 1000 + N),
    )
    eta = -0.2 + 0.9 * data.x + 0.7 * data.d + np.where(data.c == "b", 0.6, 0.0)
    data["y"] = rng.binomial(1, expit(eta))
    model = bf.Model("y ~ x + d + c", data, family="bernoulli")
    idata = model.fit(draws=500, chains=2, progressbar=False, random_seed=3)
    return model, idata
