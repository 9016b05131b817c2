"""Sampler diagnostics with advice: `check`."""

from bayesformula.diagnostics.checks import Diagnostics, Finding, check

__all__ = ["Diagnostics", "Finding", "check"]
