"""The frozen `Prior` value: a PyMC distribution name and its parameters."""

from __future__ import annotations

import contextlib
import inspect
import math
from collections.abc import Mapping
from functools import cache
from typing import Any

import numpy as np

from bayesformula.core.switch import Switch
from bayesformula.errors import PriorError, did_you_mean

__all__ = ["Prior", "shared_parameters", "sharing_parameters"]

_SHARED = Switch("shared_parameters")


def shared_parameters() -> contextlib.AbstractContextManager[None]:
    """Within the block, `Prior.create_variable` puts numeric parameters in data containers
    (``pm.Data`` named ``__prior_{variable}_{parameter}``) instead of constants, so that models
    whose priors were scaled to different data compile to one function of their data
    (`bayesformula.samplers.reuse`)."""
    return _SHARED.on()


def sharing_parameters() -> bool:
    """Whether models built here hold data-derived constants in containers
    (`shared_parameters`)."""
    return _SHARED.is_on()


# Parameters that must be > 0 wherever PyMC uses them (exceptions listed below).
_POSITIVE = {"sigma", "tau", "lam", "nu", "alpha", "beta", "b", "kappa", "s", "n", "eta"}
_SIGNED = {("SkewNormal", "alpha"), ("AsymmetricLaplace", "mu"), ("Cauchy", "alpha")}


@cache
def _distributions() -> dict[str, Any]:
    import pymc as pm

    out = {}
    for name in dir(pm):
        obj = getattr(pm, name)
        if inspect.isclass(obj) and issubclass(obj, pm.Distribution) and hasattr(obj, "dist"):
            if name not in {"Distribution", "Continuous", "Discrete", "SymbolicRandomVariable"}:
                out[name] = obj
    return out


# Parameter names of the distributions default priors use, so that building priors (and a model
# fitted on the fast path) does not import PyMC; tests check this table against PyMC's own.
_COMMON_PARAMS: dict[str, frozenset[str]] = {
    "Normal": frozenset({"mu", "sigma", "tau"}),
    "HalfNormal": frozenset({"sigma", "tau"}),
    "StudentT": frozenset({"mu", "sigma", "nu", "lam"}),
    "HalfStudentT": frozenset({"sigma", "nu", "lam"}),
    "Exponential": frozenset({"lam", "scale"}),
    "Flat": frozenset(),
    "HalfFlat": frozenset(),
    "Cauchy": frozenset({"alpha", "beta"}),
    "HalfCauchy": frozenset({"beta"}),
    "Gamma": frozenset({"alpha", "beta", "mu", "sigma"}),
    "InverseGamma": frozenset({"alpha", "beta", "mu", "sigma"}),
    "Beta": frozenset({"alpha", "beta", "mu", "nu", "sigma"}),
    "Uniform": frozenset({"lower", "upper"}),
    "LogNormal": frozenset({"mu", "sigma", "tau"}),
    "Laplace": frozenset({"mu", "b"}),
    "Dirichlet": frozenset({"a"}),
}


#: Keywords of a PyMC variable, not of its distribution, that a prior passes on as given (as
#: Bambi's priors do): ``transform`` (applied after the distribution's default transform) and
#: ``default_transform`` (None samples on the distribution's own scale).
OPTIONS = ("transform", "default_transform")


def _check_option(name: str, key: str, value: Any) -> None:
    """A transform option must be None or a PyMC transform (an object with forward/backward)."""
    if value is None or (
        callable(getattr(value, "forward", None)) and callable(getattr(value, "backward", None))
    ):
        return
    raise PriorError(
        f"{name}: {key} must be a PyMC transform (for example "
        f"pymc.distributions.transforms.ordered) or None, got {value!r}."
    )


#: Priors that are not PyMC distribution classes: the LKJ prior of the correlations of
#: correlated group-specific effects (only its shape ``eta`` is set by the user).
_SPECIAL_PARAMS: dict[str, frozenset[str]] = {"LKJCorr": frozenset({"eta"})}


@cache
def _param_names(name: str) -> frozenset[str]:
    if name in _SPECIAL_PARAMS:
        return _SPECIAL_PARAMS[name]
    if name in _COMMON_PARAMS:
        return _COMMON_PARAMS[name]
    sig = inspect.signature(_distributions()[name].dist)
    return frozenset(
        p.name
        for p in sig.parameters.values()
        if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL) and p.name not in {"cls", "size"}
    )


