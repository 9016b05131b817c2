"""The `Formula` value and formula-string checks (syntax errors with a caret)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import formulae as fm
from formulae.parser import ParseError, Parser
from formulae.resolver import ResolverError
from formulae.scanner import ScanError, Scanner

from bayesformula.errors import DataTypeError, FormulaError, FormulaSyntaxError
from bayesformula.formula.limits import (
    check_nesting,
    check_parsed,
    check_proportion_arguments,
    check_repeated_interactions,
    replace_list_literals,
)
from bayesformula.formula.namespace import check_silent_misparses

__all__ = ["Formula", "parse_formula"]


@dataclass(frozen=True)
class Formula:
    """A model formula: the main formula plus optional formulas for auxiliary parameters.

    Parameters
    ----------
    main : str
        The formula of the response, for example ``"y ~ x + (1|g)"``.
    *additionals : str
        Formulas for auxiliary parameters of the family, for example ``"sigma ~ x"``
        (distributional regression).

    Examples
    --------
    >>> f = Formula("y ~ x", "sigma ~ z")
    >>> f.main, f.additionals
    ('y ~ x', ('sigma ~ z',))
    """

    main: str
    additionals: tuple[str, ...] = ()

    def __init__(self, main: str, *additionals: str):
        for text in (main, *additionals):
            if not isinstance(text, str):
                raise DataTypeError(f"a formula must be a string, got {type(text).__name__}")
        object.__setattr__(self, "main", main.strip())
        object.__setattr__(self, "additionals", tuple(a.strip() for a in additionals))

    @property
    def additionals_lhs(self) -> list[str]:
        """The parameters the additional formulas model (``["sigma"]`` for ``"sigma ~ z"``),
        as in Bambi.

        Raises
        ------
        FormulaSyntaxError
            If an additional formula has no ``~`` or no name on its left.
        """
        out = []
        for text in self.additionals:
            lhs = text.split("~", 1)[0].strip() if "~" in text else ""
            if not re.fullmatch(r"[A-Za-z_][A-Za-z_0-9]*", lhs):
                raise FormulaSyntaxError(
                    f"the additional formula '{text}' must name the parameter it models on the "
                    "left of '~', e.g. 'sigma ~ x'."
                )
            out.append(lhs)
        return out

    def get_all_formulas(self) -> list[str]:
        """The main formula, then the additional ones (Bambi's method)."""
        return [self.main, *self.additionals]

    def __str__(self) -> str:
        # the formulas as written (model printouts and messages quote this); Bambi wraps them
        # in "Formula(...)"
        return ", ".join((self.main, *self.additionals))

    def __repr__(self) -> str:
        # Bambi's repr: Formula('y ~ x', 'sigma ~ z')
        return f"Formula({', '.join(repr(f) for f in (self.main, *self.additionals))})"


def _caret(formula: str, message: str) -> str:
    """Point at the place in ``formula`` a formulae scan/parse message refers to."""
    pos = len(formula)
    char = re.search(r"Unexpected character: (.)", message)
    # the token sits between the message's last two quotes ("Don't know how to parse '*'")
    parts = message.rsplit("'", 2)
    token = char.group(1) if char else (parts[-2] if len(parts) == 3 else "")
    if token:
        found = formula.find(token, formula.find("~") + 1 if token != "~" else 0)
        if found >= 0:
            pos = found
    return f"    {formula}\n    {' ' * pos}^"


def _check_fully_parsed(rewritten: str, text: str):
    """formulae stops at the first token it cannot continue with; refuse leftover tokens.
    Returns the parsed expression."""
    parser = Parser(Scanner(rewritten).scan())
    expr = parser.parse()
    if not parser.at_end():
        token = parser.peek()
        lexeme = str(getattr(token, "lexeme", "") or "")
        pos = text.find(lexeme, text.find("~") + 1) if lexeme else len(text)
        pos = pos if pos >= 0 else len(text)
        raise FormulaSyntaxError(
            f"could not parse the formula: unexpected '{lexeme}' after a complete formula\n"
            f"    {text}\n    {' ' * pos}^\n"
            "Join terms with '+' (or ':' / '*' for interactions) and check the parentheses."
        )
    return expr


def parse_formula(formula: str):
    """Parse one formula string with formulae after bayesformula's own checks.

    Returns
    -------
    (description, rewritten, literals)
        formulae's model description, the formula with list literals replaced by generated names,
        and the mapping of those names to their values.

    Raises
    ------
    FormulaSyntaxError
        If the string does not parse; the message shows where.
    FormulaError
        For constructs that formulae would silently misread (``x**2``, ``%in%``).
    """
    if not isinstance(formula, str):
        raise DataTypeError(f"a formula must be a string, got {type(formula).__name__}")
    text = formula.strip()
    if not text:
        raise FormulaSyntaxError("the formula is empty; write it as 'response ~ predictors'.")
    if "~" not in text:
        raise FormulaSyntaxError(
            f"the formula '{text}' has no '~'; write it as 'response ~ predictors', e.g. 'y ~ x'."
        )
    if text.startswith("~"):
        raise FormulaSyntaxError(
            f"the formula '{text}' has no response on the left of '~'; write 'y ~ ...'."
        )
    check_nesting(text)
    check_silent_misparses(text)
    rewritten, literals = replace_list_literals(text)
    try:
        check_parsed(_check_fully_parsed(rewritten, text), text)
        description = fm.model_description(rewritten)
    except FormulaError:
        raise
    except RecursionError:  # long chains of operators: formulae recurses once per operator
        raise FormulaSyntaxError(
            f"the formula is too long for the formula parser ({len(text)} characters, "
            f"{_count_operators(text)} operators): it recurses once per operator and per level "
            "of parentheses. Use fewer terms, or compute long expressions in a column of the "
            "data frame."
        ) from None
    except (ScanError, ParseError, ResolverError) as err:
        raise FormulaSyntaxError(
            f"could not parse the formula: {err}\n{_caret(text, str(err))}\n"
            "Check the operators and parentheses around the marked position."
        ) from None
    except AttributeError:  # formulae cannot call the result of a call: f(a)(x)
        raise FormulaError(
            f"could not interpret the formula '{text}': a term calls the result of another call "
            "(like f(a)(x)); call a named function instead, passing your own with "
            "extra_namespace={'name': function} if needed."
        ) from None
    except Exception as err:  # formulae raises plain exceptions for some term algebra
        hint = (
            " For a separate Gaussian process per level of a categorical column g, write "
            "hsgp(x, ..., by=g)."
            if "Interaction with 'hsgp'" in str(err)
            else ""
        )
        raise FormulaError(f"could not interpret the formula '{text}': {err}{hint}") from None
    if description.response is None:
        raise FormulaSyntaxError(f"the formula '{text}' has no response on the left of '~'.")
    check_proportion_arguments(description, text)
    check_repeated_interactions(description, text)
    return description, rewritten, literals


def _count_operators(text: str) -> int:
    return sum(text.count(op) for op in "+-*/:|")
