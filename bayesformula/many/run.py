"""`fit_many`: one formula fitted to many datasets, in this process, on a thread or process
pool, or on a Dask cluster.

The work is split so that only data and settings travel: each task is one dataset's frame
with the model's and the fit's keywords, and a worker builds the model itself (a `Model` holds
no compiled object worth sending). The fast path's models run in its compiled row loop,
which a worker loads once and keeps for the datasets after the first.

Every dataset gets its own seed from ``numpy.random.SeedSequence(random_seed).spawn(n)``, in
the order of the datasets, so the same ``random_seed`` gives the same draws whatever runs the
fits and however many workers there are.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bayesformula import compiled
from bayesformula.core import progress
from bayesformula.core.frames import to_pandas
from bayesformula.core.prior import shared_parameters
from bayesformula.core.tree import set_group
from bayesformula.diagnostics import check
from bayesformula.errors import ArgumentError, ArgumentTypeError, BayesformulaError
from bayesformula.log import logger
from bayesformula.many.levels import drop_padding, level_counts, padded
from bayesformula.many.result import ManyFits
from bayesformula.model import Model
from bayesformula.results.tables import summary
from bayesformula.samplers import native, reuse

__all__ = ["fit_many"]

#: `bayesformula.Model`'s keywords that `fit_many` passes on (the rest go to `Model.fit`).
MODEL_KEYWORDS = (
    "family",
    "priors",
    "link",
    "categorical",
    "dropna",
    "auto_scale",
    "noncentered",
    "center_predictors",
    "extra_namespace",
)

#: What `fit_many` keeps of each fit.
KEEP = ("summary", "draws")

#: How `fit_many` handles a dataset whose fit fails.
ERRORS = ("raise", "collect")


@dataclass(frozen=True)
class Task:
    """One dataset's fit, as it travels to a worker."""

    name: Any
    frame: pd.DataFrame
    formula: Any
    model_kwargs: dict
    fit_kwargs: dict
    seed: int
    prob: float
    keep: str
    #: grouping factor -> the number of levels to pad to (models off the fast path)
    levels: dict | None = None


@dataclass
class Outcome:
    """What a worker sends back for one dataset: its summary and diagnostics, or the error."""

    name: Any
    summary: pd.DataFrame | None = None
    diagnostics: dict = field(default_factory=dict)
    posterior: Any = None
    error: str | None = None
    seconds: float = 0.0


class _Capture(logging.Filter):
    """Keeps the warnings the package logs in one thread (a model's separation warning, say)
    for that dataset's diagnostics, instead of showing them once per dataset."""

    def __init__(self):
        super().__init__()
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        if record.thread != self.thread:
            return True
        if record.levelno >= logging.WARNING:
            self.messages.append(record.getMessage().splitlines()[0])
        return False


def fit_one(task: Task) -> Outcome:
    """Fit one dataset (in a worker): build the model, sample quietly, summarise."""
    capture = _Capture()
    logger.addFilter(capture)
    try:
        outcome = _fit(task)
    finally:
        logger.removeFilter(capture)
    if outcome.error is None:
        outcome.diagnostics["warnings"] = " | ".join(capture.messages)
    return outcome


def _fit(task: Task) -> Outcome:
    start = time.perf_counter()
    try:
        # off the fast path, one nutpie compile per structure and worker: the priors' scales
        # and the predictors' means are data containers, swapped with the data; on it, a
        # density with a compiled form runs in nutpie without Python (one compile per worker)
        with shared_parameters(), reuse.reusing(), native.native_fits():
            model = Model(task.formula, task.frame, **task.model_kwargs)
            # every dataset in the compiled row loop, loaded once per worker: whatever the
            # size, so that a dataset's draws do not depend on the worker that fits it
            compiled.use_row_loop(model.spec)
            if task.levels and _on_graph(model, task.fit_kwargs):
                model = Model.from_spec(padded(model.spec, task.levels))
            idata = model.fit(
                random_seed=task.seed,
                progressbar=False,
                diagnostics=False,
                verbose=False,
                **{**_engine(model, task.fit_kwargs), **task.fit_kwargs},
            )
        if task.levels:  # the padded levels' effects are draws from their prior
            set_group(idata, "posterior", drop_padding(idata["posterior"].to_dataset()))
        table = pd.DataFrame(summary(idata, prob=task.prob))
        report = check(idata, model=model.spec)
    except Exception as err:  # collected, or raised again by the caller, with the dataset
        return Outcome(
            task.name,
            error=f"{type(err).__name__}: {err}",
            seconds=time.perf_counter() - start,
        )
    findings = {f.check: f for f in report.findings}
    divergent = findings.get("divergences")
    diagnostics = {
        "ok": report.ok,
        "divergences": int(divergent.value) if divergent is not None else 0,
        "problems": "; ".join(f.check for f in report.problems),
        "engine": idata["posterior"].attrs.get("inference_method", ""),
    }
    posterior = idata["posterior"].to_dataset() if task.keep == "draws" else None
    return Outcome(task.name, table, diagnostics, posterior, seconds=time.perf_counter() - start)


