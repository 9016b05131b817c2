"""One set of sampling defaults: every engine, the library's fit and the command line draw the
same number of chains, draws and warm-up steps for the same model.

The engines' own entry points (``nutpie.sample``, ``pm.sample``) are replaced by recorders that
stop before sampling, so these tests see what each adapter would run without running it.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

import bayesformula as bf
from bayesformula.cli import build_parser, main
from bayesformula.samplers.defaults import (
    DEFAULT_CHAINS,
    DEFAULT_DRAWS,
    DEFAULT_TUNE,
    FAST_PATH_TUNE,
    describe_defaults,
)

DOCS = Path(__file__).resolve().parents[2] / "docs"


class _Stop(Exception):
    """Raised by a recorder instead of sampling."""


@pytest.fixture
def recorded(monkeypatch):
    """Replace nutpie's and PyMC's sampling calls by recorders of their arguments (and nutpie's
    compiler by a stand-in: nothing is compiled)."""
    import types

    import nutpie
    import pymc

    calls = []
    monkeypatch.setattr(
        nutpie, "compile_pymc_model", lambda *a, **k: types.SimpleNamespace(dims={}, coords={})
    )

    def recorder(engine):
        def record(*args, **kwargs):
            calls.append((engine, kwargs))
            raise _Stop

        return record

    monkeypatch.setattr(nutpie, "sample", recorder("nutpie"))
    monkeypatch.setattr(pymc, "sample", recorder("pymc"))
    return calls


def _run(model, **kwargs):
    """Call `fit` up to the engine's sampling call (the recorder stops it there)."""
    with pytest.raises(_Stop):
        model.fit(progressbar=False, diagnostics=False, **kwargs)


def _settings(engine: str, kwargs: dict) -> tuple[int, int, int]:
    """(chains, draws, tune) from a recorded call of nutpie.sample or pm.sample."""
    return kwargs["chains"], kwargs["draws"], kwargs["tune"]


@pytest.mark.parametrize("method", ["auto", "nutpie", "pymc", "numpyro", "blackjax"])
def test_every_mcmc_engine_runs_the_default_chains_draws_and_tune(method, recorded, bioassay):
    """nutpie used to run 4 chains by default and PyMC max(2, cores); numpyro and blackjax 4."""
    if method in ("numpyro", "blackjax"):
        pytest.importorskip(method)
    model = bf.Model("p(deaths, n) ~ dose", bioassay, family="binomial")
    _run(model, inference_method=method)
    (engine, kwargs), *_ = recorded
    # "auto" and "nutpie" sample the fast path's log-density: its own warm-up default
    tune = FAST_PATH_TUNE if method in ("auto", "nutpie") else DEFAULT_TUNE
    assert _settings(engine, kwargs) == (DEFAULT_CHAINS, DEFAULT_DRAWS, tune)


def test_the_graph_gets_the_same_defaults_with_either_nuts(recorded, bioassay):
    model = bf.Model("p(deaths, n) ~ dose", bioassay, family="binomial")
    for method in ("nutpie", "pymc"):
        _run(model, inference_method=method, fast_path=False)
    assert [_settings(*call) for call in recorded] == [
        (DEFAULT_CHAINS, DEFAULT_DRAWS, DEFAULT_TUNE)
    ] * 2


def test_explicit_settings_reach_every_engine(recorded, bioassay):
    model = bf.Model("p(deaths, n) ~ dose", bioassay, family="binomial")
    for method in ("nutpie", "pymc"):
        _run(model, inference_method=method, chains=3, draws=17, tune=11)
    assert [_settings(*call) for call in recorded] == [(3, 17, 11)] * 2


def test_a_sampler_called_directly_uses_the_same_defaults(recorded):
    from bayesformula.samplers import get_sampler
    from bayesformula.testing.sampler import reference_model

    for name in ("nutpie", "pymc"):
        with pytest.raises(_Stop):
            get_sampler(name).sample(reference_model(), progressbar=False)
    assert [_settings(*call) for call in recorded] == [
        (DEFAULT_CHAINS, DEFAULT_DRAWS, DEFAULT_TUNE)
    ] * 2


def test_fit_declares_the_default_draws():
    """`Model.fit` spells its default draws out; it must be the one every engine uses."""
    parameters = inspect.signature(bf.Model.fit).parameters
    assert parameters["draws"].default == DEFAULT_DRAWS
    assert parameters["chains"].default is None  # DEFAULT_CHAINS, whatever the engine
    assert parameters["tune"].default is None  # FAST_PATH_TUNE or DEFAULT_TUNE
    assert parameters["inference_method"].default == "auto"


def test_cli_defaults_are_the_library_defaults(capsys):
    args = build_parser().parse_args(["fit", "y ~ x", "--dataset", "bioassay"])
    assert args.inference_method == "auto"  # was "pymc"
    assert args.tune is None  # the library's rule (was 1000, also on the fast path)
    assert (args.chains, args.draws) == (DEFAULT_CHAINS, DEFAULT_DRAWS)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["fit", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert f"chains (default {DEFAULT_CHAINS}" in help_text
    assert f"default {FAST_PATH_TUNE} when nutpie samples the fast path" in help_text
    assert f"else {DEFAULT_TUNE}" in help_text and "(default auto" in help_text


def test_cli_fit_runs_what_the_library_runs(recorded, tmp_path):
    argv = ["fit", "p(deaths, n) ~ dose", "--dataset", "bioassay", "--family", "binomial"]
    assert main([*argv, "--no-progress"]) == 1  # the recorder's stop, an "internal error"
    (engine, kwargs), *_ = recorded
    assert engine == "nutpie"  # "auto" on the fast path
    assert _settings(engine, kwargs) == (DEFAULT_CHAINS, DEFAULT_DRAWS, FAST_PATH_TUNE)


def test_the_docs_state_the_defaults():
    """docs/samplers.md and docs/cli.md give the defaults in the words `describe_defaults`
    returns, so a change of the constants shows up as a failing test until they are updated."""
    for page in ("samplers.md", "cli.md"):
        text = " ".join((DOCS / page).read_text().split())
        assert describe_defaults() in text, page
