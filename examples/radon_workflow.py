"""Radon: the analyst's workflow on a multilevel model, from fit to a saved, reusable model.

Log radon in 919 Minnesota homes, measured in the basement (floor = 0) or on the first floor
(floor = 1), in 85 counties (Gelman and Hill 2007). Two models with county intercepts, one with
the county's soil uranium, are fitted, checked, compared, summarised as pandas tables, used for
predictions and saved to a file that a fresh process (or the `bayesformula` command) can use.

    MPLBACKEND=Agg python examples/radon_workflow.py [OUTPUT_FOLDER]

Set BAYESFORMULA_FAST=1 for a quick run with fewer draws.
"""

import os
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

import bayesformula as bf

plt.switch_backend("Agg")
pd.set_option("display.width", 120)
pd.set_option("display.max_columns", 12)
FAST = os.environ.get("BAYESFORMULA_FAST") == "1"
SAMPLING = {"draws": 300, "tune": 300} if FAST else {"draws": 1000, "tune": 1000}
SAMPLING.update(chains=2, random_seed=2026, progressbar=not FAST)
OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "radon_output")
OUT.mkdir(parents=True, exist_ok=True)

radon = bf.load_data("radon")

# 1. Two candidate models; fit() prints the diagnostics report once per fit.
floor_only = bf.Model("log_radon ~ floor + (1|county)", radon)
with_uranium = bf.Model("log_radon ~ floor + uranium + (1|county)", radon)
print(with_uranium)
idata_floor = floor_only.fit(log_likelihood=True, **SAMPLING)
idata = with_uranium.fit(log_likelihood=True, **SAMPLING)

# 2. The same report as data: act on it in a script.
report = with_uranium.check(idata)
print("\nall checks passed:", report.ok)
print(report.to_frame()[["ok", "value", "threshold"]])

# 3. pandas tables: summary, point estimates, intervals (common effects and the county sd).
common = ["Intercept", "floor", "uranium", "1|county_sigma", "sigma"]
print("\n", bf.summary(idata, var_names=common).round(3))
print("\nposterior means:\n", bf.params(idata, var_names=common).round(3))
print("\n90% intervals:\n", bf.conf_int(idata, prob=0.9, var_names=common).round(3))

# 4. Which model predicts better? LOO, and a Bayesian R-squared.
comparison = bf.compare({"floor + uranium": idata, "floor only": idata_floor})
print("\n", comparison[["elpd", "p", "elpd_diff", "weight"]].round(2))
print("\nBayesian R2:\n", bf.r2(with_uranium, idata).round(3))

# 5. Predictions for new homes, aligned with the new table's index; a new county needs
#    sample_new_groups=True (its effect is drawn from the fitted county distribution).
homes = pd.DataFrame(
    {
        "floor": [0, 1, 0],
        "uranium": [-0.5, -0.5, 0.3],
        "county": ["HENNEPIN", "HENNEPIN", "A NEW COUNTY"],
    },
    index=pd.Index(["house-1", "house-2", "house-3"], name="home"),
)
table = with_uranium.predictions(
    idata, data=homes, kind="response", sample_new_groups=True, random_seed=1
)
print("\n", homes.join(table).round(3))

# 6. Conditional effect of uranium, by floor.
fig = bf.plot_predictions(with_uranium, idata, "uranium", by="floor")
fig.savefig(OUT / "uranium_by_floor.png", dpi=100, bbox_inches="tight")
plt.close(fig)

# 7. Save everything to one file; load it back and predict the same numbers.
path = bf.save(with_uranium, idata, OUT / "radon_fit.nc")
loaded, loaded_idata = bf.load(path)
again = loaded.predictions(loaded_idata, data=homes.iloc[:2])
assert again.equals(with_uranium.predictions(idata, data=homes.iloc[:2]))
print(f"\nsaved to {path}; the loaded model predicts identically.")
print(f"predict from the shell: bayesformula predict {path} --data homes.csv")
