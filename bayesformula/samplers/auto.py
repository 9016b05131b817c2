"""``inference_method="auto"``: pick an engine from what is installed, the hardware JAX sees
and what each engine would cost for the model at hand (measured on this machine,
`bayesformula.samplers.costs`), and say in one line what was chosen and why."""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

import numpy as np

from bayesformula.density.model import DensityModel
from bayesformula.log import note
from bayesformula.samplers import costs
from bayesformula.samplers.base import SAMPLERS, get_sampler, register_sampler
from bayesformula.samplers.defaults import DEFAULT_DRAWS, DEFAULT_TUNE, default_chains
from bayesformula.samplers.keywords import accepted_keywords, check_keywords

__all__ = ["AutoSampler", "choose"]


def _installed(*modules: str) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in modules)


#: JAX plugins that give it a GPU; without one (and JAX not yet imported) there is no GPU to
#: find, and importing JAX just to learn that would cost half a second.
_GPU_PLUGINS = ("jax_cuda12_plugin", "jax_cuda13_plugin", "jax_rocm60_plugin", "jax_rocm7_plugin")


def _jax_imported() -> bool:
    """Whether JAX itself has been imported. ArviZ 1 registers ``jax`` in ``sys.modules`` as a
    lazy module that a look-up (even ``find_spec``) would import, so this asks for one of
    JAX's own submodules instead."""
    return "jax._src" in sys.modules


def _jax_gpu() -> bool:
    if not _jax_imported() and not any(_installed(p) for p in _GPU_PLUGINS):
        return False
    if not _installed("jax"):
        return False
    try:
        import jax

        return any(d.platform == "gpu" for d in jax.devices())
    except Exception:  # no usable JAX backend: CPU engines it is
        return False


def model_size(model) -> tuple[int, int]:
    """(observed values, free parameters) of a ``pm.Model``."""
    point = model.initial_point()
    n_params = int(sum(np.size(v) for v in point.values()))
    n_obs = sum(int(np.prod(model.rvs_to_values[rv].shape.eval())) for rv in model.observed_RVs)
    return n_obs, n_params


#: Spread of a continuous response outside which PyMC's NUTS, whose warm-up starts from unit
#: scales and jitters the start by +-1, fails to adapt (a response on the scale 1e-9: r_hat 2.4,
#: ESS 2 after 1,000 warm-up steps); nutpie scales its start from the gradient and samples it as
#: well as a standardised one.
EXTREME_SCALE = (1e-3, 1e4)


def response_scale(model) -> float | None:
    """The spread (sd, or magnitude when constant) of the model's continuous observed values,
    None for counts and categories or when it cannot be read."""
    values = []
    for rv in model.observed_RVs:
        try:
            data = np.asarray(model.rvs_to_values[rv].eval(), dtype=float).ravel()
        except Exception:  # an observed variable without a readable value
            return None
        values.append(data[np.isfinite(data)])
    data = np.concatenate(values) if values else np.zeros(0)
    if data.size == 0 or np.all(data == np.round(data)):
        return None
    spread = float(np.std(data))
    return spread if spread > 0 else float(np.max(np.abs(data)))


def _nutpie_compiled(model) -> bool:
    """Whether this process holds a nutpie compile for ``model``'s structure already."""
    return get_sampler("nutpie").holds_compile(model, "numba")


def choose(
    model, draws: int = DEFAULT_DRAWS, tune: int | None = None, chains: int | None = None
) -> tuple[str, str]:
    """The engine for ``model`` (a ``pm.Model``) and the reason, e.g. ``("pymc", "...")``.

    A GPU that JAX sees gives NumPyro; a continuous response on an extreme scale gives nutpie
    (PyMC's NUTS does not adapt to it); otherwise the engine of PyMC's NUTS and nutpie with
    the smaller estimated time for these draws (`bayesformula.samplers.costs`: compile plus
    gradients, from what fits measured on this machine).
    """
    n_obs, n_params = model_size(model)
    size = f"{n_obs:,} observed values x {n_params:,} parameters"
    if _jax_gpu() and _installed("numpyro", "jax"):
        return "numpyro", f"JAX sees a GPU ({size})"
    scale = response_scale(model)
    low, high = EXTREME_SCALE
    if scale is not None and not low <= scale <= high and _installed("nutpie"):
        return "nutpie", (
            f"the response's spread is {scale:.3g}, an extreme scale that nutpie adapts to "
            f"from the gradient and PyMC's NUTS does not ({size})"
        )
    settings = {
        "size": n_obs * n_params,
        "chains": default_chains(chains),
        "tune": DEFAULT_TUNE if tune is None else int(tune),
        "draws": int(draws),
    }
    pymc = costs.estimate("pymc", **settings)
    if not _installed("nutpie"):
        return "pymc", f"nutpie is not installed ({size})"
    nutpie = costs.estimate("nutpie", cached=_nutpie_compiled(model), **settings)
    best, other = (nutpie, pymc) if nutpie.seconds < pymc.seconds else (pymc, nutpie)
    measured = best.measured + other.measured
    source = (
        f"from {measured} fit{'s' if measured != 1 else ''} measured on this machine"
        if measured
        else "figures of a 2-core machine; fits measured here will refine them"
    )
    return best.engine, (f"{best.describe()} against {other.describe()}; {size}, {source}")


class AutoSampler:
    """Delegates to the engine `choose` picks and logs the choice in one line.

    Given a `DensityModel` (a plain log-density, nothing to compile) it uses nutpie's NUTS,
    which calls the density directly; `accepts_density` is False when nutpie is missing.

    It takes the keywords any engine it may choose takes (`keywords`); once it has chosen, a
    keyword the chosen engine does not take is an `ArgumentTypeError` naming the engine, before
    that engine compiles or samples anything.
    """

    name = "auto"
    #: The engines `choose` picks from.
    candidates = ("nutpie", "pymc", "numpyro")

    @property
    def accepts_density(self) -> bool:
        return _installed("nutpie") and not _jax_gpu()

    @property
    def keywords(self) -> frozenset[str]:
        """The keywords of every engine in `candidates`."""
        out: frozenset[str] = frozenset()
        for name in self.candidates:
            out |= accepted_keywords(name, SAMPLERS.get(name)) or frozenset()
        return out

    def sample(self, model: Any, **kwargs: Any):
        if isinstance(model, DensityModel):
            name = "nutpie"
            note(
                ("auto", name),
                "inference_method='auto' chose 'nutpie' on the model's %s.",
                model.description,
            )
        else:
            name, reason = choose(
                model,
                kwargs.get("draws", DEFAULT_DRAWS),
                kwargs.get("tune"),
                kwargs.get("chains"),
            )
            note(("auto", name), "inference_method='auto' chose '%s': %s.", name, reason)
        sampler = get_sampler(name)
        check_keywords(name, sampler, kwargs, chosen_by=self.name)
        return sampler.sample(model, **kwargs)


register_sampler("auto", AutoSampler)
