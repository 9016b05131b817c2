"""``check_sampler``: the conformance suite every registered sampler must pass.

It samples a small model whose posterior is known in closed form and checks the result's
layout (groups, variable names, coords and dims, sampler statistics), reproducibility (same
seed, same draws; another seed, other draws) and accuracy (posterior means within Monte Carlo
error of the truth).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bayesformula.core.tree import groups as group_names
from bayesformula.errors import SamplerError
from bayesformula.report import CheckReport
from bayesformula.samplers.base import get_sampler
from bayesformula.samplers.layout import REQUIRED_STATS

__all__ = ["ConformanceReport", "check_sampler", "reference_model"]

GROUPS = ("a", "b", "c")
PRIOR_SD = 10.0
Y = {"a": [1.2, 0.4, 2.1, 1.7], "b": [-0.5, -1.1, 0.3], "c": [3.3, 2.8, 3.9, 3.1, 2.6]}


def reference_model():
    """A model with a closed-form posterior.

    ``theta[g] ~ Normal(0, 10)`` with unit-variance normal observations per group (conjugate:
    the posterior is normal with precision ``1/100 + n_g`` and mean ``sum(y_g) / precision``),
    ``tau ~ HalfNormal(1)`` without data (posterior = prior, sampled on the log scale), and the
    deterministic ``theta_sum``.
    """
    import pymc as pm

    values = np.concatenate([Y[g] for g in GROUPS])
    index = np.concatenate([[i] * len(Y[g]) for i, g in enumerate(GROUPS)])
    with pm.Model(coords={"group": GROUPS, "obs": np.arange(len(values))}) as model:
        theta = pm.Normal("theta", 0.0, PRIOR_SD, dims="group")
        pm.HalfNormal("tau", 1.0)
        pm.Deterministic("theta_sum", theta.sum())
        pm.Normal("y", theta[index], 1.0, observed=values, dims="obs")
    return model


def reference_density():
    """The same posterior as `reference_model`, written out as a `DensityModel`.

    For samplers that take a plain log-density (``accepts_density``): ``x = (theta, log tau)``.
    """
    from bayesformula.density.model import DensityModel

    values = np.concatenate([Y[g] for g in GROUPS])
    index = np.concatenate([[i] * len(Y[g]) for i, g in enumerate(GROUPS)])
    log_2pi = np.log(2 * np.pi)

    def logp_grad(x):
        theta, u = x[:3], x[3]
        tau = np.exp(u)
        resid = values - theta[index]
        lp = -0.5 * np.sum((theta / PRIOR_SD) ** 2) - 3 * (np.log(PRIOR_SD) + 0.5 * log_2pi)
        lp += -0.5 * np.sum(resid**2) - 0.5 * len(values) * log_2pi
        lp += 0.5 * np.log(2 / np.pi) - 0.5 * tau**2 + u
        grad = np.empty(4)
        grad[:3] = -theta / PRIOR_SD**2 + np.bincount(index, weights=resid, minlength=3)
        grad[3] = -(tau**2) + 1.0
        return float(lp), grad

    def expand(x):
        return {
            "theta": x[:3].copy(),
            "tau": np.asarray(np.exp(x[3])),
            "theta_sum": np.asarray(x[:3].sum()),
        }

    return DensityModel(
        ndim=4,
        logp_grad=logp_grad,
        expand=expand,
        shapes={"theta": (3,), "tau": (), "theta_sum": ()},
        dims={"theta": ("group",)},
        coords={"group": list(GROUPS), "obs": list(range(len(values)))},
        observed={"y": (("obs",), values)},
        initial_point=lambda rng: rng.uniform(-1, 1, 4),
        description="the conformance suite's reference log-density",
    )


def truth() -> dict[str, np.ndarray]:
    """Posterior means and sds of the reference model."""
    precision = np.array([1 / PRIOR_SD**2 + len(Y[g]) for g in GROUPS])
    mean = np.array([np.sum(Y[g]) for g in GROUPS]) / precision
    return {
        "theta_mean": mean,
        "theta_sd": 1 / np.sqrt(precision),
        "tau_mean": np.sqrt(2 / np.pi),
        "theta_sum_mean": mean.sum(),
    }


@dataclass
class ConformanceReport(CheckReport):
    """Outcome of `check_sampler`: one entry per check, with what failed."""

    sampler: str
    approximate: bool

    def title(self) -> str:
        return f"check_sampler('{self.sampler}')"


def check_sampler(
    name: str,
    *,
    draws: int = 500,
    tune: int = 500,
    chains: int = 2,
    seed: int = 20261124,
    raise_on_failure: bool = True,
) -> ConformanceReport:
    """Run the conformance suite against a registered sampler.

    Parameters
    ----------
    name : str
        A registered sampler (`bayesformula.list_samplers`).
    draws, tune, chains : int
        Sampling settings for the reference model (approximate methods use ``draws`` only).
    seed : int
        Seed of the first run; the reproducibility check repeats it.
    raise_on_failure : bool, default True
        Raise `SamplerError` listing the failed checks; otherwise return the report.

    Returns
    -------
    ConformanceReport
    """
    sampler = get_sampler(name)
    approximate = bool(getattr(sampler, "approximate", False))
    report = ConformanceReport(sampler=name, approximate=approximate)
    settings = {
        "draws": draws,
        "tune": tune,
        "chains": chains,
        "cores": 1,
        "target_accept": None,
        "progressbar": False,
    }

    _conformance(report, sampler, reference_model, settings, seed, "")
    if getattr(sampler, "accepts_density", False):
        _conformance(report, sampler, reference_density, settings, seed, "log-density: ")
    if raise_on_failure and not report.ok:
        raise SamplerError(str(report))
    return report


def _conformance(report, sampler, make_model, settings, seed, prefix):
    """Run the checks on one form of the reference model (names prefixed with ``prefix``)."""
    import arviz as az

    approximate = report.approximate
    draws, chains = settings["draws"], settings["chains"]

    def _check(report, name, condition, why):
        report.record(prefix + name, condition, why)

    def run(random_seed):
        return sampler.sample(make_model(), random_seed=random_seed, **settings)

    first, again, other = run(seed), run(seed), run(seed + 1)

    groups = set(group_names(first))
    needed = {"posterior", "observed_data"} | (set() if approximate else {"sample_stats"})
    _check(report, "groups", needed <= groups, f"missing groups {sorted(needed - groups)}")
    posterior = first["posterior"].to_dataset()
    names = set(posterior.data_vars)
    _check(
        report,
        "variable names",
        names == {"theta", "tau", "theta_sum"},
        f"posterior has {sorted(names)}; expected theta, tau, theta_sum (no transformed names)",
    )
    theta = posterior.get("theta")
    dims_ok = theta is not None and theta.dims[-1] == "group"
    coords_ok = dims_ok and list(theta["group"].values) == list(GROUPS)
    _check(report, "dims and coords", bool(coords_ok), f"theta dims/coords: {theta}")
    n_chains = 1 if approximate else chains
    sizes = dict(posterior.sizes)
    _check(
        report,
        "chain and draw sizes",
        sizes.get("chain") == n_chains and sizes.get("draw") == draws,
        f"posterior sizes {sizes}; expected chain={n_chains}, draw={draws}",
    )
    if not approximate:
        stats = first["sample_stats"]
        missing = [s for s in REQUIRED_STATS if s not in stats]
        _check(report, "sample_stats", not missing, f"sample_stats lacks {missing}")
        shapes = {s: stats[s].shape[:2] for s in REQUIRED_STATS if s in stats}
        _check(
            report,
            "sample_stats shape",
            all(shape == (chains, draws) for shape in shapes.values()),
            f"stat shapes {shapes}",
        )
    if names >= {"theta"}:
        a = posterior["theta"].values
        _check(
            report,
            "same seed, same draws",
            np.array_equal(a, again["posterior"]["theta"].values),
            "two runs with the same seed differ",
        )
        _check(
            report,
            "other seed, other draws",
            not np.array_equal(a, other["posterior"]["theta"].values),
            "two runs with different seeds gave identical draws",
        )
        ref = truth()
        mean = a.reshape(-1, len(GROUPS)).mean(axis=0)
        if approximate:
            # no Monte Carlo standard error for approximations: 0.1 posterior sd
            tol = 0.1 * ref["theta_sd"] + 5 * ref["theta_sd"] / np.sqrt(a.size / len(GROUPS))
        else:
            tol = 5 * np.asarray(az.mcse(first, var_names=["theta"])["theta"].values)
        err = np.abs(mean - ref["theta_mean"])
        _check(
            report,
            "posterior mean of theta",
            bool(np.all(err <= tol)),
            f"mean {mean.round(4)} vs truth {ref['theta_mean'].round(4)} (tolerance "
            f"{np.round(tol, 4)})",
        )
        if not approximate and "tau" in names:
            tau = posterior["tau"]
            tol_tau = 5 * float(az.mcse(first, var_names=["tau"])["tau"])
            _check(
                report,
                "posterior mean of tau",
                abs(float(tau.mean()) - ref["tau_mean"]) <= tol_tau,
                f"mean {float(tau.mean()):.4f} vs truth {ref['tau_mean']:.4f} (tol {tol_tau:.4f})",
            )
