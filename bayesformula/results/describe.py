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
    lines.append("        Priors:")
    owners = _owners(spec)
    for target in (spec.family.parent, *spec.aux_parts):
        lines += _target_priors(spec, target, owners)
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


def _target_priors(spec, target: str, owners: dict[str, str]) -> list[str]:
    """The priors of one modelled parameter (``target = mu``, ``target = sigma``, ...), as
    Bambi groups them: common-level and group-level effects of the parameter's formula; under
    the parent parameter also the terms outside the design matrix and the auxiliary
    parameters without a formula of their own."""
    main = target == spec.family.parent
    design = spec.design if main else spec.aux_parts[target].design
    intercept = "Intercept" if main else spec.aux_parts[target].intercept_name
    centered = bool(spec.center_predictors and (design.common_terms or design.special_terms))

    def own(priors: dict) -> dict:
        return {k: v for k, v in priors.items() if owners.get(k, spec.family.parent) == target}

    lines = [f"    target = {target}"]
    common, group, corr = own(spec.priors.common), own(spec.priors.group), own(spec.priors.corr)
    if common:
        lines.append("        Common-level effects")
        for name, prior in common.items():
            where = (
                "  (intercept at the predictors' means)" if name == intercept and centered else ""
            )
            lines.append(f"            {name} ~ {prior!r}{where}")
    if group:
        lines.append("        Group-level effects")
        lines += [f"            {name} ~ {prior!r}" for name, prior in group.items()]
        lines += [
            f"            {name}_corr ~ {prior!r}  (correlations)" for name, prior in corr.items()
        ]
    if not main:
        return lines
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
    return lines
