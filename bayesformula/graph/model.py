"""Design + PriorSet + Family -> one ``pm.Model`` with named coords and dims.

Names (the same as Bambi's, so code written against Bambi's posteriors keeps working):

* ``Intercept``, one variable per common term: a scalar for a numeric term with one column
  (``dose``, a 0/1 indicator too), a vector along ``{term}_dim`` for a categorical term, whose
  coordinates are its levels even when there is one (``a`` with ``a_dim`` = ``["lo"]``), and
  for a numeric term with several columns, whose coordinates are ``0, 1, ...`` (``bs(x, df=4)``),
* per group-specific term ``1|g``: ``1|g_sigma``, ``1|g_offset`` and the effects ``1|g``
  (dims ``g__factor_dim`` and, for categorical or multi-column expressions,
  ``{expr}__expr_dim``),
* per block of correlated terms ``(1 + x | g)``: the packed Cholesky factor
  ``1+x|g_cholesky`` (LKJ prior on the correlations, the terms' priors on the standard
  deviations), the correlations ``1+x|g_corr`` (one per pair of columns, dim
  ``1+x|g__corr_dim`` with coordinates like ``"Intercept,x"``) and ``1+x|g_offset``
  (non-centered) or ``1+x|g_joint`` (centered), dims ``(g__factor_dim, 1+x|g__dim)``; the
  terms' ``_sigma`` and effects are deterministics with their usual names,
* auxiliary parameters by name (``sigma``, ``alpha``, ...), the response by its name and the
  observations along ``__obs__``,
* ``mo()`` and ``hsgp()`` terms as described in `bayesformula.graph.terms`.

With an intercept and at least one predictor, the sampler works on ``Intercept_centered``, the
intercept at the predictors' means (better geometry; ``mo()`` and ``hsgp()`` terms count at their
mean contribution over the fitting rows); ``Intercept`` is recorded as a deterministic, so it is
the intercept of the model as written.

Every array that prediction swaps is a ``pm.Data`` container: ``__X`` (common columns),
``__idx_{factor}`` (level index of each observation), ``__Z_{term}`` (columns of non-intercept
group expressions), ``__offset``, ``__trials``, the observed ``__y`` and the arrays of ``mo()`` and
``hsgp()`` terms (`bayesformula.spec.names.special_data`).
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass, field

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from bayesformula.core.prior import Prior, sharing_parameters
from bayesformula.families.family import Family, ResponseData
from bayesformula.families.links import Link
from bayesformula.graph.likelihood import observed_variable
from bayesformula.graph.terms import special_parts
from bayesformula.graph.thresholds import vector_aux
from bayesformula.priors.auto import PriorSet
from bayesformula.spec.names import data_name, design_coords, special_data

__all__ = ["BuiltModel", "build_graph", "build_model", "graph_fingerprint"]

# float64 constants (Python 0.0 and 1.0 would become float32 PyTensor constants)
_F0, _F1 = np.float64(0.0), np.float64(1.0)


@dataclass(frozen=True)
class BuiltModel:
    """A built PyMC model plus the handles prediction needs.

    Attributes
    ----------
    model : pymc.Model
        The model; extend it in a ``with built.model:`` block if you like.
    parent : TensorVariable
        The family's parent parameter (``mu`` or ``p``) for every observation.
    coefficients : dict
        Posterior variable name -> graph node that the parent depends on (intercept, common
        terms, group-specific effects; for ordinal families also the thresholds). Prediction
        feeds posterior draws in their place.
    data : dict
        Data container name -> shared variable.
    response_name : str
        Name of the observed variable.
    aux_parents : dict
        Auxiliary parameter -> its value for every observation, for parameters modelled by a
        formula of their own (distributional regression).
    linpred : TensorVariable or None
        The main formula's linear predictor for every observation (the link's scale; one
        column per category for categorical families), None for a formula without terms.
    """

    model: pm.Model
    parent: object
    coefficients: dict[str, object] = field(repr=False)
    data: dict[str, object] = field(repr=False)
    response_name: str = ""
    aux_parents: dict[str, object] = field(default_factory=dict, repr=False)
    #: `graph_fingerprint` of the model as built
    fingerprint: tuple = field(default=(), repr=False)
    linpred: object = field(default=None, repr=False)

    def touched(self) -> bool:
        """Whether the model was changed after building: a variable, potential or
        deterministic added (``with model.build(): pm.Potential(...)``), or a data container
        given new values. Such a model is no longer the spec's, so only its graph is sampled."""
        return graph_fingerprint(self.model) != self.fingerprint


