"""NUTS from other engines: nutpie (numba or JAX), NumPyro and BlackJAX (JAX).

Each engine is an optional extra, imported only when used; a missing one is a `SamplerError`
with the line that installs it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import os
import tempfile
import time
import weakref
from typing import Any

import numpy as np

from bayesformula.core.tree import groups, has_group, make_tree, set_group
from bayesformula.density.model import DensityModel
from bayesformula.errors import ArgumentTypeError, SamplerError
from bayesformula.samplers.base import register_sampler
from bayesformula.samplers.interrupt import (
    Progress,
    drawn_per_chain,
    keeps_no_draws,
    mark,
    settle,
)
from bayesformula.samplers.layout import standardize

__all__ = ["BlackjaxSampler", "NumpyroSampler", "NutpieSampler", "require"]

#: engine module -> (what to install, extra)
INSTALL = {
    "nutpie": ("nutpie", "nutpie"),
    "numpyro": ("numpyro and jax", "jax"),
    "blackjax": ("blackjax and jax", "jax"),
    "jax": ("jax", "jax"),
    "pymc_extras": ("pymc-extras", "pathfinder"),
}


def require(*modules: str, method: str) -> None:
    """Raise a `SamplerError` with the install line if an engine module is missing."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        what, extra = INSTALL[missing[0]]
        raise SamplerError(
            f"inference_method='{method}' needs {what}, which is not installed. Install it with "
            f"pip install 'bayesformula[{extra}]' (or pip install 'bayesformula[all]' for every "
            "engine)."
        )


def _seed(random_seed: Any) -> int:
    """An int seed for engines that take one (None: fresh entropy)."""
    if random_seed is None:
        return int(np.random.default_rng().integers(2**31 - 1))
    if isinstance(random_seed, int | np.integer):
        return int(random_seed)
    return int(np.random.default_rng(random_seed).integers(2**31 - 1))


