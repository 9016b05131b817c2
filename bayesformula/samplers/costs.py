"""What a compiled model's engines cost on this machine: measured, kept, and used to choose.

`inference_method="auto"` picks between PyMC's NUTS and nutpie for a model off the fast path
(a PyMC graph) by the time each would take: its compile plus its gradients,

    seconds = compile + chains x (tune + draws) x steps per draw x seconds per gradient

with a gradient's cost modelled as ``a + b x size`` (``size``: observed values x free
parameters). Every fit either engine makes of a graph records what it measured (compile and
set-up seconds, seconds per gradient, leapfrog steps per draw) in a small JSON file, by default
``$XDG_CACHE_HOME/bayesformula/costs.json`` (``~/.cache/...``); the estimates use the medians
of the last `KEEP` records of each engine, and the figures measured on a 2-core machine
(`DEFAULTS`) until an engine has records. ``BAYESFORMULA_COSTS`` names another file, or
``off`` to neither read nor write one (the choice then uses `DEFAULTS` alone).

A nutpie compile already held in this process for a model of the same structure
(`bayesformula.samplers.reuse`) costs nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["DEFAULTS", "KEEP", "Estimate", "estimate", "observe", "path", "record"]

#: Records kept per engine (the oldest dropped).
KEEP = 20

#: Figures for an engine without records: compile seconds, a gradient's wall cost ``a + b x
#: size`` in seconds and leapfrog steps per draw. Measured on a 2-core machine (PyTensor 3's
#: numba backend, 2 chains side by side) with a Student t regression ``y ~ x`` off the fast
#: path: on 1,000 rows PyMC's NUTS took 75 us per gradient and nutpie 21 us, on 20,000 rows
#: 429 us and 141 us; PyMC compiled in 1-6 s, nutpie in 5-10 s (a cold cache the slower);
#: 4-5 steps per draw, more for hierarchical models. PyMC's NUTS calls the compiled function
#: from Python at every step, nutpie from Rust.
DEFAULTS = {
    "pymc": {"compile": 2.0, "a": 60e-6, "b": 4.5e-9, "steps": 8.0},
    "nutpie": {"compile": 7.0, "a": 15e-6, "b": 1.5e-9, "steps": 8.0},
}

_LOCK = threading.Lock()


def path() -> Path | None:
    """The file of records, or None when ``BAYESFORMULA_COSTS=off``."""
    where = os.environ.get("BAYESFORMULA_COSTS", "")
    if where.lower() == "off":
        return None
    if where:
        return Path(where)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "bayesformula" / "costs.json"


def _read(file: Path | None) -> dict:
    if file is None:
        return {}
    try:
        data = json.loads(file.read_text())
    except (OSError, ValueError):  # none yet, or unreadable: start afresh
        return {}
    return data if isinstance(data, dict) else {}


def record(
    engine: str, *, size: int, compile_s: float | None, sampling_s: float, tune: int, idata
) -> None:
    """Add a fit's measurements to the engine's records: its compile (and set-up) seconds
    (None: no compile was made), and, from the kept draws' leapfrog steps (``n_steps``), the
    ``tune`` warm-up draws per chain and ``sampling_s``, its wall seconds per gradient (chains
    sampled side by side count as one) and steps per draw. Skipped silently where the file
    cannot be written or the steps are missing: a record is an aid to the next choice, never a
    reason for a fit to fail."""
    file = path()
    if file is None or engine not in DEFAULTS:
        return
    try:
        steps = np.asarray(idata.sample_stats["n_steps"], dtype=float)
    except (AttributeError, KeyError, TypeError):
        return
    if steps.ndim != 2 or steps.size == 0 or not np.isfinite(steps).all() or sampling_s <= 0:
        return
    chains, draws = steps.shape[0], steps.shape[1]
    per_draw = float(steps.mean())
    # the warm-up's draws are not kept: taken to cost what the kept ones cost per draw
    gradients = per_draw * chains * (draws + tune)
    entry = {
        "size": int(size),
        "compile": None if compile_s is None else round(float(max(compile_s, 0.0)), 4),
        "grad": float(sampling_s / max(gradients, 1.0)),
        "steps": round(per_draw, 3),
    }
    with _LOCK, contextlib.suppress(OSError):
        data = _read(file)
        kept = [e for e in data.get(engine, []) if isinstance(e, dict)][-(KEEP - 1) :]
        data[engine] = kept + [entry]
        file.parent.mkdir(parents=True, exist_ok=True)
        # written whole to a temporary file and renamed: a reader never sees half a file
        fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=".costs-", suffix=".json")
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh)
        os.replace(tmp, file)


@dataclass(frozen=True)
class Estimate:
    """An engine's estimated seconds for one fit, and where the figures come from."""

    engine: str
    compile: float
    gradients: float
    per_gradient: float
    measured: int  # the engine's records the figures come from (0: `DEFAULTS`)
    cached: bool = False  # the compile is held in this process already

    @property
    def seconds(self) -> float:
        return self.compile + self.gradients * self.per_gradient

    def describe(self) -> str:
        compile_ = "compiled already" if self.cached else f"compile {self.compile:.1f} s"
        return (
            f"{self.engine} about {self.seconds:.1f} s ({compile_} + {self.gradients:,.0f} "
            f"gradients x {self.per_gradient * 1e6:,.0f} us)"
        )


