"""The fast path: a model's exact log-density and gradient in numpy, with nothing to compile.

`build_density` turns the same Design, PriorSet, family and parameterisation that
`bayesformula.graph.model.build_model` turns into a PyMC graph into a
`bayesformula.density.model.DensityModel`. The two define the same posterior: the log-density
at corresponding points is equal, normalising constants included (tests check this against the
PyMC model). What differs is the arithmetic:

* gaussian, identity link, no group effects: the likelihood needs only ``X'X``, ``X'y`` and
  ``y'y`` (sufficient statistics), so a gradient costs O(p^2) whatever the number of rows;
* bernoulli, binomial (logit), poisson (log) and gaussian with group effects: rows with the same
  covariate pattern (predictors, group levels, offset) are merged, summing successes and trials
  (counts and exposures, or the first two moments for gaussian): the likelihood of the merged
  rows equals the original one up to a constant, which is added back;
* group-specific effects are indexed by level (memory O(n + levels));
* the most data-rich centered grouping factor is sampled as ``a = Intercept + b``, centered on
  the intercept (a shift, so the Jacobian is 1): this removes the ridge between the intercept
  and the mean of the group effects.

* the other families (`bayesformula.density.rows`): the log-likelihood summed over rows from
  the parent parameter (the link's inverse of the linear predictor) and the auxiliary
  parameters, each sampled on the scale PyMC's transform gives it (log for positive ones, logit
  for those in (0, 1), PyMC's ordered transform for the cumulative model's thresholds); rows
  merge where covariate pattern and response are both equal.

The families and links it computes are those registered in `bayesformula.density.likelihoods`
and `bayesformula.density.rows`, with ``mo()`` terms (`bayesformula.density.monotonic`);
families, links or priors outside them (a bounded prior on a coefficient included), and
``hsgp()`` terms, raise `Unsupported`: such models are sampled from their PyMC graph.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import expit

from bayesformula.density.auxformula import aux_formulas
from bayesformula.density.censored import with_helper
from bayesformula.density.model import DensityModel, guarded, inside
from bayesformula.density.monotonic import monotonic_parts
from bayesformula.density.native import native_form
from bayesformula.density.parts import (
    Block,
    Layout,
    anchor_effects,
    aux_blocks,
    centered_effects,
    coefficient_block,
    first_rows,
    gram,
    group_backward,
    group_terms,
    merge_priors,
    ordered_transform,
    prior_start,
    prior_terms,
    reduce_rows,
    row_loop,
    times,
)
from bayesformula.density.priors import Unsupported
from bayesformula.density.rows import claimed_likelihood
from bayesformula.spec.names import design_coords

__all__ = ["KERNEL_MIN_ROWS", "Unsupported", "build_density"]

_LOG_2PI = math.log(2 * math.pi)


#: Gaussian models with group effects use sufficient statistics (a gradient costs the square
#: of the coefficients) when the coefficients number at most this many...
_MAX_SUFF_COEF = 400
#: ...or, with many rows, up to this many while their square stays under `_SUFF_ROW_COST`
#: times the rows (a gradient over the rows costs tens of operations per row).
_MAX_SUFF_COEF_MANY_ROWS = 2_000
_SUFF_ROW_COST = 20

#: Non-gaussian likelihoods over at least this many rows (after merging) run in the compiled
#: row loop of `bayesformula.density.kernels`; smaller ones stay in numpy, where loading the
#: compiled loop would cost more than it saves.
KERNEL_MIN_ROWS = 2_000


def build_density(
    design,
    family,
    link,
    priors,
    response,
    choices: dict,
    *,
    center_predictors: bool = True,
    anchor: str | None = None,
    kernel: bool | None = None,
    parts: dict | None = None,
    helper=None,
) -> DensityModel:
    """The model's posterior as a `DensityModel` (see the module docstring).

    Parameters
    ----------
    design, family, link, priors, response
        As for `bayesformula.graph.model.build_model`.
    choices : dict
        Grouping factor -> `bayesformula.spec.parameterization.FactorChoice`.
    center_predictors : bool
        Sample the intercept at the predictors' means (``Intercept_centered``).
    anchor : str, optional
        A centered grouping factor with an intercept term whose effects are sampled centered on
        the intercept.
    kernel : bool, optional
        Evaluate a likelihood that has a compiled row loop (bernoulli, binomial, poisson,
        cumulative logit, beta) there (True) or in numpy (False). By default the loop is used from
        `KERNEL_MIN_ROWS` rows on.
    helper : ResponseHelper, optional
        ``weighted()``: each row's log-likelihood multiplied by its weight (the rows are then
        merged rows whose counts are the weights); ``censored()``, ``truncated()``: the row
        likelihood with the family's log-CDF (`bayesformula.density.censored`), rows unmerged.

    Raises
    ------
    Unsupported
        When the family, link or a prior is outside what the fast path computes exactly, or the
        formula has a ``hsgp()`` term.
    """
    bounded = helper is not None and helper.kind != "weighted"  # censored or truncated
    weights = helper.weights if helper is not None and not bounded else None
    lik = claimed_likelihood(family, link, per_row=bool(parts) or bounded)
    if bounded:
        lik = with_helper(lik, family, helper, formulas=bool(parts))
    special = tuple(getattr(design, "special_terms", ()))
    if special and any(a.replaces_intercept for a in family.aux):
        raise Unsupported(f"the {special[0].kind}() term '{special[0].name}' with thresholds")
    gaussian = lik.kind == "gaussian"
    rowwise = lik.kind == "rows"
    n = design.n_obs
    layout = Layout()

    # ---------------------------------------------------------------- parameters
    X = np.asarray(design.X, dtype=float)
    p = X.shape[1]
    # the intercept is sampled at the means of the common columns and of mo() terms
    centered_intercept = bool(design.intercept and (p or special) and center_predictors)
    # thresholds in the intercept's place are sampled at the predictors' means too
    shifted = bool(p and center_predictors and any(a.replaces_intercept for a in family.aux))
    centered = centered_intercept or shifted
    xbar = X.mean(axis=0) if centered else np.zeros(p)
    Xc = X - xbar if centered else X
    intercept = None
    if design.intercept:
        name = "Intercept_centered" if centered_intercept else "Intercept"
        intercept = coefficient_block(layout, name, priors.common["Intercept"], 1, "the intercept")
    common: list[tuple[object, Block]] = []
    for term in design.common_terms:
        block = coefficient_block(
            layout, term.name, priors.common[term.name], len(term.columns), f"term '{term.name}'"
        )
        common.append((term, block))
    beta_slice = (
        slice(common[0][1].start, common[-1][1].start + common[-1][1].size) if common else None
    )
    monotonic = monotonic_parts(layout, design, priors, centered_intercept)

    row_aux = lik.entry.row_aux if rowwise else ()
    formulas = aux_formulas(layout, parts, priors, center_predictors, row_aux)
    coords = design_coords(design) | dict(getattr(response, "coords", None) or {})
    for part in (parts or {}).values():  # factors of the auxiliary formulas' group terms
        coords |= design_coords(part.design)
    aux = aux_blocks(layout, family, lik, priors, skip=formulas, coords=coords, centered=shifted)

    groups, blocks = group_terms(layout, design, priors, choices)
    anchor_effects(groups, design, anchor, intercept, common, X, xbar)
    # anchored intercepts last: their effects depend on the anchored slopes' effects
    order = sorted(range(len(groups)), key=lambda i: groups[i].slopes is not None)

    # ---------------------------------------------------------------- data reduction
    y = np.asarray(response.values, dtype=float)
    trials = None if response.trials is None else np.asarray(response.trials, dtype=float)
    offset = None if design.offset is None else np.asarray(design.offset, dtype=float)
    n_coef = int(design.intercept) + p + sum(g.n_levels * g.n_cols for g in groups)
    wt = 1.0 if weights is None else np.asarray(weights, dtype=float)
    n_lik = float(n) if weights is None else float(np.sum(wt))  # the likelihood's row count
    suff = (
        gaussian
        and weights is None
        and not monotonic
        and (
            not groups
            or n_coef <= _MAX_SUFF_COEF
            or (n_coef <= _MAX_SUFF_COEF_MANY_ROWS and n_coef**2 <= _SUFF_ROW_COST * n)
        )
    )
    if suff or bounded:  # censored or truncated rows keep their own status and bounds
        rows = None
    else:
        pattern = [Xc] + [design.group_index[f] for f in design.factors]
        pattern += [g.Z for g in groups if g.Z is not None]
        if offset is not None:
            pattern.append(offset)
        for f in [*formulas.values(), *monotonic]:
            pattern += f.columns
        if rowwise and not lik.entry.sums:  # merged rows must have equal responses too
            pattern += [y] + ([trials] if trials is not None else [])
        rows = reduce_rows(pattern, n)
        if rows is None and weights is not None:  # every row its own, counted by its weight
            rows = np.arange(n), n

    # the terms free of parameters, each row's weighted
    constant = lik.entry.constant if rowwise else lik.constant
    if constant is None:
        const = 0.0
    else:
        const = constant(y, trials) if weights is None else constant(y, trials, wt)
    ybar = 0.0
    if gaussian:
        resp = y - (offset if offset is not None else 0.0)
        if design.intercept:
            ybar = float(np.mean(resp))
        resp = resp - ybar
    if suff:
        S, t = gram(design.intercept, Xc, groups, resp, n)
        rr = float(resp @ resp)
        description = (
            f"sufficient statistics X'X, X'y, y'y ({n:,} rows -> a {n_coef}x{n_coef} matrix"
            + (", group effects included)" if groups else ")")
        )
        coef_slices = []
        at = int(design.intercept) + p
        for g in groups:
            coef_slices.append(slice(at, at + g.n_levels * g.n_cols))
            at += g.n_levels * g.n_cols
    else:
        if rows is not None:
            inverse, k = rows
            first = first_rows(inverse, k)
            Xr = np.ascontiguousarray(Xc[first])
            for f in [*formulas.values(), *monotonic]:
                f.take(first)
            for g in groups:
                g.idx = g.idx[first]
                if g.Z is not None:
                    g.Z = np.ascontiguousarray(g.Z[first])
            off_r = None if offset is None or gaussian else offset[first]
            counts = np.bincount(inverse, weights, minlength=k).astype(float)
            if gaussian:
                S1 = np.bincount(inverse, weights=resp * wt, minlength=k)
                S2 = np.bincount(inverse, weights=resp * resp * wt, minlength=k)
            elif rowwise and not lik.entry.sums:
                t_first = None if trials is None else trials[first]
                row_data = lik.entry.prepare(y[first], t_first, counts)
            else:
                Ysum = np.bincount(inverse, weights=y * wt, minlength=k)
                weight = counts if trials is None else np.bincount(inverse, trials * wt, k)
            description = f"identical covariate patterns merged ({n:,} rows -> {k:,})"
            if k == n:  # weighted, none merged
                description = f"{n:,} weighted rows"
        else:
            Xr = np.ascontiguousarray(Xc)
            off_r = None if offset is None or gaussian else offset
            counts = None
            if rowwise and not lik.entry.sums:
                row_data = lik.entry.prepare(y, trials, None)
            elif not gaussian:
                Ysum = y
                weight = np.ones(n) if trials is None else trials
            description = f"{n:,} rows"
        n_rows = Xr.shape[0]
        if rowwise and lik.entry.sums:
            row_data = lik.entry.prepare(Ysum, weight, None)
        unit_weights = not (gaussian or rowwise) and bool(np.all(weight == 1.0))
    loop = None
    row_loglik = lik.entry.loglik if rowwise else None
    use_loop = not (suff or gaussian or monotonic)
    use_loop = use_loop and (n_rows >= KERNEL_MIN_ROWS if kernel is None else kernel)
    compiled = lik.entry.compiled if rowwise else None
    # a row family whose whole row runs in the loop with this link (its auxiliary parameter a
    # scalar), and the name of that parameter
    fused = lik.entry.fused(link.name) if rowwise and lik.entry.fused and not formulas else None
    fused_aux = lik.entry.aux[0] if fused is not None and lik.entry.aux else None
    has_loop = fused is not None or compiled is not None or (not rowwise and lik.kernel is not None)
    if use_loop and has_loop:
        if fused is not None:
            ysum_r, yaux_r = fused.arrays(row_data)
            w_r = np.ones(n_rows) if row_data["w"] is None else row_data["w"]
            loop, flat_slices = row_loop(fused.code, Xr, ysum_r, w_r, off_r, groups, yaux_r)
        elif rowwise:
            row_loglik = compiled
        else:
            loop, flat_slices = row_loop(lik.kernel(unit_weights), Xr, Ysum, weight, off_r, groups)
        description = f"exact log-density in a compiled row loop (cached): {description}"
    else:
        description = f"exact numpy log-density, nothing to compile: {description}"
    if loop is None and not suff:
        Xr = np.asfortranarray(Xr)  # numpy's products with a tall design are faster so

    # ---------------------------------------------------------------- log-density
    ndim = layout.ndim
    priors_on = [b for b in layout.blocks if b.prior is not None]
    merged = merge_priors(priors_on)
    i_int = intercept.start if intercept is not None else None

    def logp_grad(x):
        x = np.asarray(x, dtype=float)
        grad = np.zeros(ndim)
        lp, values = prior_terms(merged, x, grad, const)
        for m in monotonic:  # the simplexes' Dirichlet priors
            lp += m.prior(x, grad)
        alpha = x[i_int] if i_int is not None else 0.0
        beta = x[beta_slice] if beta_slice is not None else None

        # group effects and their population distribution
        effects = [None] * len(groups)
        states = []
        for block in blocks:  # correlated effects
            lb, joint, state = block.forward(x)
            lp += lb
            states.append((block, state))
            for i, g in enumerate(groups):
                if g.corr is not None and g.corr[0] is block:
                    effects[i] = (None, joint[:, g.corr[1]], None)
        for i in order:
            g = groups[i]
            if g.corr is not None:
                continue
            raw = x[g.effects.slice].reshape(g.n_levels, g.n_cols)
            sig = values[g.sigma.name] if g.sigma is not None else g.fixed_sigma
            if g.noncentered:
                b = raw * sig
                lp += -0.5 * float(np.vdot(raw, raw)) - 0.5 * raw.size * _LOG_2PI
                effects[i] = (raw, b, sig)
                continue
            b = centered_effects(g, raw, x, groups, effects)
            z = b / sig
            lp += (
                -0.5 * float(np.vdot(z, z))
                - g.n_levels * float(np.log(sig).sum())
                - 0.5 * raw.size * _LOG_2PI
            )
            effects[i] = (raw, b, sig)

        if suff:
            theta = np.empty(n_coef)
            if design.intercept:
                theta[0] = alpha - ybar
            if beta is not None:
                theta[int(design.intercept) : int(design.intercept) + p] = beta
            for where, (_, b, _) in zip(coef_slices, effects, strict=True):
                theta[where] = b.reshape(-1)
            St = S @ theta
            Q = rr - 2.0 * float(theta @ t) + float(theta @ St)
            ll, dq, dsig = lik.loglik(Q, n_lik, aux_value(values, "sigma"))
            lp += ll
            dtheta = -2.0 * dq * (t - St)
            if design.intercept:
                grad[i_int] += dtheta[0]
            if beta is not None:
                grad[beta_slice] += dtheta[int(design.intercept) : int(design.intercept) + p]
            aux_grad(grad, values, "sigma", dsig)
            db_lik = [
                dtheta[where].reshape(g.n_levels, g.n_cols)
                for where, g in zip(coef_slices, groups, strict=True)
            ]
            return group_backward(groups, order, lp, grad, db_lik, effects, states)

        if loop is not None:
            flat = np.concatenate([b.reshape(-1) for _, b, _ in effects]) if groups else np.zeros(0)
            aux_in = aux_value(values, fused_aux) if fused_aux is not None else 0.0
            ll, dalpha, gbeta, gb, daux = loop(alpha, beta, flat, aux_in)
            if ll == -math.inf:  # a mean outside the parameter's support
                return -math.inf, np.zeros(ndim)
            if fused_aux is not None:
                lp_aux, daux_out = fused.outside(row_data, aux_in)
                ll += lp_aux
                aux_grad(grad, values, fused_aux, daux + daux_out)
            lp += ll
            if i_int is not None:
                grad[i_int] += dalpha
            if beta is not None:
                grad[beta_slice] += gbeta
            db_lik = [
                gb[where].reshape(g.n_levels, g.n_cols)
                for where, g in zip(flat_slices, groups, strict=True)
            ]
            return group_backward(groups, order, lp, grad, db_lik, effects, states)

        if beta is None:
            eta = np.full(n_rows, alpha)
        else:
            eta = times(Xr, beta)
            eta += alpha
        for g, (_, b, _) in zip(groups, effects, strict=True):
            if g.Z is None:
                eta += b[:, 0][g.idx]
            else:
                eta += np.einsum("ij,ij->i", b[g.idx], g.Z)
        for m in monotonic:
            eta += m.value(x)
        if gaussian:
            eta -= ybar
            if counts is None:
                resid = resp - eta  # dQ/deta = -2 resid
                Q = float(resid @ resid)
            else:
                resid = S1 - counts * eta
                Q = float(np.sum(S2) - 2.0 * (eta @ S1) + (counts * eta) @ eta)
            ll, dq, dsig = lik.loglik(Q, n_lik, aux_value(values, "sigma"))
            lp += ll
            deta = -2.0 * dq * resid
            aux_grad(grad, values, "sigma", dsig)
        elif rowwise:
            if off_r is not None:
                eta += off_r
            mu, dmu_deta = lik.linkinv(eta)
            if not lik.in_support(mu):  # outside the parameter's support, as PyMC's checks
                return -math.inf, np.zeros(ndim)
            aux_values = {name: aux_value(values, name) for name in aux}
            slopes = {}  # of each formula's parameter in its linear predictor
            for name, f in formulas.items():
                aux_values[name], slopes[name] = f.value(x)
                lp += f.effects_prior(x, grad)
            ll, dmu, daux = row_loglik(mu, row_data, aux_values)
            lp += ll
            deta = dmu * dmu_deta
            for name, d in daux.items():
                if name in formulas:
                    formulas[name].backward(grad, d * slopes[name], x)
                else:
                    aux_grad(grad, values, name, d)
        else:
            if off_r is not None:
                eta += off_r
            ll, deta = lik.loglik(eta, Ysum, weight, unit_weights)
            lp += ll

        if i_int is not None:
            grad[i_int] += deta.sum()
        if beta is not None:
            grad[beta_slice] += deta @ Xr
        for m in monotonic:
            m.backward(grad, deta, x)
        db_lik = []
        for g in groups:
            if g.Z is None:
                db_lik.append(np.bincount(g.idx, weights=deta, minlength=g.n_levels)[:, None])
            else:
                db_lik.append(
                    np.column_stack(
                        [
                            np.bincount(g.idx, weights=deta * g.Z[:, j], minlength=g.n_levels)
                            for j in range(g.n_cols)
                        ]
                    )
                )
        return group_backward(groups, order, lp, grad, db_lik, effects, states)

    def aux_value(values, name):
        spec = aux[name]
        if not isinstance(spec, Block):
            return spec
        return values[spec.name] if spec.dim else float(values[spec.name][0])

    def aux_grad(grad, values, name, d):
        """Add d(lp)/d(aux) on the sampler's scale of the auxiliary parameter ``name``."""
        block = aux[name]
        if not isinstance(block, Block):
            return
        if block.dim:  # a vector on the real line
            grad[block.slice] += d
            return
        v = float(values[name][0])
        chain = {"log": v, "logodds": v * (1.0 - v), None: 1.0}[block.prior.transform]
        grad[block.start] += float(np.sum(d)) * chain

    # ---------------------------------------------------------------- named variables
    shapes: dict[str, tuple[int, ...]] = {}
    dims: dict[str, tuple[str, ...]] = {}
    if intercept is not None:
        if centered_intercept:
            shapes["Intercept_centered"] = ()
        shapes["Intercept"] = ()
    for term, _ in common:
        shapes[term.name] = (len(term.columns),) if term.dim else ()
        if term.dim:
            dims[term.name] = (term.dim,)
    terms = {term.name: term for term in design.group_terms}
    for block, design_block in zip(blocks, design.group_blocks, strict=True):
        block.add_shapes(shapes, dims, design_block, terms)
    for term, g in zip(design.group_terms, groups, strict=True):
        if g.corr is not None:
            continue
        vector = term.expr_dim is not None
        eff_shape = (g.n_levels, g.n_cols) if vector else (g.n_levels,)
        if g.sigma is not None:
            shapes[g.sigma.name] = (g.n_cols,) if vector else ()
            if term.expr_dim:
                dims[g.sigma.name] = (term.expr_dim,)
        if g.noncentered:
            shapes[f"{term.name}_offset"] = eff_shape
            dims[f"{term.name}_offset"] = term.dims
        shapes[term.name] = eff_shape
        dims[term.name] = term.dims
    for f in formulas.values():
        f.add_shapes(shapes, dims)
    for m in monotonic:
        shapes[m.term.name] = ()
        shapes[m.term.simplex_name], dims[m.term.simplex_name] = (m.D,), (m.term.simplex_dim,)
    for name, block in aux.items():  # named in the order the model is written: auxiliary last
        if isinstance(block, Block) and block.dim:
            for named in dict.fromkeys((block.name, name)):
                shapes[named], dims[named] = (block.size,), (block.dim,)
        elif isinstance(block, Block):
            shapes[name] = ()

    def expand(x):
        x = np.asarray(x, dtype=float)
        out: dict[str, np.ndarray] = {}
        alpha = float(x[i_int]) if i_int is not None else 0.0
        beta = x[beta_slice] if beta_slice is not None else None
        if intercept is not None:
            if centered_intercept:
                out["Intercept_centered"] = np.asarray(alpha)
                shift = (float(xbar @ beta) if beta is not None else 0.0) + sum(
                    m.mean(x) for m in monotonic
                )
                out["Intercept"] = np.asarray(alpha - shift)
            else:
                out["Intercept"] = np.asarray(alpha)
        for term, block in common:
            out[term.name] = x[block.slice].reshape(shapes[term.name]).copy()
        for f in formulas.values():
            f.expand(out, x, shapes)
        for m in monotonic:
            out[m.term.name] = np.asarray(float(x[m.coef.start]))
            out[m.term.simplex_name] = m.zeta(x)[0]
        for name, block in aux.items():
            if isinstance(block, Block) and block.dim:
                out[block.name] = x[block.slice].copy()
                out[name] = out[block.name] + (float(xbar @ beta) if shifted else 0.0)
            elif isinstance(block, Block):
                u = float(x[block.start])
                transform = block.prior.transform
                value = math.exp(u) if transform == "log" else u
                out[name] = np.asarray(float(expit(u)) if transform == "logodds" else value)
        effects = [None] * len(groups)
        for block in blocks:
            block.expand(x, out, terms)
        for i in order:
            g = groups[i]
            if g.corr is not None:
                continue
            raw = x[g.effects.slice].reshape(g.n_levels, g.n_cols)
            sig = np.exp(x[g.sigma.slice]) if g.sigma is not None else g.fixed_sigma
            if g.sigma is not None:
                out[g.sigma.name] = sig.reshape(shapes[g.sigma.name]).copy()
            if g.noncentered:
                out[f"{g.name}_offset"] = raw.reshape(shapes[g.name]).copy()
                b = raw * sig
            else:
                b = centered_effects(g, raw, x, groups, effects)
            effects[i] = (raw, b, sig)
            out[g.name] = np.asarray(b).reshape(shapes[g.name]).copy()
        return {name: out[name] for name in shapes}

    start, scale = prior_start(priors_on, ndim)
    for block in blocks:
        block.start(start, scale)
    for g in groups:
        if g.anchor_idx is not None and g.corr is None:
            start[g.effects.slice] = start[g.anchor_idx]
        if g.corr is None and not g.noncentered:
            sig0 = np.exp(start[g.sigma.slice]) if g.sigma is not None else g.fixed_sigma
            scale[g.effects.slice] = np.minimum(1.0, np.tile(sig0, g.n_levels)) * 0.1

    ordered = [b for b in aux.values() if isinstance(b, Block) and b.ordered]
    if ordered:
        logp_grad, expand, start = ordered_transform(ordered, logp_grad, expand, start)

    def initial_point(rng):
        return start + rng.uniform(-1.0, 1.0, ndim) * scale

    logp_grad = guarded(logp_grad, ndim)
    return DensityModel(
        ndim=ndim,
        logp_grad=logp_grad,
        expand=expand,
        shapes=shapes,
        dims=dims,
        coords=coords,
        observed={design.response.name: (("__obs__",), y)},
        initial_point=inside(initial_point, logp_grad, start),
        description=description,
        releases_lock=loop is not None and n_rows >= KERNEL_MIN_ROWS,  # else mostly Python
        native=None
        if ordered
        else native_form(loop, merged, const, i_int, beta_slice, groups, blocks),
    )
