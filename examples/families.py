"""Families beyond the gaussian: quantile regression, zero-inflated counts, censored survival
times and ordered ratings, on simulated data whose true parameters are known.

    python examples/families.py [OUT_FOLDER]

1. Quantile regression (family="asymmetriclaplace"): the spread of y grows with x, so the
   90 % quantile line is steeper than the mean line. Fixing q = 0.9 estimates that line.
2. Zero-inflated Poisson counts (family="zero_inflated_poisson"): 30 % of the units can only
   give zeros (psi = 0.7 is the share that follow the Poisson part).
3. Survival times with right censoring (family="weibull", censored(time, status)): follow-up
   ends before the event for about 45 % of the units.
4. Ordered ratings (family="cumulative"): poor < fair < good < excellent, from a latent
   1.0 x + 0.7 [treated] + logistic noise cut at thresholds -1.0, 0.2 and 1.4.
5. Unordered categories and counts per category:
   a. the chosen mode of transport, walk (the reference), bike or car, by distance
      (family="categorical"), next to statsmodels' MNLogit maximum-likelihood fit;
   b. pollen counts of pine (the reference), oak and grass per sediment sample, by
      temperature, overdispersed with precision phi = 8 (family="dirichlet_multinomial").

Each model's estimates are printed next to the truth and written to OUT_FOLDER/estimates.csv
(default: families_out/; per-category coefficients as "x[bike]"). Set BAYESFORMULA_FAST=1 for a
quick run with fewer draws. The MNLogit comparison needs statsmodels (pip install statsmodels).
"""

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special, stats

import bayesformula as bf

FAST = os.environ.get("BAYESFORMULA_FAST") == "1"
DRAWS, TUNE = (300, 300) if FAST else (1000, 1000)
OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "families_out")
OUT.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(2026)
rows = []


def described(model, label):
    """The ``label:`` line of ``print(model)`` ("Response", "Intercept"), its wrapped
    continuation lines joined to it."""
    lines = str(model).splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(label + ":"))
    entry = [lines[start].strip()]
    for line in lines[start + 1 :]:
        if not line.startswith(" " * 18):  # a continuation is indented past the labels
            break
        entry.append(line.strip())
    return " ".join(entry)


def report(name, model, idata, truth, reference=None):
    """Print and keep the estimates of the parameters in `truth`; per-category coefficients
    are named as bf.summary names them ("x[bike]"). `reference`: a DataFrame of other
    estimates (columns such as "MNLogit", "MNLogit se") indexed like `truth`, printed alongside
    and kept as the column "reference" (its first column)."""
    table = bf.summary(idata, prob=0.94).loc[list(truth)]
    table.insert(0, "truth", pd.Series(truth))
    columns = ["truth", "mean", "sd", "hdi_3%", "hdi_97%"]
    if reference is not None:
        table = table.join(reference)
        columns += list(reference.columns)
    print(f"\n{name} (family={model.family.name!r})")
    print(table[columns].round(3).to_string())
    for param, value in truth.items():
        row = {
            "model": name,
            "parameter": param,
            "truth": value,
            "mean": table.loc[param, "mean"],
            "hdi_low": table.loc[param, "hdi_3%"],
            "hdi_high": table.loc[param, "hdi_97%"],
        }
        if reference is not None:
            row["reference"] = table.loc[param, reference.columns[0]]
        rows.append(row)


# 1. quantile regression ---------------------------------------------------------------
n = 400
x = rng.uniform(0, 2, n)
y = 1 + 2 * x + (0.5 + x) * rng.normal(size=n)
z90 = stats.norm.ppf(0.9)  # the 90 % quantile of y given x is 1 + 2x + (0.5 + x) z90
quantile = bf.Model(
    "y ~ x", pd.DataFrame({"x": x, "y": y}), family="asymmetriclaplace", priors={"q": 0.9}
)
idata = quantile.fit(draws=DRAWS, tune=TUNE, chains=2, random_seed=1, progressbar=False)
report("90% quantile", quantile, idata, {"Intercept": 1 + 0.5 * z90, "x": 2 + z90})

