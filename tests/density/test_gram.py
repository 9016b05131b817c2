"""The Gram matrix of the gaussian sufficient statistics (`density.parts.gram`) equals the one
of the dense rows x coefficients design, built here as the reference."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from bayesformula.density.parts import gram


def dense(intercept, Xc, groups, n):
    """The design itself: intercept, common columns, then each group term's block (column
    ``level * n_cols + j`` holds column j's values on that level's rows)."""
    blocks = [np.ones((n, 1))] if intercept else []
    blocks.append(Xc)
    for g in groups:
        block = np.zeros((n, g.n_levels * g.n_cols))
        for j in range(g.n_cols):
            block[np.arange(n), g.idx * g.n_cols + j] = 1.0 if g.Z is None else g.Z[:, j]
        blocks.append(block)
    return np.column_stack(blocks)


def term(rng, n, levels, cols, slopes, idx=None):
    idx = rng.integers(0, levels, n) if idx is None else idx
    return SimpleNamespace(
        n_levels=levels, n_cols=cols, idx=idx, Z=rng.normal(size=(n, cols)) if slopes else None
    )


@pytest.mark.parametrize("intercept", [True, False])
@pytest.mark.parametrize("p", [0, 1, 3])
@pytest.mark.parametrize(
    "layout",
    ["none", "intercepts", "slopes", "crossed", "same factor twice", "empty level"],
)
def test_gram_equals_the_dense_designs(intercept, p, layout):
    rng = np.random.default_rng(abs(hash((intercept, p, layout))) % 2**32)
    n = 300
    Xc = rng.normal(size=(n, p))
    groups = {
        "none": [],
        "intercepts": [term(rng, n, 6, 1, False)],
        "slopes": [term(rng, n, 5, 2, True)],
        "crossed": [term(rng, n, 4, 1, False), term(rng, n, 7, 2, True)],
        "same factor twice": [],
        "empty level": [term(rng, n, 9, 1, False, idx=rng.integers(0, 8, n))],
    }[layout]
    if layout == "same factor twice":  # (1|g) + (0 + z|g): one index, two terms
        idx = rng.integers(0, 5, n)
        groups = [term(rng, n, 5, 1, False, idx=idx), term(rng, n, 5, 1, True, idx=idx)]
    resp = rng.normal(size=n)
    A = dense(intercept, Xc, groups, n)
    S, t = gram(intercept, Xc, groups, resp, n)
    np.testing.assert_allclose(S, A.T @ A, rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(t, A.T @ resp, rtol=1e-12, atol=1e-10)


def test_a_million_rows_and_a_thousand_levels():
    """The dense design would hold 8 GB; the Gram matrix of 1,003 coefficients 8 MB."""
    rng = np.random.default_rng(0)
    n = 1_000_000
    groups = [term(rng, n, 1000, 1, False)]
    Xc = rng.normal(size=(n, 2))
    S, t = gram(True, Xc, groups, rng.normal(size=n), n)
    assert S.shape == (1003, 1003)
    counts = np.bincount(groups[0].idx, minlength=1000)
    np.testing.assert_array_equal(np.diag(S)[3:], counts)
    assert S[0, 0] == n and np.allclose(S[0, 3:], counts)
