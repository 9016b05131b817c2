"""Row likelihoods of the fast path: a family's log-density as a sum over rows, with the
gradient in its parent parameter and its auxiliary parameters, for any link it offers.

Each `RowFamily` is registered under its family's name (`register_row_family`) and computes
the PyMC distribution ``likelihood`` exactly (normalising constants included), from the parent
parameter ``mu`` (the link's inverse of the linear predictor, one value per row) and the
auxiliary parameters (scalars, in the family's order):

* ``prepare(y, trials, weight) -> data`` runs once per model on the (possibly merged) rows:
  ``weight`` counts the rows merged into each (None when none were), and what depends on the
  response alone is computed here (logarithms, sums over distinct responses);
* ``loglik(mu, data, aux) -> (lp, dlp/dmu, {name: dlp/daux})``, ``lp`` summed over the rows
  (weights applied), ``dlp/dmu`` one value per row.

``sums=True`` marks a likelihood that depends on the responses only through their sums over
rows with the same linear predictor (binomial successes and trials, Poisson counts): rows merge
by covariate pattern alone, ``y`` and ``trials`` arriving summed, and ``constant(y, trials)``
gives what the merge leaves out (``constant(y, trials, w)`` with each row's times its weight
``w``, for ``weighted()`` responses). Other families merge rows only where the response is
equal too.

``mu_support`` is where the parent parameter is valid ("real", "positive" or "unit"); a link
that takes it outside gives a log-density of -inf, as PyMC's parameter checks do.

A family is admitted here only once `bayesformula.testing.check_density` proves its log-density
and gradient equal to the PyMC graph's over generated models (``tests/density``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, gammaln, i0e, i1e, xlogy

from bayesformula.density.likelihoods import (
    binomial_constant,
    fast_likelihood,
    poisson_constant,
    zero_constant,
)
from bayesformula.density.links import LINK_INVERSES, link_inverse
from bayesformula.density.priors import Unsupported

__all__ = [
    "ROW_FAMILIES",
    "FusedLoop",
    "RowFamily",
    "RowLikelihood",
    "claimed_likelihood",
    "register_row_family",
    "row_likelihood",
]

_LOG_2PI = math.log(2 * math.pi)


@dataclass(frozen=True)
class RowFamily:
    """One family on the fast path as a sum over rows (see the module docstring)."""

    family: str
    likelihood: str
    aux: tuple[str, ...]
    prepare: Callable[[np.ndarray, np.ndarray | None, np.ndarray | None], dict]
    loglik: Callable[[np.ndarray, dict, dict], tuple[float, np.ndarray, dict]]
    mu_support: str = "real"
    sums: bool = False
    constant: Callable[[np.ndarray, np.ndarray | None], float] | None = None
    #: the family's own graph log-density (``Family.logp``) this computes, None for the PyMC
    #: distribution's
    graph_logp: Callable | None = None
    #: auxiliary parameters ``loglik`` also takes as one value per row (a formula for them),
    #: returning their derivatives per row then
    row_aux: tuple[str, ...] = ()
    #: for a family whose link enters the likelihood rather than its parent (the ordinal
    #: families' CDF of thresholds minus the linear predictor): ``(family, link) -> RowFamily``
    #: for that link, or None; the parent is then the linear predictor itself
    for_family: Callable | None = None
    #: ``loglik`` in a compiled row loop (same signature), used from
    #: `bayesformula.density.build.KERNEL_MIN_ROWS` rows on
    compiled: Callable | None = None
    #: ``link name -> FusedLoop`` where the whole row (linear predictor, link, likelihood and
    #: gradient) runs in a compiled loop (`bayesformula.density.kernels.RowLoop`) with that
    #: link, else None; used in place of ``compiled`` when no auxiliary parameter has a formula
    fused: Callable[[str], FusedLoop | None] | None = None


@dataclass(frozen=True)
class FusedLoop:
    """A family's whole rows in `bayesformula.density.kernels.RowLoop` (see
    `RowFamily.fused`)."""

    #: the loop's family code (`bayesformula.density.kernels.BETA_LOGIT`)
    code: int
    #: ``data -> (ysum, yaux)``: the loop's per-row response arrays from ``prepare``'s data
    arrays: Callable[[dict], tuple[np.ndarray, np.ndarray | None]]
    #: ``(data, aux) -> (lp, dlp/daux)``: the terms in the (single) auxiliary parameter that the
    #: loop leaves out
    outside: Callable[[dict, float], tuple[float, float]]


#: family name -> `RowFamily`
ROW_FAMILIES: dict[str, RowFamily] = {}


def register_row_family(entry: RowFamily) -> RowFamily:
    """Put ``entry`` on the fast path for its family's name (every link the family offers)."""
    ROW_FAMILIES[entry.family] = entry
    return entry


