"""Row likelihoods of the fast path for the zero-inflated, hurdle and beta-binomial families.

Registers `RowFamily` entries (see `bayesformula.density.rows`) for zero_inflated_poisson,
zero_inflated_negativebinomial, zero_inflated_binomial, hurdle_poisson,
hurdle_negativebinomial, hurdle_gamma, hurdle_lognormal and beta_binomial, each with its exact
gradient in the parent parameter and the auxiliary ones. Like every row family, each is admitted
only once `bayesformula.testing.check_density` proves it equal to the PyMC graph.

The mixtures split the rows into zeros and the rest once (`_zero_split`): a zero-inflated zero is
``log((1 - psi) + psi * f(0))``, a hurdle zero ``log(1 - psi)``, every other row ``log(psi)``
plus the component's log-density (zero-truncated for the hurdle's counts).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import digamma, gammaln, xlog1py, xlogy

from bayesformula.density.rows import (
    RowFamily,
    register_row_family,
    rows_of,
    weighted,
    wsum,
)
from bayesformula.families.categorical import STIRLING_FROM, _stirling_tail, beta_binomial_logp

__all__: list[str] = []

_LOG_2PI = math.log(2 * math.pi)
#: PyMC's negative binomial turns into its Poisson limit for larger shapes
_NB_POISSON_FROM = 1e10


# ------------------------------------------------------------------ zeros and the rest
def _zero_split(y, trials, w):
    """Rows split into zeros (``iz``) and the rest (``ip``), with their weights and totals."""
    d = rows_of(y, trials, w)
    zero = y == 0
    iz, ip = np.flatnonzero(zero), np.flatnonzero(~zero)
    d["iz"], d["ip"] = iz, ip
    d["wz"] = None if w is None else w[iz]
    d["wp"] = None if w is None else w[ip]
    d["n_zero"] = float(iz.size) if w is None else float(np.sum(d["wz"]))
    d["n_pos"] = d["n"] - d["n_zero"]
    d["yp"] = y[ip]
    return d


def _count_split(y, trials, w):
    """`_zero_split` with the positive counts' log-factorials and distinct values."""
    d = _zero_split(y, trials, w)
    yp, wp = d["yp"], d["wp"]
    values, inverse = np.unique(yp, return_inverse=True)
    d["distinct"] = values
    d["distinct_weight"] = np.bincount(
        inverse.reshape(-1), weights=wp, minlength=values.size
    ).astype(float)
    d["log_factorial"] = wsum(gammaln(yp + 1.0), wp)
    return d


def _trials_split(y, trials, w):
    """`_zero_split` with each part's trials and the positive rows' binomial coefficients."""
    t = np.ones_like(y) if trials is None else trials
    d = _zero_split(y, t, w)
    d["tz"], d["tp"] = t[d["iz"]], t[d["ip"]]
    yp, tp = d["yp"], d["tp"]
    d["log_choose"] = wsum(gammaln(tp + 1.0) - gammaln(yp + 1.0) - gammaln(tp - yp + 1.0), d["wp"])
    return d


def _positive_split(y, trials, w):
    """`_zero_split` with the positive responses' logarithms and their sum."""
    d = _zero_split(y, trials, w)
    d["log_yp"] = np.log(d["yp"])
    d["sum_log_yp"] = wsum(d["log_yp"], d["wp"])
    return d


def _per_row(mu, d, dzero, dpos):
    """Per-row dlp/dmu from the zeros' and the rest's (weights applied)."""
    out = np.zeros_like(mu)
    if dzero is not None:
        out[d["iz"]] = weighted(dzero, d["wz"])
    out[d["ip"]] = weighted(dpos, d["wp"])
    return out


def _inflated_zeros(log_f0, d, psi):
    """Zero-inflated zeros ``log((1 - psi) + psi exp(log_f0))``: their summed log-density, the
    per-row share ``r`` of the component (d/dlog_f0) and the summed dlp/dpsi."""
    log_psi = np.log(psi)
    lz = np.logaddexp(np.log1p(-psi), log_psi + log_f0)
    r = np.exp(log_psi + log_f0 - lz)
    dpsi = wsum(np.expm1(log_f0) * np.exp(-lz), d["wz"])
    return wsum(lz, d["wz"]), r, dpsi


