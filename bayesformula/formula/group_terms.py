"""Group-specific terms of a design: grouping factors encoded as level indices (on the fitting
data and on new data), the ``(expr | factor)`` parts of a formula, and the blocks of correlated
group-specific effects they make."""

from __future__ import annotations

import itertools
from typing import Any

import formulae as fm
import numpy as np
import pandas as pd

from bayesformula.formula.design_types import CorrBlock, GroupTerm
from bayesformula.formula.limits import check_nesting, restore_literals


class _GroupPart:
    """Group-specific terms of a design, evaluated without an ``n x levels`` matrix.

    formulae would one-hot encode each grouping factor (``rows x levels`` dense) before
    turning it into indices; here the factor is encoded straight to level codes, and only
    the term's expression (``1``, ``x``, ...) is evaluated by formulae.
    """

    def __init__(self, terms) -> None:
        self.terms = {term.name: term for term in terms}


def _factor_levels(values) -> tuple[list, Any]:
    """Levels of one grouping-factor component, ordered as formulae orders them."""
    from formulae.transforms import CategoricalBox

    if isinstance(values, CategoricalBox):
        data = values.data
        levels = list(values.levels) if values.levels is not None else sorted(set(data))
        return levels, data
    dtype = getattr(values, "dtype", None)
    if isinstance(dtype, pd.CategoricalDtype) and dtype.ordered:
        return list(dtype.categories), values
    return sorted(np.unique(np.asarray(values)).tolist()), values


def _evaluate_group_terms(terms, data: pd.DataFrame, env) -> dict[str, np.ndarray]:
    """Evaluate group-specific terms; return each factor's level index (``n`` integers)."""
    index: dict[str, np.ndarray] = {}
    for term in terms:
        term.set_type(data, env)
    for term in terms:
        # (1|g) and (x|g) together: x's categorical encoding must not span the intercept
        spans = isinstance(term.expr, fm.terms.Intercept) or not any(
            isinstance(t.expr, fm.terms.Intercept) and t.factor.name == term.factor.name
            for t in terms
        )
        term.expr.set_data(spans)
        term.kind = term.expr.kind
        codes, dims, labels = [], [], []
        for component in term.factor.components:
            levels, values = _factor_levels(component._intermediate_data)
            component.levels = levels
            codes.append(pd.Categorical(values, categories=levels).codes.astype(np.int64))
            dims.append(len(levels))
            labels.append([str(v) for v in levels])
        term.groups = [":".join(parts) for parts in itertools.product(*labels)]
        if term.factor.name not in index:
            index[term.factor.name] = (
                np.ravel_multi_index(tuple(codes), tuple(dims)) if len(codes) > 1 else codes[0]
            )
    return index


def _new_group_index(term, data: pd.DataFrame) -> tuple[np.ndarray, tuple]:
    """Level index of a grouping factor on new data.

    Fitted levels keep their index, missing values get -1, and unseen levels get
    ``len(levels), len(levels) + 1, ...`` in order of first appearance (returned as the
    second item; an interaction's new level is a tuple of its parts).
    """
    from formulae.transforms import CategoricalBox

    values, codes, missing, dims = [], [], [], []
    for component in term.factor.components:
        if isinstance(component, fm.terms.Variable):
            value = data[component.name]
        else:
            value = component.call.eval(data, component.env)
            if isinstance(value, CategoricalBox):
                value = value.data
        value = np.asarray(value, dtype=object)
        values.append(value)
        codes.append(pd.Index(component.levels, dtype=object).get_indexer(value))
        missing.append(np.asarray(pd.isna(value), dtype=bool))
        dims.append(len(component.levels))
    missing_any = np.logical_or.reduce(missing)
    known = np.logical_and.reduce([c >= 0 for c in codes])
    index = np.full(len(data), -1, dtype=np.int64)
    index[known] = np.ravel_multi_index(tuple(c[known] for c in codes), tuple(dims))
    fitted = int(np.prod(dims))
    new: dict[tuple, int] = {}
    for row in np.flatnonzero(~known & ~missing_any):
        group = tuple(v[row] for v in values)
        index[row] = new.setdefault(group, fitted + len(new))
    groups = tuple(g[0] if len(g) == 1 else g for g in new)
    return index, groups