@dataclass(frozen=True)
class RowLikelihood:
    """A `RowFamily` with the model's link: what `build_density` evaluates."""

    kind = "rows"
    entry: RowFamily
    linkinv: Callable

    def in_support(self, mu: np.ndarray) -> bool:
        support = self.entry.mu_support
        if support == "positive":
            return bool(np.all(mu > 0))
        if support == "unit":
            return bool(np.all((mu > 0) & (mu < 1)))
        return bool(np.all(np.isfinite(mu)))


def row_likelihood(family, link) -> RowLikelihood | None:
    """The row likelihood of ``family`` with ``link``, or None where the fast path has none
    (also for a family whose PyMC likelihood or log-density is not the registered one)."""
    entry = ROW_FAMILIES.get(family.name)
    if (
        entry is None
        or entry.likelihood != family.likelihood
        or family.logp is not entry.graph_logp
    ):
        return None
    if link.name not in family.link_names:
        return None
    if entry.for_family is not None:
        entry = entry.for_family(family, link)
        return None if entry is None else RowLikelihood(entry, LINK_INVERSES["identity"])
    linkinv = link_inverse(link)
    if linkinv is None:
        return None
    return RowLikelihood(entry, linkinv)


def claimed_likelihood(family, link, *, per_row: bool = False):
    """The fast path's likelihood of ``family`` with ``link`` (a `FastLikelihood` or a
    `RowLikelihood`; the latter where auxiliary parameters vary per row, ``per_row``), or
    `Unsupported`."""
    if family.per_category:
        raise Unsupported(
            f"family '{family.name}': its coefficients are per category, which the fast path "
            "does not compute"
        )
    lik = None if per_row else fast_likelihood(family, link)
    lik = lik or row_likelihood(family, link)
    if lik is None:
        raise Unsupported(f"family '{family.name}' with link '{link.name}'")
    return lik


# ------------------------------------------------------------------ helpers
def wsum(values, w) -> float:
    """``sum(values)``, each row counted ``w`` times (None: once)."""
    return float(np.sum(values)) if w is None else float(values @ w)


def weighted(values, w):
    """Per-row values times their weights (None: unchanged)."""
    return values if w is None else values * w


def rows_of(y, trials, w) -> dict:
    """The plain data: responses, trials and weights with the weights' total."""
    total = float(y.shape[0]) if w is None else float(np.sum(w))
    return {"y": y, "trials": trials, "w": w, "n": total}


# ------------------------------------------------------------------ real responses
def _normal(mu, d, aux):
    sigma = aux["sigma"]
    w = d["w"]
    r = (d["y"] - mu) / sigma
    if np.ndim(sigma):  # one sigma per row (a formula for sigma)
        r2 = r * r
        lp = -0.5 * d["n"] * _LOG_2PI - wsum(np.log(sigma) + 0.5 * r2, w)
        return lp, weighted(r / sigma, w), {"sigma": weighted((r2 - 1.0) / sigma, w)}
    r2 = wsum(r * r, w)
    lp = -d["n"] * (0.5 * _LOG_2PI + math.log(sigma)) - 0.5 * r2
    return lp, weighted(r / sigma, w), {"sigma": (r2 - d["n"]) / sigma}


