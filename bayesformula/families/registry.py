"""The family registry and the built-in families.

Register your own with `register_family`; look one up with `get_family`.
"""

from __future__ import annotations

import numpy as np

from bayesformula.errors import FamilyError, did_you_mean
from bayesformula.families.family import AuxParam, Family
from bayesformula.priors.prior import Prior

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


_BUILTIN = [
    Family(
        name="gaussian",
        likelihood="Normal",
        parent="mu",
        links=("identity", "log", "inverse"),
        support="real",
        aux=(AuxParam("sigma", _sigma),),
        to_dist=lambda d: {"mu": d["mu"], "sigma": d["sigma"]},
        draw=lambda rng, mu, sigma: rng.normal(mu, sigma),
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
        to_dist=lambda d: {"mu": d["mu"], "sigma": d["sigma"], "nu": d["nu"]},
        draw=lambda rng, mu, sigma, nu: mu + sigma * rng.standard_t(nu, size=np.shape(mu)),
        scale_by_response=True,
        description="Student-t likelihood: robust regression for real-valued responses.",
    ),
    Family(
        name="bernoulli",
        likelihood="Bernoulli",
        parent="p",
        links=("logit", "probit", "cloglog", "identity"),
        support="binary",
        to_dist=lambda d: {"p": d["p"]},
        draw=lambda rng, p: rng.binomial(1, p),
        description="Bernoulli likelihood for 0/1 or two-category responses.",
    ),
    Family(
        name="binomial",
        likelihood="Binomial",
        parent="p",
        links=("logit", "probit", "cloglog", "identity"),
        support="trials",
        to_dist=lambda d: {"n": d["trials"], "p": d["p"]},
        draw=lambda rng, n, p: rng.binomial(n.astype(np.int64), p),
        description="Binomial likelihood for successes out of trials, written p(y, n).",
    ),
    Family(
        name="poisson",
        likelihood="Poisson",
        parent="mu",
        links=("log", "identity"),
        support="count",
        to_dist=lambda d: {"mu": d["mu"]},
        draw=lambda rng, mu: rng.poisson(mu),
        description="Poisson likelihood for counts.",
    ),
    Family(
        name="negativebinomial",
        likelihood="NegativeBinomial",
        parent="mu",
        links=("log", "identity"),
        support="count",
        aux=(AuxParam("alpha", _half_cauchy),),
        to_dist=lambda d: {"mu": d["mu"], "alpha": d["alpha"]},
        draw=lambda rng, mu, alpha: rng.negative_binomial(alpha, alpha / (mu + alpha)),
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
        to_dist=lambda d: {"alpha": d["alpha"], "beta": d["alpha"] / d["mu"]},
        draw=lambda rng, alpha, beta: rng.gamma(alpha, 1.0 / beta),
        description="Gamma likelihood (mean mu, shape alpha) for positive responses.",
    ),
    Family(
        name="beta",
        likelihood="Beta",
        parent="mu",
        links=("logit", "probit", "cloglog"),
        support="unit",
        aux=(AuxParam("kappa", _half_cauchy),),
        to_dist=lambda d: {"alpha": d["mu"] * d["kappa"], "beta": (1 - d["mu"]) * d["kappa"]},
        draw=lambda rng, alpha, beta: rng.beta(alpha, beta),
        description="Beta likelihood (mean mu, precision kappa) for responses in (0, 1).",
    ),
    Family(
        name="exponential",
        likelihood="Exponential",
        parent="mu",
        links=("log", "identity", "inverse"),
        support="positive",
        to_dist=lambda d: {"lam": 1 / d["mu"]},
        draw=lambda rng, lam: rng.exponential(1.0 / lam),
        description="Exponential likelihood (mean mu) for positive responses.",
    ),
]

for _family in _BUILTIN:
    register_family(_family)
