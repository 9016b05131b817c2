"""Approximate inference through the same call: Laplace, ADVI and Pathfinder.

Each returns a fit (``xarray.DataTree``) in the MCMC layout (posterior with the model's names,
coords and dims, observed_data) without sample_stats, and says in the posterior's attrs that the
result is approximate: ``attrs["approximation"]`` is "laplace", "advi" (or "fullrank_advi") or
"pathfinder". The attrs also say how good the approximation is, ``attrs["pareto_k"]``: the
Pareto k̂ of the importance ratios of its draws (`bayesformula.samplers.approx_check`; above
0.7 the approximation is poor).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bayesformula.core.tree import has_group, set_group
from bayesformula.errors import SamplerError
from bayesformula.samplers.approx_check import (
    flat_logp,
    hierarchical_scales,
    log_joint,
    pareto_k,
    record_pareto_k,
    value_layout,
)
from bayesformula.samplers.base import register_sampler
from bayesformula.samplers.external import _seed, require
from bayesformula.samplers.interrupt import interrupt_requested, keeps_no_draws
from bayesformula.samplers.layout import model_variable_names, standardize

__all__ = ["AdviSampler", "LaplaceSampler", "PathfinderSampler", "unconstrained_to_idata"]


def unconstrained_to_idata(model, flat: np.ndarray, method: str):
    """Draws of the raveled value variables ``(S, k)`` -> a fit in the common layout.

    Value variables live on the unconstrained scale (``sigma_log__``); the model's variables
    and deterministics are computed from them with the model's own graph.
    """
    import pytensor
    import pytensor.tensor as pt
    from arviz_base import dict_to_dataset, from_dict
    from pymc.backends.arviz import coords_and_dims_for_inferencedata, find_observations
    from pytensor.graph.replace import vectorize_graph

    names = model_variable_names(model)
    outputs = model.replace_rvs_by_values([model[n] for n in names])
    # one compiled function for all draws: the graph vectorised over a leading draw axis
    batched = [
        pt.tensor(name=f"draws_{i}", dtype=v.dtype, shape=(None, *v.type.shape))
        for i, v in enumerate(model.value_vars)
    ]
    vector_outputs = vectorize_graph(
        outputs, replace=dict(zip(model.value_vars, batched, strict=True))
    )
    fn = pytensor.function(batched, vector_outputs, on_unused_input="ignore")
    layout = value_layout(model)
    sizes = [int(np.prod(shape)) for _, shape in layout]
    flat = np.asarray(flat, dtype=float)
    parts = np.split(flat, np.cumsum(sizes)[:-1], axis=1)
    args = [
        np.asarray(part.reshape(len(flat), *shape), dtype=v.dtype)
        for part, (_, shape), v in zip(parts, layout, model.value_vars, strict=True)
    ]
    values = dict(zip(names, fn(*args), strict=True))
    coords, dims = coords_and_dims_for_inferencedata(model)
    posterior = {n: np.asarray(v)[None, ...] for n, v in values.items()}
    idata = from_dict(
        {"posterior": posterior},
        coords=coords,
        dims={n: d for n, d in dims.items() if n in posterior},
    )
    observed = dict_to_dataset(find_observations(model), coords=coords, dims=dims, sample_dims=[])
    set_group(idata, "observed_data", observed)
    idata["posterior"].attrs["approximation"] = method
    return standardize(idata, model, engine=method, mcmc=False)


def _std_normal_logpdf(z: np.ndarray) -> np.ndarray:
    """Log density of standard-normal vectors, one per row of ``z``."""
    return -0.5 * np.sum(z**2, axis=1) - 0.5 * z.shape[1] * np.log(2 * np.pi)


def _record_k(idata, model, flat: np.ndarray, log_q: np.ndarray) -> None:
    """Store the Pareto k̂ of draws ``flat`` (unconstrained, ``model.value_vars`` order) whose
    log density under the approximation is ``log_q``. A model whose log-density cannot be
    evaluated at the draws keeps its fit, with the reason in ``pareto_k_note``."""
    try:
        log_p = log_joint(model, flat)
    except Exception as err:  # a diagnostic that fails must not lose the fit
        reason = f"not computed: the model's log-density failed at the draws ({err})"
        record_pareto_k(idata, np.nan, len(flat), reason)
        return
    record_pareto_k(idata, pareto_k(log_p, log_q), len(flat))


def _refuse_hierarchical_scales(model) -> None:
    """Laplace cannot represent a hierarchical scale: refuse a model that has one."""
    scales = hierarchical_scales(model)
    if not scales:
        return
    scale, scaled, reported = scales[0]
    shown = f"'{scale}'" + (f" (reported as {', '.join(reported)})" if reported else "")
    others = f" (and {len(scales) - 1} more)" if len(scales) > 1 else ""
    raise SamplerError(
        f"laplace cannot represent the hierarchical scale {shown}{others}, which sets the "
        f"spread of '{scaled}': a normal approximation at the joint posterior mode puts such "
        "a scale at zero (centred group effects) or inflates it (non-centred ones), so its "
        "draws would be wrong without saying so. Use MCMC (inference_method='pymc', or "
        "'nutpie'), or 'vi' or 'pathfinder', whose fit reports how good the approximation is "
        "(idata.posterior.attrs['pareto_k'])."
    )


def _mode(x, logp, start: np.ndarray) -> np.ndarray:
    """The maximum of ``logp`` over ``x`` (L-BFGS-B from ``start``)."""
    import pytensor
    from scipy import optimize

    fn = pytensor.function([x], [-logp, -pytensor.gradient.grad(logp, x)])

    def objective(point):
        value, grad = fn(point)
        return float(value), np.asarray(grad, dtype=float)

    result = optimize.minimize(objective, start, jac=True, method="L-BFGS-B")
    if not np.all(np.isfinite(result.x)) or not np.isfinite(result.fun):
        raise SamplerError(
            "laplace: the search for the posterior mode left the region where the "
            f"log-density is finite ({result.message}); use MCMC (inference_method='pymc') "
            "or stronger priors."
        )
    return np.asarray(result.x)


def _hessian(x, logp, mode: np.ndarray) -> np.ndarray:
    """Hessian of ``logp`` with respect to ``x`` at ``mode``."""
    import pytensor

    fn = pytensor.function([x], pytensor.gradient.hessian(logp, x))
    return np.asarray(fn(mode))


class LaplaceSampler:
    """Laplace approximation: the posterior mode and the inverse Hessian there, on the
    unconstrained scale, then draws transformed back (so ``sigma`` stays positive). The mode
    is found with scipy's L-BFGS-B on the model's own log-density and gradient.

    Models with hierarchical scales (the standard deviations of group-specific effects) are
    refused: the joint mode misplaces them (`_refuse_hierarchical_scales`).
    """

    name = "laplace"
    approximate = True

    @keeps_no_draws
    def sample(
        self,
        model: Any,
        *,
        draws: int = 1000,
        random_seed: Any = None,
        progressbar: bool = True,
        **_: Any,
    ):
        _refuse_hierarchical_scales(model)
        point = model.initial_point()
        layout = value_layout(model, point)
        x, logp = flat_logp(model, layout)
        start = np.concatenate([np.asarray(point[name], float).ravel() for name, _ in layout])
        mode = _mode(x, logp, start)
        precision = -_hessian(x, logp, mode)
        try:
            chol = np.linalg.cholesky(np.linalg.inv(precision))
        except np.linalg.LinAlgError:
            raise SamplerError(
                "laplace: the Hessian at the posterior mode is not positive definite (the mode "
                "is on a boundary or the posterior is flat in some direction); use MCMC "
                "(inference_method='pymc') or stronger priors."
            ) from None
        rng = np.random.default_rng(random_seed)
        z = rng.standard_normal((draws, mode.size))
        flat = mode + z @ chol.T
        idata = unconstrained_to_idata(model, flat, self.name)
        # log density of the normal approximation at its draws, N(mode, chol chol')
        log_q = _std_normal_logpdf(z) - np.sum(np.log(np.diag(chol)))
        _record_k(idata, model, flat, log_q)
        return idata


class AdviSampler:
    """ADVI (``pm.fit``): mean-field (``method="advi"``, the default) or full-rank
    (``method="fullrank_advi"``); ``n`` sets the optimisation steps."""

    name = "vi"
    approximate = True

    @keeps_no_draws
    def sample(
        self,
        model: Any,
        *,
        draws: int = 1000,
        random_seed: Any = None,
        progressbar: bool = True,
        n: int = 20_000,
        method: str = "advi",
        **_: Any,
    ):
        import pymc as pm

        seed = _seed(random_seed)
        approx = pm.fit(n=n, method=method, model=model, random_seed=seed, progressbar=progressbar)
        if interrupt_requested():  # pm.fit stops on Ctrl-C and returns the unfinished fit
            raise KeyboardInterrupt
        rng = np.random.default_rng(seed)
        # draws of the approximation's flat parameter vector, on the unconstrained scale:
        # mean + L z with L the Cholesky factor of the covariance (full-rank ADVI) or the
        # standard deviations (mean-field ADVI)
        mean = approx.mean.get_value() if hasattr(approx, "mean") else None
        if mean is None:
            raise SamplerError(
                f"vi: method '{method}' is not supported; use 'advi' or 'fullrank_advi'."
            )
        z = rng.standard_normal((draws, mean.size))
        if hasattr(approx, "L"):
            factor = np.asarray(approx.L.eval())
            flat = mean + z @ factor.T
            log_det = np.sum(np.log(np.diag(factor)))
        else:
            std = np.asarray(approx.std.eval())
            flat = mean + z * std
            log_det = np.sum(np.log(std))
        order = [v.name for v in model.value_vars]
        slices = [approx.ordering[n][1] for n in order]
        columns = np.concatenate([np.arange(sl.start, sl.stop) for sl in slices])
        flat = flat[:, columns]
        idata = unconstrained_to_idata(
            model, flat, "fullrank_advi" if hasattr(approx, "L") else "advi"
        )
        _record_k(idata, model, flat, _std_normal_logpdf(z) - log_det)
        return idata


class PathfinderSampler:
    """Multi-path Pathfinder with importance resampling (pymc-extras' ``fit_pathfinder``)."""

    name = "pathfinder"
    approximate = True

    @keeps_no_draws
    def sample(
        self,
        model: Any,
        *,
        draws: int = 1000,
        random_seed: Any = None,
        progressbar: bool = True,
        **kwargs: Any,
    ):
        require("pymc_extras", method=self.name)
        import pymc_extras as pmx

        for key in ("tune", "chains", "cores", "target_accept", "discard_tuned_samples"):
            kwargs.pop(key, None)
        # paths one after another: forking worker processes after JAX or PyTensor threads
        # have started can deadlock
        kwargs.setdefault("parallel", False)
        idata = pmx.fit_pathfinder(
            model=model,
            num_draws=draws,
            random_seed=_seed(random_seed),
            progressbar=progressbar,
            **kwargs,
        )
        for group in ("constant_data", "sample_stats"):
            if has_group(idata, group):
                del idata[group]
        idata["posterior"].attrs["approximation"] = self.name
        _record_pathfinder_k(idata, kwargs)
        return standardize(idata, model, engine=self.name, mcmc=False)


def _record_pathfinder_k(idata, kwargs: dict) -> None:
    """Pathfinder's own k̂: pymc-extras fits it to the importance ratios of all paths' draws
    (``log p - log q`` on the unconstrained space, the Jacobians included unless
    ``jacobian_correction=False``) when it importance-samples them (the default, "psis")."""
    stats = idata["pathfinder"] if has_group(idata, "pathfinder") else {}
    per_path = kwargs.get("num_draws_per_path", 1000)
    draws = int(stats["num_paths"].values) * per_path if "num_paths" in stats else 0
    if kwargs.get("jacobian_correction", True) is False:
        record_pareto_k(
            idata,
            np.nan,
            draws,
            "not computed: with jacobian_correction=False pathfinder's log p and log q are "
            "densities on different spaces",
        )
    elif "pareto_k" in stats:
        record_pareto_k(idata, float(stats["pareto_k"].values), draws)
    else:
        method = kwargs.get("importance_sampling", "psis")
        record_pareto_k(
            idata,
            np.nan,
            draws,
            f"not computed: pathfinder fits it only when it importance-samples its draws "
            f"(importance_sampling='psis' or 'psir', not {method!r})",
        )


register_sampler("laplace", LaplaceSampler)
register_sampler("vi", AdviSampler)
register_sampler("pathfinder", PathfinderSampler)
