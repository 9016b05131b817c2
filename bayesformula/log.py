"""The package's logger, ``logging.getLogger("bayesformula")``.

Library messages (which engine ``inference_method="auto"`` chose, the diagnostics report of a
fit, notes on approximations) go through it, never through ``print``. As in PyMC, when the
application has configured no logging the logger writes INFO and above to stderr; configure
logging (or ``logging.getLogger("bayesformula").setLevel(logging.WARNING)``) to change that.
"""

from __future__ import annotations

import logging

__all__ = ["logger"]

logger = logging.getLogger("bayesformula")

if not logging.root.handlers:
    logger.setLevel(logging.INFO)
    if not logger.handlers:
        _handler = logging.StreamHandler()
        _handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(_handler)