class NutpieSampler:
    """nutpie's NUTS (Rust) on a `DensityModel` (called directly, nothing compiled) or on a
    ``pm.Model`` compiled by numba (``backend="jax"`` for JAX).

    The compiled model is cached per ``pm.Model``: a second fit of the same model object does
    not compile again.
    """

    name = "nutpie"
    accepts_density = True
    _compiled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def compile(self, model: Any, backend: str = "numba"):
        require("nutpie", method=self.name)
        import nutpie

        cache = self._compiled.setdefault(model, {})
        if backend not in cache:
            cache[backend] = nutpie.compile_pymc_model(model, backend=backend)
        return cache[backend]

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
        discard_tuned_samples: bool = True,
        backend: str = "numba",
        trace_on_disk: bool | None = None,
        **kwargs: Any,
    ):
        """Sample with nutpie.

        On the fast path (a `DensityModel`), ``trace_on_disk`` streams nutpie's own trace to a
        temporary folder instead of memory: nutpie keeps every draw's unconstrained position and
        gradient whatever it is asked to store, ``2 x ndim x 8`` bytes per draw. None (the
        default) does so when that would reach `DISK_TRACE_MIN_BYTES`; the folder is removed
        when the fit returns. A `pm.Model` is sampled in memory.
        """
        require("nutpie", method=self.name)
        import nutpie

        density = isinstance(model, DensityModel)
        n_chains = chains or 4
        trace_dir = None
        if density:
            skip = tune if discard_tuned_samples else 0
            compiled, recorders = _from_density(model, capacity=tune + draws + 1 - skip, skip=skip)
            if trace_on_disk is None:
                trace_on_disk = _nutpie_trace_bytes(model.ndim, tune + draws, n_chains) >= (
                    DISK_TRACE_MIN_BYTES
                )
            if trace_on_disk:
                trace_dir = tempfile.TemporaryDirectory(prefix="bayesformula-nutpie-")
                kwargs["zarr_store"] = nutpie.zarr_store.LocalStore(trace_dir.name)
                kwargs["return_raw_trace"] = True
            # a diagonal plus low-rank mass matrix follows the correlations (intercept vs.
            # dummies, crossed group effects) a diagonal one misses; above LOW_RANK_MAX_DIM
            # parameters its adaptation costs more than it saves (see LOW_RANK_MAX_DIM)
            low_rank = model.ndim <= LOW_RANK_MAX_DIM
            kwargs.setdefault("adaptation", "low_rank" if low_rank else "diag")
        else:
            compiled, renamed = _comma_free_dims(self.compile(model, backend))
        if "low_rank_modified_mass_matrix" in kwargs:  # nutpie < 0.16.9's name for it
            low_rank = kwargs.pop("low_rank_modified_mass_matrix")
            kwargs["adaptation"] = "low_rank" if low_rank else "diag"
        if target_accept is not None:
            kwargs["target_accept"] = target_accept
        kwargs.pop("blocking", None)  # always waited for here, so that Ctrl-C keeps the draws
        start = time.perf_counter()
        try:
            try:
                background = nutpie.sample(
                    compiled,
                    draws=draws,
                    tune=tune,
                    chains=n_chains,
                    cores=cores,
                    seed=_seed(random_seed),
                    progress_bar=progressbar,
                    save_warmup=not discard_tuned_samples,
                    blocking=False,
                    **kwargs,
                )
            except AttributeError as err:  # nutpie's word for an unknown keyword
                if "Unknown settings attribute" not in str(err):
                    raise
                name = str(err).rsplit(":", 1)[-1].strip()
                raise ArgumentTypeError(
                    f"fit() got the keyword '{name}', which nutpie does not know; keywords "
                    "besides fit()'s own go to the engine (nutpie.sample's settings, such as "
                    "adaptation= or max_treedepth=)."
                ) from None
            idata, interrupted = _wait(background)
            elapsed = time.perf_counter() - start
            if trace_dir is not None:
                idata = _read_disk_trace(trace_dir.name, warmup=not discard_tuned_samples)
        finally:
            if trace_dir is not None:
                trace_dir.cleanup()
        progress = Progress(draws, drawn_per_chain(idata.posterior), interrupted)
        kept = settle(idata, progress, engine=self.name, tune=tune)
        if not density and renamed:
            _restore_dims(idata, renamed)
        idata.sample_stats.attrs["sampling_time"] = elapsed
        if density:
            _density_groups(idata, model, recorders)
            observed = model.observed_dataset() if model.observed else None
        else:
            observed = _pymc_observed(model)
        if observed is not None:
            set_group(idata, "observed_data", observed)
        idata = standardize(
            idata, model, engine=self.name, discard_tuned_samples=discard_tuned_samples
        )
        if density:
            idata.posterior.attrs["log_density"] = model.description
        if kept is not None:
            mark(idata, progress, *kept, engine=self.name)
        return idata


#: Seconds between checks for Ctrl-C while nutpie samples in its own threads.
POLL_SECONDS = 0.1


def _wait(background) -> tuple[Any, bool]:
    """Wait for nutpie's background sampler; return its trace and whether Ctrl-C stopped it.

    The wait is a loop of short waits, so that Python handles a Ctrl-C within `POLL_SECONDS`;
    the interrupt then aborts the sampler, which returns the draws made so far.
    """
    try:
        while True:
            try:
                return background.wait(timeout=POLL_SECONDS), False
            except TimeoutError:  # still sampling
                continue
    except KeyboardInterrupt:
        return background.abort(), True
    except BaseException:
        background.cancel()
        raise


#: The largest fast-path model (unconstrained parameters) that nutpie samples with a diagonal
#: plus low-rank mass matrix; larger ones get a diagonal one. With nutpie 0.16.11, 2 chains x
#: (300 + 1000) draws: sleepstudy's 41 parameters, low rank 471 vs diagonal 328 bulk ESS per
#: second of sampling; 50,000 bernoulli rows with 10 coefficients 327 vs 191; 554 parameters
#: (two crossed grouping factors) 77 vs 132, the low-rank adaptation adding 12 s to a 9 s run.
LOW_RANK_MAX_DIM = 256


#: Stands for "," in dim names while nutpie samples: it stores a variable's dims as one
#: comma-joined string and splits it again, so a dim such as ``bs(x, df=5)_dim`` or
#: ``hsgp(x, m=10, c=1.5)_weights_dim`` would come back as several unknown dims.
_COMMA = "\u201a"


