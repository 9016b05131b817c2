"""Datasets per second: one model over many A/B tests, as a loop of Bambi 0.21 fits, a loop of
``bf.Model().fit()``, `bf.fit_many` in this process and `bf.fit_many` on a 2-worker Dask
LocalCluster.

    python benchmarks/fit_many.py [--datasets 1000] [--loop 40] [--bambi-loop 20]
                                  [--bambi-python .venv-bench/bin/python] [--json FILE]
                                  [--link logit|probit] [--graph]

The datasets: bernoulli A/B tests of 200-2,000 rows (uniform), ``y ~ treatment + x`` with a
treatment effect of 0.3 on the log-odds, each fitted with 2 chains x (300 tune + 500 draws),
every tool with its own defaults otherwise. Each way runs in a fresh process of its own
environment and is timed from its first fit to its last, imports and the cluster's start
excluded (printed separately). The loops run on the first ``--loop`` / ``--bambi-loop``
datasets only: their time per dataset does not change with the count.

``--link probit`` fits the same data with the probit link. ``--graph`` has bayesformula sample
each model's compiled PyMC graph instead of its fast path (``fit(fast_path=False)``, as for a
model the fast path does not compute): this measures `fit_many`'s one compile per structure
and worker against a compile per fit.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

FORMULA = "y ~ treatment + x"
DRAWS, TUNE, CHAINS = 500, 300, 2

CHILD = textwrap.dedent(
    """
    import json, sys, time, warnings
    warnings.filterwarnings("ignore")
    import pandas as pd

    FORMULA, DRAWS, TUNE, CHAINS = {formula!r}, {draws}, {tune}, {chains}

    def main():
        way, path, count, link = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
        graph = {{"fast_path": False}} if sys.argv[5] == "graph" else {{}}
        data = pd.read_csv(path)
        names = sorted(data["market"].unique())[:count]
        data = data[data["market"].isin(names)]
        frames = [g.drop(columns="market") for _, g in data.groupby("market")]
        out = {{"way": way, "datasets": len(frames), "link": link, "graph": bool(graph)}}
        if way == "bambi-loop":
            import bambi as bmb
            start = time.perf_counter()
            for i, frame in enumerate(frames):
                model = bmb.Model(FORMULA, frame, family="bernoulli", link=link)
                model.fit(draws=DRAWS, tune=TUNE, chains=CHAINS, random_seed=i,
                          progressbar=False, **graph)
            out["seconds"] = time.perf_counter() - start
        elif way == "bf-loop":
            import bayesformula as bf
            start = time.perf_counter()
            for i, frame in enumerate(frames):
                model = bf.Model(FORMULA, frame, family="bernoulli", link=link)
                model.fit(draws=DRAWS, tune=TUNE, chains=CHAINS, random_seed=i,
                          progressbar=False, **graph)
            out["seconds"] = time.perf_counter() - start
        else:
            import bayesformula as bf
            kwargs = dict(family="bernoulli", link=link, draws=DRAWS, tune=TUNE, chains=CHAINS,
                          random_seed=1, progressbar=False, **graph)
            if way == "fit_many":
                result = bf.fit_many(FORMULA, data, by="market", **kwargs)
            else:
                from distributed import Client, LocalCluster
                start = time.perf_counter()
                cluster = LocalCluster(n_workers=2, threads_per_worker=1,
                                       dashboard_address=None)
                client = Client(cluster)
                client.run(lambda: __import__("bayesformula"))
                out["cluster_seconds"] = time.perf_counter() - start
                result = bf.fit_many(FORMULA, data, by="market", executor=client, **kwargs)
                client.close()
                cluster.close()
            out["seconds"] = result.seconds
            out["failed"] = len(result.errors)
            out["with_problems"] = int((~result.diagnostics["ok"]).sum())
            out["engines"] = sorted(set(result.diagnostics["engine"]))
        out["per_dataset"] = out["seconds"] / out["datasets"]
        print(json.dumps(out))

    if __name__ == "__main__":
        main()
    """
).format(formula=FORMULA, draws=DRAWS, tune=TUNE, chains=CHAINS)


def ab_tests(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for market in range(n):
        rows = int(rng.integers(200, 2001))
        treated = rng.integers(0, 2, rows)
        x = rng.normal(size=rows)
        eta = -0.5 + 0.3 * treated + 0.5 * x
        parts.append(
            pd.DataFrame(
                {
                    "market": f"m{market:05d}",
                    "treatment": np.where(treated, "B", "A"),
                    "x": x,
                    "y": rng.binomial(1, 1 / (1 + np.exp(-eta))),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def run(
    python: str, script: Path, way: str, path: Path, count: int, link: str, graph: bool
) -> dict:
    done = subprocess.run(
        [python, str(script), way, str(path), str(count), link, "graph" if graph else "fast"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{way} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", type=int, default=1000)
    parser.add_argument("--loop", type=int, default=40)
    parser.add_argument("--bambi-loop", type=int, default=20)
    parser.add_argument("--bambi-python", default=None)
    parser.add_argument("--json", default=None)
    parser.add_argument("--link", default="logit", choices=["logit", "probit"])
    parser.add_argument("--graph", action="store_true", help="bayesformula: fast_path=False")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ab.csv"
        ab_tests(args.datasets).to_csv(path, index=False)
        script = Path(tmp) / "child.py"
        script.write_text(CHILD)
        ways = []
        if args.bambi_python:
            ways.append((args.bambi_python, "bambi-loop", args.bambi_loop))
        ways += [
            (sys.executable, "bf-loop", args.loop),
            (sys.executable, "fit_many", args.datasets),
            (sys.executable, "fit_many-dask", args.datasets),
        ]
        for python, way, count in ways:
            result = run(python, script, way, path, count, args.link, args.graph)
            results.append(result)
            extra = (
                f", cluster start {result['cluster_seconds']:.1f} s"
                if "cluster_seconds" in result
                else ""
            )
            print(
                f"{way:>14}: {result['datasets']:5d} datasets in {result['seconds']:7.1f} s, "
                f"{1 / result['per_dataset']:6.2f} datasets/s{extra}",
                flush=True,
            )
    base = next((r for r in results if r["way"] == "bambi-loop"), None)
    if base is not None:
        for r in results[1:]:
            print(f"{r['way']:>14}: {base['per_dataset'] / r['per_dataset']:5.1f}x Bambi's loop")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
