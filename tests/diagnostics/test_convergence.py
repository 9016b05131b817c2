"""The stacked R-hat and ESS estimators equal ArviZ's, column by column, on every kind of
chain the checks meet: mixed, autocorrelated, stuck, constant, discrete, short, with NaN."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr

from bayesformula.diagnostics import convergence


def _arviz(ary):
    import arviz_stats  # noqa: F401  (the .azstats accessor)

    da = xr.DataArray(ary, dims=("chain", "draw", "k"))
    return {
        "rhat": da.azstats.rhat().values,
        "bulk": da.azstats.ess(method="bulk").values,
        "tail": da.azstats.ess(method="tail").values,
    }


def _cases():
    rng = np.random.default_rng(1)
    chains, draws = 2, 1000
    walk = np.cumsum(rng.normal(size=(chains, draws, 3)), axis=1)
    mixed = np.concatenate(
        [
            rng.normal(size=(chains, draws, 5)),
            walk,
            np.ones((chains, draws, 1)),  # constant
            rng.poisson(1.0, size=(chains, draws, 2)).astype(float),  # ties
            (rng.random((chains, draws, 1)) < 0.5).astype(float),
        ],
        axis=-1,
    )
    ar = np.zeros((4, 301, 3))  # four chains, an odd number of draws
    for t in range(1, 301):
        ar[:, t] = 0.9 * ar[:, t - 1] + rng.normal(size=(4, 3))
    stuck = rng.normal(size=(2, 50, 2))
    stuck[1] += 5.0
    with_nan = rng.normal(size=(2, 100, 3))
    with_nan[0, 5, 1] = np.nan
    return {
        "mixed": mixed,
        "autocorrelated": ar,
        "stuck": stuck,
        "one chain": rng.normal(size=(1, 100, 2)),
        "nan": with_nan,
        "too short": rng.normal(size=(2, 3, 2)),
    }


CASES = _cases()


@pytest.mark.parametrize("case", sorted(CASES))
def test_equal_to_arviz(case):
    ary = CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = _arviz(ary)
        got = {
            "rhat": convergence.rhat_rank(ary),
            "bulk": convergence.ess_bulk(ary),
            "tail": convergence.ess_tail(ary),
        }
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-10, atol=0, err_msg=key)


def test_the_cases_reach_every_branch():
    """Not vacuous: the cases include a NaN result, a constant column's full ESS, a stuck
    chain's large R-hat and a truncation far from lag 1."""
    mixed = convergence.ess_bulk(CASES["mixed"])
    assert mixed[8] == 2000  # the constant column
    assert convergence.rhat_rank(CASES["stuck"]).min() > 1.5
    assert np.isnan(convergence.rhat_rank(CASES["nan"])[1])
    assert np.isnan(convergence.rhat_rank(CASES["one chain"])).all()
    assert np.isnan(convergence.ess_bulk(CASES["too short"])).all()
    assert convergence.ess_bulk(CASES["autocorrelated"]).max() < 300  # long autocorrelation
