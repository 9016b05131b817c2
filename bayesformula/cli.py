"""The ``bayesformula`` command: fit a formula to a CSV, predict from a saved fit, list datasets.

Exit codes (stable, for scripts):

====  =====================================================================
0     success
1     an unexpected internal error (a bug: please report it)
2     bad command line (unknown option, missing argument, a value out of range such as
      ``--draws -5``, an unknown inference method)
3     bad input: formula, data, family, priors or prediction data rejected
4     a file could not be read or written
5     ``fit --strict`` only: the fit finished but diagnostics found problems
====  =====================================================================

Every argument, the data and the output paths are checked before any fitting starts, so a
mistake is reported in seconds, not after a long fit.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_INPUT, EXIT_FILE, EXIT_DIAGNOSTICS = range(6)


class _FileProblem(Exception):
    """A file could not be read or written (exit code 4)."""


class _UsageProblem(Exception):
    """A command-line combination argparse cannot express (exit code 2)."""


def _integer(minimum: int):
    """An argparse type: an integer of at least ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    parse.__name__ = "integer"
    return parse


def _probability(text: str) -> float:
    """An argparse type: a number strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be strictly between 0 and 1, got {text}")
    return value


def _check_writable(path: str | None, option: str) -> None:
    """An output path must be writable before any work starts (exit code 4 otherwise)."""
    if not path:
        return
    target = Path(path)
    if target.is_dir():
        raise _FileProblem(f"{option} {path} is a folder; give a file name.")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.exists():
        raise _FileProblem(f"cannot write {option} {path}: folder {folder} does not exist.")
    if target.exists() and not os.access(target, os.W_OK):
        raise _FileProblem(f"cannot write {option} {path}: permission denied.")
    try:  # the one honest test: create (and remove) a file there
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise _FileProblem(f"cannot write {option} {path}: {err.strerror or err}.") from None


def _read_table(path: str):
    import pandas as pd

    p = Path(path)
    if not p.exists():
        raise _FileProblem(f"data file not found: {path}")
    try:
        if p.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(p)
        if p.suffix.lower() in (".tsv", ".tab"):
            return pd.read_csv(p, sep="\t")
        return pd.read_csv(p)
    except Exception as err:  # pandas raises many kinds for unreadable files
        raise _FileProblem(f"could not read {path} as a table: {err}") from None


def _data_for_fit(args):
    import bayesformula as bf

    if (args.data is None) == (args.dataset is None):
        raise _UsageProblem("give exactly one of --data FILE or --dataset NAME.")
    if args.dataset is not None:
        return bf.load_data(args.dataset)
    return _read_table(args.data)


def _cmd_fit(args) -> int:
    import bayesformula as bf
    from bayesformula.samplers import get_sampler

    _check_writable(args.out, "--out")
    _check_writable(args.summary_csv, "--summary-csv")
    get_sampler(args.inference_method)  # an unknown method is a usage error, before the data
    data = _data_for_fit(args)
    model = bf.Model(
        args.formula,
        data,
        family=args.family,
        link=args.link,
        dropna=args.dropna,
        categorical=args.categorical or None,
    )
    print(model)
    print()
    idata = model.fit(
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        cores=args.cores,
        random_seed=args.seed,
        target_accept=args.target_accept,
        inference_method=args.inference_method,
        progressbar=not args.no_progress,
        log_likelihood=args.log_likelihood,
        diagnostics=False,
    )
    print(_sampling_line(idata))
    report = model.check(idata)
    print(report)
    print()
    table = bf.summary(idata, prob=args.prob)
    with _pandas_display():
        print(table.round(args.digits).to_string())
    if args.summary_csv:
        _write(lambda p: table.to_csv(p), args.summary_csv)
    if args.out:
        _write(lambda p: bf.save(model, idata, p), args.out)
        print(f"\nSaved model and draws to {args.out}")
    if args.strict and not report.ok:
        return EXIT_DIAGNOSTICS
    return EXIT_OK


def _sampling_line(idata) -> str:
    """What was run, read from the fit: the engine, chains, draws and warm-up steps."""
    posterior = idata.posterior
    engine = posterior.attrs.get("inference_method", "unknown engine")
    chains, draws = posterior.sizes.get("chain", 0), posterior.sizes.get("draw", 0)
    if "approximation" in posterior.attrs:
        return f"Inference: {engine} (approximate), {draws:,} draws.\n"
    tune = posterior.attrs.get("tuning_steps")
    warmup = f" after {int(tune):,} warm-up steps" if tune is not None else ""
    return f"Sampling: {engine}, {chains} chains x {draws:,} draws{warmup}.\n"


def _pandas_display():
    import pandas as pd

    return pd.option_context("display.width", 200, "display.max_columns", 20)


def _write(writer, path: str) -> None:
    target = Path(path)
    if not target.parent.exists():
        raise _FileProblem(f"cannot write {path}: folder {target.parent} does not exist.")
    try:
        writer(target)
    except OSError as err:
        raise _FileProblem(f"could not write {path}: {err}") from None


def _cmd_predict(args) -> int:
    import bayesformula as bf

    if not Path(args.fit).exists():
        raise _FileProblem(f"fit file not found: {args.fit}")
    _check_writable(args.out, "--out")
    model, idata = bf.load(args.fit)
    data = _read_table(args.data)
    table = model.predictions(
        idata,
        data=data,
        kind=args.kind,
        prob=args.prob,
        include_group_specific=not args.no_group_specific,
        sample_new_groups=args.sample_new_groups,
        random_seed=args.seed,
        progressbar=None if not args.no_progress else False,
    )
    clash = {c: f"{c}_pred" for c in table.columns if c in data.columns}
    out = data.join(table.rename(columns=clash))
    if args.out:
        _write(lambda p: out.to_csv(p, index=False), args.out)
        print(f"Wrote {len(out)} predictions to {args.out}", file=sys.stderr)
    else:
        out.to_csv(sys.stdout, index=False)
    return EXIT_OK


def _cmd_datasets(args) -> int:
    import bayesformula as bf

    if args.name is None:
        names = bf.list_datasets()
        width = max(map(len, names))
        for name, description in names.items():
            print(f"{name:<{width}}  {description}")
        return EXIT_OK
    _check_writable(args.out, "--out")
    frame = bf.load_data(args.name)
    if args.out:
        _write(lambda p: frame.to_csv(p, index=False), args.out)
        print(f"Wrote {args.name} ({len(frame)} rows) to {args.out}", file=sys.stderr)
    else:
        frame.to_csv(sys.stdout, index=False)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    from bayesformula.samplers.defaults import (
        DEFAULT_CHAINS,
        DEFAULT_DRAWS,
        DEFAULT_TUNE,
        FAST_PATH_TUNE,
    )
    from bayesformula.version import __version__

    parser = argparse.ArgumentParser(
        prog="bayesformula",
        description="Bayesian regression from R-style formulas.",
        epilog="Exit codes: 0 ok, 1 internal error, 2 usage, 3 bad input, 4 file problem, "
        "5 diagnostics problems (fit --strict).",
    )
    parser.add_argument("--version", action="version", version=f"bayesformula {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    fit = sub.add_parser(
        "fit",
        help="fit a formula to a data file and save the model with its draws",
        description="Fit FORMULA to a table; print priors, progress, diagnostics and the summary.",
    )
    fit.add_argument("formula", help='e.g. "p(deaths, n) ~ dose"')
    fit.add_argument("--data", help="CSV (or .tsv/.parquet) file with the data")
    fit.add_argument("--dataset", help="a bundled dataset instead of --data (see `datasets`)")
    fit.add_argument("--family", default="gaussian", help="response family (default gaussian)")
    fit.add_argument("--link", default=None, help="link of the parent parameter")
    fit.add_argument("--categorical", nargs="*", help="numeric columns to treat as categorical")
    fit.add_argument("--dropna", action="store_true", help="drop rows with missing values")
    fit.add_argument(
        "--draws",
        type=_integer(1),
        default=DEFAULT_DRAWS,
        help=f"draws kept per chain (default {DEFAULT_DRAWS})",
    )
    fit.add_argument(
        "--tune",
        type=_integer(0),
        default=None,
        help=f"warm-up steps per chain (default {FAST_PATH_TUNE} when nutpie samples the fast "
        f"path's log-density, else {DEFAULT_TUNE})",
    )
    fit.add_argument(
        "--chains",
        type=_integer(1),
        default=DEFAULT_CHAINS,
        help=f"chains (default {DEFAULT_CHAINS}, whatever the engine and the machine)",
    )
    fit.add_argument("--cores", type=_integer(1), default=None, help="default: the engine's")
    fit.add_argument(
        "--seed", type=_integer(0), default=None, help="random seed (same seed, same draws)"
    )
    fit.add_argument("--target-accept", type=_probability, default=None)
    fit.add_argument(
        "--inference-method",
        default="auto",
        help="a registered sampler (default auto: the fast path with nutpie where the model "
        "allows it, else an engine picked for the PyMC graph)",
    )
    fit.add_argument("--prob", type=_probability, default=0.94, help="HDI probability")
    fit.add_argument(
        "--digits", type=_integer(0), default=3, help="decimals in the printed summary"
    )
    fit.add_argument("--log-likelihood", action="store_true", help="store it for LOO/compare")
    fit.add_argument("--out", help="write model and draws to this .nc file")
    fit.add_argument("--summary-csv", help="also write the summary table to this CSV file")
    fit.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    fit.add_argument(
        "--strict", action="store_true", help="exit with code 5 if diagnostics find problems"
    )
    fit.set_defaults(handler=_cmd_fit)

    predict = sub.add_parser(
        "predict",
        help="predict from a saved fit on new data",
        description="Write the input rows with prediction columns (mean, sd, HDI; for "
        "--kind response also the predictive interval).",
    )
    predict.add_argument("fit", help="a file written by `bayesformula fit --out`")
    predict.add_argument("--data", required=True, help="CSV file with the new data")
    predict.add_argument("--out", help="CSV file to write (default: standard output)")
    predict.add_argument(
        "--kind", default="response_params", choices=["response_params", "response"]
    )
    predict.add_argument("--prob", type=_probability, default=0.94)
    predict.add_argument("--seed", type=_integer(0), default=None)
    predict.add_argument("--sample-new-groups", action="store_true")
    predict.add_argument("--no-group-specific", action="store_true")
    predict.add_argument("--no-progress", action="store_true")
    predict.set_defaults(handler=_cmd_predict)

    datasets = sub.add_parser(
        "datasets",
        help="list the bundled datasets, or write one as CSV",
        description="Without NAME, list the datasets; with NAME, write it as CSV.",
    )
    datasets.add_argument("name", nargs="?", help="dataset to write")
    datasets.add_argument("--out", help="CSV file to write (default: standard output)")
    datasets.set_defaults(handler=_cmd_datasets)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (see the module docstring)."""
    import warnings

    parser = build_parser()
    args = parser.parse_args(argv)
    # a performance note from PyTensor's C backend, not about the user's model
    warnings.filterwarnings("ignore", message=".*could not link to a BLAS.*")
    from bayesformula.errors import (
        ArgumentError,
        ArgumentTypeError,
        BayesformulaError,
        FileFormatError,
        SamplerError,
    )

    try:
        return args.handler(args)
    except (_UsageProblem, ArgumentError, ArgumentTypeError, SamplerError) as err:
        parser.print_usage(sys.stderr)
        message = err.args[0] if err.args else str(err)
        print(f"bayesformula: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except (_FileProblem, FileFormatError, FileNotFoundError, PermissionError) as err:
        print(f"bayesformula: error: {err}", file=sys.stderr)
        return EXIT_FILE
    except BayesformulaError as err:
        message = err.args[0] if err.args else str(err)
        print(f"bayesformula: error: {message}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("bayesformula: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # a bug: say so, with the type, and keep the code distinct
        print(
            f"bayesformula: internal error: {type(err).__name__}: {err}\n"
            "This is a bug; please report it with the command you ran.",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
