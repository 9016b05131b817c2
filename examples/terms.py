"""A monotonic effect and an approximate Gaussian process, on simulated data with known truth.

    python examples/terms.py [OUT_FOLDER]

1. Monotonic effect, ``y ~ mo(education)``: an ordered predictor with four levels whose steps
   are unequal (60 %, 30 % and 10 % of the total effect). The coefficient ``mo(education)`` is
   the average step (the total effect / 3) and ``mo(education)_simplex`` the share of each step.
2. Gaussian process, ``y ~ hsgp(x, m=15, c=1.5)``: a smooth curve of x plus noise. The curve
   is recovered at ten points from predictions on new data. Gaussian-process posteriors are
   harder for NUTS than regressions (amplitude and lengthscale form a funnel with the basis
   weights), so this fit uses ``target_accept=0.95``.

Estimates are printed next to the truth and written to OUT_FOLDER/estimates.csv (default:
terms_out/), with a figure of the recovered curve (gp_curve.png). Set BAYESFORMULA_FAST=1 for a
quick run with fewer draws.
"""

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import bayesformula as bf  # noqa: E402

FAST = os.environ.get("BAYESFORMULA_FAST") == "1"
DRAWS, TUNE = (300, 300) if FAST else (1000, 1000)
OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "terms_out")
OUT.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(2027)
rows = []


def record(model_name, parameter, truth, mean, sd, low, high):
    rows.append(
        {
            "model": model_name,
            "parameter": parameter,
            "truth": truth,
            "mean": mean,
            "sd": sd,
            "hdi_low": low,
            "hdi_high": high,
        }
    )


# 1. monotonic effect ------------------------------------------------------------------------
levels = ["none", "primary", "secondary", "tertiary"]
n = 240
education = pd.Categorical(rng.choice(levels, n), categories=levels, ordered=True)
b, zeta = 0.8, np.array([0.6, 0.3, 0.1])  # average step and the share of each step
effect = b * 3 * np.r_[0.0, np.cumsum(zeta)]  # 0, 1.44, 2.16, 2.4
y = 1.0 + effect[education.codes] + rng.normal(0, 0.6, n)
mono = bf.Model("y ~ mo(education)", pd.DataFrame({"y": y, "education": education}))
print(mono)
idata = mono.fit(draws=DRAWS, tune=TUNE, chains=2, random_seed=1, progressbar=False)
table = bf.summary(idata)
print(table.round(3).to_string())
truth = {"Intercept": 1.0, "mo(education)": b}
steps = ["none->primary", "primary->secondary", "secondary->tertiary"]
truth.update({f"mo(education)_simplex[{s}]": z for s, z in zip(steps, zeta, strict=True)})
for name, value in truth.items():
    row = table.loc[name]
    record("monotonic", name, value, row["mean"], row["sd"], row["hdi_3%"], row["hdi_97%"])

# 2. approximate Gaussian process ------------------------------------------------------------
n = 100
x = rng.uniform(0, 10, n)


def curve(v):
    return 2.0 + np.sin(v) + 0.2 * (v - 5)


y = curve(x) + rng.normal(0, 0.5, n)
gp = bf.Model("y ~ hsgp(x, m=15, c=1.5)", pd.DataFrame({"x": x, "y": y}))
print(gp)
idata = gp.fit(
    draws=DRAWS, tune=TUNE, chains=2, random_seed=2, progressbar=False, target_accept=0.95
)
names = ["Intercept", "hsgp(x, m=15, c=1.5)_sigma", "hsgp(x, m=15, c=1.5)_ell", "sigma"]
print(bf.summary(idata, var_names=names)[["mean", "sd", "hdi_3%", "hdi_97%", "r_hat"]].round(3))
points = np.linspace(0.5, 9.5, 10)
grid = pd.DataFrame({"x": points}, index=[f"mu(x={v:.1f})" for v in points])
fitted = gp.predictions(idata, data=grid)
for name, row in fitted.iterrows():
    value = curve(grid.loc[name, "x"])
    record("gaussian process", name, value, row["mean"], row["sd"], row["hdi_3%"], row["hdi_97%"])
print(pd.concat([grid.assign(truth=curve(grid["x"])), fitted], axis=1).round(3).to_string())

dense = pd.DataFrame({"x": np.linspace(x.min(), x.max(), 200)})
band = gp.predictions(idata, data=dense)
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.scatter(x, y, s=8, color="0.6", label="data")
ax.fill_between(dense["x"], band["hdi_3%"], band["hdi_97%"], alpha=0.3, label="94% HDI")
ax.plot(dense["x"], band["mean"], label="posterior mean")
ax.plot(dense["x"], curve(dense["x"]), "k--", label="truth")
ax.set(xlabel="x", ylabel="mu", title="hsgp(x, m=15, c=1.5)")
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig(OUT / "gp_curve.png", dpi=100)
print(f"wrote {OUT / 'gp_curve.png'}")

pd.DataFrame(rows).to_csv(OUT / "estimates.csv", index=False)
print(f"wrote {OUT / 'estimates.csv'}")