def distribution_parameters(name: str) -> frozenset[str] | None:
    """The parameter names of PyMC's distribution ``name``, or None if PyMC has none of that
    name (imports PyMC unless the distribution is one the default priors use)."""
    if name in _COMMON_PARAMS:
        return _COMMON_PARAMS[name]
    if not isinstance(name, str) or name not in _distributions():
        return None
    return _param_names(name)


def _fmt(value: Any) -> str:
    if isinstance(value, Prior):
        return repr(value)
    arr = np.asarray(value)
    if arr.ndim == 0:
        v = float(arr)
        return f"{v:.4g}" if abs(v) < 1e5 else f"{v:.4e}"
    return "[" + ", ".join(f"{float(v):.4g}" for v in arr.ravel()) + "]"


class Prior:
    """A prior distribution: a PyMC distribution name and its parameters.

    Priors are immutable values; use `replace` to derive a changed copy.
    Parameters may themselves be `Prior` objects (hyperpriors), as in
    ``Prior("Normal", mu=0, sigma=Prior("HalfNormal", sigma=1))`` for group-specific terms.

    Parameters
    ----------
    name : str
        A PyMC distribution name, for example ``"Normal"``, ``"HalfStudentT"``, ``"Flat"``.
    auto_scale : bool, default True
        Kept for compatibility with Bambi; user priors are used as given.
    **kwargs
        The distribution's parameters, and optionally ``transform`` and ``default_transform``
        (`OPTIONS`): passed to the PyMC variable as given, as Bambi does. They are kept apart
        from the parameters (`options`, not `args`). A model with such a prior is sampled
        from its PyMC graph (the fast path declines it).

    Raises
    ------
    PriorError
        Unknown distribution or parameter name, or an invalid value (non-finite, or not
        positive for scale-like parameters such as ``sigma``; a transform that is not a PyMC
        transform).

    Examples
    --------
    >>> Prior("Normal", mu=0, sigma=2.5)
    Normal(mu: 0, sigma: 2.5)
    >>> Prior("Normal", mu=0, sigma=-1)
    Traceback (most recent call last):
    ...
    bayesformula.errors.PriorError: Normal: parameter 'sigma' must be > 0, got -1.
    """

    __slots__ = ("name", "_args", "auto_scale", "_options")

    def __init__(self, name: str, auto_scale: bool = True, **kwargs: Any):
        if not isinstance(name, str):
            raise PriorError(f"a prior's distribution name must be a string, got {name!r}.")
        if name not in _COMMON_PARAMS and name not in _SPECIAL_PARAMS:
            dists = _distributions()
            if name not in dists:
                raise PriorError(did_you_mean(name, dists, "distribution"))
        options = {key: kwargs.pop(key) for key in OPTIONS if key in kwargs}
        for key, value in options.items():
            if name in _SPECIAL_PARAMS:
                raise PriorError(f"{name} takes no {key}; it is not a PyMC distribution.")
            _check_option(name, key, value)
        allowed = _param_names(name)
        for key, value in kwargs.items():
            if key not in allowed:
                raise PriorError(
                    f"{name} has no parameter '{key}'; its parameters are "
                    f"{', '.join(sorted(allowed))}."
                )
            if isinstance(value, Prior):
                continue
            try:
                arr = np.asarray(value, dtype=float)
            except (TypeError, ValueError):
                raise PriorError(
                    f"{name}: parameter '{key}' must be a number, an array or a Prior, "
                    f"got {value!r}."
                ) from None
            if not np.all(np.isfinite(arr)):
                raise PriorError(f"{name}: parameter '{key}' must be finite, got {value!r}.")
            if key in _POSITIVE and (name, key) not in _SIGNED and np.any(arr <= 0):
                raise PriorError(f"{name}: parameter '{key}' must be > 0, got {value!r}.")
        if name == "Uniform" and {"lower", "upper"} <= set(kwargs):
            lo, hi = kwargs["lower"], kwargs["upper"]
            if (
                not isinstance(lo, Prior)
                and not isinstance(hi, Prior)
                and np.any(np.asarray(lo) >= np.asarray(hi))
            ):
                raise PriorError(f"Uniform: lower ({lo}) must be below upper ({hi}).")
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "_args", dict(kwargs))
        object.__setattr__(self, "auto_scale", bool(auto_scale))
        object.__setattr__(self, "_options", options)

    def __setattr__(self, key, value):
        raise AttributeError("Prior is immutable; use prior.replace(...) to derive a new one.")

    def __reduce__(self) -> tuple:
        # rebuilt through the constructor (which checks the values again); nested priors
        # reduce the same way
        return (_rebuild_prior, (self.name, self.auto_scale, {**self._args, **self._options}))

    @property
    def args(self) -> Mapping[str, Any]:
        """The distribution's parameters (a read-only view)."""
        from types import MappingProxyType

        return MappingProxyType(self._args)

    @property
    def options(self) -> Mapping[str, Any]:
        """The PyMC variable's ``transform``/``default_transform`` given (a read-only view;
        empty for most priors)."""
        from types import MappingProxyType

        return MappingProxyType(self._options)

    def replace(self, **kwargs: Any) -> Prior:
        """Return a copy with some parameters (or options) changed."""
        merged = {**self._args, **self._options, **kwargs}
        return Prior(self.name, auto_scale=self.auto_scale, **merged)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Prior):
            return NotImplemented
        if self.name != other.name or set(self._args) != set(other._args):
            return False
        if set(self._options) != set(other._options) or any(
            value is not other._options[key] and value != other._options[key]
            for key, value in self._options.items()
        ):
            return False
        for key, value in self._args.items():
            o = other._args[key]
            if isinstance(value, Prior) or isinstance(o, Prior):
                if value != o:
                    return False
            elif not np.array_equal(np.asarray(value), np.asarray(o)):
                return False
        return True

    def __hash__(self) -> int:
        return hash((self.name, tuple(sorted(self._args))))

    def __repr__(self) -> str:
        inner = [f"{k}: {_fmt(v)}" for k, v in self._args.items()]
        inner += [f"{k}: {_fmt_option(v)}" for k, v in self._options.items()]
        return f"{self.name}({', '.join(inner)})"

    def create_variable(self, name: str, dims=None, **extra):
        """Create this prior as a PyMC random variable inside the current model context.

        Nested priors become variables named ``f"{name}_{param}"``. The prior's `options`
        (``transform``, ``default_transform``) are passed on; ``extra`` keywords of the caller
        may not set one of them again.

        Raises
        ------
        PriorError
            If ``extra`` sets a transform this prior sets too (the thresholds of ordinal
            families are sampled with PyMC's ordered transform, for example).
        """
        clash = sorted(set(self._options) & set(extra))
        if clash:
            raise PriorError(
                f"the prior of '{name}' sets {clash[0]}, but '{name}' is sampled with its own "
                f"{clash[0]} ({_fmt_option(extra[clash[0]])}); remove {clash[0]}= from its prior."
            )
        import pymc as pm

        kwargs = {}
        for key, value in self._args.items():
            if isinstance(value, Prior):
                kwargs[key] = value.create_variable(f"{name}_{key}")
            elif key == "n":
                kwargs[key] = value
            else:
                # float64 arrays: PyTensor would make float32 constants of Python floats that
                # float32 represents exactly (0.0, 2.5), losing precision in the log-density.
                kwargs[key] = np.asarray(value, dtype=np.float64)
        kwargs.update(self._options)
        kwargs.update(extra)
        if _SHARED.is_on():
            shared = {
                key: pm.Data(f"__prior_{name}_{key}", value)
                for key, value in kwargs.items()
                if key in self._args and isinstance(value, np.ndarray)
            }
            with contextlib.suppress(Exception):  # a distribution that needs constants
                return getattr(pm, self.name)(name, dims=dims, **{**kwargs, **shared})
        return getattr(pm, self.name)(name, dims=dims, **kwargs)


def _fmt_option(value: Any) -> str:
    """A transform as printed: PyMC's name for it (``ordered``), or None."""
    return "None" if value is None else str(getattr(value, "name", None) or type(value).__name__)


def _rebuild_prior(name: str, auto_scale: bool, args: dict[str, Any]) -> Prior:
    """``Prior(name, auto_scale=auto_scale, **args)``: how a pickled prior is rebuilt."""
    return Prior(name, auto_scale=auto_scale, **args)


def is_scalar_number(value: Any) -> bool:
    """True for int/float (not bool) values usable as constants."""
    return (
        isinstance(value, int | float | np.number)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )
