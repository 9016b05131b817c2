"""Progress on long work: a bar over counted steps, a spinner over a step that reports no
progress of its own (compiling a model's graph). Both draw with rich, disappear when done,
and are no-op contexts when hidden."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["bar", "spinner"]


def bar(total: int, show: bool):
    """A progress bar over ``total`` steps: ``with bar(n, show) as b`` gives a rich
    ``Progress`` (``b.add_task``, ``b.advance``), or None when not ``show``."""
    if not show:
        return contextlib.nullcontext(None)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=True,
    )


@contextlib.contextmanager
def spinner(description: str, show: bool, console=None) -> Iterator[None]:
    """A spinner with ``description`` and the time elapsed while the block runs (on rich's
    ``console``, default the terminal's)."""
    if not show:
        yield
        return
    from rich.progress import Progress, SpinnerColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), "[progress.description]{task.description}", TimeElapsedColumn())
    with Progress(*columns, transient=True, console=console) as progress:
        progress.add_task(description, total=None)
        yield
