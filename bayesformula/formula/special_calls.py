"""Where ``mo()`` and ``hsgp()`` may appear in a formula, and what they may be given.

`check_special_calls` checks the calls in formulae's model description before anything is
evaluated; `split_special_terms` then takes their terms out of the description, so that formulae
builds the design matrices without them (`bayesformula.formula.terms` evaluates them).
"""

from __future__ import annotations

import copy

from bayesformula.errors import FormulaError, did_you_mean

__all__ = [
    "HSGP_ARGUMENTS",
    "SPECIAL_CALLS",
    "check_special_calls",
    "split_special_terms",
]


#: Calls that make terms of their own (not columns of X).
SPECIAL_CALLS = ("mo", "hsgp")

#: Keyword arguments of hsgp(), with Bambi's names.
HSGP_ARGUMENTS = (
    "m",
    "L",
    "c",
    "by",
    "cov",
    "share_cov",
    "scale",
    "iso",
    "centered",
    "drop_first",
)

# brms's argument names, to point users to ours
_BRMS_NAMES = {"k": "m", "gr": "by", "scale": "scale"}


def _callee(component) -> str | None:
    call = getattr(component, "call", None)
    callee = getattr(call, "callee", None)
    return callee if callee in SPECIAL_CALLS else None


def _special_components(term) -> list:
    return [c for c in getattr(term, "components", []) or [] if _callee(c)]


# ------------------------------------------------------------------ syntax checks
def check_special_calls(description, text: str) -> None:
    """Check where ``mo()`` and ``hsgp()`` appear and what they are given, before evaluation.

    Raises
    ------
    FormulaError
        For a special call inside a group-specific term, in an interaction it cannot be part of,
        or with arguments it does not take.
    """
    from formulae.terms.call_resolver import LazyValue, LazyVariable

    for term in description.group_terms:
        for part in (term.expr, term.factor):
            found = _special_components(part)
            if found:
                raise FormulaError(
                    f"'{found[0].call}' cannot be used inside the group-specific term "
                    f"'({term.expr.name}|{term.factor.name})' of '{text}'. Use it as a common term "
                    "(for a monotonic effect per group, add a group-specific slope of the numeric "
                    "codes instead; for a Gaussian process per level use hsgp(..., by=g))."
                )
    for term in description.common_terms:
        found = _special_components(term)
        if not found:
            continue
        components = term.components
        for component in found:
            call = component.call
            if call.callee == "mo":
                _check_mo_call(call, LazyVariable)
            else:
                _check_hsgp_call(call, LazyVariable, LazyValue)
        if any(_callee(c) == "hsgp" for c in components) and len(components) > 1:
            raise FormulaError(
                f"hsgp() cannot be part of the interaction '{term.name}' in '{text}'. For a "
                "separate Gaussian process per level of a categorical column g, write "
                "hsgp(x, ..., by=g)."
            )
        if len(found) > 1 or len(components) > 2:
            raise FormulaError(
                f"the interaction '{term.name}' in '{text}' is not supported: a monotonic effect "
                "can interact with one numeric predictor only (mo(x):z). Model the other "
                "combinations with categorical terms, e.g. C(x):a."
            )


def _check_mo_call(call, LazyVariable) -> None:
    if len(call.args) != 1 or not isinstance(call.args[0], LazyVariable):
        raise FormulaError(
            f"'{call}': mo() takes one column name, as in mo(x) or "
            "mo(x, levels=['low', 'mid', 'high']); transform the column in the data frame first."
        )
    unknown = [k for k in call.kwargs if k != "levels"]
    if unknown:
        raise FormulaError(
            f"'{call}': mo() has no argument '{unknown[0]}'; its only option is levels=[...] "
            "(the order of the levels, lowest first)."
        )


def _check_hsgp_call(call, LazyVariable, LazyValue) -> None:
    if not call.args:
        raise FormulaError(
            f"'{call}': hsgp() needs at least one numeric predictor, as in hsgp(x, m=10, c=1.5)."
        )
    for key, value in call.kwargs.items():
        if key not in HSGP_ARGUMENTS:
            hint = (
                f" (brms's '{key}' is '{_BRMS_NAMES[key]}' here)"
                if key in _BRMS_NAMES and _BRMS_NAMES[key] != key
                else ""
            )
            raise FormulaError(
                did_you_mean(key, HSGP_ARGUMENTS, f"argument of hsgp() in '{call}'")
                + hint
                + f" hsgp() takes {', '.join(HSGP_ARGUMENTS)}."
            )
        if key == "cov" and not (isinstance(value, LazyValue) and isinstance(value.value, str)):
            raise FormulaError(
                f"'{call}': cov must be a quoted name, e.g. cov='matern32'; one of "
                "'expquad', 'matern32', 'matern52'."
            )
        if key == "by" and not isinstance(value, LazyVariable):
            raise FormulaError(f"'{call}': by must name a column of the data, e.g. by=g.")
    if "m" not in call.kwargs:
        raise FormulaError(
            f"'{call}': hsgp() needs the number of basis functions m, as in hsgp(x, m=10, c=1.5) "
            "(one value per predictor for several, m=[10, 10])."
        )
    if ("c" in call.kwargs) == ("L" in call.kwargs):
        raise FormulaError(
            f"'{call}': give hsgp() exactly one of c (the boundary as a multiple of half the data "
            "range, e.g. c=1.5) or L (the boundary itself)."
        )


def split_special_terms(description) -> list:
    """Remove the ``mo()``/``hsgp()`` terms from a formulae model description; return them.

    The remaining terms get components of their own: formulae shares one component object
    between a term and the interactions that ``/``, ``*`` and ``**`` build from it, so the
    encoding chosen for one (``a`` in ``a/x`` is coded in full inside ``a:x``) would relabel the
    columns of the other.
    """
    special = [t for t in description.common_terms if _special_components(t)]
    for term in special:
        description.common_terms.remove(term)
    for term in description.common_terms:
        if getattr(term, "components", None):
            term.components = [copy.copy(component) for component in term.components]
    return special
