"""The diagnostics of an approximate fit: its Pareto k̂ in `check` and in the fit's report."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest

from bayesformula.diagnostics import check
from bayesformula.diagnostics.checks import report_fit
from bayesformula.log import forget_notes, verbosity
from tests.helpers import fit_tree


def _approximate(k, method="advi", **extra):
    rng = np.random.default_rng(0)
    idata = fit_tree(posterior={"theta": rng.normal(size=(1, 400))})
    idata["posterior"].attrs.update(approximation=method, pareto_k=k, pareto_k_draws=400, **extra)
    return idata


@pytest.mark.parametrize(
    "k, ok, words",
    [
        (0.31, True, "is 0.31 (from 400 of its draws; Yao et al. 2018), below 0.5: it is close"),
        (0.62, True, "is 0.62 (from 400 of its draws; Yao et al. 2018), between 0.5 and 0.7"),
        (0.93, False, "is 0.93 (from 400 of its draws; Yao et al. 2018), above 0.7: the "),
        (math.inf, False, "is inf (from 400"),
        (-math.inf, True, "ratios are all equal"),
    ],
)
def test_check_reports_pareto_k(k, ok, words):
    diag = check(_approximate(k))
    finding = diag["pareto_k"]
    assert (finding.ok, finding.value, finding.threshold) == (ok, k, 0.7)
    assert finding.message.startswith("Pareto k̂ of the advi approximation")
    assert words in finding.message
    assert bool(finding.advice) == (not ok)
    if not ok:
        assert "inference_method='pymc'" in finding.advice
        assert words in str(diag)


def test_mcmc_fits_have_no_pareto_k_check():
    rng = np.random.default_rng(1)
    diag = check(fit_tree(posterior={"theta": rng.normal(size=(2, 300))}))
    assert "pareto_k" not in [f.check for f in diag.findings]


def test_not_computed_says_why():
    idata = _approximate(float("nan"), "pathfinder", pareto_k_note="not computed: because")
    finding = check(idata)["pareto_k"]
    assert finding.ok and finding.message == (
        "Pareto k̂ of the pathfinder approximation: not computed: because."
    )


@pytest.mark.parametrize(
    "k, level", [(0.31, logging.DEBUG), (0.62, logging.INFO), (1.4, logging.WARNING)]
)
def test_report_logs_the_figure_and_warns_when_poor(k, level, caplog):
    """Quiet by default: a good k̂ only when verbose, one that needs care as a note (once per
    process), a poor one as a warning every time; the approximation is named once."""
    forget_notes()
    with caplog.at_level(logging.DEBUG, logger="bayesformula"):
        report_fit(_approximate(k, "laplace"))
        report_fit(_approximate(k, "laplace"))
    records = [r for r in caplog.records if "Pareto k̂" in r.getMessage()]
    again = logging.DEBUG if level == logging.INFO else level
    assert [r.levelno for r in records] == [level, again]
    assert f"laplace approximation is {k:.2f}" in records[0].getMessage()
    assert ("Next step:" in records[0].getMessage()) == (level == logging.WARNING)
    named = [
        r.levelno for r in caplog.records if "Approximate posterior (laplace)" in r.getMessage()
    ]
    assert named == [logging.INFO, logging.DEBUG]
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="bayesformula"), verbosity(True):
        report_fit(_approximate(k, "laplace"))
    assert [r.levelno for r in caplog.records] == [logging.INFO, max(level, logging.INFO)]
