"""Names the PyMC graph and the fast path share (no PyMC import: the fast path never needs one)."""

from __future__ import annotations

__all__ = ["data_name", "design_coords"]


def data_name(kind: str, key: str = "") -> str:
    """Name of a ``pm.Data`` container (``data_name("idx", "g") == "__idx_g"``)."""
    return f"__{kind}_{key}" if key else f"__{kind}"


def design_coords(design) -> dict[str, list]:
    """Coordinates of the model's dims: observations, term columns, group levels."""
    coords: dict[str, list] = {"__obs__": list(design.index)}
    for term in design.common_terms:
        if term.dim:
            coords[term.dim] = list(term.labels)
    for term in design.group_terms:
        coords[term.factor_dim] = list(design.group_levels[term.factor])
        if term.expr_dim:
            coords[term.expr_dim] = list(term.columns)
    for block in getattr(design, "group_blocks", ()):
        coords[block.dim] = list(block.columns)
        coords[block.corr_dim] = list(block.corr_labels)
    return coords
