"""One nutpie compile for every model of the same structure: new data swapped in.

nutpie compiles a PyMC graph with numba in 4-10 s, where sampling a small model takes a few
tenths of a second. Models built from one formula on other datasets differ only in the values
of their data containers (``pm.Data``) when their priors' parameters are containers too
(`bayesformula.core.prior.shared_parameters`) and their parameters have the same shapes. Inside
`reusing` (as `bayesformula.fit_many` runs its fits), a model is compiled only when no cached
model is provably the same function of its data:

1. a cheap key: the engine's backend, the free variables' names, the parameters' dimensions and
   their lengths, and the data containers' names, ranks and types;
2. then `pytensor.graph.basic.equal_computations` over the log-density and every
   deterministic, the two models' data containers, value variables and random variables paired
   by name: the same operations on the same constants, so the compiled function of one with the
   other's data is the other's function.

The reused compile gets the new model's data (nutpie's ``with_data``), its coordinate labels
and an initial-point function that evaluates the cached model's with the new values in its
containers (then put back), so a fit draws exactly what a fresh compile would draw from the
same seed (tested). A model that fails either check is compiled, and cached for the next.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import pandas as pd

from bayesformula.core.switch import Switch

__all__ = ["MAX_CACHED", "cache_info", "clear", "compiled", "enabled", "holds", "reusing"]

#: Structures kept per process (a Dask worker keeps its own), the least recently used dropped.
MAX_CACHED = 8

_ENABLED = Switch("reuse_compiles")
_LOCK = threading.Lock()  # the cache, and a cached model's containers while they hold new values
#: key -> [(model, its outputs: log-density and deterministics, its compile, nutpie's own
#: initial-point function of that compile), ...]
_CACHE: OrderedDict[tuple, list[tuple[Any, list, Any, Callable]]] = OrderedDict()
_STATS = {"compiled": 0, "reused": 0}


def reusing() -> contextlib.AbstractContextManager[None]:
    """Within the block (in this thread or task), nutpie compiles of PyMC models are shared
    between models of the same structure."""
    return _ENABLED.on()


def enabled() -> bool:
    """Whether compiles are being shared here (`reusing`)."""
    return _ENABLED.is_on()


def clear() -> None:
    """Forget every cached compile."""
    with _LOCK:
        _CACHE.clear()
        _STATS.update(compiled=0, reused=0)


def cache_info() -> dict:
    """Structures cached, and how many compiles were made and reused in this process."""
    with _LOCK:
        return {"structures": len(_CACHE), **_STATS}


def _containers(model) -> dict[str, Any]:
    """The model's shared variables by name: its data containers and the lengths of its
    dimensions that can change (the observations')."""
    found = {name: var for name, var in model.named_vars.items() if hasattr(var, "get_value")}
    for name, var in model.dim_lengths.items():
        if hasattr(var, "get_value") and var.name not in found:
            found[var.name or name] = var
    return found


def _key(model, backend: str) -> tuple:
    dims = model.named_vars_to_dims
    used = sorted(
        {d for v in [*model.free_RVs, *model.deterministics] for d in dims.get(v.name, ())}
    )
    lengths = tuple((d, len(model.coords[d])) for d in used)
    shared = tuple(
        (name, var.type.ndim, str(var.type.dtype))
        for name, var in sorted(_containers(model).items())
        if hasattr(var.type, "ndim")
    )
    rvs = tuple((rv.name, rv.type.ndim, dims.get(rv.name)) for rv in model.free_RVs)
    dets = tuple((d.name, dims.get(d.name)) for d in model.deterministics)
    return (backend, rvs, dets, lengths, shared)


def _outputs(model) -> list:
    return [model.logp(), *model.deterministics]


def _same_function(cached, model, outputs: list | None = None) -> bool:
    """Whether ``cached`` and ``model`` compute the same log-density and deterministics of
    their data containers and parameters (``outputs``: the cached model's `_outputs`)."""
    from pytensor.graph.basic import equal_computations

    mine, theirs = _containers(cached), _containers(model)
    if set(mine) != set(theirs):
        return False
    names = sorted(mine)
    if len(cached.free_RVs) != len(model.free_RVs):
        return False
    xs = [mine[n] for n in names] + [cached.rvs_to_values[rv] for rv in cached.free_RVs]
    ys = [theirs[n] for n in names] + [model.rvs_to_values[rv] for rv in model.free_RVs]
    xs += list(cached.free_RVs)
    ys += list(model.free_RVs)
    try:
        return bool(
            equal_computations(
                _outputs(cached) if outputs is None else outputs,
                _outputs(model),
                in_xs=xs,
                in_ys=ys,
            )
        )
    except Exception:  # graphs that cannot be compared this way are compiled anew
        return False


def _swapped(compiled_model, cached, model, initial: Callable):
    """``compiled_model`` (of ``cached``) with ``model``'s data, labels and initial points
    (``initial``: nutpie's initial-point function of ``cached``, which reads its containers)."""
    theirs = _containers(model)
    values = {name: var.get_value() for name, var in theirs.items()}
    known = {var.name for var in compiled_model.shared_var_keys}
    swapped = compiled_model.with_data(**{k: v for k, v in values.items() if k in known})
    coords = dict(compiled_model.coords or {})
    coords.update({k: pd.Index(v) for k, v in model.coords.items() if k in coords})
    mine = _containers(cached)

    def initial_point(seed):
        # the cached model's initial-point function reads its own containers: give them this
        # model's values for the call, then put the cached model's back
        with _LOCK:
            saved = {name: var.get_value() for name, var in mine.items()}
            try:
                for name, var in mine.items():
                    var.set_value(values[name])
                return initial(seed)
            finally:
                for name, var in mine.items():
                    var.set_value(saved[name])

    return dataclasses.replace(swapped, _coords=coords, initial_point_func=initial_point)


def _match(model, key: tuple):
    """The cached entry whose compile serves ``model`` (itself, or the same function of its
    data), or None."""
    with _LOCK:
        candidates = list(_CACHE.get(key, ()))
        if candidates:
            _CACHE.move_to_end(key)
    for entry in candidates:
        cached, outputs = entry[0], entry[1]
        if cached is model or _same_function(cached, model, outputs):
            return entry
    return None


def holds(model, backend: str) -> bool:
    """Whether a compile that `compiled` would give ``model`` is cached (no compile needed)."""
    return _match(model, _key(model, backend)) is not None


def compiled(model, backend: str, compile_: Callable[[], Any]):
    """The compiled ``model``: a cached compile of the same structure with this model's data,
    or ``compile_()`` (then cached)."""
    key = _key(model, backend)
    entry = _match(model, key)
    if entry is not None:
        cached, _, compiled_model, initial = entry
        if cached is model:
            return compiled_model
        with _LOCK:
            _STATS["reused"] += 1
        return _swapped(compiled_model, cached, model, initial)
    # its initial points read its containers under the lock too, while a model reusing it may
    # have filled them with its own values
    fresh = compile_()
    result = _swapped(fresh, model, model, fresh.initial_point_func)
    entry = (model, _outputs(model), result, fresh.initial_point_func)
    with _LOCK:
        _STATS["compiled"] += 1
        _CACHE.setdefault(key, []).append(entry)
        _CACHE.move_to_end(key)
        while len(_CACHE) > MAX_CACHED:
            _CACHE.popitem(last=False)
    return result
