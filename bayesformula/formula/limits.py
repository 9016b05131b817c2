"""The bounds on a formula's size and the checks of the values written in it.

A formula's size is bounded before formulae parses it, so that no string can hang or exhaust
memory: brackets nest at most `MAX_NESTING` levels, an expression inside a call at most
`MAX_DEPTH` operations, and interactions expand to at most `MAX_TERMS` terms. Arithmetic on
literal numbers that cannot be computed (``1/0``, ``10**400``, ``'a' * 10**12``) and basis
transforms asked for absurd sizes (``poly(x, 100000)``) are errors before anything is evaluated.
List literals (``C(x, levels=['a', 'b'])``) are lifted out of the formula string here too.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from typing import Any

from formulae.expr import Assign, Binary, Call, Grouping, Literal, QuotedName, Unary, Variable
from formulae.terms.call_resolver import LazyCall, LazyOperator, LazyValue, LazyVariable

from bayesformula.errors import FormulaError, FormulaSyntaxError

__all__ = [
    "MAX_DEPTH",
    "MAX_NESTING",
    "MAX_TERMS",
    "check_nesting",
    "check_parsed",
    "check_proportion_arguments",
    "check_repeated_interactions",
    "replace_list_literals",
    "restore_literals",
]

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
