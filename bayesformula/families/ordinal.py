"""Ordinal families: ``cumulative``, ``sratio``, ``cratio`` and ``acat``, as brms defines them.

For K ordered categories, a linear predictor ``eta`` (no intercept) and thresholds
``theta_1, ..., theta_{K-1}``, with ``F`` the inverse of the link (a CDF: logistic for
``logit``, standard normal for ``probit``, ``1 - exp(-exp(x))`` for ``cloglog``):

* cumulative: ``P(y <= k) = F(theta_k - eta)``, thresholds ordered;
* sratio (stopping ratio): ``P(y = k | y >= k) = F(theta_k - eta)``;
* cratio (continuation ratio): ``P(y > k | y >= k) = F(eta - theta_k)``;
* acat (adjacent category): ``P(y = k + 1 | y in {k, k + 1}) = F(eta - theta_k)``, so that
  with the logit link ``log P(y = k + 1) / P(y = k) = eta - theta_k``.

Category probabilities are computed as log-probabilities from log-CDFs that stay accurate in
both tails, then exponentiated; they are the parent parameter ``p`` (one per observation and
level) of a ``Categorical`` likelihood over the category codes 0..K-1.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from bayesformula.core.prior import Prior
from bayesformula.errors import ResponseError
from bayesformula.families.family import (
    AuxParam,
    Family,
    ResponseData,
    numeric_column,
    register_response_check,
)

__all__ = [
    "KINDS",
    "THRESHOLD_DIM",
    "category_logp",
    "check_ordinal_response",
    "draw_categories",
    "response_categories",
    "empirical_thresholds",
    "ordinal_family",
    "threshold_labels",
]

#: The ordinal families and how their thresholds enter: ``theta - eta`` or ``eta - theta``.
KINDS = {
    "cumulative": "theta-eta",
    "sratio": "theta-eta",
    "cratio": "eta-theta",
    "acat": "eta-theta",
}

#: The thresholds' coordinate dimension (Bambi's name).
THRESHOLD_DIM = "threshold_dim"

#: Width of the default threshold prior on the link scale (that of the default intercept).
THRESHOLD_SD = 2.5

_DESCRIPTIONS = {
    "cumulative": "Cumulative (proportional odds) model for ordered categories: "
    "P(y <= k) = F(threshold_k - eta).",
    "sratio": "Stopping-ratio model for ordered categories: "
    "P(y = k | y >= k) = F(threshold_k - eta).",
    "cratio": "Continuation-ratio model for ordered categories: "
    "P(y > k | y >= k) = F(eta - threshold_k).",
    "acat": "Adjacent-category model for ordered categories: "
    "P(y = k+1 | y in {k, k+1}) = F(eta - threshold_k).",
}


# ------------------------------------------------------------------------------ log-CDFs
def _log_cdfs(link, x):
    """``(log F(x), log(1 - F(x)))`` for the inverse link ``F``, on PyTensor tensors."""
    import pytensor.tensor as pt

    name = link.name
    if name == "logit":
        return -pt.softplus(-x), -pt.softplus(x)
    if name == "probit":
        return _log_ndtr(x), _log_ndtr(-x)
    if name == "cloglog":  # F(40) is 1 in float64; the cap keeps the gradient finite
        return pt.log(-pt.expm1(-pt.exp(pt.minimum(x, _F(40.0))))), -pt.exp(x)
    cdf = link.linkinv_pt(x)  # a user's link: direct, less accurate in the tails
    return pt.log(cdf), pt.log1p(-cdf)


def _F(value: float) -> np.float64:
    """A float64 constant (PyTensor makes float32 constants of Python floats that float32
    represents exactly, and float32 arithmetic, e.g. ``pt.sqrt(2.0)``, of them)."""
    return np.float64(value)


_SQRT2 = _F(np.sqrt(2.0))


_HALF_LOG_2PI = _F(0.5 * np.log(2 * np.pi))


def _log_ndtr(x):
    """``log Phi(x)`` to float64 precision in both tails, from ``erfc`` alone, which every
    PyTensor backend has (JAX lacks ``erfcx`` without tensorflow-probability). PyMC's
    ``normal_lcdf`` computes ``sqrt(2)`` in float32, a relative error up to 4e-7.

    * ``x >= -1``: ``log1p(-erfc(x / sqrt 2) / 2)``;
    * ``-20 <= x < -1``: ``log(erfc(-x / sqrt 2) / 2)`` (``erfc`` is accurate there);
    * ``x < -20``: the asymptotic series ``Phi(x) = phi(x) / |x| (1 - 1/x^2 + 3/x^4 -
      15/x^6 + 105/x^8 - ...)``, truncated where its next term is below 1e-10.

    Each branch sees only arguments in its own range, so none overflows and gradients stay
    finite.
    """
    import pytensor.tensor as pt

    far = pt.minimum(x, _F(-20.0))
    mid = pt.clip(x, _F(-20.0), _F(-1.0))
    near = pt.maximum(x, _F(-1.0))
    r = _F(1.0) / (far * far)
    series = _F(1.0) + r * (_F(-1.0) + r * (_F(3.0) + r * (_F(-15.0) + r * _F(105.0))))
    tail = _F(-0.5) * far * far - pt.log(-far) - _HALF_LOG_2PI + pt.log(series)
    return pt.switch(
        x < _F(-20.0),
        tail,
        pt.switch(
            x < _F(-1.0),
            pt.log(_F(0.5) * pt.erfc(-mid / _SQRT2)),
            pt.log1p(_F(-0.5) * pt.erfc(near / _SQRT2)),
        ),
    )


def _log_diff(upper, lower):
    """``log(exp(upper) - exp(lower))`` for ``upper >= lower``."""
    import pymc as pm

    return upper + pm.math.log1mexp(lower - upper)


def _exclusive_cumsum(x):
    """Sums over the earlier thresholds: ``[0, x_1, x_1 + x_2, ..., sum(x)]`` (last axis).

    Written without a zeros block: its shape would be computed at run time, which JAX's
    samplers (numpyro, blackjax) cannot trace."""
    import pytensor.tensor as pt

    total = pt.cumsum(x, axis=-1)
    return pt.concatenate([total - x, total[..., -1:]], axis=-1)


def category_logp(kind: str, eta, thresholds, link):
    """Log-probability of each category, shape ``eta.shape + (K,)`` (PyTensor).

    Parameters
    ----------
    kind : {"cumulative", "sratio", "cratio", "acat"}
    eta : TensorVariable
        Linear predictor, one value per observation.
    thresholds : TensorVariable
        The K - 1 thresholds (last axis).
    link : Link
        Link whose inverse is the CDF ``F``.
    """
    import pytensor.tensor as pt

    eta = pt.shape_padright(eta)
    z = thresholds - eta if KINDS[kind] == "theta-eta" else eta - thresholds
    log_f, log_s = _log_cdfs(link, z)
    if kind == "cumulative":
        # P(k) = F(z_k) - F(z_{k-1}); where F(z_{k-1}) > 1/2 the complements subtract
        # without cancellation: P(k) = S(z_{k-1}) - S(z_k)
        middle = pt.switch(
            z[..., :-1] > 0,
            _log_diff(log_s[..., :-1], log_s[..., 1:]),
            _log_diff(log_f[..., 1:], log_f[..., :-1]),
        )
        return pt.concatenate([log_f[..., :1], middle, log_s[..., -1:]], axis=-1)
    if kind == "sratio":  # stop at k with F(z_k) after passing 1..k-1, each with 1 - F
        passed = _exclusive_cumsum(log_s)
        return pt.concatenate([log_f + passed[..., :-1], passed[..., -1:]], axis=-1)
    if kind == "cratio":  # continue past 1..k-1 with F each, stop at k with 1 - F(z_k)
        passed = _exclusive_cumsum(log_f)
        return pt.concatenate([log_s + passed[..., :-1], passed[..., -1:]], axis=-1)
    if kind == "acat":  # P(k) proportional to prod_{j<k} q_j prod_{j>=k} (1 - q_j)
        above = _exclusive_cumsum(log_f)
        below = pt.sum(log_s, axis=-1, keepdims=True) - _exclusive_cumsum(log_s)
        unnormalised = above + below
        return unnormalised - pt.logsumexp(unnormalised, axis=-1, keepdims=True)
    raise ValueError(f"unknown ordinal family {kind!r}")


def _category_probabilities(kind: str, eta, aux: dict, link):
    """The parent ``p`` of an ordinal family: each category's probability (PyTensor)."""
    import pytensor.tensor as pt

    return pt.exp(category_logp(kind, eta, aux["threshold"], link))


