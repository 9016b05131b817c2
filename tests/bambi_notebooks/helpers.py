"""Settings and comparisons shared by the notebook tests."""

from __future__ import annotations

import numpy as np

#: Settings added to the notebooks' ``fit`` calls: fewer draws and tuning steps than the
#: notebooks use (their defaults are 1000 of each), two chains, no progress bars.
SMALL = {"draws": 300, "tune": 300, "chains": 2, "progressbar": False}


def draws_of(data, name=None):
    """Draws of a variable (``data[name]``, or ``data`` itself when it is a DataArray) as an
    array with chain and draw first."""
    array = data if name is None else data[name]
    rest = [d for d in array.dims if d not in ("chain", "draw")]
    return array.transpose("chain", "draw", *rest).to_numpy()


def mcse(draws: np.ndarray, batches: int = 10) -> np.ndarray:
    """Monte Carlo standard error of the mean by batch means (chain, draw, ...) -> (...).

    Each chain is cut into ``batches`` consecutive batches; the spread of the batch means
    includes the autocorrelation within chains, without relying on the library under test.
    """
    chains, n = draws.shape[:2]
    size = n // batches
    cut = draws[:, : size * batches].reshape(chains, batches, size, *draws.shape[2:])
    means = cut.mean(axis=2).reshape(chains * batches, *draws.shape[2:])
    return means.std(axis=0, ddof=1) / np.sqrt(chains * batches)


def assert_posterior_near(draws, reference, slack: float = 0.3, label: str = ""):
    """The posterior mean is within ``4 * MCSE + slack * posterior sd`` of ``reference``.

    4 Monte Carlo standard errors bound the simulation noise of the short runs (a false alarm
    about once in 15 000 comparisons). ``slack`` posterior sds allow for what separates a
    posterior mean from a maximum-likelihood (or REML) estimate with weakly informative priors:
    the pull of the prior and the skewness of the posterior, both small next to the posterior
    sd. Against a simulated truth, ``slack`` is the number of posterior sds (about standard
    errors of the estimate) that the sampling variation of the data may move the estimate.
    """
    draws = np.asarray(draws, dtype=float)
    reference = np.asarray(reference, dtype=float)
    mean = draws.mean(axis=(0, 1))
    sd = draws.std(axis=(0, 1))
    tolerance = 4 * mcse(draws) + slack * sd
    gap = np.abs(mean - reference)
    assert np.all(gap <= tolerance), (
        f"{label}: posterior mean {np.round(mean, 4)} vs reference {np.round(reference, 4)} "
        f"(gap {np.round(gap, 4)} > tolerance {np.round(tolerance, 4)}; sd {np.round(sd, 4)})"
    )
