"""Sampler diagnostics: a good fit passes; hand-made bad fits fail each check with the
planted value, names the variable and says what to do next."""

from __future__ import annotations

import logging
import warnings

import arviz as az
import numpy as np
import pandas as pd
import pytest

import bayesformula as bf
from bayesformula.diagnostics import Diagnostics, Finding, check
from bayesformula.errors import BayesformulaError
from tests.helpers import fit_tree

CHECKS = ["divergences", "r_hat", "ess_bulk", "ess_tail", "tree_depth", "bfmi"]
N_CHAIN, N_DRAW = 2, 500
N_DIVERGENT = 7
N_SATURATED = 600  # of 1000 draws at the maximum tree depth


def _stats(rng, energy=None):
    diverging = np.zeros((N_CHAIN, N_DRAW), dtype=bool)
    flat = rng.choice(N_CHAIN * N_DRAW, N_DIVERGENT, replace=False)
    diverging.ravel()[flat] = True
    reached = np.zeros(N_CHAIN * N_DRAW, dtype=bool)
    reached[rng.choice(N_CHAIN * N_DRAW, N_SATURATED, replace=False)] = True
    if energy is None:  # a random walk: its increments are tiny next to its spread -> low E-BFMI
        energy = np.cumsum(rng.normal(size=(N_CHAIN, N_DRAW)), axis=1)
    return {
        "diverging": diverging,
        "reached_max_treedepth": reached.reshape(N_CHAIN, N_DRAW),
        "tree_depth": np.where(reached, 10, 4).reshape(N_CHAIN, N_DRAW),
        "energy": energy,
    }


@pytest.fixture(scope="module")
def bad_idata():
    """theta: chain 0 around 0, chain 1 around 5 (r_hat and ESS fail); good: iid normal."""
    rng = np.random.default_rng(0)
    theta = np.stack([rng.normal(0, 1, N_DRAW), rng.normal(5, 1, N_DRAW)])
    good = rng.normal(size=(N_CHAIN, N_DRAW))
    return fit_tree(posterior={"theta": theta, "good": good}, sample_stats=_stats(rng))


@pytest.fixture(scope="module")
def nan_energy_idata():
    rng = np.random.default_rng(1)
    energy = rng.normal(size=(N_CHAIN, N_DRAW))
    energy[1, 17] = np.nan
    return fit_tree(
        posterior={"theta": rng.normal(size=(N_CHAIN, N_DRAW))},
        sample_stats={"energy": energy, "diverging": np.zeros((N_CHAIN, N_DRAW), dtype=bool)},
    )


# --------------------------------------------------------------------------- good fit


def test_good_fit_passes_every_check(bioassay_fit):
    model, idata = bioassay_fit
    diag = check(idata)
    assert isinstance(diag, Diagnostics)
    assert diag.ok
    assert all(isinstance(f, Finding) and f.ok and f.advice == "" for f in diag.findings)
    assert diag.problems == ()
    frame = diag.to_frame()
    assert list(frame.index) == CHECKS
    assert list(frame.columns) == ["ok", "value", "threshold", "message", "advice", "variables"]
    assert frame["ok"].all()
    assert str(diag) == f"Diagnostics: no problems found ({', '.join(CHECKS)})."
    # the measured values are what ArviZ computes from the same draws
    names = ["dose", "Intercept_centered", "Intercept"]
    assert diag["divergences"].value == float(idata.sample_stats["diverging"].sum())
    rhat = az.rhat(idata, var_names=names)
    assert diag["r_hat"].value == pytest.approx(max(float(rhat[v]) for v in names), rel=1e-12)
    bulk = az.ess(idata, var_names=names, method="bulk")
    assert diag["ess_bulk"].value == pytest.approx(min(float(bulk[v]) for v in names), rel=1e-12)
    assert diag["tree_depth"].value == float(idata.sample_stats["reached_max_treedepth"].mean())
    bfmi = az.bfmi(idata)["energy"].to_numpy()
    assert diag["bfmi"].value == pytest.approx(float(np.min(bfmi)), rel=1e-12)
    via_model = model.check(idata)
    assert via_model.ok and list(via_model.to_frame().index) == CHECKS


def test_unknown_check_name(bioassay_fit):
    _, idata = bioassay_fit
    with pytest.raises(KeyError, match="no check named 'rhat'"):
        check(idata)["rhat"]


# --------------------------------------------------------------------------- bad fits


