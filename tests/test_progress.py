"""Progress on long work (`bayesformula.core.progress`): shown when asked, nothing otherwise."""

from __future__ import annotations

import io
import time

from rich.console import Console

from bayesformula.core import progress


def test_spinner_shows_its_description_while_the_block_runs():
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=80)
    with progress.spinner("compiling the model's graph", True, console=console):
        time.sleep(0.3)  # rich redraws 10 times a second
    assert "compiling the model's graph" in out.getvalue()


def test_hidden_progress_writes_nothing(capsys):
    with progress.spinner("compiling", False):
        pass
    with progress.bar(3, False) as bar:
        assert bar is None
    assert capsys.readouterr() == ("", "")
