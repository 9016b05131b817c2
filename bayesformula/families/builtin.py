"""The functions the built-in families are made of: the default priors of their auxiliary
parameters, the mapping of the family's parameters to PyMC's, and numpy draws of responses.

They are named module functions (no lambdas), so a family's parts can always be pickled by
reference (`bayesformula.families.pickling`).
"""

from __future__ import annotations

import numpy as np

from bayesformula.core.prior import Prior
from bayesformula.families.family import AuxAlias, gammafn, register_aux_alias


def _sigma(sd_y: float) -> Prior:
    return Prior("HalfStudentT", nu=4, sigma=sd_y)


def _half_cauchy(_: float) -> Prior:
    return Prior("HalfCauchy", beta=1)


def _nu(_: float) -> Prior:
    return Prior("Gamma", alpha=2, beta=0.1)


def _rate(sd_y: float) -> Prior:
    return Prior("HalfStudentT", nu=4, sigma=1.0 / sd_y)


def _concentration(sd_y: float) -> Prior:
    # von Mises: kappa is about 1 / variance for concentrated angles
    return Prior("HalfStudentT", nu=4, sigma=1.0 / sd_y**2)


def _skew(_: float) -> Prior:
    return Prior("Normal", mu=0, sigma=4)


def _psi(_: float) -> Prior:
    return Prior("Beta", alpha=2, beta=2)


def _median(_: float) -> float:
    return 0.5


def _kappa_to_q(kappa: float) -> float:
    """PyMC's (and Bambi's) asymmetric Laplace ``kappa`` as the quantile ``q`` it fixes."""
    return kappa**2 / (1.0 + kappa**2)


# Bambi's asymmetric Laplace family has kappa; bayesformula's fixes q: a fixed kappa converts
register_aux_alias(
    "AsymmetricLaplace",
    AuxAlias("kappa", "q", _kappa_to_q, "q = kappa**2 / (1 + kappa**2)"),
)


def _shape(*arrays) -> tuple:
    return np.broadcast_shapes(*(np.shape(a) for a in arrays))


def _skewnormal_draw(rng, mu, sigma, alpha):
    shape = _shape(mu, sigma, alpha)
    delta = alpha / np.sqrt(1 + alpha**2)
    u0, v = rng.standard_normal(shape), rng.standard_normal(shape)
    u1 = delta * u0 + np.sqrt(1 - delta**2) * v
    return mu + sigma * np.where(u0 >= 0, u1, -u1)


def _asymmetric_laplace_draw(rng, b, q, mu):
    # P(y < mu) = q; below mu the scale is (1 - q)-weighted, above it q-weighted
    shape = _shape(b, q, mu)
    kappa = np.sqrt(q / (1 - q))
    below = rng.random(shape) < q
    e = rng.exponential(1.0, shape)
    return mu + np.where(below, -e * kappa / b, e / (kappa * b))


def _zero_truncated(dist, rng, shape, **params):
    """Draws from a count distribution conditioned on y > 0 (inverse CDF above P(0))."""
    p0 = dist.cdf(0, **params)
    u = p0 + (1 - p0) * rng.random(shape)
    y = dist.ppf(np.minimum(u, np.nextafter(1.0, 0.0)), **params)
    return np.where(np.isfinite(y) & (y >= 1), y, 1.0)


def _nb_params(mu, alpha):
    return {"n": alpha, "p": alpha / (mu + alpha)}


def _hurdle(rng, psi, positive):
    return np.where(rng.random(np.shape(positive)) < psi, positive, 0.0)


def _hurdle_poisson_draw(rng, psi, mu):
    from scipy import stats

    shape = _shape(psi, mu)
    return _hurdle(rng, psi, _zero_truncated(stats.poisson, rng, shape, mu=mu))


def _hurdle_nb_draw(rng, psi, mu, alpha):
    from scipy import stats

    shape = _shape(psi, mu, alpha)
    return _hurdle(rng, psi, _zero_truncated(stats.nbinom, rng, shape, **_nb_params(mu, alpha)))


def _inflated(rng, psi, counts):
    return np.where(rng.random(np.shape(counts)) < psi, counts, 0)


def _beta_draw(rng, alpha, beta):
    # with alpha, beta << 1 draws underflow to exactly 0 or 1; keep them inside (0, 1)
    return np.clip(rng.beta(alpha, beta), _TINY, 1 - np.finfo(float).epsneg)


_TINY = np.finfo(float).tiny


def _b(shape, x):
    return np.broadcast_to(x, shape)


# ------------------------------------------------------------------ parameters of the likelihood
# ``to_dist`` functions: the family's parameters (and "trials") -> the PyMC distribution's
def _mu(d):
    return {"mu": d["mu"]}


def _p(d):
    return {"p": d["p"]}


def _mu_sigma(d):
    return {"mu": d["mu"], "sigma": d["sigma"]}


