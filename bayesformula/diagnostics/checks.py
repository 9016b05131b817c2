"""Sampler diagnostics that say what went wrong and what to do next.

Each check reads a fit (``xarray.DataTree``) and returns `Finding` values. The advice follows
the usual troubleshooting order: look at divergences first (they bias the posterior), then
convergence (r_hat), then efficiency (ESS, tree depth, E-BFMI). A fit by an approximation
(laplace, vi, pathfinder) has its own check instead: the Pareto k̂ of its importance ratios
(``pareto_k``, `bayesformula.samplers.approx_check`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bayesformula.core import html
from bayesformula.core.tree import has_group
from bayesformula.diagnostics import convergence
from bayesformula.errors import BayesformulaError
from bayesformula.samplers.approx_check import GOOD_K, POOR_K
from bayesformula.samplers.interrupt import interruption

__all__ = ["Diagnostics", "Finding", "check"]

RHAT_MAX = 1.01
ESS_PER_CHAIN = 100  # ArviZ/Stan guidance: at least 100 effective draws per chain
BFMI_MIN = 0.3
TREE_DEPTH_FRACTION = 0.01


@dataclass(frozen=True)
class Finding:
    """One diagnostic result.

    Attributes
    ----------
    check : str
        "complete", "separation", "pareto_k" (approximations), "divergences", "r_hat",
        "ess_bulk", "ess_tail", "tree_depth", "energy" or "bfmi".
    ok : bool
        Whether the check passed.
    value : float
        The measured quantity (count, worst r_hat, smallest ESS, ...).
    threshold : float
        The limit it was compared against.
    message : str
        What was found.
    advice : str
        The concrete next step ("" when the check passed).
    variables : tuple of str
        The parameters concerned, worst first.
    """

    check: str
    ok: bool
    value: float
    threshold: float
    message: str
    advice: str = ""
    variables: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Diagnostics:
    """All findings of `check`; ``ok`` is True when every check passed.

    ``str(diagnostics)`` is the printed report; `to_frame` gives a DataFrame.
    """

    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.findings)

    @property
    def problems(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if not f.ok)

    def __getitem__(self, name: str) -> Finding:
        for finding in self.findings:
            if finding.check == name:
                return finding
        raise KeyError(f"no check named {name!r}; checks: {[f.check for f in self.findings]}")

    def to_frame(self) -> pd.DataFrame:
        """One row per check: ok, value, threshold, message, advice, variables."""
        rows = [
            {
                "check": f.check,
                "ok": f.ok,
                "value": f.value,
                "threshold": f.threshold,
                "message": f.message,
                "advice": f.advice,
                "variables": ", ".join(f.variables),
            }
            for f in self.findings
        ]
        return pd.DataFrame(rows).set_index("check")

    def __str__(self) -> str:
        if self.ok:
            checks = ", ".join(f.check for f in self.findings)
            return f"Diagnostics: no problems found ({checks})."
        lines = [f"Diagnostics: {len(self.problems)} problem(s)."]
        for f in self.problems:
            lines.append(f"  - {f.message}")
            lines.append(f"    Next step: {f.advice}")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        """The report as a notebook shows it: one row per check, problems first."""
        findings = sorted(self.findings, key=lambda f: f.ok)
        rows = [("ok" if f.ok else "problem", f.check, f.message, f.advice) for f in findings]
        heading = (
            "Diagnostics: no problems found"
            if self.ok
            else f"Diagnostics: {len(self.problems)} problem(s)"
        )
        parts = [html.table(rows, ("", "check", "found", "next step"), css_class="findings")]
        return html.fragment(heading, parts, "bayesformula-diagnostics")


def _stat(stats, *names):
    for name in names:
        if name in stats:
            return stats[name].values
    return None


def _names(table: pd.Series, limit: int = 5) -> tuple[str, ...]:
    return tuple(str(i) for i in table.index[:limit])


def _list(names: tuple[str, ...], total: int) -> str:
    shown = ", ".join(names)
    return shown + (f" and {total - len(names)} more" if total > len(names) else "")


def e_bfmi(energy: np.ndarray) -> np.ndarray:
    """Estimated Bayesian fraction of missing information per chain (Betancourt, 2016):
    the mean squared change in energy between draws over the energy's variance, for
    ``energy`` of shape (chains, draws)."""
    energy = np.atleast_2d(energy)
    return np.square(np.diff(energy, axis=1)).mean(axis=1) / np.var(energy, axis=1, ddof=1)


def _partial_finding(idata, posterior) -> Finding | None:
    """A failed "complete" finding for a fit with fewer draws than asked (interrupted with
    Ctrl-C, or an engine that stopped early), None for a complete fit."""
    marks = interruption(idata)
    if marks is None:
        return None
    requested = int(marks["draws_requested"])
    kept = int(posterior.sizes.get("draw", 0))
    chains = int(posterior.sizes.get("chain", 0))
    how = (
        "the fit was interrupted (Ctrl-C)"
        if int(marks.get("interrupted", 0))
        else "the engine stopped early"
    )
    return Finding(
        "complete",
        False,
        float(kept),
        float(requested),
        f"{how}: it holds {kept:,} of the {requested:,} draws asked per chain ({chains} "
        f"chain(s)); the other checks are computed on these draws only.",
        "treat its estimates as preliminary and run the fit to the end (model.fit() with the "
        "same arguments, or fewer draws) for the full posterior.",
    )


def _pareto_k_finding(attrs) -> Finding | None:
    """The Pareto k̂ of an approximation's importance ratios (stored by the approximate
    samplers in the posterior's attrs) as a finding: failed above `POOR_K`; None for a fit
    without one (MCMC)."""
    if "pareto_k" not in attrs:
        return None
    k = float(attrs["pareto_k"])
    method = attrs.get("approximation", "approximation")
    draws = int(attrs.get("pareto_k_draws", 0))
    head = f"Pareto k̂ of the {method} approximation"
    if np.isnan(k):
        note = attrs.get("pareto_k_note", "not computed")
        return Finding("pareto_k", True, k, POOR_K, f"{head}: {note}.")
    figure = f"{head} is {k:.2f} (from {draws:,} of its draws; Yao et al. 2018)"
    if k <= GOOD_K:
        why = (
            "its importance ratios are all equal: it is the posterior up to rounding"
            if k == -np.inf
            else f"below {GOOD_K}: it is close to the posterior"
        )
        return Finding("pareto_k", True, k, POOR_K, f"{figure}, {why}.")
    if k <= POOR_K:
        return Finding(
            "pareto_k",
            True,
            k,
            POOR_K,
            f"{figure}, between {GOOD_K} and {POOR_K}: usable with care; compare important "
            "results with MCMC (inference_method='pymc').",
        )
    return Finding(
        "pareto_k",
        False,
        k,
        POOR_K,
        f"{figure}, above {POOR_K}: the approximation is poor. The posterior has mass it "
        "misses, and its draws can be far off (intervals too narrow, correlations missed, a "
        "hierarchical scale collapsed to zero or inflated).",
        "use MCMC (inference_method='pymc', or 'nutpie'); for 'vi', full-rank ADVI "
        "(model.fit(inference_method='vi', method='fullrank_advi')) or more steps (n=) may "
        "bring k̂ down, but only a k̂ below 0.7 says the approximation can be used.",
    )


def _separation_finding(model) -> Finding | None:
    """For binary and binomial models whose outcomes a predictor (or a combination, or the
    intercept alone) separates, leaving its coefficient to the prior: a failed finding; None
    otherwise."""
    from bayesformula.priors.edges import SEPARABLE, describe_separation, find_separation

    if model is None or model.family.likelihood not in SEPARABLE:
        return None
    records = find_separation(
        model.design, model.response_data, model.family, str(model.response_name)
    )
    if not records:
        return None
    return Finding(
        "separation",
        False,
        float(len(records)),
        0.0,
        describe_separation(records),
        "a coefficient governed by its prior is not estimated by the data: report it as such "
        "(model.prior_table() lists the priors), set an informative prior "
        "(priors={'x': bf.Prior('Normal', mu=0, sigma=1)}), or drop or merge the separating "
        "predictor or level; more data near the boundary also help.",
        tuple(dict.fromkeys(t for r in records for t in r.terms)),
    )


def diagnostics_table(dataset) -> pd.DataFrame:
    """``r_hat``, ``ess_bulk`` and ``ess_tail`` of every scalar in ``dataset`` (dims chain and
    draw first), with ``arviz.summary``'s row labels and values.

    The variables are flattened into one (chain, draw, k) array and the estimators run on all
    columns at once (`bayesformula.diagnostics.convergence`): on a model with a hundred
    parameters that takes the check from 0.1-0.4 s to a few hundredths.
    """
    from bayesformula.results.tables import element_labels

    columns = []
    for da in dataset.data_vars.values():
        other = [d for d in da.dims if d not in ("chain", "draw")]
        da = da.transpose("chain", "draw", *other)
        columns.append(da.values.reshape(da.shape[0], da.shape[1], -1))
    stacked = np.concatenate(columns, axis=-1)
    stats = {
        "r_hat": convergence.rhat_rank(stacked),
        "ess_bulk": convergence.ess_bulk(stacked),
        "ess_tail": convergence.ess_tail(stacked),
    }
    return pd.DataFrame(stats, index=element_labels(dataset))


def check(idata, model=None, var_names=None) -> Diagnostics:
    """Run the sampler diagnostics on a fit.

    Parameters
    ----------
    idata : xarray.DataTree
        From `bayesformula.Model.fit`.
    model : bayesformula.Model, optional
        Makes the advice specific (e.g. whether group effects are centered).
    var_names : list of str, optional
        Parameters for r_hat and ESS (default: every parameter, no per-observation values).

    Returns
    -------
    Diagnostics
    """
    from bayesformula.results.tables import _default_vars, _posterior

    posterior = _posterior(idata)
    names = _default_vars(posterior, var_names, include_internal=True)
    n_chains = posterior.sizes["chain"]
    findings: list[Finding] = []
    partial = _partial_finding(idata, posterior)
    if partial is not None:
        findings.append(partial)
    separation = _separation_finding(model)
    if separation is not None:
        findings.append(separation)
    approximation = _pareto_k_finding(posterior.attrs)
    if approximation is not None:
        findings.append(approximation)
    stats = idata["sample_stats"] if has_group(idata, "sample_stats") else {}
    has_groups = bool(model is not None and model.design.group_terms)
    centered = model.centered_factors if has_groups else []

    # divergences
    diverging = _stat(stats, "diverging")
    if diverging is not None:
        n_div = int(np.sum(diverging))
        total = int(np.size(diverging))
        advice = (
            "raise target_accept (e.g. model.fit(target_accept=0.95)); "
            + (
                "non-center the group effects of "
                + ", ".join(f"'{f}'" for f in centered)
                + " (Model(..., noncentered=True), or a dict per factor); "
                if centered
                else "if group effects have few observations per level, tighter priors on "
                "their sigmas help; "
                if has_groups
                else ""
            )
            + "check that the priors are sensible with a prior predictive run "
            "(model.prior_predictive())."
        )
        findings.append(
            Finding(
                "divergences",
                n_div == 0,
                float(n_div),
                0.0,
                f"{n_div} of {total} draws diverged: the posterior may be biased."
                if n_div
                else "no divergent transitions.",
                advice if n_div else "",
            )
        )

    # convergence and efficiency, per parameter
    if names:
        table = diagnostics_table(posterior.to_dataset()[names])
        if n_chains > 1:
            rhat = table["r_hat"].dropna().sort_values(ascending=False)
            bad = rhat[rhat > RHAT_MAX]
            findings.append(
                Finding(
                    "r_hat",
                    bad.empty,
                    float(rhat.iloc[0]) if len(rhat) else float("nan"),
                    RHAT_MAX,
                    f"r_hat above {RHAT_MAX} for {_list(_names(bad), len(bad))} (worst "
                    f"{bad.iloc[0]:.3f}): the chains disagree."
                    if len(bad)
                    else f"all r_hat <= {RHAT_MAX}.",
                    "run longer (more tune and draws); if it persists, look at plot_trace for "
                    "chains stuck in different modes and check the priors and the model "
                    "(model.prior_predictive())."
                    if len(bad)
                    else "",
                    _names(bad),
                )
            )
        limit = ESS_PER_CHAIN * n_chains
        for column in ("ess_bulk", "ess_tail"):
            ess = table[column].dropna().sort_values()
            bad = ess[ess < limit]
            findings.append(
                Finding(
                    column,
                    bad.empty,
                    float(ess.iloc[0]) if len(ess) else float("nan"),
                    float(limit),
                    f"{column} below {limit} ({ESS_PER_CHAIN} per chain) for "
                    f"{_list(_names(bad), len(bad))} (lowest {bad.iloc[0]:.0f}): estimates "
                    + ("of the posterior's bulk" if column == "ess_bulk" else "of its tails")
                    + " are noisy."
                    if len(bad)
                    else f"{column} >= {limit} for all parameters.",
                    "draw more (model.fit(draws=...)); strong correlations between parameters "
                    "slow sampling down, so also check the trace and pair plots"
                    + (
                        " and try the other parameterisation of the group effects (noncentered=)."
                        if has_groups
                        else "."
                    )
                    if len(bad)
                    else "",
                    _names(bad),
                )
            )

    # tree depth saturation
    depth = _stat(stats, "tree_depth", "depth")
    reached = _stat(stats, "reached_max_treedepth")
    if reached is not None or depth is not None:
        if reached is None:
            reached = depth >= np.max(depth)
            saturated = float(np.mean(reached)) if np.max(depth) >= 10 else 0.0
        else:
            saturated = float(np.mean(reached))
        findings.append(
            Finding(
                "tree_depth",
                saturated <= TREE_DEPTH_FRACTION,
                saturated,
                TREE_DEPTH_FRACTION,
                f"{100 * saturated:.1f}% of draws hit the maximum tree depth: the sampler is "
                "taking many small steps."
                if saturated > TREE_DEPTH_FRACTION
                else "tree depth below its maximum.",
                "the posterior is hard to traverse: put predictors on similar scales, "
                "reparameterise (noncentered=), or raise max_treedepth "
                "(model.fit(max_treedepth=12))."
                if saturated > TREE_DEPTH_FRACTION
                else "",
            )
        )

    # energy: bad (non-finite) energies and E-BFMI
    energy = _stat(stats, "energy")
    if energy is not None:
        finite = np.isfinite(energy)
        if not finite.all():
            findings.append(
                Finding(
                    "energy",
                    False,
                    float(np.sum(~finite)),
                    0.0,
                    f"{int(np.sum(~finite))} draws have a non-finite energy (bad initial "
                    "energy): the log-density is not finite somewhere the sampler went.",
                    "check the priors with model.prior_predictive() and the data for extreme "
                    "values; a prior allowing impossible parameter values or a badly scaled "
                    "predictor is the usual cause.",
                )
            )
        else:
            bfmi = e_bfmi(np.asarray(energy, dtype=float))
            low = bfmi < BFMI_MIN
            findings.append(
                Finding(
                    "bfmi",
                    not low.any(),
                    float(np.min(bfmi)),
                    BFMI_MIN,
                    f"E-BFMI below {BFMI_MIN} in {int(low.sum())} chain(s) (lowest "
                    f"{np.min(bfmi):.2f}): the sampler explores the energy poorly, typical of "
                    "heavy tails or funnels."
                    if low.any()
                    else f"E-BFMI >= {BFMI_MIN} in every chain.",
                    "reparameterise (switch noncentered=), use tighter priors on scale "
                    "parameters, or rescale predictors."
                    if low.any()
                    else "",
                )
            )
    if not findings:
        raise BayesformulaError(
            "nothing to check: idata has no sample_stats and no parameters (was it sampled?)."
        )
    return Diagnostics(tuple(findings))


def report_fit(idata, model=None) -> None:
    """Log a fit's diagnostics through the ``"bayesformula"`` logger: the report of `check`
    as a warning when it found problems (at INFO only when verbose, when it found none); for
    an approximation, that it is one (once per process and method) and its Pareto k̂ (a
    warning above 0.7, a note between 0.5 and 0.7)."""
    from bayesformula.log import detail, logger, note

    approximation = idata.posterior.attrs.get("approximation")
    if approximation:
        note(
            ("approximation", approximation),
            "Approximate posterior (%s): not MCMC draws, so there are no sampler diagnostics; "
            "check important results with inference_method='pymc'.",
            approximation,
        )
        finding = _pareto_k_finding(idata.posterior.attrs)
        if finding is None:
            return
        if not finding.ok:
            logger.warning("%s\n  Next step: %s", finding.message, finding.advice)
        elif finding.value > GOOD_K:
            note(("pareto_k", approximation), "%s", finding.message)
        else:
            detail("%s", finding.message)
    elif has_group(idata, "sample_stats"):
        report = check(idata, model=model)
        if report.ok:
            detail("%s", report)
        else:
            logger.warning("%s", report)
