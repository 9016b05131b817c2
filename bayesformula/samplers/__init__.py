"""Inference engines behind one protocol; ``inference_method=`` picks one by name."""

from bayesformula.density.model import DensityModel
from bayesformula.samplers import approx as _approx  # noqa: F401  (laplace, vi, pathfinder)
from bayesformula.samplers import auto as _auto  # noqa: F401  (registers "auto")
from bayesformula.samplers import external as _external  # noqa: F401  (nutpie)
from bayesformula.samplers import jax_nuts as _jax_nuts  # noqa: F401  (numpyro, blackjax)
from bayesformula.samplers import pymc as _pymc  # noqa: F401  (registers "pymc")
from bayesformula.samplers.base import (
    SAMPLERS,
    Sampler,
    get_sampler,
    list_samplers,
    register_sampler,
)
from bayesformula.samplers.interrupt import InterruptedFitWarning

__all__ = [
    "SAMPLERS",
    "DensityModel",
    "InterruptedFitWarning",
    "Sampler",
    "get_sampler",
    "list_samplers",
    "register_sampler",
]
