"""Is the automatic choice of centered / non-centered group effects as fast as the best manual one?

    python benchmarks/parameterisation.py                  # every model, 3 seeds
    python benchmarks/parameterisation.py --models sleepstudy_corr --seeds 5
    python benchmarks/parameterisation.py --inference-method nutpie --draws 300 --tune 300

For each documented hierarchical model it fits the default (``noncentered=None``: chosen per
grouping factor from the data), ``noncentered=False`` and ``noncentered=True``, with fit()'s own
defaults unless ``--inference-method``, ``--draws`` or ``--tune`` say otherwise, and prints per
setting, as medians over seeds:

* ``grad/ESS``: leapfrog steps (gradient evaluations, tuning excluded) per unit of the minimum
  bulk ESS over all parameters. It does not depend on the machine's load, so it is the figure the
  comparison rests on;
* ``s/ESS400``: seconds of the whole fit (compile and tuning included) scaled to a minimum bulk
  ESS of 400, noisier but what a user waits;
* divergences, summed over seeds.

The last column is the default's cost over the best manual setting's (``grad/ESS`` ratio); the
goal is at most 2.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

warnings.filterwarnings("ignore")

MODELS = {
    "sleepstudy_corr": ("sleepstudy", "Reaction ~ Days + (Days|Subject)", {}),
    "sleepstudy_uncorr": ("sleepstudy", "Reaction ~ Days + (Days||Subject)", {}),
    "radon_intercepts": ("radon", "log_radon ~ floor + (1|county)", {}),
    "radon_slopes": ("radon", "log_radon ~ floor + (floor|county)", {}),
    "epilepsy_poisson": (
        "epilepsy",
        "seizures ~ trt + lbase + (1|subject)",
        {"family": "poisson"},
    ),
}

SETTINGS = {"default": None, "centered": False, "noncentered": True}


def _measure(bf, az, data, formula, options, noncentered, seed, fit_options) -> dict:
    model = bf.Model(formula, data, noncentered=noncentered, **options)
    start = time.perf_counter()
    idata = model.fit(random_seed=seed, progressbar=False, diagnostics=False, **fit_options)
    seconds = time.perf_counter() - start
    ess = az.ess(idata, method="bulk")
    min_ess = min(float(ess[name].min()) for name in ess.data_vars)
    stats = idata["sample_stats"]
    steps = float(stats["n_steps"].sum()) if "n_steps" in stats else float("nan")
    return {
        "seconds": seconds,
        "min_ess": min_ess,
        "grad_per_ess": steps / max(min_ess, 1.0),
        "s_per_400": seconds * 400.0 / max(min_ess, 1.0),
        "divergences": int(stats["diverging"].sum()),
        "method": idata.attrs.get("inference_method", "?"),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--inference-method", default=None)
    parser.add_argument("--draws", type=int, default=None)
    parser.add_argument("--tune", type=int, default=None)
    args = parser.parse_args(argv)
    fit_options = {
        key: value
        for key, value in (
            ("inference_method", args.inference_method),
            ("draws", args.draws),
            ("tune", args.tune),
        )
        if value is not None
    }

    import arviz as az

    import bayesformula as bf

    header = f"{'model':<20}{'setting':<13}{'choice':<26}{'grad/ESS':>10}{'s/ESS400':>10}"
    print(header + f"{'div':>5}{'default/best':>14}")
    for key in args.models:
        dataset, formula, options = MODELS[key]
        data = bf.load_data(dataset)
        rows = {}
        for label, setting in SETTINGS.items():
            runs = [
                _measure(bf, az, data, formula, options, setting, seed, fit_options)
                for seed in range(args.seeds)
            ]
            rows[label] = {
                "grad_per_ess": statistics.median(r["grad_per_ess"] for r in runs),
                "s_per_400": statistics.median(r["s_per_400"] for r in runs),
                "divergences": sum(r["divergences"] for r in runs),
            }
        choice = bf.Model(formula, data, **options).spec.parameterization
        chosen = ", ".join(f"{c.factor}: {c.label}" for c in choice.values())
        best = min(rows["centered"]["grad_per_ess"], rows["noncentered"]["grad_per_ess"])
        for label, row in rows.items():
            ratio = f"{row['grad_per_ess'] / best:14.2f}" if label == "default" else ""
            print(
                f"{key:<20}{label:<13}{chosen if label == 'default' else '':<26}"
                f"{row['grad_per_ess']:10.1f}{row['s_per_400']:10.2f}{row['divergences']:5d}"
                + ratio,
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