# 2. zero-inflated poisson ---------------------------------------------------------------
n = 600
x = rng.normal(size=n)
counts = rng.poisson(np.exp(0.5 + 0.8 * x)) * (rng.random(n) < 0.7)
zip_model = bf.Model("y ~ x", pd.DataFrame({"x": x, "y": counts}), family="zero_inflated_poisson")
idata = zip_model.fit(draws=DRAWS, tune=TUNE, chains=2, random_seed=2, progressbar=False)
report("zero-inflated counts", zip_model, idata, {"Intercept": 0.5, "x": 0.8, "psi": 0.7})

# responses drawn from the fitted model keep the excess zeros
zip_model.predict(idata, kind="response")
zeros = float((idata.posterior_predictive["y"] == 0).mean())
print(f"\nshare of zeros: observed {np.mean(counts == 0):.3f}, predicted {zeros:.3f}")

# 3. right-censored weibull survival times ------------------------------------------------
n = 300
x = rng.normal(size=n)
shape, scale = 1.5, np.exp(0.5 + 0.3 * x)
event = scale * rng.weibull(shape, n)
follow_up = 2.0 * rng.weibull(1.5, n)
frame = pd.DataFrame(
    {
        "time": np.minimum(event, follow_up),
        "status": np.where(event > follow_up, "right", "none"),
        "x": x,
    }
)
survival = bf.Model("censored(time, status) ~ x", frame, family="weibull")
print("\n" + described(survival, "Response"))
idata = survival.fit(draws=DRAWS, tune=TUNE, chains=2, random_seed=3, progressbar=False)
# mu is the mean survival time: log mu = 0.5 + log Gamma(1 + 1/shape) + 0.3 x
truth = {"Intercept": 0.5 + float(np.log(special.gamma(1 + 1 / shape))), "x": 0.3, "alpha": shape}
report("censored survival", survival, idata, truth)

# 4. ordered ratings (cumulative logit) ---------------------------------------------------
n = 500
x = rng.normal(size=n)
treated = rng.random(n) < 0.5
latent = 1.0 * x + 0.7 * treated + rng.logistic(size=n)
levels = ["poor", "fair", "good", "excellent"]
ratings = pd.DataFrame(
    {
        "rating": pd.Categorical.from_codes(
            np.digitize(latent, [-1.0, 0.2, 1.4]), levels, ordered=True
        ),
        "x": x,
        "treatment": np.where(treated, "yes", "no"),
    }
)
ordinal = bf.Model("rating ~ x + treatment", ratings, family="cumulative")
print("\n" + described(ordinal, "Response") + "\n" + described(ordinal, "Intercept"))
idata = ordinal.fit(draws=DRAWS, tune=TUNE, chains=2, random_seed=4, progressbar=False)
truth = {
    "x": 1.0,
    "treatment[yes]": 0.7,
    "threshold[poor|fair]": -1.0,
    "threshold[fair|good]": 0.2,
    "threshold[good|excellent]": 1.4,
}
report("ordinal ratings", ordinal, idata, truth)

# category probabilities for new units: one column per level, the new data's index kept
new = pd.DataFrame({"x": [-1.0, 0.0, 1.0], "treatment": ["no", "yes", "yes"]}, index=list("abc"))
table = ordinal.predictions(idata, data=new)
print("\nP(rating = level) for new units (posterior means):")
print(new.join(table[[f"mean[{level}]" for level in levels]]).round(3).to_string())

