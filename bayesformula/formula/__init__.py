"""Formula parsing, name checks and design matrices (through formulae)."""

from bayesformula.formula.design import (
    CommonTerm,
    Design,
    GroupTerm,
    NewData,
    Response,
    evaluate_new_data,
    make_design,
)
from bayesformula.formula.formula import Formula, parse_formula

__all__ = [
    "CommonTerm",
    "Design",
    "Formula",
    "GroupTerm",
    "NewData",
    "Response",
    "evaluate_new_data",
    "make_design",
    "parse_formula",
]
