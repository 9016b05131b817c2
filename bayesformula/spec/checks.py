"""Checks of a model's parts against each other that no single stage can make alone."""

from __future__ import annotations

from typing import Any

import numpy as np

from bayesformula.core.prior import Prior
from bayesformula.errors import FamilyError, FormulaError, PriorError

__all__ = [
    "check_category_priors",
    "check_has_cdf",
    "check_per_category_terms",
    "intercept_owner",
]


def check_per_category_terms(design, family) -> None:
    """Terms the per-category linear predictors of categorical families do not support."""
    fam = f"family '{family.name}'"
    if design.group_blocks:
        names = ", ".join(f"({b.name})" for b in design.group_blocks)
        raise FormulaError(
            f"{fam} gives every group-specific term one effect per category; correlated "
            f"effects {names} are not available for it. Write them as independent effects "
            "with '||', e.g. (1 + x || g)."
        )
    if design.special_terms:
        names = ", ".join(t.name for t in design.special_terms)
        raise FormulaError(
            f"{fam}: the terms {names} (mo(), hsgp()) are not available for per-category "
            "coefficients. Use a categorical predictor, bs() or poly() instead."
        )
    if design.offset is not None:
        raise FormulaError(
            f"{fam}: offset() is not available; it would shift every category's log-ratio "
            "to the reference alike. Remove it (a multinomial response's totals already "
            "enter as its trials)."
        )


def check_category_priors(priors, design, response) -> None:
    """Each parameter of a prior of a categorical family's coefficients must broadcast to the
    coefficients' shape, (columns, categories): one value, one per column, one per category
    (one-column terms) or the full table."""
    labels = response.coords[response.category_dim]
    k = len(labels)
    shapes = {"Intercept": 1}
    shapes.update({t.name: t.slice.stop - t.slice.start for t in design.common_terms})
    group = {t.name: (len(t.columns) if t.expr_dim is not None else 1) for t in design.group_terms}
    checks = [(name, priors.common.get(name), w) for name, w in shapes.items()]
    checks += [(name, priors.group[name].args.get("sigma"), w) for name, w in group.items()]
    for name, prior, width in checks:
        if not isinstance(prior, Prior):
            continue
        target = (width, k) if width > 1 else (k,)
        for key, value in prior.args.items():
            if isinstance(value, Prior) or np.ndim(value) == 0:
                continue
            shape = np.shape(value)
            if width > 1 and len(shape) == 1 and shape[0] == width:
                continue  # one value per column, applied to every category
            try:
                np.broadcast_shapes(shape, target)
            except ValueError:
                cats = f"{k} categories ({', '.join(labels)})"
                has = f"{width} columns x {cats}" if width > 1 else cats
                fits = (
                    f"one number, {width} values (one per column) or a {target} array"
                    if width > 1
                    else f"one number or {k} values (one per category)"
                )
                raise PriorError(
                    f"the prior for '{name}' has {key} of shape {shape}, but its coefficients "
                    f"span {has}; give {fits}."
                ) from None


def intercept_owner(family) -> str:
    """What takes the intercept's place in a family without one ("the thresholds of ...")."""
    names = [a.name for a in family.aux if a.replaces_intercept] or ["parameters"]
    return f"the {' and '.join(names)}s of family '{family.name}'"


def check_has_cdf(family, text: str) -> None:
    """Censoring and truncation need the likelihood's CDF; say so before building."""
    import pymc as pm

    params: dict[str, Any] = {family.parent: np.float64(0.5)}
    for aux in family.aux:
        params[aux.name] = np.float64(0.5 if aux.support == "unit" else 1.0)
    params["trials"] = np.int64(2)
    try:
        dist = getattr(pm, family.likelihood).dist(**family.to_dist(params))
        pm.logcdf(dist, np.float64(1.0))
    except NotImplementedError:
        raise FamilyError(
            f"{text} needs the cumulative distribution function of family '{family.name}' "
            f"({family.likelihood}), which PyMC does not provide; use weighted() or another "
            "family."
        ) from None
    except Exception:  # noqa: BLE001 - the probe's numbers may not suit a user family
        return
