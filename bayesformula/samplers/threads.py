"""Side by side or one after another: how to run the chains of a log-density written in Python.

nutpie runs each chain in its own thread and calls the fast path's numpy log-density from it,
taking Python's global lock for every call. Only the parts of a call that let the lock go (numba
loops compiled ``nogil``, numpy on large arrays) run at the same time; the rest waits, and
handing the lock from thread to thread costs more than it gains on a small model. Measured on
a 2-core machine (nutpie 0.16.11, 2 chains of 300 + 1000 draws): the sleepstudy gaussian
sampled in 3.1 s side by side and 2.4 s one after another, a Student t regression on 10,000 rows
with 100 group intercepts in 11.2 s and 6.8 s, while 50,000 bernoulli rows (a compiled loop)
took 6.9 s side by side and 11.2 s one after another.

`chain_cores` decides. A density whose per-row work all runs in a compiled loop that lets the
lock go (the bernoulli, binomial and poisson row loop) runs its chains side by side; one whose
call takes under `CHEAP_CALL_SECONDS` runs them one after another. Any other is measured: calls
of the density are timed in one thread and in as many threads as there would be chains running
at once, letting the lock go after each call as nutpie's threads do, and the chains run side
by side only when that gives `PARALLEL_MIN_SPEEDUP` times the throughput of one thread. The
measurement takes a few hundredths of a second; on a 2-core machine densities that hold the
lock measured 0.4-1.1, the beta likelihood's loop 1.4-1.8.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

import numpy as np

__all__ = ["PARALLEL_MIN_SPEEDUP", "chain_cores", "parallel_speedup"]

#: Throughput of the chains side by side, relative to one thread, below which they run one
#: after another. Above 1 so that measuring noise on a density that holds the lock throughout
#: (a speed-up of 0.4-1.1 on a 2-core machine) does not choose threads that then contend.
PARALLEL_MIN_SPEEDUP = 1.2

#: A call of the density shorter than this runs its chains one after another without
#: measuring: every such density here (0.016-0.14 ms a call: W1, W2, W4, W8, W10, W11, W12)
#: measured 0.4-1.1 in two threads, handing the lock over costing about as much as the call.
CHEAP_CALL_SECONDS = 2e-4

#: A timing below this ends the measurement: the threads only take turns.
CLEARLY_SERIAL = 0.9

#: Seconds of calls each timing aims at (at least `MIN_CALLS`, at most `MAX_CALLS` calls).
PROBE_SECONDS = 0.02
MIN_CALLS = 5
MAX_CALLS = 100


#: Lets Python's lock go for a moment, as nutpie's threads do between calls.
_release = getattr(os, "sched_yield", None) or (lambda: time.sleep(0))


def _calls(logp_grad: Callable, x: np.ndarray, k: int) -> None:
    for _ in range(k):
        logp_grad(x)
        _release()


def _after(barrier: threading.Barrier, logp_grad: Callable, x: np.ndarray, k: int) -> None:
    barrier.wait()
    _calls(logp_grad, x, k)


def _in_threads(logp_grad: Callable, x: np.ndarray, threads: int, k: int) -> float:
    """Seconds for ``threads`` threads each making ``k`` calls at once."""
    barrier = threading.Barrier(threads + 1)
    workers = [
        threading.Thread(target=_after, args=(barrier, logp_grad, x, k), daemon=True)
        for _ in range(threads)
    ]
    for worker in workers:
        worker.start()
    barrier.wait()
    start = time.perf_counter()
    for worker in workers:
        worker.join()
    return time.perf_counter() - start


def _one_call(logp_grad: Callable, x: np.ndarray) -> float:
    """Seconds for one call of ``logp_grad(x)``, after a first untimed one."""
    logp_grad(x)
    start = time.perf_counter()
    logp_grad(x)
    return time.perf_counter() - start


def parallel_speedup(
    logp_grad: Callable, x: np.ndarray, threads: int, tries: int = 3, one: float | None = None
) -> float:
    """Throughput of ``threads`` threads calling ``logp_grad(x)`` at once, relative to one
    thread, after an untimed round that lets the threads' first allocations happen (the first
    round in a process is often the slowest). Up to ``tries`` rounds each time calls in one
    thread and in ``threads`` threads, and the speed-up compares the fastest timing of each:
    on a shared machine the same calls can run at two speeds from one moment to the next, and
    a single slow one-thread timing would look like a speed-up. It stops once the speed-up
    reaches `PARALLEL_MIN_SPEEDUP` over two rounds or falls below `CLEARLY_SERIAL`. ``one``:
    the seconds of one call, when already measured."""
    if one is None:
        one = _one_call(logp_grad, x)
    k = int(min(MAX_CALLS, max(MIN_CALLS, PROBE_SECONDS / max(one, 1e-7))))
    _in_threads(logp_grad, x, threads, max(2, k // 4))
    sequential = side_by_side = np.inf
    for round_ in range(tries):
        start = time.perf_counter()
        _calls(logp_grad, x, k)
        sequential = min(sequential, time.perf_counter() - start)
        side_by_side = min(side_by_side, _in_threads(logp_grad, x, threads, k))
        speedup = threads * sequential / side_by_side
        if (round_ and speedup >= PARALLEL_MIN_SPEEDUP) or speedup < CLEARLY_SERIAL:
            break
    return speedup


def chain_cores(
    logp_grad: Callable,
    x: np.ndarray,
    chains: int,
    cores: int | None,
    releases_lock: bool = False,
) -> tuple[int | None, str]:
    """The ``cores`` to give nutpie for ``chains`` chains of ``logp_grad``, and why.

    ``cores`` given by the caller is kept. A density that ``releases_lock`` (all its per-row
    work in a compiled loop without the lock) runs its chains side by side (None, nutpie's
    default) without measuring, and one whose call takes under `CHEAP_CALL_SECONDS` one after
    another (1). Otherwise the result is None when `parallel_speedup` reaches
    `PARALLEL_MIN_SPEEDUP`, else 1. A density that fails at ``x`` is left to the sampler to
    report.
    """
    if cores is not None:
        return cores, f"cores={cores} as given"
    threads = min(chains, os.cpu_count() or 1)
    if threads <= 1:
        return None, "one chain at a time: one core or one chain"
    if releases_lock:
        return None, "chains side by side: the compiled row loop releases Python's lock"
    try:
        one = _one_call(logp_grad, x)
        if one < CHEAP_CALL_SECONDS:
            return 1, (
                f"chains one after another: a call of the log-density takes {one * 1e3:.3f} "
                "ms, too little for threads to gain from"
            )
        speedup = parallel_speedup(logp_grad, x, threads, one=one)
    except Exception:  # noqa: BLE001  (the sampler reports a failing density with context)
        return None, "chains side by side (the density could not be timed)"
    if speedup >= PARALLEL_MIN_SPEEDUP:
        return None, f"chains side by side: {threads} threads gave {speedup:.2f}x one thread"
    return 1, (
        f"chains one after another: the log-density holds Python's lock ({threads} threads "
        f"gave {speedup:.2f}x one thread)"
    )
