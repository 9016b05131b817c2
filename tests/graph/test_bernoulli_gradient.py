"""The graph's Bernoulli likelihood keeps a finite gradient where the linear predictor is large."""

import numpy as np
import pandas as pd
import pytensor
from scipy import special

import bayesformula as bf


def test_bernoulli_gradient_is_finite_and_exact_for_large_linear_predictors():
    rng = np.random.default_rng(3)
    x = rng.normal(size=200) * 30.0  # a predictor on a wide scale: |eta| up to ~90 at b = 1
    y = (rng.random(200) < special.expit(x / 30.0)).astype(int)
    model = bf.Model("y ~ x", pd.DataFrame({"x": x, "y": y}), family="bernoulli")
    graph = model.build()
    values = graph.value_vars
    assert {v.name for v in values} == {"x", "Intercept_centered"}
    dlogp = pytensor.function(values, graph.dlogp(vars=[graph["x"]]))
    point = {"x": np.array(1.0), "Intercept_centered": np.array(0.0)}
    got = dlogp(*(point[v.name] for v in values))
    # the sampled intercept sits at the predictors' means: eta = c + b * (x - mean(x)); the
    # derivative in b of sum(y * eta - log(1 + exp(eta))) plus the slope's Normal prior
    centred = x - x.mean()
    eta = 0.0 + 1.0 * centred
    prior = model.priors.common["x"].args
    expected = (
        np.sum((y - special.expit(eta)) * centred) - (1.0 - prior["mu"]) / prior["sigma"] ** 2
    )
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, [expected], rtol=1e-8)
