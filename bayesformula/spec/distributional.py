"""Formulas for auxiliary parameters (distributional regression): ``Formula("y ~ x", "sigma ~ z")``.

Each additional formula ``param ~ terms`` models one auxiliary parameter of the family per
observation, through a link chosen by the parameter's support (log for positive parameters,
logit for those in (0, 1), identity for real ones). Its terms are evaluated like the main
formula's, on the same rows, and named with the parameter as prefix: ``sigma_Intercept``,
``sigma_z``, ``sigma_1|g`` (Bambi's names).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

import pandas as pd

from bayesformula.errors import FamilyError, FormulaError, FormulaSyntaxError
from bayesformula.families.links import Link, get_link
from bayesformula.formula.design import Design, make_design
from bayesformula.formula.formula import parse_formula
from bayesformula.formula.group_terms import single_bars

__all__ = ["AUX_LINKS", "AuxPart", "aux_parts", "parse_additional", "prefix_design"]

#: Links an auxiliary parameter's formula may use, by the parameter's support (first: default).
AUX_LINKS = {
    "positive": ("log",),
    "unit": ("logit", "probit", "cloglog"),
    "real": ("identity",),
}

# the additional formula's left side is a parameter, not data: a placeholder response
_RESPONSE = "bfauxresponse"


@dataclass(frozen=True)
class AuxPart:
    """The model of one auxiliary parameter.

    Attributes
    ----------
    param : str
        The parameter (``"sigma"``).
    formula : str
        As written (``"sigma ~ z + (1|g)"``).
    design : Design
        Its design on the model's rows, term names prefixed with ``{param}_``.
    link : Link
        Maps the linear predictor to the parameter.
    """

    param: str
    formula: str
    design: Design
    link: Link

    @property
    def intercept_name(self) -> str:
        return f"{self.param}_Intercept"


def parse_additional(text: str, family) -> tuple[str, str]:
    """Split ``"sigma ~ z"`` into the parameter and the right-hand side, checking both."""
    if "~" not in text:
        raise FormulaSyntaxError(
            f"the formula '{text}' for an auxiliary parameter has no '~'; write it as "
            "'param ~ predictors', e.g. 'sigma ~ x'."
        )
    lhs, rhs = (part.strip() for part in text.split("~", 1))
    if not re.fullmatch(r"[A-Za-z_][A-Za-z_0-9]*", lhs):
        raise FormulaSyntaxError(
            f"the left side of '{text}' must name an auxiliary parameter of family "
            f"'{family.name}' ({_names(family)}), got '{lhs}'."
        )
    if lhs == family.parent:
        raise FormulaError(
            f"'{text}' models the parent parameter '{lhs}', which the main formula models; "
            f"additional formulas are for the auxiliary parameters ({_names(family)})."
        )
    if lhs not in family.aux_names:
        raise FormulaError(
            f"family '{family.name}' has no auxiliary parameter '{lhs}' (in '{text}'); it has "
            f"{_names(family)}."
        )
    if getattr(next(a for a in family.aux if a.name == lhs), "dim", None) is not None:
        raise FormulaError(
            f"'{text}': '{lhs}' of family '{family.name}' is a vector (one value per "
            f"{'category boundary' if lhs == 'threshold' else 'coordinate'}), which a formula "
            "cannot model; predictors of the response go in the main formula."
        )
    if not rhs:
        raise FormulaSyntaxError(f"the formula '{text}' has nothing on the right of '~'.")
    return lhs, rhs


def _names(family) -> str:
    return ", ".join(f"'{a}'" for a in family.aux_names) or "none"


def used_columns(additionals: tuple[str, ...], family, columns) -> list[str]:
    """Data columns the additional formulas use (for the missing-value check)."""
    used: set[str] = set()
    for text in additionals:
        _, rhs = parse_additional(text, family)
        description, _, _ = parse_formula(single_bars(f"{_RESPONSE} ~ {rhs}"))
        used |= set(map(str, description.var_names))
    return [c for c in columns if str(c) in used]


def prefix_design(design: Design, prefix: str) -> Design:
    """The design with every term (and block of correlated terms) named ``{prefix}{name}``."""
    common = tuple(dataclasses.replace(t, name=prefix + t.name) for t in design.common_terms)
    group = tuple(dataclasses.replace(t, name=prefix + t.name) for t in design.group_terms)
    blocks = tuple(
        dataclasses.replace(b, name=prefix + b.name, terms=tuple(prefix + n for n in b.terms))
        for b in design.group_blocks
    )
    return dataclasses.replace(design, common_terms=common, group_terms=group, group_blocks=blocks)


def aux_link(family, param: str, link) -> Link:
    """The link of an auxiliary parameter's formula: given, or the default for its support."""
    support = next(a.support for a in family.aux if a.name == param)
    allowed = AUX_LINKS[support]
    if link is None:
        return get_link(allowed[0])
    name = link.name if isinstance(link, Link) else link
    if name not in allowed:
        raise FamilyError(
            f"the {support} parameter '{param}' of family '{family.name}' takes the link "
            f"{' or '.join(repr(a) for a in allowed)}, got {name!r}."
        )
    return get_link(name)


def aux_parts(
    additionals: tuple[str, ...],
    family,
    data: pd.DataFrame,
    index: pd.Index,
    *,
    links: dict | None = None,
    categorical=None,
    extra_namespace=None,
) -> dict[str, AuxPart]:
    """Evaluate the additional formulas on the rows ``index`` of ``data``."""
    parts: dict[str, AuxPart] = {}
    links = dict(links or {})
    rows = data.loc[index].assign(**{_RESPONSE: 0.0})
    for text in additionals:
        param, rhs = parse_additional(text, family)
        if param in parts:
            raise FormulaError(
                f"'{param}' has two formulas ('{parts[param].formula}' and '{text}'); join their "
                "terms into one."
            )
        if re.search(r"\b(censored|truncated|weighted)\s*\(", rhs):
            raise FormulaError(
                f"'{text}': censored(), truncated() and weighted() belong on the response of "
                "the main formula."
            )
        design = make_design(
            f"{_RESPONSE} ~ {rhs}",
            rows,
            categorical=categorical,
            extra_namespace=extra_namespace,
        )
        if design.special_terms:
            raise FormulaError(
                f"'{text}': mo() and hsgp() terms are available in the main formula only."
            )
        parts[param] = AuxPart(
            param=param,
            formula=text,
            design=prefix_design(design, f"{param}_"),
            link=aux_link(family, param, links.get(param)),
        )
    without = sorted(set(links) & set(family.aux_names) - set(parts))
    if without:
        raise FamilyError(
            f"link= sets the link of {without}, which have no formula; a link applies to an "
            "auxiliary parameter modelled by its own formula, e.g. Formula('y ~ x', "
            f"'{without[0]} ~ z')."
        )
    return parts
