"""A flag that a ``with`` block turns on for the code it runs, in this thread or task only."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

__all__ = ["Switch"]


class Switch:
    """An on/off flag held in a context variable: ``with switch.on():`` turns it on for the
    block (threads and tasks started elsewhere keep their own value); ``switch.is_on()``
    reads it."""

    def __init__(self, name: str) -> None:
        self._var: contextvars.ContextVar[bool] = contextvars.ContextVar(name, default=False)

    @contextlib.contextmanager
    def on(self) -> Iterator[None]:
        token = self._var.set(True)
        try:
            yield
        finally:
            self._var.reset(token)

    def is_on(self) -> bool:
        return self._var.get()
