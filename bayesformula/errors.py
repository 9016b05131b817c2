"""One exception tree for everything bayesformula raises on bad input.

Every class derives from `BayesformulaError` *and* from the builtin exception a caller
would naturally catch (``ValueError``, ``TypeError``, ``KeyError``), so both
``except bf.BayesformulaError`` and ``except ValueError`` work.

Messages say what went wrong, where (term, column, row, value) and how to fix it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "BayesformulaError",
    "FormulaError",
    "FormulaSyntaxError",
    "UnknownNameError",
    "UnsafeFormulaError",
    "DataError",
    "DataTypeError",
    "ResponseError",
    "FamilyError",
    "PriorError",
    "SamplerError",
    "ModelError",
    "PredictionError",
    "DatasetError",
    "FileFormatError",
    "ArgumentError",
    "ArgumentTypeError",
    "SamplingInterrupted",
    "did_you_mean",
]


class BayesformulaError(Exception):
    """Base class of every error raised by bayesformula."""


class _KeyErrorMessage:
    """Mixin: show a KeyError's message as plain text instead of its quoted repr."""

    def __str__(self) -> str:  # KeyError.__str__ would wrap the message in quotes
        return str(self.args[0]) if self.args else ""


class FormulaError(BayesformulaError, ValueError):
    """The formula cannot be turned into a model (bad term, unsupported construct)."""


class FormulaSyntaxError(FormulaError):
    """The formula string does not parse; the message points at the offending position."""


class UnknownNameError(_KeyErrorMessage, FormulaError, KeyError):
    """A name in the formula is neither a data column nor a known function."""


class UnsafeFormulaError(UnknownNameError):
    """The formula calls a function that is not allowed (formula strings are data, not code)."""


class DataError(BayesformulaError, ValueError):
    """The data cannot be used as given (empty, missing values, wrong values)."""


class DataTypeError(BayesformulaError, TypeError):
    """An argument has the wrong type (for example data that is not a pandas DataFrame)."""


class ResponseError(DataError):
    """The response values do not fit the family (negative counts, values outside (0, 1), ...)."""


class FamilyError(BayesformulaError, ValueError):
    """Unknown family or link, or a link the family does not support."""


class PriorError(BayesformulaError, ValueError):
    """A prior names an unknown term or distribution, or has invalid parameters."""


class SamplerError(BayesformulaError, ValueError):
    """Unknown inference method or an engine that is not installed."""


class ModelError(BayesformulaError, ValueError):
    """An invalid `Model` option (for example ``noncentered=`` naming an unknown factor)."""


class PredictionError(BayesformulaError, ValueError):
    """New data cannot be predicted on (unseen category, new group level, missing column)."""


class FileFormatError(BayesformulaError, ValueError):
    """A file is not one `bayesformula.save` wrote, or cannot be rebuilt by this version."""


class DatasetError(_KeyErrorMessage, BayesformulaError, KeyError):
    """Unknown bundled dataset."""


class ArgumentError(BayesformulaError, ValueError):
    """A function argument has a value that is not allowed (``draws=-5``, ``prob=1.5``,
    an unknown ``kind``); the message names the argument, the value and what is allowed."""


class ArgumentTypeError(BayesformulaError, TypeError):
    """A function argument has the wrong type (``draws="many"``, ``random_seed="abc"``)."""


class SamplingInterrupted(BayesformulaError, KeyboardInterrupt):
    """Sampling was interrupted (Ctrl-C) and the engine cannot return the draws made so far.

    It is also a ``KeyboardInterrupt``, so a script that stops on Ctrl-C still stops. Engines
    that can return partial draws (nutpie, PyMC) return them instead, marked
    ``attrs["interrupted"] == 1``, with an ``InterruptedFitWarning``. An interrupt during
    warm-up raises this error with every engine: warm-up draws are not posterior draws.
    """


def did_you_mean(name: str, known: Iterable[str], what: str) -> str:
    """Build an "unknown X 'name'; did you mean 'Y'? Known: ..." sentence.

    Parameters
    ----------
    name : str
        The name the user gave.
    known : iterable of str
        The valid names.
    what : str
        What kind of name it is ("family", "link", "dataset", ...).

    Returns
    -------
    str
        A one-line message.

    Examples
    --------
    >>> did_you_mean("gausian", ["gaussian", "gamma"], "family")
    "unknown family 'gausian'; did you mean 'gaussian'? Known: 'gamma', 'gaussian'."
    """
    known = sorted(set(known))
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else "."
    listing = ", ".join(f"'{k}'" for k in known)
    return f"unknown {what} '{name}'{hint} Known: {listing}."