def _on_graph(model: Model, fit_kwargs: dict) -> bool:
    """Whether the model is fitted from its PyMC graph (compiled, so worth sharing)."""
    return fit_kwargs.get("fast_path", True) is False or compiled.fast_path(model.spec) is None


def _levels(formula, frames, model_kwargs: dict, fit_kwargs: dict) -> dict | None:
    """The number of levels to pad each grouping factor to, for a model fitted from its graph
    (`bayesformula.many.levels`); None for the fast path's models, which compile nothing."""
    if "|" not in str(formula):  # no group terms
        return None
    # the first dataset's warnings (a separation, rows dropped) are its fit's to report
    capture = _Capture()
    logger.addFilter(capture)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            first = Model(formula, frames[0], **model_kwargs)
    except Exception:  # the dataset's own fit reports it
        return None
    finally:
        logger.removeFilter(capture)
    if not first.design.group_terms or not _on_graph(first, fit_kwargs):
        return None
    return level_counts(first.design.factors, frames) or None


def _engine(model: Model, fit_kwargs: dict) -> dict:
    """nutpie for a model off the fast path when no engine is named: its compile, shared by
    the datasets, costs less than PyMC's per dataset."""
    if "inference_method" in fit_kwargs or not _on_graph(model, fit_kwargs):
        return {}
    return {"inference_method": "nutpie"} if importlib.util.find_spec("nutpie") else {}


def fit_many(
    formula,
    data=None,
    *,
    by: str | list[str] | None = None,
    datasets: Mapping | list | None = None,
    executor: Any = None,
    errors: str = "raise",
    keep: str = "summary",
    random_seed: int | None = None,
    prob: float = 0.94,
    progressbar: bool = True,
    **kwargs: Any,
) -> ManyFits:
    """Fit one model to many datasets: one per group of ``data`` (``by=``) or each of
    ``datasets``.

    Parameters
    ----------
    formula : str or Formula
        As for `bayesformula.Model`.
    data : data frame, optional
        Split into datasets by the ``by`` column(s) (any frame `Model` takes).
    by : str or list of str, optional
        The column(s) of ``data`` whose values name the datasets.
    datasets : dict or list of data frames, optional
        The datasets themselves (a list's are named 0, 1, ...). Give ``data`` and ``by``, or
        ``datasets``.
    executor : optional
        Where the fits run: None (this process, one after another), a
        ``concurrent.futures`` executor (``ProcessPoolExecutor``, ``ThreadPoolExecutor``) or a
        ``dask.distributed.Client`` (a ``LocalCluster`` or a remote cluster).
    errors : {"raise", "collect"}
        A dataset whose fit fails stops the run with an error naming it (``"raise"``), or is
        recorded in the result's ``errors`` while the others go on (``"collect"``).
    keep : {"summary", "draws"}
        Keep each fit's summary and diagnostics only, or also its posterior draws
        (``result.posterior``, with a leading ``dataset`` dimension).
    random_seed : int, optional
        Seeds every dataset's fit through ``SeedSequence(random_seed).spawn(n)``: the same
        seed gives the same draws whatever the executor.
    prob : float
        Probability of the summary's intervals.
    progressbar : bool
        One progress bar counting datasets.
    **kwargs
        `bayesformula.Model`'s keywords (``family``, ``priors``, ``link``, ...) and
        `bayesformula.Model.fit`'s (``draws``, ``tune``, ``chains``, ``inference_method``,
        ...).

    Returns
    -------
    ManyFits
        ``summary`` (one row per dataset and parameter), ``diagnostics`` (one row per
        dataset), ``errors`` (dataset -> message) and, with ``keep="draws"``, ``posterior``.

    Examples
    --------
    >>> import bayesformula as bf
    >>> result = bf.fit_many("y ~ x", data, by="market", family="bernoulli")  # doctest: +SKIP
    >>> result.summary.query("parameter == 'x'")  # doctest: +SKIP
    """
    where = "fit_many()"
    if errors not in ERRORS:
        raise ArgumentError(f"{where}: errors must be one of {list(ERRORS)}, got {errors!r}.")
    if keep not in KEEP:
        raise ArgumentError(f"{where}: keep must be one of {list(KEEP)}, got {keep!r}.")
    for name in ("diagnostics", "verbose"):
        if name in kwargs:
            raise ArgumentTypeError(f"{where}: {name}= is set by fit_many itself.")
    names, frames, by_columns = _datasets(data, by, datasets, where)
    model_kwargs = {k: kwargs.pop(k) for k in MODEL_KEYWORDS if k in kwargs}
    seeds = np.random.SeedSequence(random_seed).spawn(len(frames))
    levels = _levels(formula, frames, model_kwargs, kwargs)
    tasks = [
        Task(
            name,
            frame,
            formula,
            model_kwargs,
            kwargs,
            int(seed.generate_state(1, dtype=np.uint32)[0]),
            prob,
            keep,
            levels,
        )
        for name, frame, seed in zip(names, frames, seeds, strict=True)
    ]
    start = time.perf_counter()
    outcomes = _run(tasks, executor, errors, progressbar)
    return ManyFits.from_outcomes(
        [outcomes[i] for i in range(len(tasks))],
        by_columns,
        seconds=time.perf_counter() - start,
        executor=_describe(executor),
    )


