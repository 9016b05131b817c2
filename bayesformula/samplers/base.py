"""The sampler protocol and registry. Samplers know nothing of formulas: a ``pm.Model`` in,
a fit (``xarray.DataTree``, ArviZ 1's layout) out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from bayesformula.errors import SamplerError, did_you_mean

__all__ = ["Sampler", "SAMPLERS", "register_sampler", "get_sampler", "list_samplers"]


@runtime_checkable
class Sampler(Protocol):
    """What an inference engine adapter provides.

    ``sample`` runs inference on ``model`` and returns a fit (``xarray.DataTree``) with at
    least the groups ``posterior``, ``sample_stats`` and ``observed_data``; variables keep the
    model's names and dims. The same ``random_seed`` must give the same draws.
    """

    name: str

    def sample(
        self,
        model: Any,
        *,
        draws: int,
        tune: int,
        chains: int | None,
        cores: int | None,
        random_seed: Any,
        target_accept: float | None,
        progressbar: bool,
        **kwargs: Any,
    ) -> Any: ...


#: name -> zero-argument factory returning a `Sampler`.
SAMPLERS: dict[str, Callable[[], Sampler]] = {}


def register_sampler(name: str, factory: Callable[[], Sampler], *, overwrite: bool = False) -> None:
    """Register a sampler factory under ``name`` (``inference_method=name`` in ``fit``)."""
    if name in SAMPLERS and not overwrite:
        raise SamplerError(f"a sampler named '{name}' is already registered.")
    SAMPLERS[name] = factory


def get_sampler(name: str) -> Sampler:
    """Return a sampler by name; an unknown name lists the registered ones."""
    try:
        factory = SAMPLERS[name]
    except (KeyError, TypeError):
        raise SamplerError(did_you_mean(str(name), SAMPLERS, "inference_method")) from None
    return factory()


def list_samplers() -> list[str]:
    """Names of the registered samplers."""
    return sorted(SAMPLERS)