def test_divergences_count_and_advice(bad_idata):
    finding = check(bad_idata)["divergences"]
    assert not finding.ok
    assert finding.value == N_DIVERGENT
    assert f"{N_DIVERGENT} of {N_CHAIN * N_DRAW} draws diverged" in finding.message
    assert "target_accept" in finding.advice
    assert "non-center" not in finding.advice  # no model given: nothing about group effects


def test_r_hat_names_the_disagreeing_variable(bad_idata):
    finding = check(bad_idata)["r_hat"]
    assert not finding.ok
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = float(az.rhat(bad_idata)["theta"])
    assert expected > 1.5  # the planted disagreement
    assert finding.value == pytest.approx(expected, rel=1e-12)
    assert finding.variables == ("theta",)
    assert "theta" in finding.message and "good" not in finding.message
    assert "tune and draws" in finding.advice


@pytest.mark.parametrize("column", ["ess_bulk", "ess_tail"])
def test_low_ess_names_variable_and_asks_for_draws(bad_idata, column):
    finding = check(bad_idata)[column]
    assert not finding.ok
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = float(az.ess(bad_idata, method=column.split("_")[1])["theta"])
    assert expected < 100 * N_CHAIN
    assert finding.value == pytest.approx(expected, rel=1e-12)
    assert finding.threshold == 100 * N_CHAIN
    assert finding.variables == ("theta",)
    assert "theta" in finding.message
    assert "draws" in finding.advice


def test_tree_depth_fraction_and_advice(bad_idata):
    finding = check(bad_idata)["tree_depth"]
    assert not finding.ok
    assert finding.value == N_SATURATED / (N_CHAIN * N_DRAW)
    assert "60.0% of draws hit the maximum tree depth" in finding.message
    assert "max_treedepth" in finding.advice


def test_tree_depth_from_depth_alone():
    """Without reached_max_treedepth, draws at depth 10 (the default maximum) count."""
    rng = np.random.default_rng(3)
    depth = np.full((N_CHAIN, N_DRAW), 5)
    depth[0, :50] = 10
    idata = fit_tree(
        posterior={"theta": rng.normal(size=(N_CHAIN, N_DRAW))}, sample_stats={"depth": depth}
    )
    finding = check(idata)["tree_depth"]
    assert not finding.ok and finding.value == 50 / (N_CHAIN * N_DRAW)
    shallow = fit_tree(
        posterior={"theta": rng.normal(size=(N_CHAIN, N_DRAW))},
        sample_stats={"depth": np.full((N_CHAIN, N_DRAW), 6)},
    )
    assert check(shallow)["tree_depth"].ok


def test_low_bfmi(bad_idata):
    finding = check(bad_idata)["bfmi"]
    assert not finding.ok
    energy = bad_idata.sample_stats["energy"].values
    # E-BFMI per chain: mean squared energy increment over the energy variance (ddof=1, as
    # ArviZ defines it)
    bfmi = np.mean(np.diff(energy, axis=1) ** 2, axis=1) / np.var(energy, axis=1, ddof=1)
    reference = np.min(bfmi)
    assert finding.value == pytest.approx(reference, rel=1e-10)
    assert finding.value < 0.3
    assert "2 chain(s)" in finding.message
    assert "noncentered" in finding.advice


def test_non_finite_energy(nan_energy_idata):
    diag = check(nan_energy_idata)
    finding = diag["energy"]
    assert not finding.ok
    assert finding.value == 1.0
    assert "1 draws have a non-finite energy" in finding.message
    assert "prior_predictive" in finding.advice
    with pytest.raises(KeyError):  # E-BFMI is meaningless with a NaN energy
        diag["bfmi"]
    assert [f.check for f in diag.problems] == ["energy"]


def test_report_lists_every_problem(bad_idata):
    diag = check(bad_idata)
    assert not diag.ok
    failing = {"divergences", "r_hat", "ess_bulk", "ess_tail", "tree_depth", "bfmi"}
    assert {f.check for f in diag.problems} == failing
    report = str(diag)
    lines = report.splitlines()
    assert lines[0] == f"Diagnostics: {len(failing)} problem(s)."
    assert report.count("Next step:") == len(failing)
    for finding in diag.problems:
        assert f"  - {finding.message}" in lines
        assert f"    Next step: {finding.advice}" in lines
    assert repr(diag) == report
    frame = diag.to_frame()
    assert list(frame.index) == CHECKS
    assert not frame["ok"].any()
    assert frame.loc["r_hat", "variables"] == "theta"
    assert frame.loc["divergences", "value"] == N_DIVERGENT


