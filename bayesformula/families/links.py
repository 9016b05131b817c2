"""Link functions, each with a numpy and a PyTensor inverse that tests keep in agreement."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import special

from bayesformula.errors import FamilyError, did_you_mean
from bayesformula.families.pickling import reduce_by_value

__all__ = ["Link", "LINKS", "get_link"]


@dataclass(frozen=True)
class Link:
    """A link function ``g`` with ``eta = g(param)``.

    Pass a ``Link`` with a new name as ``link=`` to use your own; it needs the numpy pair and a
    PyTensor inverse, e.g. ``Link("loglog", link=..., linkinv=..., linkinv_pt=...)``.

    Attributes
    ----------
    name : str
        Name of the link ("identity", "log", "logit", ...).
    link : callable
        ``g`` on numpy arrays.
    linkinv : callable
        ``g^-1`` on numpy arrays.
    linkinv_pt : callable
        ``g^-1`` on PyTensor tensors (used inside the model graph).
    """

    name: str
    link: Callable[[np.ndarray], np.ndarray]
    linkinv: Callable[[np.ndarray], np.ndarray]
    linkinv_pt: Callable

    def __reduce__(self) -> tuple:
        # a registered link pickles as its name (and unpickles as the registry's object);
        # any other by value
        if LINKS.get(self.name) is self:
            return (get_link, (self.name,))
        return reduce_by_value(self)


def _pt():
    import pytensor.tensor as pt

    return pt


def _identity(x):
    return x


def _exp_pt(x):
    return _pt().exp(x)


def _sigmoid_pt(x):
    return _pt().sigmoid(x)


def _probit_inv_pt(x):
    return 0.5 * _pt().erfc(-x / np.sqrt(2.0))


def _cloglog(p):
    return np.log(-np.log1p(-p))


def _cloglog_inv(x):
    return -np.expm1(-np.exp(x))


def _cloglog_inv_pt(x):
    return -_pt().expm1(-_pt().exp(x))


def _reciprocal(x):
    return 1.0 / x


def _inverse_squared(x):
    return 1.0 / x**2


def _inverse_squared_inv(x):
    return 1.0 / np.sqrt(x)


def _inverse_squared_inv_pt(x):
    return 1.0 / _pt().sqrt(x)


def _softmax_link(p):
    """Log-ratios of categories 2..K to the first (the reference): ``log(p_k / p_1)``."""
    p = np.asarray(p, dtype=float)
    return np.log(p[..., 1:]) - np.log(p[..., :1])


def _softmax_inv(eta):
    """Probabilities of K categories from the K - 1 log-ratios to the reference (first)."""
    eta = np.asarray(eta, dtype=float)
    full = np.concatenate([np.zeros(eta.shape[:-1] + (1,)), eta], axis=-1)
    return special.softmax(full, axis=-1)


def _softmax_inv_pt(eta):
    pt = _pt()
    # the reference's zero column as eta[..., :1] * 0: its shape follows eta's, which JAX can
    # trace (a zeros block of a run-time shape it cannot)
    full = pt.concatenate([eta[..., :1] * np.float64(0.0), eta], axis=-1)
    return pt.exp(full - pt.logsumexp(full, axis=-1, keepdims=True))


LINKS: dict[str, Link] = {
    "identity": Link("identity", _identity, _identity, _identity),
    "log": Link("log", np.log, np.exp, _exp_pt),
    "logit": Link("logit", special.logit, special.expit, _sigmoid_pt),
    "probit": Link("probit", special.ndtri, special.ndtr, _probit_inv_pt),
    "cloglog": Link("cloglog", _cloglog, _cloglog_inv, _cloglog_inv_pt),
    "inverse": Link("inverse", _reciprocal, _reciprocal, _reciprocal),
    "inverse_squared": Link(
        "inverse_squared", _inverse_squared, _inverse_squared_inv, _inverse_squared_inv_pt
    ),
    # categorical families: the last axis of eta holds categories 2..K, the first is the
    # reference with eta = 0
    "softmax": Link("softmax", _softmax_link, _softmax_inv, _softmax_inv_pt),
}


def get_link(name: str) -> Link:
    """Return the link called ``name``; an unknown name suggests the nearest known one."""
    if isinstance(name, Link):
        return name
    try:
        return LINKS[name]
    except (KeyError, TypeError):
        raise FamilyError(did_you_mean(str(name), LINKS, "link")) from None