def _comma_free_dims(compiled):
    """The compiled model with commas in dim names replaced, and the replaced -> original map.

    Variables without dims (such as ``..._log__`` transforms) get nutpie's default names
    ``{name}_dim_{i}`` explicitly, so that a comma in the variable's name is replaced too.
    """
    dims = {k: tuple(v) for k, v in (compiled.dims or {}).items()}
    coords = dict(compiled.coords or {})
    for name, shape in (getattr(compiled, "shapes", None) or {}).items():
        if "," in name and name not in dims and len(shape):
            dims[name] = tuple(f"{name}_dim_{i}" for i in range(len(shape)))
            coords.update({d: np.arange(n) for d, n in zip(dims[name], shape, strict=True)})
    renamed = {d.replace(",", _COMMA): d for ds in dims.values() for d in ds if "," in d}
    if not renamed:
        return compiled, {}
    swap = {v: k for k, v in renamed.items()}
    return (
        dataclasses.replace(
            compiled,
            dims={k: tuple(swap.get(d, d) for d in v) for k, v in dims.items()},
            _coords={swap.get(k, k): v for k, v in coords.items()},
        ),
        renamed,
    )


def _restore_dims(idata, renamed: dict) -> None:
    for group in groups(idata):
        dataset = idata[group].to_dataset()
        found = {k: v for k, v in renamed.items() if k in dataset.dims}
        if found:
            set_group(idata, group, dataset.rename(found))


#: Codes nutpie stores per draw: recorder number x _RECORDER_STRIDE + row in that recorder.
_RECORDER_STRIDE = 2**32


#: Fast-path traces at least this large (nutpie's position and gradient per draw, all chains)
#: go to a temporary folder rather than memory; see `NutpieSampler.sample`.
DISK_TRACE_MIN_BYTES = 32 * 2**20


def _nutpie_trace_bytes(ndim: int, draws_per_chain: int, chains: int) -> int:
    """Bytes nutpie's trace holds for the per-draw position and gradient vectors."""
    return 2 * 8 * ndim * draws_per_chain * chains


class _DrawRecorder:
    """Keeps one chain's draws (unconstrained vectors) in a numpy buffer.

    nutpie calls it once per draw, warm-up first, and keeps only the draw's code, so nutpie's
    trace holds one number per draw instead of every named variable; the named variables are
    computed from the buffer once sampling is done (`_density_groups`). The first ``skip``
    draws (a warm-up that will be discarded) are not kept; their code is -1.
    """

    def __init__(self, number: int, ndim: int, capacity: int, skip: int = 0) -> None:
        self.number = number
        self.rows = np.empty((max(capacity, 1), ndim))
        self.n = 0
        self.skip = skip

    def __call__(self, x):
        if self.skip > 0:
            self.skip -= 1
            return {"__draw__": np.asarray(-1.0)}
        if self.n == self.rows.shape[0]:
            self.rows = np.concatenate([self.rows, np.empty_like(self.rows)])
        self.rows[self.n] = x
        code = self.number * _RECORDER_STRIDE + self.n
        self.n += 1
        return {"__draw__": np.asarray(float(code))}


def _from_density(model: DensityModel, capacity: int, skip: int = 0):
    """nutpie's model of a plain log-density (nothing to compile) and its draw recorders."""
    from nutpie.compiled_pyfunc import from_pyfunc

    init = None
    if model.initial_point is not None:

        def init(seed):
            return model.initial_point(np.random.default_rng(seed))

    recorders: list[_DrawRecorder] = []

    def make_recorder(seed1, seed2, chain):
        recorders.append(_DrawRecorder(len(recorders), model.ndim, capacity, skip))
        return recorders[-1]

    compiled = from_pyfunc(
        model.ndim,
        lambda: model.logp_grad,
        make_recorder,
        [np.dtype("float64")],
        [()],
        ["__draw__"],
        make_initial_point_fn=init,
    )
    return compiled, recorders


