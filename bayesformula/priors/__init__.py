"""Priors: the frozen `Prior` value (here) and data-scaled defaults (``priors.auto``)."""

from bayesformula.core.prior import Prior

__all__ = ["Prior"]
