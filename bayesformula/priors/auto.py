"""Default priors scaled to the data, user overrides, and the table of priors in use.

The scheme (documented in docs/priors.md) follows rstanarm's autoscaling:

* ``s_y`` is the response's standard deviation for families whose parent parameter is on the
  response's scale (gaussian and t with the identity link), and 1 otherwise (link scale).
* Intercept (of the model with centred predictors): ``Normal(m, 2.5 s_y)`` where ``m`` is the
  link of the response's mean (0 when that is not finite).
* Each common column ``x_j``: ``Normal(0, 2.5 s_y / sd(x_j))`` (``sd = 1`` for constant columns).
* Group-specific effects ``expr|g``: ``Normal(0, sigma)``, ``sigma ~ HalfNormal(S)`` with ``S``
  the scale the matching common term would get (``2.5 s_y`` for intercepts).
* Auxiliary parameters: the family's defaults (for example gaussian
  ``sigma ~ HalfStudentT(4, sd(y))``).
* ``mo(x)``: ``b ~ Normal(0, 2.5 s_y / sd(codes))`` (the common-term rule for the column the term
  would be with equal steps), simplex ``Dirichlet(1, ..., 1)`` (brms's default).
* ``hsgp(...)``: ``sigma ~ HalfNormal(2.5 s_y)`` (the rule for group-specific intercepts), and
  ``ell ~ InverseGamma`` with 1% of its mass below the shortest lengthscale the basis represents
  and 1% above the largest distance between the fitting data's points.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bayesformula.errors import PriorError, did_you_mean
from bayesformula.families.family import AUX_SUPPORTS, Family, ResponseData
from bayesformula.families.links import Link
from bayesformula.formula.terms import inverse_gamma_tails
from bayesformula.priors.prior import Prior, is_scalar_number

__all__ = ["PriorSet", "default_priors", "apply_user_priors", "STD"]

# auxiliary parameter names used by built-in families (for clearer messages)
_AUX_NAMES = {"sigma", "nu", "alpha", "kappa", "b", "lam", "psi", "q"}

#: Multiplier of the data scale in default priors (rstanarm and Bambi use 2.5).
STD = 2.5


@dataclass(frozen=True)
class PriorSet:
    """The priors of a model.

    Attributes
    ----------
    common : dict
        Term name (including ``"Intercept"``) -> Prior.
    group : dict
        Group-specific term name -> ``Prior("Normal", mu=0, sigma=<Prior or number>)``.
    aux : dict
        Auxiliary parameter name -> Prior, or a number for a fixed value.
    user : frozenset
        Names whose prior the user set.
    terms : dict
        Parameters of ``mo()`` and ``hsgp()`` terms other than a monotonic effect's coefficient
        (which is in ``common``): ``"mo(x)_simplex"``, ``"hsgp(...)_sigma"``,
        ``"hsgp(...)_ell"`` -> Prior, or a number for a fixed sigma or lengthscale.
    """

    common: dict[str, Prior]
    group: dict[str, Prior]
    aux: dict[str, Prior | float]
    user: frozenset[str] = field(default_factory=frozenset)
    terms: dict[str, Prior | float] = field(default_factory=dict)

    def table(self) -> pd.DataFrame:
        """One row per parameter: its kind, prior and whether it is a default."""
        rows = []
        kinds = (("common", self.common), ("group", self.group), ("aux", self.aux))
        for kind, mapping in (*kinds, ("term", self.terms)):
            for name, prior in mapping.items():
                rows.append(
                    {
                        "parameter": name,
                        "kind": kind,
                        "prior": repr(prior) if isinstance(prior, Prior) else f"{prior} (fixed)",
                        "source": "user" if name in self.user else "default",
                    }
                )
        return pd.DataFrame(rows, columns=["parameter", "kind", "prior", "source"])


def _sd(x: np.ndarray) -> np.ndarray:
    sd = np.std(x, axis=0)
    return np.where(sd > 0, sd, 1.0)


def _scalar_or_array(values: np.ndarray):
    values = np.asarray(values, dtype=float)
    return float(values[0]) if values.size == 1 else values


def response_scale(
    family: Family, link: Link, response: ResponseData
) -> tuple[float, float, float]:
    """Return ``(s_y, intercept location, sd_y)`` used by the default priors."""
    y = np.asarray(response.values, dtype=float)
    if family.response_transform is not None and np.any(y > 0):
        y = np.asarray(family.response_transform(y[y > 0]), dtype=float)
    mean = (
        float(np.sum(y) / np.sum(response.trials))
        if response.trials is not None and family.response_transform is None
        else float(np.mean(y))
    )
    sd_y = float(np.std(y)) if y.size > 1 and np.std(y) > 0 else 1.0
    if family.scale_by_response and link.name == "identity":
        return sd_y, mean, sd_y
    with np.errstate(all="ignore"):
        loc = float(link.link(np.asarray(mean)))
    return 1.0, (loc if np.isfinite(loc) else 0.0), sd_y


def default_priors(
    design, family: Family, link: Link, response: ResponseData, *, auto_scale: bool = True
) -> PriorSet:
    """Build the default priors of a model (see the module docstring for the scheme).

    With ``auto_scale=False`` intercept and slopes get ``Flat()`` priors and group standard
    deviations ``HalfFlat()``, as in Bambi; auxiliary parameters keep unscaled defaults.
    """
    s_y, loc, sd_y = response_scale(family, link, response)
    common: dict[str, Prior] = {}
    group: dict[str, Prior] = {}
    if design.intercept:
        common["Intercept"] = (
            Prior("Normal", mu=loc, sigma=STD * s_y) if auto_scale else Prior("Flat")
        )
    for term in design.common_terms:
        cols = design.X[:, term.slice]
        scale = _scalar_or_array(STD * s_y / _sd(cols))
        common[term.name] = Prior("Normal", mu=0, sigma=scale) if auto_scale else Prior("Flat")
    for term in design.group_terms:
        if term.kind == "intercept":
            scale: Any = STD * s_y
        else:
            scale = _scalar_or_array(STD * s_y / _sd(term.Z))
        hyper = Prior("HalfNormal", sigma=scale) if auto_scale else Prior("HalfFlat")
        group[term.name] = Prior("Normal", mu=0, sigma=hyper)
    aux = {a.name: a.default_prior(sd_y if auto_scale else 1.0) for a in family.aux}
    terms: dict[str, Prior | float] = {}
    for term in getattr(design, "special_terms", ()):
        if term.kind == "mo":
            scale = STD * s_y / float(_sd(term.covariate))
            common[term.name] = Prior("Normal", mu=0, sigma=scale) if auto_scale else Prior("Flat")
            terms[term.simplex_name] = Prior("Dirichlet", a=np.ones(term.D))
        else:
            terms[f"{term.name}_sigma"] = (
                Prior("HalfNormal", sigma=STD * s_y) if auto_scale else Prior("HalfFlat")
            )
            terms[f"{term.name}_ell"] = lengthscale_prior(term)
    return PriorSet(common=common, group=group, aux=aux, terms=terms)


def lengthscale_prior(term) -> Prior:
    """Default prior of an ``hsgp()`` term's lengthscale (in the term's input units).

    An InverseGamma with 1% of its mass below ``term.shortest`` (the shortest lengthscale its
    ``m`` basis functions on ``[-L, L]`` represent, Riutort-Mayol et al. 2022) and 1% above
    ``term.extent`` (the largest distance between fitting points); when the two are closer than a
    factor 2 the upper end is twice the lower one. One pair of parameters per predictor when the
    lengthscales are not isotropic.
    """
    lower = np.atleast_1d(np.asarray(term.shortest, dtype=float))
    upper = np.atleast_1d(np.asarray(term.extent, dtype=float))
    pairs = [inverse_gamma_tails(lo, max(hi, 2 * lo)) for lo, hi in zip(lower, upper, strict=True)]
    alpha = np.array([a for a, _ in pairs])
    beta = np.array([b for _, b in pairs])
    return Prior("InverseGamma", alpha=_scalar_or_array(alpha), beta=_scalar_or_array(beta))


def _check_group_prior(name: str, prior: Any) -> Prior:
    if not isinstance(prior, Prior):
        raise PriorError(f"the prior for '{name}' must be a bf.Prior, got {prior!r}.")
    sigma = prior.args.get("sigma")
    mu = prior.args.get("mu", 0)
    if prior.name != "Normal" or sigma is None or isinstance(mu, Prior) or np.any(np.asarray(mu)):
        raise PriorError(
            f"group-specific term '{name}' takes a prior of the form Normal(mu=0, sigma=...), "
            f"with sigma a hyperprior or a number, e.g. "
            f"bf.Prior('Normal', mu=0, sigma=bf.Prior('HalfNormal', sigma=1)); got {prior!r}."
        )
    return prior


def apply_user_priors(priors: PriorSet, user: Mapping[str, Any] | None, family: Family) -> PriorSet:
    """Override defaults with the user's ``priors=`` dict.

    Keys: a term name (``"dose"``, ``"Intercept"``, ``"C(g)"``), a group-specific term
    (``"1|g"``), an auxiliary parameter (``"sigma"``; a number fixes it), ``"common"`` (every
    common term except the intercept) or ``"group_specific"`` (every group-specific term).
    Named keys win over ``"common"``/``"group_specific"``.
    """
    if not user:
        return priors
    if not isinstance(user, Mapping):
        raise PriorError(f"priors must be a dict of name -> bf.Prior, got {type(user).__name__}.")
    common, group, aux = dict(priors.common), dict(priors.group), dict(priors.aux)
    terms = dict(priors.terms)
    set_by_user: set[str] = set()
    known = (
        set(common) | set(group) | set(terms) | set(family.aux_names) | {"common", "group_specific"}
    )
    for key in user:
        if key in _AUX_NAMES and key not in known:
            raise PriorError(
                f"family '{family.name}' has no auxiliary parameter '{key}'; its parameters with "
                f"priors are: {', '.join(sorted(known - {'common', 'group_specific'}))}."
            )
        if key not in known:
            raise PriorError(
                did_you_mean(str(key), known, "term in priors")
                + " Priors are keyed by term or parameter names as printed with the model."
            )
    if "common" in user:
        value = user["common"]
        if not isinstance(value, Prior):
            raise PriorError(f"priors['common'] must be a bf.Prior, got {value!r}.")
        for name in common:
            if name != "Intercept":
                common[name] = value
                set_by_user.add(name)
    if "group_specific" in user:
        value = _check_group_prior("group_specific", user["group_specific"])
        for name in group:
            group[name] = value
            set_by_user.add(name)
    for key, value in user.items():
        if key in ("common", "group_specific"):
            continue
        if key in common:
            if not isinstance(value, Prior):
                raise PriorError(f"the prior for '{key}' must be a bf.Prior, got {value!r}.")
            common[key] = value
        elif key in group:
            group[key] = _check_group_prior(key, value)
        elif key in terms:
            terms[key] = _check_term_prior(key, value, terms[key])
        else:  # auxiliary parameter
            param = next(a for a in family.aux if a.name == key)
            if isinstance(value, Prior):
                aux[key] = value
            elif is_scalar_number(value) and param.check_fixed(float(value)):
                aux[key] = float(value)
            else:
                raise PriorError(
                    f"the prior for '{key}' must be a bf.Prior or a number "
                    f"{AUX_SUPPORTS[param.support][1]} to fix it, got {value!r}."
                )
        set_by_user.add(key)
    return PriorSet(common=common, group=group, aux=aux, user=frozenset(set_by_user), terms=terms)


def _check_term_prior(name: str, value: Any, default: Prior) -> Prior | float:
    """A user prior for a monotonic simplex or a Gaussian process's sigma or lengthscale."""
    if name.endswith("_simplex"):
        size = np.asarray(default.args["a"]).size
        a = value.args.get("a") if isinstance(value, Prior) else None
        if (
            not isinstance(value, Prior)
            or value.name != "Dirichlet"
            or isinstance(a, Prior)
            or a is None
            or np.asarray(a).size not in (1, size)
            or np.any(np.asarray(a, dtype=float) <= 0)
        ):
            raise PriorError(
                f"the simplex '{name}' takes a Dirichlet prior with {size} positive "
                f"concentration(s), e.g. bf.Prior('Dirichlet', a=[2] * {size}); got {value!r}."
            )
        return value.replace(a=np.broadcast_to(np.asarray(a, dtype=float), (size,)).copy())
    if isinstance(value, Prior):
        return value
    if is_scalar_number(value) and float(value) > 0:
        return float(value)
    raise PriorError(
        f"the prior for '{name}' must be a bf.Prior or a positive number to fix it, got {value!r}."
    )