def _datasets(data, by, datasets, where: str):
    """The datasets' names and frames (pandas), and the columns naming them."""
    if (datasets is None) == (data is None):
        raise ArgumentError(
            f"{where}: give data= with by= (one dataset per group), or datasets= (a dict or "
            "list of data frames), not both."
        )
    if datasets is not None:
        if isinstance(datasets, Mapping):
            items = list(datasets.items())
        elif isinstance(datasets, (list, tuple)):
            items = list(enumerate(datasets))
        else:
            raise ArgumentTypeError(
                f"{where}: datasets must be a dict or a list of data frames, got "
                f"{type(datasets).__name__}."
            )
        if not items:
            raise ArgumentError(f"{where}: datasets is empty.")
        frames = [to_pandas(f, f"datasets[{n!r}]", where)[0] for n, f in items]
        return [n for n, _ in items], frames, ["dataset"]
    if by is None:
        raise ArgumentError(f"{where}: data= needs by= (the column(s) naming the datasets).")
    frame = to_pandas(data, "data", where)[0]
    columns = [by] if isinstance(by, str) else list(by)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ArgumentError(f"{where}: by= column(s) {missing} are not in data.")
    if frame[columns].isna().any().any():
        raise ArgumentError(f"{where}: the by= column(s) {columns} have missing values.")
    groups = frame.groupby(columns if len(columns) > 1 else columns[0], sort=True)
    names = [name for name, _ in groups]
    frames = [group.drop(columns=columns) for _, group in groups]
    return names, frames, columns


def _run(tasks: list[Task], executor, errors: str, progressbar: bool) -> dict[int, Outcome]:
    """Every task's outcome by position, with one progress bar counting datasets."""
    out: dict[int, Outcome] = {}
    with progress.bar(len(tasks), progressbar) as bar:
        counter = bar.add_task("datasets", total=len(tasks)) if bar is not None else None
        for i, outcome in _outcomes(tasks, executor):
            if outcome.error is not None and errors == "raise":
                raise BayesformulaError(
                    f"fit_many(): the fit of dataset {outcome.name!r} failed: {outcome.error} "
                    "(errors='collect' records the failures and fits the other datasets)."
                )
            out[i] = outcome
            if bar is not None:
                bar.advance(counter)
    return out


def _outcomes(tasks: list[Task], executor):
    """``(position, outcome)`` of each task as it finishes; the fits not yet run are
    cancelled when the caller stops early (an error with ``errors="raise"``, Ctrl-C)."""
    if executor is None:
        for i, task in enumerate(tasks):
            yield i, fit_one(task)
        return
    if _is_dask(executor):
        from distributed import as_completed

        futures = executor.map(fit_one, tasks, pure=False)
        position = {future.key: i for i, future in enumerate(futures)}
        try:
            for future in as_completed(futures):
                yield position[future.key], future.result()
        finally:
            executor.cancel([f for f in futures if not f.done()])
        return
    if not callable(getattr(executor, "submit", None)):
        raise ArgumentTypeError(
            "fit_many(): executor must be None, a concurrent.futures executor or a "
            f"dask.distributed Client, got {type(executor).__name__}."
        )
    from concurrent.futures import as_completed

    position = {executor.submit(fit_one, task): i for i, task in enumerate(tasks)}
    try:
        for future in as_completed(position):
            yield position[future], future.result()
    finally:
        for future in position:
            future.cancel()


def _is_dask(executor) -> bool:
    return type(executor).__module__.startswith("distributed")


def _describe(executor) -> str:
    if executor is None:
        return "this process"
    if _is_dask(executor):
        workers = len(executor.scheduler_info().get("workers", {}))
        return f"Dask ({workers} worker{'s' if workers != 1 else ''})"
    return type(executor).__name__
