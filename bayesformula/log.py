"""The package's logger, ``logging.getLogger("bayesformula")``, and how much it says.

Library messages go through the logger, never through ``print``. As in PyMC, when the
application has configured no logging the logger writes INFO and above to stderr; configure
logging (or ``logging.getLogger("bayesformula").setLevel(logging.WARNING)``) to change that.

What a fit says depends on its verbosity (``fit(verbose=...)``, or `set_verbose` for every
call in the process):

* ``None`` (the default): quiet. Problems are warnings (a diagnostics report that found
  some, a poor approximation); a note that does not change from fit to fit, such as the engine
  ``inference_method="auto"`` chose, is shown the first time in a process and then only on
  request; the messages of the engines underneath (PyMC's "Initializing NUTS", its convergence
  warnings, which bayesformula's own report repeats) are not shown.
* ``True``: every note of every fit, the diagnostics report when it found nothing, and the
  engines' own messages.
* ``False``: warnings only.

So a fit in a loop says nothing after the first, unless something needs attention.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import sys
import threading
from collections.abc import Callable, Iterator, Sequence

__all__ = [
    "detail",
    "forget_notes",
    "logger",
    "note",
    "quiet_engines",
    "set_verbose",
    "verbose",
    "verbosity",
    "with_verbose",
]

logger = logging.getLogger("bayesformula")

if not logging.root.handlers:
    logger.setLevel(logging.INFO)
    if not logger.handlers:
        _handler = logging.StreamHandler()
        _handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(_handler)

#: The loggers of the engines whose INFO and WARNING messages a quiet fit does not show.
ENGINE_LOGGERS: tuple[str, ...] = ("pymc", "pytensor", "nutpie", "numpyro", "jax", "arviz")

_process_default: bool | None = None
_call = contextvars.ContextVar("bayesformula_verbose", default=None)
_shown: set = set()
#: The engines' loggers quieted now, with the level each had, and how many calls share that.
_quieted: dict[str, int] = {}
_quiet_users = [0]
_quiet_lock = threading.Lock()


def set_verbose(value: bool | None) -> None:
    """How much fits say in this process, where a call does not set ``verbose=`` (see the
    module's description): ``None`` (the default, quiet), ``True`` or ``False``."""
    global _process_default
    if value is not None and not isinstance(value, bool):
        raise TypeError(f"set_verbose() takes True, False or None, got {value!r}.")
    _process_default = value


def verbose() -> bool | None:
    """The verbosity in force: the call's, else the process's."""
    value = _call.get()
    return _process_default if value is None else value


@contextlib.contextmanager
def verbosity(value: bool | None) -> Iterator[None]:
    """The verbosity of one call (``None``: the process's)."""
    if value is not None and not isinstance(value, bool):
        raise TypeError(f"verbose= takes True, False or None, got {value!r}.")
    token = _call.set(value)
    try:
        yield
    finally:
        _call.reset(token)


def note(key: Sequence, message: str, *args) -> None:
    """Log ``message % args`` at INFO: always when verbose, once per process per ``key`` by
    default, never when ``verbose`` is False (it then goes to DEBUG)."""
    level = verbose()
    key = tuple(key)
    if level or (level is None and key not in _shown):
        _shown.add(key)
        logger.info(message, *args)
    else:
        logger.debug(message, *args)


def detail(message: str, *args) -> None:
    """Log ``message % args`` at INFO only when verbose (else at DEBUG)."""
    logger.log(logging.INFO if verbose() else logging.DEBUG, message, *args)


def forget_notes() -> None:
    """Show every once-per-process note again (tests)."""
    _shown.clear()


@contextlib.contextmanager
def quiet_engines() -> Iterator[None]:
    """Only the errors of the engines' loggers (`ENGINE_LOGGERS`) while a quiet call runs;
    all of their messages when verbose. Only engines already imported are quieted (PyMC sets
    its logger's level when it is imported): enter it after the import. Calls in several
    threads at once share one quieting: the levels come back when the last one ends."""
    if verbose():
        yield
        return
    with _quiet_lock:
        for name in ENGINE_LOGGERS:
            if name in sys.modules and name not in _quieted:
                engine = logging.getLogger(name)
                _quieted[name] = engine.level
                engine.setLevel(logging.ERROR)
        _quiet_users[0] += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_users[0] -= 1
            if not _quiet_users[0]:
                for name, level in _quieted.items():
                    logging.getLogger(name).setLevel(level)
                _quieted.clear()


def with_verbose(function: Callable) -> Callable:
    """``function`` with a ``verbose=`` keyword: it runs with that verbosity in force
    (`verbosity`)."""

    @functools.wraps(function)
    def wrapper(*args, verbose: bool | None = None, **kwargs):
        with verbosity(verbose):
            return function(*args, **kwargs)

    return wrapper
