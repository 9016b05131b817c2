"""The `Family` value: likelihood, parameters, links, response checks, default priors."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bayesformula.core.prior import Prior, is_scalar_number
from bayesformula.errors import FamilyError, PriorError, ResponseError
from bayesformula.families.links import LINKS, Link, get_link
from bayesformula.families.pickling import reduce_by_value, registered_family

__all__ = [
    "AUX_ALIASES",
    "AuxAlias",
    "AuxParam",
    "Family",
    "ResponseData",
    "SUPPORTS",
    "gammafn",
    "register_aux_alias",
]

#: Response supports a family can declare (see `Family`).
SUPPORTS = (
    "real",
    "binary",
    "trials",
    "count",
    "positive",
    "nonnegative",
    "unit",
    "circular",
    "ordinal",
    "categorical",
    "multinomial",
)


def _is_tensor(x) -> bool:
    return type(x).__module__.startswith("pytensor")


def gammafn(x):
    """The gamma function on numpy arrays or PyTensor tensors (for ``Family.to_dist``)."""
    if _is_tensor(x):
        import pytensor.tensor as pt

        return pt.gamma(x)
    from scipy import special

    return special.gamma(x)


def _is_positive(v) -> bool:
    return v > 0


def _is_finite(v) -> bool:
    return np.isfinite(v)


def _is_in_unit_interval(v) -> bool:
    return 0 < v < 1


#: Values an auxiliary parameter may take (checked when a user fixes it to a number).
AUX_SUPPORTS = {
    "positive": (_is_positive, "> 0"),
    "real": (_is_finite, "finite"),
    "unit": (_is_in_unit_interval, "strictly between 0 and 1"),
}


@dataclass(frozen=True)
class AuxParam:
    """An auxiliary (non-parent) parameter of a family, e.g. ``sigma`` of the gaussian.

    ``default_prior`` maps the response's scale ``sd_y`` to the default prior, or to a number
    that fixes the parameter (asymmetric laplace's quantile ``q``). ``support`` is what a
    user's fixed value must satisfy: "positive" (default), "real" or "unit". ``description``
    says what the parameter is (shown next to its prior when the model is printed).

    Vector parameters (the thresholds of ordinal families) name their coordinate dimension in
    ``dim``; its labels come from the checked response (``ResponseData.coords``). ``ordered``
    samples them with PyMC's ordered transform. ``data_prior(response, link)``, when given,
    is the data-scaled default used with ``auto_scale=True`` (``default_prior`` is then the
    unscaled one). ``replaces_intercept`` marks a parameter that takes the intercept's place:
    with centred predictors it is sampled at the predictors' means (``{name}_centered``).
    """

    name: str
    default_prior: Callable[[float], Prior | float]
    support: str = "positive"
    description: str = field(default="", compare=False)
    dim: str | None = None
    ordered: bool = False
    data_prior: Callable[..., Prior] | None = field(default=None, compare=False)
    replaces_intercept: bool = False

    def __post_init__(self):
        if self.support not in AUX_SUPPORTS:
            raise FamilyError(
                f"auxiliary parameter '{self.name}': support must be one of "
                f"{', '.join(AUX_SUPPORTS)}, got {self.support!r}."
            )

    def check_fixed(self, value: float) -> bool:
        """Whether ``value`` is a valid fixed value of this parameter."""
        return bool(AUX_SUPPORTS[self.support][0](value))

    def __reduce__(self) -> tuple:
        return reduce_by_value(self)


@dataclass(frozen=True)
class AuxAlias:
    """Another parameterisation's name for a fixed auxiliary parameter, accepted in ``priors=``.

    Bambi's asymmetric Laplace has ``kappa`` where bayesformula fixes the quantile ``q``
    (``q = kappa**2 / (1 + kappa**2)``): ``priors={"kappa": 2.0}`` fixes ``q`` at 0.8. A
    number converts with ``to_target``; a prior does not (it would need the distribution of
    the converted value) and is an error that names ``target``.

    Attributes
    ----------
    name : str
        The other name (``"kappa"``).
    target : str
        The family's parameter it converts to (``"q"``).
    to_target : callable
        A valid value of ``name`` (``support``) -> the value of ``target``.
    relation : str
        The conversion as written in messages (``"q = kappa**2 / (1 + kappa**2)"``).
    support : str, default "positive"
        Values ``name`` may take (`AUX_SUPPORTS`).
    """

    name: str
    target: str
    to_target: Callable[[float], float]
    relation: str
    support: str = "positive"

    def convert(self, value: Any, family: Family) -> float:
        """The target's value for ``value`` given as this alias.

        Raises
        ------
        PriorError
            For a prior (give the target instead) or an invalid number.
        """
        fam = f"family '{family.name}'"
        if isinstance(value, Prior):
            raise PriorError(
                f"{fam} has no parameter '{self.name}': it fixes '{self.target}' instead "
                f"({self.relation}), so a prior on '{self.name}' has no counterpart. Fix "
                f"'{self.name}' with a number (priors={{'{self.name}': 2.0}} is "
                f"{self.target} = {self.to_target(2.0):g}), or set '{self.target}' itself: a "
                f"number, or a prior to estimate it, e.g. priors={{'{self.target}': "
                "bf.Prior('Beta', alpha=2, beta=2)})."
            )
        check, text = AUX_SUPPORTS[self.support]
        if not (is_scalar_number(value) and check(float(value))):
            raise PriorError(
                f"priors['{self.name}'] of {fam} must be a number {text}, which fixes "
                f"'{self.target}' ({self.relation}); got {value!r}."
            )
        return float(self.to_target(float(value)))


#: Likelihood -> the `AuxAlias` names its families accept in ``priors=`` (for a family with
#: the alias's target and without a parameter of the alias's own name).
AUX_ALIASES: dict[str, tuple[AuxAlias, ...]] = {}


def register_aux_alias(likelihood: str, alias: AuxAlias) -> AuxAlias:
    """Let families of ``likelihood`` take ``alias.name`` in ``priors=`` for ``alias.target``."""
    AUX_ALIASES[likelihood] = (*AUX_ALIASES.get(likelihood, ()), alias)
    return alias


@dataclass(frozen=True)
class ResponseData:
    """The response as the likelihood sees it."""

    values: np.ndarray
    trials: np.ndarray | None = None
    note: str | None = None
    #: ordered categories of an ordinal response (``values`` are their codes 0..K-1)
    levels: tuple[str, ...] | None = None
    #: the dimension over ``levels`` of per-category quantities (``{response}_dim``)
    level_dim: str | None = None
    #: coordinates the response brings to the model (levels, threshold labels)
    coords: dict = field(default_factory=dict)
    #: the dimension of per-category coefficients (every level but the reference) of
    #: categorical families (``{response}_reduced_dim``)
    category_dim: str | None = None


def _plain(value) -> str:
    """A value as a user wrote it (1.5, not np.float64(1.5))."""
    return repr(value.item() if hasattr(value, "item") else value)


def _rows(mask: np.ndarray, index: pd.Index, values: np.ndarray, limit: int = 5) -> str:
    where = np.flatnonzero(mask)
    shown = ", ".join(f"row {index[i]!r}: {_plain(values[i])}" for i in where[:limit])
    more = f" and {len(where) - limit} more" if len(where) > limit else ""
    return f"{len(where)} value(s) ({shown}{more})"


#: Support -> its response check ``(family, response, index) -> ResponseData``, for supports
#: whose responses are not one number per row (registered by `families.ordinal` and
#: `families.categorical`); the others are checked by `Family.check_response` itself.
RESPONSE_CHECKS: dict[str, Callable] = {}


def register_response_check(support: str):
    """Register the decorated function as the response check of families of ``support``."""

    def decorate(check):
        RESPONSE_CHECKS[support] = check
        return check

    return decorate


@dataclass(frozen=True)
class Family:
    """A response distribution with its parameters and links.

    Bambi's spelling also works: ``Family(name, likelihood, link)`` with ``likelihood`` a
    `bayesformula.Likelihood` and ``link`` the parent's link (a name or a `Link`) or a dict of
    links by parameter, ``{"mu": "identity", "sigma": "log"}`` (an auxiliary parameter's link
    is the one its formula takes). See `bayesformula.families.custom`.

    Parameters
    ----------
    name : str
        Registry name ("gaussian", "binomial", ...).
    likelihood : str
        PyMC distribution name.
    parent : str
        The parameter modelled by the linear predictor ("mu" or "p").
    links : tuple of str or Link
        Supported links for the parent; the first is the default. A `Link` of your own (not
        in `LINKS`) may stand in for a name.
    aux : tuple of AuxParam
        Auxiliary parameters with their default priors.
    support : {"real", "binary", "trials", "count", "positive", "nonnegative", "unit", \
"circular", "ordinal", "categorical", "multinomial"}
        What response values are valid ("nonnegative": zero or positive, as hurdle models of
        positive responses take; "circular": angles in radians, within [-pi, pi]; "ordinal":
        ordered categories, coded 0..K-1 for the likelihood; "categorical": unordered
        categories, coded the same way; "multinomial": counts per category written
        ``c(y1, ..., yK)``, whose row totals are the trials). Categorical and multinomial
        families give every term one coefficient per category but the first (the softmax
        link's reference).
    to_dist : callable
        Maps ``{parent, aux..., "trials"}`` to the PyMC distribution's keyword arguments. Uses
        only arithmetic, so it works on numpy arrays and PyTensor tensors alike.
    draw : callable
        ``draw(rng, **dist_kwargs)`` draws responses with numpy (posterior predictive).
    scale_by_response : bool
        Whether default priors are scaled by the response's standard deviation (gaussian, t).
    response_transform : callable, optional
        Applied to the positive responses before their mean and standard deviation set the
        default priors (``np.log`` for lognormal families, whose ``mu`` is on the log scale).
    parent_fn : callable, optional
        ``parent_fn(eta, aux, link)`` maps the linear predictor and the auxiliary parameters
        (PyTensor) to the parent parameter, instead of the link's inverse of ``eta``. Ordinal
        families use it for the category probabilities (``p``, one per response level).
    intercept : bool, default True
        Whether the linear predictor keeps the formula's intercept. Ordinal families drop it:
        their thresholds take its place.
    logp : callable, optional
        ``logp(value, **dist_kwargs)`` on PyTensor tensors: a log-density that replaces the
        PyMC likelihood's (which still checks ``draw``). The dirichlet-multinomial uses it to
        stay accurate for a large precision.
    """

    name: str
    likelihood: str
    parent: str
    links: tuple[str, ...]
    support: str
    to_dist: Callable[[dict[str, Any]], dict[str, Any]]
    draw: Callable[..., np.ndarray]
    aux: tuple[AuxParam, ...] = ()
    scale_by_response: bool = False
    response_transform: Callable[[np.ndarray], np.ndarray] | None = field(
        default=None, compare=False
    )
    description: str = field(default="", compare=False)
    parent_fn: Callable | None = field(default=None, compare=False)
    intercept: bool = True
    logp: Callable | None = field(default=None, compare=False)

    def __post_init__(self):
        if self.support not in SUPPORTS:
            raise FamilyError(
                f"family '{self.name}': support must be one of {', '.join(SUPPORTS)}, got "
                f"{self.support!r}."
            )
        names = [self.parent, *self.aux_names]
        if len(set(names)) != len(names) or "trials" in names:
            raise FamilyError(
                f"family '{self.name}': parameter names must be distinct and not 'trials'; got "
                f"{names}."
            )
        if not self.links:
            raise FamilyError(f"family '{self.name}' needs at least one link.")

    def __reduce__(self) -> tuple:
        # a registered family pickles as its name and unpickles as the registry's object;
        # any other by value (its functions with cloudpickle where pickle cannot name them)
        from bayesformula.families.registry import FAMILIES

        if FAMILIES.get(self.name) is self:
            return (registered_family, (self.name,))
        return reduce_by_value(self)

    @property
    def default_link(self) -> str | Link:
        """The link used when none is given (a name, or a `Link` of a custom family's own)."""
        return self.links[0]

    @property
    def link_names(self) -> tuple[str, ...]:
        """Names of the supported links."""
        return tuple(k.name if isinstance(k, Link) else k for k in self.links)

    @property
    def parent_over_levels(self) -> bool:
        """Whether the parent holds one value per response level (ordinal and categorical
        families)."""
        return self.support in ("ordinal", "categorical", "multinomial")

    @property
    def per_category(self) -> bool:
        """Whether every term has one coefficient per non-reference category (categorical,
        multinomial and dirichlet-multinomial families)."""
        return self.support in ("categorical", "multinomial")

    @property
    def aux_names(self) -> tuple[str, ...]:
        """Names of the auxiliary parameters."""
        return tuple(a.name for a in self.aux)

    def translate_priors(self, priors: Any) -> Any:
        """``priors=`` with other parameterisations' names converted to this family's
        parameters (`AUX_ALIASES`: Bambi's ``kappa`` of the asymmetric Laplace fixes ``q``).

        Raises
        ------
        PriorError
            If both names are given, or the alias's value cannot be converted.
        """
        aliases = [
            alias
            for alias in AUX_ALIASES.get(self.likelihood, ())
            if alias.target in self.aux_names and alias.name not in self.aux_names
        ]
        if not isinstance(priors, Mapping) or not any(a.name in priors for a in aliases):
            return priors
        out = dict(priors)
        for alias in aliases:
            if alias.name not in out:
                continue
            if alias.target in out:
                raise PriorError(
                    f"priors sets both '{alias.name}' and '{alias.target}' of family "
                    f"'{self.name}' ({alias.relation}); keep one."
                )
            out[alias.target] = alias.convert(out.pop(alias.name), self)
        return out

    def resolve_link(self, link: str | dict | None) -> Link:
        """Return the parent parameter's link, checking the family supports it."""
        if isinstance(link, dict):
            unknown = set(link) - {self.parent} - set(self.aux_names)
            if unknown:
                raise FamilyError(
                    f"link was given for {sorted(unknown)}, which family '{self.name}' does "
                    f"not have; its parameters are '{self.parent}' (the parent) and "
                    f"{', '.join(repr(a) for a in self.aux_names) or 'no others'}."
                )
            link = link.get(self.parent)
        if link is None:
            return get_link(self.default_link)
        if isinstance(link, Link) and link.name not in LINKS:
            return link  # a user-defined link: the caller vouches for its range
        name = link.name if isinstance(link, Link) else link
        if name in self.link_names and not isinstance(self.links[self.link_names.index(name)], str):
            return self.links[self.link_names.index(name)]  # the family's own Link of that name
        resolved = get_link(name)
        if resolved.name not in self.link_names:
            raise FamilyError(
                f"family '{self.name}' does not support link '{resolved.name}'; supported links: "
                f"{', '.join(self.link_names)} (default '{self.link_names[0]}')."
            )
        return resolved

    # ------------------------------------------------------------------ response checks
    def check_response(self, response, index: pd.Index) -> ResponseData:
        """Validate a `bayesformula.formula.Response` for this family.

        Raises
        ------
        ResponseError
            With the offending rows and values, and what to do about it.
        """
        name, kind = response.expr, response.kind
        fam = f"family '{self.name}'"
        special = RESPONSE_CHECKS.get(self.support)
        if special is not None:  # ordered categories, categories, counts per category
            return special(self, response, index)
        if kind == "proportion" and self.support != "trials":
            raise ResponseError(
                f"the response {name} gives successes and trials, which only binomial-type "
                f"families use; {fam} needs a plain response. Use family='binomial' or write the "
                f"response as a single column."
            )
        if kind == "categoric":
            levels = response.levels or ()
            if self.support == "binary" and len(levels) == 2:
                values = response.values[:, -1].astype(int)
                note = f"modelling the probability that {response.name} == '{levels[-1]}'"
                return ResponseData(values=values, note=note)
            if self.support == "binary":
                raise ResponseError(
                    f"{fam} needs a response with two categories or 0/1 values; '{name}' has "
                    f"{len(levels)} levels ({', '.join(levels)}). Pick one with "
                    f"{response.name}[level] or use a categorical model."
                )
            raise ResponseError(
                f"{fam} needs a numeric response, but '{name}' is categorical with levels "
                f"{', '.join(levels[:6])}. Convert it to numbers, or use family='categorical' "
                "(or 'bernoulli' for two categories)."
            )
        y = numeric_column(
            response,
            fam,
            "a numeric response",
            "Convert it with pandas.to_numeric or choose another family.",
        )
        if not np.all(np.isfinite(y)):
            raise ResponseError(
                f"'{name}' has {_rows(~np.isfinite(y), index, y)} that are not finite."
            )
        return self._check_support(y, response, index)

    def _check_support(self, y: np.ndarray, response, index) -> ResponseData:
        name, fam = response.expr, f"family '{self.name}'"
        support = self.support
        if support == "trials":
            if response.kind != "proportion":
                raise ResponseError(
                    f"{fam} needs the number of trials: write the response as "
                    f"p({response.name}, n) with n a column or a number "
                    f"(or use family='bernoulli' for 0/1 outcomes)."
                )
            trials = np.asarray(response.trials, dtype=float)
            _check_counts(y, index, f"the successes in {name}")
            _check_counts(trials, index, f"the trials in {name}")
            bad = y > trials
            if bad.any():
                raise ResponseError(
                    f"successes exceed trials in {name} for {_rows(bad, index, y)}; "
                    f"each row needs successes <= trials."
                )
            return ResponseData(values=y.astype(np.int64), trials=trials.astype(np.int64))
        if support == "binary":
            bad = ~np.isin(y, (0.0, 1.0))
            if bad.any():
                raise ResponseError(
                    f"{fam} needs 0/1 (or True/False, or two-category) responses; '{name}' has "
                    f"{_rows(bad, index, y)}. For counts out of n use family='binomial' with "
                    f"p({response.name}, n)."
                )
            return ResponseData(values=y.astype(np.int64))
        if support == "count":
            _check_counts(y, index, f"'{name}' ({fam})")
            return ResponseData(values=y.astype(np.int64))
        if support == "positive":
            bad = y <= 0
            if bad.any():
                raise ResponseError(
                    f"{fam} needs a response > 0; '{name}' has {_rows(bad, index, y)}. "
                    "Drop or shift those rows, or choose a family that allows them."
                )
        if support == "nonnegative":
            bad = y < 0
            if bad.any():
                raise ResponseError(
                    f"{fam} needs a response >= 0; '{name}' has {_rows(bad, index, y)}. "
                    "Drop those rows or choose a family for real-valued responses."
                )
        if support == "circular":
            bad = np.abs(y) > np.pi + 1e-12
            if bad.any():
                raise ResponseError(
                    f"{fam} needs angles in radians within [-pi, pi]; '{name}' has "
                    f"{_rows(bad, index, y)}. Wrap them, e.g. np.angle(np.exp(1j * y)), or "
                    "convert degrees with np.deg2rad first."
                )
        if support == "unit":
            bad = (y <= 0) | (y >= 1)
            if bad.any():
                raise ResponseError(
                    f"{fam} needs a response strictly between 0 and 1; '{name}' has "
                    f"{_rows(bad, index, y)}. Rescale, e.g. (y * (n - 1) + 0.5) / n, or model "
                    "counts with family='binomial'."
                )
        return ResponseData(values=y)


_FIELDS_INIT = Family.__init__


@functools.wraps(_FIELDS_INIT)
def _family_init(self, name, likelihood, *args, **kwargs):
    """`Family`'s fields, or Bambi's ``Family(name, likelihood, link)`` with a
    `bayesformula.families.custom.Likelihood` (see `family_fields` there)."""
    if isinstance(likelihood, str):
        _FIELDS_INIT(self, name, likelihood, *args, **kwargs)
        return
    from bayesformula.families.custom import family_fields

    _FIELDS_INIT(self, **family_fields(name, likelihood, *args, **kwargs))


Family.__init__ = _family_init


def numeric_column(response, fam: str, needs: str, advice: str) -> np.ndarray:
    """A single-column response as floats (booleans as 0/1).

    Raises `ResponseError` for several columns (``c(...)`` counts get the families that take
    them named) and for a non-numeric dtype: ``"{fam} needs {needs}; ... {advice}"``.
    """
    y = np.asarray(response.values)
    if y.ndim != 1:
        hint = (
            " Counts per category written c(y1, ..., yK) need family='multinomial' or "
            "'dirichlet_multinomial'."
            if response.kind == "columns"
            else ""
        )
        raise ResponseError(
            f"{fam} needs a single response column; '{response.expr}' has {y.shape[1]}.{hint}"
        )
    if y.dtype == bool:
        y = y.astype(int)
    if not np.issubdtype(y.dtype, np.number):
        raise ResponseError(f"{fam} needs {needs}; '{response.expr}' has dtype {y.dtype}. {advice}")
    return y.astype(float)


def _check_counts(y: np.ndarray, index, what: str) -> None:
    bad = (y < 0) | (y != np.round(y))
    if bad.any():
        raise ResponseError(
            f"{what} must be non-negative whole numbers; found {_rows(bad, index, y)}."
        )
