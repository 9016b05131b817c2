"""Predictions from posterior (or prior) draws, in-sample or on new data.

Predictions reuse the model's own graph: the parent parameter's tensor is taken from the built
PyMC model, its ``pm.Data`` containers are swapped for inputs (new data), its coefficient nodes
for inputs (posterior draws), and the graph is vectorised over draws. There is no second,
hand-written copy of the linear predictor that could drift from the model
(`bayesformula.graph.predict`). Every function takes the `bayesformula.spec.ModelSpec`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from bayesformula import compiled
from bayesformula.core.frames import to_pandas
from bayesformula.core.prior import Prior
from bayesformula.core.tree import dataset as group_dataset
from bayesformula.core.tree import groups, has_group, is_tree, set_group
from bayesformula.core.validate import check_bool, check_choice, check_seed
from bayesformula.errors import DataTypeError, PredictionError
from bayesformula.formula.design import NewData, evaluate_new_data
from bayesformula.formula.new_data import stored_levels_note
from bayesformula.spec.names import data_name, special_data

__all__ = [
    "LINPRED",
    "Prepared",
    "level_dims_of",
    "param_draws",
    "parent_draws",
    "predict",
    "prepare",
    "response_draws",
]


def _stack(dataset: xr.Dataset, name: str) -> np.ndarray:
    da = dataset[name]
    other = [d for d in da.dims if d not in ("chain", "draw")]
    return da.transpose("chain", "draw", *other).values.reshape((-1,) + da.shape[2:])


def _training_data(spec, design=None) -> NewData:
    design = spec.design if design is None else design
    return NewData(
        X=design.X,
        group_index=dict(design.group_index),
        new_levels={f: () for f in design.factors},
        Z={t.name: t.Z for t in design.group_terms},
        offset=design.offset,
        trials=spec.response_data.trials,
        index=design.index,
        special={t.name: t.arrays for t in design.special_terms},
    )


def _group_effects(
    spec,
    draws: xr.Dataset,
    new: NewData,
    include: bool,
    sample_new: bool,
    rng,
    design=None,
    data: pd.DataFrame | None = None,
):
    """Posterior draws of each group term's effects, extended for new levels when asked.

    ``data`` (the new data) only serves the messages about unseen levels: how the fitted
    levels were stored, when the new data holds them as another type.
    """
    design = spec.design if design is None else design
    effects: dict[str, np.ndarray] = {}
    index = dict(new.group_index)
    for factor in design.factors:
        idx = index[factor]
        n_levels = len(design.group_levels[factor])
        unseen = (idx < 0) | (idx >= n_levels)
        if unseen.any() and include:
            _unseen_levels(design, factor, new, idx, data, sample_new)
        if (idx < 0).any():  # missing factor value: one shared unknown group
            idx = np.where(idx < 0, idx.max(initial=n_levels - 1) + 1, idx)
            index[factor] = np.maximum(idx, 0)
    in_block = {name: block for block in design.group_blocks for name in block.terms}
    block_extra: dict[str, np.ndarray] = {}
    for term in design.group_terms:
        values = _stack(draws, term.name)
        n_levels = values.shape[1]
        needed = int(index[term.factor].max(initial=-1)) + 1 if len(index[term.factor]) else 0
        if not include:
            shape = (values.shape[0], max(needed, n_levels)) + values.shape[2:]
            values = np.zeros(shape)
        elif needed > n_levels and term.name in in_block:
            block = in_block[term.name]
            if block.name not in block_extra:
                block_extra[block.name] = _new_block_effects(draws, block, needed - n_levels, rng)
            cols = block.slices()[term.name]
            extra = block_extra[block.name][:, :, cols]
            extra = extra if values.ndim == 3 else extra[:, :, 0]
            values = np.concatenate([values, extra], axis=1)
        elif needed > n_levels:
            sigma_spec = spec.priors.group[term.name].args["sigma"]
            if isinstance(sigma_spec, Prior):
                sigma = _stack(draws, f"{term.name}_sigma")
            else:
                sigma = np.broadcast_to(
                    np.asarray(sigma_spec, float), values.shape[:1] + values.shape[2:]
                )
            extra_shape = (values.shape[0], needed - n_levels) + values.shape[2:]
            extra = rng.normal(size=extra_shape) * sigma[:, None, ...]
            values = np.concatenate([values, extra], axis=1)
        effects[term.name] = values
    return effects, index


def _unseen_levels(design, factor: str, new: NewData, idx, data, sample_new: bool) -> None:
    """Refuse unseen levels of ``factor`` unless ``sample_new``; with it, warn when the new
    data holds the factor as another type than the fitted levels (numbers for text or the
    reverse), where an unseen level more likely misnames a fitted group than names a new
    one."""
    labels = list(new.new_levels.get(factor, ()))
    if (idx < 0).any():
        labels.append("<missing>")
    note, differs = stored_levels_note(design, factor, data)
    stored = f" ({note})" if note else ""
    if not sample_new:
        raise PredictionError(
            f"new data has levels of '{factor}' not seen in fitting: {labels[:10]}{stored}. "
            "Pass sample_new_groups=True to draw their effects from the fitted population "
            "distribution, or include_group_specific=False to predict without group effects."
        )
    if differs:
        warnings.warn(
            f"new data has levels of '{factor}' not seen in fitting: {labels[:10]}, and holds "
            f"them as another type than the fitted ones ({note}). Their effects were drawn "
            "from the population distribution; if they name fitted groups, convert the column "
            "as shown and predict again.",
            stacklevel=4,
        )


def _new_block_effects(draws: xr.Dataset, block, n_new: int, rng) -> np.ndarray:
    """Effects ``(S, n_new, block.size)`` of unseen levels of correlated terms, drawn per draw
    from ``Normal(0, diag(sigma) R diag(sigma))``."""
    sds = np.concatenate(
        [
            _stack(draws, f"{name}_sigma").reshape(-1, width)
            for name, width in zip(block.terms, block.widths, strict=True)
        ],
        axis=1,
    )
    pairs = _stack(draws, f"{block.name}_corr")
    corr = np.broadcast_to(np.eye(block.size), (sds.shape[0], block.size, block.size)).copy()
    for k, (i, j) in enumerate(block.pairs):
        corr[:, i, j] = corr[:, j, i] = pairs[:, k]
    cov = sds[:, :, None] * corr * sds[:, None, :]
    # jitter keeps the factorisation defined for draws with a correlation of exactly +-1
    chol = np.linalg.cholesky(cov + 1e-12 * np.eye(block.size))
    z = rng.normal(size=(sds.shape[0], n_new, block.size))
    return np.einsum("snk,sjk->snj", z, chol)


@dataclass
class Prepared:
    """Everything a prediction needs, row-aligned so that it can be evaluated in row chunks.

    ``coef_args`` are the coefficient draws ``(S, ...)`` in the predictor's order, ``rows`` the
    data arrays (first axis = rows of the new data), ``aux`` the auxiliary parameters per draw
    ``(S, 1)`` or fixed numbers, ``truncation`` the ``(lower, upper)`` bounds per row of a
    truncated response (None otherwise).
    """

    coef_args: list
    rows: dict
    aux: dict
    trials: np.ndarray | None
    index: pd.Index
    chain: np.ndarray
    draw: np.ndarray
    truncation: tuple | None = None

    @property
    def n_rows(self) -> int:
        return len(self.index)

    @property
    def n_draws(self) -> int:
        return len(self.chain) * len(self.draw)


def _check_args(
    idata, kind: str, group: str, where: str = "predict()", kinds=("response_params", "response")
) -> str:
    if kind in ("mean", "pps"):
        kind = {"mean": "response_params", "pps": "response"}[kind]
    kind = check_choice(kind, "kind", kinds, where)
    check_choice(group, "group", ("posterior", "prior"), where)
    if not is_tree(idata):
        raise DataTypeError(
            f"{where}: idata must be the fit from model.fit() (or model.prior_predictive() with "
            f"group='prior'), an xarray.DataTree; got {type(idata).__name__}."
        )
    if not has_group(idata, group):
        have = groups(idata) if is_tree(idata) else type(idata).__name__
        raise PredictionError(
            f"idata has no '{group}' group (it has {have}); pass the result of fit() "
            "(posterior) or prior_predictive() with group='prior'."
        )
    return kind


def _check_same_model(spec, draws: xr.Dataset, group: str) -> None:
    """The draws must be those of this model: every parameter there, with its levels."""
    built = compiled.built_graph(spec)
    predictor = compiled.predictor(spec)
    fixed = {
        p.name
        for p in spec.family.aux
        if p.name in spec.priors.aux and not isinstance(spec.priors.aux[p.name], Prior)
    }
    wanted = list(predictor.coef_names)
    wanted += [t.name for d in spec.designs for t in d.group_terms]
    wanted += [p.name for p in spec.family.aux if p.name not in predictor.aux_names]
    wanted = [n for n in dict.fromkeys(wanted) if n not in fixed and n in built.model.named_vars]
    missing = [n for n in wanted if n not in draws.data_vars]
    hint = (
        "Pass the fit of this model (a fit of another formula, family or data has other "
        "parameters)."
    )
    if missing:
        have = [str(v) for v in draws.data_vars if "__obs__" not in draws[v].dims]
        raise PredictionError(
            f"idata['{group}'] has no draws of {', '.join(map(repr, missing))}, which this "
            f"model ('{spec.formula}', family '{spec.family.name}') needs; it has "
            f"{', '.join(map(repr, have)) or 'no parameters'}. {hint}"
        )
    built = compiled.built_graph(spec)
    for name in wanted:
        dims = built.model.named_vars_to_dims.get(name, ())
        for dim in dims:
            expected = built.model.coords.get(dim)
            got = draws[name].sizes.get(dim)
            if expected is not None and got != len(expected):
                raise PredictionError(
                    f"idata['{group}']['{name}'] has {got} values along '{dim}' where this "
                    f"model has {len(expected)}. {hint}"
                )


def prepare(
    spec,
    idata,
    *,
    kind: str,
    data=None,
    include_group_specific: bool = True,
    sample_new_groups: bool = False,
    rng=None,
    group: str = "posterior",
) -> Prepared:
    """Encode new data and gather the draws a prediction needs (no model evaluation yet)."""
    if data is not None:
        data = to_pandas(data, "data", "predict()")[0]
    draws = group_dataset(idata, group)
    _check_same_model(spec, draws, group)
    rng = np.random.default_rng() if rng is None else rng
    new = (
        _training_data(spec)
        if data is None
        else evaluate_new_data(spec.design, data, need_trials=(kind == "response"))
    )
    effects, index = _group_effects(
        spec, draws, new, include_group_specific, sample_new_groups, rng, data=data
    )
    values = {data_name("X"): new.X, data_name("offset"): new.offset}
    for term_name, z in new.Z.items():
        values[data_name("Z", term_name)] = z
    for param, part in spec.aux_parts.items():
        part_new = (
            _training_data(spec, part.design)
            if data is None
            else evaluate_new_data(part.design, data)
        )
        part_effects, part_index = _group_effects(
            spec,
            draws,
            part_new,
            include_group_specific,
            sample_new_groups,
            rng,
            part.design,
            data=data,
        )
        effects.update(part_effects)
        index = {**part_index, **index}
        values[data_name("X", param)] = part_new.X
        values[data_name("offset", param)] = part_new.offset
        for term_name, z in part_new.Z.items():
            values[data_name("Z", term_name)] = z
    built = compiled.built_graph(spec)
    predictor = compiled.predictor(spec)
    coef_args = [
        effects[name] if name in effects else _stack(draws, name) for name in predictor.coef_names
    ]
    for factor, idx in index.items():
        values[data_name("idx", factor)] = idx
    values.update(special_data(spec.design, new.special))
    rows = {
        name: np.asarray(values[name], dtype=built.data[name].dtype)
        for name in predictor.data_names
    }
    aux = {}
    for param in spec.family.aux:
        if param.name in predictor.aux_names:
            continue  # modelled per observation: see param_draws
        prior = spec.priors.aux[param.name]
        aux[param.name] = (
            _stack(draws, param.name)[:, None] if isinstance(prior, Prior) else float(prior)
        )
    return Prepared(
        coef_args=coef_args,
        rows=rows,
        aux=aux,
        trials=None if new.trials is None else np.asarray(new.trials),
        index=pd.Index(new.index),
        chain=draws["chain"].values,
        draw=draws["draw"].values,
        truncation=(
            None
            if getattr(spec, "response_helper", None) is None
            else spec.response_helper.truncation_for(
                None if data is None else data.loc[new.index], len(new.index)
            )
        ),
    )


#: `param_draws`' key of the linear predictor
LINPRED = "linpred"


def param_draws(spec, prepared: Prepared, rows: slice | None = None, linpred: bool = False) -> dict:
    """The family's parameters for every draw and the selected rows.

    The parent parameter is ``(S, n_rows)`` (``(S, n_rows, K)`` for ordinal and categorical
    families: one probability per response level); auxiliary parameters are ``(S, 1)`` per
    draw, numbers when fixed, or ``(S, n_rows)`` when modelled by a formula of their own.
    With ``linpred`` also the main formula's linear predictor under `LINPRED`, ``(S, n_rows)``
    (one column per category more for categorical families).
    """
    rows = slice(None) if rows is None else rows
    predictor = compiled.predictor(spec)
    args = list(prepared.coef_args)
    args += [prepared.rows[name][rows] for name in predictor.data_names]
    out = predictor.function(*args)  # [parent, *auxiliary parameters, linear predictor]
    params = {spec.family.parent: np.asarray(out[0])}
    params.update(prepared.aux)
    for name, value in zip(predictor.aux_names, out[1 : 1 + len(predictor.aux_names)], strict=True):
        params[name] = np.asarray(value)
    if linpred:
        n = len(prepared.index[rows])
        value = np.asarray(out[-1]) if predictor.has_linpred else np.zeros(1)
        if value.ndim < 2:  # a formula without per-row terms: one value per draw
            value = np.broadcast_to(value.reshape(-1, 1), (prepared.n_draws, n))
        params[LINPRED] = value
    return params


def parent_draws(spec, prepared: Prepared, rows: slice | None = None) -> np.ndarray:
    """The parent parameter for every draw and the selected rows, shape ``(S, n_rows)``
    (``(S, n_rows, K)`` for ordinal and categorical families: one probability per response
    level)."""
    return param_draws(spec, prepared, rows)[spec.family.parent]


def response_draws(
    spec, prepared: Prepared, parent: np.ndarray, rng, rows=None, params: dict | None = None
) -> np.ndarray:
    """Responses drawn from the likelihood given parent draws ``(S, n)`` of the same rows.

    ``params`` are the rows' parameters from `param_draws` (computed here when not given and
    the spec has auxiliary parameters modelled per observation).
    """
    rows = slice(None) if rows is None else rows
    family = spec.family
    if params is None:
        needs_rows = bool(getattr(spec, "aux_parts", None))
        params = param_draws(spec, prepared, rows) if needs_rows else dict(prepared.aux)
    params = {**params, family.parent: parent}
    if prepared.trials is not None:
        params["trials"] = prepared.trials[rows][None, :]
    kwargs = family.to_dist(params)
    y = np.asarray(family.draw(rng, **kwargs))
    bounds = prepared.truncation
    if bounds is not None:
        y = _truncate(family, kwargs, y, bounds[0][rows], bounds[1][rows], rng)
    return y


def _truncated_normal(mu, sigma, lower, upper, rng) -> np.ndarray:
    """Exact draws of a normal truncated to [lower, upper], deep in a tail too (scipy's
    ``truncnorm``, which works with the tail's own function there)."""
    from scipy.stats import truncnorm

    a, b = (lower - mu) / sigma, (upper - mu) / sigma
    return mu + sigma * truncnorm.rvs(a, b, random_state=rng)


def _exact_tail(family, kwargs: dict, lower, upper, rng) -> np.ndarray | None:
    """Draws of the truncated family from its inverse CDF, for the gaussian and lognormal
    (None for the others)."""
    if family.name == "gaussian":
        return _truncated_normal(kwargs["mu"], kwargs["sigma"], lower, upper, rng)
    if family.name == "lognormal":
        with np.errstate(divide="ignore"):
            log_lo, log_hi = np.log(np.maximum(lower, 0.0)), np.log(upper)
        return np.exp(_truncated_normal(kwargs["mu"], kwargs["sigma"], log_lo, log_hi, rng))
    return None


def _truncate(family, kwargs: dict, y: np.ndarray, lower, upper, rng, rounds: int = 10_000):
    """Redraw responses outside [lower, upper] until they fall inside (a truncated spec's
    responses). Only the draws still outside are redrawn each round; any left after
    ``rounds`` (an acceptance rate below about 1e-4) are drawn from the truncated
    distribution's inverse CDF (gaussian, lognormal), or else set to the nearest bound, with a
    warning."""
    lower = np.broadcast_to(lower, y.shape)
    upper = np.broadcast_to(upper, y.shape)
    y = np.array(y, dtype=float)
    outside = np.flatnonzero((y < lower) | (y > upper))
    full = {
        k: np.broadcast_to(np.asarray(v, dtype=float), y.shape).ravel() for k, v in kwargs.items()
    }
    flat, lo, hi = y.reshape(-1), lower.reshape(-1), upper.reshape(-1)
    for _ in range(rounds):
        if outside.size == 0:
            return y
        fresh = np.asarray(family.draw(rng, **{k: v[outside] for k, v in full.items()}))
        flat[outside] = fresh
        outside = outside[(fresh < lo[outside]) | (fresh > hi[outside])]
    exact = _exact_tail(
        family, {k: v[outside] for k, v in full.items()}, lo[outside], hi[outside], rng
    )
    if exact is not None:
        flat[outside] = exact
        return y
    warnings.warn(
        f"{outside.size} predicted response(s) stayed outside the truncation bounds after "
        f"{rounds} redraws and were set to the nearest bound.",
        stacklevel=3,
    )
    flat[outside] = np.clip(flat[outside], lo[outside], hi[outside])
    return y


def level_dims_of(spec) -> tuple[tuple[str, ...], dict]:
    """Dims and coords of the parent beyond the observations: the response levels of ordinal
    and categorical families (whose parent is one probability per level), nothing
    otherwise."""
    data = spec.response_data
    if not spec.family.parent_over_levels:
        return (), {}
    return (data.level_dim,), {data.level_dim: list(data.levels)}


def _check_free(dataset: xr.Dataset, name: str) -> None:
    """``name`` must not be a parameter of the model (a predictor so named)."""
    if name in dataset.data_vars and "__obs__" not in dataset[name].dims:
        raise PredictionError(
            f"the linear predictor is stored as '{name}', which is a parameter of this model "
            f"(a predictor named '{name}'); rename that column to predict kind='linpred'."
        )


def predict(
    spec,
    idata,
    *,
    kind: str = "response_params",
    data=None,
    inplace: bool = True,
    include_group_specific: bool = True,
    sample_new_groups: bool = False,
    random_seed=None,
    group: str = "posterior",
):
    """Compute the parent parameter (and optionally responses) for every draw.

    See `bayesformula.Model.predict` for the parameters.
    """
    kind = _check_args(idata, kind, group, kinds=("response_params", "response", "linpred"))
    inplace = check_bool(inplace, "inplace", "predict()")
    check_bool(include_group_specific, "include_group_specific", "predict()")
    check_bool(sample_new_groups, "sample_new_groups", "predict()")
    rng = np.random.default_rng(check_seed(random_seed, where="predict()"))
    prepared = prepare(
        spec,
        idata,
        kind=kind,
        data=data,
        include_group_specific=include_group_specific,
        sample_new_groups=sample_new_groups,
        rng=rng,
        group=group,
    )
    params = param_draws(spec, prepared, linpred=kind == "linpred")
    parent = params[spec.family.parent]
    n_chain, n_draw = len(prepared.chain), len(prepared.draw)
    coords = {"chain": prepared.chain, "draw": prepared.draw, "__obs__": list(prepared.index)}
    dims = ("chain", "draw", "__obs__")
    family = spec.family
    level_dims, level_coords = level_dims_of(spec)
    per_obs = list(compiled.predictor(spec).aux_names)
    target = idata if inplace else idata.copy(deep=True)
    current = group_dataset(target, group)
    earlier = [LINPRED] if LINPRED in current and "__obs__" in current[LINPRED].dims else []
    updated = current.drop_vars([family.parent, *per_obs, *earlier, "__obs__"], errors="ignore")
    updated[family.parent] = xr.DataArray(
        parent.reshape(n_chain, n_draw, *parent.shape[1:]),
        coords={**coords, **level_coords},
        dims=dims + level_dims,
    )
    for name in per_obs:
        updated[name] = xr.DataArray(
            params[name].reshape(n_chain, n_draw, -1), coords=coords, dims=dims
        )
    if kind == "linpred":
        _check_free(updated, LINPRED)
        eta = params[LINPRED]
        updated[LINPRED] = xr.DataArray(
            eta.reshape(n_chain, n_draw, *eta.shape[1:]),
            coords=coords,
            dims=dims + tuple(f"{LINPRED}_dim_{i}" for i in range(eta.ndim - 2)),
        )
    set_group(target, group, updated)

    if kind == "response":
        y = response_draws(spec, prepared, parent, rng, params=params)
        y_dims, y_coords = dims, coords
        if spec.response_data.values.ndim == 2:  # counts per category
            y_dims, y_coords = dims + level_dims, {**coords, **level_coords}
        y = y.reshape(n_chain, n_draw, *y.shape[1:])
        name = spec.response_name
        out_group = "posterior_predictive" if group == "posterior" else "prior_predictive"
        # in_sample (1 or 0, which netCDF stores) tells the fitting rows' draws from predictions
        # on new data, whatever their number or index.
        drawn = xr.Dataset(
            {name: xr.DataArray(y, coords=y_coords, dims=y_dims)},
            attrs={"in_sample": int(data is None)},
        )
        set_group(target, out_group, drawn)
    return None if inplace else target
