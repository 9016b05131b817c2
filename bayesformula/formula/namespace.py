"""What a formula may refer to, and the checks that keep formula strings safe.

A formula is data, not code. Names in it resolve only to

* columns of the data frame,
* numpy, as ``np`` (or ``numpy``): its element-wise functions (ufuncs such as ``np.log``) and a
  few array helpers (``np.where``, ``np.clip``, ``np.round``),
* formulae's transforms (``C``, ``I``, ``center``, ``scale``, ``bs``, ``p``, ``offset``, ...),
  bayesformula's own terms ``mo()`` and ``hsgp()``, and the bare math helpers below (``log``,
  ``exp``, ``sqrt``, ...),
* what the caller passes explicitly in ``extra_namespace``.

Nothing else from the caller's session is visible, so ``y ~ os.system('...')`` is an error that
names the unknown function rather than a shell command.
"""

from __future__ import annotations

import re
import types
from collections.abc import Mapping
from typing import Any

import numpy as np
from formulae.environment import Environment
from formulae.terms.call import ENCODINGS  # contrast names: C(x, Sum)
from formulae.terms.call_resolver import LazyCall, LazyOperator, LazyValue, LazyVariable
from formulae.transforms import TRANSFORMS

from bayesformula.errors import (
    FormulaError,
    UnknownNameError,
    UnsafeFormulaError,
    did_you_mean,
)
from bayesformula.formula.limits import _NOT_LITERAL, _check_values, restore_literals
from bayesformula.formula.terms import SPECIAL_CALLS

__all__ = [
    "BARE_FUNCTIONS",
    "RESPONSE_CALLS",
    "build_environment",
    "check_names",
    "check_silent_misparses",
]

#: Math helpers usable without the ``np.`` prefix.
BARE_FUNCTIONS: dict[str, Any] = {
    "log": np.log,
    "log2": np.log2,
    "log10": np.log10,
    "log1p": np.log1p,
    "exp": np.exp,
    "exp2": np.exp2,
    "expm1": np.expm1,
    "abs": np.abs,
    "sqrt": np.sqrt,
}


def _bind_columns(*columns):
    """``c(y1, ..., yk)``: the columns side by side, one row per observation (the counts of a
    multinomial-type response)."""
    return np.column_stack([np.asarray(c) for c in columns])


#: Calls allowed only on the left of ``~``: ``c(y1, ..., yk)`` binds count columns.
RESPONSE_CALLS: dict[str, Any] = {"c": _bind_columns}

# numpy callables that are not ufuncs but are harmless element-wise helpers.
_NUMPY_HELPERS = frozenset({"where", "clip", "round", "around", "rint"})
_NUMPY_ROOTS = ("np", "numpy")


def build_environment(extra_namespace: Mapping[str, Any] | None, literals: Mapping[str, Any]):
    """Return the formulae ``Environment`` a formula is evaluated in (and nothing else)."""
    namespace: dict[str, Any] = {"np": np, "numpy": np, **BARE_FUNCTIONS, **RESPONSE_CALLS}
    namespace.update(literals)
    if extra_namespace:
        if not isinstance(extra_namespace, Mapping):
            raise FormulaError(
                f"extra_namespace must be a dict of name -> object, got {type(extra_namespace)!r}"
            )
        namespace.update(extra_namespace)
    return Environment([namespace])


def _numpy_callable(path: list[str]):
    """Resolve ``np.a.b`` to a numpy callable if it is allowed, else return None."""
    obj: Any = np
    for part in path[1:]:
        if part.startswith("_"):
            return None
        if isinstance(obj, types.ModuleType) and not obj.__name__.startswith("numpy"):
            return None
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    if isinstance(obj, np.ufunc):
        return obj
    if len(path) == 2 and path[1] in _NUMPY_HELPERS:
        return obj
    return None


# ---------------------------------------------------------------------------------------------
# Walking formulae's parsed description to collect every callee and variable name.
# ---------------------------------------------------------------------------------------------
def _walk_lazy(obj, calls: list[tuple[str, str]], names: list[str], where: str) -> None:
    if isinstance(obj, LazyCall):
        calls.append((obj.callee, where))
        for arg in list(obj.args) + list(obj.kwargs.values()):
            _walk_lazy(arg, calls, names, where)
    elif isinstance(obj, LazyOperator):
        for arg in obj.args:
            _walk_lazy(arg, calls, names, where)
    elif isinstance(obj, LazyVariable):
        names.append(obj.name)
    elif isinstance(obj, LazyValue):
        return


def _walk_term(term, calls, names, exprs=None) -> None:
    """Collect calls and names of one formulae term (Term, Intercept, GroupSpecificTerm, ...),
    and the calls themselves in ``exprs`` (if given)."""
    if term is None:
        return
    if hasattr(term, "expr") and hasattr(term, "factor"):  # GroupSpecificTerm
        _walk_term(term.expr, calls, names, exprs)
        _walk_term(term.factor, calls, names, exprs)
        return
    if hasattr(term, "term") and not hasattr(term, "components"):  # Response
        _walk_term(term.term, calls, names, exprs)
        return
    for component in getattr(term, "components", []) or []:
        if hasattr(component, "call"):
            where = str(component.call)
            _walk_lazy(component.call, calls, names, where)
            if exprs is not None:
                exprs.append((component.call, where))
        elif hasattr(component, "name"):
            names.append(component.name)


