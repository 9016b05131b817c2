"""Simulation-based calibration of ``y ~ x + (1|g)`` in several families, with `bf.sbc`.

    python benchmarks/sbc.py [--simulations 200] [--families gaussian bernoulli poisson
                             negativebinomial bernoulli:probit ...] [--graph] [--workers 2]
                             [--json FILE]

Each family's model is specified on 60 rows (x standard normal, 6 groups of 10) with a response
drawn from the family, so that its default priors are scaled as a user's would be; `bf.sbc` then
draws ``--simulations`` parameter sets from those priors, simulates a dataset from each, fits
each (2 chains x 500 draws after the default warm-up, on a Dask LocalCluster of ``--workers``
workers) and tests the ranks of the prior draws among 99 thinned posterior draws for
uniformity (chi-square per parameter, Bonferroni over parameters, family-wise level 0.01).
Printed per family: simulations fitted and failed, parameters, the family-wise p-value, the
verdict, and the time. ``family:link`` names a link other than the family's default.
``categorical`` and ``cumulative`` simulate categories (a simulated dataset in which a category
has no row is left out, see `bf.sbc`). ``censored`` and ``truncated`` are gaussian
responses with those helpers (`HELPERS`). ``--graph`` fits every model from its compiled PyMC
graph (``fast_path=False``, compiled once per worker) instead of the fast path.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import expit, ndtr

import bayesformula as bf

DEFAULT = ("gaussian", "bernoulli", "poisson", "negativebinomial")


def response(family: str, eta: np.ndarray, rng) -> np.ndarray:
    """A response of ``family`` (``family:link``) around the linear predictor ``eta``."""
    if family == "bernoulli:probit":
        return rng.binomial(1, ndtr(eta))
    if family == "gaussian":
        return eta + rng.normal(size=eta.size)
    if family == "t":
        return eta + rng.standard_t(5, size=eta.size)
    if family == "bernoulli":
        return rng.binomial(1, expit(eta))
    if family == "poisson":
        return rng.poisson(np.exp(eta))
    if family == "negativebinomial":
        mu = np.exp(eta)
        return rng.negative_binomial(5, 5 / (5 + mu))
    if family == "gamma":
        return rng.gamma(4.0, np.exp(eta) / 4.0)
    if family == "beta":
        mu = expit(eta)
        return rng.beta(mu * 10, (1 - mu) * 10)
    if family == "categorical":  # three categories, log-odds eta and -eta against "a"
        full = np.column_stack([np.zeros(eta.size), eta, -eta])
        prob = np.exp(full) / np.exp(full).sum(axis=1, keepdims=True)
        return np.array(["a", "b", "c"])[[rng.choice(3, p=q) for q in prob]]
    if family == "cumulative":  # four ordered categories of a latent logistic variable
        codes = np.digitize(eta + rng.logistic(size=eta.size), [-1.0, 0.5, 2.0])
        return pd.Categorical.from_codes(codes, ["1", "2", "3", "4"], ordered=True)
    raise SystemExit(f"no simulated response for family {family!r} in this script")


#: Response helpers on a gaussian response: right-censored at 1 (about a third of the rows)
#: with the status in a column, and truncated below at 0.
HELPERS = {
    "censored": "censored(y, status) ~ x + (1|g)",
    "truncated": "truncated(y, lb=0) ~ x + (1|g)",
}


def model_for(family: str, seed: int = 0) -> bf.Model:
    rng = np.random.default_rng(seed)
    data = pd.DataFrame({"x": rng.normal(size=60), "g": np.repeat(list("abcdef"), 10)})
    effects = dict(zip("abcdef", rng.normal(0, 0.5, 6), strict=True))
    eta = 0.3 + 0.5 * data.x + data.g.map(effects)
    if family in HELPERS:
        y = eta.to_numpy() + rng.normal(size=60)
        if family == "truncated":
            while np.any(y <= 0):  # redrawn until every row is inside the bounds
                low = y <= 0
                y[low] = eta.to_numpy()[low] + rng.normal(size=int(low.sum()))
        else:
            data["status"] = np.where(y > 1.0, "right", "none")
            y = np.minimum(y, 1.0)
        data["y"] = y
        return bf.Model(HELPERS[family], data)
    data["y"] = response(family, eta.to_numpy(), rng)
    name, _, link = family.partition(":")
    return bf.Model("y ~ x + (1|g)", data, family=name, **({"link": link} if link else {}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--simulations", type=int, default=200)
    parser.add_argument("--families", nargs="+", default=list(DEFAULT))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", default=None)
    parser.add_argument("--graph", action="store_true", help="fit with fast_path=False")
    args = parser.parse_args()
    from distributed import Client, LocalCluster

    rows = []
    with (
        LocalCluster(n_workers=args.workers, threads_per_worker=1, dashboard_address=None) as c,
        Client(c) as client,
    ):
        for i, family in enumerate(args.families):
            model = model_for(family)
            start = time.perf_counter()
            result = bf.sbc(
                model,
                n=args.simulations,
                executor=client,
                random_seed=100 + i,
                progressbar=False,
                **({"fast_path": False} if args.graph else {}),
            )
            seconds = time.perf_counter() - start
            worst = result.tests["p_value"].idxmin()
            row = {
                "family": family,
                "graph": args.graph,
                "simulations": len(result.ranks),
                "failed": len(result.failed),
                "parameters": result.ranks.shape[1],
                "p_value": result.p_value,
                "uniform": result.ok,
                "worst_parameter": worst,
                "seconds": seconds,
            }
            rows.append(row)
            print(
                f"{family:>18}: {row['simulations']} fitted, {row['failed']} left out, "
                f"{row['parameters']} parameters, family-wise p = {row['p_value']:.3f} "
                f"({'uniform' if row['uniform'] else 'NOT uniform'}; lowest: {worst}), "
                f"{seconds:.0f} s",
                flush=True,
            )
            if result.failed:
                print(f"{'':>20}first failure: {next(iter(result.failed.values()))}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