def _student_t_rows(mu, d, aux):
    """The Student t with sigma or nu per row (a formula for either)."""
    w = d["w"]
    sigma, nu = np.broadcast_arrays(aux["sigma"], aux["nu"], mu)[:2]
    r = (d["y"] - mu) / sigma
    q = r * r / nu
    log1p_q = np.log1p(q)
    share = q / (1.0 + q)
    const = gammaln(0.5 * (nu + 1)) - gammaln(0.5 * nu) - 0.5 * np.log(nu * math.pi)
    lp = wsum(const - np.log(sigma) - 0.5 * (nu + 1) * log1p_q, w)
    dmu = weighted((nu + 1) * r / (sigma * nu * (1.0 + q)), w)
    dsigma = weighted((-1.0 + (nu + 1) * share) / sigma, w)
    dnu = weighted(
        0.5 * (digamma(0.5 * (nu + 1)) - digamma(0.5 * nu) - 1.0 / nu)
        - 0.5 * log1p_q
        + 0.5 * (nu + 1) * share / nu,
        w,
    )
    return lp, dmu, {"sigma": _reduce(aux["sigma"], dsigma), "nu": _reduce(aux["nu"], dnu)}


def _reduce(value, per_row):
    """A derivative per row for a parameter per row, summed for a scalar one."""
    return per_row if np.ndim(value) else float(np.sum(per_row))


def _student_t(mu, d, aux):
    sigma, nu = aux["sigma"], aux["nu"]
    if np.ndim(sigma) or np.ndim(nu):
        return _student_t_rows(mu, d, aux)
    w, n = d["w"], d["n"]
    # in place where an array is new, so that a gradient makes few passes over the rows
    r = d["y"] - mu
    r *= 1.0 / sigma
    q = r * r
    q *= 1.0 / nu
    sum_log1p = wsum(np.log1p(q), w)
    q += 1.0
    inv = np.reciprocal(q, out=q)  # 1 / (1 + q); q / (1 + q) = 1 - inv
    sum_share = n - wsum(inv, w)
    const = (
        gammaln(0.5 * (nu + 1)) - gammaln(0.5 * nu) - 0.5 * math.log(nu * math.pi) - math.log(sigma)
    )
    lp = n * const - 0.5 * (nu + 1) * sum_log1p
    r *= inv
    r *= (nu + 1) / (sigma * nu)
    dmu = weighted(r, w)
    dsigma = -n / sigma + (nu + 1) * sum_share / sigma
    dnu = (
        n * 0.5 * (digamma(0.5 * (nu + 1)) - digamma(0.5 * nu) - 1.0 / nu)
        - 0.5 * sum_log1p
        + 0.5 * (nu + 1) * sum_share / nu
    )
    return lp, dmu, {"sigma": dsigma, "nu": float(dnu)}


def _laplace(mu, d, aux):
    b = aux["b"]
    w = d["w"]
    r = d["y"] - mu
    if np.ndim(b):  # one scale per row
        absr = np.abs(r)
        lp = -wsum(np.log(2 * b) + absr / b, w)
        return lp, weighted(np.sign(r) / b, w), {"b": weighted((absr / b - 1.0) / b, w)}
    absr = wsum(np.abs(r), w)
    lp = -d["n"] * math.log(2 * b) - absr / b
    return lp, weighted(np.sign(r) / b, w), {"b": -d["n"] / b + absr / (b * b)}


def _lognormal_prepare(y, trials, w):
    d = rows_of(np.log(y), trials, w)
    d["sum_log_y"] = wsum(d["y"], w)
    return d


def _lognormal(mu, d, aux):
    lp, dmu, daux = _normal(mu, d, aux)
    return lp - d["sum_log_y"], dmu, daux


def _vonmises(mu, d, aux):
    kappa = aux["kappa"]
    w = d["w"]
    diff = d["y"] - mu
    cos_sum = wsum(np.cos(diff), w)
    lp = kappa * cos_sum - d["n"] * (_LOG_2PI + math.log(i0e(kappa)) + kappa)
    dkappa = cos_sum - d["n"] * i1e(kappa) / i0e(kappa)
    return lp, weighted(kappa * np.sin(diff), w), {"kappa": float(dkappa)}


# ------------------------------------------------------------------ positive responses
def _positive_prepare(y, trials, w):
    d = rows_of(y, trials, w)
    d["log_y"] = np.log(y)
    return d


