"""Default priors scaled to the data, user overrides, and the table of priors in use.

The scheme (documented in docs/priors.md) follows rstanarm's autoscaling:

* ``s_y`` is the response's standard deviation for families whose parent parameter is on the
  response's scale (gaussian and t with the identity link), and 1 otherwise (link scale).
* Intercept (of the model with centred predictors): ``Normal(m, 2.5 s_y)`` where ``m`` is the
  link of the response's mean (0 when that is not finite).
* Each common column ``x_j``: ``Normal(0, 2.5 s_y / sd(x_j))``. A constant column is an error
  beside an intercept (`edges.check_constant_columns`); without one it plays the intercept's
  part and ``|x_j|`` stands in for ``sd(x_j)`` (1 for a column of zeros, which the likelihood
  never sees).
* A constant response has no spread: its magnitude (1 if it is 0) stands in for ``sd(y)``, with
  a warning, so prior scales stay finite and positive.
* Binary and binomial outcomes separated by a predictor (`edges.find_separation`) are reported
  with a warning: the priors then govern those coefficients.
* Group-specific effects ``expr|g``: ``Normal(0, sigma)``, ``sigma ~ HalfNormal(S)`` with ``S``
  the scale the matching common term would get (``2.5 s_y`` for intercepts).
* Correlations of group-specific effects in one ``(... | g)``: ``LKJCorr(eta=1)``, uniform
  over correlation matrices (brms' default).
* Categorical families (categorical, multinomial, dirichlet_multinomial; ``s_y = 1``): every
  prior applies to each category's coefficient alike; the intercepts' ``m`` are the observed
  log-ratios of each category to the reference, ``log((n_k + 1/2) / (n_1 + 1/2))``.
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

from bayesformula.core.prior import Prior, is_scalar_number
from bayesformula.errors import PriorError, did_you_mean
from bayesformula.families.family import AUX_SUPPORTS, Family, ResponseData
from bayesformula.families.links import Link, get_link
from bayesformula.formula.terms import inverse_gamma_tails
from bayesformula.log import logger
from bayesformula.priors.edges import (
    check_constant_columns,
    constant_scale,
    describe_separation,
    find_separation,
    is_constant,
)

__all__ = ["PriorSet", "default_priors", "apply_user_priors", "check_vector_priors", "STD"]

# auxiliary parameter names used by built-in families (for clearer messages)
_AUX_NAMES = {"sigma", "nu", "alpha", "kappa", "b", "lam", "psi", "q", "threshold"}

#: Multiplier of the data scale in default priors (rstanarm and Bambi use 2.5).
STD = 2.5

#: Shape of the default LKJ prior on correlations of group effects (1: uniform, as in brms).
LKJ_ETA = 1.0


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
    corr : dict
        Block of correlated group-specific terms (``"1+x|g"``) -> ``Prior("LKJCorr", eta=...)``.
    distributional : frozenset
        Names in ``common``, ``group`` and ``corr`` that belong to the formula of an auxiliary
        parameter (``sigma_Intercept``, ``sigma_z``); ``"common"`` and ``"group_specific"``
        in ``priors=`` leave them alone.
    terms : dict
        Parameters of ``mo()`` and ``hsgp()`` terms other than a monotonic effect's coefficient
        (which is in ``common``): ``"mo(x)_simplex"``, ``"hsgp(...)_sigma"``,
        ``"hsgp(...)_ell"`` -> Prior, or a number for a fixed sigma or lengthscale.
    """

    common: dict[str, Prior]
    group: dict[str, Prior]
    aux: dict[str, Prior | float]
    user: frozenset[str] = field(default_factory=frozenset)
    corr: dict[str, Prior] = field(default_factory=dict)
    distributional: frozenset[str] = field(default_factory=frozenset)
    terms: dict[str, Prior | float] = field(default_factory=dict)

    def table(self) -> pd.DataFrame:
        """One row per parameter: its kind, prior and whether it is a default."""
        rows = []
        corr = {f"{name}_corr": prior for name, prior in self.corr.items()}
        for kind, mapping in (
            ("common", self.common),
            ("group", self.group),
            ("correlation", corr),
            ("aux", self.aux),
            ("term", self.terms),
        ):
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
    """Column standard deviations; for a constant column its magnitude (1 if it is 0)."""
    x = np.asarray(x, dtype=float)
    if x.shape[0] == 0:
        return np.ones(x.shape[1:])
    constant = is_constant(x)
    magnitude = np.vectorize(constant_scale, otypes=[float])(x[0])
    return np.where(constant, magnitude, np.std(x, axis=0))


