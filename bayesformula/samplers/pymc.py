"""PyMC's own NUTS (on PyTensor's default backend, numba)."""

from __future__ import annotations

from typing import Any

from bayesformula.core.tree import is_tree
from bayesformula.samplers.base import register_sampler
from bayesformula.samplers.layout import standardize

__all__ = ["PymcSampler"]


class PymcSampler:
    """``pm.sample`` with PyMC's NUTS. Extra keyword arguments go to ``pm.sample``."""

    name = "pymc"

    def sample(
        self,
        model: Any,
        *,
        draws: int = 1000,
        tune: int = 1000,
        chains: int | None = None,
        cores: int | None = None,
        random_seed: Any = None,
        target_accept: float | None = None,
        progressbar: bool = True,
        **kwargs: Any,
    ):
        import pymc as pm

        if target_accept is not None:
            kwargs["target_accept"] = target_accept
        discard = kwargs.get("discard_tuned_samples", True)
        idata = pm.sample(
            draws=draws,
            tune=tune,
            chains=chains,
            cores=cores,
            random_seed=random_seed,
            progressbar=progressbar,
            model=model,
            # PyMC 6 would pick nutpie when it is installed; this adapter is PyMC's own NUTS
            nuts_sampler="pymc",
            **kwargs,
        )
        if not is_tree(idata):  # return_inferencedata=False: a raw trace
            return idata
        return standardize(idata, model, engine=self.name, discard_tuned_samples=discard)


register_sampler("pymc", PymcSampler)
