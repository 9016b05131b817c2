"""`ModelSpec`, the frozen description of a model, and `specify`, the pure function that makes one.

Every later stage (the PyMC graph, the fast path's log-density, predictions, the pointwise
log-likelihood, saving) takes a `ModelSpec` or the values it holds; none of them changes it.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import pandas as pd

from bayesformula.core.frames import to_pandas
from bayesformula.core.prior import Prior
from bayesformula.core.validate import check_bool
from bayesformula.errors import FamilyError
from bayesformula.families.family import Family, ResponseData
from bayesformula.families.links import Link
from bayesformula.families.pickling import portable
from bayesformula.families.registry import get_family
from bayesformula.formula.design import Design, make_design
from bayesformula.formula.formula import Formula
from bayesformula.formula.helpers import ResponseHelper, evaluate_helper, split_response_helper
from bayesformula.priors.auto import (
    PriorSet,
    add_part_priors,
    apply_user_priors,
    check_vector_priors,
    default_priors,
)
from bayesformula.spec.bambi import check_prior_options
from bayesformula.spec.checks import (
    check_category_priors,
    check_has_cdf,
    check_per_category_terms,
)
from bayesformula.spec.distributional import AuxPart, aux_parts, used_columns
from bayesformula.spec.parameterization import (
    FactorChoice,
    anchor_factor,
    resolve_parameterization,
)

__all__ = ["ModelSpec", "SpecOptions", "specify"]


@dataclass(frozen=True)
class SpecOptions:
    """The options a model was specified with, as the user gave them (`bayesformula.save`
    stores them; `specify` reads nothing else)."""

    priors: Mapping[str, Any] | None = None
    link: str | Mapping[str, str] | None = None
    categorical: str | tuple[str, ...] | None = None
    dropna: bool = False
    auto_scale: bool = True
    noncentered: bool | Mapping[str, bool] | None = None
    center_predictors: bool = True
    #: names of the values given through ``extra_namespace`` (the values themselves are not kept)
    extra_namespace: tuple[str, ...] = ()

    def __reduce__(self) -> tuple:
        # the read-only views of the user's dicts pickle as dicts
        fields = {key: _thawed(value) for key, value in vars(self).items()}
        return (_spec_options, (fields,))


@dataclass(frozen=True, eq=False)
class ModelSpec:
    """Everything that defines a model: formula, data, family, link, design, priors, response,
    response helper, auxiliary formulas and the parameterisation of group effects.

    Frozen: a different model is a different spec (`dataclasses.replace` makes one). Compiled
    artefacts (the PyMC graph, the fast path's log-density, prediction functions) are cached per
    spec by `bayesformula.compiled`; a spec is hashed by identity, so each one has its own.

    A spec pickles (with `pickle` or cloudpickle) as the arguments of `specify` and is
    specified again when unpickled, which gives the same design, priors and parameterisation;
    compiled artefacts are not pickled and are built again on first use.

    Attributes
    ----------
    formula : Formula
    data : pandas.DataFrame
        The data as given (only the formula's columns are read).
    family : Family
    link : Link
        The parent parameter's link.
    design : Design
        Design matrices of the main formula (intercept dropped for ordinal families).
    aux_parts : Mapping[str, AuxPart]
        Auxiliary parameter -> its own formula's model (distributional regression).
    response_data : ResponseData
        The checked response.
    response_helper : ResponseHelper or None
        Censoring, truncation or weights from ``censored()``, ``truncated()``, ``weighted()``.
    priors : PriorSet
        Every parameter's prior (defaults with the user's overrides).
    parameterization : Mapping[str, FactorChoice]
        Grouping factor -> centered or non-centered, and why.
    anchor : str or None
        The centered factor whose effects the fast path samples centered on the intercept.
    options : SpecOptions
        The options as given.
    extra_namespace : Mapping[str, Any]
        The values given through ``extra_namespace`` (kept to specify a pickled spec again).
    """

    formula: Formula
    data: pd.DataFrame = field(repr=False)
    family: Family
    link: Link
    design: Design = field(repr=False)
    aux_parts: Mapping[str, AuxPart] = field(repr=False)
    response_data: ResponseData = field(repr=False)
    response_helper: ResponseHelper | None
    priors: PriorSet = field(repr=False)
    parameterization: Mapping[str, FactorChoice]
    anchor: str | None
    options: SpecOptions
    extra_namespace: Mapping[str, Any] = field(
        default_factory=lambda: MappingProxyType({}), repr=False
    )

    def __reduce__(self) -> tuple:
        # A spec pickles as the arguments of `specify` (the data, the family, the options and
        # the extra namespace's values) and is specified again when unpickled: the design
        # holds formulae's evaluated matrices, whose environment (modules, functions) pickle
        # cannot carry, and `specify` rebuilds them, and everything else, deterministically.
        options = self.options
        arguments = {
            "formula": self.formula,
            "data": self.data,
            "family": self.family,
            "priors": _thawed(options.priors),
            "link": _thawed(options.link),
            "categorical": options.categorical,
            "dropna": options.dropna,
            "auto_scale": options.auto_scale,
            "noncentered": _thawed(options.noncentered),
            "center_predictors": options.center_predictors,
            "extra_namespace": (
                {key: portable(value) for key, value in self.extra_namespace.items()}
                if self.extra_namespace
                else None
            ),
        }
        return (_respecify, (arguments, self.design.n_dropped))

    @property
    def response_name(self) -> str:
        """Name of the observed variable in the PyMC model and in the results."""
        return self.design.response.name

    @property
    def center_predictors(self) -> bool:
        return self.options.center_predictors

    @property
    def centered_factors(self) -> list[str]:
        """Grouping factors whose effects are sampled centered."""
        return [f for f, c in self.parameterization.items() if not c.noncentered]

    @property
    def designs(self) -> list[Design]:
        """The main formula's design, then those of the auxiliary formulas."""
        return [self.design] + [p.design for p in self.aux_parts.values()]

    def centered_aux(self) -> list[str]:
        """Auxiliary parameters sampled at the predictors' means (ordinal thresholds)."""
        if not (self.center_predictors and self.design.common_terms):
            return []
        return [
            a.name
            for a in self.family.aux
            if a.replaces_intercept and isinstance(self.priors.aux[a.name], Prior)
        ]

    def with_n_dropped(self, n_dropped: int) -> ModelSpec:
        """The same spec, recording ``n_dropped`` rows dropped before it (`bayesformula.load`)."""
        return replace(self, design=replace(self.design, n_dropped=n_dropped))


def _frozen(value):
    """A read-only view of a user's dict (lists become tuples), for `SpecOptions`."""
    if isinstance(value, dict):
        return MappingProxyType(dict(value))
    if isinstance(value, list):
        return tuple(value)
    return value


def _thawed(value):
    """A read-only view as a plain dict (pickle cannot carry the view itself)."""
    return dict(value) if isinstance(value, MappingProxyType) else value


def _spec_options(fields: dict[str, Any]) -> SpecOptions:
    """The `SpecOptions` of ``fields`` (as `_thawed` gave them): how they unpickle."""
    return SpecOptions(**{key: _frozen(value) for key, value in fields.items()})


def _respecify(arguments: dict[str, Any], n_dropped: int) -> ModelSpec:
    """A pickled `ModelSpec`, specified again from its arguments.

    The warnings `specify` gives (rows dropped, for example) were given when the spec was
    first made and are not repeated; ``n_dropped`` restores the count a spec recorded with
    `ModelSpec.with_n_dropped`.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spec = specify(**arguments)
    if spec.design.n_dropped != n_dropped:
        spec = spec.with_n_dropped(n_dropped)
    return spec


def specify(
    formula: str | Formula,
    data: pd.DataFrame,
    family: Any = "gaussian",
    priors: dict[str, Any] | None = None,
    link: str | dict | None = None,
    categorical: str | list[str] | None = None,
    dropna: bool = False,
    auto_scale: bool = True,
    noncentered: bool | dict[str, bool] | None = None,
    center_predictors: bool = True,
    extra_namespace: dict[str, Any] | None = None,
) -> ModelSpec:
    """Check the formula against the data and set up everything that defines the model.

    The arguments are those of `bayesformula.Model`; it calls this function. Nothing is
    compiled and nothing is sampled.

    Returns
    -------
    ModelSpec

    Examples
    --------
    >>> import bayesformula as bf
    >>> from bayesformula.spec import specify
    >>> spec = specify("p(deaths, n) ~ dose", bf.load_data("bioassay"), family="binomial")
    >>> spec.family.name, spec.link.name, list(spec.priors.common)
    ('binomial', 'logit', ['Intercept', 'dose'])
    """
    for flag, value in (
        ("dropna", dropna),
        ("auto_scale", auto_scale),
        ("center_predictors", center_predictors),
    ):
        check_bool(value, flag, "Model()")
    if data is not None and not isinstance(data, pd.DataFrame):  # polars, pyarrow, a dict
        data = to_pandas(data, "data", "Model()")[0]
    elif isinstance(data, pd.DataFrame):
        # pandas' copy-on-write makes this copy lazy: later edits of the caller's frame do
        # not reach the model (its saved or pickled data stay the data it was built on)
        data = data.copy(deep=False)
    formula = formula if isinstance(formula, Formula) else Formula(formula)
    options = SpecOptions(
        priors=_frozen(priors),
        link=_frozen(link),
        categorical=_frozen(categorical),
        dropna=dropna,
        auto_scale=auto_scale,
        noncentered=_frozen(noncentered),
        center_predictors=center_predictors,
        extra_namespace=tuple(sorted(extra_namespace)) if isinstance(extra_namespace, dict) else (),
    )
    family = get_family(family)
    link_obj: Link = family.resolve_link(link)
    main, helper_spec = split_response_helper(formula.main)
    additionals = formula.additionals
    if helper_spec is not None and family.parent_over_levels:
        kind = "ordinal" if family.support == "ordinal" else "categorical"
        raise FamilyError(
            f"{helper_spec.text}: response helpers (censored, truncated, weighted) are not "
            f"available for the {kind} family '{family.name}'; write the response "
            f"as a plain column ('{helper_spec.response} ~ ...')."
        )
    if not family.intercept:
        # Ordinal families: the thresholds take the intercept's place whether or not the
        # formula removes it ('0 +', as Bambi's examples write), and categorical predictors get
        # the reduced coding they get with an intercept (formulae restores it with a final '+ 1').
        written, main = main, f"{main} + 1"
    design = make_design(
        main,
        data,
        dropna=dropna,
        categorical=categorical,
        extra_namespace=extra_namespace,
        also_used=(
            used_columns(additionals, family, getattr(data, "columns", [])) if additionals else ()
        ),
    )
    parts = aux_parts(
        additionals,
        family,
        data,
        design.index,
        links=link if isinstance(link, dict) else None,
        categorical=categorical,
        extra_namespace=extra_namespace,
    )
    response = family.check_response(design.response, design.index)
    if family.per_category:
        check_per_category_terms(design, family)
    if not family.intercept:  # ordinal families: the thresholds take its place
        # the design was made with an intercept, so categorical predictors keep reduced coding
        design = replace(design, intercept=False, formula=written)
    helper = (
        None
        if helper_spec is None
        else evaluate_helper(helper_spec, data, design.index, response.values)
    )
    if helper is not None and helper.kind != "weighted":
        check_has_cdf(family, helper.text)
    parameterization = resolve_parameterization(noncentered, design, family, response)
    defaults = default_priors(design, family, link_obj, response, auto_scale=auto_scale)
    for part in parts.values():
        defaults = add_part_priors(defaults, part, family, response, auto_scale=auto_scale)
    prior_set: PriorSet = apply_user_priors(defaults, priors, family)
    check_vector_priors(prior_set, family, response)
    check_prior_options(prior_set, [design, *(p.design for p in parts.values())], family)
    if family.per_category:
        check_category_priors(prior_set, design, response)
    return ModelSpec(
        formula=formula,
        data=data,
        family=family,
        link=link_obj,
        design=design,
        aux_parts=MappingProxyType(dict(parts)),
        response_data=response,
        response_helper=helper,
        priors=prior_set,
        parameterization=MappingProxyType(dict(parameterization)),
        anchor=anchor_factor(design, parameterization),
        options=options,
        extra_namespace=MappingProxyType(
            dict(extra_namespace) if isinstance(extra_namespace, Mapping) else {}
        ),
    )