def _scalar_or_array(values: np.ndarray):
    values = np.asarray(values, dtype=float)
    return float(values[0]) if values.size == 1 else values


def response_scale(
    family: Family, link: Link, response: ResponseData
) -> tuple[float, float, float]:
    """Return ``(s_y, intercept location, sd_y)`` used by the default priors."""
    if family.per_category:  # log-ratios: the intercept's location is per category
        return 1.0, 0.0, 1.0
    y = np.asarray(response.values, dtype=float)
    if family.response_transform is not None and np.any(y > 0):
        y = np.asarray(family.response_transform(y[y > 0]), dtype=float)
    mean = (
        float(np.sum(y) / np.sum(response.trials))
        if response.trials is not None and family.response_transform is None
        else float(np.mean(y))
    )
    sd_y = float(np.std(y)) if y.size > 1 and not is_constant(y) else _constant_sd(y)
    if family.scale_by_response and link.name == "identity":
        return sd_y, mean, sd_y
    with np.errstate(all="ignore"):
        loc = float(link.link(np.asarray(mean)))
    return 1.0, (loc if np.isfinite(loc) else 0.0), sd_y


def _constant_sd(y: np.ndarray) -> float:
    """What stands in for the spread of a constant (or single) response: its magnitude."""
    return constant_scale(y[0]) if y.size else 1.0


def _warn_edges(design, family: Family, response: ResponseData) -> None:
    """Log a warning for separated binary outcomes or a constant response (both leave some
    parameters to their priors)."""
    name = getattr(design.response, "name", "y")
    separated = find_separation(design, response, family, name)
    if separated:
        logger.warning("%s", describe_separation(separated))
        return
    y = np.asarray(response.values)
    if family.per_category or y.ndim != 1 or y.size < 2 or not is_constant(y):
        return
    value = float(y[0])
    consequence = (
        f" Default priors use {_constant_sd(np.asarray(y, dtype=float))!r} (its magnitude) as "
        "its scale. A model of its spread cannot be fitted to it: the likelihood grows without "
        "bound as sigma shrinks to 0, so sampling stalls there with divergences; fix sigma "
        "(priors={'sigma': value}) or fit data that vary."
        if family.scale_by_response
        else ""
    )
    logger.warning(
        "the response '%s' has the same value (%r) in all %d rows.%s Check the response column "
        "(on placeholder data for a prior predictive check this is expected).",
        name,
        value,
        y.size,
        consequence,
    )


def category_log_ratios(response: ResponseData) -> np.ndarray:
    """Observed log-ratios of categories 2..K to the reference, ``log((n_k + 1/2) /
    (n_1 + 1/2))``: the centre of the intercepts' default prior for categorical families
    (with centred predictors the intercepts are sampled at the predictors' means). The
    halves keep it finite for an unobserved category."""
    values = np.asarray(response.values)
    if values.ndim == 2:  # counts per category
        counts = values.sum(axis=0).astype(float)
    else:
        counts = np.bincount(values, minlength=len(response.levels)).astype(float)
    return np.round(np.log((counts[1:] + 0.5) / (counts[0] + 0.5)), 4)


