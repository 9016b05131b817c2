"""Prior predictive draws of a distributional model (an auxiliary parameter with a formula)."""

import numpy as np
from scipy import stats

import bayesformula as bf


def test_prior_predictive_of_a_model_with_a_sigma_formula():
    data = bf.load_data("sleepstudy")
    model = bf.Model(bf.Formula("Reaction ~ Days", "sigma ~ Days"), data)
    draws = model.prior_predictive(draws=2000, random_seed=3)

    prior = model.spec.priors.common["sigma_Days"]
    assert prior.name == "Normal"
    sample = draws["prior"]["sigma_Days"].values.ravel()
    # Kolmogorov-Smirnov against the declared prior: 2000 independent forward draws
    assert stats.kstest(sample, stats.norm(0, prior.args["sigma"]).cdf).pvalue > 1e-3

    response = draws["prior_predictive"]["Reaction"]
    assert response.sizes["__obs__"] == len(data)
    assert np.isfinite(response.values).all()
