"""nutpie's NUTS, on the fast path's log-density or a compiled PyMC graph (numba or JAX).

Optional engines are imported only when used; a missing one is a `SamplerError` with the line
that installs it (`require`). NumPyro and BlackJAX are in `bayesformula.samplers.jax_nuts`.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import tempfile
import time
import weakref
from typing import Any

import numpy as np

from bayesformula.core.progress import spinner
from bayesformula.core.tree import groups, has_group, make_tree, set_group
from bayesformula.density.model import DensityModel
from bayesformula.errors import ArgumentTypeError, SamplerError
from bayesformula.log import logger
from bayesformula.samplers import costs, native, reuse
from bayesformula.samplers.base import register_sampler
from bayesformula.samplers.defaults import DEFAULT_DRAWS, default_chains, default_tune
from bayesformula.samplers.interrupt import Progress, drawn_per_chain, mark, settle
from bayesformula.samplers.layout import standardize
from bayesformula.samplers.threads import chain_cores

__all__ = ["NUTPIE_SETTINGS", "NutpieSampler", "require"]

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


#: nutpie 0.16's sampler settings (``nutpie.sample(**settings)``) besides draws, warm-up,
#: chains and seed, which are `fit`'s own; some apply to one adaptation or sampler only.
NUTPIE_SETTINGS = frozenset(
    {
        "target_accept",
        "maxdepth",
        "mindepth",
        "max_energy_error",
        "check_turning",
        "extra_doublings",
        "target_integration_time",
        "initial_step",
        "max_step_size",
        "mass_matrix_switch_freq",
        "mass_matrix_eigval_cutoff",
        "mass_matrix_gamma",
        "store_divergences",
        "store_gradient",
        "store_mass_matrix",
        "store_transformed",
        "step_size",
        "momentum_decoherence_length",
        "subsample_frequency",
        "dynamic_step_size",
        "use_grad_based_mass_matrix",
        "transform_adapt",
    }
)


class NutpieSampler:
    """nutpie's NUTS (Rust) on a `DensityModel` (called directly, nothing compiled) or on a
    ``pm.Model`` compiled by numba (``backend="jax"`` for JAX).

    The compiled model is cached per ``pm.Model``: a second fit of the same model object does
    not compile again. Within `bayesformula.samplers.reuse.reusing`, models of the same
    structure share one compile.
    """

    name = "nutpie"
    accepts_density = True
    #: ``nutpie.sample``'s own keywords and settings (`NUTPIE_SETTINGS`); ``backend`` and
    #: ``trace_on_disk`` (see `sample`); ``low_rank_modified_mass_matrix`` (older nutpie's
    #: name for ``adaptation``); PyMC's ``max_treedepth`` for ``maxdepth``; and ``nuts={...}``,
    #: Bambi's dict of NUTS settings, whose entries are taken as these keywords.
    keywords = frozenset(
        {
            "sampler",
            "adaptation",
            "init_mean",
            "store_unconstrained",
            "progress_callback",
            "progress_rate",
            "progress_template",
            "progress_style",
            *NUTPIE_SETTINGS,
            "backend",
            "trace_on_disk",
            "low_rank_modified_mass_matrix",
            "max_treedepth",
            "nuts",
        }
    )
    _compiled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def compile(self, model: Any, backend: str = "numba", progressbar: bool = False):
        return self._compile_timed(model, backend, progressbar)[0]

    def holds_compile(self, model: Any, backend: str = "numba") -> bool:
        """Whether ``model`` would be sampled without a compile: its own compile is kept, or
        one of a model of the same structure while compiles are shared (`reuse`)."""
        return backend in self._compiled.get(model, {}) or (
            reuse.enabled() and reuse.holds(model, backend)
        )

    def _compile_timed(self, model: Any, backend: str, progressbar: bool):
        """The compiled model, and the seconds its compile took (None: none was made)."""
        require("nutpie", method=self.name)
        import nutpie

        cache = self._compiled.setdefault(model, {})
        took = []
        if backend not in cache:

            def compile_():
                start = time.perf_counter()
                with spinner(f"compiling the model's graph for nutpie ({backend})", progressbar):
                    result = nutpie.compile_pymc_model(model, backend=backend)
                took.append(time.perf_counter() - start)
                return result

            shared = reuse.enabled()
            cache[backend] = reuse.compiled(model, backend, compile_) if shared else compile_()
        return cache[backend], (took[0] if took else None)

    def sample(
        self,
        model: Any,
        *,
        draws: int = DEFAULT_DRAWS,
        tune: int | None = None,
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

        kwargs = _nutpie_settings(kwargs, target_accept)
        density = isinstance(model, DensityModel)
        tune = default_tune(model) if tune is None else tune
        n_chains = default_chains(chains)
        trace_dir = None
        if density:
            if trace_on_disk is None:
                trace_on_disk = _nutpie_trace_bytes(model.ndim, tune + draws, n_chains) >= (
                    DISK_TRACE_MIN_BYTES
                )
            recorders = None
            compiled = None
            if native.enabled() and not trace_on_disk:
                compiled = native.compiled_model(model)
            if compiled is None:
                skip = tune if discard_tuned_samples else 0
                capacity = tune + draws + 1 - skip
                compiled, recorders = _from_density(model, capacity=capacity, skip=skip)
            if trace_on_disk:
                trace_dir = tempfile.TemporaryDirectory(prefix="bayesformula-nutpie-")
                kwargs["zarr_store"] = nutpie.zarr_store.LocalStore(trace_dir.name)
                kwargs["return_raw_trace"] = True
            # a diagonal plus low-rank mass matrix follows the correlations (intercept vs.
            # dummies, crossed group effects) a diagonal one misses; above LOW_RANK_MAX_DIM
            # parameters its adaptation costs more than it saves (see LOW_RANK_MAX_DIM)
            low_rank = model.ndim <= LOW_RANK_MAX_DIM
            kwargs.setdefault("adaptation", "low_rank" if low_rank else "diag")
            if recorders is None:  # compiled whole: nutpie's threads call it without the lock
                threads_note = "compiled density (nutpie calls it without Python)"
            else:
                cores, threads_note = chain_cores(
                    model.logp_grad, _probe_point(model), n_chains, cores, model.releases_lock
                )
            logger.debug("nutpie on the fast path: %s.", threads_note)
        else:
            compiled, compile_s = self._compile_timed(model, backend, progressbar)
            compiled, renamed = _comma_free_dims(compiled)
        if "low_rank_modified_mass_matrix" in kwargs:  # nutpie < 0.16.9's name for it
            low_rank = kwargs.pop("low_rank_modified_mass_matrix")
            kwargs["adaptation"] = "low_rank" if low_rank else "diag"
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
            idata.sample_stats.attrs["chain_threads"] = threads_note
            _density_groups(idata, model, recorders)
            observed = model.observed_dataset() if model.observed else None
        else:
            observed = _pymc_observed(model)
        if observed is not None:
            set_group(idata, "observed_data", observed)
        if not density and backend == "numba" and kept is None:
            costs.observe(self.name, model, idata, compile_s=compile_s, tune=tune)
        idata = standardize(
            idata, model, engine=self.name, discard_tuned_samples=discard_tuned_samples
        )
        if density:
            idata.posterior.attrs["log_density"] = model.description
        if kept is not None:
            mark(idata, progress, *kept, engine=self.name)
        return idata


def _nutpie_settings(kwargs: dict, target_accept: float | None) -> dict:
    """nutpie's keywords from `fit`'s: ``nuts={...}`` entries merged in, PyMC's
    ``max_treedepth`` as ``maxdepth``, ``target_accept`` added when given."""
    kwargs = dict(kwargs)
    nuts = kwargs.pop("nuts", None) or {}
    if not isinstance(nuts, dict):
        raise ArgumentTypeError(
            f"fit(): nuts must be a dict of NUTS settings, such as nuts={{'max_treedepth': 12}}; "
            f"got {nuts!r}."
        )
    for key, value in nuts.items():
        if key not in NUTPIE_SETTINGS | {"max_treedepth"}:
            raise ArgumentTypeError(
                f"fit(): nuts={{'{key}': ...}} is not a NUTS setting nutpie knows; it takes "
                f"{', '.join(repr(k) for k in sorted(NUTPIE_SETTINGS | {'max_treedepth'}))}."
            )
        if key in kwargs:
            raise ArgumentTypeError(
                f"fit(): '{key}' is given both as a keyword and in nuts={{...}}; give it once."
            )
        kwargs[key] = value
    if "max_treedepth" in kwargs:
        if "maxdepth" in kwargs:
            raise ArgumentTypeError(
                "fit(): give one of max_treedepth= (PyMC's name) and maxdepth= (nutpie's)."
            )
        kwargs["maxdepth"] = kwargs.pop("max_treedepth")
    if target_accept is not None:
        if "target_accept" in kwargs:
            raise ArgumentTypeError(
                "fit(): target_accept is given both as fit's argument and in nuts={...}; give "
                "it once."
            )
        kwargs["target_accept"] = target_accept
    return kwargs


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


def _probe_point(model: DensityModel) -> np.ndarray:
    """A point at which to time the density: its (seeded) start, or the origin."""
    if model.initial_point is None:
        return np.zeros(model.ndim)
    return model.initial_point(np.random.default_rng(0))


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
        if recorders is None:  # the compiled density's draws: the vectors themselves
            codes = idata[group][native.NATIVE_NAME]
            vectors = codes.values

            def vector(c, d, vectors=vectors):
                return vectors[c, d]

        else:
            codes = idata[group]["__draw__"]
            values = codes.values.astype(np.int64)

            def vector(c, d, values=values):
                number, row = divmod(int(values[c, d]), _RECORDER_STRIDE)
                return recorders[number].rows[row]

        n_chains, n_draws = codes.shape[:2]
        out = {name: np.empty((n_chains, n_draws, *model.shapes[name])) for name in names}
        for c in range(n_chains):
            for d in range(n_draws):
                expanded = model.expand(vector(c, d))
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
    for recorder in recorders or ():
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


register_sampler("nutpie", NutpieSampler)
