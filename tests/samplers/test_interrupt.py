"""Ctrl-C during a fit: nutpie and PyMC return the draws made so far, cut to a common length,
marked and announced; engines that cannot keep draws raise `SamplingInterrupted`.

The end-to-end tests run a fit in a subprocess, wait for its first posterior draws, send it
SIGINT and read what the fit returned.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from bayesformula.core.tree import make_tree
from bayesformula.diagnostics import check
from bayesformula.errors import SamplerError, SamplingInterrupted
from bayesformula.samplers import get_sampler
from bayesformula.samplers.external import _wait, _written_draws
from bayesformula.samplers.interrupt import (
    InterruptedFitWarning,
    Progress,
    copy_marks,
    drawn_per_chain,
    interruption,
    keep_chains,
    mark,
    settle,
    watch_interrupts,
    without_partial_draws,
)
from bayesformula.samplers.pymc import _DrawCounter

ROOT = Path(__file__).resolve().parents[2]


# --- the helpers, without sampling ----------------------------------------------------------


def _padded_fit(made, n_draws=10, warmup=None):
    """A nutpie-shaped fit: chain c holds made[c] draws, then NaN padding (0 for integers)."""
    n_chains = len(made)
    theta = np.full((n_chains, n_draws, 2), np.nan)
    energy = np.full((n_chains, n_draws), np.nan)
    depth = np.zeros((n_chains, n_draws), dtype=np.uint64)
    for c, n in enumerate(made):
        theta[c, :n] = c + np.arange(n)[:, None] / 100
        energy[c, :n] = 1.0 + c + np.sin(np.arange(n))
        depth[c, :n] = 3
    groups = {
        "posterior": xr.Dataset({"theta": (("chain", "draw", "theta_dim"), theta)}),
        "sample_stats": xr.Dataset(
            {"energy": (("chain", "draw"), energy), "depth": (("chain", "draw"), depth)}
        ),
        "observed_data": xr.Dataset({"y": (("obs",), np.arange(3.0))}),
    }
    if warmup is not None:
        groups["warmup_posterior"] = xr.Dataset(
            {"theta": (("chain", "draw", "theta_dim"), np.zeros((n_chains, warmup, 2)))}
        )
    return make_tree(groups)


def test_keep_chains_keeps_the_most_draws():
    assert keep_chains([7, 7]) == ((0, 1), 7)
    assert keep_chains([7, 5]) == ((0, 1), 5)  # 10 draws beat 7
    assert keep_chains([10, 2, 0]) == ((0,), 10)  # a chain far behind is left out
    assert keep_chains([4, 0, 4]) == ((0, 2), 4)  # a chain still in warm-up is left out
    assert keep_chains([0, 0]) == ((), 0)


def test_drawn_per_chain_stops_at_the_padding():
    fit = _padded_fit([10, 6, 0])
    assert drawn_per_chain(fit["posterior"].to_dataset()) == (10, 6, 0)
    # a NaN in one element of a draw does not end the chain: the draw was made
    theta = fit["posterior"]["theta"].values.copy()
    theta[1, 2, 0] = np.nan
    posterior = xr.Dataset({"theta": (("chain", "draw", "theta_dim"), theta)})
    assert drawn_per_chain(posterior) == (10, 6, 0)
    assert drawn_per_chain(_padded_fit([4, 4], n_draws=4)["posterior"].to_dataset()) == (4, 4)


def test_written_draws_of_a_disk_trace():
    codes = np.full((3, 1000), np.nan)
    codes[0, :37] = -1.0  # skipped warm-up draws have code -1
    codes[1, :512] = 7.0
    assert _written_draws(codes) == 512
    assert _written_draws(np.full((2, 50), np.nan)) == 0
    assert _written_draws(np.zeros((2, 50))) == 50


def test_settle_cuts_marks_and_warns():
    fit = _padded_fit([10, 6, 0], warmup=4)
    progress = Progress(requested=10, made=(10, 6, 0), interrupted=True)
    kept = settle(fit, progress, engine="nutpie", tune=4)
    assert kept == ((0, 1), 6)
    posterior = fit["posterior"]
    assert dict(posterior.sizes) == {"chain": 2, "draw": 6, "theta_dim": 2}
    assert list(posterior["chain"].values) == [0, 1]
    assert np.isfinite(posterior["theta"].values).all()
    np.testing.assert_allclose(posterior["theta"].values[1, :, 0], 1 + np.arange(6) / 100)
    assert dict(fit["sample_stats"].sizes) == {"chain": 2, "draw": 6}
    assert (fit["sample_stats"]["depth"].values == 3).all()  # no padding left
    assert fit["warmup_posterior"].sizes["chain"] == 2  # the dropped chain's warm-up is gone

    with pytest.warns(InterruptedFitWarning) as caught:
        mark(fit, progress, *kept, engine="nutpie")
    text = str(caught[0].message)
    assert "interrupted (Ctrl-C)" in text and "not the 10 per chain asked" in text
    assert "chain 0: 10, chain 1: 6, chain 2: none (warm-up not finished)" in text
    assert "Left out: chain(s) 2" in text
    assert "Kept: 6 draws from each of 2 chain(s) (cut to the shortest kept chain), 12 in all" in (
        text
    )
    assert "Diagnostics are computed on these draws only" in text
    for group in ("posterior", "sample_stats", "warmup_posterior"):
        assert fit[group].attrs["interrupted"] == 1
        assert fit[group].attrs["draws_requested"] == 10
        assert list(fit[group].attrs["draws_per_chain"]) == [10, 6, 0]
    assert "interrupted" not in fit["observed_data"].attrs
    assert interruption(fit) == {
        "interrupted": 1,
        "draws_requested": 10,
        "draws_per_chain": [10, 6, 0],
    }

    # groups added after sampling get the marks too
    fit["log_likelihood"] = xr.Dataset({"y": (("chain", "draw"), np.zeros((2, 6)))})
    copy_marks(fit)
    assert fit["log_likelihood"].attrs["interrupted"] == 1


def test_settle_leaves_a_complete_fit_alone():
    fit = _padded_fit([5, 5], n_draws=5)
    assert settle(fit, Progress(5, (5, 5), interrupted=True), engine="nutpie") is None
    assert fit["posterior"].sizes["draw"] == 5
    assert interruption(fit) is None


def test_an_engine_stopping_early_is_not_silent():
    fit = _padded_fit([8, 8], n_draws=8)
    progress = Progress(requested=10, made=(8, 8), interrupted=False)
    kept = settle(fit, progress, engine="nutpie")
    with pytest.warns(InterruptedFitWarning, match="stopped early without an interrupt"):
        mark(fit, progress, *kept, engine="nutpie")
    assert fit["posterior"].attrs["interrupted"] == 0
    assert "engine stopped early" in str(check(fit))


def test_interrupted_in_warmup_raises():
    fit = _padded_fit([0, 0])
    with pytest.raises(SamplingInterrupted, match="during warm-up .*nothing to return"):
        settle(fit, Progress(10, (0, 0), interrupted=True), engine="nutpie", tune=300)
    with pytest.raises(KeyboardInterrupt):  # a script that stops on Ctrl-C still stops
        settle(fit, Progress(10, (0, 0), interrupted=True), engine="nutpie")
    with pytest.raises(SamplerError, match="returned no draws"):
        settle(fit, Progress(10, (0, 0), interrupted=False), engine="nutpie")


def test_diagnostics_say_the_fit_was_interrupted():
    rng = np.random.default_rng(0)
    n_chains, n_draws = 2, 400
    fit = make_tree(
        {
            "posterior": xr.Dataset({"mu": (("chain", "draw"), rng.normal(size=(2, n_draws)))}),
            "sample_stats": xr.Dataset(
                {
                    "diverging": (("chain", "draw"), np.zeros((n_chains, n_draws), bool)),
                    "energy": (("chain", "draw"), rng.normal(size=(n_chains, n_draws))),
                }
            ),
        }
    )
    assert check(fit).ok
    progress = Progress(1000, (n_draws, n_draws + 50), interrupted=True)
    with pytest.warns(InterruptedFitWarning):
        mark(fit, progress, (0, 1), n_draws, engine="pymc")
    report = check(fit)
    assert not report.ok
    finding = report["complete"]
    assert (finding.value, finding.threshold) == (400.0, 1000.0)
    text = str(report)
    assert "no problems found" not in text
    assert "interrupted (Ctrl-C): it holds 400 of the 1,000 draws asked per chain" in text
    assert report["divergences"].ok and report["bfmi"].ok  # the other checks still run


def test_engines_without_partial_draws_raise_sampling_interrupted():
    for name in ("numpyro", "blackjax", "laplace", "vi", "pathfinder"):
        assert hasattr(type(get_sampler(name)).sample, "__wrapped__"), name

    with pytest.raises(SamplingInterrupted) as info:
        with without_partial_draws("laplace"):
            raise KeyboardInterrupt
    message = str(info.value)
    assert "'laplace' cannot keep the draws" in message
    assert "'nutpie', 'pymc', 'auto'" in message
    assert isinstance(info.value, KeyboardInterrupt)


@pytest.mark.skipif(
    signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    or threading.current_thread() is not threading.main_thread(),
    reason="needs Python's default SIGINT handler in the main thread",
)
def test_a_swallowed_interrupt_is_still_seen():
    # pm.fit (ADVI) catches KeyboardInterrupt and returns its unfinished fit
    with pytest.raises(SamplingInterrupted, match="'vi' cannot keep"):
        with without_partial_draws("vi"):
            try:
                signal.raise_signal(signal.SIGINT)
                time.sleep(1)
            except KeyboardInterrupt:
                pass
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored


def test_pymc_callback_counts_and_stops_later_chains():
    class Draw:
        def __init__(self, chain, draw_idx):
            self.chain, self.draw_idx = chain, draw_idx

    seen = []
    with watch_interrupts() as watch:
        counter = _DrawCounter(lambda trace, draw: seen.append(draw.draw_idx), watch)
        for i in range(7):
            counter(None, Draw(0, i))
        assert counter.made(tune=5) == (2,) and not counter.interrupted
        watch.interrupted = True  # Ctrl-C ended chain 0; PyMC starts chain 1
        with pytest.raises(KeyboardInterrupt):
            counter(None, Draw(1, 0))
    assert counter.made(tune=5, n_chains=3) == (2, 0, 0)
    assert seen == list(range(7))

    def stop(trace, draw):
        raise KeyboardInterrupt

    counter = _DrawCounter(stop, watch)
    watch.interrupted = False
    with pytest.raises(KeyboardInterrupt):
        counter(None, Draw(0, 0))
    assert counter.interrupted  # a callback that stops sampling counts as an interrupt


def test_nutpie_wait_aborts_on_ctrl_c():
    class Background:
        def __init__(self, interrupt_after):
            self.calls, self.after, self.log = 0, interrupt_after, []

        def wait(self, timeout=None):
            self.calls += 1
            if self.calls == self.after:
                raise KeyboardInterrupt
            if self.calls < 5:
                raise TimeoutError("Timeout while waiting for sampler to finish")
            return "finished"

        def abort(self):
            self.log.append("abort")
            return "partial"

        def cancel(self):
            self.log.append("cancel")

    assert _wait(Background(interrupt_after=None)) == ("finished", False)
    background = Background(interrupt_after=3)
    assert _wait(background) == ("partial", True) and background.log == ["abort"]

    class Failing(Background):
        def wait(self, timeout=None):
            raise RuntimeError("chain failed")

    failing = Failing(None)
    with pytest.raises(RuntimeError, match="chain failed"):
        _wait(failing)
    assert failing.log == ["cancel"]


# --- end to end: Ctrl-C in a subprocess -------------------------------------------------------

_SCRIPT = textwrap.dedent(
    """
    import json, signal, sys, warnings
    # a user's new process takes Ctrl-C; an ignored or blocked SIGINT would be inherited from
    # the test process, whatever earlier tests left there
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    signal.signal(signal.SIGINT, signal.default_int_handler)
    import bayesformula as bf

    scenario = sys.argv[1]
    model = bf.Model("p(deaths, n) ~ dose", bf.load_data("bioassay"), family="binomial")
    marked = []

    def marker():
        if not marked:
            marked.append(True)
            print("SAMPLING", flush=True)

    def nutpie_progress(chains):  # nutpie's progress callback (a background thread)
        if all(c.started and not c.tuning for c in chains):
            marker()

    def pymc_draw(trace, draw):  # pm.sample's per-draw callback
        if not draw.tuning:
            marker()

    args = dict(draws=200_000, chains=2, random_seed=1, progressbar=False)
    if scenario.startswith("nutpie"):
        # side by side (bioassay's chains would otherwise run one after another: each
        # call of its density is all Python)
        args.update(inference_method="nutpie", progress_callback=nutpie_progress, cores=2)
    if scenario == "nutpie-disk":
        args["trace_on_disk"] = True
    if scenario == "nutpie-graph":
        args["fast_path"] = False
    if scenario.startswith("pymc"):
        args.update(inference_method="pymc", callback=pymc_draw, tune=300)
        args["cores"] = 1 if scenario == "pymc-sequential" else 2
    if scenario == "vi":
        import pymc

        original = pymc.fit

        def fit(*a, **k):
            marker()
            return original(*a, **k)

        pymc.fit = fit
        args = dict(inference_method="vi", n=10**8, random_seed=1, progressbar=False)

    out = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            idata = model.fit(**args)
        except BaseException as err:
            out["raised"] = [type(err).__name__, str(err), isinstance(err, KeyboardInterrupt)]
        else:
            out["sizes"] = {k: int(v) for k, v in idata.posterior.sizes.items()}
            out["attrs"] = {
                g: {k: idata[g].attrs.get(k) for k in ("interrupted", "draws_requested")}
                for g in ("posterior", "sample_stats")
            }
            out["finite"] = bool(idata.posterior.to_dataset().to_array().notnull().all())
            out["report"] = str(model.check(idata))
    out["warnings"] = [str(w.message) for w in caught if "interrupted" in str(w.message)]
    print("RESULT " + json.dumps(out), flush=True)
    """
)


def _interrupt(scenario: str, tmp_path, start_timeout: float = 60.0) -> tuple[dict, float]:
    """Run the fit of ``scenario`` in a subprocess, SIGINT it once it draws from the posterior,
    and return what it printed and the seconds it took to finish after the signal."""
    script = tmp_path / "fit.py"
    script.write_text(_SCRIPT)
    proc = subprocess.Popen(
        [sys.executable, str(script), scenario],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: PyMC's workers go with it
    )
    stdout = stderr = None
    try:
        started, before = _await_line(proc, "SAMPLING", start_timeout)
        if not started:
            proc.kill()
            assert started, f"the fit never started sampling: {before} {proc.stderr.read()[-2000:]}"
        time.sleep(0.5)  # some posterior draws to keep
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
        elapsed = time.monotonic() - sent
    finally:
        if stdout is None:  # it did not finish: stop the fit and any worker holding its pipes
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    results = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
    assert results, f"no result (exit {proc.returncode}): {stderr[-2000:]}"
    return json.loads(results[-1][len("RESULT ") :]), elapsed


def _await_line(proc, marker: str, timeout: float) -> tuple[bool, list[str]]:
    """Read the subprocess's stdout until ``marker`` (in a thread, so a hang cannot block);
    return whether it came and the lines read before it."""
    found = threading.Event()
    lines: list[str] = []

    def read():
        for line in proc.stdout:
            if line.strip() == marker:
                found.set()
                return
            lines.append(line)

    threading.Thread(target=read, daemon=True).start()
    return found.wait(timeout), lines


def _assert_partial(out: dict, elapsed: float, engine: str) -> None:
    assert "raised" not in out, out
    # the interrupt is acted on at once; what remains is tidying and the diagnostics
    assert elapsed < 10, elapsed
    assert 0 < out["sizes"]["draw"] < 200_000
    for group in ("posterior", "sample_stats"):
        assert out["attrs"][group] == {"interrupted": 1, "draws_requested": 200_000}
    assert out["finite"]  # no padding of unequal chains left in the posterior
    (warning,) = out["warnings"]
    assert f"Sampling with '{engine}' was interrupted (Ctrl-C)" in warning
    assert f"Kept: {out['sizes']['draw']:,} draws from each of" in warning
    assert "Diagnostics are computed on these draws only" in warning
    assert "the fit was interrupted (Ctrl-C)" in out["report"]
    assert "no problems found" not in out["report"]


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["nutpie", "nutpie-disk"])
def test_ctrl_c_keeps_nutpie_fast_path_draws(scenario, tmp_path):
    out, elapsed = _interrupt(scenario, tmp_path)
    _assert_partial(out, elapsed, "nutpie")
    assert f"from each of {out['sizes']['chain']} chain(s)" in out["warnings"][0]


@pytest.mark.slow
def test_ctrl_c_keeps_nutpie_graph_draws(tmp_path):
    out, elapsed = _interrupt("nutpie-graph", tmp_path, start_timeout=120)
    _assert_partial(out, elapsed, "nutpie")


@pytest.mark.slow
def test_ctrl_c_keeps_pymc_sequential_draws(tmp_path):
    out, elapsed = _interrupt("pymc-sequential", tmp_path)
    _assert_partial(out, elapsed, "pymc")
    # chain 0 was interrupted; chain 1 is stopped at its start rather than sampled in full
    assert out["sizes"]["chain"] == 1
    assert "chain 1: none (warm-up not finished)" in out["warnings"][0]
    assert "Left out: chain(s) 1" in out["warnings"][0]


@pytest.mark.slow
def test_ctrl_c_keeps_pymc_multiprocess_draws(tmp_path):
    out, elapsed = _interrupt("pymc-parallel", tmp_path)
    _assert_partial(out, elapsed, "pymc")
    # both chains, or the one far ahead when that keeps more draws
    assert f"from each of {out['sizes']['chain']} chain(s)" in out["warnings"][0]


@pytest.mark.slow
def test_ctrl_c_during_vi_raises_sampling_interrupted(tmp_path):
    out, elapsed = _interrupt("vi", tmp_path)
    name, message, is_keyboard_interrupt = out["raised"]
    assert name == "SamplingInterrupted" and is_keyboard_interrupt
    assert "'vi' cannot keep the draws" in message and "'nutpie', 'pymc'" in message
    assert elapsed < 10


def test_warning_category_is_a_user_warning():
    assert issubclass(InterruptedFitWarning, UserWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("error", InterruptedFitWarning)
        fit = _padded_fit([3, 3], n_draws=3)
        with pytest.raises(InterruptedFitWarning):
            mark(fit, Progress(5, (3, 3), True), (0, 1), 3, engine="nutpie")


def _sigint_in(filename: str) -> dict:
    """Send this process SIGINT from code compiled as if it lived in ``filename``; return
    that code's namespace (``reached`` is set when the interrupt did not stop it)."""
    code = compile(
        "os.kill(os.getpid(), signal.SIGINT)\nfor _ in range(10_000):\n    pass\nreached = True",
        filename,
        "exec",
    )
    namespace = {"os": os, "signal": signal}
    exec(code, namespace)
    return namespace


@pytest.mark.skipif(
    signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    or threading.current_thread() is not threading.main_thread(),
    reason="needs Python's default SIGINT handler in the main thread",
)
def test_an_interrupt_inside_a_compiled_call_waits_for_the_next_draw():
    """A first Ctrl-C that arrives in Python code run from PyTensor (an op evaluated in
    numba's object mode, say) is noted, not raised there, when the sampler raises at its next
    draw; a second raises at once, and so does a first one anywhere else or when the sampler
    has no such draws (PyMC's ADVI loop)."""
    import pytensor

    from bayesformula.samplers.interrupt import watch_interrupts

    inside = os.path.join(os.path.dirname(pytensor.__file__), "_op_in_object_mode.py")
    with watch_interrupts() as watch:
        watch.raises_at_draws = True
        assert _sigint_in(inside)["reached"] and watch.interrupted
        with pytest.raises(KeyboardInterrupt):
            _sigint_in(inside)
    for raises_at_draws, filename in ((True, __file__), (False, inside)):
        with watch_interrupts() as watch, pytest.raises(KeyboardInterrupt):
            watch.raises_at_draws = raises_at_draws
            _sigint_in(filename)
        assert watch.interrupted
