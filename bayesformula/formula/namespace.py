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

A formula's size is bounded before formulae parses it, so that no string can hang or exhaust
memory: brackets nest at most `MAX_NESTING` levels, an expression inside a call at most
`MAX_DEPTH` operations, and interactions expand to at most `MAX_TERMS` terms. Arithmetic on
literal numbers that cannot be computed (``1/0``, ``10**400``, ``'a' * 10**12``) and basis
transforms asked for absurd sizes (``poly(x, 100000)``) are errors before anything is evaluated.
"""

from __future__ import annotations

import ast
import math
import re
import types
from collections.abc import Mapping
from typing import Any

import numpy as np
from formulae.environment import Environment
from formulae.expr import Assign, Binary, Call, Grouping, Literal, QuotedName, Unary, Variable
from formulae.terms.call import ENCODINGS  # contrast names: C(x, Sum)
from formulae.terms.call_resolver import LazyCall, LazyOperator, LazyValue, LazyVariable
from formulae.transforms import TRANSFORMS

from bayesformula.errors import (
    FormulaError,
    FormulaSyntaxError,
    UnknownNameError,
    UnsafeFormulaError,
    did_you_mean,
)
from bayesformula.formula.terms import SPECIAL_CALLS

__all__ = [
    "BARE_FUNCTIONS",
    "MAX_DEPTH",
    "MAX_NESTING",
    "MAX_TERMS",
    "RESPONSE_CALLS",
    "build_environment",
    "check_parsed",
    "check_names",
    "check_nesting",
    "check_proportion_arguments",
    "check_repeated_interactions",
    "replace_list_literals",
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
# List literals: formulae cannot parse ``C(x, levels=['a', 'b'])``; we lift them into the
# namespace under generated names before parsing.
# ---------------------------------------------------------------------------------------------
_LITERAL_PREFIX = "bf_literal_"


def replace_list_literals(formula: str) -> tuple[str, dict[str, list]]:
    """Replace ``[...]`` list literals used as call arguments by generated names.

    Returns the rewritten formula and a mapping of generated names to the (safely evaluated,
    via `ast.literal_eval`) lists. Brackets that index a name (``y[Yes]``) are left alone.
    """
    out: list[str] = []
    literals: dict[str, list] = {}
    i, n = 0, len(formula)
    prev = ""  # the last character written that is not whitespace
    while i < n:
        ch = formula[i]
        if ch == "[" and prev in ("(", ",", "="):
            depth, j, quote = 0, i, None
            while j < n:
                c = formula[j]
                if quote:
                    if c == quote:
                        quote = None
                elif c in "'\"":
                    quote = c
                elif c == "[":
                    depth += 1
                elif c == "]":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            if j >= n:
                raise FormulaError(
                    f"unclosed '[' at position {i} in formula:\n    {formula}\n    {' ' * i}^"
                )
            text = formula[i : j + 1]
            try:
                value = ast.literal_eval(text)
            except (ValueError, SyntaxError) as err:
                raise FormulaError(
                    f"the list {text} in the formula must contain only literal values "
                    f"(numbers or quoted strings): {err}"
                ) from None
            name = f"{_LITERAL_PREFIX}{len(literals)}"
            literals[name] = list(value)
            out.append(name)
            prev = name[-1]
            i = j + 1
            continue
        out.append(ch)
        prev = prev if ch.isspace() else ch
        i += 1
    return "".join(out), literals


def restore_literals(text: str, literals: Mapping[str, list]) -> str:
    """Undo `replace_list_literals` in a term name, for display."""
    for name, value in literals.items():
        text = text.replace(name, repr(value))
    return text


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


# ---------------------------------------------------------------------------------------------
# Values written in the formula: arithmetic on literals and the sizes of basis transforms are
# checked before anything is evaluated, so that a typo cannot hang or exhaust memory.
# ---------------------------------------------------------------------------------------------
_NOT_LITERAL = object()
_MAX_BITS = 1024  # float64 reaches 2**1024: larger literal numbers cannot be used as data
_MAX_REPEAT = 100_000  # longest string or list that arithmetic on literals may build

# formulae's transforms whose first argument is the data they encode or transform
_DATA_TRANSFORMS = frozenset(
    {"C", "T", "S", "B", "binary", "center", "scale", "standardize", "bs", "cc", "cr", "tp", "poly"}
)

#: Size arguments of basis transforms (position, keyword, smallest and largest allowed).
_SIZE_ARGUMENTS = {
    "poly": ((1, "degree", 1, 100),),
    "bs": ((1, "df", 1, 1000), (3, "degree", 0, 100), (2, "knots", 0, 1000)),
}


def _too_large(where: str, what: str) -> FormulaError:
    return FormulaError(
        f"'{where}': {what} is too large to compute. Numbers in a formula must fit a 64-bit "
        "float (about 1.8e308); compute large values in a column of the data frame instead."
    )


def _fold(obj: LazyOperator, values: list, where: str, literals: Mapping[str, Any]):
    """The value of arithmetic on literals, refusing results too large to compute."""
    shown = restore_literals(str(obj), literals)
    name = obj.op.__name__
    numbers = all(isinstance(v, int | float) for v in values)
    if name == "pow" and numbers:
        base, exponent = values
        if abs(base) > 1 and exponent > 0 and exponent * math.log2(abs(base)) > _MAX_BITS:
            raise _too_large(where, shown)
    if name == "mul" and len(values) == 2:
        sized = [v for v in values if isinstance(v, str | list)]
        counts = [v for v in values if isinstance(v, int)]
        if sized and counts and len(sized[0]) * max(counts[0], 0) > _MAX_REPEAT:
            raise _too_large(where, f"the repetition {shown}")
    try:
        value = obj.op(*values)
    except (ArithmeticError, TypeError, ValueError) as err:
        raise FormulaError(
            f"'{where}': {shown} cannot be computed ({err}). Check the numbers and operators."
        ) from None
    if isinstance(value, int) and value.bit_length() > _MAX_BITS:
        raise _too_large(where, shown)
    return value


def _check_sizes(obj: LazyCall, values: list, kwargs: dict, where: str) -> None:
    """Refuse basis transforms (``poly``, ``bs``) asked for absurdly many columns or degrees."""
    for position, key, smallest, largest in _SIZE_ARGUMENTS.get(obj.callee, ()):
        value = kwargs.get(key, values[position] if len(values) > position else None)
        size = len(value) if isinstance(value, list) else value
        if not isinstance(size, int | float) or isinstance(size, bool):
            continue
        shown = f"[{size} knots]" if key == "knots" else size
        if size < smallest:
            raise FormulaError(
                f"'{where}': {key}={shown} must be at least {smallest}, as in poly(x, 2) or "
                "bs(x, df=4)."
            )
        if size > largest:
            raise FormulaError(
                f"'{where}': {key}={shown} is more than {obj.callee}() supports (at most "
                f"{largest}); a smooth term rarely needs more than a few dozen. Use a smaller "
                "value."
            )


def _check_values(obj, literals: Mapping[str, Any], where: str):
    """Check the literal values inside a formulae call; return the value of ``obj`` when it
    is made of literals only, else ``_NOT_LITERAL``."""
    if isinstance(obj, LazyValue):
        return obj.value
    if isinstance(obj, LazyVariable):
        return literals.get(obj.name, _NOT_LITERAL)
    if isinstance(obj, LazyOperator):
        values = [_check_values(arg, literals, where) for arg in obj.args]
        if any(v is _NOT_LITERAL for v in values):
            return _NOT_LITERAL
        return _fold(obj, values, where, literals)
    if isinstance(obj, LazyCall):
        values = [_check_values(arg, literals, where) for arg in obj.args]
        kwargs = {k: _check_values(v, literals, where) for k, v in obj.kwargs.items()}
        if obj.callee in _DATA_TRANSFORMS and values and values[0] is not _NOT_LITERAL:
            raise FormulaError(
                f"'{where}': {obj.callee}() transforms a column of the data, but its first "
                f"argument is the constant {values[0]!r}. Pass a column name, as in "
                f"{obj.callee}(x)."
            )
        _check_sizes(obj, values, kwargs, where)
    return _NOT_LITERAL


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


# ---------------------------------------------------------------------------------------------
# The size of a formula: formulae's parser recurses once per level of nesting, and interactions
# multiply terms, so both are bounded before formulae runs.
# ---------------------------------------------------------------------------------------------
#: The most levels of parentheses, brackets and braces a formula may nest.
MAX_NESTING = 32
#: The most operations and calls an expression inside a call (``I(...)``, ``log(...)``) may nest.
MAX_DEPTH = 100
#: The most terms a formula may expand to (``a*b*c`` has 7, ``(a + b + c + d)**2`` has 10).
MAX_TERMS = 1000
_MAX_POWER = 100
_MANY = 64  # distinct parts beyond which the count of their interactions is not bounded by them


def check_nesting(formula: str) -> None:
    """Refuse a formula that nests brackets more than `MAX_NESTING` levels deep.

    formulae's parser recurses about a dozen times per level, so deeper formulas would exhaust
    Python's recursion limit (or, with a raised limit, take long) before any other check runs.

    Parameters
    ----------
    formula : str
        The formula (or the response of a response helper).

    Raises
    ------
    FormulaSyntaxError
        With a caret under the bracket that opens one level too many.
    """
    depth, quote = 0, None
    for i, ch in enumerate(formula):
        if quote is not None:  # formulae ends a quoted string at either quote character
            if ch == quote or (quote != "`" and ch in "'\""):
                quote = None
        elif ch in "'\"`":
            quote = ch
        elif ch in "([{":
            depth += 1
            if depth > MAX_NESTING:
                start = max(i - 240, 0) if len(formula) > 300 else 0
                shown = formula[start : i + 60] if len(formula) > 300 else formula
                raise FormulaSyntaxError(
                    f"the formula nests parentheses, brackets or calls more than {MAX_NESTING} "
                    f"levels deep:\n    {shown}\n    {' ' * (i - start)}^\nSimplify the "
                    "expression, for example by computing it in a column of the data frame."
                )
        elif ch in ")]}":
            depth = max(depth - 1, 0)


def _children(node) -> list:
    if isinstance(node, Grouping):
        return [node.expression]
    if isinstance(node, Binary):
        return [node.left, node.right]
    if isinstance(node, Unary):
        return [node.right]
    if isinstance(node, Assign):
        return [node.name, node.value]
    if isinstance(node, Call):
        return [node.callee, *node.args]
    return []


def _signature(node) -> tuple:
    """The parts of a parsed expression in order (without recursion), to compare terms."""
    out: list = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            continue
        token = getattr(item, "operator", None) or getattr(item, "name", None)
        if isinstance(item, QuotedName):
            token = item.expression
        label = getattr(token, "lexeme", None)
        if isinstance(item, Literal):
            label = repr(item.value)
        if isinstance(item, Variable) and item.level is not None:
            label = f"{label}[{item.level.value!r}]"
        out.append(f"{type(item).__name__}:{label}")
        stack.append(")")
        stack.extend(reversed(_children(item)))
    return tuple(out)


def _combine(node, parts: list[tuple[int, frozenset | None]], text: str):
    """Upper bound of the number of terms of ``node`` from those of its parts."""
    if not parts:  # a name, a call or a number: one term
        return 1, frozenset([_signature(node)])
    counts = [p[0] for p in parts]
    leaves = None if any(p[1] is None for p in parts) else frozenset().union(*(p[1] for p in parts))
    if leaves is not None and len(leaves) > _MANY:
        leaves = None
    kind = getattr(getattr(node, "operator", None), "kind", "")
    if isinstance(node, Unary | Grouping):
        count = counts[0]
    elif kind in ("PLUS", "MINUS", "TILDE"):  # the terms removed by '-' are expanded too
        count = sum(counts)
    elif kind == "STAR":
        count = counts[0] + counts[1] + counts[0] * counts[1]
    elif kind == "SLASH":
        count = counts[0] + counts[0] * counts[1]
    elif kind == "STAR_STAR":
        right, left = node.right, node.left
        while isinstance(left, Grouping | Unary):
            left = left.expression if isinstance(left, Grouping) else left.right
        if not _children(left) or isinstance(left, Call):
            term = f"{_label(left)}**{_label(right)}"
            raise FormulaError(
                f"'{term}' in '{_shorten(text)}' is the interaction of a single term with itself, "
                "which is just the term. For the arithmetic power write it inside I(...) or "
                "{...}, as in I(np.log(x)**2); for orthogonal polynomials write poly(x, 2)."
            )
        power = right.value if isinstance(right, Literal) else None
        if isinstance(power, int) and not isinstance(power, bool):
            if not 1 <= power <= _MAX_POWER:
                raise FormulaError(
                    f"the power **{power} in '{_shorten(text)}' must be a whole number from 1 to "
                    f"{_MAX_POWER}: (a + b + c)**2 is all terms and their two-way interactions."
                )
            count = sum(math.comb(counts[0], i) for i in range(1, min(power, counts[0]) + 1))
        else:
            count = 2 ** min(counts[0], _MANY)
        leaves = None if leaves is None else leaves - {_signature(right)}
    else:  # ':', '|' and anything formulae rejects itself
        count = math.prod(counts)
    if leaves is not None:
        count = min(count, 2 ** len(leaves) - 1)
    return min(count, MAX_TERMS + 1), leaves


def _label(node) -> str:
    """A short text for a parsed name, number or call (``log(...)``)."""
    if isinstance(node, Call):
        return f"{_label(node.callee)}(...)"
    if isinstance(node, Literal):
        return str(node.lexeme) if node.lexeme is not None else repr(node.value)
    token = node.expression if isinstance(node, QuotedName) else getattr(node, "name", None)
    return str(getattr(token, "lexeme", "") or "...")


def _shorten(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else f"{text[: limit - 60]} ... {text[-50:]}"


def check_parsed(expr, text: str) -> None:
    """Check the parsed formula before formulae resolves it into terms.

    Expressions inside calls may nest at most `MAX_DEPTH` operations (formulae and numpy
    recurse once per operation when they evaluate them), the interactions may expand to at most
    `MAX_TERMS` terms, and ``**`` needs a sum in parentheses and a power from 1 to 100.

    Parameters
    ----------
    expr : formulae expression
        The formula as formulae's parser returns it (before its terms are expanded).
    text : str
        The formula, for the message.

    Raises
    ------
    FormulaSyntaxError
        If an expression inside a call nests too deeply.
    FormulaError
        If the formula may expand to too many terms, or uses ``**`` in a way formulae misreads.
    """
    stack = [(expr, 0)]  # depth counts the operations and calls inside the outermost call
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise FormulaSyntaxError(
                f"an expression inside a call in '{_shorten(text)}' nests more than {MAX_DEPTH} "
                "operations (such as a sum of that many terms inside I(...)). Compute it in a "
                "column of the data frame instead."
            )
        inside = depth > 0 or isinstance(node, Call)
        stack.extend((child, depth + 1 if inside else 0) for child in _children(node))
    done: dict[int, tuple[int, frozenset | None]] = {}
    stack = [(expr, False)]
    while stack:
        node, expanded = stack.pop()
        children = [] if isinstance(node, Call | Assign) else _children(node)
        if children and not expanded:
            stack.append((node, True))
            stack.extend((child, False) for child in children)
            continue
        done[id(node)] = _combine(node, [done[id(child)] for child in children], text)
    if done[id(expr)][0] > MAX_TERMS:
        raise FormulaError(
            f"the formula '{_shorten(text)}' expands to more than {MAX_TERMS} terms: each '*' and "
            "'**' multiplies the terms (a*b*c*d has 15, with all interactions). Use fewer or "
            "lower-order interactions, for example (a + b + c + d)**2 for the two-way ones."
        )


def check_repeated_interactions(description, text: str) -> None:
    """Refuse an interaction written twice in different orders (``x:a`` and ``a:x``).

    formulae keeps both as separate terms, which duplicates their columns (and breaks its
    encoding of categorical ones).

    Parameters
    ----------
    description : formulae Model
        The result of ``formulae.model_description``.
    text : str
        The formula, for the message.

    Raises
    ------
    FormulaError
        If two common terms interact the same parts.
    """
    seen: dict[frozenset, str] = {}
    for term in description.common_terms:
        names = [str(getattr(c, "name", c)) for c in getattr(term, "components", []) or []]
        key = frozenset(names)
        if len(names) < 2:
            continue
        if key in seen:
            raise FormulaError(
                f"the formula '{_shorten(text)}' has the interaction of "
                f"{', '.join(sorted(key))} twice, as '{seen[key]}' and '{term.name}' (a product "
                "such as x*a*x repeats it). Write each interaction once, e.g. 'x*a'."
            )
        seen[key] = str(term.name)


def check_proportion_arguments(description, text: str) -> None:
    """Check that ``p(successes, trials)`` is given columns, expressions or numbers.

    A quoted name or ``None`` would otherwise fail inside formulae with a plain Python error.

    Parameters
    ----------
    description : formulae Model
        The result of ``formulae.model_description``.
    text : str
        The formula, for the message.

    Raises
    ------
    FormulaError
        If an argument of ``p()`` (or ``prop()``, ``proportion()``) is a string, boolean or None.
    """
    term = getattr(getattr(description, "response", None), "term", None)
    for component in getattr(term, "components", []) or []:
        call = getattr(component, "call", None)
        if getattr(call, "callee", None) not in ("p", "prop", "proportion"):
            continue
        for what, arg in zip(("successes", "trials"), call.args, strict=False):
            value = getattr(arg, "value", 0) if isinstance(arg, LazyValue) else 0
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise FormulaError(
                    f"the {what} in '{call}' of '{_shorten(text)}' must be a column or a "
                    f"number, got {value!r}. Write the column name without quotes, as in "
                    "p(deaths, n)."
                )
