"""Numbers behind ``hsgp()`` terms that need no formula: the Laplacian basis functions, the
shortest lengthscale a basis represents, and the InverseGamma prior fitted to a range."""

from __future__ import annotations

import itertools

import numpy as np

__all__ = [
    "SHORTEST_LENGTHSCALE",
    "basis_indices",
    "hsgp_basis",
    "inverse_gamma_tails",
]


#: Riutort-Mayol et al. (2022, section 4.3; also ``pymc.gp.hsgp_approx.approx_hsgp_hyperparams``):
#: ``m`` basis functions on ``[-L, L]`` represent lengthscales down to about ``a * L / m``.
SHORTEST_LENGTHSCALE = {"expquad": 1.75, "matern32": 3.42, "matern52": 2.65}


# ------------------------------------------------------------------ Gaussian processes
def basis_indices(m: tuple[int, ...]) -> np.ndarray:
    """``(prod(m), d)`` indices ``j`` of the basis functions (the first variable's varies
    slowest)."""
    return np.array(list(itertools.product(*(range(1, k + 1) for k in m))), dtype=np.int64)


def hsgp_basis(xs: np.ndarray, L: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Laplacian eigenfunctions on ``[-L, L]`` at centred inputs.

    Parameters
    ----------
    xs : ndarray
        ``(n, d)`` inputs minus the centre of the domain.
    L : ndarray
        ``(d,)`` boundary, or ``(n, d)`` one per row.
    indices : ndarray
        ``(M, d)`` positive integers ``j`` (see `basis_indices`).

    Returns
    -------
    ndarray
        ``(n, M)``: ``prod_d sin(pi j_d (x_d + L_d) / (2 L_d)) / sqrt(L_d)``.
    """
    xs = np.atleast_2d(np.asarray(xs, dtype=float))
    L = np.broadcast_to(np.asarray(L, dtype=float), xs.shape)
    phi = np.ones((xs.shape[0], indices.shape[0]))
    for d in range(xs.shape[1]):
        omega = np.pi * indices[None, :, d] / (2.0 * L[:, d, None])
        phi *= np.sin(omega * (xs[:, d, None] + L[:, d, None])) / np.sqrt(L[:, d, None])
    return phi


def _max_distance(X: np.ndarray) -> float:
    """Largest Euclidean distance between two rows of ``X``."""
    if X.shape[1] == 1:
        return float(np.ptp(X[:, 0]))
    points = np.unique(X, axis=0)
    if len(points) > 3:
        try:
            from scipy.spatial import ConvexHull

            points = points[ConvexHull(points).vertices]
        except Exception:  # noqa: BLE001 - degenerate (e.g. collinear) points: no hull
            if len(points) > 4000:  # the bounding box's diagonal bounds the distance above
                return float(np.linalg.norm(np.ptp(points, axis=0)))
    from scipy.spatial.distance import pdist

    return float(pdist(points).max()) if len(points) > 1 else 0.0


def inverse_gamma_tails(lower: float, upper: float, tail: float = 0.01) -> tuple[float, float]:
    """``(alpha, beta)`` of the InverseGamma with ``tail`` probability below ``lower`` and
    ``tail`` above ``upper``.

    With ``X = 1 / G`` and ``G ~ Gamma(alpha, rate=beta)``, the quantiles of ``X`` are
    ``beta / q`` for quantiles ``q`` of ``Gamma(alpha, 1)``; ``alpha`` solves
    ``q(1 - tail) / q(tail) = upper / lower`` (the ratio falls as ``alpha`` grows) and
    ``beta = q(1 - tail) * lower``.
    """
    from scipy.optimize import brentq
    from scipy.special import gammaincinv

    if not 0 < lower < upper:
        raise ValueError(f"need 0 < lower < upper, got {lower}, {upper}")
    target = np.log(upper / lower)

    def gap(log_alpha):
        a = np.exp(log_alpha)
        return np.log(gammaincinv(a, 1 - tail)) - np.log(gammaincinv(a, tail)) - target

    # the ratio of quantiles is finite from alpha = 0.05 (ratios up to about 1e40) to 1e6
    alpha = float(np.exp(brentq(gap, np.log(0.05), np.log(1e6), xtol=1e-12)))
    beta = float(gammaincinv(alpha, 1 - tail) * lower)
    return alpha, beta
