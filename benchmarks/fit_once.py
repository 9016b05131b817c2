"""One fit of one workload in this (fresh) process; prints one JSON line of measurements.

    python benchmarks/fit_once.py --lib bayesformula --backend auto --workload W1
    python benchmarks/fit_once.py --lib bambi --backend nutpie --workload W5
    python benchmarks/fit_once.py --lib pymc --backend nutpie-noncentered --workload W11

``--lib pymc`` fits the hand-written PyMC model of a workload (`handwritten.py`) with
``pm.sample`` (``--backend pymc`` or ``nutpie``, ``-centered`` or ``-noncentered``).

Imports happen before the clock starts. Measured: construct (``Model(...)``), the whole
``fit``, the engine's own sampling time (``sampling_time``), the rest of the fit counted as
compile (graph compile, JIT, initialisation, conversion to the result tree), the minimum bulk ESS
over all posterior variables, divergences and this process's peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

warnings.filterwarnings("ignore")


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _sampling_time(idata) -> float | None:
    for group in ("sample_stats", "posterior"):
        if group in idata.children:
            value = idata[group].attrs.get("sampling_time")
            if value is not None:
                return float(value)
    return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lib", choices=["bayesformula", "bambi", "pymc"], required=True)
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--workload", required=True)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=None)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    import arviz  # noqa: F401  (imports before the clock starts)
    import numpy  # noqa: F401
    from workloads import WORKLOADS

    if args.lib == "pymc":
        return _handwritten(args)
    if args.lib == "bambi":
        import bambi as lib
    else:
        import bayesformula as lib
    if args.backend in ("numpyro", "blackjax"):
        import jax  # noqa: F401  (an import, excluded like the others)
    if args.backend == "nutpie" or args.lib == "bayesformula":
        import nutpie  # noqa: F401

    formula, data, family = WORKLOADS[args.workload]()
    if args.lib == "bambi" and isinstance(formula, str):
        # Bambi's group effects are independent; bayesformula writes that '(x || g)'
        formula = formula.replace("||", "|")
    if isinstance(formula, tuple):  # a main formula and formulas of auxiliary parameters
        formula = lib.Formula(*formula)
    rss_before = _rss_mb()

    fit_kwargs = {
        "draws": args.draws,
        "chains": args.chains,
        "random_seed": args.seed,
        "progressbar": False,
        "inference_method": args.backend,
    }
    if args.tune is not None:
        fit_kwargs["tune"] = args.tune
    if args.lib == "bambi":
        fit_kwargs["cores"] = min(args.chains, os.cpu_count() or 1)

    t0 = time.perf_counter()
    model = lib.Model(formula, data, family=family)
    t1 = time.perf_counter()
    idata = model.fit(**fit_kwargs)
    t2 = time.perf_counter()
    _report(args, idata, t0, t1, t2, rss_before)
    return 0


def _handwritten(args) -> int:
    """Fit the workload's hand-written PyMC model with ``pm.sample``."""
    import pymc as pm
    from handwritten import HANDWRITTEN

    sampler, _, variant = args.backend.partition("-")
    if args.workload not in HANDWRITTEN or sampler not in ("pymc", "nutpie"):
        raise SystemExit(f"no hand-written model of {args.workload} for {args.backend}")
    if sampler == "nutpie":
        import nutpie  # noqa: F401  (an import, excluded like the others)
    rss_before = _rss_mb()
    t0 = time.perf_counter()
    model = HANDWRITTEN[args.workload](variant or "centered")
    t1 = time.perf_counter()
    with model:
        idata = pm.sample(
            draws=args.draws,
            tune=args.tune or 1000,
            chains=args.chains,
            cores=min(args.chains, os.cpu_count() or 1),
            random_seed=args.seed,
            progressbar=False,
            nuts_sampler=sampler,
        )
    t2 = time.perf_counter()
    _report(args, idata, t0, t1, t2, rss_before)
    return 0


def _report(args, idata, t0, t1, t2, rss_before) -> None:
    """Print the measurements of one fit (see the module docstring)."""
    import arviz as az
    import numpy as np

    fit_s = t2 - t1
    sample_s = _sampling_time(idata)
    if sample_s is None or sample_s > fit_s:
        sample_s = fit_s
    posterior = idata["posterior"].to_dataset()
    names = [
        v
        for v in posterior.data_vars
        if not v.endswith("_offset") and "__obs__" not in posterior[v].dims
    ]
    ess = az.ess(posterior[names], method="bulk")
    min_ess = float(min(float(np.min(ess[v].values)) for v in names))
    stats = idata["sample_stats"]
    divergences = int(stats["diverging"].sum()) if "diverging" in stats else -1
    # The kernel's high-water mark for this process. Children are left out: a child forked and
    # exec'd at import reports the parent's size at the fork. run.py polls the whole process
    # tree's proportional set size instead (peak_mem_mb).
    self_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    construct_s = t1 - t0
    compile_s = fit_s - sample_s
    scaled = sample_s * 400 / min_ess if min_ess > 0 else float("inf")
    result = {
        "lib": args.lib,
        "backend": args.backend,
        "workload": args.workload,
        "construct_s": construct_s,
        "compile_s": compile_s,
        "sample_s": sample_s,
        "min_ess_bulk": min_ess,
        "ess_per_s": min_ess / sample_s if sample_s > 0 else float("inf"),
        "time_to_posterior_s": construct_s + compile_s + scaled,
        "model_to_idata_s": t2 - t0,
        "peak_rss_mb": self_peak,
        "rss_after_imports_mb": rss_before,
        "divergences": divergences,
        "engine": posterior.attrs.get("inference_method", args.backend),
    }
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    raise SystemExit(main())