# 5a. unordered categories (categorical: multinomial logistic regression) ------------------
n = 600
distance = rng.gamma(2.0, 2.0, n)  # km
modes = ["walk", "bike", "car"]  # category order: walk is the reference
# log-odds of bike and car against walk: 1.0 + 0.3 distance and -2.0 + 0.8 distance
eta = np.column_stack([np.zeros(n), 1.0 + 0.3 * distance, -2.0 + 0.8 * distance])
prob = np.exp(eta) / np.exp(eta).sum(axis=1, keepdims=True)
codes = (rng.random(n)[:, None] > prob.cumsum(axis=1)).sum(axis=1)
travel = pd.DataFrame({"mode": pd.Categorical.from_codes(codes, modes), "distance": distance})
categorical = bf.Model("mode ~ distance", travel, family="categorical")
print("\n" + described(categorical, "Response"))
idata = categorical.fit(draws=DRAWS, tune=TUNE, chains=2, random_seed=5, progressbar=False)
truth = {
    "Intercept[bike]": 1.0,
    "Intercept[car]": -2.0,
    "distance[bike]": 0.3,
    "distance[car]": 0.8,
}
try:
    from statsmodels.discrete.discrete_model import MNLogit
except ImportError:  # statsmodels is optional: the comparison is left out
    print("\nstatsmodels is not installed: the MNLogit comparison is left out")
    mle = None
else:
    exog = np.column_stack([np.ones(n), distance])
    fit = MNLogit(travel["mode"].cat.codes.to_numpy(), exog).fit(disp=False)
    # fit.params: rows (const, distance), one column per category other than walk
    names = [f"{term}[{mode}]" for term in ("Intercept", "distance") for mode in modes[1:]]
    mle = pd.DataFrame(
        {
            "MNLogit": np.asarray(fit.params).ravel(),
            "MNLogit se": np.asarray(fit.bse).ravel(),
        },
        index=names,
    )
report("transport mode", categorical, idata, truth, reference=mle)

# 5b. overdispersed counts per category (dirichlet_multinomial) ----------------------------
n = 200
temp = rng.normal(size=n)  # standardised temperature
total = rng.integers(20, 61, n)  # pollen grains counted per sample
eta = np.column_stack([np.zeros(n), 0.3 + 0.8 * temp, -0.2 - 0.5 * temp])
mean_share = np.exp(eta) / np.exp(eta).sum(axis=1, keepdims=True)
phi = 8.0  # each sample's shares vary around the mean as Dirichlet(phi * mean_share)
shares = np.array([rng.dirichlet(phi * row) for row in mean_share])
counts = np.array([rng.multinomial(t, s) for t, s in zip(total, shares, strict=True)])
pollen = pd.DataFrame(counts, columns=["pine", "oak", "grass"]).assign(temp=temp)
dirmult = bf.Model("c(pine, oak, grass) ~ temp", pollen, family="dirichlet_multinomial")
print("\n" + described(dirmult, "Response"))
idata = dirmult.fit(draws=DRAWS, tune=TUNE, chains=2, random_seed=6, progressbar=False)
truth = {
    "Intercept[oak]": 0.3,
    "Intercept[grass]": -0.2,
    "temp[oak]": 0.8,
    "temp[grass]": -0.5,
    "phi": phi,
}
report("pollen counts", dirmult, idata, truth)

# expected shares and counts out of 50 grains for new samples: the count columns give each
# row's total (any split of it), as kind="response" draws counts
new = pd.DataFrame({"temp": [-1.0, 0.0, 1.0], "pine": 50, "oak": 0, "grass": 0}, index=list("abc"))
table = dirmult.predictions(idata, data=new, kind="response", random_seed=7)
taxa = ["pine", "oak", "grass"]
print("\nshares (mean[...]) and counts out of 50 (response_mean[...]) for new samples:")
columns = [f"mean[{k}]" for k in taxa] + [f"response_mean[{k}]" for k in taxa]
print(new[["temp"]].join(table[columns]).round(2).to_string())

pd.DataFrame(rows).to_csv(OUT / "estimates.csv", index=False)
print(f"wrote {OUT / 'estimates.csv'}")