def _unquoted(text: str):
    """``(position, character)`` of the characters of ``text`` outside quotes."""
    quote = None
    for i, ch in enumerate(text):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        else:
            yield i, ch


def single_bars(text: str) -> str:
    """``text`` with each ``(expr || factor)`` written ``(expr | factor)``, the syntax formulae
    reads (for the variables a formula uses; `make_design` keeps the effects independent)."""
    return _bar_groups(text)[0]


def _bar_groups(text: str) -> tuple[str, list[tuple[int, str, str, bool]]]:
    """The ``(expr | factor)`` and ``(expr || factor)`` parts of a formula.

    Returns the formula with each ``||`` written as ``|`` (the syntax formulae reads) and the
    parts as ``(position, expr, factor, independent)`` in order of position. Text inside
    quotes and bars nested in inner parentheses are not parts. The formula's nesting is checked
    first (`check_nesting`): each closing parenthesis rescans what it encloses.
    """
    check_nesting(text)
    chars = list(text)
    groups = []
    stack: list[int] = []
    for i, ch in _unquoted(text):
        if ch == "(":
            stack.append(i)
        elif ch == ")" and stack:
            start = stack.pop()
            inner, depth, bar = text[start + 1 : i], 0, -1
            for j, c in _unquoted(inner):
                if c == "(":
                    depth += 1
                elif c == ")":
                    depth -= 1
                elif c == "|" and depth == 0:
                    bar = j
                    break
            if bar < 0:
                continue
            double = inner[bar + 1 : bar + 2] == "|"
            if double:
                chars[start + 2 + bar] = ""
            factor = inner[bar + (2 if double else 1) :].strip()
            groups.append((start, inner[:bar].strip(), factor, double))
    return "".join(chars), sorted(groups)


def _correlation_blocks(
    rewritten: str, independent: list[bool], terms: list[GroupTerm], literals
) -> tuple[CorrBlock, ...]:
    """Blocks of correlated group-specific terms: per ``(... | factor)`` part and factor.

    A term written in two parts (``(1|g) + (x|g)``: ``(x|g)`` implies ``1|g``) belongs to the
    first, so that formula has independent intercepts and slopes, as in Bambi.
    """
    _, groups = _bar_groups(rewritten)
    by_name = {t.name: t for t in terms}
    claimed: set[str] = set()
    blocks = []
    for (_, expr, factor, _double), indep in zip(groups, independent, strict=True):
        part = f"({expr}|{factor})"
        # a term written in two parts ('(1|g) + (x|g)', where (x|g) implies 1|g) is taken
        # once, in the first part that has it, as formulae does
        names = []
        for t in fm.model_description(f"y ~ {part}").group_terms:
            name = restore_literals(str(t.name), literals)
            if name not in claimed:
                claimed.add(name)
                names.append(name)
        if indep:
            continue
        members: dict[str, list[GroupTerm]] = {}
        for name in names:
            if name in by_name:
                members.setdefault(by_name[name].factor, []).append(by_name[name])
        for fac, members_ in members.items():
            columns = []
            for t in members_:
                for col in t.columns:
                    if t.kind == "intercept":
                        columns.append("Intercept")
                    elif t.expr_dim is None:
                        columns.append(t.expr)
                    else:
                        columns.append(f"{t.expr}[{col}]")
            if len(columns) < 2:
                continue
            label = "+".join(t.expr for t in members_)
            blocks.append(
                CorrBlock(
                    name=f"{label}|{fac}",
                    factor=fac,
                    terms=tuple(t.name for t in members_),
                    columns=tuple(columns),
                    widths=tuple(len(t.columns) for t in members_),
                )
            )
    return tuple(blocks)
