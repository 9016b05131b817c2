"""nutpie on a fast-path density's compiled form: a C function, no Python per gradient.

A `DensityModel` with a `native` form (`bayesformula.density.native`) can be handed to nutpie
as a compiled model, the way nutpie runs a PyMC graph compiled by numba: a C log-density and a
C "expand" function, reading the model's arrays through one pointer (nutpie's user data).
nutpie's sampler threads then call it without Python's lock, so the chains of a fit run on
separate cores.

The C functions read the dimension from their arguments and the arrays' addresses and sizes
from the user data, so one compile serves every model of the class, and numba keeps it on disk
(about 3.5 s the first time on a machine, 0.1 s to load in a later process). `bayesformula.
fit_many` turns it on (`native_fits`); a single `Model.fit()` keeps the Python function, so
that its draws do not depend on whether the compiled form is there.

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


def _user_data(native) -> np.ndarray:
    """The int64 record the C functions read: for each of ``native``'s arrays (in
    `density.native.NAMES`' order) its address and its two leading lengths (1 for a vector).
    The arrays must stay alive as long as it is used."""
    values = []
    for array in native.arrays:
        shape = (*array.shape, 1)[:2]
        values += [array.ctypes.data, shape[0], shape[1]]
    return np.array(values, dtype=np.int64)


# Set by `_cfuncs` before compiling: module globals, not closure variables, so that numba can
# keep the compiled C functions on disk and later processes load them.
_INNER = None  # `density.native.inner_function()`
_POINTER = None  # an address (int64) as a void pointer


def _pointer_typing(typingctx, address):
    from numba.core import cgutils, types

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], cgutils.voidptr_t)

    return types.voidptr(address), codegen


def _logp_c(dim, x_, out_, logp_, ud_):
    """nutpie's C log-density: ``x`` in, the log-density and gradient out; 0, or 3 / 4 where
    the gradient / the log-density is not finite (a rejected proposal)."""
    u = numba.carray(ud_, (45,), np.int64)
    where = numba.carray(_POINTER(u[0]), (u[1],), np.int64)
    mu = numba.carray(_POINTER(u[3]), (u[4],), np.float64)
    inv = numba.carray(_POINTER(u[6]), (u[7],), np.float64)
    pconst = numba.carray(_POINTER(u[9]), (u[10],), np.float64)
    hwhere = numba.carray(_POINTER(u[12]), (u[13],), np.int64)
    hinv = numba.carray(_POINTER(u[15]), (u[16],), np.float64)
    hconst = numba.carray(_POINTER(u[18]), (u[19],), np.float64)
    gmeta = numba.carray(_POINTER(u[21]), (u[22], u[23]), np.int64)
    meta = numba.carray(_POINTER(u[24]), (u[25],), np.int64)
    X = numba.carray(_POINTER(u[27]), (u[28], u[29]), np.float64)
    ysum = numba.carray(_POINTER(u[30]), (u[31],), np.float64)
    weight = numba.carray(_POINTER(u[33]), (u[34],), np.float64)
    offset = numba.carray(_POINTER(u[36]), (u[37],), np.float64)
    pos = numba.carray(_POINTER(u[39]), (u[40], u[41]), np.int64)
    z = numba.carray(_POINTER(u[42]), (u[43], u[44]), np.float64)
    x = numba.carray(x_, (dim,))
    out = numba.carray(out_, (dim,))
    logp = numba.carray(logp_, ())
    priors = (where, mu, inv, pconst, hwhere, hinv, hconst)
    lp, grad = _INNER(x, *priors, gmeta, meta, X, ysum, weight, offset, pos, z)
    logp[()] = lp
    out[:] = grad
    if not np.isfinite(lp):
        return 4
    for j in range(dim):
        if not np.isfinite(grad[j]):
            return 3
    return 0


def _expand_c(dim, expanded, x_, out_, ud_):
    """nutpie's C expand function: the draw is the unconstrained vector itself."""
    x = numba.carray(x_, (dim,))
    out = numba.carray(out_, (expanded,))
    for j in range(dim):
        out[j] = x[j]
    return 0


numba = None  # imported by `_cfuncs`, so that other models never load it


@functools.cache
def _cfuncs() -> tuple[Any, Any]:
    """The C log-density and expand functions, compiled once per machine (numba's cache):
    they read the dimension from their arguments and everything else from the user data."""
    global _INNER, _POINTER, numba
    import numba as numba_module
    from numba.extending import intrinsic

    from bayesformula.density.native import inner_function

    numba = numba_module
    _INNER = inner_function()
    _POINTER = intrinsic(_pointer_typing)
    types = numba.types
    pointer = types.CPointer(types.double)
    logp_sig = types.int64(types.uint64, pointer, pointer, pointer, types.voidptr)
    expand_sig = types.int64(types.uint64, types.uint64, pointer, pointer, types.voidptr)
    logp = numba.cfunc(logp_sig, cache=True, error_model="numpy")(_logp_c)
    expand = numba.cfunc(expand_sig, cache=True)(_expand_c)
    return logp, expand


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