def graph_fingerprint(model: pm.Model) -> tuple:
    """What a change to a built model alters: its named variables, potentials, observed
    variables and the identity of each data container's value."""
    data = tuple(
        (name, id(var.get_value(borrow=True)))
        for name, var in model.named_vars.items()
        if hasattr(var, "get_value")
    )
    return (
        tuple(model.named_vars),
        tuple(p.name for p in model.potentials),
        tuple(v.name for v in model.observed_RVs),
        data,
    )


@functools.cache
def resolve_c_blas() -> str:
    """PyTensor's C BLAS flags, looked up once with its "could not link to a BLAS" notice
    ignored.

    PyTensor looks for a C BLAS the first time it compiles an op for its C backend (PyMC
    compiles its initial-point function that way) and warns when there is none, as with pip
    wheels. The model's log-density and gradient run on PyTensor 3's default numba backend,
    which does not use that library, so the notice says nothing about bayesformula's speed.
    A configured ``blas__ldflags`` is read as it is.
    """
    import pytensor

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")
        return str(pytensor.config.blas__ldflags)


def build_graph(spec) -> BuiltModel:
    """The PyMC model of a `bayesformula.spec.ModelSpec`."""
    resolve_c_blas()
    return build_model(
        spec.design,
        spec.family,
        spec.link,
        spec.priors,
        spec.response_data,
        noncentered={f: c.noncentered for f, c in spec.parameterization.items()},
        center_predictors=spec.center_predictors,
        helper=spec.response_helper,
        parts=spec.aux_parts,
    )


def _per_category(prior: Prior, width: int) -> Prior:
    """A prior of a term with ``width`` columns, for coefficients of shape (width, categories):
    values given per column get a trailing axis, so that they broadcast over the categories."""
    if width == 1:
        return prior
    args = {
        k: v if isinstance(v, Prior) or np.ndim(v) != 1 else np.asarray(v, dtype=float)[:, None]
        for k, v in prior.args.items()
    }
    return Prior(prior.name, **args)


def _dims(*names):
    dims = tuple(d for d in names if d is not None)
    return dims or None


def _common_part(
    design,
    priors: PriorSet,
    data,
    center: bool,
    param: str = "",
    extra_mean=None,
    categories: tuple[str, int] | None = None,
):
    """Intercept and common terms; returns (eta or None, coefficient nodes).

    ``param`` names the auxiliary parameter whose formula this is ("" for the main formula):
    its intercept is ``{param}_Intercept`` and its matrix the container ``__X_{param}``.
    ``extra_mean`` is the mean over the fitting rows of the ``mo()``/``hsgp()`` contributions;
    with ``center`` the sampled intercept is taken at it, as at the common columns' means.
    ``categories`` (dimension, size) gives every coefficient one value per category, and eta
    one column per category (categorical families).
    """
    cat_dim, n_cat = categories if categories is not None else (None, None)
    nodes: dict[str, object] = {}
    coefs = []
    for term in design.common_terms:
        if categories is None:
            rv = priors.common[term.name].create_variable(term.name, dims=term.dim)
            coefs.append(pt.atleast_1d(rv))
        else:
            width = term.slice.stop - term.slice.start
            prior = _per_category(priors.common[term.name], width)
            rv = prior.create_variable(term.name, dims=_dims(term.dim, cat_dim))
            coefs.append(rv.reshape((width, n_cat)))
        nodes[term.name] = rv
    beta = pt.concatenate(coefs) if len(coefs) > 1 else (coefs[0] if coefs else None)
    eta = pt.dot(data[data_name("X", param)], beta) if beta is not None else None
    if design.intercept:
        name = f"{param}_Intercept" if param else "Intercept"
        prior = priors.common[name]
        shift = None
        if center and beta is not None:
            means = design.X.mean(axis=0)
            if sharing_parameters():
                means = pm.Data(data_name("Xmean", param), means)
            shift = pt.dot(means, beta)
        if center and extra_mean is not None:
            shift = extra_mean if shift is None else shift + extra_mean
        if shift is not None:
            centered = prior.create_variable(f"{name}_centered", dims=cat_dim)
            intercept = pm.Deterministic(name, centered - shift, dims=cat_dim)
        else:
            intercept = prior.create_variable(name, dims=cat_dim)
        nodes[name] = intercept
        eta = intercept if eta is None else eta + intercept
    return eta, nodes


