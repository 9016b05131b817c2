"""Slopes: the derivative of the prediction in a numeric predictor, unit by unit or averaged
(marginaleffects' ``slopes`` / ``avg_slopes``), from the model's own graph differentiated."""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayesformula.errors import PredictionError, did_you_mean
from bayesformula.interpret.engine import TARGETS, request
from bayesformula.interpret.result import Interpretation
from bayesformula.plots.grid import model_variables
from bayesformula.results.predict import param_draws

__all__ = ["SLOPES", "slopes"]


#: slope name -> its value from the derivative d, the variable x and the prediction y
SLOPES: dict[str, Callable] = {
    "dydx": lambda d, x, y: d,
    "eyex": lambda d, x, y: d * x / y,
    "eydx": lambda d, x, y: d / y,
    "dyex": lambda d, x, y: d * x,
}


@dataclass
class _SlopeRows:
    """The target and its derivative in one numeric variable on one data frame: the model's
    graph differentiated along the data's change with the variable
    (`bayesformula.graph.predict.compile_slope_predictor`)."""

    model: object
    prepared: object
    target: str
    tangents: dict
    x: np.ndarray
    kind: str

    def values(self, rows: slice, seed: int, chunk: int) -> np.ndarray:
        from bayesformula import compiled

        spec = self.model.spec
        s, n_rows = self.prepared.n_draws, len(self.prepared.index[rows])
        if self.target in (*TARGETS, *spec.aux_parts):
            function = compiled.slope_predictor(spec, self.target)
            args = list(self.prepared.coef_args)
            args += [self.prepared.rows[name][rows] for name in function.data_names]
            args += [self.tangents[name][rows] for name in function.tangent_names]
            value, derivative = (np.asarray(v, dtype=float) for v in function.function(*args))
        else:  # an auxiliary parameter without a formula: the same for every row
            value = np.asarray(param_draws(spec, self.prepared, rows)[self.target], dtype=float)
            derivative = np.zeros(1)
        shape = (s, n_rows, *value.shape[2:])
        value = np.broadcast_to(value.reshape(-1, 1) if value.ndim < 2 else value, shape)
        derivative = np.broadcast_to(
            derivative.reshape(-1, 1) if derivative.ndim < 2 else derivative, shape
        )
        x = self.x[rows].reshape((1, -1) + (1,) * (len(shape) - 2))
        with np.errstate(divide="ignore", invalid="ignore"):
            out = SLOPES[self.kind](derivative, x, value)
        return out if out.ndim == 3 else out[:, :, None]


def _slope_rows(call, name, kind, eps) -> _SlopeRows:
    """The request's rows with the tangent of every floating-point data input along
    ``name``: central differences of the design over ``x +- eps`` (exact for the columns
    linear in x, such as ``x`` and ``x:z``, up to rounding; second order in ``eps`` for
    transformations such as ``np.log(x)``)."""
    frame = call.frame
    x = frame[name].to_numpy(dtype=float)
    at = call.side(frame).prepared
    plus = call.side(frame.assign(**{name: x + eps})).prepared
    minus = call.side(frame.assign(**{name: x - eps})).prepared
    tangents = {
        key: (np.asarray(plus.rows[key], float) - np.asarray(minus.rows[key], float)) / (2 * eps)
        for key, value in at.rows.items()
        if np.issubdtype(np.asarray(value).dtype, np.floating)
    }
    return _SlopeRows(call.model, at, call.target, tangents, x, kind)


def slopes(
    model,
    idata,
    variables=None,
    data: pd.DataFrame | None = None,
    *,
    slope: str = "dydx",
    by=None,
    average: bool = False,
    wts=None,
    target: str = "mean",
    prob: float = 0.94,
    eps: float | None = None,
    include_group_specific: bool = True,
    sample_new_groups: bool = False,
    random_seed=None,
    chunk_size: int | None = None,
    progressbar: bool | None = None,
    return_type: str | None = None,
) -> Interpretation:
    """The derivative of the prediction in a numeric predictor, per row of ``data`` or
    averaged (marginaleffects' ``slopes`` / ``avg_slopes``).

    The derivative is the model's own graph differentiated (a Jacobian-vector product of the
    prediction graph, so the link and every term are exact) along the change of the design
    with the predictor; that change is a central difference of the formula's design over
    ``x +- eps``, exact up to rounding for the columns linear in x (``x``, ``x:z``, ``(x|g)``)
    and second order in ``eps`` for transformations (``np.log(x)``, splines).

    Parameters
    ----------
    variables : str or list of str, optional
        Numeric predictors (default: every numeric predictor of the formula).
    slope : str
        ``"dydx"`` (dy/dx), ``"eyex"`` (dy/dx x / y, an elasticity), ``"eydx"`` (dy/dx / y) or
        ``"dyex"`` (dy/dx x).
    target : str
        ``"mean"`` (default), ``"linpred"`` or an auxiliary parameter; response draws have no
        derivative.
    eps : float, optional
        The step of the design's central difference (default: 1e-4 times the predictor's
        range in the fitting data).
    data, by, average, wts, prob, include_group_specific, sample_new_groups, random_seed,
    chunk_size, progressbar, return_type
        As for `predictions`.

    Returns
    -------
    Interpretation
        ``term``, ``slope`` (its kind), the ``by`` columns (or the formula's variables with
        ``data``'s index), ``level`` for ordinal and categorical families, ``estimate`` and
        the interval; ``.draws``.
    """
    where = "slopes()"
    if slope not in SLOPES:
        raise PredictionError(did_you_mean(str(slope), list(SLOPES), f"{where} slope"))
    call = request(
        model,
        idata,
        data,
        where=where,
        target=target,
        by=by,
        average=average,
        wts=wts,
        prob=prob,
        include_group_specific=include_group_specific,
        sample_new_groups=sample_new_groups,
        random_seed=random_seed,
        chunk_size=chunk_size,
        progressbar=progressbar,
        return_type=return_type,
    )
    if call.target == "response":
        raise PredictionError(
            f"{where}: responses are random draws, without a derivative; use target='mean' "
            "(or 'linpred', or a parameter), or comparisons(..., target='response')."
        )
    known = model_variables(model)
    numeric = [v for v in known.predictors if v not in known.categorical]
    variables = numeric if variables is None else variables
    variables = [variables] if isinstance(variables, str) else list(variables)
    for name in variables:
        if name not in numeric:
            if name in known.predictors:
                raise PredictionError(
                    f"{where}: '{name}' is categorical, without a derivative; use "
                    f"comparisons(model, idata, '{name}') for the change between its levels."
                )
            raise PredictionError(did_you_mean(str(name), numeric, f"{where} variable"))
    tables = []
    for name in variables:
        step = _step(known.data[name], eps, where)
        draws = call.evaluate([_slope_rows(call, name, slope, step)], lambda v: v)
        tables.append(call.table(draws, {"term": name, "slope": slope}))
    return call.result(call.concat(tables))


def _step(series: pd.Series, eps, where: str) -> float:
    if eps is not None:
        if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not eps > 0:
            raise PredictionError(f"{where}: eps must be a positive number, got {eps!r}.")
        return float(eps)
    values = series.to_numpy(dtype=float)
    span = float(np.nanmax(values) - np.nanmin(values))
    return 1e-4 * (span if span > 0 else 1.0)
