"""Grouping factors padded to a common number of levels, so that datasets whose groups differ
share one compile.

A model's graph has one group effect per level of each grouping factor, so datasets with 12 and
15 stores are two structures, each compiled (`bayesformula.samplers.reuse`). Levels with no rows
change nothing else in the posterior: their effects do not enter the likelihood, and their
prior, given the hyperparameters, is independent of every other level's (one more draw from
the population distribution, correlated terms included). Integrating them out gives back the
unpadded posterior exactly, so padding every dataset to the largest number of levels gives each
the posterior it would have alone, and one compile for all. The padded levels are removed from
the draws before anything is summarised.

Only factors that appear in the main formula's group terms are padded (not factors of a
distributional formula's own group terms); a model with group terms in its auxiliary formulas
is left as it is.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd

__all__ = ["PADDING", "drop_padding", "level_counts", "padded"]

#: The labels of added levels: "(padding 1)", "(padding 2)", ...
PADDING = "(padding {})"
_LABEL = re.compile(r"\(padding \d+\)")


def level_counts(factors: tuple[str, ...], frames: list[pd.DataFrame]) -> dict[str, int]:
    """The largest number of levels each grouping factor (``"g"``, ``"g1:g2"``) has in any
    of ``frames`` (rows with a missing part left out)."""
    counts: dict[str, int] = {}
    for factor in factors:
        columns = factor.split(":")
        if not all(c in frame.columns for frame in frames for c in columns):
            continue
        counts[factor] = max(len(frame[columns].dropna().drop_duplicates()) for frame in frames)
    return counts


def padded(spec, counts: dict[str, int]):
    """``spec`` with each grouping factor's levels padded to ``counts`` (the spec itself where
    none needs it, or where auxiliary formulas have group terms)."""
    design = spec.design
    if any(part.design.group_terms for part in spec.aux_parts.values()):
        return spec
    levels = dict(design.group_levels)
    changed = False
    for factor, have in design.group_levels.items():
        extra = counts.get(factor, len(have)) - len(have)
        if extra > 0:
            levels[factor] = tuple(have) + tuple(PADDING.format(i + 1) for i in range(extra))
            changed = True
    if not changed:
        return spec
    return dataclasses.replace(spec, design=dataclasses.replace(design, group_levels=levels))


def drop_padding(dataset):
    """``dataset`` (an ``xarray.Dataset`` of draws) without the padded levels."""
    drop = {}
    for dim, index in dataset.indexes.items():
        mask = np.array([bool(_LABEL.fullmatch(str(label))) for label in index])
        if mask.any():
            drop[dim] = index[mask]
    return dataset.drop_sel(drop) if drop else dataset
