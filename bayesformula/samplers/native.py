"""nutpie on a fast-path density's compiled form: a C function, no Python per gradient.

A `DensityModel` with a `native` form (`bayesformula.density.native`) can be handed to nutpie
as a compiled model, the way nutpie runs a PyMC graph compiled by numba: a C log-density and a
C "expand" function, reading the model's arrays through one pointer (nutpie's user data).
nutpie's sampler threads then call it without Python's lock, so the chains of a fit run on
separate cores.

The C functions depend on the dimension and the arrays' ranks and types only, so one compile
(about a second) serves every dataset of that structure in the process: a dataset brings its
own arrays. That pays where many models of one structure are fitted (`bayesformula.fit_many`
turns it on, `enabled`); a single fit keeps the Python function, which costs nothing to start.

This uses nutpie's compiled-model classes below its public API (nutpie is pinned to 0.16);
where they are not as expected, `compiled_model` returns None and the Python function is used.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any

import numpy as np
import pandas as pd

from bayesformula.core.switch import Switch

__all__ = ["NATIVE_NAME", "compiled_model", "enabled", "native_fits"]

#: The one variable the compiled model's draws hold: the unconstrained vector.
NATIVE_NAME = "__x__"

_ENABLED = Switch("native_density")


def native_fits() -> contextlib.AbstractContextManager[None]:
    """Within the block (this thread or task), densities with a compiled form are sampled by
    nutpie through it."""
    return _ENABLED.on()


def enabled() -> bool:
    """Whether densities' compiled forms are used here (`native_fits`)."""
    return _ENABLED.is_on()


#: Places in the user data (int64) that the C log-density reads: the arrays' addresses and
#: sizes, and `NativeDensity`'s ``meta`` values.
_FIELDS = (
    "x_ptr", "n", "p", "ysum_ptr", "weight_ptr", "offset_ptr", "n_offset", "pos_ptr",
    "k_cols", "z_ptr", "where_ptr", "n_prior", "mu_ptr", "inv_ptr", "pconst_ptr",
    "i_int", "b0", "b1", "family",
)  # fmt: skip


def _user_data(native) -> np.ndarray:
    """The int64 record the C functions read (addresses of ``native``'s arrays, which must
    stay alive as long as it is used)."""
    a = dict(zip(native.names, native.arrays, strict=True))
    X, pos = a["X"], a["pos"]
    values = {
        "x_ptr": X.ctypes.data, "n": X.shape[0], "p": X.shape[1],
        "ysum_ptr": a["ysum"].ctypes.data, "weight_ptr": a["weight"].ctypes.data,
        "offset_ptr": a["offset"].ctypes.data, "n_offset": a["offset"].shape[0],
        "pos_ptr": pos.ctypes.data, "k_cols": pos.shape[0], "z_ptr": a["z"].ctypes.data,
        "where_ptr": a["where"].ctypes.data, "n_prior": a["where"].shape[0],
        "mu_ptr": a["mu"].ctypes.data, "inv_ptr": a["inv"].ctypes.data,
        "pconst_ptr": a["pconst"].ctypes.data,
        "i_int": a["meta"][0], "b0": a["meta"][1], "b1": a["meta"][2], "family": a["meta"][3],
    }  # fmt: skip
    return np.array([int(values[f]) for f in _FIELDS], dtype=np.int64)


