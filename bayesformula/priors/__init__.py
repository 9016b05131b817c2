"""Priors: the frozen :class:`Prior` value (here) and data-scaled defaults (``priors.auto``)."""

from bayesformula.priors.prior import Prior

__all__ = ["Prior"]
