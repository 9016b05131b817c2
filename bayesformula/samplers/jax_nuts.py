"""NUTS on a JAX-compiled log-density: NumPyro's and BlackJAX's, through PyMC's
``pm.sample(nuts_sampler=...)``.

Each engine is an optional extra, imported only when used; a missing one is a `SamplerError`
with the line that installs it. JAX's compiled programs are kept on disk between processes
(`enable_jax_cache`).
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from bayesformula.samplers.base import register_sampler
from bayesformula.samplers.defaults import DEFAULT_DRAWS, default_chains, default_tune
from bayesformula.samplers.external import _seed, require
from bayesformula.samplers.interrupt import keeps_no_draws
from bayesformula.samplers.layout import standardize

__all__ = ["BlackjaxSampler", "NumpyroSampler", "enable_jax_cache", "jax_cache_dir"]

#: Settings of ``pymc.sampling.jax.sample_jax_nuts`` that PyMC reads only from ``nuts={...}``;
#: given as keywords of `fit` they are moved there (PyMC would drop them without a word).
JAX_DRIVER_OPTIONS = (
    "chain_method",
    "jitter",
    "keep_untransformed",
    "postprocessing_backend",
    "postprocessing_vectorize",
    "postprocessing_chunks",
)


def jax_cache_dir() -> str:
    """Where JAX keeps compiled programs between processes unless the user chose a place
    (JAX reads ``JAX_COMPILATION_CACHE_DIR`` itself): ``$XDG_CACHE_HOME/bayesformula/jax``,
    by default ``~/.cache/bayesformula/jax``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "bayesformula", "jax")


def enable_jax_cache() -> None:
    """Turn on JAX's persistent compilation cache, so a model compiled once is not compiled
    again in a later process. Settings the user made (config or environment) are kept."""
    import jax

    if jax.config.jax_compilation_cache_dir:
        return
    jax.config.update("jax_compilation_cache_dir", jax_cache_dir())
    if "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS" not in os.environ:
        # JAX caches only compiles over 1 s by default; a sampler's are often shorter
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.1)


class _PymcExternal:
    """NUTS from a JAX engine through PyMC's ``pm.sample(nuts_sampler=...)``."""

    name = ""
    modules: tuple[str, ...] = ()
    #: ``pm.sample``'s keywords that reach a JAX sampler, the driver settings of
    #: `JAX_DRIVER_OPTIONS`, and ``nuts={...}`` for the engine's NUTS kernel (NumPyro's
    #: ``max_tree_depth``, ``dense_mass``, ...; BlackJAX's window adaptation).
    keywords = frozenset(
        {
            "var_names",
            "initvals",
            "quiet",
            "compute_convergence_checks",
            "idata_kwargs",
            "nuts",
            *JAX_DRIVER_OPTIONS,
        }
    )

    def _context(self):
        return contextlib.nullcontext()

    @keeps_no_draws
    def sample(
        self,
        model: Any,
        *,
        draws: int = DEFAULT_DRAWS,
        tune: int | None = None,
        chains: int | None = None,
        cores: int | None = None,
        random_seed: Any = None,
        target_accept: float | None = None,
        progressbar: bool = True,
        discard_tuned_samples: bool = True,
        **kwargs: Any,
    ):
        require(*self.modules, method=self.name)
        import pymc as pm

        enable_jax_cache()
        if target_accept is not None:
            kwargs["target_accept"] = target_accept
        nuts = dict(kwargs.pop("nuts", None) or {})
        for option in JAX_DRIVER_OPTIONS:
            if option in kwargs:
                nuts[option] = kwargs.pop(option)
        if (cores or 1) == 1:
            nuts.setdefault("chain_method", "vectorized")
        if nuts:
            kwargs["nuts"] = nuts
        with self._context():
            idata = pm.sample(
                draws=draws,
                tune=default_tune(model) if tune is None else tune,
                chains=default_chains(chains),
                random_seed=_seed(random_seed),
                progressbar=progressbar,
                model=model,
                nuts_sampler=self.name,
                discard_tuned_samples=discard_tuned_samples,
                **kwargs,
            )
        return standardize(
            idata, model, engine=self.name, discard_tuned_samples=discard_tuned_samples
        )


class NumpyroSampler(_PymcExternal):
    """NumPyro's NUTS on a JAX-compiled log-density (CPU or GPU)."""

    name = "numpyro"
    modules = ("numpyro", "jax")


class BlackjaxSampler(_PymcExternal):
    """BlackJAX's NUTS with window adaptation on a JAX-compiled log-density."""

    name = "blackjax"
    modules = ("blackjax", "jax")

    def _context(self):
        return _blackjax_step_size_stat()


def _blackjax_loop(seed, init_position, logp_fn, draws, tune, target_accept, **kwargs):
    """One chain: window adaptation, then NUTS draws with the adapted step size recorded."""
    import blackjax
    import jax
    import jax.numpy as jnp

    kwargs.pop("progress_bar", None)  # newer BlackJAX has no such argument
    algorithm = blackjax.hmc if kwargs.pop("algorithm", "nuts") == "hmc" else blackjax.nuts
    adapt = blackjax.window_adaptation(
        algorithm=algorithm,
        logdensity_fn=logp_fn,
        target_acceptance_rate=target_accept,
        **kwargs,
    )
    (state, params), _ = adapt.run(seed, init_position, num_steps=tune)
    kernel = algorithm(logp_fn, **params).step
    step_size = jnp.asarray(params["step_size"])

    def one_step(state, key):
        state, info = kernel(key, state)
        stats = {
            "diverging": info.is_divergent,
            "energy": info.energy,
            "tree_depth": info.num_trajectory_expansions,
            "n_steps": info.num_integration_steps,
            "acceptance_rate": info.acceptance_rate,
            "lp": state.logdensity,
            "step_size": step_size,
        }
        return state, (state.position, stats)

    _, (samples, stats) = jax.lax.scan(one_step, state, jax.random.split(seed, draws))
    return samples, stats


@contextlib.contextmanager
def _blackjax_step_size_stat():
    """Run PyMC's BlackJAX path with `_blackjax_loop`, which also reports the step size.

    PyMC's own loop (``pymc.sampling.jax._blackjax_inference_loop``) keeps the adapted step
    size to itself and passes arguments that BlackJAX 1.6+ no longer accepts.
    """
    import pymc.sampling.jax as pmjax

    original = pmjax._blackjax_inference_loop
    pmjax._blackjax_inference_loop = _blackjax_loop
    try:
        yield
    finally:
        pmjax._blackjax_inference_loop = original


register_sampler("numpyro", NumpyroSampler)
register_sampler("blackjax", BlackjaxSampler)