def default_priors(
    design, family: Family, link: Link, response: ResponseData, *, auto_scale: bool = True
) -> PriorSet:
    """Build the default priors of a model (see the module docstring for the scheme).

    With ``auto_scale=False`` intercept and slopes get ``Flat()`` priors and group standard
    deviations ``HalfFlat()``, as in Bambi; auxiliary parameters keep unscaled defaults.
    """
    check_constant_columns(design, has_intercept=design.intercept or not family.intercept)
    _warn_edges(design, family, response)
    s_y, loc, sd_y = response_scale(family, link, response)
    common: dict[str, Prior] = {}
    group: dict[str, Prior] = {}
    if design.intercept:
        if family.per_category:
            loc = category_log_ratios(response)
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
    aux = {
        a.name: (
            a.data_prior(response, link)
            if auto_scale and a.data_prior is not None
            else a.default_prior(sd_y if auto_scale else 1.0)
        )
        for a in family.aux
    }
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
    corr = {block.name: Prior("LKJCorr", eta=LKJ_ETA) for block in design.group_blocks}
    return PriorSet(common=common, group=group, aux=aux, corr=corr, terms=terms)


def add_part_priors(
    priors: PriorSet, part, family: Family, response: ResponseData, *, auto_scale: bool = True
) -> PriorSet:
    """Add the default priors of an auxiliary parameter's formula; drop the parameter's own.

    On the link scale: ``{param}_Intercept ~ Normal(m, 2.5)``, slopes ``Normal(0, 2.5 / sd(x))``
    and group-specific sigmas ``HalfNormal(2.5)`` (``2.5 / sd(x)`` for slopes), as for the
    parent with ``s_y = 1``. ``m`` is ``log(sd(y))`` for the sigma of a family on the
    response's scale (identity link), and the link of 1 (positive) or 0.5 (unit) otherwise.
    """
    design = part.design
    check_constant_columns(design, design.intercept, where=f"in the formula for {part.param}, ")
    _, _, sd_y = response_scale(family, get_link(family.default_link), response)
    support = next(a.support for a in family.aux if a.name == part.param)
    if part.param == "sigma" and family.scale_by_response:
        typical = sd_y
    else:
        typical = {"positive": 1.0, "unit": 0.5, "real": 0.0}[support]
    with np.errstate(all="ignore"):
        loc = float(part.link.link(np.asarray(typical)))
    common, group, corr = dict(priors.common), dict(priors.group), dict(priors.corr)
    names = set()
    if design.intercept:
        common[part.intercept_name] = (
            Prior("Normal", mu=loc if np.isfinite(loc) else 0.0, sigma=STD)
            if auto_scale
            else Prior("Flat")
        )
        names.add(part.intercept_name)
    for term in design.common_terms:
        scale = _scalar_or_array(STD / _sd(design.X[:, term.slice]))
        common[term.name] = Prior("Normal", mu=0, sigma=scale) if auto_scale else Prior("Flat")
        names.add(term.name)
    for term in design.group_terms:
        scale = STD if term.kind == "intercept" else _scalar_or_array(STD / _sd(term.Z))
        hyper = Prior("HalfNormal", sigma=scale) if auto_scale else Prior("HalfFlat")
        group[term.name] = Prior("Normal", mu=0, sigma=hyper)
        names.add(term.name)
    for block in design.group_blocks:
        corr[block.name] = Prior("LKJCorr", eta=LKJ_ETA)
        names.add(block.name)
    aux = {k: v for k, v in priors.aux.items() if k != part.param}
    return PriorSet(
        common=common,
        group=group,
        aux=aux,
        user=priors.user,
        corr=corr,
        distributional=priors.distributional | names,
        terms=priors.terms,
    )


