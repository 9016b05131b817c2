"""Bambi's documentation notebooks, run with ``import bayesformula as bmb``.

Each module follows one notebook of Bambi (docs/notebooks in bambinos/bambi): the same data (or
data of the same shape, simulated with a known truth where the original is not bundled), the
same model specifications and the same calls. Results are checked against references computed
independently of bayesformula (statsmodels, scipy, sample statistics or the simulated truth).

Draws and tuning steps are smaller than in the notebooks so that the package runs in about two
minutes; the tolerances below are built from the Monte Carlo error of those shorter runs.
"""

from __future__ import annotations

import logging
import warnings

import pytest

warnings.filterwarnings("ignore", message=".*could not link to a BLAS.*")
warnings.filterwarnings("ignore", message=".*We recommend running at least 4 chains.*")
warnings.filterwarnings("ignore", message=".*rhat statistic is larger.*")
warnings.filterwarnings("ignore", message=".*effective sample size per chain.*")


@pytest.fixture(autouse=True, scope="session")
def _quiet_diagnostics():
    """Sampler diagnostics of the short runs are reported through this logger; the tests
    check the numbers themselves."""
    logger = logging.getLogger("bayesformula")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)