def _parent_fn(kind: str):
    """``parent_fn(eta, aux, link)`` of the ordinal family ``kind``."""
    return partial(_category_probabilities, kind)


# ------------------------------------------------------------------------------ response
def _label(value) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value.item() if hasattr(value, "item") else value)


def threshold_labels(levels) -> list[str]:
    """Names of the boundaries between adjacent levels: ``["low|mid", "mid|high"]``."""
    return [f"{a}|{b}" for a, b in zip(levels[:-1], levels[1:], strict=True)]


def response_categories(
    family: Family, response, index: pd.Index, what: str = "ordered categories"
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Codes 0..K-1 and the levels of a response of categories (``what`` names them in errors).

    Levels are a pandas Categorical's categories in their order (ordered or not, as R's
    factors), otherwise the sorted distinct values (whole numbers, strings or booleans).
    Categories without rows are dropped.
    """
    name, fam = response.expr, f"family '{family.name}'"
    if response.kind == "proportion":
        raise ResponseError(
            f"the response {name} gives successes and trials; {fam} needs one column of {what} "
            "(a pandas Categorical, whole numbers or strings)."
        )
    if response.kind == "categoric":
        matrix = np.asarray(response.values)
        levels = tuple(str(v) for v in response.levels)
        codes = matrix.argmax(axis=1)
    else:
        y = numeric_column(
            response, fam, what, "Use a pandas Categorical, whole numbers or strings."
        )
        bad = ~np.isfinite(y) | (y != np.round(y))
        if bad.any():
            where = np.flatnonzero(bad)
            shown = ", ".join(f"row {index[i]!r}: {float(y[i])!r}" for i in where[:5])
            raise ResponseError(
                f"{fam} needs {what}, but '{name}' has {len(where)} value(s) that "
                f"are not whole numbers ({shown}). Cut a continuous variable into "
                "categories first, e.g. pd.cut(df['y'], bins=[...], labels=[...]), or choose "
                "a family for continuous responses."
            )
        values, codes = np.unique(y, return_inverse=True)
        levels = tuple(_label(v) for v in values)
    used = np.bincount(codes, minlength=len(levels)) > 0
    if not used.all():  # keep only levels with rows, renumbered
        remap = np.cumsum(used) - 1
        codes = remap[codes]
        levels = tuple(lv for lv, u in zip(levels, used, strict=True) if u)
    if len(levels) < 2:
        shown = repr(levels[0]) if levels else "none"
        raise ResponseError(
            f"{fam} needs at least two response categories; '{name}' has one ({shown}) in all "
            f"{len(codes)} rows. The model needs rows in two or more levels."
        )
    return np.asarray(codes, dtype=np.int64), levels


@register_response_check("ordinal")
def check_ordinal_response(family: Family, response, index: pd.Index) -> ResponseData:
    """Codes 0..K-1 and the ordered levels of an ordinal response (see
    `response_categories`)."""
    codes, levels = response_categories(family, response, index)
    level_dim = f"{response.name}_dim"
    return ResponseData(
        values=np.asarray(codes, dtype=np.int64),
        note=f"ordered categories {' < '.join(levels)} (K = {len(levels)})",
        levels=levels,
        level_dim=level_dim,
        coords={level_dim: list(levels), THRESHOLD_DIM: threshold_labels(levels)},
    )


# ------------------------------------------------------------------------------ priors
def empirical_thresholds(kind: str, counts: np.ndarray, link) -> np.ndarray:
    """Thresholds that reproduce the observed category shares at ``eta = 0``.

    With centred predictors ``eta = 0`` is a typical observation, so these are the natural
    centre of the thresholds' prior. Every count must be positive.
    """
    counts = np.asarray(counts, dtype=float)
    n = counts.sum()
    at_least = n - np.concatenate([[0.0], np.cumsum(counts)[:-1]])  # n(y >= k)
    with np.errstate(all="ignore"):
        if kind == "cumulative":  # P(y <= k) = F(theta_k)
            return np.asarray(link.link(np.cumsum(counts)[:-1] / n), dtype=float)
        if kind == "sratio":  # P(y = k | y >= k) = F(theta_k)
            return np.asarray(link.link(counts[:-1] / at_least[:-1]), dtype=float)
        if kind == "cratio":  # P(y > k | y >= k) = F(-theta_k)
            share = (at_least[:-1] - counts[:-1]) / at_least[:-1]
            return -np.asarray(link.link(share), dtype=float)
        if kind == "acat":  # P(y = k + 1 | y in {k, k + 1}) = F(-theta_k)
            share = counts[1:] / (counts[:-1] + counts[1:])
            return -np.asarray(link.link(share), dtype=float)
    raise ValueError(f"unknown ordinal family {kind!r}")


def _data_threshold_prior(kind: str, response: ResponseData, link) -> Prior:
    """The thresholds' data-scaled prior: centred on the `empirical_thresholds`."""
    counts = np.bincount(response.values, minlength=len(response.levels))
    mu = empirical_thresholds(kind, counts, link)
    if not np.all(np.isfinite(mu)):  # a user link that cannot invert the shares
        mu = np.zeros(len(counts) - 1)
    return Prior("Normal", mu=np.round(mu, 4), sigma=THRESHOLD_SD)


