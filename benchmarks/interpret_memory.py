"""Time and peak memory of an average comparison over 100,000 rows, against Bambi 0.21.

    python benchmarks/interpret_memory.py [--rows N] [--bambi-python .venv-bench/bin/python]

Each library runs in a child process of its own environment: it fits the same bernoulli model
``y ~ x + c`` (N rows, c with three levels; 2 chains x 1,000 draws; the fit's time is printed
too), then computes the average change in the probability when x goes from 0 to 1 for every
row, `bf.comparisons(model, idata, {"x": [0, 1]}, average=True)` and Bambi's
``bmb.interpret.comparisons(model, idata, {"x": [0, 1]}, average_by="all")``. Measured: that
call's wall time and the largest resident memory of the process during it above its level
just before (a thread polls ``/proc/self/statm`` every 5 ms).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

CHILD = textwrap.dedent(
    """
    import json, os, sys, threading, time, warnings
    warnings.filterwarnings("ignore")
    import numpy as np, pandas as pd

    def main():
        lib, n = sys.argv[1], int(sys.argv[2])
        rng = np.random.default_rng(0)
        data = pd.DataFrame({"x": rng.normal(size=n), "c": rng.choice(["a", "b", "c"], n)})
        eta = -0.3 + 0.8 * data.x + np.where(data.c == "b", 0.5, 0.0)
        data["y"] = rng.binomial(1, 1 / (1 + np.exp(-eta)))
        page = os.sysconf("SC_PAGE_SIZE") / 2**20

        def rss():
            with open("/proc/self/statm") as fh:
                return int(fh.read().split()[1]) * page

        if lib == "bambi":
            import bambi as bmb
            model = bmb.Model("y ~ x + c", data, family="bernoulli")
            t = time.perf_counter()
            idata = model.fit(draws=1000, chains=2, random_seed=1, progressbar=False)
            fit_s = time.perf_counter() - t
            def run():
                return bmb.interpret.comparisons(model, idata, {"x": [0, 1]}, average_by="all")
            def value(out):
                return float(out.summary["estimate"].iloc[0])
        else:
            import bayesformula as bf
            model = bf.Model("y ~ x + c", data, family="bernoulli")
            t = time.perf_counter()
            idata = model.fit(draws=1000, chains=2, random_seed=1, progressbar=False)
            fit_s = time.perf_counter() - t
            bf.comparisons(model, idata, {"x": [0, 1]}, data.iloc[:5], average=True)  # compile
            def run():
                return bf.comparisons(model, idata, {"x": [0, 1]}, average=True, progressbar=False)
            def value(out):
                return float(out["estimate"].iloc[0])

        base = rss()
        peak = [base]
        done = threading.Event()
        def poll():
            while not done.is_set():
                peak[0] = max(peak[0], rss())
                time.sleep(0.005)
        watcher = threading.Thread(target=poll)
        watcher.start()
        t = time.perf_counter()
        try:
            out = run()
        finally:
            done.set()
        seconds = time.perf_counter() - t
        watcher.join()
        print(json.dumps({"lib": lib, "rows": n, "fit_s": fit_s, "seconds": seconds,
                          "growth_mb": max(peak[0], rss()) - base, "base_mb": base,
                          "estimate": value(out)}))

    if __name__ == "__main__":
        main()
    """
)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--bambi-python", default=None)
    args = parser.parse_args(argv)
    runs = [("bayesformula", sys.executable)]
    if args.bambi_python:
        runs.append(("bambi", args.bambi_python))
    print(f"average comparison of x (0 -> 1) over {args.rows:,} rows, 2 chains x 1,000 draws")
    print(
        f"{'library':<14}{'fit s':>8}{'comparison s':>14}{'memory growth MB':>18}{'estimate':>10}"
    )
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "child.py"  # a file: PyMC's chain processes re-import it
        script.write_text(CHILD)
        for lib, python in runs:
            _run(lib, python, script, args.rows)
    return 0


def _run(lib: str, python: str, script: Path, rows: int) -> None:
    out = subprocess.run([python, str(script), lib, str(rows)], capture_output=True, text=True)
    if out.returncode != 0:
        print(f"{lib:<14} failed: {out.stderr.strip().splitlines()[-1:]}")
        return
    r = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"{lib:<14}{r['fit_s']:>8.1f}{r['seconds']:>14.2f}{r['growth_mb']:>18.0f}"
        f"{r['estimate']:>10.4f}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
