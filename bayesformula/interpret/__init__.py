"""Interpreting a fit: predictions, comparisons, slopes and hypotheses on any scale, averaged over
grids or groups, as tables with their draws (marginaleffects' and brms' semantics)."""

from bayesformula.interpret.effects import COMPARISONS, comparisons, predictions
from bayesformula.interpret.grid import datagrid
from bayesformula.interpret.hypothesis import hypothesis
from bayesformula.interpret.plots import plot_comparisons, plot_slopes
from bayesformula.interpret.result import Interpretation
from bayesformula.interpret.slopes import SLOPES, slopes

__all__ = [
    "COMPARISONS",
    "SLOPES",
    "Interpretation",
    "comparisons",
    "datagrid",
    "hypothesis",
    "plot_comparisons",
    "plot_slopes",
    "predictions",
    "slopes",
]
