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

    A sampler may also declare ``keywords``, the set of keyword arguments it takes besides the
    ones above; `fit` then refuses any other keyword before it builds or samples anything
    (`bayesformula.samplers.keywords`). A sampler without ``keywords`` is passed every keyword.
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

#: ``inference_method`` names of older Bambi versions -> the name here (None: no counterpart).
#: Bambi up to 0.13 had "mcmc", "nuts_numpyro" and "nuts_blackjax"; 0.14 and 0.15 took the
#: samplers of the bayeux library by its names ("blackjax_nuts", "numpyro_nuts", ...).
OLD_METHODS: dict[str, str | None] = {
    "mcmc": "pymc",
    "nuts_numpyro": "numpyro",
    "nuts_blackjax": "blackjax",
    "numpyro_nuts": "numpyro",
    "blackjax_nuts": "blackjax",
    "bayeux": None,
}


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
        raise SamplerError(_unknown_method(name)) from None
    return factory()


def _unknown_method(name: Any) -> str:
    """The message for an unregistered ``inference_method``, naming the replacement of an
    older Bambi name."""
    if not isinstance(name, str):
        return did_you_mean(str(name), SAMPLERS, "inference_method")
    key = name.lower()
    if key in OLD_METHODS or any(key.startswith(p) for p in _BAYEUX_PREFIXES):
        new = OLD_METHODS.get(key)
        if new is not None:
            return (
                f"inference_method='{name}' is older Bambi's name for this engine; write "
                f"inference_method='{new}'."
            )
        known = ", ".join(f"'{k}'" for k in sorted(SAMPLERS))
        return (
            f"inference_method='{name}' names a sampler of the bayeux library, which older Bambi "
            f"versions took; bayesformula has no bayeux samplers. Known: {known} ('auto', the "
            "default, picks one)."
        )
    return did_you_mean(name, SAMPLERS, "inference_method")


#: Prefixes of the bayeux library's sampler names (``tfp_hmc``, ``flowmc_realnvp_hmc``, ...).
_BAYEUX_PREFIXES = ("blackjax_", "numpyro_", "tfp_", "flowmc_")


def list_samplers() -> list[str]:
    """Names of the registered samplers."""
    return sorted(SAMPLERS)
