"""Drawing from the posterior and the prior of a `ModelSpec`, and tidying what the engines return.

`sample` passes the sampler the fast path's log-density where the gate
(`bayesformula.compiled.fast_path`) allows it and the sampler takes one, and the PyMC graph
otherwise; every engine's result then gets the same layout (`clean`).
"""

from __future__ import annotations

import difflib
from typing import Any

import numpy as np

from bayesformula import compiled
from bayesformula.core.tree import groups, has_group, set_group
from bayesformula.core.validate import check_bool, check_int, check_names, check_prob, check_seed
from bayesformula.errors import ArgumentTypeError, SamplerError
from bayesformula.log import quiet_engines, with_verbose
from bayesformula.results.compare import log_likelihood as add_log_likelihood
from bayesformula.results.predict import predict
from bayesformula.samplers import SAMPLERS, get_sampler
from bayesformula.samplers.defaults import FAST_PATH_TUNE, default_chains, default_tune
from bayesformula.samplers.interrupt import copy_marks
from bayesformula.samplers.keywords import (
    REPLACED,
    accepted_keywords,
    check_keywords,
    engines_taking,
)

__all__ = ["FAST_PATH_TUNE", "clean", "prior_predictive", "sample"]

#: `bayesformula.Model.fit`'s own arguments: a keyword close to one of them is a typo, not an
#: engine option.
FIT_ARGUMENTS = (
    "draws",
    "tune",
    "discard_tuned_samples",
    "omit_offsets",
    "include_response_params",
    "inference_method",
    "chains",
    "cores",
    "random_seed",
    "target_accept",
    "progressbar",
    "log_likelihood",
    "diagnostics",
    "fast_path",
    "verbose",
    "idata_kwargs",
)

#: Keywords that choose the engine in PyMC or Bambi; here ``inference_method=`` does.
ENGINE_CHOICE = ("nuts_sampler", "step", "sampler_backend")


def _sample_with_advice(sampler, target, **kwargs):
    """Run a sampler; a log-density that is not finite at the start becomes a clear error."""
    try:
        return sampler.sample(target, **kwargs)
    except Exception as err:
        if type(err).__name__ != "SamplingError":
            raise
        raise SamplerError(
            "sampling could not start: the log-density is not finite at the initial point "
            f"(bad initial energy). {err} Check the priors with model.prior_predictive() and "
            "the data for extreme values or a response outside the family's support; a prior "
            "allowing impossible parameter values is the usual cause."
        ) from err


@with_verbose
def sample(
    spec,
    *,
    draws: int,
    tune: int | None,
    inference_method: str,
    fast_path: bool,
    omit_offsets: bool,
    include_response_params: bool,
    log_likelihood: bool,
    diagnostics: bool = True,
    **kwargs: Any,
):
    """Posterior draws of ``spec``'s model (see `bayesformula.Model.fit` for the arguments;
    ``diagnostics`` is only checked here, the facade reports them; ``verbose=`` as in
    `bayesformula.log.with_verbose`)."""
    draws, tune, kwargs = check_fit_args(
        draws=draws,
        tune=tune,
        diagnostics=diagnostics,
        fast_path=fast_path,
        omit_offsets=omit_offsets,
        include_response_params=include_response_params,
        log_likelihood=log_likelihood,
        kwargs=kwargs,
    )
    for key in ENGINE_CHOICE:
        if key in kwargs:
            raise SamplerError(_engine_choice_message(key, kwargs[key]))
    sampler = get_sampler(inference_method)
    idata_kwargs = kwargs.pop("idata_kwargs", None)
    if idata_kwargs is not None and not isinstance(idata_kwargs, dict):
        raise ArgumentTypeError(
            "fit(): idata_kwargs must be a dict such as {'log_likelihood': True} or None, got "
            f"{idata_kwargs!r}."
        )
    idata_kwargs = dict(idata_kwargs or {})
    log_likelihood = bool(idata_kwargs.pop("log_likelihood", False)) or log_likelihood
    if idata_kwargs:
        _check_idata_kwargs(inference_method, sampler, idata_kwargs)
        kwargs["idata_kwargs"] = idata_kwargs
    check_keywords(inference_method, sampler, kwargs, own=FIT_ARGUMENTS)
    kwargs["chains"] = default_chains(kwargs.get("chains"))
    target = None
    if fast_path and getattr(sampler, "accepts_density", False):
        target = compiled.fast_path(spec)
    if target is None:
        target = compiled.built_graph(spec).model
    if tune is None:
        tune = default_tune(target)
    with quiet_engines():  # after the graph's build imported PyMC
        idata = _sample_with_advice(sampler, target, draws=draws, tune=tune, **kwargs)
    idata = clean(spec, idata, omit_offsets)
    if has_group(idata, "sample_stats"):  # MCMC: the warm-up it ran, as PyMC records it
        for group in ("posterior", "sample_stats"):
            idata[group].attrs["tuning_steps"] = tune
    if include_response_params:
        predict(spec, idata, kind="response_params", inplace=True)
    if log_likelihood:
        add_log_likelihood(spec, idata, inplace=True)
    copy_marks(idata)  # a partial fit's marks also on the groups added since sampling
    return idata


def _engine_choice_message(key: str, value: Any) -> str:
    """What to write instead of PyMC's or Bambi's way of choosing the engine."""
    if isinstance(value, str) and value in SAMPLERS:
        instead = f"write inference_method='{value}'"
    else:
        instead = f"choose the engine with inference_method= (one of {sorted(SAMPLERS)})"
    return f"fit() got {key}={value!r}; the engine is chosen through inference_method=: {instead}."


