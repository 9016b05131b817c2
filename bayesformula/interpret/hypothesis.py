"""Hypotheses about parameters or any interpretation result, as brms' ``hypothesis`` and
marginaleffects' ``hypotheses`` state them: ``"x > 0"``, ``"b1 - b2 = 0"``, ``"-Intercept / dose
< 0"``."""

from __future__ import annotations

import ast
import re

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from bayesformula.core.tree import dataset as group_dataset
from bayesformula.core.tree import has_group, is_tree
from bayesformula.errors import DataTypeError, PredictionError, did_you_mean
from bayesformula.interpret.result import Interpretation, summarise

__all__ = ["hypothesis"]

#: functions a hypothesis may apply to draws
FUNCTIONS = {
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "expit": expit,
    "logit": logit,
}
_OPERATORS = ("<=", ">=", "==", "<", ">", "=")
_BINARY = {
    ast.Add: np.add,
    ast.Sub: np.subtract,
    ast.Mult: np.multiply,
    ast.Div: np.divide,
    ast.Pow: np.power,
}


def _named_draws(obj, group: str) -> dict[str, np.ndarray]:
    """Label -> draws ``(S,)`` of every scalar in ``obj``: ``b1``, ``b2``, ... for the rows
    of an interpretation result; ``name`` or ``name[level]`` for a fit's parameters."""
    if isinstance(obj, Interpretation) and hasattr(obj, "draws"):
        return {f"b{i + 1}": obj.draws[:, i] for i in range(obj.draws.shape[1])}
    if not is_tree(obj):
        raise DataTypeError(
            "hypothesis() tests the parameters of a fit (the xarray.DataTree from model.fit()) "
            "or the rows of a result of bf.predictions/comparisons/slopes (as returned, with "
            f"its .draws); got {type(obj).__name__}."
        )
    if not has_group(obj, group):
        raise PredictionError(f"hypothesis(): the fit has no '{group}' group.")
    posterior = group_dataset(obj, group)
    out = {}
    for name, da in posterior.data_vars.items():
        if "__obs__" in da.dims:
            continue
        other = [d for d in da.dims if d not in ("chain", "draw")]
        values = da.transpose("chain", "draw", *other).values
        values = values.reshape(-1, *values.shape[2:])
        if not other:
            out[str(name)] = values
            continue
        coords = [[str(c) for c in da[d].values] for d in other]
        for position in np.ndindex(*values.shape[1:]):
            label = ", ".join(coords[i][j] for i, j in enumerate(position))
            out[f"{name}[{label}]"] = values[(slice(None), *position)]
    return out


def _substitute(text: str, names: dict[str, np.ndarray]) -> tuple[str, dict]:
    """``text`` with every known label replaced by a placeholder (longest labels first, so a
    label inside another is not split), and placeholder -> draws."""
    values = {}
    for i, label in enumerate(sorted(names, key=len, reverse=True)):
        pattern = r"(?<![\w.\[])" + re.escape(label) + r"(?![\w.\[])"
        placeholder = f"__v{i}__"
        text, count = re.subn(pattern, placeholder, text)
        if count:
            values[placeholder] = names[label]
    return text, values


def _split(text: str, where: str) -> tuple[str, str, str]:
    for op in _OPERATORS:
        parts = text.split(op)
        if len(parts) == 2 and not any(o in parts[0] + parts[1] for o in "<>="):
            return parts[0], op if op != "==" else "=", parts[1]
    raise PredictionError(
        f"{where}: a hypothesis compares two sides with one of <, >, <=, >= or =, as in "
        "'x > 0' or 'b1 - b2 = 0'."
    )