def test_var_names_limits_parameter_checks(bad_idata):
    diag = check(bad_idata, var_names=["good"])
    assert diag["r_hat"].ok and diag["ess_bulk"].ok and diag["ess_tail"].ok
    assert not diag["divergences"].ok  # sampler-wide checks still run


def test_one_chain_has_no_r_hat():
    rng = np.random.default_rng(4)
    idata = fit_tree(posterior={"theta": rng.normal(size=(1, 400))})
    diag = check(idata)
    assert [f.check for f in diag.findings] == ["ess_bulk", "ess_tail"]
    assert diag["ess_bulk"].threshold == 100


def test_nothing_to_check_and_not_an_idata():
    per_obs = fit_tree(
        posterior={"mu": np.zeros((2, 10, 3))}, dims={"mu": ["__obs__"]}
    )  # only per-observation values, no sample_stats
    with pytest.raises(BayesformulaError, match="nothing to check"):
        check(per_obs)
    with pytest.raises(BayesformulaError, match="posterior"):
        check(pd.DataFrame({"x": [1.0]}))


# --------------------------------------------------------------------------- advice per model


def test_divergence_advice_follows_the_model(bad_idata, group_data):
    centered = bf.Model("y ~ x + (1|g)", group_data, noncentered=False)
    advice = check(bad_idata, model=centered)["divergences"].advice
    assert "non-center the group effects of 'g'" in advice and "noncentered=True" in advice
    assert "target_accept" in advice
    noncentered = bf.Model("y ~ x + (1|g)", group_data, noncentered=True)
    advice = check(bad_idata, model=noncentered)["divergences"].advice
    assert "non-center" not in advice and "tighter priors on their sigmas" in advice
    no_groups = bf.Model("y ~ x", group_data)
    advice = check(bad_idata, model=no_groups)["divergences"].advice
    assert "non-center" not in advice and "sigmas" not in advice
    # ESS advice mentions the group-effect parameterisation only for models with group terms
    assert "noncentered=" in check(bad_idata, model=centered)["ess_bulk"].advice
    assert "noncentered=" not in check(bad_idata, model=no_groups)["ess_bulk"].advice


# --------------------------------------------------------------------------- fit() reports once


def test_fit_reports_once_through_the_logger(bioassay, caplog, capsys):
    model = bf.Model("p(deaths, n) ~ 1", bioassay, family="binomial")
    fit = {"draws": 150, "tune": 150, "chains": 2, "cores": 1, "progressbar": False}
    caplog.set_level(logging.INFO, logger="bayesformula")
    idata = model.fit(random_seed=4, verbose=True, **fit)
    assert caplog.text.count("Diagnostics:") == 1
    assert str(model.check(idata)) in caplog.text
    assert "Diagnostics" not in capsys.readouterr().out  # logged, not printed
    caplog.clear()
    model.fit(random_seed=4, diagnostics=False, verbose=True, **fit)
    assert "Diagnostics" not in caplog.text


def test_diagnostics_table_equals_arviz_summary():
    """The stacked computation gives arviz.summary's rows, labels and values exactly, for
    scalars, vectors and matrices with named coordinates, including a stuck chain."""
    import xarray as xr

    from bayesformula.diagnostics.checks import diagnostics_table

    rng = np.random.default_rng(4)
    walk = np.cumsum(rng.normal(size=(2, 300)), axis=1)  # poorly mixed: r_hat well above 1
    dataset = xr.Dataset(
        {
            "a": (("chain", "draw"), walk),
            "b": (("chain", "draw", "b_dim"), rng.normal(size=(2, 300, 3))),
            "c": (("chain", "draw", "g", "h"), rng.gamma(2.0, size=(2, 300, 2, 2))),
        },
        coords={"b_dim": ["x", "y", "z"], "g": ["g1", "g2"], "h": [0, 1]},
    )
    expected = az.summary(dataset, kind="diagnostics", round_to="none")
    got = diagnostics_table(dataset)
    assert list(got.index) == list(expected.index)
    assert got.index[4] == "c[g1, 0]"
    for column in ("r_hat", "ess_bulk", "ess_tail"):
        np.testing.assert_allclose(got[column].to_numpy(), expected[column].to_numpy(), rtol=1e-10)
    assert got.loc["a", "r_hat"] > 1.05
