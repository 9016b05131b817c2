"""The :class:`Formula` value and formula-string checks (syntax errors with a caret)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import formulae as fm
from formulae.parser import ParseError
from formulae.resolver import ResolverError
from formulae.scanner import ScanError

from bayesformula.errors import DataTypeError, FormulaError, FormulaSyntaxError
from bayesformula.formula.namespace import check_silent_misparses, replace_list_literals

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

    def __str__(self) -> str:
        return ", ".join((self.main, *self.additionals))


_QUOTED = re.compile(r"'(.*)'")


def _caret(formula: str, message: str) -> str:
    """Point at the place in ``formula`` a formulae scan/parse message refers to."""
    pos = len(formula)
    char = re.search(r"Unexpected character: (.)", message)
    quoted = _QUOTED.search(message)
    token = char.group(1) if char else (quoted.group(1) if quoted else "")
    if token:
        found = formula.find(token, formula.find("~") + 1 if token != "~" else 0)
        if found >= 0:
            pos = found
    return f"    {formula}\n    {' ' * pos}^"


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
    check_silent_misparses(text)
    rewritten, literals = replace_list_literals(text)
    try:
        description = fm.model_description(rewritten)
    except (ScanError, ParseError, ResolverError) as err:
        raise FormulaSyntaxError(
            f"could not parse the formula: {err}\n{_caret(text, str(err))}\n"
            "Check the operators and parentheses around the marked position."
        ) from None
    except Exception as err:  # formulae raises plain exceptions for some term algebra
        raise FormulaError(f"could not interpret the formula '{text}': {err}") from None
    if description.response is None:
        raise FormulaSyntaxError(f"the formula '{text}' has no response on the left of '~'.")
    return description, rewritten, literals
