"""The spec side of Bambi's model API: read-only views named as Bambi names them
(`components`, `response_component`), the user priors that ``set_priors`` specifies a model
with again (`merged_priors`), and the check that a prior's ``transform=`` is used where it is
given (`check_prior_options`).

Everything here reads a `ModelSpec` (or the values `specify` makes one from) and writes
nothing; `bayesformula.bambi_api.BambiAPI` puts it on `bayesformula.Model`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from bayesformula.core.prior import Prior
from bayesformula.errors import PriorError

__all__ = [
    "Component",
    "ConstantComponent",
    "GroupSpecificTermView",
    "ResponseComponent",
    "ResponseTermView",
    "TermView",
    "check_prior_options",
    "components",
    "merged_priors",
    "response_component",
]


# ------------------------------------------------------------------ views
@dataclass(frozen=True)
class TermView:
    """A term of a formula as Bambi's ``CommonTerm`` shows it (read-only).

    Attributes
    ----------
    name : str
        The name in the model and the fit (``"x"``; ``"sigma_x"`` in the formula of ``sigma``).
    kind : str
        ``"intercept"``, ``"numeric"``, ``"categoric"``, ``"interaction"``, ``"offset"``,
        ``"mo"`` or ``"hsgp"``.
    prior : Prior, float, dict or None
        Its prior (a number where fixed; for ``hsgp()`` terms a dict of its parameters'
        priors; None for the offset).
    data : ndarray or None
        Its columns in the design, one row per observation.
    categorical : bool
    levels : list or None
        The column labels of a categorical term.
    coords : dict
        Dimension -> coordinates of its coefficients.
    """

    name: str
    kind: str
    prior: Any
    data: np.ndarray | None = field(repr=False, default=None)
    categorical: bool = False
    levels: list | None = None
    coords: Mapping[str, list] = field(default_factory=dict)
    alias: None = None

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of `data` (``()`` without data)."""
        return () if self.data is None else np.shape(self.data)


@dataclass(frozen=True)
class GroupSpecificTermView(TermView):
    """A group-specific term ``expr|factor`` as Bambi's ``GroupSpecificTerm`` shows it.

    Besides `TermView`'s attributes: ``factor`` (the grouping factor), ``expr``, ``groups``
    (the factor's levels), ``predictor`` (the values of ``expr``, one row per observation) and
    ``group_index`` (each observation's level, as positions in ``groups``).
    """

    factor: str = ""
    expr: str = ""
    groups: list = field(default_factory=list)
    predictor: np.ndarray | None = field(repr=False, default=None)
    group_index: np.ndarray | None = field(repr=False, default=None)


@dataclass(frozen=True)
class Component:
    """A parameter modelled by a formula (Bambi's ``DistributionalComponent``).

    Attributes
    ----------
    name : str
        The parameter (``"mu"``, ``"p"``, ``"sigma"``).
    is_parent : bool
        Whether it is the family's parent parameter (the main formula's).
    prefix : str
        What its term names start with in the model (``""``; ``"sigma_"``).
    terms : Mapping[str, TermView]
        Every term, keyed as written in its formula (``"Intercept"``, ``"x"``, ``"1|g"``):
        the intercept, the common terms, the group-specific terms, ``hsgp()`` terms and the
        offset.
    common_terms, group_specific_terms, hsgp_terms, offset_terms : Mapping[str, TermView]
        The terms of each kind (common terms without the intercept, as in Bambi; ``mo()``
        terms are common terms). The offsets are summed into one term, ``"offset"``.
    intercept_term : TermView or None
    design : Design
        The design matrices the views read.
    """

    name: str
    is_parent: bool
    prefix: str
    intercept_term: TermView | None
    common_terms: Mapping[str, TermView]
    group_specific_terms: Mapping[str, GroupSpecificTermView]
    hsgp_terms: Mapping[str, TermView]
    offset_terms: Mapping[str, TermView]
    design: Any = field(repr=False, default=None)
    alias: None = None

    @property
    def terms(self) -> Mapping[str, TermView]:
        """All the component's terms, keyed as written (intercept first)."""
        out: dict[str, TermView] = {}
        if self.intercept_term is not None:
            out["Intercept"] = self.intercept_term
        for part in (
            self.common_terms,
            self.group_specific_terms,
            self.hsgp_terms,
            self.offset_terms,
        ):
            out.update(part)
        return MappingProxyType(out)

    @property
    def group_specific_groups(self) -> Mapping[str, list[str]]:
        """Grouping factor -> its group-specific terms (keyed as written)."""
        out: dict[str, list[str]] = {}
        for key, term in self.group_specific_terms.items():
            out.setdefault(term.factor, []).append(key)
        return MappingProxyType(out)


@dataclass(frozen=True)
class ConstantComponent:
    """An auxiliary parameter without a formula (Bambi's ``ConstantComponent``): one value
    with its prior, or a fixed number."""

    name: str
    prior: Prior | float
    alias: None = None