def _block_sd_dist(block, priors: PriorSet):
    """One distribution of the block's standard deviations (LKJCholeskyCov's ``sd_dist``)."""
    from bayesformula.errors import PriorError

    specs = [priors.group[name].args["sigma"] for name in block.terms]
    names = {spec.name if isinstance(spec, Prior) else None for spec in specs}
    if (
        None in names
        or len(names) != 1
        or any(isinstance(v, Prior) for spec in specs for v in spec.args.values())
    ):
        raise PriorError(
            f"the correlated effects {block.name} need one kind of prior (with numeric "
            "parameters) for the standard deviations of all their terms "
            f"({', '.join(block.terms)}); got {', '.join(repr(s) for s in specs)}. Give every "
            "term the same distribution (e.g. priors={'group_specific': ...}), or write "
            "'||' for independent effects."
        )
    keys = set().union(*(spec.args for spec in specs))
    kwargs = {}
    for key in keys:
        parts = []
        for spec, width in zip(specs, block.widths, strict=True):
            if key not in spec.args:
                raise PriorError(
                    f"the standard-deviation priors of {block.name} must set the same "
                    f"parameters; '{key}' is missing from {spec!r}."
                )
            parts.append(np.broadcast_to(np.asarray(spec.args[key], dtype=float), (width,)))
        kwargs[key] = np.concatenate(parts)
    return getattr(pm, specs[0].name).dist(**kwargs)


def _correlated_block(block, design, priors: PriorSet, noncentered: bool) -> dict[str, object]:
    """Joint effects of a block: ``b_j ~ Normal(0, diag(sigma) R diag(sigma))`` per level.

    The Cholesky factor of the covariance has an LKJ prior on its correlations and the
    terms' own priors on the standard deviations. Returns each term's effects.
    """
    eta = priors.corr[block.name].args.get("eta", 1.0)
    packed = pm.LKJCholeskyCov(
        f"{block.name}_cholesky",
        n=block.size,
        eta=np.float64(eta),
        sd_dist=_block_sd_dist(block, priors),
        compute_corr=False,
    )
    chol = pm.math.expand_packed_triangular(block.size, packed, lower=True)
    stds = pt.sqrt(pt.sum(chol**2, axis=1))
    rows, cols = (np.asarray(v, dtype=np.int64) for v in zip(*block.pairs, strict=True))
    corr = (chol[rows] * chol[cols]).sum(axis=1) / (stds[rows] * stds[cols])
    pm.Deterministic(f"{block.name}_corr", corr, dims=block.corr_dim)
    dims = (f"{block.factor}__factor_dim", block.dim)
    if noncentered:
        offset = pm.Normal(f"{block.name}_offset", mu=_F0, sigma=_F1, dims=dims)
        joint = pt.dot(offset, chol.T)
    else:
        joint = pm.MvNormal(f"{block.name}_joint", mu=pt.zeros(block.size), chol=chol, dims=dims)
    terms = {t.name: t for t in design.group_terms}
    effects = {}
    for name, cols in block.slices().items():
        term = terms[name]
        vector = term.expr_dim is not None
        sd = stds[cols] if vector else stds[cols.start]
        pm.Deterministic(f"{name}_sigma", sd, dims=term.expr_dim)
        values = joint[:, cols] if vector else joint[:, cols.start]
        effects[name] = pm.Deterministic(name, values, dims=term.dims)
    return effects