def _hurdle_psi(d, psi):
    """The hurdle's Bernoulli part: log(1 - psi) per zero, log(psi) per other row."""
    lp = d["n_zero"] * np.log1p(-psi) + d["n_pos"] * np.log(psi)
    return float(lp), float(d["n_pos"] / psi - d["n_zero"] / (1.0 - psi))


# ------------------------------------------------------------------ component log-densities
def _poisson_positive(mp, d):
    yp = d["yp"]
    lp = wsum(xlogy(yp, mp) - mp, d["wp"]) - d["log_factorial"]
    return lp, yp / mp - 1.0


def _nb_zero(m, alpha):
    """The negative binomial's log P(0) = alpha log(alpha / (mu + alpha)) with its derivatives
    in mu and alpha."""
    log1p_ratio = np.log1p(m / alpha)
    return -alpha * log1p_ratio, -alpha / (m + alpha), m / (m + alpha) - log1p_ratio


def _nb_positive(mp, alpha, d):
    """The negative binomial's log-density of the positive rows (summed), dlp/dmu per row and
    the summed dlp/dalpha."""
    if alpha > _NB_POISSON_FROM:
        lp, dmu = _poisson_positive(mp, d)
        return lp, dmu, 0.0
    yp, wp = d["yp"], d["wp"]
    k, c = d["distinct"], d["distinct_weight"]
    log1p_ratio = np.log1p(mp / alpha)
    lp = (
        float(c @ gammaln(k + alpha))
        - d["n_pos"] * gammaln(alpha)
        - d["log_factorial"]
        - wsum(yp * np.log1p(alpha / mp) + alpha * log1p_ratio, wp)
    )
    dmu = alpha * (yp - mp) / (mp * (mp + alpha))
    dalpha = (
        float(c @ digamma(k + alpha))
        - d["n_pos"] * digamma(alpha)
        + wsum((mp - yp) / (mp + alpha) - log1p_ratio, wp)
    )
    return lp, dmu, float(dalpha)


# ------------------------------------------------------------------ zero-inflated
def _zero_inflated_poisson(mu, d, aux):
    psi = aux["psi"]
    mz, mp = mu[d["iz"]], mu[d["ip"]]
    lz, r, dpsi = _inflated_zeros(-mz, d, psi)
    lpos, dpos = _poisson_positive(mp, d)
    lp = lz + d["n_pos"] * math.log(psi) + lpos
    return lp, _per_row(mu, d, -r, dpos), {"psi": float(dpsi + d["n_pos"] / psi)}


def _zero_inflated_negative_binomial(mu, d, aux):
    alpha, psi = aux["alpha"], aux["psi"]
    mz, mp = mu[d["iz"]], mu[d["ip"]]
    log_f0, dmu0, dalpha0 = _nb_zero(mz, alpha)
    lz, r, dpsi = _inflated_zeros(log_f0, d, psi)
    lpos, dpos, dalpha = _nb_positive(mp, alpha, d)
    lp = lz + d["n_pos"] * math.log(psi) + lpos
    daux = {
        "alpha": float(dalpha + wsum(r * dalpha0, d["wz"])),
        "psi": float(dpsi + d["n_pos"] / psi),
    }
    return lp, _per_row(mu, d, r * dmu0, dpos), daux


