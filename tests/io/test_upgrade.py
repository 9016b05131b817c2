"""Files saved when a two-level categorical term was a scalar load in today's layout: the
term keeps its level along its dim, and the loaded model predicts from those draws."""

from __future__ import annotations

import numpy as np
import pandas as pd

import bayesformula as bf
from tests.helpers import fit_tree

RNG = np.random.default_rng(21)
N, CHAINS, DRAWS = 40, 2, 30


def test_scalar_draws_of_a_one_column_categorical_term_get_its_dim(tmp_path):
    data = pd.DataFrame(
        {
            "a": RNG.choice(["lo", "hi"], N),
            "x": RNG.normal(0, 1, N),
            "g": RNG.choice(["g1", "g2", "g3"], N),
        }
    )
    data["y"] = 1.0 + (data["a"] == "lo") + RNG.normal(0, 1, N)
    model = bf.Model("y ~ a + x + (a||g)", data)
    old = {  # the layout of earlier versions: no dim for the one level
        "Intercept": RNG.normal(size=(CHAINS, DRAWS)),
        "a": RNG.normal(size=(CHAINS, DRAWS)),
        "x": RNG.normal(size=(CHAINS, DRAWS)),
        "sigma": RNG.gamma(2.0, size=(CHAINS, DRAWS)),
        "1|g_sigma": RNG.gamma(2.0, size=(CHAINS, DRAWS)),
        "1|g": RNG.normal(size=(CHAINS, DRAWS, 3)),
        "a|g_sigma": RNG.gamma(2.0, size=(CHAINS, DRAWS)),
        "a|g": RNG.normal(size=(CHAINS, DRAWS, 3)),
    }
    draws = fit_tree(
        posterior=old,
        dims={"1|g": ["g__factor_dim"], "a|g": ["g__factor_dim"]},
        coords={"g__factor_dim": ["g1", "g2", "g3"]},
        observed_data={"y": data["y"].to_numpy()},
    )
    path = bf.save(model, draws, tmp_path / "old.nc")
    loaded, idata = bf.load(path)
    post = idata.posterior
    assert post["a"].dims == ("chain", "draw", "a_dim")
    assert list(post["a_dim"].values) == ["lo"]
    assert post["a|g"].dims == ("chain", "draw", "g__factor_dim", "a__expr_dim")
    assert post["a|g_sigma"].dims == ("chain", "draw", "a__expr_dim")
    np.testing.assert_array_equal(post["a"].values[..., 0], old["a"])
    np.testing.assert_array_equal(post["a|g"].values[..., 0], old["a|g"])

    new = pd.DataFrame({"a": ["hi", "lo"], "x": [0.0, 0.0], "g": ["g2", "g2"]})
    mu = loaded.predict(idata, data=new, inplace=False).posterior["mu"].values
    expected = old["Intercept"] + old["1|g"][..., 1]
    np.testing.assert_allclose(mu[..., 0], expected, rtol=1e-10)
    np.testing.assert_allclose(mu[..., 1], expected + old["a"] + old["a|g"][..., 1], rtol=1e-10)
