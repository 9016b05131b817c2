"""Approximate inference through the same call: Laplace, ADVI and Pathfinder.

Each returns a fit (``xarray.DataTree``) in the MCMC layout (posterior with the model's names,
coords and dims, observed_data) without sample_stats, and says in the posterior's attrs that the
result is approximate: ``attrs["approximation"]`` is "laplace", "advi" or "pathfinder".
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bayesformula.core.tree import has_group, set_group
from bayesformula.errors import SamplerError
from bayesformula.samplers.base import register_sampler
from bayesformula.samplers.external import _seed, require
from bayesformula.samplers.interrupt import interrupt_requested, keeps_no_draws
from bayesformula.samplers.layout import model_variable_names, standardize

__all__ = ["AdviSampler", "LaplaceSampler", "PathfinderSampler", "unconstrained_to_idata"]


def _value_layout(model, point: dict | None = None) -> list[tuple[str, tuple[int, ...]]]:
    """(name, shape) of each value variable, from ``point`` (default: the initial point)."""
    point = model.initial_point() if point is None else point
    return [(v.name, np.shape(point[v.name])) for v in model.value_vars]


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
    layout = _value_layout(model)
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


def _flat_logp(model, layout):
    """The model's log-density (with the transforms' Jacobians) as a graph of one vector
    ``x``: the unconstrained point raveled in the order of ``model.value_vars`` (``layout``,
    as `_value_layout` gives it)."""
    import pytensor.tensor as pt
    from pytensor.graph.replace import graph_replace

    x = pt.vector("x", dtype="float64")
    replace, start = {}, 0
    for var, (_, shape) in zip(model.value_vars, layout, strict=True):
        size = int(np.prod(shape))
        replace[var] = x[start : start + size].reshape(shape).astype(var.dtype)
        start += size
    return x, graph_replace(model.logp(jacobian=True), replace, strict=False)


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
    is found with scipy's L-BFGS-B on the model's own log-density and gradient."""

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
        point = model.initial_point()
        layout = _value_layout(model, point)
        x, logp = _flat_logp(model, layout)
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
        flat = mode + rng.standard_normal((draws, mode.size)) @ chol.T
        return unconstrained_to_idata(model, flat, self.name)


class AdviSampler:
    """Mean-field ADVI (``pm.fit(method="advi")``); ``n`` sets the optimisation steps."""

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
        # draws of the approximation's flat parameter vector, on the unconstrained scale
        mean = approx.mean.get_value() if hasattr(approx, "mean") else None
        if mean is None:
            raise SamplerError(f"vi: method '{method}' is not supported; use 'advi'.")
        std = approx.std.eval()
        flat = mean + rng.standard_normal((draws, mean.size)) * std
        order = [v.name for v in model.value_vars]
        slices = [approx.ordering[n][1] for n in order]
        columns = np.concatenate([np.arange(sl.start, sl.stop) for sl in slices])
        idata = unconstrained_to_idata(model, flat[:, columns], "advi")
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
        return standardize(idata, model, engine=self.name, mcmc=False)


register_sampler("laplace", LaplaceSampler)
register_sampler("vi", AdviSampler)
register_sampler("pathfinder", PathfinderSampler)
