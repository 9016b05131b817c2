"""Centered or non-centered group effects, chosen per grouping factor from the data.

A group's effects are well sampled centered (``b ~ Normal(0, sigma)``) when each level's data
pin its effect down more tightly than the population distribution does; otherwise the
posterior is a funnel in ``(sigma, b)`` and the non-centered form (``b = sigma * z``) samples
better. Per factor we compare, on the link scale,

* ``I``: the information one level's data carry about its effect (the median over levels of
  ``n_j * w``, with ``w`` the Fisher information of one observation: ``1/s^2`` for gaussian
  with ``s^2`` the pooled within-level variance, ``trials * p(1 - p)`` for binomial and
  bernoulli, the mean count for poisson), and
* ``tau^2``: a moment estimate of the between-level variance of the levels' link-scale means.

``I * tau^2 >= 1`` (data outweigh the population prior) -> centered. Other families, or an
estimate that cannot be made, -> non-centered (the safe default).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = [
    "LEVEL_INFORMATION",
    "FactorChoice",
    "anchor_factor",
    "choose_parameterization",
    "register_level_information",
    "resolve_parameterization",
]


@dataclass(frozen=True)
class FactorChoice:
    """The parameterisation of one grouping factor and why."""

    factor: str
    noncentered: bool
    reason: str
    ratio: float = float("nan")

    @property
    def label(self) -> str:
        return "non-centered" if self.noncentered else "centered"


#: Family name -> ``(y, trials, idx, n_levels) -> (link-scale means, information)`` per level:
#: the families whose per-observation Fisher information on the link scale we estimate. Other
#: families take the non-centered default.
LEVEL_INFORMATION: dict[str, Callable] = {}


def register_level_information(*families: str):
    """Register the decorated per-level statistics for ``families`` (see `LEVEL_INFORMATION`)."""

    def decorate(function):
        for family in families:
            LEVEL_INFORMATION[family] = function
        return function

    return decorate


@register_level_information("gaussian")
def _gaussian_levels(y, trials, idx, n_levels):
    counts = np.bincount(idx, minlength=n_levels).astype(float)
    sums = np.bincount(idx, weights=y, minlength=n_levels)
    means = sums / np.maximum(counts, 1)
    resid = y - means[idx]
    dof = max(len(y) - n_levels, 1)
    within = float(np.sum(resid * resid) / dof)
    if not within > 0:
        within = float(np.var(y)) or 1.0
    return means, counts / within


@register_level_information("bernoulli", "binomial")
def _binary_levels(y, trials, idx, n_levels):
    n = np.ones_like(y) if trials is None else trials
    ys = np.bincount(idx, weights=y, minlength=n_levels)
    ns = np.bincount(idx, weights=n, minlength=n_levels)
    p = (ys + 0.5) / (ns + 1.0)
    return np.log(p / (1 - p)), ns * p * (1 - p)


@register_level_information("poisson")
def _poisson_levels(y, trials, idx, n_levels):
    counts = np.bincount(idx, minlength=n_levels).astype(float)
    ys = np.bincount(idx, weights=y, minlength=n_levels)
    rate = (ys + 0.5) / np.maximum(counts, 1)
    return np.log(rate), counts * rate


def choose_parameterization(design, family, response) -> dict[str, FactorChoice]:
    """Pick centered or non-centered for each grouping factor of ``design``."""
    choices: dict[str, FactorChoice] = {}
    y = np.asarray(response.values, dtype=float)
    trials = None if response.trials is None else np.asarray(response.trials, dtype=float)
    for factor in design.factors:
        idx = design.group_index[factor]
        n_levels = len(design.group_levels[factor])
        per_level = len(y) / max(n_levels, 1)
        level_stats = LEVEL_INFORMATION.get(family.name)
        if level_stats is None:
            choices[factor] = FactorChoice(
                factor, True, f"{per_level:.3g} obs/level; default for family '{family.name}'"
            )
            continue
        means, info = level_stats(y, trials, idx, n_levels)
        observed = info > 0
        if observed.sum() < 2:
            choices[factor] = FactorChoice(factor, True, "fewer than two observed levels")
            continue
        info_med = float(np.median(info[observed]))
        between = float(np.var(means[observed], ddof=1))
        noise = float(np.mean(1.0 / info[observed]))
        tau2 = max(between - noise, 0.0)
        ratio = info_med * tau2
        noncentered = not ratio >= 1.0
        choices[factor] = FactorChoice(
            factor,
            noncentered,
            f"{per_level:.3g} obs/level; data/prior information ~ {ratio:.2g}",
            ratio,
        )
    return choices


def resolve_parameterization(option, design, family, response) -> dict[str, FactorChoice]:
    """Apply the user's ``noncentered`` option (None, bool or {factor: bool}) to the choice."""
    from bayesformula.errors import ModelError, did_you_mean

    if option is None:
        return choose_parameterization(design, family, response)
    if isinstance(option, bool):
        return {f: FactorChoice(f, option, "set by noncentered=") for f in design.factors}
    if isinstance(option, dict):
        unknown = [k for k in option if k not in design.factors]
        if unknown:
            raise ModelError(
                "noncentered= names grouping factors the formula does not have: "
                + "; ".join(did_you_mean(str(k), design.factors, "factor") for k in unknown)
            )
        for key, value in option.items():
            if not isinstance(value, (bool, np.bool_)):
                raise ModelError(
                    f"noncentered={{'{key}': ...}} must be True or False, got {value!r}."
                )
        chosen = choose_parameterization(design, family, response)
        for key, value in option.items():
            chosen[key] = FactorChoice(key, bool(value), "set by noncentered=", chosen[key].ratio)
        return chosen
    raise ModelError(
        "noncentered must be None (choose per grouping factor from the data), True, False or "
        f"a dict {{factor: bool}}; got {option!r}."
    )


def anchor_factor(design, choices: dict[str, FactorChoice]) -> str | None:
    """The centered factor with a group intercept that is sampled centered on the intercept.

    Among centered factors with a ``1|factor`` term (and a model intercept), the most data-rich
    one; None if there is none.
    """
    if not design.intercept:
        return None
    candidates = [
        choices[t.factor]
        for t in design.group_terms
        if t.kind == "intercept" and not choices[t.factor].noncentered
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda c: -np.inf if np.isnan(c.ratio) else c.ratio).factor
