"""The fast path for the families with coefficients per category: categorical, multinomial and
dirichlet-multinomial, with the softmax link.

The linear predictor has one column per category other than the reference (the first level),
``eta = Xc B + alpha + effects`` with ``B`` (columns x categories), and the probabilities are
``softmax([0, eta])`` row by row. The parameters are those of
`bayesformula.graph.model.build_model`, named and shaped alike: each common term's
coefficients ``(columns, categories)`` (``(categories,)`` for a one-column term without a
dimension), the intercept ``(categories,)`` (sampled at the predictors' means as
``Intercept_centered``), each independent group term's effects ``(levels, [columns,]
categories)`` with one standard deviation per column and category, centered or non-centered
(``{term}_offset``), and the dirichlet-multinomial's precision ``phi``.

* categorical and multinomial: ``sum_k y_k log p_k`` over rows plus the multinomial
  coefficient, whose gradient in ``eta_c`` is ``y_c - n p_c``; a categorical response is the
  one-hot count of its category. Rows with the same covariate pattern merge, their counts
  summed (the coefficient, a constant, is computed from the original rows).
* dirichlet-multinomial: `bayesformula.families.categorical.dirichlet_multinomial_logp` with
  ``a = phi p``, in the same ``lgamma`` differences (Stirling's form for large arguments).

Correlated effects, offsets and ``mo()``/``hsgp()`` terms are not allowed for these families
(`bayesformula.spec.checks.check_per_category_terms`); a formula for ``phi`` or a prior the
numeric priors do not compute raises `Unsupported`, and the model is sampled from its graph.
`bayesformula.testing.check_density` proves the two equal (``tests/density``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

from bayesformula.core.prior import Prior
from bayesformula.density.model import DensityModel, guarded, inside
from bayesformula.density.parts import (
    Layout,
    first_rows,
    group_sigma,
    merge_priors,
    prior_start,
    prior_terms,
    reduce_rows,
)
from bayesformula.density.priors import Unsupported, numeric_prior
from bayesformula.density.rows_mixture import _lgamma_diff
from bayesformula.spec.names import design_coords

__all__ = ["PER_CATEGORY", "build_per_category"]

_LOG_2PI = math.log(2 * math.pi)


def _softmax(eta):
    """``logsumexp([0, eta])`` per row, the probabilities of the categories after the
    reference, and the reference's: with the row's largest value taken out, so that nothing
    overflows (scipy's ``logsumexp`` took four times as long on a few hundred rows)."""
    m = np.maximum(eta.max(axis=1), 0.0)
    e = np.exp(eta - m[:, None])
    e0 = np.exp(-m)
    total = e.sum(axis=1)
    total += e0
    inv = 1.0 / total
    return m + np.log(total), e * inv[:, None], e0 * inv


def _multinomial(eta, d, phi):
    """``sum_k y_k log p_k`` over the rows (without the multinomial coefficient), with its
    gradient in ``eta``: ``y_c - n p_c``."""
    lse, prob, _ = _softmax(eta)
    lp = float(np.vdot(d["obs"], eta)) - float(d["totals"] @ lse)
    return lp, d["obs"] - d["totals"][:, None] * prob, 0.0


def _dirichlet_multinomial(eta, d, phi):
    """``sum_k lgamma_diff(a_k, y_k) - lgamma_diff(phi, n)`` with ``a = phi p`` (without the
    multinomial coefficient), with its gradients in ``eta`` and ``phi``."""
    _, prob, ref = _softmax(eta)
    probs = np.concatenate([ref[:, None], prob], axis=1)
    da, dda = _lgamma_diff(probs * phi, d["counts"])
    dt, ddt = _lgamma_diff(phi, d["totals_distinct"])
    lp = float(da.sum()) - float(d["totals_weight"] @ dt)
    # d lp / d a_k, then through a = phi softmax([0, eta])
    mean = np.sum(probs * dda, axis=1, keepdims=True)
    deta = phi * prob * (dda[:, 1:] - mean)
    dphi = float(mean.sum()) - float(d["totals_weight"] @ ddt)
    return lp, deta, dphi


@dataclass
class _Group:
    """A group term's effects: ``(levels, width, categories)``, their standard deviations
    (a block or fixed values, ``(width, categories)``), and each (merged) row's level and
    columns (None for an intercept)."""

    term: object
    width: int
    levels: int
    sigma: object
    fixed: np.ndarray | None
    noncentered: bool
    effects: object
    idx: np.ndarray
    Z: np.ndarray | None


@dataclass(frozen=True)
class PerCategory:
    """One family computed here: the PyMC likelihood its graph uses, and
    ``loglik(eta, data, phi) -> (lp, dlp/deta, dlp/dphi)``; ``merges``: whether rows with the
    same covariate pattern merge, their counts summed."""

    likelihood: str
    loglik: Callable
    merges: bool


#: family name -> `PerCategory`
PER_CATEGORY = {
    "categorical": PerCategory("Categorical", _multinomial, True),
    "multinomial": PerCategory("Multinomial", _multinomial, True),
    "dirichlet_multinomial": PerCategory("DirichletMultinomial", _dirichlet_multinomial, False),
}


def _per_category(prior: Prior, width: int, n_cat: int, what: str):
    """The numeric prior of a block of ``width`` columns x ``n_cat`` categories (row-major), its
    parameters broadcast as the graph broadcasts them: one value per column gains a trailing
    axis when the term has several columns."""
    if prior.options:
        raise Unsupported(f"{what}'s prior sets {', '.join(sorted(prior.options))}")
    shape = (width, n_cat) if width > 1 else (n_cat,)
    args = {}
    for key, value in prior.args.items():
        if isinstance(value, Prior):
            raise Unsupported(f"{what}'s prior has a hyperprior on '{key}'")
        arr = np.asarray(value, dtype=float)
        if width > 1 and arr.ndim == 1:
            arr = arr[:, None]
        try:
            args[key] = np.broadcast_to(arr, shape).reshape(-1)
        except ValueError:
            raise Unsupported(f"{what}'s prior parameter '{key}' has shape {arr.shape}") from None
    return numeric_prior(Prior(prior.name, **args), width * n_cat, what)


def _block(layout, name, prior, width, n_cat, what, *, positive=False):
    block = layout.add(name, width * n_cat, _per_category(prior, width, n_cat, what))
    if positive and not block.prior.positive:
        raise Unsupported(f"{what} has a prior that is not positive")
    if not positive and block.prior.transform is not None:
        raise Unsupported(f"{what} has a {prior.name} prior, which bounds it")
    return block


def build_per_category(
    design,
    family,
    link,
    priors,
    response,
    choices: dict,
    *,
    center_predictors: bool = True,
) -> DensityModel:
    """The posterior of a categorical, multinomial or dirichlet-multinomial model (see the
    module docstring), or `Unsupported`."""
    entry = PER_CATEGORY.get(family.name)
    if entry is None or entry.likelihood != family.likelihood or link.name != "softmax":
        raise Unsupported(f"family '{family.name}' with link '{link.name}'")
    if design.group_blocks or design.special_terms or design.offset is not None:
        raise Unsupported(f"family '{family.name}' with these terms")
    dm = family.name == "dirichlet_multinomial"
    if dm:
        from bayesformula.families.categorical import dirichlet_multinomial_logp

        if family.logp is not dirichlet_multinomial_logp:
            raise Unsupported(f"family '{family.name}' with its own log-density")
    cat_dim = response.category_dim
    C = len(response.coords[cat_dim])
    n = design.n_obs
    layout = Layout()

    # ---------------------------------------------------------------- parameters
    X = np.asarray(design.X, dtype=float)
    p = X.shape[1]
    centered = bool(design.intercept and p and center_predictors)
    xbar = X.mean(axis=0) if centered else np.zeros(p)
    Xc = X - xbar if centered else X
    intercept = None
    if design.intercept:
        name = "Intercept_centered" if centered else "Intercept"
        intercept = _block(layout, name, priors.common["Intercept"], 1, C, "the intercept")
    common = []
    for term in design.common_terms:
        width = term.slice.stop - term.slice.start
        what = f"term '{term.name}'"
        common.append((term, _block(layout, term.name, priors.common[term.name], width, C, what)))
    groups = []
    for term in design.group_terms:
        width = len(term.columns) if term.expr_dim is not None else 1
        levels = len(design.group_levels[term.factor])
        sigma_spec = group_sigma(term.name, priors.group[term.name])
        sigma, fixed = None, None
        if isinstance(sigma_spec, Prior):
            what = f"the sigma of '{term.name}'"
            sigma = _block(layout, f"{term.name}_sigma", sigma_spec, width, C, what, positive=True)
        else:
            arr = np.asarray(sigma_spec, dtype=float)
            arr = arr[:, None] if width > 1 and arr.ndim == 1 else arr
            fixed = np.broadcast_to(arr, (width, C)).astype(float)
        nc = choices[term.factor].noncentered
        effects = layout.add(f"{term.name}_offset" if nc else term.name, levels * width * C, None)
        Z = None if term.kind == "intercept" else np.asarray(term.Z, dtype=float)
        idx = np.asarray(design.group_index[term.factor], dtype=np.intp)
        groups.append(_Group(term, width, levels, sigma, fixed, nc, effects, idx, Z))
    phi = None
    if dm:
        spec = priors.aux["phi"]
        if isinstance(spec, Prior):
            phi = layout.add("phi", 1, numeric_prior(spec, 1, "phi"))
            if not phi.prior.positive:
                raise Unsupported(f"phi has a {spec.name} prior, whose support is not phi's")
        else:
            phi = float(spec)
    ndim = layout.ndim

    # ---------------------------------------------------------------- the rows
    y = np.asarray(response.values)
    counts = np.eye(C + 1)[y.astype(np.intp)] if y.ndim == 1 else y.astype(float)
    totals = counts.sum(axis=1)
    const = float(np.sum(gammaln(totals + 1.0)) - np.sum(gammaln(counts + 1.0)))
    if not entry.merges:
        rows = None  # the likelihood is not a function of summed counts
    else:
        pattern = [Xc] + [g.idx for g in groups] + [g.Z for g in groups if g.Z is not None]
        rows = reduce_rows(pattern, n)
    if rows is not None:
        inverse, k = rows
        first = first_rows(inverse, k)
        Xc = Xc[first]
        for g in groups:
            g.idx = g.idx[first]
            g.Z = None if g.Z is None else g.Z[first]
        counts = np.stack([np.bincount(inverse, counts[:, j], k) for j in range(C + 1)], 1)
        totals = counts.sum(axis=1)
        description = f"identical covariate patterns merged ({n:,} rows -> {k:,})"
    else:
        description = f"{n:,} rows"
    Xc = np.ascontiguousarray(Xc)
    n_rows = Xc.shape[0]
    data = {"counts": counts, "obs": np.ascontiguousarray(counts[:, 1:]), "totals": totals}
    data["totals_distinct"], weight = np.unique(totals, return_counts=True)
    data["totals_weight"] = weight.astype(float)
    priors_on = [b for b in layout.blocks if b.prior is not None]
    merged = merge_priors(priors_on)

    # ---------------------------------------------------------------- log-density
    def forward(x, values):
        """eta (rows x categories) and each group term's (raw, effects, sigma)."""
        eta = np.zeros((n_rows, C))
        if intercept is not None:
            eta += x[intercept.slice]
        if common:
            eta += Xc @ np.concatenate([x[b.slice].reshape(-1, C) for _, b in common])
        states = []
        for g in groups:
            sig = values[g.sigma.name].reshape(g.width, C) if g.sigma is not None else g.fixed
            raw = x[g.effects.slice].reshape(g.levels, g.width, C)
            b = raw * sig if g.noncentered else raw
            per_row = b[g.idx]
            eta += per_row[:, 0] if g.Z is None else np.einsum("rwc,rw->rc", per_row, g.Z)
            states.append((raw, b, sig))
        return eta, states

    def logp_grad(x):
        x = np.asarray(x, dtype=float)
        grad = np.zeros(ndim)
        lp, values = prior_terms(merged, x, grad, const)
        eta, states = forward(x, values)
        ph = phi if phi is None or isinstance(phi, float) else float(values["phi"][0])
        ll, deta, dphi = PER_CATEGORY[family.name].loglik(eta, data, ph)
        lp += ll
        if phi is not None and not isinstance(phi, float):
            grad[phi.start] += dphi * ph
        if intercept is not None:
            grad[intercept.slice] += deta.sum(axis=0)
        if common:
            dB = Xc.T @ deta
            for term, block in common:
                grad[block.slice] += dB[term.slice].reshape(-1)
        for g, (raw, b, sig) in zip(groups, states, strict=True):
            levels = g.levels
            db = np.empty((levels, g.width, C))
            for j in range(g.width):
                w = deta if g.Z is None else deta * g.Z[:, j : j + 1]
                for c in range(C):
                    db[:, j, c] = np.bincount(g.idx, weights=w[:, c], minlength=levels)
            if g.noncentered:
                lp += -0.5 * float(np.vdot(raw, raw)) - 0.5 * raw.size * _LOG_2PI
                draw = db * sig - raw
                dsig = (db * raw).sum(axis=0)
            else:
                z = b / sig
                lp += (
                    -0.5 * float(np.vdot(z, z))
                    - levels * float(np.log(sig).sum())
                    - 0.5 * raw.size * _LOG_2PI
                )
                draw = db - b / (sig * sig)
                dsig = (b * b).sum(axis=0) / sig**3 - levels / sig
            grad[g.effects.slice] += draw.reshape(-1)
            if g.sigma is not None:
                grad[g.sigma.slice] += (dsig * sig).reshape(-1)
        return lp, grad

    # ---------------------------------------------------------------- named variables
    shapes: dict[str, tuple[int, ...]] = {}
    dims: dict[str, tuple[str, ...]] = {}
    if intercept is not None:
        for name in dict.fromkeys((intercept.name, "Intercept")):
            shapes[name], dims[name] = (C,), (cat_dim,)
    for term, block in common:
        shapes[term.name] = (block.size // C, C) if term.dim else (C,)
        dims[term.name] = (term.dim, cat_dim) if term.dim else (cat_dim,)
    for g in groups:
        term = g.term
        vector = term.expr_dim is not None
        if g.sigma is not None:
            shapes[g.sigma.name] = (g.width, C) if vector else (C,)
            dims[g.sigma.name] = (term.expr_dim, cat_dim) if vector else (cat_dim,)
        eff_shape = (g.levels, g.width, C) if vector else (g.levels, C)
        for name in dict.fromkeys((g.effects.name, term.name)):
            shapes[name], dims[name] = eff_shape, (*term.dims, cat_dim)
    if phi is not None and not isinstance(phi, float):
        shapes["phi"] = ()

    def expand(x):
        x = np.asarray(x, dtype=float)
        _, values = prior_terms(merged, x, np.zeros(ndim))
        out: dict[str, np.ndarray] = {}
        if intercept is not None:
            alpha = x[intercept.slice].copy()
            out[intercept.name] = alpha
            if centered:
                B = np.concatenate([x[b.slice].reshape(-1, C) for _, b in common])
                out["Intercept"] = alpha - xbar @ B
        for term, block in common:
            out[term.name] = x[block.slice].reshape(shapes[term.name]).copy()
        for g in groups:
            sig = values[g.sigma.name].reshape(g.width, C) if g.sigma is not None else g.fixed
            raw = x[g.effects.slice].reshape(g.levels, g.width, C)
            if g.sigma is not None:
                out[g.sigma.name] = sig.reshape(shapes[g.sigma.name]).copy()
            out[g.effects.name] = raw.reshape(shapes[g.effects.name]).copy()
            if g.noncentered:
                out[g.term.name] = (raw * sig).reshape(shapes[g.term.name])
        if "phi" in shapes:
            out["phi"] = np.asarray(float(values["phi"][0]))
        return {name: out[name] for name in shapes}

    start, scale = prior_start(priors_on, ndim)
    for g in groups:
        if not g.noncentered:  # centered effects start near zero, on their sigma's scale
            sig0 = np.exp(start[g.sigma.slice]) if g.sigma is not None else g.fixed.reshape(-1)
            scale[g.effects.slice] = np.tile(np.minimum(1.0, sig0), g.levels) * 0.1

    def initial_point(rng):
        return start + rng.uniform(-1.0, 1.0, ndim) * scale

    logp_grad = guarded(logp_grad, ndim)
    coords = design_coords(design) | dict(response.coords)
    return DensityModel(
        ndim=ndim,
        logp_grad=logp_grad,
        expand=expand,
        shapes=shapes,
        dims=dims,
        coords=coords,
        observed={design.response.name: (_observed_dims(response, y), np.asarray(y))},
        initial_point=inside(initial_point, logp_grad, start),
        description=f"exact numpy log-density, nothing to compile: {description}",
    )


def _observed_dims(response, y) -> tuple[str, ...]:
    """The observed variable's dimensions: rows, and the categories of count vectors."""
    return ("__obs__",) if y.ndim == 1 else ("__obs__", response.level_dim)
