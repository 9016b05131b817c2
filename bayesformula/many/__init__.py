"""Many fits of one model: `fit_many` over datasets, in this process or on a cluster, and
simulation-based calibration (`sbc`) built on it."""

from bayesformula.many.result import ManyFits
from bayesformula.many.run import fit_many
from bayesformula.many.sbc import SBCResult, sbc

__all__ = ["ManyFits", "SBCResult", "fit_many", "sbc"]
