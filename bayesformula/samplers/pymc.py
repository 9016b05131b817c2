"""PyMC's own NUTS (on PyTensor's default backend, numba).

A Ctrl-C stops every chain and the fit keeps the draws made so far (see
`bayesformula.samplers.interrupt`). ``pm.sample`` itself would swallow the interrupt in one
chain and sample the next chains in full when it samples them one after another, and it cuts
unequal chains without saying so; `_DrawCounter` stops the later chains and counts the draws.
"""

from __future__ import annotations

import multiprocessing
import time
import warnings
from typing import Any

from bayesformula.core.tree import is_tree
from bayesformula.errors import SamplingInterrupted
from bayesformula.samplers import costs
from bayesformula.samplers.base import register_sampler
from bayesformula.samplers.defaults import DEFAULT_DRAWS, default_chains, default_tune
from bayesformula.samplers.interrupt import (
    InterruptedFitWarning,
    Progress,
    describe,
    keep_chains,
    mark,
    warmup_message,
    watch_interrupts,
)
from bayesformula.samplers.layout import standardize

__all__ = ["PymcSampler"]


class PymcSampler:
    """``pm.sample`` with PyMC's NUTS; the extra keywords it takes (`keywords`) go to it."""

    name = "pymc"
    #: ``pm.sample``'s keywords (PyMC 6.3) besides the protocol's, and the NUTS step's settings
    #: it passes on (``max_treedepth=12`` or ``nuts={"max_treedepth": 12}``). Not here:
    #: ``step`` and ``nuts_sampler`` (the engine is ``inference_method=``) and ``model``.
    keywords = frozenset(
        {
            # pm.sample
            "progressbar_theme",
            "quiet",
            "var_names",
            "initvals",
            "init",
            "jitter_max_retries",
            "n_init",
            "trace",
            "compute_convergence_checks",
            "keep_warning_stat",
            "return_inferencedata",
            "idata_kwargs",
            "callback",
            "mp_ctx",
            "blas_cores",
            "backend",
            "compile_kwargs",
            "nuts",
            # pm.NUTS
            "max_treedepth",
            "early_max_treedepth",
            "step_scale",
            "scaling",
            "is_cov",
            "potential",
            "Emax",
            "gamma",
            "k",
            "t0",
            "adapt_step_size",
        }
    )

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
        **kwargs: Any,
    ):
        import pymc as pm

        tune = default_tune(model) if tune is None else tune
        chains = default_chains(chains)
        if target_accept is not None:
            kwargs["target_accept"] = target_accept
        discard = kwargs.get("discard_tuned_samples", True)
        with watch_interrupts() as watch:
            counter = _DrawCounter(kwargs.pop("callback", None), watch)
            started = time.perf_counter()
            try:
                idata = pm.sample(
                    draws=draws,
                    tune=tune,
                    chains=chains,
                    cores=cores,
                    random_seed=random_seed,
                    progressbar=progressbar,
                    model=model,
                    # PyMC 6 would pick nutpie when it is installed; this adapter is PyMC's NUTS
                    nuts_sampler="pymc",
                    callback=counter,
                    **kwargs,
                )
            except SamplingInterrupted:
                raise
            except BaseException as err:
                if not counter.interrupted or isinstance(err, KeyboardInterrupt):
                    raise
                if not any(counter.made(tune)):  # PyMC: "Not enough samples to build a trace."
                    raise SamplingInterrupted(warmup_message(self.name, tune)) from err
                # the interrupt broke a compiled call before it could be deferred
                raise SamplingInterrupted(
                    "sampling with 'pymc' was interrupted (Ctrl-C) and PyMC could not return "
                    f"the draws made so far ({type(err).__name__}: {err})."
                ) from err
        n_chains = max(chains or 0, len(counter.counts), _chain_count(idata))
        progress = Progress(draws, counter.made(tune, n_chains), counter.interrupted)
        if not progress.complete:
            _partial(idata, progress, tune)
        if not is_tree(idata):  # return_inferencedata=False: a raw trace
            return idata
        if progress.complete and "sampling_time" in idata.sample_stats.attrs:
            # compile and set-up: what pm.sample spent besides sampling
            sampling = float(idata.sample_stats.attrs["sampling_time"])
            setup = time.perf_counter() - started - sampling
            costs.observe(self.name, model, idata, compile_s=setup, tune=tune)
        return standardize(idata, model, engine=self.name, discard_tuned_samples=discard)


def _partial(idata, progress: Progress, tune: int) -> None:
    """Mark and announce a fit with fewer draws than asked.

    ``pm.sample`` has already kept the chains that keep the most draws (`keep_chains`' rule)
    and cut them to the shortest kept one; its chains are renumbered in order of length.
    """
    chosen, length = keep_chains(progress.made)
    if not is_tree(idata):  # a raw trace has nowhere to carry the marks
        warnings.warn(describe(progress, chosen, length, "pymc"), InterruptedFitWarning, 3)
    elif idata.posterior.sizes.get("draw", 0) == 0:
        raise SamplingInterrupted(warmup_message("pymc", tune))
    else:
        mark(idata, progress, chosen, idata.posterior.sizes["draw"], engine="pymc")


def _chain_count(idata) -> int:
    if is_tree(idata):
        return int(idata.posterior.sizes.get("chain", 0))
    return int(getattr(idata, "nchains", 0))


class _DrawCounter:
    """``pm.sample``'s per-draw callback: counts each chain's draws (warm-up included), calls
    the user's callback, and stops the remaining chains once Ctrl-C has been pressed.

    When PyMC samples the chains in this process (one after another), Ctrl-C is deferred to the
    next draw (`_Watch`), where ``KeyboardInterrupt`` is raised here: it ends the running chain,
    and each later chain at its first draw. When worker processes sample, this process only
    collects their draws and Ctrl-C interrupts at once, unless it arrives while a draw is
    recorded (a compiled call): then at the next draw.
    """

    def __init__(self, callback, watch) -> None:
        self.callback = callback
        self.watch = watch
        self.counts: dict[int, int] = {}
        self.raised = False
        self.started = False

    @property
    def interrupted(self) -> bool:
        """Whether Ctrl-C was pressed or a callback stopped sampling."""
        return self.watch.interrupted or self.raised

    def made(self, tune: int, n_chains: int | None = None) -> tuple[int, ...]:
        """Post-warm-up draws per chain (chains never started count 0)."""
        n = max(n_chains or 0, max(self.counts, default=-1) + 1)
        return tuple(max(0, self.counts.get(c, 0) - tune) for c in range(n))

    def __call__(self, trace, draw) -> None:
        if not self.started:
            self.started = True
            self.watch.defer = not multiprocessing.active_children()
            self.watch.raises_at_draws = True
        self.counts[draw.chain] = max(self.counts.get(draw.chain, 0), draw.draw_idx + 1)
        if self.watch.interrupted:
            raise KeyboardInterrupt
        if self.callback is not None:
            try:
                self.callback(trace=trace, draw=draw)
            except KeyboardInterrupt:  # PyMC's documented way for a callback to stop sampling
                self.raised = True
                raise


register_sampler("pymc", PymcSampler)