def _evaluate(expression: str, values: dict, known: list[str], original: str):
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as err:
        raise PredictionError(
            f"hypothesis(): cannot read '{original}' ({err.msg}). Write parameters as the "
            f"summary names them; known: {_short(known)}."
        ) from None

    def visit(node):
        if isinstance(node, ast.Expression):
            return visit(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id in values:
                return values[node.id]
            raise PredictionError(
                did_you_mean(node.id, known, "hypothesis() name")
                + f" In '{original}'; known names: {_short(known)}."
            )
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return _BINARY[type(node.op)](visit(node.left), visit(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            value = visit(node.operand)
            return -value if isinstance(node.op, ast.USub) else value
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in FUNCTIONS
            and len(node.args) == 1
            and not node.keywords
        ):
            return FUNCTIONS[node.func.id](visit(node.args[0]))
        raise PredictionError(
            f"hypothesis(): '{original}' uses something other than numbers, names, + - * / **, "
            f"and the functions {sorted(FUNCTIONS)}."
        )

    return visit(tree)


def _short(names: list[str], limit: int = 12) -> str:
    shown = ", ".join(map(repr, names[:limit]))
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def hypothesis(obj, hypotheses, *, prob: float = 0.94, rope=None, group: str = "posterior"):
    """Posterior evidence for statements about parameters or interpretation results.

    Each hypothesis compares two expressions, ``"lhs OP rhs"`` with ``OP`` one of ``<``,
    ``>``, ``<=``, ``>=`` or ``=``; an expression combines numbers, names, ``+ - * / **`` and
    ``exp``, ``log``, ``sqrt``, ``abs``, ``expit``, ``logit``. Names are a fit's parameters as
    the summary writes them (``dose``, ``Intercept``, ``1|g[a]``, ``x[level]``), or ``b1``,
    ``b2``, ... for the rows of a result of `predictions`, `comparisons` or `slopes`.

    Parameters
    ----------
    obj : xarray.DataTree or Interpretation
        A fit, or a result as returned (with its ``.draws``).
    hypotheses : str or list of str
    prob : float
        Probability of the highest-density interval of ``lhs - rhs``.
    rope : (float, float), optional
        A region of practical equivalence for ``lhs - rhs``: adds the share of draws inside it.
    group : str
        The fit's group with the draws (``"prior"`` for prior draws).

    Returns
    -------
    Interpretation
        One row per hypothesis: ``hypothesis``, ``estimate`` (the posterior mean of
        ``lhs - rhs``) and its interval; ``post_prob``, the share of draws for which the
        inequality holds, and ``evid_ratio``, its odds ``post_prob / (1 - post_prob)`` (as brms'
        ``Evid.Ratio``; NaN for an equality, which has no posterior probability); ``pd``, the
        probability of direction (the larger share of ``lhs - rhs`` on one side of 0); with
        ``rope``, ``rope`` (the share inside it). ``.draws`` holds ``lhs - rhs``.
    """
    from bayesformula.core.validate import check_prob

    where = "hypothesis()"
    prob = check_prob(prob, "prob", where)
    if isinstance(hypotheses, str):
        hypotheses = [hypotheses]
    if not isinstance(hypotheses, list | tuple) or not hypotheses:
        raise DataTypeError(f"{where}: give a hypothesis as a string, or a list of them.")
    if rope is not None:
        rope = tuple(float(v) for v in rope)
        if len(rope) != 2 or not rope[0] < rope[1]:
            raise PredictionError(f"{where}: rope must be (low, high) with low < high.")
    names = _named_draws(obj, group)
    known = list(names)
    rows, differences = [], []
    for text in hypotheses:
        if not isinstance(text, str):
            raise DataTypeError(f"{where}: each hypothesis is a string, got {text!r}.")
        substituted, values = _substitute(text, names)
        left, op, right = _split(substituted, where)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            lhs = _evaluate(left, values, known, text)
            rhs = _evaluate(right, values, known, text)
            difference = np.broadcast_to(np.asarray(lhs - rhs, dtype=float), (_n_draws(names),))
        above, below = float(np.mean(difference > 0)), float(np.mean(difference < 0))
        if op == "=":
            post = np.nan
        else:
            post = above if op in (">", ">=") else below
        with np.errstate(divide="ignore"):
            ratio = np.nan if np.isnan(post) else (np.inf if post == 1 else post / (1 - post))
        row = {"hypothesis": text, "post_prob": post, "evid_ratio": ratio, "pd": max(above, below)}
        if rope is not None:
            row["rope"] = float(np.mean((difference >= rope[0]) & (difference <= rope[1])))
        rows.append(row)
        differences.append(difference)
    table = pd.DataFrame(rows)
    out = summarise(
        {"hypothesis": table["hypothesis"].to_numpy()}, np.column_stack(differences), prob
    )
    for column in table.columns[1:]:
        out[column] = table[column].to_numpy()
    return out


def _n_draws(names: dict) -> int:
    return len(next(iter(names.values())))
