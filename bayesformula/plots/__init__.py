"""Figures of priors, posteriors, predictive checks and conditional predictions.

Every function returns its `matplotlib.figure.Figure` and never calls ``plt.show()``.
"""

from bayesformula.plots.inference import (
    plot_posterior,
    plot_ppc,
    plot_prior_predictive,
    plot_trace,
)
from bayesformula.plots.predictions import plot_predictions
from bayesformula.plots.priors import plot_priors

__all__ = [
    "plot_posterior",
    "plot_ppc",
    "plot_predictions",
    "plot_prior_predictive",
    "plot_priors",
    "plot_trace",
]
