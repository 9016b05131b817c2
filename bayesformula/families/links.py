"""Link functions, each with a numpy and a PyTensor inverse that tests keep in agreement."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import InitVar, dataclass

import numpy as np
from scipy import special

from bayesformula.errors import FamilyError, did_you_mean
from bayesformula.families.pickling import reduce_by_value

__all__ = ["Link", "LINKS", "get_link"]


@dataclass(frozen=True)
class Link:
    """A link function ``g`` with ``eta = g(param)``.

    ``Link("logit")`` is the registered link of that name (`LINKS`), as in Bambi. For your own
    link give a new name and the numpy pair, ``Link("loglog", link=g, linkinv=g_inv)``, and
    optionally its PyTensor inverse as ``linkinv_pt=`` (Bambi's ``linkinv_backend=``). Without
    one, ``linkinv`` itself is used on PyTensor tensors when it works there (numpy's
    element-wise functions such as ``np.exp`` do) and agrees with its numpy values.

    Parameters
    ----------
    name : str
        Name of the link ("identity", "log", "logit", ...).
    link : callable, optional
        ``g`` on numpy arrays (a registered link's when omitted).
    linkinv : callable, optional
        ``g^-1`` on numpy arrays (a registered link's when omitted).
    linkinv_pt : callable, optional
        ``g^-1`` on PyTensor tensors (used inside the model graph).
    linkinv_backend : callable, optional
        Bambi's name for ``linkinv_pt``.

    Raises
    ------
    FamilyError
        An unknown name without functions, a missing numpy function, or a ``linkinv`` that
        does not work on PyTensor tensors when no PyTensor inverse is given.

    Examples
    --------
    >>> Link("logit") == LINKS["logit"]
    True
    >>> import numpy as np
    >>> loglog = Link("loglog", link=lambda p: -np.log(-np.log(p)),
    ...               linkinv=lambda eta: np.exp(-np.exp(-eta)))
    >>> float(loglog.linkinv(0.0))
    0.36787944117144233
    """

    name: str
    link: Callable[[np.ndarray], np.ndarray] | None = None
    linkinv: Callable[[np.ndarray], np.ndarray] | None = None
    linkinv_pt: Callable | None = None
    linkinv_backend: InitVar[Callable | None] = None

    def __post_init__(self, linkinv_backend: Callable | None) -> None:
        if linkinv_backend is not None:
            if self.linkinv_pt is not None and self.linkinv_pt is not linkinv_backend:
                raise FamilyError(
                    f"Link('{self.name}'): give the PyTensor inverse once, as linkinv_pt= or "
                    "as Bambi's linkinv_backend=."
                )
            object.__setattr__(self, "linkinv_pt", linkinv_backend)
        known = _registered().get(self.name)
        if known is not None:  # a registered name: what is not given is the registry's
            for part in ("link", "linkinv", "linkinv_pt"):
                if getattr(self, part) is None:
                    object.__setattr__(self, part, getattr(known, part))
            return
        if self.link is None and self.linkinv is None and self.linkinv_pt is None:
            raise FamilyError(
                did_you_mean(str(self.name), _registered(), "link")
                + " For a link of your own, give its functions: "
                f"Link('{self.name}', link=g, linkinv=g_inv) with numpy functions."
            )
        missing = [part for part in ("link", "linkinv") if getattr(self, part) is None]
        if missing:
            raise FamilyError(
                f"Link('{self.name}') needs {' and '.join(f'{m}=' for m in missing)}: the link "
                "and its inverse as functions of numpy arrays."
            )
        if not _registered():  # the built-in links, made while this module loads
            return
        _check_inverse(self.name, self.link, self.linkinv)
        if self.linkinv_pt is None:
            object.__setattr__(self, "linkinv_pt", _backend_inverse(self.name, self.linkinv))
        else:
            _check_backend(self.name, self.linkinv, self.linkinv_pt)

    def __reduce__(self) -> tuple:
        # a registered link pickles as its name (and unpickles as the registry's object);
        # any other by value
        if LINKS.get(self.name) is self:
            return (get_link, (self.name,))
        return reduce_by_value(self)


def _registered() -> dict:
    """`LINKS`, or nothing while its own `Link` objects are being made."""
    return globals().get("LINKS", {})


_GRID = np.linspace(-3.0, 3.0, 13)


def _check_inverse(name: str, link: Callable, linkinv: Callable) -> None:
    """``linkinv(link(mu)) == mu`` for the parameter values ``mu = linkinv(eta)`` of a grid of
    ``eta`` (where finite; a link such as sqrt need not be one-to-one in ``eta``): the default
    priors use ``link`` and predictions ``linkinv``; swapped functions would be silently wrong."""
    with np.errstate(all="ignore"):
        try:
            mu = np.broadcast_to(np.asarray(linkinv(_GRID.copy()), dtype=float), _GRID.shape)
            eta = np.broadcast_to(np.asarray(link(mu.copy()), dtype=float), _GRID.shape)
            back = np.broadcast_to(np.asarray(linkinv(eta.copy()), dtype=float), _GRID.shape)
        except Exception as err:  # any failure of user code on numpy arrays
            raise FamilyError(
                f"Link('{name}'): link and linkinv must work on numpy arrays; calling them "
                f"raised {type(err).__name__}: {err}"
            ) from None
    swapped = "were they given the other way round?"
    if np.isnan(mu).any():
        raise FamilyError(
            f"Link('{name}'): linkinv must take any value of the linear predictor, but "
            f"linkinv({_GRID[np.isnan(mu)][0]:g}) is NaN. linkinv maps the linear predictor to "
            f"the parameter (expit for a probability) and link back (logit); {swapped}"
        )
    finite = np.isfinite(back) & np.isfinite(mu)
    wrong = finite & ~np.isclose(back, mu, rtol=1e-6, atol=1e-9)
    if finite.sum() < 2 or wrong.any():
        where = f" (linkinv(link({mu[wrong][0]:g})) = {back[wrong][0]:g})" if wrong.any() else ""
        raise FamilyError(
            f"Link('{name}'): link and linkinv are not each other's inverse{where}. link maps "
            "the parameter to the linear predictor (logit for a probability) and linkinv back "
            f"(expit); {swapped}"
        )


def _check_backend(name: str, linkinv: Callable, linkinv_pt: Callable) -> None:
    """The PyTensor inverse gives linkinv's values on a grid (the graph samples with it,
    predictions use linkinv)."""
    import pytensor
    import pytensor.tensor as pt

    eta = pt.dvector("eta")
    try:
        got = pytensor.function([eta], linkinv_pt(eta), on_unused_input="ignore")(_GRID)
    except Exception as err:  # any failure of user code on a tensor
        raise FamilyError(
            f"Link('{name}'): linkinv_pt (Bambi's linkinv_backend) does not work on a PyTensor "
            f"vector ({type(err).__name__}: {err}); write it with pytensor.tensor functions."
        ) from None
    with np.errstate(all="ignore"):
        expected = np.broadcast_to(np.asarray(linkinv(_GRID.copy()), dtype=float), _GRID.shape)
    if not np.allclose(got, expected, rtol=1e-9, atol=1e-12, equal_nan=True):
        raise FamilyError(
            f"Link('{name}'): linkinv_pt (Bambi's linkinv_backend) and linkinv give different "
            "values; they must be the same function, on tensors and on numpy arrays."
        )


def _backend_inverse(name: str, linkinv: Callable) -> Callable:
    """``linkinv`` as the PyTensor inverse: checked to build a tensor and to agree with its
    numpy values on a grid of ``eta`` (NaN where both are NaN, outside its domain)."""
    import pytensor
    import pytensor.tensor as pt

    advice = (
        f"give Link('{name}', ..., linkinv_pt=f) (Bambi's linkinv_backend=) with f written "
        "with pytensor.tensor functions, e.g. pt.exp or pt.sigmoid."
    )
    eta = pt.dvector("eta")
    try:
        out = linkinv(eta)
    except Exception as err:  # any failure of user code on a tensor
        raise FamilyError(
            f"Link('{name}'): linkinv does not work on PyTensor tensors ({type(err).__name__}: "
            f"{err}); {advice}"
        ) from None
    if not isinstance(out, pytensor.graph.basic.Variable):
        raise FamilyError(
            f"Link('{name}'): linkinv turns a PyTensor tensor into {type(out).__name__}, not a "
            f"tensor; {advice}"
        )
    grid = _GRID
    with np.errstate(all="ignore"):
        expected = np.broadcast_to(np.asarray(linkinv(grid.copy()), dtype=float), grid.shape)
        got = pytensor.function([eta], out, on_unused_input="ignore")(grid)
    if not np.allclose(got, expected, rtol=1e-9, atol=1e-12, equal_nan=True):
        raise FamilyError(
            f"Link('{name}'): linkinv gives other values on PyTensor tensors than on numpy "
            f"arrays (at eta = {grid[~np.isclose(got, expected, equal_nan=True)][0]:g}); {advice}"
        )
    return linkinv


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
