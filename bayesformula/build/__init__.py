"""Build the PyMC model from design, priors and family.

PyMC is imported on first use of `build_model` or `BuiltModel`: a model fitted on the fast path
never builds a PyMC graph, and ``import bayesformula`` stays light.
"""

from bayesformula.build.names import data_name

__all__ = ["BuiltModel", "build_model", "data_name"]


def __getattr__(name):
    if name in ("BuiltModel", "build_model"):
        from bayesformula.build import pymc

        return getattr(pymc, name)
    raise AttributeError(f"module 'bayesformula.build' has no attribute {name!r}")
