"""Compile once per model structure: what a model outside the fast path pays to compile.

    .venv/bin/python benchmarks/compile_once.py [--sampler pymc|nutpie]

A negative binomial model `y ~ x + (1|g)` (outside the fast path, so its PyMC graph is
compiled) is fitted three ways, each fit in the same fresh-cache directory:

1. a fresh process with empty engine caches (PyTensor compile directory, numba and JAX caches);
2. a fresh process after (1) filled them: the same model in a new process;
3. in that second process, a new `Model` with new data of the same structure (other rows,
   another seed).

It prints, per fit, the seconds `fit` spends outside the engine's sampling loop (graph
compilation, initialisation, conversion) and the whole fit, 2 chains x 300 + 300 draws.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _data(seed: int, n: int):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    g = rng.integers(0, 40, n)
    x = rng.normal(size=n)
    mu = np.exp(1.0 + 0.4 * x + rng.normal(0, 0.5, 40)[g])
    y = rng.negative_binomial(3, 3 / (3 + mu))
    return pd.DataFrame({"y": y, "x": x, "g": [f"g{i}" for i in g]})


def _fit(data, sampler: str) -> dict:
    import bayesformula as bf

    model = bf.Model("y ~ x + (1|g)", data, family="negativebinomial")
    start = time.perf_counter()
    idata = model.fit(
        draws=300,
        tune=300,
        chains=2,
        random_seed=1,
        progressbar=False,
        diagnostics=False,
        inference_method=sampler,
    )
    total = time.perf_counter() - start
    sampling = None
    for group in ("sample_stats", "posterior"):
        value = idata[group].attrs.get("sampling_time")
        if value is not None:
            sampling = float(value)
            break
    return {"fit_s": total, "outside_sampling_s": total - (sampling or 0.0)}


def child(args) -> int:
    import warnings

    warnings.filterwarnings("ignore")
    results = {"first": _fit(_data(1, 1500), args.sampler)}
    if args.refit:
        results["new data, same structure"] = _fit(_data(2, 2500), args.sampler)
    print("RESULT " + json.dumps(results))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sampler", default="pymc", choices=["pymc", "nutpie"])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--refit", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)

    rows = []
    with tempfile.TemporaryDirectory(prefix="compile-once-") as tmp:
        env = dict(os.environ)
        env["PYTENSOR_FLAGS"] = f"compiledir={Path(tmp) / 'pytensor'}"
        env["NUMBA_CACHE_DIR"] = str(Path(tmp) / "numba")
        env["JAX_COMPILATION_CACHE_DIR"] = str(Path(tmp) / "jax")
        for label, refit in (("new process, empty caches", False), ("new process, warm", True)):
            cmd = [sys.executable, __file__, "--child", "--sampler", args.sampler]
            cmd += ["--refit"] if refit else []
            out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
            line = next((s for s in out.stdout.splitlines() if s.startswith("RESULT ")), None)
            if line is None:
                print(out.stderr[-2000:])
                return 1
            for name, res in json.loads(line[len("RESULT ") :]).items():
                rows.append((label if name == "first" else f"  same process: {name}", res))
    print(f"negativebinomial y ~ x + (1|g), inference_method='{args.sampler}'\n")
    print("| fit | outside sampling s | whole fit s |\n|---|---|---|")
    for label, res in rows:
        print(f"| {label} | {res['outside_sampling_s']:.2f} | {res['fit_s']:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
