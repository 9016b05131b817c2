"""Bambi's alternative sampling backends notebook (docs/notebooks/alternative_samplers.ipynb).

The notebook lists the inference methods with ``bmb.inference_methods.names`` and fits the same
model with other engines. It names them as bayeux does ("blackjax_nuts", "numpyro_nuts");
Bambi 0.21 and bayesformula name them "blackjax" and "numpyro", and the bayeux names are not
registered (docs/bambi-differences.md, "Not available", Samplers).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

import bayesformula as bmb
from bayesformula.errors import SamplerError
from tests.bambi_notebooks.helpers import SMALL, assert_posterior_near, draws_of


@pytest.fixture(scope="module")
def data():
    num_samples = 100
    num_features = 1
    noise_std = 1.0
    random_seed = 42

    np.random.seed(random_seed)

    coefficients = np.random.randn(num_features)
    X = np.random.randn(num_samples, num_features)
    error = np.random.normal(scale=noise_std, size=num_samples)
    y = X @ coefficients + error

    return pd.DataFrame({"y": y, "x": X.flatten()})


@pytest.fixture(scope="module")
def model(data):
    model = bmb.Model("y ~ x", data)
    model.build()
    return model


def test_inference_methods_names(model):
    methods = bmb.inference_methods.names
    # With the PyMC backend, we have access to their implementation of the NUTS sampler and
    # mean-field variational inference.
    assert {"mcmc", "vi"} <= set(methods["pymc"])
    # "The values of the MCMC and VI keys in the dictionary are the names of the argument you
    # would pass to inference_method in model.fit": each one is a registered sampler
    names = [name for backend in methods.values() for kind in backend.values() for name in kind]
    assert set(names) <= set(bmb.list_samplers())
    assert {"blackjax", "numpyro", "vi"} <= set(names)


@pytest.mark.parametrize("name", ["blackjax_nuts", "numpyro_nuts"])
def test_bayeux_names_point_to_the_new_ones(model, name):
    with pytest.raises(SamplerError, match=name.split("_")[0]):
        model.fit(inference_method=name)


@pytest.mark.parametrize("inference_method", ["blackjax", "numpyro"])
def test_jax_samplers_agree_with_least_squares(model, data, inference_method):
    pytest.importorskip(inference_method)
    idata = model.fit(inference_method=inference_method, random_seed=1, **SMALL)
    ols = smf.ols("y ~ x", data).fit()
    posterior = idata["posterior"]
    assert posterior.sizes["chain"] == 2 and posterior.sizes["draw"] == SMALL["draws"]
    for name in ["Intercept", "x"]:
        assert_posterior_near(draws_of(posterior, name), ols.params[name], label=name)
    assert_posterior_near(draws_of(posterior, "sigma"), np.sqrt(ols.scale), 0.5, "sigma")
