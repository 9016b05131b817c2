"""Predictions of models with mo() and hsgp() terms, in-sample and on new data.

Posterior draws are made up (any values of the parameters are valid draws for this check), and
the predicted mean is compared with the linear predictor written out in numpy from the raw
columns: the monotonic effect from the ordered levels, the Gaussian process from its basis
functions with the fitting data's centre and boundary.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayesformula as bf
from bayesformula.errors import PredictionError
from bayesformula.spec.names import design_coords
from tests.helpers import fit_tree

N = 30
RNG = np.random.default_rng(21)
LEVELS = ["none", "some", "much", "all"]
DF = pd.DataFrame(
    {
        "y": RNG.normal(0, 1, N),
        "e": pd.Categorical(RNG.choice(LEVELS, N), categories=LEVELS, ordered=True),
        "k": RNG.integers(0, 3, N),
        "z": RNG.normal(0, 1, N),
        "x": RNG.uniform(-5, 5, N),
        "g": np.array(["p", "q", "r"] * 10),
    },
    index=[f"obs{i}" for i in range(N)],
)
HSGP = "hsgp(x, m=5, c=1.5, by=g)"
FORMULA = f"y ~ z + mo(e) + mo(k):z + {HSGP}"
CHAINS, DRAWS = 2, 4


@pytest.fixture(scope="module")
def fitted():
    model = bf.Model(FORMULA, DF)
    rng = np.random.default_rng(0)
    shape = (CHAINS, DRAWS)
    posterior = {
        "Intercept": rng.normal(0, 1, shape),
        "z": rng.normal(0, 1, shape),
        "mo(e)": rng.normal(0, 1, shape),
        "mo(e)_simplex": rng.dirichlet(np.ones(3), shape),
        "mo(k):z": rng.normal(0, 1, shape),
        "mo(k):z_simplex": rng.dirichlet(np.ones(2), shape),
        HSGP: rng.normal(0, 1, (*shape, 5, 3)),
        "sigma": rng.uniform(0.5, 1.5, shape),
    }
    term = model.design.special_terms[-1]
    dims = {
        "mo(e)_simplex": ["mo(e)_simplex_dim"],
        "mo(k):z_simplex": ["mo(k):z_simplex_dim"],
        HSGP: list(term.weights_dims),
    }
    coords = {k: v for k, v in design_coords(model.design).items() if k != "__obs__"}
    idata = fit_tree(posterior=posterior, dims=dims, coords=coords)
    return model, idata


def _expected_mu(idata, data):
    """The linear predictor by hand, for every draw: (draws, rows)."""
    post = idata["posterior"].to_dataset().stack(sample=("chain", "draw"))
    e = pd.Categorical(data["e"], categories=LEVELS).codes
    k, z, x = (data[c].to_numpy() for c in ("k", "z", "x"))
    out = []
    for s in range(post.sizes["sample"]):
        draw = post.isel(sample=s)
        mu = draw["Intercept"].item() + draw["z"].item() * z
        steps_e = 3 * np.r_[0, np.cumsum(draw["mo(e)_simplex"].values)]
        mu = mu + draw["mo(e)"].item() * steps_e[e]
        steps_k = 2 * np.r_[0, np.cumsum(draw["mo(k):z_simplex"].values)]
        mu = mu + draw["mo(k):z"].item() * steps_k[k] * z
        weights = draw[HSGP].values  # (basis function, level)
        fit_x = DF["x"].to_numpy()  # all levels share the fitting data's domain
        centre, L = (fit_x.max() + fit_x.min()) / 2, 1.5 * (fit_x.max() - fit_x.min()) / 2
        for i, level in enumerate(("p", "q", "r")):
            rows = (data["g"] == level).to_numpy()
            j = np.arange(1, 6)
            phi = np.sin(np.pi * j * (x[rows, None] - centre + L) / (2 * L)) / np.sqrt(L)
            mu[rows] = mu[rows] + phi @ weights[:, i]
        out.append(mu)
    return np.array(out)


def test_in_sample_and_new_data_predictions(fitted):
    model, idata = fitted
    out = model.predict(idata, inplace=False)
    mu = out.posterior["mu"].stack(sample=("chain", "draw")).transpose("sample", "__obs__")
    np.testing.assert_allclose(mu.values, _expected_mu(idata, DF), rtol=1e-10, atol=1e-10)

    new = pd.DataFrame(
        {
            "e": ["all", "none", "some", "much"],
            "k": [2, 0, 1, 2],
            "z": [0.5, -1.0, 2.0, 0.0],
            "x": [-4.0, 0.0, 3.3, 4.1],
            "g": ["r", "p", "q", "p"],
        },
        index=["A", "B", "C", "D"],
    )
    out = model.predict(idata, data=new, inplace=False)
    mu = out.posterior["mu"].stack(sample=("chain", "draw")).transpose("sample", "__obs__")
    assert list(mu["__obs__"].values) == ["A", "B", "C", "D"]
    np.testing.assert_allclose(mu.values, _expected_mu(idata, new), rtol=1e-10, atol=1e-10)

    table = model.predictions(idata, data=new)
    np.testing.assert_allclose(table["mean"], _expected_mu(idata, new).mean(axis=0), rtol=1e-10)


@pytest.mark.parametrize(
    "change, match",
    [
        ({"e": ["more"]}, r"not levels of 'mo\(e\)': 'more'"),
        ({"k": [3]}, r"not levels of 'mo\(k\):z': 3"),
        ({"g": ["s"]}, r"not levels of 'hsgp\(x, m=5, c=1.5, by=g\)': 's'"),
        ({"x": [40.0]}, "outside the boundary"),
    ],
)
def test_new_data_outside_what_was_fitted(fitted, change, match):
    model, idata = fitted
    new = pd.DataFrame({"e": ["all"], "k": [1], "z": [0.0], "x": [0.0], "g": ["p"]})
    with pytest.raises(PredictionError, match=match):
        model.predict(idata, data=new.assign(**change), inplace=False)


def test_summary_names_and_saved_model(fitted, tmp_path):
    model, idata = fitted
    table = bf.summary(idata)
    assert {"mo(e)", "mo(e)_simplex[none->some]", "mo(e)_simplex[much->all]"} <= set(table.index)
    assert f"{HSGP}[0, p]" in table.index
    path = bf.save(model, idata, tmp_path / "terms.nc")
    loaded, _ = bf.load(path)  # rebuilds the terms and checks their levels, centre and boundary
    ours, theirs = model.design.special_terms[-1], loaded.design.special_terms[-1]
    np.testing.assert_array_equal(ours.basis, theirs.basis)
    assert loaded.design.special_terms[0].levels == tuple(LEVELS)


def test_plot_predictions_along_a_gaussian_process(fitted):
    """The plotting grid knows the columns mo() and hsgp() use (they are not columns of X)."""
    import matplotlib

    matplotlib.use("Agg")
    from bayesformula.plots.grid import model_variables

    model, idata = fitted
    variables = model_variables(model)
    assert {"e", "k", "x", "g"} <= set(variables.predictors)
    assert {"e", "k", "g"} <= variables.categorical  # mo(k): k is held at a level
    fig = bf.plot_predictions(model, idata, "x", by="g", n_points=20)
    assert len(fig.axes[0].get_lines()) >= 3  # one curve per level of g
