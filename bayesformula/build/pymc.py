"""Design + PriorSet + Family -> one ``pm.Model`` with named coords and dims.

Names (the same as Bambi's, so code written against Bambi's posteriors keeps working):

* ``Intercept``, one variable per common term (``dose``, ``C(g)`` with dim ``C(g)_dim``),
* per group-specific term ``1|g``: ``1|g_sigma``, ``1|g_offset`` and the effects ``1|g``
  (dims ``g__factor_dim`` and, for multi-column expressions, ``{expr}__expr_dim``),
* auxiliary parameters by name (``sigma``, ``alpha``, ...), the response by its name and the
  observations along ``__obs__``,
* ``mo()`` and ``hsgp()`` terms as described in `bayesformula.build.terms`.

With an intercept and at least one predictor, the sampler works on ``Intercept_centered``, the
intercept at the predictors' means (better geometry; ``mo()`` and ``hsgp()`` terms count at their
mean contribution over the fitting rows); ``Intercept`` is recorded as a deterministic, so it is
the intercept of the model as written.

Every array that prediction swaps is a ``pm.Data`` container: ``__X`` (common columns),
``__idx_{factor}`` (level index of each observation), ``__Z_{term}`` (columns of non-intercept
group expressions), ``__offset``, ``__trials``, the observed ``__y`` and the arrays of ``mo()`` and
``hsgp()`` terms (`bayesformula.build.names.special_data`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from bayesformula.build.names import data_name, design_coords, special_data
from bayesformula.build.terms import special_parts
from bayesformula.families.family import Family, ResponseData
from bayesformula.families.links import Link
from bayesformula.priors.auto import PriorSet
from bayesformula.priors.prior import Prior

__all__ = ["BuiltModel", "build_model", "data_name", "design_coords"]

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
        terms, group-specific effects). Prediction feeds posterior draws in their place.
    data : dict
        Data container name -> shared variable.
    response_name : str
        Name of the observed variable.
    """

    model: pm.Model
    parent: object
    coefficients: dict[str, object] = field(repr=False)
    data: dict[str, object] = field(repr=False)
    response_name: str = ""


def _common_part(design, priors: PriorSet, data, center: bool, extra_mean=None):
    """Intercept and common terms; returns (eta or None, coefficient nodes).

    ``extra_mean`` is the mean over the fitting rows of the ``mo()``/``hsgp()`` contributions;
    with ``center`` the sampled intercept is taken at it, as at the common columns' means.
    """
    nodes: dict[str, object] = {}
    coefs = []
    for term in design.common_terms:
        rv = priors.common[term.name].create_variable(term.name, dims=term.dim)
        nodes[term.name] = rv
        coefs.append(pt.atleast_1d(rv))
    beta = pt.concatenate(coefs) if len(coefs) > 1 else (coefs[0] if coefs else None)
    eta = pt.dot(data[data_name("X")], beta) if beta is not None else None
    if design.intercept:
        prior = priors.common["Intercept"]
        shift = None
        if center and beta is not None:
            shift = pt.dot(design.X.mean(axis=0), beta)
        if center and extra_mean is not None:
            shift = extra_mean if shift is None else shift + extra_mean
        if shift is not None:
            centered = prior.create_variable("Intercept_centered")
            intercept = pm.Deterministic("Intercept", centered - shift)
        else:
            intercept = prior.create_variable("Intercept")
        nodes["Intercept"] = intercept
        eta = intercept if eta is None else eta + intercept
    return eta, nodes


def _group_part(design, priors: PriorSet, data, noncentered):
    nodes: dict[str, object] = {}
    parts = []
    for term in design.group_terms:
        spec = priors.group[term.name]
        sigma_spec = spec.args["sigma"]
        if isinstance(sigma_spec, Prior):
            sigma = sigma_spec.create_variable(f"{term.name}_sigma", dims=term.expr_dim)
        else:
            sigma = pt.as_tensor_variable(np.asarray(sigma_spec, dtype=float))
        if noncentered if isinstance(noncentered, bool) else noncentered[term.factor]:
            offset = pm.Normal(f"{term.name}_offset", mu=_F0, sigma=_F1, dims=term.dims)
            effects = pm.Deterministic(term.name, offset * sigma, dims=term.dims)
        else:
            effects = pm.Normal(term.name, mu=0.0, sigma=sigma, dims=term.dims)
        nodes[term.name] = effects
        per_obs = effects[data[data_name("idx", term.factor)]]
        if term.kind != "intercept":
            Z = data[data_name("Z", term.name)]
            per_obs = per_obs * Z[:, 0] if len(term.columns) == 1 else (per_obs * Z).sum(axis=1)
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

    Returns
    -------
    BuiltModel
    """
    with pm.Model(coords=design_coords(design)) as model:
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

        special, special_mean, special_nodes = special_parts(design, priors, data)
        eta, coefficients = _common_part(
            design, priors, data, center_predictors, extra_mean=special_mean
        )
        parts, group_nodes = _group_part(design, priors, data, noncentered)
        coefficients.update(group_nodes)
        coefficients.update(special_nodes)
        terms = ([] if eta is None else [eta]) + parts + special
        if design.offset is not None:
            terms.append(data[data_name("offset")])
        if not (design.common_terms or parts or special or design.offset is not None):
            # intercept-only (or empty) predictor: give it the observations' length
            terms.append(pt.zeros((data[data_name("X")].shape[0],)))
        eta = terms[0]
        for part in terms[1:]:
            eta = eta + part
        parent = link.linkinv_pt(eta)

        params: dict[str, object] = {family.parent: parent}
        for aux in family.aux:
            spec = priors.aux[aux.name]
            params[aux.name] = (
                spec.create_variable(aux.name)
                if isinstance(spec, Prior)
                else pt.as_tensor_variable(np.float64(spec))
            )
        if response.trials is not None:
            params["trials"] = data[data_name("trials")]
        if helper is None:
            getattr(pm, family.likelihood)(
                design.response.name,
                observed=data[data_name("y")],
                dims="__obs__",
                **family.to_dist(params),
            )
        else:
            _helper_likelihood(design.response.name, family, params, data, helper)
    return BuiltModel(
        model=model,
        parent=parent,
        coefficients=coefficients,
        data=data,
        response_name=design.response.name,
    )


def _helper_likelihood(name: str, family: Family, params: dict, data: dict, helper) -> None:
    """The observed variable of a censored, truncated or weighted response."""
    from bayesformula.build.likelihood import helper_logp

    kwargs = family.to_dist(params)
    keys = list(kwargs)

    def logp(value, *values):
        return helper_logp(family, dict(zip(keys, values, strict=True)), value, helper)

    pm.CustomDist(
        name,
        *[kwargs[k] for k in keys],
        logp=logp,
        observed=data[data_name("y")],
        dims="__obs__",
        dtype=str(data[data_name("y")].dtype),
    )
