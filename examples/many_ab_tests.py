"""One model over many datasets: an A/B test in each of 200 markets, fitted with `bf.fit_many`.

    python examples/many_ab_tests.py [OUT_FOLDER]

Each market ran its own test: 200-2,000 users, a conversion ``y`` (0/1), the variant shown
(``treatment``: A or B) and a covariate ``x``. The true effect of B on the log-odds differs by
market (drawn around 0.3). `fit_many` fits ``y ~ treatment + x`` (bernoulli) to every market,
in this process, with one seed per market; the script prints the speed, the markets whose
effect is credibly positive, and how often the 94% interval covers the market's true effect.
The per-market table is written to OUT_FOLDER/treatment_effects.csv (default: many_out/).

Set BAYESFORMULA_FAST=1 for a quick run (100 markets, shorter chains). A Dask cluster runs
the same call on its workers: ``bf.fit_many(..., executor=client)`` (docs/many.md).
"""

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import bayesformula as bf

FAST = os.environ.get("BAYESFORMULA_FAST") == "1"
MARKETS = 100 if FAST else 200
DRAWS, TUNE = (300, 300) if FAST else (1000, 500)
OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "many_out")
OUT.mkdir(parents=True, exist_ok=True)

rng = np.random.default_rng(2026)
truth = {}
parts = []
for m in range(MARKETS):
    market = f"m{m:03d}"
    truth[market] = rng.normal(0.3, 0.15)
    n = int(rng.integers(200, 2001))
    treated = rng.integers(0, 2, n)
    x = rng.normal(size=n)
    p = 1 / (1 + np.exp(-(-1.0 + truth[market] * treated + 0.5 * x)))
    parts.append(
        pd.DataFrame(
            {
                "market": market,
                "treatment": np.where(treated, "B", "A"),
                "x": x,
                "y": rng.binomial(1, p),
            }
        )
    )
data = pd.concat(parts, ignore_index=True)

result = bf.fit_many(
    "y ~ treatment + x",
    data,
    by="market",
    family="bernoulli",
    draws=DRAWS,
    tune=TUNE,
    random_seed=1,
    progressbar=False,
)
print(result)
print(f"{MARKETS} markets in {result.seconds:.1f} s: {MARKETS / result.seconds:.1f} markets/s")

effects = result.summary.query("parameter == 'treatment[B]'").set_index("market")
effects = effects[["mean", "sd", "hdi_3%", "hdi_97%", "r_hat", "ess_bulk"]].copy()
effects["truth"] = pd.Series(truth)
effects["covered"] = (effects["hdi_3%"] <= effects["truth"]) & (
    effects["truth"] <= effects["hdi_97%"]
)
positive = effects[effects["hdi_3%"] > 0]
print(f"\nmarkets whose 94% interval for B's effect lies above 0: {len(positive)} of {MARKETS}")
print(positive.head(10).round(3).to_string())
print(
    f"\nthe 94% interval covers the market's true effect in {effects['covered'].mean():.0%} of "
    f"the markets; {int((~result.diagnostics['ok']).sum())} fits have a diagnostics problem"
)
effects.to_csv(OUT / "treatment_effects.csv")
print(f"wrote {OUT / 'treatment_effects.csv'}")