def _check_idata_kwargs(name: str, sampler, idata_kwargs: dict) -> None:
    """``idata_kwargs`` besides ``log_likelihood`` (which `fit` computes for every engine) go to
    engines that build their result with PyMC's ``pm.sample``; the others refuse them."""
    accepted = accepted_keywords(name, sampler)
    if accepted is None or "idata_kwargs" in accepted:
        return
    engines = ", ".join(f"'{n}'" for n in engines_taking("idata_kwargs"))
    raise ArgumentTypeError(
        f"fit(): idata_kwargs={idata_kwargs!r}: {name} takes no idata_kwargs but "
        "'log_likelihood' (which fit computes for every engine; log_likelihood=True says the "
        f"same). The engines that pass the others to PyMC: {engines}."
    )


def check_fit_args(*, draws, tune, kwargs: dict, **flags) -> tuple[int, int | None, dict]:
    """Check `fit`'s arguments before anything is built or sampled; returns the draws, the
    tuning steps and the engine keywords with the checked values."""
    where = "fit()"
    draws = check_int(draws, "draws", where, minimum=1)
    tune = check_int(tune, "tune", where, minimum=0, allow_none=True)
    for name, value in flags.items():
        check_bool(value, name, where)
    kwargs = dict(kwargs)
    if "include_mean" in kwargs:
        raise ArgumentTypeError(f"{where} got include_mean; write {REPLACED['include_mean']}.")
    for name in kwargs:
        close = difflib.get_close_matches(name, FIT_ARGUMENTS, n=1, cutoff=0.8)
        if close and name not in FIT_ARGUMENTS:
            raise ArgumentTypeError(
                f"{where} got an unexpected keyword argument '{name}'; did you mean "
                f"'{close[0]}'? (Other keywords go to the inference engine.)"
            )
    for name in ("chains", "cores"):
        if name in kwargs:
            kwargs[name] = check_int(kwargs[name], name, where, minimum=1, allow_none=True)
    if "target_accept" in kwargs:
        kwargs["target_accept"] = check_prob(
            kwargs["target_accept"], "target_accept", where, allow_none=True
        )
    for name in ("progressbar", "discard_tuned_samples"):
        if name in kwargs:
            kwargs[name] = check_bool(kwargs[name], name, where)
    if "random_seed" in kwargs:
        kwargs["random_seed"] = check_seed(kwargs["random_seed"], where=where)
    return draws, tune, kwargs


def clean(spec, idata, omit_offsets: bool):
    """Drop internal data containers and (optionally) offsets; tag the result."""
    if has_group(idata, "constant_data"):
        del idata["constant_data"]
    offsets = []
    if omit_offsets:
        offsets = [f"{t.name}_offset" for d in spec.designs for t in d.group_terms]
        offsets += [
            f"{b.name}_{suffix}"
            for d in spec.designs
            for b in d.group_blocks
            for suffix in ("offset", "cholesky", "joint")
        ]
        offsets += [
            f"{t.name}_offset"
            for t in spec.design.special_terms
            if t.kind == "hsgp" and not t.centered
        ]
    for group in ("posterior", "prior"):
        if has_group(idata, group) and offsets:
            set_group(idata, group, idata[group].to_dataset().drop_vars(offsets, errors="ignore"))
    for group in groups(idata):
        idata[group].attrs["modeling_interface"] = "bayesformula"
    return idata


@with_verbose
def prior_predictive(spec, draws: int, var_names, omit_offsets: bool, random_seed: Any):
    """Parameters and responses drawn from the prior (see `bayesformula.Model.prior_predictive`)."""
    where = "prior_predictive()"
    draws = check_int(draws, "draws", where, minimum=1)
    omit_offsets = check_bool(omit_offsets, "omit_offsets", where)
    random_seed = check_seed(random_seed, where=where)
    pm_model = compiled.built_graph(spec).model
    var_names = check_names(var_names, "var_names", list(pm_model.named_vars), "variable", where)
    with quiet_engines():
        return _prior_predictive(spec, pm_model, draws, var_names, omit_offsets, random_seed)


def _prior_predictive(spec, pm_model, draws, var_names, omit_offsets, random_seed):
    import pymc as pm

    from bayesformula.graph.thresholds import order_prior_draws

    if var_names is not None:
        idata = pm.sample_prior_predictive(
            draws=draws, model=pm_model, var_names=var_names, random_seed=random_seed
        )
        order_prior_draws(spec, idata.prior, np.random.default_rng(random_seed))
        return clean(spec, idata, omit_offsets)
    # parameters from PyMC, responses from the family's numpy draw (the same one
    # predict(kind="response") uses): PyMC draws some likelihoods, such as the hurdle
    # families' zero-truncated counts, by rejection, which fails for extreme prior draws
    seeds = np.random.default_rng(random_seed).integers(0, 2**31, size=2)
    params = [v.name for v in pm_model.free_RVs + pm_model.deterministics]
    idata = pm.sample_prior_predictive(
        draws=draws, model=pm_model, var_names=params, random_seed=int(seeds[0])
    )
    # PyMC's forward draws ignore ordering constraints (ordinal thresholds)
    order_prior_draws(spec, idata.prior, np.random.default_rng(seeds[0]))
    with_y = predict(
        spec, idata, kind="response", group="prior", inplace=False, random_seed=int(seeds[1])
    )
    set_group(idata, "prior_predictive", with_y["prior_predictive"])
    return clean(spec, idata, omit_offsets)
