"""What ``print(model)`` and a notebook show of a model: one `ModelView`, two renderings.

`describe` is the text, wrapped to fit a terminal; `describe_html` the same content as a
self-contained HTML fragment (inline styles, no scripts, no external assets) for Jupyter, VS
Code and marimo (`Model._repr_html_`).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

from bayesformula import compiled
from bayesformula.core import html
from bayesformula.core.prior import Prior
from bayesformula.spec.checks import intercept_owner

__all__ = ["Described", "ModelView", "describe", "describe_html", "model_view"]

#: Columns of the text that ``print(model)`` shows; longer lines wrap under their indentation.
WIDTH = 88


@dataclass(frozen=True)
class PriorRow:
    """One prior as shown: the parameter it models (``target``), the section (common-level
    effects, ...), the name, the prior and a note."""

    target: str
    section: str
    name: str
    prior: str
    note: str = ""


@dataclass(frozen=True)
class ModelView:
    """Everything shown of a model, in order: label/value pairs (formula, family, links,
    observations, response notes, the fast path), the priors, the terms outside the design
    matrix and each grouping factor's parameterisation (factor, choice, reason)."""

    header: list[tuple[str, str]]
    priors: list[PriorRow] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)
    groups: list[tuple[str, str, str]] = field(default_factory=list)


class Described:
    """``print(model)``, ``repr(model)`` and a notebook's display of an object with a
    ``_spec`` (`bayesformula.Model`)."""

    def __str__(self) -> str:
        return describe(self._spec)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return describe_html(self._spec)


def model_view(spec) -> ModelView:
    """The `ModelView` of a `ModelSpec`."""
    d = spec.design
    header = [
        ("Formula", str(spec.formula)),
        ("Family", spec.family.name),
        (
            "Link",
            f"{spec.family.parent} = {spec.link.name}"
            + "".join(f", {p.param} = {p.link.name}" for p in spec.aux_parts.values()),
        ),
        (
            "Observations",
            f"{d.n_obs}"
            + (f" ({d.n_dropped} rows with missing values dropped)" if d.n_dropped else ""),
        ),
    ]
    if spec.response_data.note:
        header.append(("Response", spec.response_data.note))
    if spec.response_helper is not None:
        header.append(("Response", spec.response_helper.describe()))
    if not spec.family.intercept:
        header.append(("Intercept", f"none; {intercept_owner(spec.family)} take its place"))
    header.append(("Fast path", compiled.fast_path_note(spec)))
    owners = _owners(spec)
    priors = [
        row
        for target in (spec.family.parent, *spec.aux_parts)
        for row in _rows(spec, target, owners)
    ]
    groups = []
    for factor, choice in spec.parameterization.items():
        anchored = (
            ", centered on the common coefficients"
            if factor == spec.anchor and compiled.density(spec) is not None
            else ""
        )
        groups.append((factor, choice.label + anchored, choice.reason))
    return ModelView(header, priors, [t.describe() for t in d.special_terms], groups)


def describe(spec) -> str:
    """The model as ``print(model)`` shows it, in lines of at most `WIDTH` columns."""
    view = model_view(spec)
    lines = [_wrapped(f"{label:>14}: ", value) for label, value in view.header]
    lines.append("        Priors:")
    target = section = None
    for row in view.priors:
        if row.target != target:
            target, section = row.target, None
            lines.append(f"    target = {target}")
        if row.section != section:
            section = row.section
            lines.append(f"        {section}")
        note = f"  ({row.note})" if row.note else ""
        lines.append(_wrapped(" " * 12, f"{row.name} ~ {row.prior}{note}"))
    if view.terms:
        lines.append("  Terms outside the design matrix:")
        lines += [_wrapped(" " * 12, term) for term in view.terms]
    if view.groups:
        lines.append("  Group effects (parameterisation per grouping factor):")
        lines += [_wrapped(" " * 12, f"{f}: {label} ({why})") for f, label, why in view.groups]
    return "\n".join(lines)