@dataclass(frozen=True)
class ResponseTermView:
    """The response as Bambi's ``ResponseTerm`` shows it.

    Attributes
    ----------
    name : str
        The observed variable's name in the model and the fit (``"deaths"`` for
        ``p(deaths, n)``; Bambi names it ``"p(deaths, n)"``).
    expr : str
        The response as written in the formula.
    data : ndarray
        The response as the likelihood sees it (category codes for ordinal and categorical
        responses).
    levels : list or None
        Categories of a categorical response.
    is_censored, is_truncated, is_constrained, is_weighted : bool
        Which response helper wraps it (``constrained()`` is also truncated).
    """

    name: str
    expr: str
    data: np.ndarray = field(repr=False)
    trials: np.ndarray | None = field(repr=False, default=None)
    levels: list | None = None
    is_censored: bool = False
    is_truncated: bool = False
    is_constrained: bool = False
    is_weighted: bool = False
    alias: None = None

    @property
    def categorical(self) -> bool:
        """Whether the response has levels (ordinal and categorical families)."""
        return self.levels is not None

    @property
    def binary(self) -> bool:
        """Whether the response has two categories or only the values 0 and 1."""
        values = np.unique(np.asarray(self.data))
        return (self.levels is not None and len(self.levels) == 2) or (
            values.size <= 2 and bool(np.all(np.isin(values, (0, 1))))
        )

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of the response values."""
        return np.shape(self.data)


@dataclass(frozen=True)
class ResponseComponent:
    """Bambi's ``ResponseComponent``: the response term (`term`, also as `response`)."""

    term: ResponseTermView

    @property
    def response(self) -> ResponseTermView:
        """The response term (Bambi's older name for `term`)."""
        return self.term


def _common_view(term, design, priors) -> TermView:
    labels = list(term.labels)
    return TermView(
        name=term.name,
        kind=term.kind,
        prior=priors.common[term.name],
        data=np.asarray(design.X[:, term.slice]).squeeze(axis=1)
        if term.slice.stop - term.slice.start == 1
        else np.asarray(design.X[:, term.slice]),
        categorical=term.categorical,
        levels=labels if term.categorical else None,
        coords={term.dim: labels} if term.dim else {},
    )


def _group_view(term, design, priors) -> GroupSpecificTermView:
    coords = {term.factor_dim: list(design.group_levels[term.factor])}
    if term.expr_dim:
        coords[term.expr_dim] = list(term.columns)
    return GroupSpecificTermView(
        name=term.name,
        kind=term.kind,
        prior=priors.group[term.name],
        data=np.asarray(term.Z),
        categorical=term.categorical,
        levels=list(term.columns) if term.categorical else None,
        coords=coords,
        factor=term.factor,
        expr=term.expr,
        groups=list(design.group_levels[term.factor]),
        predictor=np.asarray(term.Z),
        group_index=np.asarray(design.group_index[term.factor]),
    )


def _component(name: str, design, priors, *, is_parent: bool, prefix: str) -> Component:
    def key(term_name: str) -> str:
        return term_name[len(prefix) :] if prefix and term_name.startswith(prefix) else term_name

    intercept = None
    if design.intercept:
        intercept = TermView(
            name=f"{prefix}Intercept",
            kind="intercept",
            prior=priors.common[f"{prefix}Intercept"],
            data=np.ones(design.n_obs),
        )
    common = {key(t.name): _common_view(t, design, priors) for t in design.common_terms}
    hsgp = {}
    for term in design.special_terms:
        if term.kind == "hsgp":
            parts = {
                k[len(term.name) + 1 :]: v
                for k, v in priors.terms.items()
                if k.startswith(f"{term.name}_")
            }
            hsgp[key(term.name)] = TermView(name=term.name, kind="hsgp", prior=parts)
        else:  # mo(): its coefficient is a common term's
            common[key(term.name)] = TermView(
                name=term.name, kind=term.kind, prior=priors.common[term.name]
            )
    group = {key(t.name): _group_view(t, design, priors) for t in design.group_terms}
    offset = (
        {}
        if design.offset is None
        else {"offset": TermView(name="offset", kind="offset", prior=None, data=design.offset)}
    )
    return Component(
        name=name,
        is_parent=is_parent,
        prefix=prefix,
        intercept_term=intercept,
        common_terms=MappingProxyType(common),
        group_specific_terms=MappingProxyType(group),
        hsgp_terms=MappingProxyType(hsgp),
        offset_terms=MappingProxyType(offset),
        design=design,
    )