def _group_part(design, priors: PriorSet, data, noncentered, categories=None):
    """Group-specific effects per observation; ``categories`` (dimension, size) gives each
    term one independent set of effects, with its own standard deviation, per category."""
    cat_dim = categories[0] if categories is not None else None
    nodes: dict[str, object] = {}
    parts = []
    in_block = {name: block for block in design.group_blocks for name in block.terms}
    for term in design.group_terms:
        nc = noncentered if isinstance(noncentered, bool) else noncentered[term.factor]
        block = in_block.get(term.name)
        if block is not None:
            if term.name not in nodes:
                nodes.update(_correlated_block(block, design, priors, nc))
            effects = nodes[term.name]
        else:
            spec = priors.group[term.name]
            sigma_spec = spec.args["sigma"]
            width = len(term.columns) if term.expr_dim is not None else 1
            sigma_dims = _dims(term.expr_dim, cat_dim)
            dims = _dims(*term.dims, cat_dim)
            if isinstance(sigma_spec, Prior):
                if cat_dim is not None:
                    sigma_spec = _per_category(sigma_spec, width)
                sigma = sigma_spec.create_variable(f"{term.name}_sigma", dims=sigma_dims)
            else:
                sigma = np.asarray(sigma_spec, dtype=float)
                if cat_dim is not None and term.expr_dim is not None and sigma.ndim == 1:
                    sigma = sigma[:, None]
                sigma = pt.as_tensor_variable(sigma)
            if nc:
                offset = pm.Normal(f"{term.name}_offset", mu=_F0, sigma=_F1, dims=dims)
                effects = pm.Deterministic(term.name, offset * sigma, dims=dims)
            else:
                effects = pm.Normal(term.name, mu=0.0, sigma=sigma, dims=dims)
            nodes[term.name] = effects
        per_obs = effects[data[data_name("idx", term.factor)]]
        if term.kind != "intercept":
            Z = data[data_name("Z", term.name)]
            if cat_dim is None:
                per_obs = per_obs * Z[:, 0] if term.expr_dim is None else (per_obs * Z).sum(axis=1)
            elif term.expr_dim is None:
                per_obs = per_obs * Z[:, 0][:, None]
            else:
                per_obs = (per_obs * Z[:, :, None]).sum(axis=1)
        parts.append(per_obs)
    return parts, nodes


