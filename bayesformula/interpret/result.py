"""The table every interpretation function returns: estimates with the draws behind them."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["Interpretation", "summarise"]


class Interpretation(pd.DataFrame):
    """A pandas DataFrame of estimates, one row per quantity, with the posterior draws of each
    row in ``draws`` (an array of shape ``(draws, rows)``, rows in the table's order).

    ``draws`` belongs to the table as returned: a table derived from it (a selection, a
    sort, a copy) is a plain DataFrame, so that no row can be paired with another row's draws.
    Select rows of ``draws`` by position (``result.draws[:, i]``), or pass the whole result to
    `bayesformula.hypothesis`, whose ``b1``, ``b2``, ... name its rows.
    """

    _metadata = ["draws", "prob"]

    @property
    def _constructor(self):
        return pd.DataFrame


def summarise(columns: dict, draws: np.ndarray, prob: float, index=None) -> Interpretation:
    """``columns`` (the labels of each row) followed by the estimate (the posterior mean) and
    the highest-density interval of each column of ``draws`` ``(S, rows)``."""
    from bayesformula.results.tables import hdi_bounds, interval_names

    draws = np.asarray(draws, dtype=float)
    lower, upper = interval_names(prob)
    lo, hi = hdi_bounds(draws, prob)
    table = {**columns, "estimate": draws.mean(axis=0), lower: lo, upper: hi}
    out = Interpretation(table, index=index)
    out.draws = draws
    out.prob = prob
    return out
