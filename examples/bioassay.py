"""Bioassay: a logistic dose-response model, from prior to predictions.

Four groups of five animals got a compound at four doses (log g/ml); we count the deaths
(Racine et al. 1986; Gelman et al., Bayesian Data Analysis, section 3.7).

    MPLBACKEND=Agg python examples/bioassay.py [FIGURE_FOLDER]

Figures go to FIGURE_FOLDER (default: bioassay_figures/ in the current directory).
Set BAYESFORMULA_FAST=1 for a quick run with fewer draws.
"""

import os
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import bayesformula as bf

plt.switch_backend("Agg")  # write files only, no windows

FAST = os.environ.get("BAYESFORMULA_FAST") == "1"
DRAWS, TUNE, PRIOR_DRAWS = (200, 200, 100) if FAST else (1000, 1000, 500)
FIG_DIR = Path(sys.argv[1] if len(sys.argv) > 1 else "bioassay_figures")
FIG_DIR.mkdir(parents=True, exist_ok=True)


def save(fig, name):
    """Save a figure under FIG_DIR, close it and say where it went."""
    path = FIG_DIR / name
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    print(f"wrote {path}")


def observed(ax, df):
    """Observed proportions deaths/n as black dots."""
    ax.scatter(df["dose"], df["deaths"] / df["n"], color="black", zorder=3, label="observed")
    ax.set_xlabel("dose (log g/ml)")
    ax.set_ylabel("probability of death")


# --- 1. Data -----------------------------------------------------------------------------
df = bf.load_data("bioassay")
print(df, "\n")

# --- 2. Model: deaths out of n ~ Binomial(n, p), logit(p) = Intercept + dose * x ---------
model = bf.Model("p(deaths, n) ~ dose", df, family="binomial")
print(model, "\n")

# --- 3. Prior predictive check: which dose-response curves do the priors allow? --------
prior = model.prior_predictive(draws=PRIOR_DRAWS, random_seed=1)
grid = pd.DataFrame({"dose": np.linspace(-1.5, 1.5, 100)})
prior_curves = model.predict(prior, data=grid, kind="response_params", inplace=False, group="prior")
p_prior = prior_curves["prior"]["p"].stack(sample=("chain", "draw")).values  # (100, draws)

fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(grid["dose"], p_prior[:, :50], color="C0", alpha=0.3, lw=1)
observed(ax, df)
ax.set_title("50 dose-response curves drawn from the prior")
save(fig, "prior_curves.png")

# --- 4. Fit --------------------------------------------------------------------------------
idata = model.fit(draws=DRAWS, tune=TUNE, chains=2, random_seed=1, progressbar=not FAST)

# --- 5. Convergence: trace plot and summary (want r_hat near 1 and large ess_bulk/ess_tail)
save(bf.plot_trace(idata, var_names=["Intercept", "dose"]), "trace.png")
print(bf.summary(idata, var_names=["Intercept", "dose"], round_to=3).to_string(), "\n")

# --- 6. Posterior dose-response curve: mean and 94% interval -----------------------------
post = model.predict(idata, data=grid, kind="response_params", inplace=False)
p_post = post.posterior["p"]  # dims (chain, draw, __obs__)
p_mean = p_post.mean(("chain", "draw")).values
p_low, p_high = p_post.quantile([0.03, 0.97], dim=("chain", "draw")).values

fig, ax = plt.subplots(figsize=(6, 4))
ax.fill_between(grid["dose"], p_low, p_high, color="C1", alpha=0.3, label="94% interval")
ax.plot(grid["dose"], p_mean, color="C1", label="posterior mean")
observed(ax, df)
ax.legend(loc="upper left")
ax.set_title("Posterior dose-response curve")
save(fig, "posterior_curve.png")

# --- 7. Predictions at new doses: probability of death and deaths out of 5 ---------------
new = pd.DataFrame({"dose": [-1.0, 0.0, 1.0]})
pred = model.predict(idata, data=new, kind="response", inplace=False, random_seed=1)
p_new = pred.posterior["p"]
deaths_new = pred.posterior_predictive["deaths"]  # trials: the constant n = 5 of the data
low, high = p_new.quantile([0.03, 0.97], dim=("chain", "draw")).values
table = pd.DataFrame(
    {
        "dose": new["dose"],
        "p_mean": p_new.mean(("chain", "draw")).values,
        "p_3%": low,
        "p_97%": high,
        "deaths_mean (of 5)": deaths_new.mean(("chain", "draw")).values,
    }
)
print(table.round(3).to_string(index=False))
