"""Small helpers of the plot tests."""

from __future__ import annotations

#: Sampler settings of the fits made by the plot tests: few draws, fixed seeds.
SMALL_FIT = {"draws": 200, "tune": 200, "chains": 2, "cores": 1, "progressbar": False}


def panel_titles(fig) -> list[str]:
    """Titles of the drawn panels (ArviZ leaves the unused cells of its grid untitled)."""
    return [ax.get_title() for ax in fig.axes if ax.get_title()]


def stacked(idata, name):
    """Posterior draws of ``name`` flattened over chain and draw: (S,) or (S, k)."""
    da = idata["posterior"][name]
    other = [d for d in da.dims if d not in ("chain", "draw")]
    return da.transpose("chain", "draw", *other).values.reshape((-1,) + da.shape[2:])
