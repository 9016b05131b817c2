"""All six bayesformula figures for the bioassay model, written to a folder.

    MPLBACKEND=Agg python examples/plots.py [FIGURE_FOLDER]

Figures go to FIGURE_FOLDER (default: plots_figures/ in the current directory).
Set BAYESFORMULA_FAST=1 for a quick run with fewer draws.
"""

import os
import sys
from pathlib import Path

import matplotlib.pyplot as plt

import bayesformula as bf
from bayesformula.plots import (
    plot_posterior,
    plot_ppc,
    plot_predictions,
    plot_prior_predictive,
    plot_priors,
    plot_trace,
)

plt.switch_backend("Agg")  # write files only, no windows

FAST = os.environ.get("BAYESFORMULA_FAST") == "1"
DRAWS, TUNE, CHAINS, PRIOR_DRAWS = (200, 200, 2, 200) if FAST else (1000, 1000, 4, 1000)
FIG_DIR = Path(sys.argv[1] if len(sys.argv) > 1 else "plots_figures")
FIG_DIR.mkdir(parents=True, exist_ok=True)


def save(fig, name):
    """Save a figure under FIG_DIR, close it and say where it went."""
    path = FIG_DIR / name
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    print(f"wrote {path}")


model = bf.Model("p(deaths, n) ~ dose", bf.load_data("bioassay"), family="binomial")
print(model, "\n")

# Before fitting: what do the priors say about the parameters and about the data?
save(plot_priors(model, draws=PRIOR_DRAWS, random_seed=1), "priors.png")
save(plot_prior_predictive(model, draws=PRIOR_DRAWS, random_seed=1), "prior_predictive.png")

idata = model.fit(draws=DRAWS, tune=TUNE, chains=CHAINS, random_seed=1, progressbar=not FAST)

# After fitting: convergence, posterior densities, predictive check, dose-response curve.
save(plot_trace(idata), "trace.png")
save(plot_posterior(idata, prob=0.94), "posterior.png")
save(plot_ppc(model, idata, random_seed=1), "ppc.png")
save(plot_predictions(model, idata, "dose", prob=0.94), "predictions.png")
