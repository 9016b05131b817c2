"""The sampling defaults every engine and the command line use: draws, warm-up and chains.

One set of numbers, so that ``fit()``, ``fit(inference_method=...)`` with any engine and
``bayesformula fit`` draw the same amount for the same model, and the same seed gives the same
draws on any machine (the chain count does not follow the number of cores).
"""

from __future__ import annotations

from typing import Any

from bayesformula.density.model import DensityModel

__all__ = [
    "DEFAULT_CHAINS",
    "DEFAULT_DRAWS",
    "DEFAULT_TUNE",
    "FAST_PATH_TUNE",
    "default_chains",
    "default_tune",
    "describe_defaults",
]

#: Draws kept per chain.
DEFAULT_DRAWS = 1000

#: Chains per fit, with every engine and on every machine. Two chains are enough for the
#: rank-normalised split r_hat the diagnostics report (each chain is split in halves), take one
#: core each on a two-core machine, and are what PyMC (and so Bambi) runs there; ``chains=4``
#: gives r_hat and the effective sample size more to go on.
DEFAULT_CHAINS = 2

#: Warm-up steps per chain, unless nutpie samples the fast path's log-density.
DEFAULT_TUNE = 1000

#: Warm-up steps per chain when nutpie samples the fast path's numpy log-density (a
#: `DensityModel`): nutpie's adaptation converges there in fewer steps than PyMC's needs.
FAST_PATH_TUNE = 300


def default_tune(target: Any) -> int:
    """Warm-up steps for sampling ``target`` when ``tune`` is not given.

    Parameters
    ----------
    target : DensityModel or pymc.Model
        What the sampler is given: the fast path's log-density or the PyMC graph.

    Returns
    -------
    int
        `FAST_PATH_TUNE` for a `DensityModel`, `DEFAULT_TUNE` otherwise.

    Examples
    --------
    >>> default_tune(object())
    1000
    """
    return FAST_PATH_TUNE if isinstance(target, DensityModel) else DEFAULT_TUNE


def default_chains(chains: int | None) -> int:
    """``chains``, or `DEFAULT_CHAINS` when it is None.

    Examples
    --------
    >>> default_chains(None), default_chains(4)
    (2, 4)
    """
    return DEFAULT_CHAINS if chains is None else chains


def describe_defaults() -> str:
    """The defaults in one sentence, as the command line's help and the docs give them.

    Examples
    --------
    >>> print(describe_defaults())
    2 chains x 1000 draws after 300 warm-up steps on the fast path (1000 otherwise)
    """
    return (
        f"{DEFAULT_CHAINS} chains x {DEFAULT_DRAWS} draws after {FAST_PATH_TUNE} warm-up steps "
        f"on the fast path ({DEFAULT_TUNE} otherwise)"
    )
