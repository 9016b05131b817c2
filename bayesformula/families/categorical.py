"""Families of unordered categories: ``categorical``, ``multinomial``, ``dirichlet_multinomial``.

For K categories the first is the reference: every term has one coefficient per other
category (dimension ``{response}_reduced_dim``), so the linear predictor ``eta`` holds
``K - 1`` log-ratios per observation and the softmax link gives the probabilities

    p_1 = 1 / (1 + sum_j exp(eta_j)),    p_k = exp(eta_k) / (1 + sum_j exp(eta_j)).

* ``categorical``: one category per row (strings, a pandas Categorical or whole numbers);
  ``y ~ Categorical(p)``, as multinomial logistic regression (statsmodels' ``MNLogit``).
* ``multinomial``: counts per category, written ``c(y1, ..., yK) ~ ...``; each row's total is
  its number of trials; ``y ~ Multinomial(total, p)``.
* ``dirichlet_multinomial``: the same counts with overdispersion, brms' parameterisation:
  ``y ~ DirichletMultinomial(total, a = phi * p)``, with mean ``total * p`` and a precision
  ``phi`` (large phi: multinomial; the variance of each count is the multinomial one times
  ``(total + phi) / (1 + phi)``). With two categories it is the beta-binomial with
  ``kappa = phi``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from bayesformula.core.prior import Prior
from bayesformula.errors import ResponseError
from bayesformula.families.family import AuxParam, Family, ResponseData, register_response_check
from bayesformula.families.ordinal import draw_categories, response_categories

__all__ = [
    "categorical_families",
    "check_category_response",
    "beta_binomial_logp",
    "check_count_vectors",
    "dirichlet_multinomial_logp",
    "lgamma_diff",
    "reduced_dim",
]


def reduced_dim(response_name: str) -> str:
    """The dimension of per-category coefficients: every category but the reference."""
    return f"{response_name}_reduced_dim"


def _response_data(name: str, values, levels, note: str, trials=None) -> ResponseData:
    level_dim, category_dim = f"{name}_dim", reduced_dim(name)
    return ResponseData(
        values=values,
        trials=trials,
        note=note,
        levels=tuple(levels),
        level_dim=level_dim,
        category_dim=category_dim,
        coords={level_dim: list(levels), category_dim: list(levels[1:])},
    )


@register_response_check("categorical")
def check_category_response(family: Family, response, index: pd.Index) -> ResponseData:
    """Codes 0..K-1 of a categorical response; the first level is the reference."""
    codes, levels = response_categories(family, response, index, what="categories")
    note = (
        f"categories {', '.join(levels)} (K = {len(levels)}); coefficients compare each with "
        f"the reference '{levels[0]}'"
    )
    return _response_data(response.name, codes, levels, note)


@register_response_check("multinomial")
def check_count_vectors(family: Family, response, index: pd.Index) -> ResponseData:
    """Counts per category from ``c(y1, ..., yK)``; each row's total is its trials."""
    fam, name = f"family '{family.name}'", response.expr
    if response.kind != "columns":
        raise ResponseError(
            f"{fam} needs counts per category bound with c(): write the response as "
            f"c(y1, y2, ..., yK) ~ ..., one column per category (got '{name}'). For one "
            "category per row use family='categorical'."
        )
    y = np.asarray(response.values)
    levels = tuple(response.levels)
    if y.shape[1] != len(levels) or len(levels) < 2:
        raise ResponseError(
            f"{fam} needs at least two count columns in c(...); '{name}' gives {y.shape[1]}."
        )
    if y.dtype == bool or not np.issubdtype(y.dtype, np.number):
        raise ResponseError(
            f"{fam} needs numeric counts in {name}; got dtype {y.dtype}. Convert the columns "
            "with pandas.to_numeric."
        )
    y = y.astype(float)
    bad = ~np.isfinite(y) | (y < 0) | (y != np.round(y))
    if bad.any():
        rows, cols = np.nonzero(bad)
        shown = ", ".join(
            f"row {index[r]!r} column '{levels[c]}': {float(y[r, c])!r}"
            for r, c in zip(rows[:5], cols[:5], strict=True)
        )
        more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
        raise ResponseError(
            f"the counts in {name} must be non-negative whole numbers; found {len(rows)} "
            f"value(s) ({shown}{more})."
        )
    totals = y.sum(axis=1)
    note = (
        f"counts of {', '.join(levels)} (K = {len(levels)}), totals {int(totals.min())} to "
        f"{int(totals.max())}; coefficients compare each category with the reference "
        f"'{levels[0]}'"
    )
    return _response_data(
        response.name, y.astype(np.int64), levels, note, trials=totals.astype(np.int64)
    )


# ------------------------------------------------------------------------------ draws
def _multinomial_draw(rng, n, p):
    """One count vector per row of probabilities ``p`` (last axis), with totals ``n``."""
    p = np.asarray(p, dtype=float)
    n = np.broadcast_to(np.asarray(n, dtype=np.int64), p.shape[:-1])
    p = p / p.sum(axis=-1, keepdims=True)
    return rng.multinomial(n, p)


def _dirichlet_multinomial_draw(rng, n, a):
    """Counts with category probabilities drawn per row from ``Dirichlet(a)``."""
    a = np.asarray(a, dtype=float)
    gammas = rng.standard_gamma(np.maximum(a, np.finfo(float).tiny))
    total = gammas.sum(axis=-1, keepdims=True)
    # with tiny a every gamma draw can underflow to 0: such a row goes to its largest a
    fallback = (a == a.max(axis=-1, keepdims=True)).astype(float)
    p = np.where(total > 0, gammas / np.where(total > 0, total, 1.0), fallback)
    return _multinomial_draw(rng, n, p)


