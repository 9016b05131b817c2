"""The pieces `bayesformula.density.build.build_density` assembles: the layout of the
unconstrained vector, group terms, merged rows and the anchoring of group effects."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from bayesformula.core.prior import Prior
from bayesformula.density.priors import PRIOR_KINDS, NumericPrior, Unsupported, numeric_prior

__all__ = [
    "Block",
    "GroupTerm",
    "Layout",
    "anchor_effects",
    "aux_blocks",
    "coefficient_block",
    "centered_effects",
    "first_rows",
    "gram",
    "group_backward",
    "group_sigma",
    "group_sigma_block",
    "prior_start",
    "group_terms",
    "merge_priors",
    "ordered_transform",
    "prior_block",
    "prior_terms",
    "reduce_rows",
    "row_loop",
    "times",
]

#: Merge rows only when that removes at least this fraction of them.
_MIN_REDUCTION = 0.2


@dataclass
class Block:
    """A named slice of the unconstrained vector with its prior."""

    name: str
    start: int
    size: int
    prior: NumericPrior | None  # None: standard normal offsets or centered group effects
    #: the dimension of a vector auxiliary parameter (the ordinal thresholds), None for scalars
    dim: str | None = None
    #: sampled through PyMC's ordered transform (see `ordered_transform`)
    ordered: bool = False

    @property
    def slice(self) -> slice:
        return slice(self.start, self.start + self.size)


class Layout:
    def __init__(self):
        self.blocks: list[Block] = []
        self.ndim = 0

    def add(self, name, size, prior) -> Block:
        block = Block(name, self.ndim, size, prior)
        self.blocks.append(block)
        self.ndim += size
        return block


@dataclass
class GroupTerm:
    name: str
    factor: str
    n_levels: int
    n_cols: int
    effects: Block
    sigma: Block | None
    fixed_sigma: np.ndarray | None
    noncentered: bool
    anchor_idx: int | None  # position in x of the coefficient the raw effects are centered on
    intercept: bool
    idx: np.ndarray  # level of each (reduced) row
    Z: np.ndarray | None  # (rows, n_cols) for slopes; None for intercepts
    #: for an anchored intercept: (slope term, mean of its column) pairs; see `anchor_effects`
    slopes: list | None = None
    #: a term of correlated effects: its `CorrelatedBlock` and its columns there (then
    #: ``effects`` and ``sigma`` are None: the block holds its values)
    corr: tuple | None = None


def group_sigma(name: str, spec: Prior):
    """The standard deviation (a prior or a value) of group term ``name``'s prior ``spec``, or
    `Unsupported` unless ``spec`` is a zero-mean Normal, as the fast path computes."""
    if spec.name != "Normal" or set(spec.args) - {"mu", "sigma"}:
        raise Unsupported(f"group term '{name}' has a {spec!r} prior")
    if not np.all(np.asarray(spec.args.get("mu", 0.0)) == 0):
        raise Unsupported(f"group term '{name}' has a non-zero mean")
    return spec.args["sigma"]


def group_sigma_block(layout, name: str, priors, width: int):
    """The standard deviations of group term ``name`` (``width`` columns): a block sampled on
    the log scale under a positive prior, or fixed values; ``(block, None)`` or
    ``(None, values)``. `Unsupported` for priors the fast path does not compute."""
    spec = group_sigma(name, priors.group[name])
    if not isinstance(spec, Prior):
        return None, np.broadcast_to(np.asarray(spec, dtype=float), (width,)).copy()
    what = f"the sigma of '{name}'"
    block = prior_block(layout, f"{name}_sigma", spec, width, what)
    if not block.prior.positive:
        raise Unsupported(f"{what} has a prior that is not positive")
    return block, None


def prior_start(blocks, ndim: int) -> tuple[np.ndarray, np.ndarray]:
    """The sampler's start (each prior's central value on its sampling scale) and the jitter's
    scale per value (a coefficient's prior sd, at most 1; 1 elsewhere)."""
    start = np.zeros(ndim)
    scale = np.ones(ndim)
    for block in blocks:
        start[block.slice] = block.prior.initial(block.size)
        if block.prior.name in ("Normal", "StudentT") and not block.prior.positive:
            scale[block.slice] = np.minimum(
                1.0, np.broadcast_to(block.prior.params["sigma"], (block.size,))
            )
    return start, scale


def group_terms(layout, design, priors, choices) -> tuple[list[GroupTerm], list]:
    """The design's group terms, and its blocks of correlated terms (`CorrelatedBlock`), their
    values added to ``layout``; `Unsupported` for priors the fast path does not compute."""
    from bayesformula.density.correlated import correlated_block

    blocks, in_block = [], {}
    for design_block in design.group_blocks:
        noncentered = choices[design_block.factor].noncentered
        block = correlated_block(layout, design_block, design, priors, noncentered)
        blocks.append(block)
        for name, cols in block.columns.items():
            in_block[name] = (block, cols)
    groups = []
    for term in design.group_terms:
        c = len(term.columns)
        L = len(design.group_levels[term.factor])
        noncentered = choices[term.factor].noncentered
        effects, sigma_block, fixed, corr = None, None, None, in_block.get(term.name)
        if corr is None:
            sigma_block, fixed = group_sigma_block(layout, term.name, priors, c)
            effects = layout.add(f"{term.name}_offset" if noncentered else term.name, L * c, None)
        groups.append(
            GroupTerm(
                name=term.name,
                factor=term.factor,
                n_levels=L,
                n_cols=c,
                effects=effects,
                sigma=sigma_block,
                fixed_sigma=fixed,
                noncentered=noncentered,
                anchor_idx=None,
                intercept=term.kind == "intercept",
                idx=np.asarray(design.group_index[term.factor], dtype=np.intp),
                Z=None if term.kind == "intercept" else np.asarray(term.Z, dtype=float),
                corr=corr,
            )
        )
    return groups, blocks


def prior_block(layout, name, prior, size, what):
    return layout.add(name, size, numeric_prior(prior, size, what))


def coefficient_block(layout, name, prior, size, what):
    """A coefficient's block: its prior must be on the whole real line, as the fast path
    samples coefficients as they are (a bounded prior makes PyMC transform them)."""
    block = prior_block(layout, name, prior, size, what)
    if block.prior.transform is not None:
        raise Unsupported(f"{what} has a {prior.name} prior, which bounds it")
    return block


#: the unconstrained scale each auxiliary parameter's support needs of its prior
_AUX_TRANSFORMS = {"positive": "log", "unit": "logodds", "real": None}


def aux_blocks(layout, family, lik, priors, skip=(), *, coords=None, centered=False) -> dict:
    """Each auxiliary parameter of the likelihood: its `Block` (a prior) or its fixed value.

    A vector parameter (one with a ``dim``: the ordinal thresholds) takes its size from
    ``coords``; one that replaces the intercept is named ``{name}_centered`` when the predictors
    are ``centered``, as in the graph."""
    if lik.kind == "gaussian":
        names = ("sigma",)
    else:
        names = lik.entry.aux if lik.kind == "rows" else ()
    params = {aux.name: aux for aux in family.aux}
    out = {}
    for name in names:
        if name in skip:  # given by a formula
            continue
        spec = priors.aux[name]
        if not isinstance(spec, Prior):
            out[name] = float(spec)
            continue
        param = params[name]
        size = 1 if param.dim is None else len(coords[param.dim])
        sampled = f"{name}_centered" if param.replaces_intercept and centered else name
        block = prior_block(layout, sampled, spec, size, name)
        block.dim, block.ordered = param.dim, bool(param.ordered)
        if block.prior.transform != _AUX_TRANSFORMS[params[name].support]:
            raise Unsupported(f"{name} has a {spec.name} prior, whose support is not {name}'s")
        out[name] = block
    return out


def reduce_rows(columns: list[np.ndarray], n: int):
    """Unique rows of the covariate pattern (``inverse``, ``n_unique``) or None if not worth it."""
    if not columns:
        return np.zeros(n, dtype=np.intp), 1
    key = np.column_stack([np.asarray(c, dtype=float).reshape(n, -1) for c in columns])
    # a column with many distinct values bounds the number of distinct rows from below
    for j in range(key.shape[1]):
        if len(np.unique(key[:, j])) > (1 - _MIN_REDUCTION) * n:
            return None
    _, inverse = np.unique(key, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    n_unique = int(inverse.max()) + 1 if n else 0
    if n_unique > (1 - _MIN_REDUCTION) * n:
        return None
    return inverse, n_unique


#: A pair of grouping factors whose levels cross in more cells than this has its cross block
#: of the Gram matrix summed in chunks of rows by matrix products instead of one `bincount`.
_MAX_CROSS_CELLS = 4_000_000


def gram(intercept, Xc, groups, resp, n):
    """``A'A`` and ``A'resp`` for the rows x coefficients design ``A`` of the intercept, the
    common columns and every group effect (a group term's block has, for each level and column,
    the column's values on that level's rows and zeros elsewhere), without building ``A``: the
    common columns' products directly, each group effect's by `numpy.bincount` over its levels.
    Memory grows with the coefficients, not the rows times the levels."""
    common = ([np.ones(n)] if intercept else []) + [Xc[:, j] for j in range(Xc.shape[1])]
    # every column of A as (rows' values or None for ones, level index or None, levels)
    columns = [(c, None, 1) for c in common]
    for g in groups:
        for j in range(g.n_cols):
            columns.append((None if g.Z is None else g.Z[:, j], (g, j), g.n_levels))
    starts = np.cumsum([0] + [levels for _, _, levels in columns])
    size = int(starts[-1])
    S = np.zeros((size, size))
    t = np.zeros(size)
    positions = []  # each column's coefficient positions in the groups' (level, col) order
    for k, (_, where, levels) in enumerate(columns):
        if where is None:
            positions.append(np.array([starts[k]]))
        else:
            g, j = where
            positions.append(_group_start(starts, columns, g) + np.arange(levels) * g.n_cols + j)
    for a, (va, wa, la) in enumerate(columns):
        ia = None if wa is None else wa[0].idx
        t[positions[a]] = _sums(ia, la, _times(va, resp, n), n)
        for b in range(a, len(columns)):
            vb, wb, lb = columns[b]
            ib = None if wb is None else wb[0].idx
            block = _cross(ia, la, ib, lb, _times(va, vb, n), n)
            S[np.ix_(positions[a], positions[b])] = block
            S[np.ix_(positions[b], positions[a])] = block.T
    return S, t


def _group_start(starts, columns, g):
    """Where group term ``g``'s coefficients start (its first column's block)."""
    for k, (_, where, _) in enumerate(columns):
        if where is not None and where[0] is g:
            return starts[k]
    raise ValueError("group term not in the columns")


def _times(a, b, n):
    """The product of two columns (None: a column of ones)."""
    if a is None and b is None:
        return np.ones(n)
    if a is None:
        return b
    if b is None:
        return a
    return a * b


def _sums(index, levels, values, n):
    """``values`` summed over all rows (``index`` None) or per level."""
    if index is None:
        return np.array([values.sum()])
    return np.bincount(index, weights=values, minlength=levels)


def _cross(ia, la, ib, lb, values, n):
    """The ``(la, lb)`` block of sums of ``values`` over rows, by the levels of each side."""
    if ia is None and ib is None:
        return np.array([[values.sum()]])
    if ia is None:
        return _sums(ib, lb, values, n)[None, :]
    if ib is None:
        return _sums(ia, la, values, n)[:, None]
    if ia is ib:  # the same factor: only a level with itself
        return np.diag(np.bincount(ia, weights=values, minlength=la))
    if la * lb <= _MAX_CROSS_CELLS:
        cells = np.bincount(ia * lb + ib, weights=values, minlength=la * lb)
        return cells.reshape(la, lb)
    out = np.zeros((la, lb))
    np.add.at(out, (ia, ib), values)
    return out


def row_loop(code, Xr, ysum, weight, offset, groups, yaux=None):
    """The compiled likelihood loop for these rows, and each group term's slice of its effects."""
    from bayesformula.density import kernels

    columns, slices, at = [], [], 0
    for g in groups:
        for j in range(g.n_cols):
            columns.append((at, g.n_cols, j, g.idx, None if g.Z is None else g.Z[:, j]))
        slices.append(slice(at, at + g.n_levels * g.n_cols))
        at += g.n_levels * g.n_cols
    loop = kernels.RowLoop(code, Xr, ysum, weight, offset, columns, at, yaux)
    return loop, slices


def times(X, beta):
    """``X @ beta`` for a design in Fortran order; a one-column design as a product of
    vectors, which numpy computes 3-5x faster than the matrix product."""
    if X.shape[1] == 1:
        return X[:, 0] * beta[0]
    return X @ beta


def first_rows(inverse, n_unique):
    first = np.full(n_unique, -1, dtype=np.intp)
    order = np.arange(len(inverse))[::-1]
    first[inverse[order]] = order  # the last write wins: the first row of each pattern
    return first


def merge_priors(blocks):
    """One vectorised prior per distribution: ``[(prior, positions, [(block, part)])]``."""
    groups: dict[tuple, list] = {}
    for block in blocks:
        groups.setdefault((block.prior.name, block.prior.positive), []).append(block)
    merged = []
    for (name, positive), members in groups.items():
        where = np.concatenate([np.arange(b.start, b.start + b.size) for b in members])
        params = {
            key: np.concatenate(
                [
                    np.broadcast_to(np.asarray(b.prior.params[key], float), (b.size,))
                    for b in members
                ]
            )
            for key in PRIOR_KINDS[name].params  # not the constants cached in params
        }
        parts, offset = [], 0
        for b in members:
            parts.append((b.name, slice(offset, offset + b.size)))
            offset += b.size
        merged.append((NumericPrior(name, params, positive, members[0].prior.unit), where, parts))
    return merged


def prior_terms(merged, x, grad, lp: float = 0.0) -> tuple[float, dict]:
    """``lp`` plus the priors' log-density at ``x`` (Jacobians of the log and logit scales
    included), its gradient added to ``grad``, and each prior's block's values by name
    (`merge_priors`)."""
    values = {}
    for prior, where, parts in merged:
        u = x[where]
        if prior.positive:
            v = np.exp(u)
            lb, gb = prior.logp_grad(v)
            lp += lb + float(u.sum())
            grad[where] += gb * v + 1.0
        elif prior.unit:  # sampled on logit(value)
            v = expit(u)
            lb, gb = prior.logp_grad(v)
            lp += lb - float(np.sum(np.logaddexp(0.0, u) + np.logaddexp(0.0, -u)))
            grad[where] += gb * v * (1.0 - v) + 1.0 - 2.0 * v
        else:
            v = u
            lb, gb = prior.logp_grad(u)
            lp += lb
            grad[where] += gb
        for name, part in parts:
            values[name] = v[part]
    return lp, values


def anchor_effects(groups, design, anchor, intercept, common, X, xbar):
    """Center the ``anchor`` factor's effects on the matching common coefficients.

    For the anchor factor (centered), the sampler works on each level's own coefficients: its
    intercept ``a_j`` (at the predictors' means) and, for a numeric slope ``x|g`` matching a
    common term ``x`` (in the intercept's correlated block if it has one, otherwise
    independent), its slope ``c_j``. The named effects follow by a unit-Jacobian linear map:
    ``b1_j = c_j - beta_x`` and ``b0_j = a_j - Intercept_centered - sum_x mean(x) * b1_j``, so
    ``eta = a_j + c_j * (x - mean(x)) + ...``: the ridges between the common coefficients and
    the means of the group effects are gone.
    """
    if anchor is None or intercept is None:
        return
    blocks = {term.name: (term, block) for term, block in common}
    intercept_term = None
    slopes = []
    for i, g in enumerate(groups):
        if g.factor != anchor or g.noncentered:
            continue
        if g.intercept:
            intercept_term = g
            continue
        match = blocks.get(g.name.split("|")[0])
        if g.n_cols != 1 or match is None or len(match[0].columns) != 1:
            continue
        col = match[0].slice.start
        if not np.array_equal(g.Z[:, 0], X[:, col]):
            continue
        g.anchor_idx = match[1].start
        slopes.append((i, float(xbar[col])))
    if intercept_term is None:
        for g in groups:
            g.anchor_idx = None
        return
    # slopes anchor with an intercept of their own kind: in the intercept's correlated block,
    # or independent as the intercept is
    home = None if intercept_term.corr is None else intercept_term.corr[0]
    kept = []
    for i, mean in slopes:
        slope_home = None if groups[i].corr is None else groups[i].corr[0]
        if slope_home is home:
            kept.append((i, mean))
        else:
            groups[i].anchor_idx = None
    intercept_term.anchor_idx = intercept.start
    intercept_term.slopes = kept
    if home is not None:  # the block's joint effects are anchored together
        home.anchor(
            intercept_term.corr[1].start,
            intercept.start,
            [(groups[i].corr[1].start, groups[i].anchor_idx, mean) for i, mean in kept],
        )


def centered_effects(g, raw, x, groups, effects):
    """Named effects of a centered term from its raw (possibly anchored) values."""
    if g.anchor_idx is None:
        return raw
    b = raw - x[g.anchor_idx]
    for j, mean in g.slopes or ():
        b = b - mean * effects[j][1]
    return b


def group_backward(groups, order, lp, grad, db_lik, effects, blocks=()):
    """Add the group effects' part of the gradient, given d(likelihood)/d(effects);
    ``blocks``: the correlated blocks with the state of their `CorrelatedBlock.forward`."""
    extra = [0.0] * len(groups)  # derivative reaching b through an anchored intercept
    joint = {id(block): np.zeros((block.n_levels, block.n)) for block, _ in blocks}
    for i in reversed(order):
        g = groups[i]
        raw, b, sig = effects[i]
        db = db_lik[i]
        if g.corr is not None:
            block, cols = g.corr
            joint[id(block)][:, cols] += db
            continue
        if g.noncentered:
            draw = db * sig - raw
            dsig = (db * raw).sum(axis=0)
        else:
            inv2 = 1.0 / (sig * sig)
            draw = db - b * inv2 + extra[i]
            dsig = (b * b).sum(axis=0) * inv2 / sig - g.n_levels / sig
            if g.anchor_idx is not None:
                grad[g.anchor_idx] -= float(draw.sum())
            for j, mean in g.slopes or ():
                extra[j] = extra[j] - mean * draw
        grad[g.effects.slice] += draw.reshape(-1)
        if g.sigma is not None:
            grad[g.sigma.slice] += dsig * sig
    for block, state in blocks:
        block.backward(grad, joint[id(block)], state)
    return float(lp), grad


def ordered_transform(blocks, logp_grad, expand, start):
    """Sample ``blocks`` through PyMC's ordered transform.

    The sampler's coordinates ``u`` of an increasing vector ``v`` are ``u_0 = v_0`` and
    ``u_j = log(v_j - v_{j-1})``; the log-density gains the Jacobian ``sum_{j>0} u_j``.
    ``logp_grad`` and ``expand`` take the values ``v``; returned are their versions in ``u`` and
    the starting point ``start`` (values, made strictly increasing) in ``u``.
    """
    slices = [b.slice for b in blocks]

    def values(x):
        v = np.array(x, dtype=float)
        for s in slices:
            v[s] = np.cumsum(np.concatenate([x[s][:1], np.exp(x[s][1:])]))
        return v

    def on_u(x):
        x = np.asarray(x, dtype=float)
        lp, gv = logp_grad(values(x))
        grad = np.array(gv, dtype=float)
        for s in slices:
            u = x[s]
            tail = np.cumsum(gv[s][::-1])[::-1]  # d lp / d v_j summed over the later values
            grad[s] = tail * np.concatenate([[1.0], np.exp(u[1:])])
            grad[s.start + 1 : s.stop] += 1.0
            lp += float(np.sum(u[1:]))
        return lp, grad

    u0 = np.array(start, dtype=float)
    for s in slices:
        v = np.array(start[s], dtype=float)
        for j in range(1, v.size):  # strictly increasing, as the transform needs
            v[j] = max(v[j], v[j - 1] + 0.1)
        u0[s] = np.concatenate([v[:1], np.log(np.diff(v))])
    return on_u, lambda x: expand(values(np.asarray(x, dtype=float))), u0