def _zero_inflated_binomial(p, d, aux):
    psi = aux["psi"]
    pz, pp = p[d["iz"]], p[d["ip"]]
    tz, tp, yp = d["tz"], d["tp"], d["yp"]
    # p == 1 (a saturated link) is in PyMC's support: a zero is then an extra zero, a positive
    # count one of n successes; xlog1py gives 0 log 0 = 0 for those
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        lz, r, dpsi = _inflated_zeros(xlog1py(tz, -pz), d, psi)
        # d/dp: -t r / (1 - p), at p == 1 its limit -t psi (1 - p)^(t - 1) / (1 - psi)
        at_one = np.where(tz == 1.0, -psi / (1.0 - psi), 0.0)
        dzero = np.where(pz < 1.0, -r * tz / (1.0 - pz), at_one)
        fail = tp - yp
        lpos = d["log_choose"] + wsum(yp * np.log(pp) + xlog1py(fail, -pp), d["wp"])
        dpos = yp / pp - np.where(fail > 0, fail / (1.0 - pp), 0.0)
    lp = lz + d["n_pos"] * math.log(psi) + lpos
    return lp, _per_row(p, d, dzero, dpos), {"psi": float(dpsi + d["n_pos"] / psi)}


# ------------------------------------------------------------------ hurdles
def _hurdle_poisson(mu, d, aux):
    lp, dpsi = _hurdle_psi(d, aux["psi"])
    mp = mu[d["ip"]]
    lpos, _ = _poisson_positive(mp, d)
    # truncated at 1: minus log P(y > 0) = log(1 - exp(-mu))
    lpos -= wsum(np.log(-np.expm1(-mp)), d["wp"])
    dpos = d["yp"] / mp + 1.0 / np.expm1(-mp)
    return lp + lpos, _per_row(mu, d, None, dpos), {"psi": dpsi}


def _hurdle_negative_binomial(mu, d, aux):
    alpha, psi = aux["alpha"], aux["psi"]
    lp, dpsi = _hurdle_psi(d, psi)
    mp = mu[d["ip"]]
    lpos, dpos, dalpha = _nb_positive(mp, alpha, d)
    # truncated at 1: minus log(1 - P(0)); d/dx -log(1 - exp(l)) = (dl/dx) / expm1(-l)
    log_f0, dmu0, dalpha0 = _nb_zero(mp, alpha)
    inv = 1.0 / np.expm1(-log_f0)
    lpos -= wsum(np.log(-np.expm1(log_f0)), d["wp"])
    dpos = dpos + dmu0 * inv
    dalpha += wsum(dalpha0 * inv, d["wp"])
    return lp + lpos, _per_row(mu, d, None, dpos), {"alpha": float(dalpha), "psi": dpsi}


def _hurdle_gamma(mu, d, aux):
    alpha, psi = aux["alpha"], aux["psi"]
    lp, dpsi = _hurdle_psi(d, psi)
    wp, n_pos = d["wp"], d["n_pos"]
    mp = mu[d["ip"]]
    log_mu = np.log(mp)
    ratio = d["yp"] / mp
    s_log_mu, s_ratio = wsum(log_mu, wp), wsum(ratio, wp)
    lp += (
        n_pos * (alpha * math.log(alpha) - gammaln(alpha))
        - alpha * s_log_mu
        + (alpha - 1.0) * d["sum_log_yp"]
        - alpha * s_ratio
    )
    dpos = alpha * (ratio - 1.0) / mp
    dalpha = n_pos * (math.log(alpha) + 1.0 - digamma(alpha)) - s_log_mu + d["sum_log_yp"] - s_ratio
    return float(lp), _per_row(mu, d, None, dpos), {"alpha": float(dalpha), "psi": dpsi}


def _hurdle_lognormal(mu, d, aux):
    sigma, psi = aux["sigma"], aux["psi"]
    lp, dpsi = _hurdle_psi(d, psi)
    wp, n_pos = d["wp"], d["n_pos"]
    z = (d["log_yp"] - mu[d["ip"]]) / sigma
    z2 = wsum(z * z, wp)
    lp += -n_pos * (0.5 * _LOG_2PI + math.log(sigma)) - 0.5 * z2 - d["sum_log_yp"]
    dsigma = (z2 - n_pos) / sigma
    return float(lp), _per_row(mu, d, None, z / sigma), {"sigma": float(dsigma), "psi": dpsi}


