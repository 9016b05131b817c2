"""A million rows: ``y ~ x1 + x2 + (1|g)`` with 1,000 groups, gaussian, bernoulli and poisson.

    python benchmarks/big_data.py [--rows 1000000] [--groups 1000] [--families ...] [--json F]

Each family runs in a fresh process: the data are simulated, then timed one after another:
the model's specification, the fast path's log-density (sufficient statistics for the
gaussian, the compiled row loop for the others), one gradient (the mean of 50 after a first),
the fit (2 chains x 1,000 draws, ``fit()``'s defaults otherwise, no progress bar) and an
in-sample `model.predictions` table. Peak memory is the process's largest resident set
(``ru_maxrss``) after each step, so it includes the data (3 float columns and the group codes,
about 32 MB per million rows) and everything imported.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap
from pathlib import Path

CHILD = textwrap.dedent(
    """
    import json, resource, sys, time, warnings
    warnings.filterwarnings("ignore")
    import numpy as np, pandas as pd
    import bayesformula as bf

    def peak():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    family, n, levels = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = np.random.default_rng(0)
    g = rng.integers(0, levels, n)
    data = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n),
                         "g": pd.Categorical(g)})
    eta = 0.2 + 0.5 * data.x1 - 0.3 * data.x2 + rng.normal(0, 0.5, levels)[g]
    if family == "gaussian":
        data["y"] = eta + rng.normal(size=n)
    elif family == "bernoulli":
        data["y"] = rng.binomial(1, 1 / (1 + np.exp(-eta)))
    else:
        data["y"] = rng.poisson(np.exp(eta))
    out = {"family": family, "rows": n, "groups": levels, "data_mb": peak()}
    start = time.perf_counter()
    model = bf.Model("y ~ x1 + x2 + (1|g)", data, family=family)
    out["specify_s"] = time.perf_counter() - start
    start = time.perf_counter()
    density = model.density()
    out["density_s"] = time.perf_counter() - start
    out["density"] = density.description
    x = np.full(density.ndim, 0.01)
    density.logp_grad(x)
    start = time.perf_counter()
    for _ in range(50):
        density.logp_grad(x)
    out["gradient_ms"] = (time.perf_counter() - start) / 50 * 1e3
    out["before_fit_mb"] = peak()
    start = time.perf_counter()
    idata = model.fit(draws=1000, chains=2, random_seed=1, progressbar=False)
    out["fit_s"] = time.perf_counter() - start
    out["fit_mb"] = peak()
    summary = bf.summary(idata, var_names=["x1", "x2"])
    out["x1"], out["x2"] = float(summary.loc["x1", "mean"]), float(summary.loc["x2", "mean"])
    out["min_ess_bulk"] = float(bf.summary(idata)["ess_bulk"].min())
    start = time.perf_counter()
    table = model.predictions(idata, progressbar=False)
    out["predictions_s"] = time.perf_counter() - start
    out["peak_mb"] = peak()
    print(json.dumps(out))
    """
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--families", nargs="+", default=["gaussian", "bernoulli", "poisson"])
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    rows = []
    for family in args.families:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, family, str(args.rows), str(args.groups)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"{family} failed:\n{done.stderr[-3000:]}")
        r = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append(r)
        print(
            f"{family:>10}: specify {r['specify_s']:.1f} s, density {r['density_s']:.1f} s, "
            f"gradient {r['gradient_ms']:.2f} ms, fit {r['fit_s']:.1f} s (min ESS "
            f"{r['min_ess_bulk']:.0f}), predictions {r['predictions_s']:.1f} s; peak memory "
            f"{r['before_fit_mb']:.0f} MB before the fit, {r['fit_mb']:.0f} MB after it, "
            f"{r['peak_mb']:.0f} MB with predictions\n{'':>12}{r['density']}",
            flush=True,
        )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