def _gamma(mu, d, aux):
    alpha = aux["alpha"]
    w, y = d["w"], d["y"]
    log_mu = np.log(mu)
    ratio = y / mu
    s_log_mu, s_ratio, s_log_y = wsum(log_mu, w), wsum(ratio, w), wsum(d["log_y"], w)
    lp = (
        d["n"] * (alpha * math.log(alpha) - gammaln(alpha))
        - alpha * s_log_mu
        + (alpha - 1) * s_log_y
        - alpha * s_ratio
    )
    dmu = weighted(alpha * (ratio - 1.0) / mu, w)
    dalpha = d["n"] * (math.log(alpha) + 1.0 - digamma(alpha)) - s_log_mu + s_log_y - s_ratio
    return lp, dmu, {"alpha": float(dalpha)}


def _exponential(mu, d, aux):
    w, y = d["w"], d["y"]
    ratio = y / mu
    lp = -wsum(np.log(mu), w) - wsum(ratio, w)
    return lp, weighted((ratio - 1.0) / mu, w), {}


# ------------------------------------------------------------------ proportions
def _unit_prepare(y, trials, w):
    d = rows_of(y, trials, w)
    d["log_y"] = np.log(y)
    d["log1m_y"] = np.log1p(-y)
    return d


def _beta(mu, d, aux):
    kappa = aux["kappa"]
    w = d["w"]
    a = mu * kappa
    b = (1.0 - mu) * kappa  # as the graph computes it: kappa - a rounds otherwise near mu = 1
    log_y, log1m_y = d["log_y"], d["log1m_y"]
    lp = (
        d["n"] * gammaln(kappa)
        - wsum(gammaln(a) + gammaln(b), w)
        + wsum((a - 1.0) * log_y + (b - 1.0) * log1m_y, w)
    )
    psi_a, psi_b = digamma(a), digamma(b)
    dmu = weighted(kappa * (psi_b - psi_a + log_y - log1m_y), w)
    dkappa = d["n"] * digamma(kappa) + wsum(
        mu * (log_y - psi_a) + (1.0 - mu) * (log1m_y - psi_b), w
    )
    return lp, dmu, {"kappa": float(dkappa)}


def _beta_compiled(mu, d, aux):
    """`_beta` in the compiled row loop."""
    from bayesformula.density.kernels import beta_rows, compiled

    kappa = float(aux["kappa"])
    w = np.zeros(0) if d["w"] is None else np.ascontiguousarray(d["w"], dtype=float)
    dmu = np.empty(mu.size)
    lp, dkappa = compiled(beta_rows)(
        np.ascontiguousarray(mu, dtype=float), d["log_y"], d["log1m_y"], w, kappa, dmu
    )
    lp_kappa, dlp_kappa = _beta_kappa_terms(d, kappa)
    return float(lp + lp_kappa), dmu, {"kappa": float(dkappa + dlp_kappa)}


def _beta_kappa_terms(d, kappa):
    """The ``n log Gamma(kappa)`` term the compiled loops leave out, with its derivative."""
    return d["n"] * gammaln(kappa), d["n"] * digamma(kappa)


def _beta_fused(link: str) -> FusedLoop | None:
    """The beta with the logit link in the compiled loop."""
    if link != "logit":
        return None
    from bayesformula.density.kernels import BETA_LOGIT

    return FusedLoop(
        BETA_LOGIT,
        lambda d: (d["log_y"], d["log1m_y"]),
        _beta_kappa_terms,
    )


# ------------------------------------------------------------------ counts
def _count_prepare(y, trials, w):
    """Counts with their sums over distinct values, for terms in ``y`` and a scalar parameter."""
    d = rows_of(y, trials, w)
    values, inverse = np.unique(y, return_inverse=True)
    d["distinct"] = values
    d["distinct_weight"] = np.bincount(
        inverse.reshape(-1), weights=None if w is None else w, minlength=values.size
    ).astype(float)
    d["log_factorial"] = wsum(gammaln(y + 1.0), w)
    d["sum_y"] = wsum(y, w)
    return d