def _threshold_prior(kind: str):
    """``data_prior(response, link)`` of the thresholds of the ordinal family ``kind``."""
    return partial(_data_threshold_prior, kind)


def _unscaled_prior(_: float) -> Prior:
    return Prior("Normal", mu=0, sigma=THRESHOLD_SD)


# ------------------------------------------------------------------------------ draws
def draw_categories(rng, p) -> np.ndarray:
    """One category code per row of probabilities ``p`` (last axis: levels)."""
    p = np.asarray(p, dtype=float)
    cumulative = np.cumsum(p, axis=-1)
    u = rng.random(p.shape[:-1]) * cumulative[..., -1]
    codes = (cumulative < u[..., None]).sum(axis=-1)
    return np.minimum(codes, p.shape[-1] - 1)


def _to_dist(d: dict[str, Any]) -> dict[str, Any]:
    return {"p": d["p"]}


def ordinal_family(kind: str) -> Family:
    """The ``Family`` of one ordinal model (see the module docstring)."""
    ordered = kind == "cumulative"
    what = "ordered cut-points" if ordered else "cut-points"
    threshold = AuxParam(
        "threshold",
        _unscaled_prior,
        support="real",
        description=f"{what} between adjacent levels, on the link scale",
        dim=THRESHOLD_DIM,
        ordered=ordered,
        data_prior=_threshold_prior(kind),
        replaces_intercept=True,
    )

    return Family(
        name=kind,
        likelihood="Categorical",
        parent="p",
        links=("logit", "probit", "cloglog"),
        support="ordinal",
        to_dist=_to_dist,
        draw=draw_categories,
        aux=(threshold,),
        description=_DESCRIPTIONS[kind],
        parent_fn=_parent_fn(kind),
        intercept=False,
    )