@functools.cache
def _cfuncs() -> tuple[Any, Any]:
    """The C log-density and expand functions, compiled once per machine (numba's cache):
    they read the dimension from their arguments and everything else from the user data."""
    import numba
    from nutpie.compile_pymc import address_as_void_pointer

    from bayesformula.density.native import inner_function

    inner = inner_function()
    f64, i64 = np.float64, np.int64
    logp_sig = numba.types.int64(
        numba.types.uint64,
        numba.types.CPointer(numba.types.double),
        numba.types.CPointer(numba.types.double),
        numba.types.CPointer(numba.types.double),
        numba.types.voidptr,
    )
    expand_sig = numba.types.int64(
        numba.types.uint64,
        numba.types.uint64,
        numba.types.CPointer(numba.types.double),
        numba.types.CPointer(numba.types.double),
        numba.types.voidptr,
    )

    @numba.cfunc(logp_sig, cache=True, error_model="numpy")
    def logp_c(dim, x_, out_, logp_, ud_):
        u = numba.carray(ud_, (19,), i64)
        n, p, k, m = u[1], u[2], u[8], u[11]
        X = numba.carray(address_as_void_pointer(u[0]), (n, p), f64)
        ysum = numba.carray(address_as_void_pointer(u[3]), (n,), f64)
        weight = numba.carray(address_as_void_pointer(u[4]), (n,), f64)
        offset = numba.carray(address_as_void_pointer(u[5]), (u[6],), f64)
        pos = numba.carray(address_as_void_pointer(u[7]), (k, n), i64)
        z = numba.carray(address_as_void_pointer(u[9]), (k, n), f64)
        where = numba.carray(address_as_void_pointer(u[10]), (m,), i64)
        mu = numba.carray(address_as_void_pointer(u[12]), (m,), f64)
        inv = numba.carray(address_as_void_pointer(u[13]), (m,), f64)
        pconst = numba.carray(address_as_void_pointer(u[14]), (m + 1,), f64)
        meta = np.empty(4, dtype=i64)
        meta[0], meta[1], meta[2], meta[3] = u[15], u[16], u[17], u[18]
        x = numba.carray(x_, (dim,))
        out = numba.carray(out_, (dim,))
        logp = numba.carray(logp_, ())
        lp, grad = inner(x, where, mu, inv, pconst, meta, X, ysum, weight, offset, pos, z)
        logp[()] = lp
        out[:] = grad
        if not np.isfinite(lp):
            return 4
        for j in range(dim):
            if not np.isfinite(grad[j]):
                return 3
        return 0

    @numba.cfunc(expand_sig, cache=True)
    def expand_c(dim, expanded, x_, out_, ud_):
        x = numba.carray(x_, (dim,))
        out = numba.carray(out_, (expanded,))
        for j in range(dim):
            out[j] = x[j]
        return 0

    return logp_c, expand_c


def compiled_model(model, initial_point=None):
    """nutpie's compiled model of ``model`` (a `DensityModel` with a `native` form) whose
    draws are the unconstrained vectors (`NATIVE_NAME`), or None where that cannot be built."""
    native = getattr(model, "native", None)
    if native is None:
        return None
    try:
        from nutpie.compile_pymc import CompiledPyMCModel

        logp_c, expand_c = _cfuncs()
        user_data = _user_data(native)

        def init(seed):
            if model.initial_point is None:
                return np.zeros(model.ndim)
            return np.asarray(model.initial_point(np.random.default_rng(seed)), dtype=float)

        return CompiledPyMCModel(
            _n_dim=model.ndim,
            dims={NATIVE_NAME: ("__unconstrained__",)},
            _coords={"__unconstrained__": pd.RangeIndex(model.ndim)},
            _shapes={NATIVE_NAME: (model.ndim,)},
            compiled_logp_func=logp_c,
            compiled_expand_func=expand_c,
            initial_point_func=init if initial_point is None else initial_point,
            shared_data={"arrays": native.arrays},  # kept alive with the model
            shared_var_keys={},
            user_data=user_data,
            n_expanded=model.ndim,
            shape_info=([NATIVE_NAME], [slice(0, model.ndim)], [(model.ndim,)]),
            logp_func=None,
            expand_func=None,
        )
    except Exception:  # nutpie's internals not as expected: the Python function is used
        return None


def named_draws(x: np.ndarray, model) -> dict[str, np.ndarray]:
    """``(chains, draws, ndim)`` unconstrained vectors as the model's named variables,
    ``{name: (chains, draws, *shape)}``."""
    n_chains, n_draws, _ = x.shape
    out = {name: np.empty((n_chains, n_draws, *model.shapes[name])) for name in model.shapes}
    for c in range(n_chains):
        for d in range(n_draws):
            expanded = model.expand(x[c, d])
            for name in out:
                out[name][c, d] = expanded[name]
    return out