def _negative_binomial(mu, d, aux):
    alpha = aux["alpha"]
    w, y = d["w"], d["y"]
    if alpha > 1e10:  # PyMC's Poisson limit
        lp = wsum(xlogy(y, mu), w) - wsum(mu, w) - d["log_factorial"]
        return lp, weighted(y / mu - 1.0, w), {"alpha": 0.0}
    log_mu_alpha = np.log(mu + alpha)
    k, c = d["distinct"], d["distinct_weight"]
    lp = (
        float(c @ gammaln(k + alpha))
        - d["n"] * gammaln(alpha)
        - d["log_factorial"]
        + wsum(xlogy(y, mu), w)
        + d["n"] * alpha * math.log(alpha)
        - wsum((y + alpha) * log_mu_alpha, w)
    )
    share = (y + alpha) / (mu + alpha)
    dmu = weighted(y / mu - share, w)
    dalpha = (
        float(c @ digamma(k + alpha))
        - d["n"] * (digamma(alpha) - math.log(alpha) - 1.0)
        - wsum(log_mu_alpha + share, w)
    )
    return lp, dmu, {"alpha": float(dalpha)}


def _success_sums(log1m):
    """Bernoulli or binomial successes ``y`` of ``trials`` (summed over merged rows) with
    probability ``mu`` from any link, computed as PyMC's graph computes them: ``log(p)`` and
    ``log1m(p)``, the Bernoulli's ``log1p(-p)`` or the Binomial's ``log(1 - p)``. Those lose
    precision where ``p`` rounds to 1 (a probit link beyond 8.3), as the graph's do; the
    logit and cloglog links have likelihoods of their own (`likelihoods.py`)."""

    def loglik(mu, d, aux):
        ysum, trials = d["y"], d["trials"]
        fail = trials - ysum
        log_p = np.log(mu)
        log_q = log1m(mu)
        lp = float(np.sum(np.where(ysum > 0, ysum * log_p, 0.0)))
        lp += float(np.sum(np.where(fail > 0, fail * log_q, 0.0)))
        return lp, ysum / mu - fail / (1.0 - mu), {}

    return loglik


def _poisson_sums(mu, d, aux):
    ysum, count = d["y"], d["trials"]
    lp = float(np.sum(xlogy(ysum, mu))) - float(count @ mu)
    return lp, np.where(ysum > 0, ysum / mu, 0.0) - count, {}


for _entry in (
    RowFamily("gaussian", "Normal", ("sigma",), rows_of, _normal, row_aux=("sigma",)),
    RowFamily("t", "StudentT", ("sigma", "nu"), rows_of, _student_t, row_aux=("sigma", "nu")),
    RowFamily("laplace", "Laplace", ("b",), rows_of, _laplace, row_aux=("b",)),
    RowFamily(
        "lognormal", "LogNormal", ("sigma",), _lognormal_prepare, _lognormal, row_aux=("sigma",)
    ),
    RowFamily("vonmises", "VonMises", ("kappa",), rows_of, _vonmises),
    RowFamily("gamma", "Gamma", ("alpha",), _positive_prepare, _gamma, "positive"),
    RowFamily("exponential", "Exponential", (), rows_of, _exponential, "positive"),
    RowFamily(
        "beta",
        "Beta",
        ("kappa",),
        _unit_prepare,
        _beta,
        "unit",
        compiled=_beta_compiled,
        fused=_beta_fused,
    ),
    RowFamily(
        "negativebinomial",
        "NegativeBinomial",
        ("alpha",),
        _count_prepare,
        _negative_binomial,
        "positive",
    ),
    RowFamily("poisson", "Poisson", (), rows_of, _poisson_sums, "positive", True, poisson_constant),
    RowFamily(
        "bernoulli",
        "Bernoulli",
        (),
        rows_of,
        _success_sums(lambda p: np.log1p(-p)),
        "unit",
        True,
        zero_constant,
    ),
    RowFamily(
        "binomial",
        "Binomial",
        (),
        rows_of,
        _success_sums(lambda p: np.log(1.0 - p)),
        "unit",
        True,
        binomial_constant,
    ),
):
    register_row_family(_entry)