def _read_disk_trace(path: str, warmup: bool):
    """A fit from nutpie's zarr trace in ``path``: the draw codes and the per-draw
    statistics; the per-draw vectors (position, gradient, mass matrix) stay unread."""
    import xarray as xr
    import zarr

    root = zarr.open_group(path, mode="r")
    # each group's draws are as many as its posterior's draw codes
    sources = {"posterior": "posterior", "sample_stats": "posterior"}
    if warmup:
        sources |= {"warmup_posterior": "warmup_posterior"}
        sources |= {"warmup_sample_stats": "warmup_posterior"}
    groups = {}
    for name, source in sources.items():
        if name not in root:
            continue
        written = _written_draws(root[source]["__draw__"]) if source in root else None
        variables = {}
        for key, array in root[name].arrays():
            if tuple(array.metadata.dimension_names or ()) == ("chain", "draw"):
                variables[key] = (("chain", "draw"), array[:, :written])
        groups[name] = xr.Dataset(variables)
    # a chain that was interrupted leaves the draws it did not reach at the fill value (NaN):
    # the sampler cuts the chains to a common length (`settle`) and says so
    for name, ds in groups.items():
        groups[name] = ds.assign_coords(
            chain=np.arange(ds.sizes["chain"]), draw=np.arange(ds.sizes["draw"])
        )
    return make_tree(groups)


def _written_draws(codes) -> int:
    """How many draws the longest chain wrote to a (chain, draw) zarr array of draw codes.

    nutpie writes each chain's draws in order and leaves the rest at the fill value (NaN), so
    a bisection per chain finds the end without reading the unwritten tail of an interrupted
    run (nutpie stores 16 draws a chunk: 200,000 draws are 12,500 chunks per chain).
    """
    n_chains, n_draws = codes.shape
    longest = 0
    for chain in range(n_chains):
        done, todo = 0, n_draws  # draws [0, done) are written, [todo, n_draws) are not
        while done < todo:
            middle = (done + todo) // 2
            if np.isfinite(codes[chain, middle]):
                done = middle + 1
            else:
                todo = middle
        longest = max(longest, done)
    return longest


def _density_groups(idata, model: DensityModel, recorders) -> None:
    """Replace the draw codes in ``posterior`` (and ``warmup_posterior``) by named variables."""
    import xarray as xr

    names = model.variable_names
    for group in ("posterior", "warmup_posterior"):
        if not has_group(idata, group):
            continue
        codes = idata[group]["__draw__"]
        values = codes.values.astype(np.int64)
        n_chains, n_draws = values.shape
        out = {name: np.empty((n_chains, n_draws, *model.shapes[name])) for name in names}
        for c in range(n_chains):
            for d in range(n_draws):
                number, row = divmod(int(values[c, d]), _RECORDER_STRIDE)
                expanded = model.expand(recorders[number].rows[row])
                for name in names:
                    out[name][c, d] = expanded[name]
        variables, coords = {}, {"chain": codes["chain"].values, "draw": codes["draw"].values}
        for name in names:
            dims = tuple(model.dims.get(name, ()))
            dims += tuple(f"{name}_dim_{i}" for i in range(len(dims), len(model.shapes[name])))
            variables[name] = (("chain", "draw", *dims), out.pop(name))
            for dim in dims:
                if dim in model.coords:
                    coords[dim] = list(model.coords[dim])
        set_group(
            idata, group, xr.Dataset(variables, coords=coords, attrs=dict(idata[group].attrs))
        )
    for recorder in recorders:
        recorder.rows = np.empty((0, model.ndim))


def _pymc_observed(model):
    """The ``observed_data`` group of a PyMC model (nutpie has no access to it)."""
    from pymc.backends.arviz import (
        coords_and_dims_for_inferencedata,
        dict_to_dataset,
        find_observations,
    )

    coords, dims = coords_and_dims_for_inferencedata(model)
    return dict_to_dataset(find_observations(model), coords=coords, dims=dims, sample_dims=[])


