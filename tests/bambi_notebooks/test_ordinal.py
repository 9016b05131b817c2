"""Bambi's ordinal regression notebook (docs/notebooks/ordinal_regression.ipynb).

The notebook uses McElreath's ``Trolley`` data (9930 ratings 1-7 of moral dilemmas, with the
dilemma's ``action``, ``intention`` and ``contact``) for the cumulative family and IBM's HR
attrition table (``YearsAtCompany`` by ``TotalWorkingYears``) for the stopping-ratio family.
Neither is bundled: the tests simulate tables with the same columns, the trolley ratings from
a cumulative logit model with the thresholds the notebook estimates.

Thresholds are named by the boundaries between levels here ("1|2", ...), not 0, 1, ...
(docs/bambi-differences.md, "Ordinal families").
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, special

import bayesformula as bmb
from tests.bambi_notebooks.helpers import SMALL, assert_posterior_near, draws_of

# the notebook's posterior means of the six thresholds of "response ~ 0"
THRESHOLDS = np.array([-1.917, -1.267, -0.719, 0.248, 0.890, 1.770])


def _trolley(n: int = 1000, seed: int = 21) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    action, intention, contact = (rng.integers(0, 2, n) for _ in range(3))
    contact = contact * (1 - action)  # a dilemma has action or contact, never both
    eta = -0.7 * action - 0.4 * intention - 0.9 * contact - 0.3 * action * intention
    latent = rng.logistic(size=n) + eta
    response = 1 + (latent[:, None] > THRESHOLDS).sum(axis=1)
    trolley = pd.DataFrame(
        {"response": response, "action": action, "intention": intention, "contact": contact}
    )
    trolley["action"] = pd.Categorical(trolley["action"], ordered=False)
    trolley["intention"] = pd.Categorical(trolley["intention"], ordered=False)
    trolley["contact"] = pd.Categorical(trolley["contact"], ordered=False)
    trolley["response"] = pd.Categorical(trolley["response"], ordered=True)
    return trolley


@pytest.fixture(scope="module")
def trolley():
    return _trolley()


def test_intercept_only_cumulative_model(trolley):
    model = bmb.Model("response ~ 0", data=trolley, family="cumulative")
    idata = model.fit(random_seed=1234, **SMALL)
    # "Comparing to the empirical log-cumulative-odds computation above, the mean of the
    # posterior distribution for each category is close to the empirical value."
    pr_k = trolley["response"].value_counts().sort_index().to_numpy() / len(trolley)
    cum_pr_k = np.cumsum(pr_k)[:-1]
    logit_cum_pr_k = special.logit(cum_pr_k)
    threshold = draws_of(idata["posterior"], "threshold")
    assert threshold.shape[-1] == 6
    assert_posterior_near(threshold, logit_cum_pr_k, label="threshold")
    # and the cumulative probabilities are their inverse logits
    cumulative = special.expit(threshold).mean(axis=(0, 1))
    np.testing.assert_allclose(cumulative, cum_pr_k, atol=0.02)


def test_cumulative_model_with_predictors(trolley):
    model = bmb.Model(
        "response ~ 0 + action + intention + contact + action:intention + contact:intention",
        data=trolley,
        family="cumulative",
    )
    # Bambi codes the categorical predictors with one column each (the thresholds replace
    # the intercept): five coefficients
    assert model.design.X.shape == (len(trolley), 5)


def _sratio_mle(y: np.ndarray, x: np.ndarray, levels: int) -> np.ndarray:
    """Maximum-likelihood thresholds and slope of the stopping-ratio logit model,
    P(Y = k | Y >= k) = expit(threshold_k - slope * x), written out directly."""

    def negative_log_likelihood(theta):
        tau, slope = theta[:-1], theta[-1]
        stop = special.expit(tau[None, :] - slope * x[:, None])  # (n, levels - 1)
        k = np.arange(levels - 1)[None, :]
        passed = np.where(k < y[:, None], np.log1p(-stop), 0.0).sum(axis=1)
        ends = np.log(stop[np.arange(len(y)), np.minimum(y, levels - 2)])
        return -(passed + np.where(y < levels - 1, ends, 0.0)).sum()

    start = np.zeros(levels)
    return optimize.minimize(negative_log_likelihood, start, method="BFGS").x


def test_stopping_ratio_model():
    rng = np.random.default_rng(8)
    total = rng.integers(0, 30, 300)
    tau = np.array([-1.6, -1.1, -0.6, -0.2, 0.1, 0.4, 0.7])
    years = np.zeros(total.size, dtype=int)
    for i, x in enumerate(total):  # stop at level k with probability expit(tau_k - 0.08 x)
        while years[i] < tau.size and rng.random() > special.expit(tau[years[i]] - 0.08 * x):
            years[i] += 1
    attrition = pd.DataFrame({"YearsAtCompany": years, "TotalWorkingYears": total})
    attrition["YearsAtCompany"] = pd.Categorical(attrition["YearsAtCompany"], ordered=True)
    model = bmb.Model("YearsAtCompany ~ 0 + TotalWorkingYears", data=attrition, family="sratio")
    idata = model.fit(random_seed=1234, **SMALL)
    levels = attrition["YearsAtCompany"].cat.categories.size
    codes = attrition["YearsAtCompany"].cat.codes.to_numpy()
    mle = _sratio_mle(codes, total.astype(float), levels)
    posterior = idata["posterior"]
    assert_posterior_near(draws_of(posterior, "TotalWorkingYears"), mle[-1], label="slope")
    assert_posterior_near(draws_of(posterior, "threshold"), mle[:-1], label="threshold")