def _mu_sigma_nu(d):
    return {"mu": d["mu"], "sigma": d["sigma"], "nu": d["nu"]}


def _mu_sigma_alpha(d):
    return {"mu": d["mu"], "sigma": d["sigma"], "alpha": d["alpha"]}


def _mu_alpha(d):
    return {"mu": d["mu"], "alpha": d["alpha"]}


def _mu_b(d):
    return {"mu": d["mu"], "b": d["b"]}


def _mu_lam(d):
    return {"mu": d["mu"], "lam": d["lam"]}


def _mu_kappa(d):
    return {"mu": d["mu"], "kappa": d["kappa"]}


def _b_q_mu(d):
    return {"b": d["b"], "q": d["q"], "mu": d["mu"]}


def _trials_p(d):
    return {"n": d["trials"], "p": d["p"]}


def _gamma_params(d):
    return {"alpha": d["alpha"], "beta": d["alpha"] / d["mu"]}


def _beta_params(d):
    return {"alpha": d["mu"] * d["kappa"], "beta": (1 - d["mu"]) * d["kappa"]}


def _exponential_params(d):
    return {"lam": 1 / d["mu"]}


def _weibull_params(d):
    return {"alpha": d["alpha"], "beta": d["mu"] / gammafn(1 + 1 / d["alpha"])}


def _beta_binomial_params(d):
    return {
        "n": d["trials"],
        "alpha": d["mu"] * d["kappa"],
        "beta": (1 - d["mu"]) * d["kappa"],
    }


def _psi_mu(d):
    return {"psi": d["psi"], "mu": d["mu"]}


def _psi_mu_alpha(d):
    return {"psi": d["psi"], "mu": d["mu"], "alpha": d["alpha"]}


def _psi_mu_sigma(d):
    return {"psi": d["psi"], "mu": d["mu"], "sigma": d["sigma"]}


def _psi_trials_p(d):
    return {"psi": d["psi"], "n": d["trials"], "p": d["p"]}


def _hurdle_gamma_params(d):
    return {"psi": d["psi"], "alpha": d["alpha"], "beta": d["alpha"] / d["mu"]}


# ------------------------------------------------------------------ draws
# ``draw(rng, **dist_kwargs)``: responses drawn with numpy from the PyMC distribution's parameters
def _normal_draw(rng, mu, sigma):
    return rng.normal(mu, sigma)


def _t_draw(rng, mu, sigma, nu):
    return mu + sigma * rng.standard_t(nu, size=np.shape(mu))


def _bernoulli_draw(rng, p):
    return rng.binomial(1, p)


def _binomial_draw(rng, n, p):
    return rng.binomial(n.astype(np.int64), p)


def _poisson_draw(rng, mu):
    return rng.poisson(mu)


def _negative_binomial_draw(rng, mu, alpha):
    return rng.negative_binomial(alpha, alpha / (mu + alpha))


def _gamma_draw(rng, alpha, beta):
    return rng.gamma(alpha, 1.0 / beta)


def _exponential_draw(rng, lam):
    return rng.exponential(1.0 / lam)


def _laplace_draw(rng, mu, b):
    return rng.laplace(mu, b)


def _lognormal_draw(rng, mu, sigma):
    return rng.lognormal(mu, sigma)


def _exgaussian_draw(rng, mu, sigma, nu):
    return rng.normal(mu, sigma) + rng.exponential(_b(_shape(mu, sigma, nu), nu))


def _weibull_draw(rng, alpha, beta):
    return beta * rng.weibull(_b(_shape(alpha, beta), alpha))


def _wald_draw(rng, mu, lam):
    return rng.wald(*np.broadcast_arrays(mu, lam))


def _vonmises_draw(rng, mu, kappa):
    return rng.vonmises(*np.broadcast_arrays(mu, kappa))


def _beta_binomial_draw(rng, n, alpha, beta):
    return rng.binomial(np.asarray(n, dtype=np.int64), rng.beta(*np.broadcast_arrays(alpha, beta)))


def _zip_draw(rng, psi, mu):
    return _inflated(rng, psi, rng.poisson(_b(_shape(psi, mu), mu)))


def _zinb_draw(rng, psi, mu, alpha):
    return _inflated(
        rng,
        psi,
        rng.negative_binomial(*np.broadcast_arrays(alpha, alpha / (mu + alpha))),
    )


def _zib_draw(rng, psi, n, p):
    return _inflated(rng, psi, rng.binomial(*np.broadcast_arrays(np.asarray(n, dtype=np.int64), p)))


def _hurdle_gamma_draw(rng, psi, alpha, beta):
    return _hurdle(rng, psi, rng.gamma(*np.broadcast_arrays(alpha, 1.0 / beta)))


def _hurdle_lognormal_draw(rng, psi, mu, sigma):
    return _hurdle(rng, psi, rng.lognormal(*np.broadcast_arrays(mu, sigma)))
