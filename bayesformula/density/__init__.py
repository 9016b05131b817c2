"""The fast path: a model's exact log-density and gradient in numpy, with nothing to compile.

`density_of_spec` turns a `bayesformula.spec.ModelSpec` into a `DensityModel` (what nutpie's
NUTS samples directly), or raises `Unsupported` for a model outside what it computes exactly;
such a model is sampled from its PyMC graph. `bayesformula.testing.check_density` proves the two
equal at random points.
"""

# the row likelihoods register themselves on import
from bayesformula.density import rows, rows_mixture, rows_ordinal, rows_shapes  # noqa: F401
from bayesformula.density.build import build_density
from bayesformula.density.likelihoods import FAST_LIKELIHOODS, register_fast_likelihood
from bayesformula.density.model import DensityModel
from bayesformula.density.priors import Unsupported
from bayesformula.density.spec import density_of_spec

__all__ = [
    "FAST_LIKELIHOODS",
    "DensityModel",
    "Unsupported",
    "build_density",
    "density_of_spec",
    "register_fast_likelihood",
]
