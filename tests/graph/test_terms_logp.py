"""The PyMC model of mo() and hsgp() terms equals an independent scipy/numpy computation.

At random parameter points the joint log-density (priors plus likelihood, no Jacobian) is
written out by hand, with the sampled intercept taken at the terms' mean over the data: the
monotonic contribution ``b * D * sum(zeta[:x])`` from the raw columns, the Gaussian processes'
basis functions ``sin(pi j (x - centre + L) / (2 L)) / sqrt(L)`` with the centre at mid-range
and ``L = c * half-range``, their spectral densities in closed form
(Rasmussen & Williams 2006, eq. 4.15 and 4.20) and the priors with scipy.stats. Equality at
random points proves the model is the intended posterior.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytensor.tensor as pt
import pytest
from scipy import stats

import bayesformula as bf
from bayesformula.errors import PriorError

N = 36
RNG = np.random.default_rng(8)
LEVELS = ["lo", "mid", "hi"]
G = np.array(["a", "b"] * (N // 2))
DF = pd.DataFrame(
    {
        "y": RNG.normal(1, 1, N),
        "e": pd.Categorical(RNG.choice(LEVELS, N), categories=LEVELS, ordered=True),
        "k": RNG.integers(0, 4, N),
        "z": RNG.normal(0, 1, N),
        "x": RNG.uniform(0, 10, N),
        "x2": RNG.uniform(-1, 3, N),
        "g": G,
    }
)
H1 = "hsgp(x, m=6, c=1.5)"
H2 = "hsgp(x, x2, m=[3, 3], c=1.6, by=g, share_cov=False, iso=False, cov='matern52', centered=True)"
FORMULA = f"y ~ mo(e) + mo(k):z + {H1} + {H2}"


def _basis_1d(x, centre, L, m):
    j = np.arange(1, m + 1)
    return np.sin(np.pi * j * (x[:, None] - centre + L) / (2 * L)) / np.sqrt(L)


def _value_point(model, constrained):
    point = {}
    for rv in model.free_RVs:
        value = np.asarray(constrained[rv.name], dtype=float)
        transform = model.rvs_to_transforms.get(rv)
        if transform is not None:
            value = transform.forward(pt.as_tensor(value)).eval()
        point[model.rvs_to_values[rv].name] = value
    return point


def test_mo_and_hsgp_model_logp_matches_scipy():
    model = bf.Model(FORMULA, DF)
    pm_model = model.build()
    logp = pm_model.compile_logp(jacobian=False, mode="FAST_COMPILE")
    priors, terms = model.priors, model.priors.terms

    e = DF["e"].cat.codes.to_numpy()
    k, z, x, x2 = (DF[c].to_numpy() for c in ("k", "z", "x", "x2"))
    centre1, L1 = (x.max() + x.min()) / 2, 1.5 * (x.max() - x.min()) / 2
    phi1 = _basis_1d(x, centre1, L1, 6)
    omega1 = np.pi * np.arange(1, 7) / (2 * L1)
    # second GP: inputs (x, x2), basis functions ordered (1,1), (1,2), ..., (3,3), the same
    # domain for both levels of g, weights and sigma/ell per level
    pairs = [(a, b) for a in (1, 2, 3) for b in (1, 2, 3)]
    level = (G == "b").astype(int)
    cols, omega2 = [], np.zeros((2, 9, 2))
    for j, values in enumerate((x, x2)):
        centre = (values.max() + values.min()) / 2
        L = 1.6 * (values.max() - values.min()) / 2
        cols.append(_basis_1d(values, centre, L, 3))
        omega2[:, :, j] = [np.pi * p[j] / (2 * L) for p in pairs]
    phi2 = np.column_stack([cols[0][:, a - 1] * cols[1][:, b - 1] for a, b in pairs])

    const52 = 2**2 * np.pi * math.gamma(3.5) * 5**2.5 / math.gamma(2.5)
    alpha2 = np.asarray(terms[f"{H2}_ell"].args["alpha"])[:, None]
    beta2 = np.asarray(terms[f"{H2}_ell"].args["beta"])[:, None]
    rng = np.random.default_rng(1)
    for _ in range(3):
        ic, b1, b2 = rng.normal(1, 0.5), rng.normal(0, 1), rng.normal(0, 1)
        zeta1, zeta2 = rng.dirichlet(np.ones(2)), rng.dirichlet(np.ones(3))
        s1, ell1 = rng.uniform(0.3, 2), rng.uniform(1, 5)
        off1 = rng.normal(size=6)
        s2, ell2 = rng.uniform(0.3, 2, 2), rng.uniform(0.5, 4, (2, 2))  # (input, level)
        w2 = rng.normal(0, 0.3, (9, 2))  # (basis function, level)
        sigma = rng.uniform(0.5, 2)
        constrained = {
            "Intercept_centered": ic,
            "mo(e)": b1,
            "mo(e)_simplex": zeta1,
            "mo(k):z": b2,
            "mo(k):z_simplex": zeta2,
            f"{H1}_sigma": s1,
            f"{H1}_ell": ell1,
            f"{H1}_offset": off1,
            f"{H2}_sigma": s2,
            f"{H2}_ell": ell2,
            H2: w2,
            "sigma": sigma,
        }
        point = _value_point(pm_model, constrained)

        psd1 = s1**2 * np.sqrt(2 * np.pi) * ell1 * np.exp(-0.5 * (ell1 * omega1) ** 2)
        r2 = ((omega2 * ell2.T[:, None, :]) ** 2).sum(axis=2)  # (level, basis)
        psd2 = s2[:, None] ** 2 * ell2.prod(axis=0)[:, None] * const52 * (5 + r2) ** -3.5
        contribution = (
            b1 * 2 * np.r_[0, np.cumsum(zeta1)][e]
            + b2 * 3 * np.r_[0, np.cumsum(zeta2)][k] * z
            + phi1 @ (off1 * np.sqrt(psd1))
            + (phi2 * w2.T[level]).sum(axis=1)
        )
        # the sampled intercept is at the terms' mean over the data (as at predictors' means)
        mu = ic + contribution - contribution.mean()
        expected = stats.norm.logpdf(DF["y"], mu, sigma).sum()
        expected += stats.norm.logpdf(ic, 1.0 * DF["y"].mean(), 2.5 * DF["y"].std(ddof=0))
        for name, b in (("mo(e)", b1), ("mo(k):z", b2)):
            expected += stats.norm.logpdf(b, 0, priors.common[name].args["sigma"])
        expected += stats.dirichlet.logpdf(zeta1, [1, 1]) + stats.dirichlet.logpdf(zeta2, [1] * 3)
        sd = 2.5 * DF["y"].std(ddof=0)
        expected += stats.halfnorm.logpdf(s1, scale=sd) + stats.halfnorm.logpdf(s2, scale=sd).sum()
        ig1 = terms[f"{H1}_ell"].args
        expected += stats.invgamma.logpdf(ell1, ig1["alpha"], scale=ig1["beta"])
        expected += stats.invgamma.logpdf(ell2, alpha2, scale=beta2).sum()
        expected += stats.norm.logpdf(off1).sum()
        expected += stats.norm.logpdf(w2, 0, np.sqrt(psd2).T).sum()
        expected += np.log(2) + stats.t.logpdf(sigma, 4, scale=DF["y"].std(ddof=0))
        assert np.isfinite(expected)
        np.testing.assert_allclose(logp(point), expected, rtol=1e-9)


def test_fixed_sigma_and_lengthscale_and_user_priors():
    """A number fixes an hsgp() sigma or lengthscale (no variable); a simplex takes a Dirichlet
    of the right length; the fast path declines hsgp() terms with a reason."""
    priors = {
        f"{H1}_sigma": 0.5,
        f"{H1}_ell": 2.0,
        "mo(e)_simplex": bf.Prior("Dirichlet", a=[2.0, 3.0]),
    }
    model = bf.Model(f"y ~ mo(e) + {H1}", DF, priors=priors)
    names = {v.name for v in model.build().free_RVs}
    assert f"{H1}_sigma" not in names and f"{H1}_ell" not in names
    assert {f"{H1}_offset", "mo(e)_simplex", "mo(e)"} <= names
    assert "hsgp(x, m=6, c=1.5)_sigma ~ 0.5 (fixed)" in str(model)
    table = model.prior_table().set_index("parameter")
    assert table.loc["mo(e)_simplex", "source"] == "user"
    assert table.loc["mo(e)_simplex", "kind"] == "term"
    assert model.density() is None
    assert "the hsgp() term 'hsgp(x, m=6, c=1.5)'" in model.fast_path_note
    # default slope prior: the common-term rule for the level codes 0, 1, 2 as a column
    codes = DF["e"].cat.codes.to_numpy()
    expected = 2.5 * DF["y"].std(ddof=0) / codes.std()
    assert model.priors.common["mo(e)"].args["sigma"] == pytest.approx(expected)


@pytest.mark.parametrize(
    "priors, match",
    [
        ({"mo(e)_simplex": bf.Prior("Normal", mu=0, sigma=1)}, "Dirichlet prior with 2"),
        ({"mo(e)_simplex": bf.Prior("Dirichlet", a=[1.0, 1.0, 1.0])}, "Dirichlet prior with 2"),
        ({f"{H1}_sigma": -1.0}, "positive number to fix it"),
        ({"hsgp(x)_ell": 1.0}, "did you mean"),
    ],
)
def test_term_prior_errors(priors, match):
    with pytest.raises(PriorError, match=match):
        bf.Model(f"y ~ mo(e) + {H1}", DF, priors=priors)
