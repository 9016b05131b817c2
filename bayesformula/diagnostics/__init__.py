"""Sampler diagnostics with advice: `check`."""

from bayesformula.diagnostics.checks import Diagnostics, Finding, check, report_fit

__all__ = ["Diagnostics", "Finding", "check", "report_fit"]