# ------------------------------------------------------------------ beta-binomial
def _lgamma_diff(x, y):
    """`bayesformula.families.categorical.lgamma_diff` in numpy, ``log Gamma(x + y) -
    log Gamma(x)`` (Stirling's form from ``STIRLING_FROM`` on), with its derivative in ``x``."""
    cut = np.float64(STIRLING_FROM)
    small = np.minimum(x, cut)
    big = np.maximum(x, cut)
    direct = gammaln(small + y) - gammaln(small)
    ddirect = digamma(small + y) - digamma(small)
    log1p_ratio = np.log1p(y / big)
    stirling = (
        (big + y - np.float64(0.5)) * log1p_ratio
        + y * np.log(big)
        - y
        + _stirling_tail(big + y)
        - _stirling_tail(big)
    )
    dstirling = (
        log1p_ratio
        + 0.5 * y / (big * (big + y))
        + _stirling_tail_dz(big + y)
        - _stirling_tail_dz(big)
    )
    below = x < cut
    return np.where(below, direct, stirling), np.where(below, ddirect, dstirling)


def _stirling_tail_dz(z):
    """The derivative of `_stirling_tail`: -1/(12 z^2) + 1/(120 z^4) - 1/(252 z^6)."""
    r2 = 1.0 / (z * z)
    return -r2 * (1 / 12 - r2 * (1 / 120 - r2 / 252))


def _beta_binomial_prepare(y, trials, w):
    t = np.ones_like(y) if trials is None else trials
    d = rows_of(y, t, w)
    d["fail"] = t - y
    d["log_choose"] = wsum(gammaln(t + 1.0) - gammaln(y + 1.0) - gammaln(t - y + 1.0), w)
    values, inverse = np.unique(t, return_inverse=True)
    d["t_distinct"] = values
    d["t_weight"] = np.bincount(inverse.reshape(-1), weights=w, minlength=values.size).astype(float)
    return d


def _beta_binomial(mu, d, aux):
    kappa = aux["kappa"]
    w = d["w"]
    one_m_mu = 1.0 - mu
    da, dda = _lgamma_diff(mu * kappa, d["y"])
    db, ddb = _lgamma_diff(one_m_mu * kappa, d["fail"])
    dk, ddk = _lgamma_diff(kappa, d["t_distinct"])
    c = d["t_weight"]
    lp = d["log_choose"] + wsum(da + db, w) - float(c @ dk)
    dmu = weighted(kappa * (dda - ddb), w)
    dkappa = wsum(mu * dda + one_m_mu * ddb, w) - float(c @ ddk)
    return float(lp), dmu, {"kappa": float(dkappa)}


for _entry in (
    RowFamily(
        "zero_inflated_poisson",
        "ZeroInflatedPoisson",
        ("psi",),
        _count_split,
        _zero_inflated_poisson,
        "positive",
    ),
    RowFamily(
        "zero_inflated_negativebinomial",
        "ZeroInflatedNegativeBinomial",
        ("alpha", "psi"),
        _count_split,
        _zero_inflated_negative_binomial,
        "positive",
    ),
    RowFamily(
        "zero_inflated_binomial",
        "ZeroInflatedBinomial",
        ("psi",),
        _trials_split,
        _zero_inflated_binomial,
        "real",  # its links keep p in [0, 1], all of which PyMC's check admits
    ),
    RowFamily(
        "hurdle_poisson", "HurdlePoisson", ("psi",), _count_split, _hurdle_poisson, "positive"
    ),
    RowFamily(
        "hurdle_negativebinomial",
        "HurdleNegativeBinomial",
        ("alpha", "psi"),
        _count_split,
        _hurdle_negative_binomial,
        "positive",
    ),
    RowFamily(
        "hurdle_gamma",
        "HurdleGamma",
        ("alpha", "psi"),
        _positive_split,
        _hurdle_gamma,
        "positive",
    ),
    RowFamily(
        "hurdle_lognormal",
        "HurdleLogNormal",
        ("sigma", "psi"),
        _positive_split,
        _hurdle_lognormal,
        "real",
    ),
    RowFamily(
        "beta_binomial",
        "BetaBinomial",
        ("kappa",),
        _beta_binomial_prepare,
        _beta_binomial,
        "unit",
        graph_logp=beta_binomial_logp,
    ),
):
    register_row_family(_entry)
