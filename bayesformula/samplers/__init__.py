"""Inference engines behind one protocol; ``inference_method=`` picks one by name."""

from bayesformula.samplers import pymc as _pymc  # noqa: F401  (registers "pymc")
from bayesformula.samplers.base import (
    SAMPLERS,
    Sampler,
    get_sampler,
    list_samplers,
    register_sampler,
)

__all__ = ["SAMPLERS", "Sampler", "get_sampler", "list_samplers", "register_sampler"]
