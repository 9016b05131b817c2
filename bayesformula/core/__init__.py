"""Value types that every layer shares; they import nothing of the package but its errors.

`Prior` lives here rather than in `bayesformula.priors` because families declare the default
priors of their auxiliary parameters, and the data-scaled defaults (`bayesformula.priors`) in
turn read the families: with the value type below both, neither imports the other's package.
"""

from bayesformula.core.prior import Prior

__all__ = ["Prior"]
