"""The family registry and the built-in families.

Register your own with `register_family`; look one up with `get_family`.
"""

from __future__ import annotations

import numpy as np

from bayesformula.errors import FamilyError, did_you_mean
from bayesformula.families.builtin import (
    _asymmetric_laplace_draw,
    _b_q_mu,
    _bernoulli_draw,
    _beta_binomial_draw,
    _beta_binomial_params,
    _beta_draw,
    _beta_params,
    _binomial_draw,
    _concentration,
    _exgaussian_draw,
    _exponential_draw,
    _exponential_params,
    _gamma_draw,
    _gamma_params,
    _half_cauchy,
    _hurdle_gamma_draw,
    _hurdle_gamma_params,
    _hurdle_lognormal_draw,
    _hurdle_nb_draw,
    _hurdle_poisson_draw,
    _laplace_draw,
    _lognormal_draw,
    _median,
    _mu,
    _mu_alpha,
    _mu_b,
    _mu_kappa,
    _mu_lam,
    _mu_sigma,
    _mu_sigma_alpha,
    _mu_sigma_nu,
    _negative_binomial_draw,
    _normal_draw,
    _nu,
    _p,
    _poisson_draw,
    _psi,
    _psi_mu,
    _psi_mu_alpha,
    _psi_mu_sigma,
    _psi_trials_p,
    _rate,
    _sigma,
    _skew,
    _skewnormal_draw,
    _t_draw,
    _trials_p,
    _vonmises_draw,
    _wald_draw,
    _weibull_draw,
    _weibull_params,
    _zib_draw,
    _zinb_draw,
    _zip_draw,
)
from bayesformula.families.categorical import beta_binomial_logp, categorical_families
from bayesformula.families.family import AuxParam, Family
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
