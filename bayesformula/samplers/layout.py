"""One result layout (an ``xarray.DataTree`` as ArviZ 1 reads it) for every engine.

Engines name their sampler statistics differently and some keep the unconstrained variables
(``sigma_log__``) in the posterior. ``standardize`` maps every result onto PyMC's layout: the
model's own variable names, coords and dims, and sample_stats with at least :data:`REQUIRED`.
"""

from __future__ import annotations

from typing import Any

from bayesformula.core.tree import dataset, groups, has_group, set_group
from bayesformula.errors import SamplerError

__all__ = ["REQUIRED_STATS", "STAT_NAMES", "model_variable_names", "standardize"]

#: Statistics every MCMC adapter must return.
REQUIRED_STATS = ("diverging", "energy", "lp", "step_size", "tree_depth", "n_steps")

#: Engine-specific names -> PyMC's names.
STAT_NAMES = {
    "depth": "tree_depth",
    "maxdepth_reached": "reached_max_treedepth",
    "logp": "lp",
    "mean_tree_accept": "acceptance_rate",
    "num_steps": "n_steps",
    "potential_energy": "lp",
    "accept_prob": "acceptance_rate",
}

#: Engine statistics with no counterpart in PyMC's layout.
_DROP_STATS = ("index_in_trajectory", "step_size_bar", "mean_tree_accept_sym", "tuning")


def model_variable_names(model) -> list[str]:
    """Names of the model's free random variables and deterministics (no transformed names)."""
    if hasattr(model, "variable_names"):  # a DensityModel
        return list(model.variable_names)
    return [v.name for v in model.free_RVs] + [d.name for d in model.deterministics]


def standardize(idata, model, *, engine: str, discard_tuned_samples: bool = True, mcmc=True):
    """Return ``idata`` in the common layout (modified in place and returned).

    Raises
    ------
    SamplerError
        If the engine did not return a required statistic (an adapter bug, not a user error).
    """
    keep = set(model_variable_names(model))
    for group in ("posterior", "warmup_posterior", "prior"):
        if has_group(idata, group):
            extra = [v for v in idata[group].data_vars if v not in keep]
            if extra:
                set_group(idata, group, dataset(idata, group).drop_vars(extra))
    for group in ("sample_stats", "warmup_sample_stats"):
        if not has_group(idata, group):
            continue
        stats = dataset(idata, group)
        stats = stats.drop_vars([s for s in _DROP_STATS if s in stats.data_vars])
        rename: dict[str, Any] = {
            old: new
            for old, new in STAT_NAMES.items()
            if old in stats.data_vars and new not in stats.data_vars
        }
        stats = stats.rename(rename)
        set_group(idata, group, stats)
    if discard_tuned_samples:
        for group in ("warmup_posterior", "warmup_sample_stats"):
            if has_group(idata, group):
                del idata[group]
    if mcmc:
        stats = idata["sample_stats"] if has_group(idata, "sample_stats") else {}
        missing = [s for s in REQUIRED_STATS if s not in stats]
        if missing:
            raise SamplerError(
                f"the '{engine}' adapter returned no {missing} in sample_stats; every MCMC "
                f"adapter must provide {list(REQUIRED_STATS)}."
            )
    for group in groups(idata):
        idata[group].attrs["inference_method"] = engine
    return idata
