"""Quiet by default: a fit in a loop says nothing after the first fit's note unless something
needs attention; ``verbose=True`` says everything, ``verbose=False`` only problems.

The loop runs in a fresh Python process, as a user's script would, and the test reads all it
wrote to stdout and stderr (warnings included, under Python's default warning filters).
"""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap

import pytest

from bayesformula import log

SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np, pandas as pd
    import bayesformula as bf

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=60)})
    df["y"] = 1 + df.x + rng.normal(size=60)
    problems = 0

    def phase(name):
        global problems
        print(f"@@ {name} {problems}", file=sys.stderr, flush=True)
        problems = 0

    def fit(model, **kwargs):
        # counts the fits whose diagnostics found a problem, which a quiet fit still reports
        global problems
        idata = model.fit(progressbar=False, **kwargs)
        problems += not model.check(idata).ok

    phase("loop")
    for i in range(40):
        fit(bf.Model("y ~ x", df), draws=300, random_seed=i)
    phase("pymc")
    model = bf.Model("y ~ x", df)
    for i in range(3):
        fit(model, inference_method="pymc", draws=300, tune=300, random_seed=i)
    phase("laplace")
    for i in range(3):
        model.fit(inference_method="laplace", progressbar=False, random_seed=i)
    phase("prior predictive")
    model.prior_predictive(draws=50, random_seed=1)
    phase("verbose")
    fit(model, draws=1000, random_seed=1, verbose=True)
    fit(model, inference_method="pymc", draws=300, tune=300, random_seed=1, verbose=True)
    phase("silent")
    bf.log.forget_notes()
    model.fit(draws=1000, random_seed=1, verbose=False, diagnostics=False, progressbar=False)
    phase("end")
    """
)

#: The lines of a diagnostics report that found problems.
REPORT = ("Diagnostics: ", "  - ", "    Next step: ")


@pytest.fixture(scope="module")
def phases() -> dict[str, tuple[list[str], int]]:
    """Each phase's lines on stderr, and how many of its fits had problems."""
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout == ""
    out: dict[str, tuple[list[str], int]] = {}
    current = lines = None
    for line in done.stderr.splitlines():
        if line.startswith("@@ "):
            name, problems = line[3:].rsplit(" ", 1)
            if current is not None:
                out[current] = (lines, int(problems))
            current, lines = name, []
        elif line.strip():
            lines.append(line)
    return out


def _without_reports(lines: list[str], problems: int) -> list[str]:
    """The lines that are not a report of problems, after checking that there is one report
    per fit that had problems (a quiet fit still reports them)."""
    assert sum(line.startswith("Diagnostics: ") for line in lines) == problems, lines
    assert not any("no problems found" in line for line in lines)
    return [line for line in lines if not line.startswith(REPORT)]


def test_a_loop_of_forty_fits_shows_one_note(phases):
    lines, problems = phases["loop"]
    rest = _without_reports(lines, problems)
    assert len(rest) == 1, rest
    assert rest[0].startswith("inference_method='auto' chose 'nutpie' on the model's")
    assert problems < 12  # r_hat and ESS flag some well-behaved fits by chance at 300 draws


def test_the_engines_own_messages_are_not_shown(phases):
    assert _without_reports(*phases["pymc"]) == []  # no "Initializing NUTS", "4 chains"
    assert phases["prior predictive"] == ([], 0)  # no "Sampling: [...]"


def test_an_approximation_says_so_once(phases):
    lines, _ = phases["laplace"]
    assert sum(line.startswith("Approximate posterior (laplace)") for line in lines) == 1
    assert all(line.startswith(("Approximate posterior", "Pareto k̂")) for line in lines), lines


def test_verbose_shows_every_note_and_the_engines_messages(phases):
    lines, problems = phases["verbose"]
    text = "\n".join(lines)
    assert "inference_method='auto' chose 'nutpie'" in text  # again, though shown before
    assert text.count("Diagnostics: no problems found") == 2 - problems
    assert "Sampling 2 chains" in text  # PyMC's own


def test_verbose_false_shows_nothing_even_the_first_time(phases):
    assert phases["silent"] == ([], 0)


# --------------------------------------------------------------------------- the switch


@pytest.fixture
def fresh_notes():
    log.forget_notes()
    yield
    log.forget_notes()
    log.set_verbose(None)


def test_note_once_per_key_unless_verbose(fresh_notes, caplog):
    caplog.set_level(logging.DEBUG, logger="bayesformula")
    for _ in range(3):
        log.note(("k",), "once %s", 1)
    assert [r.levelno for r in caplog.records] == [logging.INFO, logging.DEBUG, logging.DEBUG]
    caplog.clear()
    with log.verbosity(True):
        log.note(("k",), "again")
        log.detail("detail")
    assert [r.levelno for r in caplog.records] == [logging.INFO, logging.INFO]
    caplog.clear()
    log.set_verbose(False)
    log.note(("new",), "not shown")
    log.detail("not shown")
    assert [r.levelno for r in caplog.records] == [logging.DEBUG, logging.DEBUG]
    with log.verbosity(True):  # a call's verbose= wins over the process's
        assert log.verbose() is True
    assert log.verbose() is False


def test_bad_verbose_values_are_refused(fresh_notes):
    with pytest.raises(TypeError, match="verbose= takes True, False or None"):
        with log.verbosity("yes"):
            pass
    with pytest.raises(TypeError, match="set_verbose"):
        log.set_verbose(1)


def test_quiet_engines_restores_levels(fresh_notes):
    pytest.importorskip("pymc")
    engine = logging.getLogger("pymc")
    before = engine.level
    with log.quiet_engines():
        assert engine.level == logging.ERROR
    assert engine.level == before
    with log.verbosity(True), log.quiet_engines():
        assert engine.level == before


def test_quiet_engines_in_overlapping_threads_restores_levels(fresh_notes):
    """Two calls whose quiet periods overlap, the first ending first: the levels come back
    only when the second ends, and then to what they were."""
    import threading

    pytest.importorskip("pymc")
    engine = logging.getLogger("pymc")
    before = engine.level
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()

    def first():
        with log.quiet_engines():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    thread = threading.Thread(target=first)
    thread.start()
    first_in.wait(5)
    with log.quiet_engines():
        second_in.set()
        first_out.wait(5)
        assert engine.level == logging.ERROR  # still quiet while this call runs
    thread.join()
    assert engine.level == before
