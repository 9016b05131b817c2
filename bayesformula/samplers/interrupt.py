"""What a fit does when sampling is interrupted (Ctrl-C) or an engine stops early.

Engines that keep their draws (nutpie, PyMC's NUTS) return the draws made so far: chains of
unequal length are cut to a common length (`keep_chains`), every group with draws is marked
(`mark`: ``attrs["interrupted"]``, ``attrs["draws_requested"]``, ``attrs["draws_per_chain"]``)
and an `InterruptedFitWarning` says what was kept. Warm-up draws are never returned as
posterior draws: an interrupt before any chain finished its warm-up raises `SamplingInterrupted`.
Engines that cannot keep draws (`without_partial_draws`) raise `SamplingInterrupted`.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import signal
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bayesformula.core.tree import groups, has_group, set_group
from bayesformula.errors import SamplerError, SamplingInterrupted

__all__ = [
    "ATTRS",
    "PARTIAL_DRAW_ENGINES",
    "InterruptedFitWarning",
    "Progress",
    "copy_marks",
    "describe",
    "drawn_per_chain",
    "interruption",
    "interrupt_requested",
    "keep_chains",
    "keeps_no_draws",
    "mark",
    "settle",
    "warmup_message",
    "watch_interrupts",
    "without_partial_draws",
]

#: Engines that return the draws made before an interrupt ("auto" uses them on the CPU).
PARTIAL_DRAW_ENGINES = ("nutpie", "pymc", "auto")

#: Attributes a partial fit carries on every group with draws. ``interrupted`` is 1 or 0
#: (netCDF has no boolean attributes), ``draws_requested`` the draws asked per chain and
#: ``draws_per_chain`` the post-warm-up draws each chain had made, in the engine's chain order.
ATTRS = ("interrupted", "draws_requested", "draws_per_chain")

#: Groups whose draws are cut to the kept length; warm-up groups only lose dropped chains.
_DRAW_GROUPS = ("posterior", "sample_stats")
_WARMUP_GROUPS = ("warmup_posterior", "warmup_sample_stats")


class InterruptedFitWarning(UserWarning):
    """A fit holds fewer draws than asked: sampling was interrupted or the engine stopped early."""


@dataclass(frozen=True)
class Progress:
    """How far each chain got.

    Attributes
    ----------
    requested : int
        Post-warm-up draws asked per chain.
    made : tuple of int
        Post-warm-up draws each chain made (0 for a chain still in warm-up).
    interrupted : bool
        Whether sampling was interrupted (Ctrl-C), as opposed to an engine stopping early.
    """

    requested: int
    made: tuple[int, ...]
    interrupted: bool = False

    @property
    def complete(self) -> bool:
        """Whether every chain made every draw asked."""
        return all(n >= self.requested for n in self.made)


def drawn_per_chain(posterior) -> tuple[int, ...]:
    """Draws each chain of ``posterior`` (an ``xarray`` dataset) holds before its padding.

    Engines that stop chains at different points (nutpie) pad the shorter ones with NaN; a draw
    counts as made when any floating-point variable is finite there.
    """
    n_chains, n_draws = posterior.sizes.get("chain", 0), posterior.sizes.get("draw", 0)
    drawn = [
        var.transpose("chain", "draw", ...)
        for var in posterior.data_vars.values()
        if {"chain", "draw"} <= set(var.dims) and np.issubdtype(var.dtype, np.floating)
    ]
    if not drawn or n_draws == 0:
        return (int(n_draws),) * int(n_chains)
    last = np.zeros(n_chains, dtype=bool)
    for var in drawn:  # the usual case, every chain complete, needs the last draw only
        last |= np.isfinite(var.values[:, -1]).reshape(n_chains, -1).any(axis=1)
    if last.all():
        return (int(n_draws),) * int(n_chains)
    filled = np.zeros((n_chains, n_draws), dtype=bool)
    for var in drawn:
        filled |= np.isfinite(var.values).reshape(n_chains, n_draws, -1).any(axis=2)
    # the draws made are the leading run of filled positions
    first_gap = np.where(filled.all(axis=1), n_draws, np.argmin(filled, axis=1))
    return tuple(int(n) for n in first_gap)


def keep_chains(made: Sequence[int]) -> tuple[tuple[int, ...], int]:
    """The chains to keep and their common length: the choice that keeps the most draws
    (chains x length), more chains on a tie. PyMC makes the same choice for its own traces.

    Examples
    --------
    >>> keep_chains([5878, 5766])
    ((0, 1), 5766)
    >>> keep_chains([1001, 5000, 5000])
    ((1, 2), 5000)
    """
    made = [int(n) for n in made]
    best: tuple[tuple[int, ...], int] = ((), 0)
    for length in sorted(set(made)):
        chains = tuple(c for c, n in enumerate(made) if n >= length)
        if length * len(chains) > best[1] * len(best[0]):
            best = (chains, length)
    return best


def warmup_message(engine: str, tune: int | None) -> str:
    """Why an interrupt during warm-up leaves nothing to return."""
    steps = f" ({tune:,} warm-up steps per chain)" if tune else ""
    return (
        f"sampling with '{engine}' was interrupted (Ctrl-C) during warm-up{steps}: no chain had "
        "made a posterior draw yet, and warm-up draws are not draws from the posterior, so "
        "there is nothing to return. Interrupt after the warm-up to keep the draws made so "
        "far, or lower tune=."
    )


def settle(idata, progress: Progress, *, engine: str, tune: int | None = None):
    """Cut a partial fit to the chains and length `keep_chains` picks (in place).

    The posterior and sample_stats keep those chains' first ``length`` draws, warm-up groups
    those chains; the chains are renumbered from 0.

    Parameters
    ----------
    idata : xarray.DataTree
        The engine's result, shorter chains padded with NaN after their last draw.
    progress : Progress
        The draws asked and made per chain.
    engine : str
        The engine's name, for the messages.
    tune : int, optional
        Warm-up steps per chain, for the message when nothing is left.

    Returns
    -------
    tuple or None
        ``(chains, length)`` kept, or None when the fit is complete (nothing changed).

    Raises
    ------
    SamplingInterrupted
        If the fit was interrupted before any chain made a post-warm-up draw.
    """
    if progress.complete:
        return None
    chains, length = keep_chains(progress.made)
    if length == 0:
        if progress.interrupted:
            raise SamplingInterrupted(warmup_message(engine, tune))
        raise SamplerError(f"the '{engine}' engine returned no draws ({progress.made} per chain).")
    chains = list(chains)
    for group in groups(idata):
        ds = idata[group].to_dataset()
        if "chain" not in ds.dims:
            continue
        index: dict[str, Any] = {"chain": chains}
        if group in _DRAW_GROUPS and "draw" in ds.dims:
            index["draw"] = slice(0, length)
        elif group not in _WARMUP_GROUPS:
            continue
        ds = ds.isel(index)
        coords = {"chain": np.arange(len(chains))}
        if "draw" in index:
            coords["draw"] = np.arange(length)
        set_group(idata, group, ds.assign_coords(coords))
    return tuple(chains), length


def _chains_text(chains: Sequence[int]) -> str:
    return ", ".join(str(c) for c in chains)


def describe(progress: Progress, chains: Sequence[int], length: int, engine: str) -> str:
    """The warning for a partial fit: what happened, what each chain made, what was kept."""
    per_chain = ", ".join(
        f"chain {c}: {n:,}" if n else f"chain {c}: none (warm-up not finished)"
        for c, n in enumerate(progress.made)
    )
    if progress.interrupted:
        head = f"Sampling with '{engine}' was interrupted (Ctrl-C)"
    else:
        head = f"The '{engine}' engine stopped early without an interrupt"
    text = (
        f"{head}; the fit holds the draws made so far, not the {progress.requested:,} per "
        f"chain asked. Draws made per chain: {per_chain}."
    )
    left_out = [c for c in range(len(progress.made)) if c not in chains]
    if left_out:
        text += (
            f" Left out: chain(s) {_chains_text(left_out)} (keeping them would cut the others "
            "shorter)."
        )
    cut = len({progress.made[c] for c in chains}) > 1
    text += (
        f" Kept: {length:,} draws from each of {len(chains)} chain(s)"
        + (" (cut to the shortest kept chain)" if cut else "")
        + f", {length * len(chains):,} in all. Diagnostics are computed on these draws only; "
        "run the fit to the end for the full posterior."
    )
    return text


def mark(idata, progress: Progress, chains: Sequence[int], length: int, engine: str) -> None:
    """Mark every group with draws as partial (`ATTRS`) and warn (`InterruptedFitWarning`).

    Parameters
    ----------
    idata : xarray.DataTree
        The fit, already cut to ``chains`` and ``length`` (`settle`).
    progress : Progress
        The draws asked and made per chain.
    chains : sequence of int
        The chains kept, numbered as in ``progress.made``.
    length : int
        The draws kept per chain.
    engine : str
        The engine's name, for the warning.
    """
    values = {
        "interrupted": int(progress.interrupted),
        "draws_requested": int(progress.requested),
        "draws_per_chain": [int(n) for n in progress.made],
    }
    for group in groups(idata):
        if "chain" in idata[group].dims:
            idata[group].attrs.update(values)
    warnings.warn(describe(progress, chains, length, engine), InterruptedFitWarning, stacklevel=3)


def copy_marks(idata) -> None:
    """Copy a partial fit's marks (`ATTRS`) from its posterior to every other group with draws
    (groups added after sampling: ``log_likelihood``, ``posterior_predictive``, ...)."""
    if not has_group(idata, "posterior"):
        return
    source = idata["posterior"].attrs
    values = {key: source[key] for key in ATTRS if key in source}
    if not values:
        return
    for group in groups(idata):
        if "chain" in idata[group].dims:
            idata[group].attrs.update(values)


def interruption(idata) -> dict | None:
    """A partial fit's marks (`ATTRS`) from its posterior or sample_stats, or None when the fit
    is complete."""
    for group in ("posterior", "sample_stats"):
        if has_group(idata, group) and "draws_requested" in idata[group].attrs:
            attrs = idata[group].attrs
            return {key: attrs[key] for key in ATTRS if key in attrs}
    return None


class _Watch:
    """Whether SIGINT arrived while `watch_interrupts` was active.

    With ``defer`` set, the first SIGINT only sets ``interrupted`` and the sampler raises
    ``KeyboardInterrupt`` itself at its next safe point (between two draws); a second SIGINT
    raises at once. An interrupt raised in the middle of a numba-compiled call can surface as
    a ``SystemError`` that no engine catches, which deferring avoids.
    """

    def __init__(self) -> None:
        self.interrupted = False
        self.defer = False
        #: the sampler raises at its next draw once ``interrupted`` is set, so an interrupt
        #: that arrives inside an engine's compiled call can wait for it
        self.raises_at_draws = False


@functools.cache
def _engine_roots() -> tuple[str, ...]:
    """The folders of the packages whose compiled calls an interrupt must not break."""
    roots = []
    for name in ("pytensor", "numba"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            roots += [str(Path(p)) + os.sep for p in spec.submodule_search_locations]
    return tuple(roots)


def in_compiled_call(frame, depth: int = 60) -> bool:
    """Whether Python code run from inside PyTensor's or numba's functions (an op evaluated in
    numba's object mode, say) is on the stack at ``frame``: a ``KeyboardInterrupt`` raised
    there leaves the compiled function "returning a result with an exception set", a
    ``SystemError`` no engine catches."""
    roots = _engine_roots()
    while frame is not None and depth > 0 and roots:
        if frame.f_code.co_filename.startswith(roots):
            return True
        frame, depth = frame.f_back, depth - 1
    return False


_ACTIVE: ContextVar[_Watch | None] = ContextVar("bayesformula_interrupt_watch", default=None)


@contextlib.contextmanager
def watch_interrupts() -> Iterator[_Watch]:
    """Note a Ctrl-C (SIGINT) even where an engine swallows the ``KeyboardInterrupt``.

    While active, SIGINT sets ``watch.interrupted`` and then raises ``KeyboardInterrupt`` as
    Python's default handler does (unless ``watch.defer`` is set, see `_Watch`, or the first
    SIGINT arrives inside a PyTensor or numba call, `in_compiled_call`, of a sampler that
    raises at its next draw, ``watch.raises_at_draws``). The handler is
    only installed in the main thread, and only when Python's default handler is in place (an
    application's own handler is left alone).
    """
    watch = _Watch()
    token = _ACTIVE.set(watch)
    installed = False
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.getsignal(signal.SIGINT)
        if previous is signal.default_int_handler:

            def handler(signum, frame):
                first = not watch.interrupted
                watch.interrupted = True
                # deferred to the sampler's next safe point: where it defers all interrupts
                # (`_Watch.defer`), and inside an engine's compiled call
                wait = watch.defer or (watch.raises_at_draws and in_compiled_call(frame))
                if not (first and wait):
                    signal.default_int_handler(signum, frame)

            signal.signal(signal.SIGINT, handler)
            installed = True
    try:
        yield watch
    finally:
        if installed:
            signal.signal(signal.SIGINT, previous)
        _ACTIVE.reset(token)


def interrupt_requested() -> bool:
    """Whether the innermost active `watch_interrupts` has seen a SIGINT."""
    watch = _ACTIVE.get()
    return bool(watch is not None and watch.interrupted)


def _cannot_keep_message(engine: str) -> str:
    keep = ", ".join(f"'{name}'" for name in PARTIAL_DRAW_ENGINES)
    return (
        f"inference with '{engine}' was interrupted (Ctrl-C); '{engine}' cannot keep the draws "
        f"(or the partial result) made before an interrupt, so nothing is returned. "
        f"inference_method={keep} return the draws made so far when interrupted."
    )


@contextlib.contextmanager
def without_partial_draws(engine: str) -> Iterator[_Watch]:
    """Turn a Ctrl-C during ``engine``'s run into `SamplingInterrupted`, also where the engine
    swallows the ``KeyboardInterrupt`` and returns a partial result."""
    with watch_interrupts() as watch:
        try:
            yield watch
        except SamplingInterrupted:
            raise
        except KeyboardInterrupt:
            raise SamplingInterrupted(_cannot_keep_message(engine)) from None
        except BaseException as err:
            if not watch.interrupted:
                raise
            # the interrupt broke a compiled call (numba's SystemError, for one)
            raise SamplingInterrupted(_cannot_keep_message(engine)) from err
    if watch.interrupted:
        raise SamplingInterrupted(_cannot_keep_message(engine))


def keeps_no_draws(method: Callable) -> Callable:
    """Decorate a sampler's ``sample`` so that an interrupt raises `SamplingInterrupted`
    (`without_partial_draws`, with the sampler's ``name``)."""

    @functools.wraps(method)
    def sample(self, *args: Any, **kwargs: Any):
        with without_partial_draws(self.name):
            return method(self, *args, **kwargs)

    return sample
