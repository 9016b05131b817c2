"""Workloads W1-W12 for bayesformula and, when a Bambi environment is given, for Bambi with
each of its backends (and with ``--handwritten`` for hand-written PyMC models of the workloads
Bambi cannot fit), in the same run; prints one table and the bayesformula / best-peer ratios.

    .venv/bin/python benchmarks/run.py                       # bayesformula only
    make bench                                               # + Bambi (.venv-bench, created once)
    .venv/bin/python benchmarks/run.py --bambi-python .venv-bench/bin/python \\
        --workloads W1 W4 --bambi-backends pymc nutpie --json results.json
    .venv/bin/python benchmarks/run.py --workloads W11 --handwritten   # + hand-written PyMC

Every fit runs in a fresh process (`fit_once.py`), 2 chains x 1,000 draws, each library with
its default warm-up. "cold": the engines' caches are empty (a new PyTensor compiledir, numba
cache and JAX persistent compilation cache); "warm": the same process started again after the
cold run filled those caches, as a user re-running a script sees it. Time to posterior =
construct + compile + sampling seconds x 400 / min bulk ESS. Bambi cannot share an environment
with bayesformula (it pins formulae < 0.7), hence the second interpreter.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from handwritten import HANDWRITTEN, VARIANTS  # noqa: E402
from workloads import DESCRIPTIONS, NOT_BAMBI, WORKLOADS  # noqa: E402

BAMBI_BACKENDS = ("pymc", "nutpie", "numpyro", "blackjax")
COLUMNS = [
    ("construct_s", "construct s", "{:.2f}"),
    ("compile_s", "compile s", "{:.2f}"),
    ("sample_s", "sample s", "{:.2f}"),
    ("min_ess_bulk", "min ESS", "{:.0f}"),
    ("ess_per_s", "ESS/s", "{:.0f}"),
    ("time_to_posterior_s", "to ESS 400 s", "{:.2f}"),
    ("peak_mem_mb", "peak MB", "{:.0f}"),
    ("peak_rss_mb", "own RSS MB", "{:.0f}"),
    ("divergences", "div", "{:d}"),
]


def _env(cache: Path) -> dict:
    env = dict(os.environ)
    env["PYTENSOR_FLAGS"] = f"compiledir={cache / 'pytensor'}"
    env["NUMBA_CACHE_DIR"] = str(cache / "numba")
    env["JAX_COMPILATION_CACHE_DIR"] = str(cache / "jax")
    env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
    env["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] = "0"
    env["MPLBACKEND"] = "Agg"
    return env


#: the pause after a PSS read, as a multiple of the read's time (the poller's share of a core
#: stays under a tenth)
POLL_SHARE = 9


def _tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (from /proc/<pid>/task/*/children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*/children"):
            try:
                todo += [int(c) for c in task.read_text().split()]
            except OSError:
                pass
    return out


def _pss_mb(pids: list[int]) -> float:
    """Summed proportional set size: shared pages (fork, libraries) are counted once."""
    total = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
                    break
        except OSError:
            pass
    return total / 1024


def _fit(python: str, lib: str, backend: str, workload: str, env: dict, timeout: int) -> dict:
    """One fit in a fresh process. While the fit's process has children, the tree's summed
    PSS is polled every 20 ms, or less often where a read takes longer than a tenth of that.
    Reading ``smaps_rollup`` walks the processes' page tables (8 ms for a fit's process here,
    14 ms for PyMC's three) and slowed fits by 20-40% when polled every 20 ms; a process
    without children is not read at all: its peak is its own peak RSS from the kernel (at
    least its PSS), which the peak never falls below either."""
    cmd = [python, str(HERE / "fit_once.py"), "--lib", lib, "--backend", backend]
    cmd += ["--workload", workload]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out: list[str] = []
    readers = [
        threading.Thread(target=lambda s=s: out.append(s.read()), daemon=True)
        for s in (proc.stdout, proc.stderr)
    ]
    for reader in readers:
        reader.start()
    peak, start = 0.0, time.monotonic()
    polled = Path("/proc/self/smaps_rollup").exists()
    while proc.poll() is None:
        if time.monotonic() - start > timeout:
            proc.kill()
            proc.wait()
            return {"error": f"timed out after {timeout} s"}
        pause = 0.02
        if polled:
            tree = _tree(proc.pid)
            if len(tree) > 1:
                read = time.monotonic()
                peak = max(peak, _pss_mb(tree))
                pause = max(pause, POLL_SHARE * (time.monotonic() - read))
        time.sleep(pause)
    for reader in readers:
        reader.join()
    stdout = next((s for s in out if "RESULT " in s), "")
    for line in stdout.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT ") :])
            result["peak_mem_mb"] = max(peak, result["peak_rss_mb"])
            return result
    lines = "\n".join(out).strip().splitlines() or ["no output"]
    errors = [line for line in lines if "Error" in line or "Exception" in line]
    return {"error": (errors or lines)[-1][:200]}


def _row(label: str, result: dict) -> str:
    if "error" in result:
        return (
            f"| {label} | " + " | ".join(["-"] * len(COLUMNS)) + f" | failed: {result['error']} |"
        )
    cells = [fmt.format(result[key]) for key, _, fmt in COLUMNS]
    return f"| {label} | " + " | ".join(cells) + " | |"


def run(args) -> dict:
    configs = [("bayesformula", sys.executable, b) for b in args.backends]
    if args.bambi_python:
        configs += [("bambi", args.bambi_python, b) for b in args.bambi_backends]
    results: dict = {}
    for workload in args.workloads:
        extra = []
        if args.handwritten and workload in HANDWRITTEN:  # PyMC models written by hand
            extra = [
                ("pymc", sys.executable, f"{sampler}-{variant}")
                for sampler in ("pymc", "nutpie")
                for variant in VARIANTS
            ]
        for lib, python, backend in configs + extra:
            if lib == "bambi" and workload in NOT_BAMBI:
                continue
            with tempfile.TemporaryDirectory(prefix="bench-cache-") as tmp:
                env = _env(Path(tmp))
                for mode in ("cold", "warm"):
                    res = _fit(python, lib, backend, workload, env, args.timeout)
                    results.setdefault(workload, {})[f"{lib}/{backend}/{mode}"] = res
                    print(f"{workload} {lib}/{backend} {mode}: " + _brief(res), flush=True)
                    if args.json:  # after every fit, so that an interrupted run keeps its results
                        Path(args.json).write_text(
                            json.dumps({"machine": machine(), "results": results}, indent=1)
                        )
    return results


def _brief(res: dict) -> str:
    if "error" in res:
        return "failed: " + res["error"]
    return (
        f"{res['time_to_posterior_s']:.2f} s to ESS 400 (min ESS {res['min_ess_bulk']:.0f}, "
        f"peak {res['peak_mem_mb']:.0f} MB)"
    )


def ratios(results: dict) -> dict:
    """Per workload and mode: bayesformula's best over the best of Bambi and the hand-written
    PyMC models (time, and memory)."""
    out: dict = {}
    for workload, rows in results.items():
        for mode in ("warm", "cold"):
            ours = [
                r for k, r in rows.items() if k.startswith("bayesformula/") and k.endswith(mode)
            ]
            theirs = [
                r for k, r in rows.items() if k.startswith(("bambi/", "pymc/")) and k.endswith(mode)
            ]
            ours = [r for r in ours if "error" not in r]
            theirs = [r for r in theirs if "error" not in r]
            if not ours or not theirs:
                continue
            best_ours = min(ours, key=lambda r: r["time_to_posterior_s"])
            best_theirs = min(theirs, key=lambda r: r["time_to_posterior_s"])
            out.setdefault(workload, {})[mode] = {
                "time_ratio": best_ours["time_to_posterior_s"] / best_theirs["time_to_posterior_s"],
                "best_bambi": f"{best_theirs['lib']} {best_theirs['backend']}",
                "memory_ratio": best_ours["peak_mem_mb"] / min(r["peak_mem_mb"] for r in theirs),
            }
    return out


def table(results: dict, machine: str) -> str:
    head = "| run | " + " | ".join(title for _, title, _ in COLUMNS) + " | note |"
    rule = "|" + "---|" * (len(COLUMNS) + 2)
    lines = [f"Machine: {machine}", ""]
    summary = ratios(results)
    for workload, rows in results.items():
        lines += [f"### {workload}: {DESCRIPTIONS[workload]}", "", head, rule]
        lines += [_row(label, res) for label, res in rows.items()]
        for mode, r in summary.get(workload, {}).items():
            lines.append(
                f"\n{mode}: bayesformula / best peer ({r['best_bambi']}) time to posterior = "
                f"**{r['time_ratio']:.2f}**; peak memory / the peers' lowest = "
                f"**{r['memory_ratio']:.2f}**"
            )
        lines.append("")
    return "\n".join(lines)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}, {datetime.date.today().isoformat()}"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", nargs="+", default=list(WORKLOADS))
    parser.add_argument("--backends", nargs="+", default=["auto"], help="bayesformula's")
    parser.add_argument("--bambi-python", help="interpreter of an environment with Bambi")
    parser.add_argument("--bambi-backends", nargs="+", default=list(BAMBI_BACKENDS))
    parser.add_argument("--timeout", type=int, default=900, help="seconds per fit")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument(
        "--handwritten",
        action="store_true",
        help="also fit the hand-written PyMC models (W11), each sampler and parameterisation",
    )
    args = parser.parse_args(argv)
    unknown = [w for w in args.workloads if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; known: {list(WORKLOADS)}")
    results = run(args)
    text = table(results, machine())
    print("\n" + text)
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine(), "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
