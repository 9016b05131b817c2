"""The pointwise log-likelihood as a compiled function of parameter draws and the data, for
LOO and model comparison; the likelihood is the model's own (`observed_logp`)."""

from __future__ import annotations

from typing import Any

from bayesformula.core.prior import Prior
from bayesformula.graph.likelihood import observed_logp

__all__ = ["compile_loglik"]


def compile_loglik(spec):
    """Elementwise log-likelihood (S, n) from parent draws, auxiliary draws and the data."""
    import pytensor
    import pytensor.tensor as pt

    family = spec.family
    # (S, n), or (S, n, K) for a parent with one probability per response level
    parent = pt.tensor(
        "parent", dtype="float64", shape=(None,) * (3 if family.parent_over_levels else 2)
    )
    inputs = [parent]
    params: dict[str, Any] = {family.parent: parent}
    for aux in family.aux:
        prior = spec.priors.aux.get(aux.name)
        if aux.name in spec.aux_parts:  # one value per observation
            var = pt.tensor(aux.name, dtype="float64", shape=(None, None))
            inputs.append(var)
            params[aux.name] = var
        elif isinstance(prior, Prior):
            shape = (None, 1) if aux.dim is None else (None, 1, None)
            var = pt.tensor(aux.name, dtype="float64", shape=shape)
            inputs.append(var)
            params[aux.name] = var
        else:
            params[aux.name] = pt.constant(float(prior), dtype="float64")
    # (1, n), or (1, n, K) for counts per category
    y = pt.tensor("y", dtype="float64", shape=(1,) + (None,) * spec.response_data.values.ndim)
    inputs.append(y)
    if spec.response_data.trials is not None:
        trials = pt.tensor("trials", dtype="float64", shape=(1, None))
        inputs.append(trials)
        params["trials"] = trials
    out = observed_logp(family, family.to_dist(params), y, spec.response_helper)
    return pytensor.function(inputs, out, on_unused_input="ignore")