def build_model(
    design,
    family: Family,
    link: Link,
    priors: PriorSet,
    response: ResponseData,
    *,
    noncentered: bool | dict[str, bool] = True,
    center_predictors: bool = True,
    helper=None,
    parts=None,
) -> BuiltModel:
    """Build the PyMC model of a design.

    Parameters
    ----------
    design : Design
        From `bayesformula.formula.make_design`.
    family : Family
        The response family.
    link : Link
        The parent parameter's link.
    priors : PriorSet
        Priors for every parameter.
    response : ResponseData
        The checked response (from ``family.check_response``).
    noncentered : bool or dict, default True
        Non-centered group-specific effects (``offset * sigma``): for all grouping factors, or
        per factor as ``{factor: bool}``.
    center_predictors : bool, default True
        Sample the intercept at the predictors' means (when there is an intercept).
    helper : ResponseHelper, optional
        Censoring, truncation or weights of the response (`bayesformula.formula.helpers`);
        the observed variable is then a ``CustomDist`` with that log-likelihood.
    parts : dict, optional
        Auxiliary parameter -> `bayesformula.spec.distributional.AuxPart`: parameters
        modelled per observation by their own formula (non-centered group effects).

    Returns
    -------
    BuiltModel
    """
    coords = {**design_coords(design), **response.coords}
    for part in (parts or {}).values():
        coords.update(design_coords(part.design))
    with pm.Model(coords=coords) as model:
        data = {data_name("X"): pm.Data(data_name("X"), design.X)}
        for factor in design.factors:
            key = data_name("idx", factor)
            data[key] = pm.Data(key, design.group_index[factor])
        for term in design.group_terms:
            if term.kind != "intercept":
                key = data_name("Z", term.name)
                data[key] = pm.Data(key, term.Z)
        for key, values in special_data(design).items():
            data[key] = pm.Data(key, values)
        if design.offset is not None:
            data[data_name("offset")] = pm.Data(data_name("offset"), design.offset)
        if response.trials is not None:
            data[data_name("trials")] = pm.Data(data_name("trials"), response.trials)
        data[data_name("y")] = pm.Data(data_name("y"), response.values)

        categories = None
        if family.per_category:
            categories = (response.category_dim, len(response.coords[response.category_dim]))
        eta, coefficients = _linear_predictor(
            design, priors, data, noncentered, center_predictors, "", categories
        )
        aux_parents = {}
        for param, part in (parts or {}).items():
            _part_data(part.design, data, param)
            aux_eta, nodes = _linear_predictor(
                part.design, priors, data, True, center_predictors, param
            )
            coefficients.update(nodes)
            aux_parents[param] = part.link.linkinv_pt(aux_eta)

        params: dict[str, object] = {}
        for aux in family.aux:
            if aux.name in aux_parents:
                params[aux.name] = aux_parents[aux.name]
                continue
            spec = priors.aux[aux.name]
            if aux.dim is not None:  # ordinal thresholds
                size = len(response.coords[aux.dim])
                params[aux.name] = vector_aux(
                    aux, spec, design, coefficients, size, center_predictors
                )
            else:
                params[aux.name] = (
                    spec.create_variable(aux.name)
                    if isinstance(spec, Prior)
                    else pt.as_tensor_variable(np.float64(spec))
                )
        if family.parent_fn is None:
            parent = link.linkinv_pt(eta)
        else:  # ordinal: category probabilities from eta and thresholds, which predictions
            # then take from the posterior like coefficients
            parent = family.parent_fn(eta, params, link)
            coefficients.update(
                {
                    k: v
                    for k, v in params.items()
                    if k not in aux_parents and isinstance(priors.aux.get(k), Prior)
                }
            )
        params[family.parent] = parent
        if response.trials is not None:
            params["trials"] = data[data_name("trials")]
        observed_variable(
            design.response.name, family, params, data[data_name("y")], response, helper
        )
    return BuiltModel(
        model=model,
        parent=parent,
        coefficients=coefficients,
        data=data,
        response_name=design.response.name,
        aux_parents=aux_parents,
        fingerprint=graph_fingerprint(model),
        linpred=eta,
    )


def _part_data(design, data: dict, param: str) -> None:
    """Data containers of an auxiliary parameter's formula (``__X_sigma``, ...)."""
    data[data_name("X", param)] = pm.Data(data_name("X", param), design.X)
    for factor in design.factors:
        key = data_name("idx", factor)
        if key not in data:  # the same rows: a factor of both formulas shares its index
            data[key] = pm.Data(key, design.group_index[factor])
    for term in design.group_terms:
        if term.kind != "intercept":
            key = data_name("Z", term.name)
            data[key] = pm.Data(key, term.Z)
    if design.offset is not None:
        data[data_name("offset", param)] = pm.Data(data_name("offset", param), design.offset)


def _linear_predictor(
    design, priors: PriorSet, data, noncentered, center: bool, param: str, categories=None
):
    """The linear predictor of one formula (main: ``param=""``) and its coefficient nodes.

    ``mo()`` and ``hsgp()`` terms (main formula only) add their contributions; with ``center``
    the intercept is sampled at their mean over the fitting rows too. With ``categories``
    (dimension, size) eta has one column per category (categorical families).
    """
    special, special_mean, special_nodes = special_parts(design, priors, data)
    eta, coefficients = _common_part(
        design, priors, data, center, param, extra_mean=special_mean, categories=categories
    )
    parts, group_nodes = _group_part(design, priors, data, noncentered, categories)
    coefficients.update(group_nodes)
    coefficients.update(special_nodes)
    terms = ([] if eta is None else [eta]) + parts + special
    if design.offset is not None:
        terms.append(data[data_name("offset", param)])
    if not (design.common_terms or parts or special or design.offset is not None):
        # intercept-only (or empty) predictor: give it the observations' length
        n = data[data_name("X", param)].shape[0]
        terms.append(pt.zeros((n,) if categories is None else (n, categories[1])))
    eta = terms[0]
    for part in terms[1:]:
        eta = eta + part
    return eta, coefficients
