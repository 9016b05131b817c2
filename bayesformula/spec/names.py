"""Names the PyMC graph and the fast path share (no PyMC import: the fast path never needs one)."""

from __future__ import annotations

__all__ = ["data_name", "design_coords", "special_data", "term_data_name"]


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
    for term in getattr(design, "special_terms", ()):
        coords.update(term.coords())
    return coords


def term_data_name(term, key: str) -> str:
    """Name of a ``mo()``/``hsgp()`` term's data container (``"__mo_codes_mo(x)"``)."""
    return data_name(f"{term.kind}_{key}", term.name)


def special_data(design, arrays: dict | None = None) -> dict:
    """Data container name -> array for the design's ``mo()``/``hsgp()`` terms.

    ``arrays`` maps term names to the arrays of new data (``NewData.special``); by default the
    fitting data's arrays are used.
    """
    out = {}
    for term in getattr(design, "special_terms", ()):
        values = term.arrays if arrays is None else arrays[term.name]
        for key, value in values.items():
            out[term_data_name(term, key)] = value
    return out
