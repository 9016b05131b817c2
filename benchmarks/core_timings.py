"""Where the time goes in one bayesformula fit: construct, build, compile + sample, predict.

    .venv/bin/python benchmarks/core_timings.py

Runs W1 (bioassay, binomial) and W4 (sleepstudy, `Reaction ~ Days + (Days||Subject)`) in one
process, each twice, with the default sampler (both models take the fast path, so `build` is
the PyMC graph that `predict` uses, and the fit compiles nothing), and prints seconds, the
minimum bulk ESS over parameters and sampling throughput. 2 chains x 1,000 draws after 1,000
tuning steps. `benchmarks/run.py` is the comparison with Bambi.
"""

from __future__ import annotations

import os
import platform
import time
import warnings

import arviz as az
import pandas as pd

import bayesformula as bf

warnings.filterwarnings("ignore")

WORKLOADS = {
    "W1 bioassay": ("p(deaths, n) ~ dose", "bioassay", "binomial", {"dose": [-1.0, 0.0, 1.0]}),
    "W4 sleepstudy": (
        "Reaction ~ Days + (Days||Subject)",
        "sleepstudy",
        "gaussian",
        {"Days": [0, 5, 9], "Subject": [308, 309, 310]},
    ),
}


def run(formula, dataset, family, new):
    df = bf.load_data(dataset)
    t0 = time.perf_counter()
    model = bf.Model(formula, df, family=family)
    t1 = time.perf_counter()
    model.build()
    t2 = time.perf_counter()
    idata = model.fit(draws=1000, tune=1000, chains=2, cores=1, random_seed=1, progressbar=False)
    t3 = time.perf_counter()
    model.predict(idata, data=pd.DataFrame(new), kind="response", random_seed=1)
    t4 = time.perf_counter()
    names = [v for v in idata.posterior.data_vars if v not in model.family.parent]
    ess = az.ess(idata, var_names=names, method="bulk")
    min_ess = min(float(ess[v].min()) for v in ess.data_vars)
    stats = idata.sample_stats.attrs.get("sampling_time")
    sampling = float(stats if stats is not None else idata.posterior.attrs["sampling_time"])
    return {
        "construct s": t1 - t0,
        "build s": t2 - t1,
        "fit s (compile+sample)": t3 - t2,
        "of which sampling s": sampling,
        "predict s": t4 - t3,
        "min bulk ESS": min_ess,
        "ESS/s (sampling)": min_ess / sampling if sampling else float("nan"),
    }


def main():
    rows = {}
    for name, spec in WORKLOADS.items():
        for attempt in ("first", "second"):
            rows[f"{name} ({attempt})"] = run(*spec)
    table = pd.DataFrame(rows).T
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cpus, Python {platform.python_version()}"
    )
    print(table.round(3).to_string())


if __name__ == "__main__":
    main()