def jax_cache_dir() -> str:
    """Where JAX keeps compiled programs between processes unless the user chose a place
    (JAX reads ``JAX_COMPILATION_CACHE_DIR`` itself): ``$XDG_CACHE_HOME/bayesformula/jax``,
    by default ``~/.cache/bayesformula/jax``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "bayesformula", "jax")


def enable_jax_cache() -> None:
    """Turn on JAX's persistent compilation cache, so a model compiled once is not compiled
    again in a later process. Settings the user made (config or environment) are kept."""
    import jax

    if jax.config.jax_compilation_cache_dir:
        return
    jax.config.update("jax_compilation_cache_dir", jax_cache_dir())
    if "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS" not in os.environ:
        # JAX caches only compiles over 1 s by default; a sampler's are often shorter
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.1)


class _PymcExternal:
    """NUTS from a JAX engine through PyMC's ``pm.sample(nuts_sampler=...)``."""

    name = ""
    modules: tuple[str, ...] = ()

    def _context(self):
        return contextlib.nullcontext()

    @keeps_no_draws
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
        discard_tuned_samples: bool = True,
        **kwargs: Any,
    ):
        require(*self.modules, method=self.name)
        import pymc as pm

        enable_jax_cache()
        if target_accept is not None:
            kwargs["target_accept"] = target_accept
        chain_method = kwargs.pop("chain_method", "vectorized" if (cores or 1) == 1 else None)
        if chain_method is not None:
            kwargs.setdefault("nuts", {})["chain_method"] = chain_method
        with self._context():
            idata = pm.sample(
                draws=draws,
                tune=tune,
                chains=chains or 4,
                random_seed=_seed(random_seed),
                progressbar=progressbar,
                model=model,
                nuts_sampler=self.name,
                discard_tuned_samples=discard_tuned_samples,
                **kwargs,
            )
        return standardize(
            idata, model, engine=self.name, discard_tuned_samples=discard_tuned_samples
        )


class NumpyroSampler(_PymcExternal):
    """NumPyro's NUTS on a JAX-compiled log-density (CPU or GPU)."""

    name = "numpyro"
    modules = ("numpyro", "jax")


class BlackjaxSampler(_PymcExternal):
    """BlackJAX's NUTS with window adaptation on a JAX-compiled log-density."""

    name = "blackjax"
    modules = ("blackjax", "jax")

    def _context(self):
        return _blackjax_step_size_stat()


def _blackjax_loop(seed, init_position, logp_fn, draws, tune, target_accept, **kwargs):
    """One chain: window adaptation, then NUTS draws with the adapted step size recorded."""
    import blackjax
    import jax
    import jax.numpy as jnp

    kwargs.pop("progress_bar", None)  # newer BlackJAX has no such argument
    algorithm = blackjax.hmc if kwargs.pop("algorithm", "nuts") == "hmc" else blackjax.nuts
    adapt = blackjax.window_adaptation(
        algorithm=algorithm,
        logdensity_fn=logp_fn,
        target_acceptance_rate=target_accept,
        **kwargs,
    )
    (state, params), _ = adapt.run(seed, init_position, num_steps=tune)
    kernel = algorithm(logp_fn, **params).step
    step_size = jnp.asarray(params["step_size"])

    def one_step(state, key):
        state, info = kernel(key, state)
        stats = {
            "diverging": info.is_divergent,
            "energy": info.energy,
            "tree_depth": info.num_trajectory_expansions,
            "n_steps": info.num_integration_steps,
            "acceptance_rate": info.acceptance_rate,
            "lp": state.logdensity,
            "step_size": step_size,
        }
        return state, (state.position, stats)

    _, (samples, stats) = jax.lax.scan(one_step, state, jax.random.split(seed, draws))
    return samples, stats


@contextlib.contextmanager
def _blackjax_step_size_stat():
    """Run PyMC's BlackJAX path with `_blackjax_loop`, which also reports the step size.

    PyMC's own loop (``pymc.sampling.jax._blackjax_inference_loop``) keeps the adapted step
    size to itself and passes arguments that BlackJAX 1.6+ no longer accepts.
    """
    import pymc.sampling.jax as pmjax

    original = pmjax._blackjax_inference_loop
    pmjax._blackjax_inference_loop = _blackjax_loop
    try:
        yield
    finally:
        pmjax._blackjax_inference_loop = original


register_sampler("nutpie", NutpieSampler)
register_sampler("numpyro", NumpyroSampler)
register_sampler("blackjax", BlackjaxSampler)
