"""Conformance suites: run them over everything registered, or over your own additions.

* `check_family`: a family's likelihood, draws and links against scipy and simulation;
* `check_sampler`: a sampler's result layout and posterior on reference models;
* `check_density`: the fast path's log-density and gradient equal to the PyMC graph's.
"""

from bayesformula.testing.density import DensityReport, check_density
from bayesformula.testing.family import FamilyReport, check_family
from bayesformula.testing.sampler import ConformanceReport, check_sampler

__all__ = [
    "DensityReport",
    "FamilyReport",
    "ConformanceReport",
    "check_density",
    "check_family",
    "check_sampler",
]