def _uses_data(obj, literals: Mapping[str, Any], extra: Mapping[str, Any]) -> bool:
    """Whether a formulae expression refers to a name other than a list literal: a column, or
    an object passed in ``extra_namespace`` (which may hold or make values per row)."""
    if isinstance(obj, LazyVariable):
        return obj.name not in literals
    if isinstance(obj, LazyOperator):
        return any(_uses_data(arg, literals, extra) for arg in obj.args)
    if isinstance(obj, LazyCall):
        return str(obj.callee).split(".")[0] in extra or any(
            _uses_data(arg, literals, extra) for arg in [*obj.args, *obj.kwargs.values()]
        )
    return False


def _not_a_term(name) -> FormulaError:
    return FormulaError(
        f"{name!r} stands in the formula where a term needs a column of the data: apart from 1 "
        "and 0 (with or without the intercept), a value on its own is not a term. Write a "
        "column name, arithmetic inside I(...), or a constant offset as offset(...)."
    )


def check_names(description, columns, extra_namespace, literals) -> None:
    """Check every function and variable a parsed formula uses; raise a clear error otherwise.

    Parameters
    ----------
    description : formulae Model
        The result of ``formulae.model_description``.
    columns : iterable of str
        Columns of the data frame.
    extra_namespace : mapping or None
        Objects the caller allowed explicitly.
    literals : mapping
        Generated names for list literals.
    """
    calls: list[tuple[str, str]] = []
    names: list[str] = []
    exprs: list = []
    _walk_term(description.response, calls, names, exprs)
    n_response_calls, n_response_exprs = len(calls), len(exprs)
    for term in description.common_terms:
        _walk_term(term, calls, names, exprs)
    for term in description.group_terms:
        _walk_term(term, calls, names, exprs)
    bad = next((name for name in names if not isinstance(name, str)), _NOT_LITERAL)
    if bad is not _NOT_LITERAL:
        raise _not_a_term(bad)

    extra = dict(extra_namespace or {})
    columns = [str(c) for c in columns]
    allowed_bare = set(TRANSFORMS) | set(BARE_FUNCTIONS) | set(SPECIAL_CALLS) | set(extra)
    for i, (callee, where) in enumerate(calls):
        parts = callee.split(".")
        if callee in RESPONSE_CALLS and callee not in extra:
            if i < n_response_calls:
                continue
            raise FormulaError(
                f"'{where}': c(...) binds the count columns of a multinomial-type response and "
                "is allowed only on the left of '~', e.g. 'c(y1, y2, y3) ~ x'. On the right, "
                "write the predictors as separate terms ('x1 + x2')."
            )
        if len(parts) == 1 and callee in allowed_bare:
            continue
        if parts[0] in _NUMPY_ROOTS and len(parts) > 1 and _numpy_callable(parts) is not None:
            continue
        if parts[0] in extra and len(parts) > 1 and all(not p.startswith("_") for p in parts):
            continue  # an object the caller passed explicitly, e.g. a module of their own
        raise UnsafeFormulaError(
            f"unknown function '{callee}' in term '{where}'. A formula can call numpy element-wise "
            "functions as np.<name> (np.log, np.exp, ...), the built-in transforms "
            f"({', '.join(sorted(TRANSFORMS))}, {', '.join(SPECIAL_CALLS)}, "
            f"{', '.join(sorted(BARE_FUNCTIONS))}) and functions "
            "you pass explicitly with extra_namespace={'name': function}; nothing else from your "
            "Python session is visible to a formula."
        )
    known_values = set(columns) | set(extra) | set(literals) | {"np", "numpy"} | set(ENCODINGS)
    for name in names:
        if name in known_values:
            continue
        raise UnknownNameError(
            did_you_mean(name, columns, "column").replace("Known:", "Data columns:")
            + " Check the spelling, or pass non-column values with extra_namespace={...}."
        )
    for i, (call, where) in enumerate(exprs):
        shown = restore_literals(where, literals)
        _check_values(call, literals, shown)
        constant = not _uses_data(call, literals, extra)
        if i >= n_response_exprs and call.callee != "offset" and constant:
            raise FormulaError(
                f"the term '{shown}' uses no column of the data, so it is one constant for every "
                "row, which the intercept already is. Put a column of the data in it (or write "
                "a constant offset as offset(...))."
            )


_POWER_ON_NAME = re.compile(r"(?<![\w.)\]])([A-Za-z_][\w.]*)\s*\*\*\s*(\d+)")


def _strip_protected(formula: str) -> str:
    """Blank out the inside of ``{...}`` and ``I(...)``, where ``**`` is arithmetic."""
    chars = list(formula)
    depth_brace = 0
    i = 0
    while i < len(chars):
        if chars[i] == "{":
            depth_brace += 1
        elif chars[i] == "}":
            depth_brace -= 1
        elif depth_brace > 0:
            chars[i] = " "
        i += 1
    text = "".join(chars)
    # I( ... ) with balanced parentheses
    out = list(text)
    for match in re.finditer(r"\bI\(", text):
        depth, j = 1, match.end()
        while j < len(text) and depth:
            if text[j] == "(":
                depth += 1
            elif text[j] == ")":
                depth -= 1
            if depth:
                out[j] = " "
            j += 1
    return "".join(out)


def check_silent_misparses(formula: str) -> None:
    """Reject constructs formulae accepts but silently reinterprets."""
    if "%in%" in formula:
        raise FormulaError(
            "'%in%' is not supported in formulas (it would be silently ignored). "
            "For nesting write 'a/x' (a + a:x) or the interaction 'a:x'."
        )
    stripped = _strip_protected(formula)
    match = _POWER_ON_NAME.search(stripped)
    if match:
        name, power = match.group(1), match.group(2)
        raise FormulaError(
            f"'{name}**{power}' in a formula is the interaction of '{name}' with itself, which is "
            f"just '{name}'. For the arithmetic power write I({name}**{power}) or "
            f"{{{name}**{power}}}; for orthogonal polynomials write poly({name}, {power})."
        )
