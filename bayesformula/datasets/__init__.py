"""Small real datasets shipped with the package, so examples and tests work offline."""

from __future__ import annotations

from importlib import resources

import pandas as pd

from bayesformula.errors import DatasetError, did_you_mean

__all__ = ["load_data", "list_datasets"]

_DESCRIPTIONS = {
    "bioassay": "dose-response of animal deaths at four doses (Racine et al. 1986; BDA3 3.7)",
    "sleepstudy": "reaction times over 10 days of sleep deprivation, 18 subjects (lme4)",
}


def list_datasets() -> dict[str, str]:
    """Names of the bundled datasets with a one-line description (sources in SOURCES.md).

    Examples
    --------
    >>> sorted(list_datasets())
    ['bioassay', 'sleepstudy']
    """
    return dict(_DESCRIPTIONS)


def load_data(name: str) -> pd.DataFrame:
    """Load a bundled dataset as a DataFrame (no network needed).

    Parameters
    ----------
    name : str
        One of :func:`list_datasets`.

    Raises
    ------
    DatasetError
        For an unknown name (lists the bundled ones).

    Examples
    --------
    >>> load_data("bioassay").shape
    (4, 3)
    """
    if name not in _DESCRIPTIONS:
        raise DatasetError(did_you_mean(str(name), _DESCRIPTIONS, "dataset"))
    with resources.files(__name__).joinpath(f"{name}.csv").open("r") as handle:
        return pd.read_csv(handle)
