"""Small real datasets shipped with the package, so examples and tests work offline."""

from __future__ import annotations

from importlib import resources

import pandas as pd

from bayesformula.errors import DatasetError, did_you_mean

__all__ = ["load_data", "list_datasets"]

_DESCRIPTIONS = {
    "bioassay": "dose-response of animal deaths at four doses (Racine et al. 1986; BDA3 3.7)",
    "cherry_blossoms": "day of first cherry blossom in Kyoto, years 801-2015 (Aono; rethinking)",
    "epilepsy": "seizure counts of 59 epileptics in four 2-week periods (Thall & Vail 1990; MASS)",
    "fish": "fish caught by 250 groups of park visitors, many zeros (rethinking; UCLA fish)",
    "my_data": "toy data: 50 rows of a response y and two predictors x, z (Bambi's my_data)",
    "radon": "log radon in 919 Minnesota homes in 85 counties (Gelman & Hill 2007)",
    "sleepstudy": "reaction times over 10 days of sleep deprivation, 18 subjects (lme4)",
    "wine": "ordinal bitterness ratings of wine by 9 judges (Randall 1989; ordinal)",
}

# Column dtypes applied after ``read_csv`` (the CSVs stay plain): factors that are stored as
# numeric ids become categoricals, so formulas treat them as groups or levels, not numbers.
_DTYPES: dict[str, dict[str, pd.CategoricalDtype]] = {
    "epilepsy": {
        "trt": pd.CategoricalDtype(["placebo", "progabide"]),
        "subject": pd.CategoricalDtype(range(1, 60)),
    },
    "wine": {
        "rating": pd.CategoricalDtype(range(1, 6), ordered=True),
        "temp": pd.CategoricalDtype(["cold", "warm"]),
        "contact": pd.CategoricalDtype(["no", "yes"]),
        "bottle": pd.CategoricalDtype(range(1, 9)),
        "judge": pd.CategoricalDtype(range(1, 10)),
    },
}


def list_datasets() -> dict[str, str]:
    """Names of the bundled datasets with a one-line description (sources in SOURCES.md).

    Examples
    --------
    >>> sorted(list_datasets())
    ['bioassay', 'cherry_blossoms', 'epilepsy', 'fish', 'my_data', 'radon', 'sleepstudy', 'wine']
    """
    return dict(_DESCRIPTIONS)


def load_data(name: str) -> pd.DataFrame:
    """Load a bundled dataset as a DataFrame (no network needed).

    Parameters
    ----------
    name : str
        One of `list_datasets`.

    Raises
    ------
    DatasetError
        For an unknown name (lists the bundled ones).

    Examples
    --------
    >>> load_data("bioassay").shape
    (4, 3)
    >>> load_data("wine")["rating"].cat.categories.tolist()
    [1, 2, 3, 4, 5]
    """
    if name not in _DESCRIPTIONS:
        raise DatasetError(did_you_mean(str(name), _DESCRIPTIONS, "dataset"))
    with resources.files(__name__).joinpath(f"{name}.csv").open("r") as handle:
        data = pd.read_csv(handle)
    dtypes = _DTYPES.get(name)
    if dtypes:
        data = data.astype(dtypes)
    return data