def components(spec) -> Mapping[str, Component | ConstantComponent]:
    """The model's parameters as Bambi's ``Model.components``: the parent parameter (the main
    formula), then every auxiliary parameter, with its formula's terms or its prior."""
    family, priors = spec.family, spec.priors
    out: dict[str, Component | ConstantComponent] = {
        family.parent: _component(family.parent, spec.design, priors, is_parent=True, prefix="")
    }
    for aux in family.aux:
        part = spec.aux_parts.get(aux.name)
        if part is None:
            out[aux.name] = ConstantComponent(aux.name, priors.aux[aux.name])
        else:
            out[aux.name] = _component(
                aux.name, part.design, priors, is_parent=False, prefix=f"{aux.name}_"
            )
    return MappingProxyType(out)


def response_component(spec) -> ResponseComponent:
    """The response as Bambi's ``Model.response_component``."""
    response, helper = spec.design.response, spec.response_helper
    kind = None if helper is None else helper.kind
    data = spec.response_data
    levels = list(data.levels) if data.levels is not None else None
    if levels is None and response.kind == "categoric":
        levels = list(response.levels or ())
    return ResponseComponent(
        ResponseTermView(
            name=spec.response_name,
            expr=response.expr,
            data=np.asarray(data.values),
            trials=None if data.trials is None else np.asarray(data.trials),
            levels=levels,
            is_censored=kind == "censored",
            is_truncated=kind == "truncated",
            is_constrained=bool(getattr(helper, "constrained", False)),
            is_weighted=kind == "weighted",
        )
    )


# ------------------------------------------------------------------ set_priors
def merged_priors(spec, priors=None, common=None, group_specific=None) -> dict[str, Any]:
    """The ``priors=`` a model is specified with again after ``set_priors``.

    Calls add up, and a later call wins: ``common`` replaces the priors earlier calls (or
    ``priors=``) gave the common terms of the main formula except the intercept, as
    ``group_specific`` does for its group-specific terms; then ``priors`` sets terms and
    parameters by name (winning over ``common`` and ``group_specific`` of the same call, as in
    Bambi).

    Raises
    ------
    PriorError
        If ``priors`` is not a dict.
    """
    if priors is not None and not isinstance(priors, Mapping):
        raise PriorError(
            f"set_priors(priors=...) takes a dict of name -> bf.Prior, got {type(priors).__name__}."
        )
    merged = dict(spec.options.priors or {})
    own = spec.priors
    if common is not None:
        covered = {n for n in own.common if n != "Intercept" and n not in own.distributional}
        merged = {k: v for k, v in merged.items() if k not in covered}
        merged["common"] = common
    if group_specific is not None:
        covered = {n for n in own.group if n not in own.distributional}
        merged = {k: v for k, v in merged.items() if k not in covered}
        merged["group_specific"] = group_specific
    merged.update(priors or {})
    return merged


# ------------------------------------------------------------------ transform= checks
def check_prior_options(priors, designs, family) -> None:
    """Refuse ``transform=``/``default_transform=`` where the model would not use them.

    The PyMC graph creates a prior with its options wherever it creates the variable from
    the prior itself (common terms, intercepts, auxiliary parameters, the standard deviations
    of group-specific terms, ``mo()``/``hsgp()`` parameters). It does not for: the
    group-specific effects (``Normal(0, sigma)`` by construction), the standard deviations of
    correlated effects (one LKJ ``sd_dist`` for the block), coefficients per category of
    terms with several columns, and ordered thresholds (their own ordered transform).

    Raises
    ------
    PriorError
        Naming the parameter and where to put the transform instead.
    """

    def has(prior) -> bool:
        return isinstance(prior, Prior) and bool(prior.options)

    for name, prior in priors.group.items():
        if has(prior):
            raise PriorError(
                f"the prior of the group-specific term '{name}' sets "
                f"{', '.join(prior.options)}, which its effects (Normal(0, sigma) per level) "
                "do not use; set it on the prior of sigma instead, e.g. "
                "bf.Prior('Normal', mu=0, sigma=bf.Prior('HalfNormal', sigma=1, transform=...))."
            )
    for design in designs:
        for block in design.group_blocks:
            for name in block.terms:
                sigma = priors.group[name].args.get("sigma")
                if has(sigma):
                    raise PriorError(
                        f"the sigma prior of '{name}' sets {', '.join(sigma.options)}, but the "
                        f"correlated effects {block.name} draw their standard deviations "
                        "jointly (an LKJ prior's sd_dist), without it; remove it, or write "
                        "'||' for independent effects."
                    )
        if family.per_category:
            for term in design.common_terms:
                width = term.slice.stop - term.slice.start
                if width > 1 and has(priors.common.get(term.name)):
                    raise PriorError(
                        f"the prior of '{term.name}' sets "
                        f"{', '.join(priors.common[term.name].options)}, which is not "
                        f"available for a term with several columns in the '{family.name}' "
                        "family (one coefficient per column and category); remove it."
                    )
    for aux in family.aux:
        prior = priors.aux.get(aux.name)
        if aux.ordered and has(prior) and "transform" in prior.options:
            raise PriorError(
                f"'{aux.name}' is sampled with PyMC's ordered transform, so its prior cannot "
                "set transform= as well; remove it."
            )
