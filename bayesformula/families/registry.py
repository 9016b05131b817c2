"""The family registry and the built-in families.

Register your own with `register_family`; look one up with `get_family`.
"""

from __future__ import annotations

import numpy as np

from bayesformula.core.prior import Prior
from bayesformula.errors import FamilyError, did_you_mean
from bayesformula.families.categorical import beta_binomial_logp, categorical_families
from bayesformula.families.family import AuxParam, Family, gammafn
from bayesformula.families.ordinal import KINDS as ORDINAL_KINDS
from bayesformula.families.ordinal import ordinal_family

__all__ = ["FAMILIES", "register_family", "get_family", "list_families"]

FAMILIES: dict[str, Family] = {}


def register_family(family: Family, *, overwrite: bool = False) -> Family:
    """Add ``family`` to the registry under ``family.name``.

    Parameters
    ----------
    family : Family
        The family to register.
    overwrite : bool, default False
        Replace an existing family of the same name instead of raising.

    Returns
    -------
    Family
        The registered family (so this can be used as a decorator on a factory's result).
    """
    if not isinstance(family, Family):
        raise FamilyError(f"register_family expects a Family, got {type(family).__name__}.")
    if family.name in FAMILIES and not overwrite:
        raise FamilyError(
            f"a family named '{family.name}' is already registered; pass overwrite=True to "
            "replace it."
        )
    FAMILIES[family.name] = family
    return family


def get_family(family: str | Family) -> Family:
    """Return a registered family by name (or pass a `Family` through).

    Examples
    --------
    >>> get_family("binomial").parent
    'p'
    """
    if isinstance(family, Family):
        return family
    if not isinstance(family, str):
        raise FamilyError(f"family must be a name or a Family, got {type(family).__name__}.")
    try:
        return FAMILIES[family]
    except KeyError:
        raise FamilyError(did_you_mean(family, FAMILIES, "family")) from None


def list_families() -> list[str]:
    """Names of all registered families."""
    return sorted(FAMILIES)


# ------------------------------------------------------------------------------ built-ins
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


