"""Many fits of one model: `fit_many` over datasets, in this process or on a cluster."""

from bayesformula.many.result import ManyFits
from bayesformula.many.run import fit_many

__all__ = ["ManyFits", "fit_many"]