def _wrapped(lead: str, text: str) -> str:
    """``lead + text`` wrapped to `WIDTH` columns, continuation lines indented past ``lead``."""
    return textwrap.fill(
        text,
        WIDTH,
        initial_indent=lead,
        subsequent_indent=" " * (len(lead) + 2),
        break_long_words=False,
        break_on_hyphens=False,
    )


def describe_html(spec) -> str:
    """The model as a notebook shows it: a self-contained HTML fragment."""
    view = model_view(spec)
    parts = [html.table(view.header, css_class="header"), html.title("Priors")]
    rows, heading = [], None
    for row in view.priors:
        if (row.target, row.section) != heading:
            heading = (row.target, row.section)
            rows.append(
                html.Section(
                    f"target = {html.escape(row.target)} &middot; {html.escape(row.section)}"
                )
            )
        rows.append((row.name, row.prior, row.note))
    parts.append(html.table(rows, ("parameter", "prior", "note"), css_class="priors"))
    if view.terms:
        parts += [
            html.title("Terms outside the design matrix"),
            html.table([(t,) for t in view.terms], ("term",)),
        ]
    if view.groups:
        parts.append(html.title("Group effects"))
        parts.append(
            html.table(view.groups, ("factor", "parameterisation", "why"), css_class="groups")
        )
    return html.fragment("bayesformula.Model", parts, "bayesformula-model")


def _owners(spec) -> dict[str, str]:
    """Prior name -> the auxiliary parameter whose formula it belongs to (``sigma_x`` ->
    ``sigma``); names of the main formula's priors are not keys."""
    out: dict[str, str] = {}
    for param, part in spec.aux_parts.items():
        d = part.design
        names = [part.intercept_name] if d.intercept else []
        names += [t.name for t in d.common_terms] + [t.name for t in d.group_terms]
        names += [b.name for b in d.group_blocks]
        out.update(dict.fromkeys(names, param))
    return out


def _shown(prior) -> str:
    return repr(prior) if isinstance(prior, Prior) else f"{prior} (fixed)"


def _rows(spec, target: str, owners: dict[str, str]) -> list[PriorRow]:
    """The priors of one modelled parameter (``mu``, ``sigma``, ...), as Bambi groups them:
    common-level and group-level effects of the parameter's formula; under the parent
    parameter also the terms outside the design matrix and the auxiliary parameters without a
    formula of their own."""
    main = target == spec.family.parent
    design = spec.design if main else spec.aux_parts[target].design
    intercept = "Intercept" if main else spec.aux_parts[target].intercept_name
    centered = bool(spec.center_predictors and (design.common_terms or design.special_terms))

    def own(priors: dict) -> dict:
        return {k: v for k, v in priors.items() if owners.get(k, spec.family.parent) == target}

    rows = []
    common, group, corr = own(spec.priors.common), own(spec.priors.group), own(spec.priors.corr)
    for name, prior in common.items():
        note = "at the predictors' means" if name == intercept and centered else ""
        rows.append(PriorRow(target, "Common-level effects", name, repr(prior), note))
    for name, prior in group.items():
        rows.append(PriorRow(target, "Group-level effects", name, repr(prior)))
    for name, prior in corr.items():
        rows.append(
            PriorRow(target, "Group-level effects", f"{name}_corr", repr(prior), "correlations")
        )
    if not main:
        return rows
    section = "Monotonic and Gaussian-process terms"
    rows += [PriorRow(target, section, n, _shown(p)) for n, p in spec.priors.terms.items()]
    about = {a.name: a.description for a in spec.family.aux}
    for name, prior in spec.priors.aux.items():
        notes = [about[name]] if about.get(name) else []
        if name in spec.centered_aux():
            notes.append("prior at the predictors' means")
        rows.append(PriorRow(target, "Auxiliary parameters", name, _shown(prior), "; ".join(notes)))
    return rows
