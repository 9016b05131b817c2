"""The compiled beta row loop against scipy's log-density, log Gamma and digamma, across the
range of shape parameters a sampler may visit (both below and above the series' shift point, a
precision small enough that the running product of shifted arguments must be renormalised, and
merged rows with weights)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.special import digamma, gammaln

from bayesformula.density.kernels import beta_rows, compiled


def _reference(mu, y, weight, kappa):
    a, b = mu * kappa, (1.0 - mu) * kappa
    w = np.ones_like(mu) if weight.size == 0 else weight
    full = stats.beta.logpdf(y, a, b)
    # beta_rows leaves out the n log Gamma(kappa) term
    lp = float(w @ (full - gammaln(kappa)))
    dmu = w * kappa * (digamma(b) - digamma(a) + np.log(y) - np.log1p(-y))
    dkappa = float(w @ (mu * (np.log(y) - digamma(a)) + (1 - mu) * (np.log1p(-y) - digamma(b))))
    return lp, dmu, dkappa


@pytest.mark.parametrize("kappa", [1e-160, 1e-3, 0.7, 5.9, 6.0, 12.0, 80.0, 3e4])
@pytest.mark.parametrize("weighted", [False, True])
def test_beta_rows_equal_scipy(kappa, weighted):
    rng = np.random.default_rng(int(kappa * 1000) % 97 + weighted)
    n = 3000  # enough rows for the running product to pass its bounds
    mu = rng.uniform(0.02, 0.98, n)
    y = rng.uniform(0.01, 0.99, n)
    weight = rng.integers(1, 5, n).astype(float) if weighted else np.zeros(0)
    dmu = np.empty(n)
    lp, dkappa = compiled(beta_rows)(mu, np.log(y), np.log1p(-y), weight, kappa, dmu)
    ref_lp, ref_dmu, ref_dkappa = _reference(mu, y, weight, kappa)
    # terms reach 1e4 in size: summing n of them in another order moves the last digits
    assert lp == pytest.approx(ref_lp, rel=1e-12, abs=1e-8)
    np.testing.assert_allclose(dmu, ref_dmu, rtol=1e-10, atol=1e-10 * kappa)
    assert dkappa == pytest.approx(ref_dkappa, rel=1e-10, abs=1e-8 / kappa)