def _gradient_cost(entries: list[dict], default: dict, size: int) -> float:
    """Seconds per gradient at ``size``: ``a + b x size`` fitted to the records (least squares,
    both coefficients kept non-negative), the defaults' slope where the records' sizes do not
    differ enough to give one."""
    sizes = np.array([e["size"] for e in entries], dtype=float)
    costs = np.array([e["grad"] for e in entries], dtype=float)
    if sizes.max() >= 2 * max(sizes.min(), 1.0):
        b, a = np.polyfit(sizes, costs, 1)
        if a < 0 or b < 0:  # the nearest fit with a coefficient at zero
            b0 = max(float(np.sum(sizes * costs) / np.sum(sizes * sizes)), 0.0)
            a, b = (float(np.mean(costs)), 0.0) if b < 0 else (0.0, b0)
    else:  # one size: the defaults' slope through the records' median
        b = default["b"]
        a = max(float(np.median(costs - b * sizes)), 0.0)
    return float(a + b * size)


def estimate(
    engine: str, size: int, chains: int, tune: int, draws: int, cached: bool = False
) -> Estimate:
    """The engine's estimated seconds for a fit of a model of ``size`` (observed values x
    free parameters) with these settings (see the module docstring)."""
    default = DEFAULTS[engine]
    entries = [
        e
        for e in _read(path()).get(engine, [])
        if isinstance(e, dict) and {"size", "compile", "grad", "steps"} <= set(e)
    ][-KEEP:]
    compiles = [e["compile"] for e in entries if isinstance(e["compile"], int | float)]
    compile_s = float(statistics.median(compiles)) if compiles else default["compile"]
    if entries:
        steps = float(statistics.median(e["steps"] for e in entries))
        per_gradient = _gradient_cost(entries, default, size)
    else:
        steps = default["steps"]
        per_gradient = default["a"] + default["b"] * size
    return Estimate(
        engine=engine,
        compile=0.0 if cached else compile_s,
        gradients=chains * (tune + draws) * steps,
        per_gradient=per_gradient,
        measured=len(entries),
        cached=cached,
    )


def observe(engine: str, model, idata, *, compile_s: float | None, tune: int) -> None:
    """`record` a completed fit of the ``pm.Model`` ``model`` (its size read from the draws:
    nothing is compiled for it); a fit without the engine's ``sampling_time`` is skipped."""
    try:
        stats = idata.sample_stats
        sampling_s = float(stats.attrs["sampling_time"])
        posterior = idata.posterior
        per_draw = posterior.sizes["chain"] * posterior.sizes["draw"]
        names = [rv.name for rv in model.free_RVs if rv.name in posterior]
        n_params = sum(int(posterior[name].size) // max(per_draw, 1) for name in names)
        observed = idata.observed_data if "observed_data" in idata.children else None
        n_obs = sum(int(v.size) for v in observed.data_vars.values()) if observed else 0
    except (AttributeError, KeyError, TypeError, ValueError):
        return
    record(
        engine,
        size=n_obs * n_params,
        compile_s=compile_s,
        sampling_s=sampling_s,
        tune=tune,
        idata=idata,
    )
