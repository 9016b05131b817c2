"""Peak memory and time of prediction tables on large new data, chunked vs one block.

    python benchmarks/predictions_memory.py [N_ROWS]

Fits a small gaussian model (y ~ x1 + x2 + a, 2 chains x 1,000 draws), then runs
`model.predictions` on N_ROWS new rows (default 300,000) in a child process per setting, and
prints wall time, peak RSS and its growth over the child's RSS just before predicting. One
block is `chunk_size=N_ROWS`: the draws x rows matrices at once (about 32 GB per million rows).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

N_ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000

CHILD = textwrap.dedent(
    """
    import json, resource, sys, time, warnings
    warnings.filterwarnings("ignore")
    import numpy as np, pandas as pd, bayesformula as bf
    path, n_rows, chunk = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    model, idata = bf.load(path)
    rng = np.random.default_rng(1)
    new = pd.DataFrame({"x1": rng.normal(size=n_rows), "x2": rng.normal(size=n_rows),
                        "a": rng.choice(["p", "q", "r"], n_rows)})
    model.predictions(idata, data=new.iloc[:10])  # compile outside the measurement
    def rss_mb():
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS"):
                    return int(line.split()[1]) / 1024
    base = rss_mb()
    t0 = time.perf_counter()
    table = model.predictions(idata, data=new, chunk_size=None if chunk == "auto" else int(chunk),
                              progressbar=False)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "base_mb": base,
                      "rows": len(table)}))
    """
)


def main() -> None:
    import warnings

    warnings.filterwarnings("ignore")
    import numpy as np
    import pandas as pd

    import bayesformula as bf

    rng = np.random.default_rng(0)
    n = 500
    data = pd.DataFrame(
        {"x1": rng.normal(size=n), "x2": rng.normal(size=n), "a": rng.choice(["p", "q", "r"], n)}
    )
    data["y"] = 1 + data.x1 - 0.5 * data.x2 + rng.normal(size=n)
    model = bf.Model("y ~ x1 + x2 + a", data)
    idata = model.fit(chains=2, cores=1, random_seed=1, progressbar=False, diagnostics=False)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fit.nc"
        bf.save(model, idata, path)
        print(f"predictions on {N_ROWS:,} rows, 2,000 draws")
        print(f"{'setting':<22}{'seconds':>9}{'peak RSS MB':>13}{'growth MB':>11}")
        for label, chunk in (("chunked (default)", "auto"), ("one block", str(N_ROWS))):
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(path), str(N_ROWS), chunk],
                capture_output=True,
                text=True,
                check=True,
            )
            r = json.loads(out.stdout.strip().splitlines()[-1])
            growth = r["peak_mb"] - r["base_mb"]
            print(f"{label:<22}{r['seconds']:>9.2f}{r['peak_mb']:>13.0f}{growth:>11.0f}")


if __name__ == "__main__":
    main()