_BUILTIN = [
    Family(
        name="gaussian",
        likelihood="Normal",
        parent="mu",
        links=("identity", "log", "inverse"),
        support="real",
        aux=(AuxParam("sigma", _sigma),),
        to_dist=_mu_sigma,
        draw=_normal_draw,
        scale_by_response=True,
        description="Normal likelihood for real-valued responses.",
    ),
    Family(
        name="t",
        likelihood="StudentT",
        parent="mu",
        links=("identity", "log", "inverse"),
        support="real",
        aux=(AuxParam("sigma", _sigma), AuxParam("nu", _nu)),
        to_dist=_mu_sigma_nu,
        draw=_t_draw,
        scale_by_response=True,
        description="Student-t likelihood: robust regression for real-valued responses.",
    ),
    Family(
        name="bernoulli",
        likelihood="Bernoulli",
        parent="p",
        links=("logit", "probit", "cloglog", "identity"),
        support="binary",
        to_dist=_p,
        draw=_bernoulli_draw,
        description="Bernoulli likelihood for 0/1 or two-category responses.",
    ),
    Family(
        name="binomial",
        likelihood="Binomial",
        parent="p",
        links=("logit", "probit", "cloglog", "identity"),
        support="trials",
        to_dist=_trials_p,
        draw=_binomial_draw,
        description="Binomial likelihood for successes out of trials, written p(y, n).",
    ),
    Family(
        name="poisson",
        likelihood="Poisson",
        parent="mu",
        links=("log", "identity"),
        support="count",
        to_dist=_mu,
        draw=_poisson_draw,
        description="Poisson likelihood for counts.",
    ),
    Family(
        name="negativebinomial",
        likelihood="NegativeBinomial",
        parent="mu",
        links=("log", "identity"),
        support="count",
        aux=(AuxParam("alpha", _half_cauchy),),
        to_dist=_mu_alpha,
        draw=_negative_binomial_draw,
        description="Negative binomial (mean mu, shape alpha; var = mu + mu^2/alpha) for "
        "overdispersed counts.",
    ),
    Family(
        name="gamma",
        likelihood="Gamma",
        parent="mu",
        links=("log", "inverse", "identity"),
        support="positive",
        aux=(AuxParam("alpha", _half_cauchy),),
        to_dist=_gamma_params,
        draw=_gamma_draw,
        description="Gamma likelihood (mean mu, shape alpha) for positive responses.",
    ),
    Family(
        name="beta",
        likelihood="Beta",
        parent="mu",
        links=("logit", "probit", "cloglog"),
        support="unit",
        aux=(AuxParam("kappa", _half_cauchy),),
        to_dist=_beta_params,
        draw=_beta_draw,
        description="Beta likelihood (mean mu, precision kappa) for responses in (0, 1).",
    ),
    Family(
        name="exponential",
        likelihood="Exponential",
        parent="mu",
        links=("log", "identity", "inverse"),
        support="positive",
        to_dist=_exponential_params,
        draw=_exponential_draw,
        description="Exponential likelihood (mean mu) for positive responses.",
    ),
    Family(
        name="laplace",
        likelihood="Laplace",
        parent="mu",
        links=("identity", "log", "inverse"),
        support="real",
        aux=(AuxParam("b", _sigma, description="scale"),),
        to_dist=_mu_b,
        draw=_laplace_draw,
        scale_by_response=True,
        description="Laplace (double exponential) likelihood: median regression.",
    ),
    Family(
        name="asymmetriclaplace",
        likelihood="AsymmetricLaplace",
        parent="mu",
        links=("identity", "log", "inverse"),
        support="real",
        aux=(
            AuxParam("b", _rate, description="rate (1 / scale)"),
            AuxParam("q", _median, support="unit", description="the quantile mu models"),
        ),
        to_dist=_b_q_mu,
        draw=_asymmetric_laplace_draw,
        scale_by_response=True,
        description="Asymmetric Laplace likelihood: quantile regression, mu is the q-quantile "
        "(q fixed at 0.5 unless priors={'q': ...}).",
    ),
    Family(
        name="lognormal",
        likelihood="LogNormal",
        parent="mu",
        links=("identity",),
        support="positive",
        aux=(AuxParam("sigma", _sigma),),
        to_dist=_mu_sigma,
        draw=_lognormal_draw,
        scale_by_response=True,
        response_transform=np.log,
        description="Log-normal likelihood: log(y) is normal with mean mu and sd sigma.",
    ),
    Family(
        name="skewnormal",
        likelihood="SkewNormal",
        parent="mu",
        links=("identity", "log", "inverse"),
        support="real",
        aux=(
            AuxParam("sigma", _sigma, description="scale"),
            AuxParam("alpha", _skew, support="real", description="skewness"),
        ),
        to_dist=_mu_sigma_alpha,
        draw=_skewnormal_draw,
        scale_by_response=True,
        description="Skew-normal likelihood (location mu, scale sigma, skewness alpha).",
    ),
    Family(
        name="exgaussian",
        likelihood="ExGaussian",
        parent="mu",
        links=("identity", "log", "inverse"),
        support="real",
        aux=(
            AuxParam("sigma", _sigma, description="sd of the normal part"),
            AuxParam("nu", _sigma, description="mean of the exponential part"),
        ),
        to_dist=_mu_sigma_nu,
        draw=_exgaussian_draw,
        scale_by_response=True,
        description="Exponentially modified gaussian: normal(mu, sigma) plus exponential with "
        "mean nu (response times).",
    ),
    Family(
        name="weibull",
        likelihood="Weibull",
        parent="mu",
        links=("log", "identity", "inverse"),
        support="positive",
        aux=(AuxParam("alpha", _half_cauchy, description="shape"),),
        to_dist=_weibull_params,
        draw=_weibull_draw,
        description="Weibull likelihood (mean mu, shape alpha) for positive responses.",
    ),
    Family(
        name="wald",
        likelihood="Wald",
        parent="mu",
        links=("inverse_squared", "log", "identity", "inverse"),
        support="positive",
        aux=(AuxParam("lam", _half_cauchy, description="shape"),),
        to_dist=_mu_lam,
        draw=_wald_draw,
        description="Wald (inverse gaussian) likelihood (mean mu, shape lam).",
    ),
    Family(
        name="vonmises",
        likelihood="VonMises",
        parent="mu",
        links=("identity",),
        support="circular",
        aux=(AuxParam("kappa", _concentration, description="concentration"),),
        to_dist=_mu_kappa,
        draw=_vonmises_draw,
        scale_by_response=True,
        description="Von Mises likelihood for angles in radians (mean direction mu).",
    ),
    Family(
        name="beta_binomial",
        likelihood="BetaBinomial",
        parent="mu",
        links=("logit", "probit", "cloglog"),
        support="trials",
        aux=(AuxParam("kappa", _half_cauchy, description="precision"),),
        to_dist=_beta_binomial_params,
        draw=_beta_binomial_draw,
        logp=beta_binomial_logp,
        description="Beta-binomial likelihood for overdispersed successes out of trials "
        "(mean probability mu, precision kappa).",
    ),
    Family(
        name="zero_inflated_poisson",
        likelihood="ZeroInflatedPoisson",
        parent="mu",
        links=("log", "identity"),
        support="count",
        aux=(AuxParam("psi", _psi, support="unit", description="P(not an extra zero)"),),
        to_dist=_psi_mu,
        draw=_zip_draw,
        description="Poisson counts with extra zeros (psi: probability a count is Poisson).",
    ),
    Family(
        name="zero_inflated_negativebinomial",
        likelihood="ZeroInflatedNegativeBinomial",
        parent="mu",
        links=("log", "identity"),
        support="count",
        aux=(
            AuxParam("alpha", _half_cauchy),
            AuxParam("psi", _psi, support="unit", description="P(not an extra zero)"),
        ),
        to_dist=_psi_mu_alpha,
        draw=_zinb_draw,
        description="Negative binomial counts with extra zeros.",
    ),
    Family(
        name="zero_inflated_binomial",
        likelihood="ZeroInflatedBinomial",
        parent="p",
        links=("logit", "probit", "cloglog"),
        support="trials",
        aux=(AuxParam("psi", _psi, support="unit", description="P(not an extra zero)"),),
        to_dist=_psi_trials_p,
        draw=_zib_draw,
        description="Binomial successes with extra zeros.",
    ),
    Family(
        name="hurdle_poisson",
        likelihood="HurdlePoisson",
        parent="mu",
        links=("log", "identity"),
        support="count",
        aux=(AuxParam("psi", _psi, support="unit", description="P(y > 0)"),),
        to_dist=_psi_mu,
        draw=_hurdle_poisson_draw,
        description="Hurdle model: zero with probability 1 - psi, else a zero-truncated "
        "Poisson(mu).",
    ),
    Family(
        name="hurdle_negativebinomial",
        likelihood="HurdleNegativeBinomial",
        parent="mu",
        links=("log", "identity"),
        support="count",
        aux=(
            AuxParam("alpha", _half_cauchy),
            AuxParam("psi", _psi, support="unit", description="P(y > 0)"),
        ),
        to_dist=_psi_mu_alpha,
        draw=_hurdle_nb_draw,
        description="Hurdle model: zero with probability 1 - psi, else a zero-truncated "
        "negative binomial.",
    ),
    Family(
        name="hurdle_gamma",
        likelihood="HurdleGamma",
        parent="mu",
        links=("log", "inverse", "identity"),
        support="nonnegative",
        aux=(
            AuxParam("alpha", _half_cauchy, description="shape"),
            AuxParam("psi", _psi, support="unit", description="P(y > 0)"),
        ),
        to_dist=_hurdle_gamma_params,
        draw=_hurdle_gamma_draw,
        description="Hurdle model: zero with probability 1 - psi, else gamma (mean mu).",
    ),
    Family(
        name="hurdle_lognormal",
        likelihood="HurdleLogNormal",
        parent="mu",
        links=("identity",),
        support="nonnegative",
        aux=(
            AuxParam("sigma", _sigma),
            AuxParam("psi", _psi, support="unit", description="P(y > 0)"),
        ),
        to_dist=_psi_mu_sigma,
        draw=_hurdle_lognormal_draw,
        scale_by_response=True,
        response_transform=np.log,
        description="Hurdle model: zero with probability 1 - psi, else log-normal (log-scale "
        "mean mu).",
    ),
]

for _family in _BUILTIN:
    register_family(_family)

for _kind in ORDINAL_KINDS:  # cumulative, sratio, cratio, acat
    register_family(ordinal_family(_kind))

for _family in categorical_families():  # categorical, multinomial, dirichlet_multinomial
    register_family(_family)