def check_vector_priors(priors: PriorSet, family: Family, response: ResponseData) -> None:
    """Check that priors of vector parameters (thresholds) have one value per coordinate.

    Each array-valued argument must be a scalar or have as many values as the parameter's
    dimension has coordinates (``response.coords``).
    """
    for param in family.aux:
        prior = priors.aux.get(param.name)
        if param.dim is None or not isinstance(prior, Prior):
            continue
        size = len(response.coords.get(param.dim, ()))
        for key, value in prior.args.items():
            if isinstance(value, Prior):
                continue
            shape = np.shape(value)
            if shape not in ((), (size,)):
                labels = ", ".join(map(str, response.coords.get(param.dim, ())))
                raise PriorError(
                    f"the prior for '{param.name}' has {key} with shape {shape}, but "
                    f"'{param.name}' has {size} values ({labels}); give a number or "
                    f"{size} values."
                )


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
    (``"1|g"``), the correlations of a block of correlated group-specific terms
    (``"1+x|g_corr"``, an ``LKJCorr`` prior), an auxiliary parameter (``"sigma"``; a number
    fixes it), ``"common"`` (every common term except the intercept) or ``"group_specific"``
    (every group-specific term).
    Named keys win over ``"common"``/``"group_specific"``.
    """
    if not user:
        return priors
    if not isinstance(user, Mapping):
        raise PriorError(f"priors must be a dict of name -> bf.Prior, got {type(user).__name__}.")
    user = family.translate_priors(user)  # other parameterisations' names (Bambi's kappa)
    common, group, aux = dict(priors.common), dict(priors.group), dict(priors.aux)
    corr = dict(priors.corr)
    corr_keys = {f"{name}_corr": name for name in corr}
    terms = dict(priors.terms)
    set_by_user: set[str] = set()
    known = (
        set(common)
        | set(group)
        | set(terms)
        | set(family.aux_names)
        | set(corr_keys)
        | {"common", "group_specific"}
    )
    for key in user:
        if key in family.aux_names and key not in aux:
            terms = sorted(n for n in common | group if n.startswith(f"{key}_"))
            raise PriorError(
                f"'{key}' is modelled by its own formula, so it has no prior of its own; set "
                f"the priors of its terms instead: {', '.join(terms)}."
            )
        if key == "Intercept" and not family.intercept:
            owners = [a.name for a in family.aux if a.replaces_intercept]
            raise PriorError(
                f"family '{family.name}' has no Intercept: its {', '.join(owners)} parameters "
                f"take its place; set their prior with priors={{'{owners[0]}': bf.Prior(...)}}."
                if owners
                else f"family '{family.name}' has no Intercept."
            )
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
            if name != "Intercept" and name not in priors.distributional:
                common[name] = value
                set_by_user.add(name)
    if "group_specific" in user:
        value = _check_group_prior("group_specific", user["group_specific"])
        for name in group:
            if name not in priors.distributional:
                group[name] = value
                set_by_user.add(name)
    for key, value in user.items():
        if key in ("common", "group_specific"):
            continue
        if key in common:
            if not isinstance(value, Prior):
                raise PriorError(f"the prior for '{key}' must be a bf.Prior, got {value!r}.")
            if value.name == "LKJCorr":
                raise PriorError(
                    f"LKJCorr is the prior of correlations (keys like '1+x|g_corr'), not of the "
                    f"coefficient '{key}'."
                )
            common[key] = value
        elif key in group:
            group[key] = _check_group_prior(key, value)
        elif key in corr_keys:
            if not isinstance(value, Prior) or value.name != "LKJCorr":
                raise PriorError(
                    f"the correlations '{key}' take an LKJ prior, e.g. "
                    f"bf.Prior('LKJCorr', eta=2) (eta > 1 favours weaker correlations); "
                    f"got {value!r}."
                )
            corr[corr_keys[key]] = value
        elif key in terms:
            terms[key] = _check_term_prior(key, value, terms[key])
        else:  # auxiliary parameter
            param = next(a for a in family.aux if a.name == key)
            if isinstance(value, Prior):
                aux[key] = value
            elif param.dim is not None:
                raise PriorError(
                    f"the prior for '{key}' must be a bf.Prior (one value per {param.dim} "
                    f"coordinate), e.g. bf.Prior('Normal', mu=0, sigma=2); got {value!r}."
                )
            elif is_scalar_number(value) and param.check_fixed(float(value)):
                aux[key] = float(value)
            else:
                raise PriorError(
                    f"the prior for '{key}' must be a bf.Prior or a number "
                    f"{AUX_SUPPORTS[param.support][1]} to fix it, got {value!r}."
                )
        set_by_user.add(key)
    return PriorSet(
        common=common,
        group=group,
        aux=aux,
        user=frozenset(set_by_user),
        corr=corr,
        distributional=priors.distributional,
        terms=terms,
    )


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
