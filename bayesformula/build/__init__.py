"""Build the PyMC model from design, priors and family."""

from bayesformula.build.pymc import BuiltModel, build_model, data_name

__all__ = ["BuiltModel", "build_model", "data_name"]
