"""The text that ``print(model)`` shows."""

from __future__ import annotations

from bayesformula import compiled
from bayesformula.core.prior import Prior
from bayesformula.spec.checks import intercept_owner

__all__ = ["describe"]


def describe(spec) -> str:
    """The model as ``print(model)`` shows it: formula, family and links, priors, terms
    outside the design matrix and the parameterisation of group effects."""
    d = spec.design
    lines = [
        f"       Formula: {spec.formula}",
        f"        Family: {spec.family.name}",
        f"          Link: {spec.family.parent} = {spec.link.name}"
        + "".join(f", {p.param} = {p.link.name}" for p in spec.aux_parts.values()),
        f"  Observations: {d.n_obs}"
        + (f" ({d.n_dropped} rows with missing values dropped)" if d.n_dropped else ""),
    ]
    if spec.response_data.note:
        lines.append(f"      Response: {spec.response_data.note}")
    if spec.response_helper is not None:
        lines.append(f"      Response: {spec.response_helper.describe()}")
    if not spec.family.intercept:
        lines.append(f"     Intercept: none; {intercept_owner(spec.family)} take its place")
    lines += ["        Priors:", f"    target = {spec.family.parent}"]
    if spec.priors.common:
        lines.append("        Common-level effects")
        for name, prior in spec.priors.common.items():
            where = (
                "  (intercept at the predictors' means)"
                if name == "Intercept"
                and (d.common_terms or d.special_terms)
                and spec.center_predictors
                else ""
            )
            lines.append(f"            {name} ~ {prior!r}{where}")
    if spec.priors.group:
        lines.append("        Group-level effects")
        for name, prior in spec.priors.group.items():
            lines.append(f"            {name} ~ {prior!r}")
        for name, prior in spec.priors.corr.items():
            lines.append(f"            {name}_corr ~ {prior!r}  (correlations)")
    if spec.priors.terms:
        lines.append("        Monotonic and Gaussian-process terms")
        for name, prior in spec.priors.terms.items():
            shown = repr(prior) if isinstance(prior, Prior) else f"{prior} (fixed)"
            lines.append(f"            {name} ~ {shown}")
    if spec.priors.aux:
        lines.append("        Auxiliary parameters")
        about = {a.name: a.description for a in spec.family.aux}
        for name, prior in spec.priors.aux.items():
            shown = repr(prior) if isinstance(prior, Prior) else f"{prior} (fixed)"
            notes = [about[name]] if about.get(name) else []
            if name in spec.centered_aux():
                notes.append("prior at the predictors' means")
            note = f"  ({'; '.join(notes)})" if notes else ""
            lines.append(f"            {name} ~ {shown}{note}")
    if d.special_terms:
        lines.append("  Terms outside the design matrix:")
        lines += [f"            {term.describe()}" for term in d.special_terms]
    if d.group_terms:
        lines.append("  Group effects (parameterisation per grouping factor):")
        for factor, choice in spec.parameterization.items():
            anchored = (
                ", centered on the common coefficients"
                if factor == spec.anchor and compiled.density(spec) is not None
                else ""
            )
            lines.append(f"            {factor}: {choice.label}{anchored} ({choice.reason})")
    return "\n".join(lines)
