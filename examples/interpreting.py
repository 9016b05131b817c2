"""Interpreting a fit: predictions on a grid, comparisons, slopes and hypotheses.

A logistic dose-response model of the bioassay data (Racine et al. 1986) and a radon model
with a floor effect per county (Gelman & Hill 2007), interpreted on the probability and the
log-radon scale.

    MPLBACKEND=Agg python examples/interpreting.py [FIGURE_FOLDER]

Figures go to FIGURE_FOLDER (default: interpreting_figures/ in the current directory).
Set BAYESFORMULA_FAST=1 for a quick run with fewer draws.
"""

import os
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import bayesformula as bf

plt.switch_backend("Agg")

FAST = os.environ.get("BAYESFORMULA_FAST") == "1"
DRAWS = 300 if FAST else 1000
FIG_DIR = Path(sys.argv[1] if len(sys.argv) > 1 else "interpreting_figures")
FIG_DIR.mkdir(parents=True, exist_ok=True)


def show(title, table):
    print(f"\n{title}")
    print(table.round(3).to_string())


# ---------------------------------------------------------------------------- bioassay
bioassay = bf.load_data("bioassay")
model = bf.Model("p(deaths, n) ~ dose", bioassay, family="binomial")
idata = model.fit(draws=DRAWS, random_seed=1, progressbar=False)

grid = bf.datagrid(model, dose=list(np.linspace(-1.0, 1.0, 5)))
show("death probability on a grid of doses", bf.predictions(model, idata, grid))
show("its slope in dose (steepest at the LD50)", bf.slopes(model, idata, "dose", grid))
show(
    "the LD50 and the probability that it is below 0",
    bf.hypothesis(idata, "-Intercept / dose < 0"),
)

fig = bf.plot_slopes(model, idata, "dose", "dose")
fig.savefig(FIG_DIR / "bioassay_slope.png", dpi=100, bbox_inches="tight")
plt.close(fig)
print(f"wrote {FIG_DIR / 'bioassay_slope.png'}")

# ---------------------------------------------------------------------------- radon
radon = bf.load_data("radon")
homes = radon.groupby("county")["county"].transform("size")
radon["county_size"] = np.where(homes >= 10, "10 homes or more", "under 10 homes")
model = bf.Model("log_radon ~ floor + (1 + floor|county)", radon)
idata = model.fit(draws=DRAWS, random_seed=2, progressbar=False)

effect = bf.comparisons(model, idata, {"floor": [0, 1]}, by="county_size")
show("first floor minus basement, averaged by county size", effect)
show("the two averages differ by", bf.hypothesis(effect, "b1 - b2 = 0", rope=(-0.05, 0.05)))

fig = bf.plot_comparisons(model, idata, {"floor": [0, 1]}, "floor")
fig.savefig(FIG_DIR / "radon_floor.png", dpi=100, bbox_inches="tight")
plt.close(fig)
print(f"wrote {FIG_DIR / 'radon_floor.png'}")
