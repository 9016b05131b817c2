"""Draws saved by earlier versions, in today's layout.

Up to version 0.1 a categorical term with one column (a two-level factor beside the
intercept, ``phase`` with levels ``a``, ``b``) was a scalar, its level lost; it now keeps the
level along its dim (``phase`` with dim ``phase_dim`` = ``["b"]``), as do the group-specific
effects of such an expression (``phase|g``, ``phase|g_sigma``). `with_level_dims` gives the
stored draws that dim, so that a file saved before predicts with the model rebuilt today.
"""

from __future__ import annotations

from bayesformula.core.tree import dataset, has_group, set_group

__all__ = ["with_level_dims"]

#: Groups that hold parameter draws.
_PARAMETER_GROUPS = ("posterior", "prior")
#: Leading dims of draws.
_SAMPLE_DIMS = ("chain", "draw")


def _one_level_dims(spec) -> dict[str, tuple[str, object, int, int]]:
    """Variable -> (dim, its one coordinate, its position after the sample dims, the number
    of dims after the sample dims it had without it) for the variables of one-column
    categorical terms."""
    extra = int(spec.family.per_category)  # a trailing category dim
    out: dict[str, tuple[str, object, int, int]] = {}
    for design in spec.designs:
        for term in design.common_terms:
            if term.dim is not None and len(term.labels) == 1:
                out[term.name] = (term.dim, term.labels[0], 0, extra)
        for term in design.group_terms:
            if term.expr_dim is not None and len(term.columns) == 1:
                dim, level = term.expr_dim, term.columns[0]
                out[term.name] = (dim, level, 1, 1 + extra)
                out[f"{term.name}_offset"] = (dim, level, 1, 1 + extra)
                out[f"{term.name}_sigma"] = (dim, level, 0, extra)
    return out


def with_level_dims(spec, idata):
    """``idata`` (changed in place and returned) with the dim of each one-column categorical
    term added to draws stored without it.

    Parameters
    ----------
    spec : ModelSpec
        The model the draws belong to.
    idata : xarray.DataTree
        Its fit, as read from a file.

    Returns
    -------
    xarray.DataTree
    """
    expected = _one_level_dims(spec)
    if not expected:
        return idata
    for group in _PARAMETER_GROUPS:
        if not has_group(idata, group):
            continue
        data = dataset(idata, group)
        changed = False
        for name, (dim, level, position, before) in expected.items():
            if name not in data.data_vars:
                continue
            dims = data[name].dims
            sample = sum(d in _SAMPLE_DIMS for d in dims)
            if dim in dims or len(dims) - sample != before:
                continue
            axis = sample + position
            data[name] = data[name].expand_dims({dim: [level]}, axis=axis)
            changed = True
        if changed:
            set_group(idata, group, data)
    return idata
