"""The bundled datasets load offline with known values; an unknown name is a DatasetError."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayesformula as bf
from bayesformula.errors import BayesformulaError, DatasetError

SHARED_SLEEPSTUDY = Path(__file__).resolve().parents[3] / "shared" / "data" / "sleepstudy.csv"


def test_list_datasets():
    datasets = bf.list_datasets()
    assert sorted(datasets) == ["bioassay", "sleepstudy"]
    assert all(isinstance(v, str) and v for v in datasets.values())
    # a copy: changing it does not change the registry
    datasets["mine"] = "x"
    assert "mine" not in bf.list_datasets()


def test_bioassay():
    df = bf.load_data("bioassay")
    assert isinstance(df, pd.DataFrame)
    assert df.shape == (4, 3)
    assert list(df.columns) == ["dose", "n", "deaths"]
    assert df["deaths"].tolist() == [0, 1, 3, 5]
    assert df["n"].tolist() == [5, 5, 5, 5]
    np.testing.assert_allclose(df["dose"], [-0.86, -0.30, -0.05, 0.73])


def test_sleepstudy():
    df = bf.load_data("sleepstudy")
    assert df.shape == (180, 3)
    assert list(df.columns) == ["Reaction", "Days", "Subject"]
    assert df["Subject"].nunique() == 18
    assert (df.groupby("Subject").size() == 10).all()
    assert sorted(df["Days"].unique().tolist()) == list(range(10))
    assert df["Reaction"].mean() == pytest.approx(298.50789, abs=1e-4)
    assert df.iloc[0].tolist() == [249.56, 0, 308]
    assert df["Subject"].min() == 308 and df["Subject"].max() == 372


@pytest.mark.skipif(not SHARED_SLEEPSTUDY.exists(), reason="no shared copy of sleepstudy")
def test_sleepstudy_matches_shared_copy():
    shared = pd.read_csv(SHARED_SLEEPSTUDY)
    shared = shared.drop(columns=[c for c in shared.columns if c.lower() == "rownames"])
    bundled = bf.load_data("sleepstudy")
    pd.testing.assert_frame_equal(
        bundled[["Reaction", "Days", "Subject"]].reset_index(drop=True),
        shared[["Reaction", "Days", "Subject"]].reset_index(drop=True),
        check_dtype=False,
    )


def test_load_returns_a_fresh_frame():
    first = bf.load_data("bioassay")
    first.loc[0, "deaths"] = 99
    assert bf.load_data("bioassay").loc[0, "deaths"] == 0


@pytest.mark.parametrize("cls", [DatasetError, BayesformulaError, KeyError, LookupError])
def test_unknown_dataset_suggests_and_lists_known(cls):
    with pytest.raises(cls, match=r"unknown dataset 'bioasay'; did you mean 'bioassay'\?") as info:
        bf.load_data("bioasay")
    message = str(info.value)
    assert "Known: 'bioassay', 'sleepstudy'." in message
    # a KeyError would show its message quoted; ours reads as plain text
    assert message.startswith("unknown dataset")


@pytest.mark.parametrize("name", ["iris", 3, None])
def test_unknown_dataset_without_close_match(name):
    with pytest.raises(DatasetError, match=rf"unknown dataset '{name}'\. Known: 'bioassay', "):
        bf.load_data(name)
    with pytest.raises(KeyError, match="Known: 'bioassay', 'sleepstudy'"):
        bf.load_data(name)