#: Below this, ``gammaln(x + y) - gammaln(x)`` is computed directly; above it, from Stirling's
#: series, whose first omitted term is below 3e-14 there.
STIRLING_FROM = 30.0


def _stirling_tail(z):
    """``log Gamma(z)`` minus its leading Stirling terms: 1/(12z) - 1/(360z^3) + 1/(1260z^5)."""
    r = 1.0 / z
    r2 = r * r
    return r * (np.float64(1 / 12) + r2 * (np.float64(-1 / 360) + r2 * np.float64(1 / 1260)))


def lgamma_diff(x, y):
    """``log Gamma(x + y) - log Gamma(x)`` for ``x > 0, y >= 0`` (PyTensor), accurate for large
    ``x``: the direct difference loses all digits once ``log Gamma(x)`` dwarfs it (at x = 1e15
    both terms are about 3e16), while the Stirling form

        (x + y - 1/2) log1p(y/x) + y log x - y + tail(x + y) - tail(x)

    has no such cancellation and is exactly 0 at y = 0. Both branches see clamped arguments,
    so neither overflows and the gradient stays finite."""
    import pytensor.tensor as pt

    cut = np.float64(STIRLING_FROM)
    small = pt.minimum(x, cut)
    big = pt.maximum(x, cut)
    direct = pt.gammaln(small + y) - pt.gammaln(small)
    stirling = (
        (big + y - np.float64(0.5)) * pt.log1p(y / big)
        + y * pt.log(big)
        - y
        + _stirling_tail(big + y)
        - _stirling_tail(big)
    )
    return pt.switch(x < cut, direct, stirling)


def dirichlet_multinomial_logp(value, n, a):
    """Log-probability of counts ``value`` (last axis: categories) with totals ``n`` under
    ``DirichletMultinomial(n, a)``, accurate for any concentration (see `lgamma_diff`):

        log n! - sum_k log y_k! + sum_k lgamma_diff(a_k, y_k) - lgamma_diff(sum(a), n).
    """
    import pytensor.tensor as pt

    value = pt.as_tensor_variable(value)
    counts = pt.cast(value, "float64")
    total = pt.cast(n, "float64")
    return (
        pt.gammaln(total + 1)
        - pt.gammaln(counts + 1).sum(axis=-1)
        + lgamma_diff(a, counts).sum(axis=-1)
        - lgamma_diff(a.sum(axis=-1), total)
    )


def beta_binomial_logp(value, n, alpha, beta):
    """Log-probability of ``value`` successes out of ``n`` under ``BetaBinomial(n, alpha,
    beta)``, the two-category dirichlet-multinomial, accurate for any precision (see
    `lgamma_diff`)."""
    import pytensor.tensor as pt

    y = pt.cast(value, "float64")
    total = pt.cast(n, "float64")
    return (
        pt.gammaln(total + 1)
        - pt.gammaln(y + 1)
        - pt.gammaln(total - y + 1)
        + lgamma_diff(alpha, y)
        + lgamma_diff(beta, total - y)
        - lgamma_diff(alpha + beta, total)
    )


def _phi(_: float) -> Prior:
    # mean 100; P(phi < 1) = 1 %. Beyond phi ~ 1000 the counts of typical totals are
    # practically multinomial, and the prior's light tail there keeps the log-density's
    # gamma-function differences accurate (a heavy tail lets phi drift to 1e15, where they
    # cancel to noise and NUTS diverges)
    return Prior("Exponential", lam=0.01)


def _categorical_dist(d: dict[str, Any]) -> dict[str, Any]:
    return {"p": d["p"]}


def _multinomial_dist(d: dict[str, Any]) -> dict[str, Any]:
    return {"n": d["trials"], "p": d["p"]}


def _dirichlet_multinomial_dist(d: dict[str, Any]) -> dict[str, Any]:
    phi = d["phi"]
    if hasattr(phi, "ndim") and phi.ndim >= 1:  # one value per draw or row: over K too
        phi = phi[..., None]
    return {"n": d["trials"], "a": d["p"] * phi}


def categorical_families() -> list[Family]:
    """The ``categorical``, ``multinomial`` and ``dirichlet_multinomial`` families."""
    return [
        Family(
            name="categorical",
            likelihood="Categorical",
            parent="p",
            links=("softmax",),
            support="categorical",
            to_dist=_categorical_dist,
            draw=draw_categories,
            description="Categorical likelihood (multinomial logistic regression) for one of K "
            "unordered categories per row; the first level is the reference.",
        ),
        Family(
            name="multinomial",
            likelihood="Multinomial",
            parent="p",
            links=("softmax",),
            support="multinomial",
            to_dist=_multinomial_dist,
            draw=_multinomial_draw,
            description="Multinomial likelihood for counts per category, written "
            "c(y1, ..., yK); the first column is the reference.",
        ),
        Family(
            name="dirichlet_multinomial",
            likelihood="DirichletMultinomial",
            parent="p",
            links=("softmax",),
            support="multinomial",
            aux=(AuxParam("phi", _phi, description="precision (a = phi * p)"),),
            to_dist=_dirichlet_multinomial_dist,
            draw=_dirichlet_multinomial_draw,
            logp=dirichlet_multinomial_logp,
            description="Dirichlet-multinomial likelihood for overdispersed counts per "
            "category, written c(y1, ..., yK): mean probabilities p, precision phi.",
        ),
    ]
