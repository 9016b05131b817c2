"""The bundled datasets load offline with known values; an unknown name is a DatasetError."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayesformula as bf
from bayesformula.errors import BayesformulaError, DatasetError

SHARED_SLEEPSTUDY = Path(__file__).resolve().parents[3] / "shared" / "data" / "sleepstudy.csv"
KNOWN = "'bioassay', 'epilepsy', 'radon', 'sleepstudy', 'wine'"


def test_list_datasets():
    datasets = bf.list_datasets()
    assert sorted(datasets) == ["bioassay", "epilepsy", "radon", "sleepstudy", "wine"]
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
    assert f"Known: {KNOWN}." in message
    # a KeyError would show its message quoted; ours reads as plain text
    assert message.startswith("unknown dataset")


@pytest.mark.parametrize("name", ["iris", 3, None])
def test_unknown_dataset_without_close_match(name):
    with pytest.raises(DatasetError, match=rf"unknown dataset '{name}'\. Known: 'bioassay', "):
        bf.load_data(name)
    with pytest.raises(KeyError, match=f"Known: {KNOWN}"):
        bf.load_data(name)


def test_radon():
    df = bf.load_data("radon")
    assert df.shape == (919, 4)
    assert list(df.columns) == ["log_radon", "floor", "uranium", "county"]
    assert df["log_radon"].dtype == np.float64 and df["uranium"].dtype == np.float64
    assert df["floor"].dtype == np.int64
    assert pd.api.types.is_string_dtype(df["county"])
    assert not df.isna().any().any()
    # 919 homes in 85 Minnesota counties (Gelman & Hill 2007, ch. 12)
    assert df["county"].nunique() == 85
    assert df["county"].value_counts()["ST LOUIS"] == 116
    assert sorted(df["floor"].unique().tolist()) == [0, 1]
    assert df["floor"].sum() == 153  # first-floor readings; the other 766 are basements
    # sum of log radon computed from the HLMdiag pickle at extraction time
    assert df["log_radon"].sum() == pytest.approx(1125.4282260717373, rel=1e-12)
    # one (log) uranium level per county
    assert (df.groupby("county")["uranium"].nunique() == 1).all()
    assert df.loc[0].tolist() == pytest.approx([0.78845736036427, 1, -0.6890475953545, "AITKIN"])
    # complete pooling fit from Gelman & Hill (sec. 12.2): log_radon = 1.33 - 0.61 floor,
    # which also pins the coding 0 = basement (higher radon), 1 = first floor
    design = np.column_stack([np.ones(len(df)), df["floor"]])
    coef = np.linalg.lstsq(design, df["log_radon"].to_numpy(), rcond=None)[0]
    np.testing.assert_allclose(coef, [1.33, -0.61], atol=0.005)


def test_epilepsy():
    df = bf.load_data("epilepsy")
    assert df.shape == (236, 8)
    assert list(df.columns) == [
        "seizures",
        "trt",
        "base",
        "age",
        "subject",
        "period",
        "lbase",
        "lage",
    ]
    for column in ["seizures", "base", "age", "period"]:
        assert df[column].dtype == np.int64
    for column in ["lbase", "lage"]:
        assert df[column].dtype == np.float64
    assert isinstance(df["trt"].dtype, pd.CategoricalDtype)
    assert df["trt"].cat.categories.tolist() == ["placebo", "progabide"]
    assert isinstance(df["subject"].dtype, pd.CategoricalDtype)
    assert df["subject"].cat.categories.tolist() == list(range(1, 60))
    assert not df.isna().any().any()
    # 59 subjects x 4 periods
    assert df["subject"].nunique() == 59
    assert (df.groupby("subject", observed=True).size() == 4).all()
    assert (pd.crosstab(df["subject"], df["period"]) == 1).all().all()
    # 28 placebo and 31 progabide patients (Thall & Vail 1990)
    per_arm = df.drop_duplicates("subject")["trt"].value_counts()
    assert per_arm.to_dict() == {"placebo": 28, "progabide": 31}
    # sums computed from the MASS pickle at extraction time
    assert df["seizures"].sum() == 1948
    assert df.groupby("period")["seizures"].sum().tolist() == [528, 493, 496, 431]
    assert df["base"].sum() == 7368
    # lbase / lage are the centred logs of base / age, constant within subject
    first = df[df["period"] == 1]
    np.testing.assert_allclose(first["lbase"], np.log(first["base"]) - np.log(first["base"]).mean())
    np.testing.assert_allclose(first["lage"], np.log(first["age"]) - np.log(first["age"]).mean())
    assert (df.groupby("subject", observed=True)[["base", "age"]].nunique() == 1).all().all()


def test_wine():
    df = bf.load_data("wine")
    assert df.shape == (72, 6)
    assert list(df.columns) == ["response", "rating", "temp", "contact", "bottle", "judge"]
    assert df["response"].dtype == np.int64
    rating = df["rating"].dtype
    assert isinstance(rating, pd.CategoricalDtype) and rating.ordered
    assert rating.categories.tolist() == [1, 2, 3, 4, 5]
    assert df["rating"].min() == 1 and df["rating"].max() == 5
    assert df["temp"].cat.categories.tolist() == ["cold", "warm"]
    assert df["contact"].cat.categories.tolist() == ["no", "yes"]
    assert df["bottle"].cat.categories.tolist() == list(range(1, 9))
    assert df["judge"].cat.categories.tolist() == list(range(1, 10))
    assert not df.isna().any().any()
    # 9 judges x 8 bottles, each pair once
    assert (df.groupby(["judge", "bottle"], observed=False).size() == 1).all()
    # rating is response grouped into 20-point intervals (ordinal's help page)
    expected = np.floor(df["response"] / 20).astype(int) + 1
    assert (df["rating"].astype(int) == expected).all()
    # counts computed from the ordinal pickle at extraction time
    assert df["rating"].value_counts().sort_index().tolist() == [5, 22, 26, 12, 7]
    assert df["response"].sum() == 3400
    # bottles are nested in the 2 x 2 treatment conditions
    nested = df.groupby("bottle", observed=True)[["temp", "contact"]].nunique()
    assert (nested == 1).all().all()


@pytest.mark.parametrize(("name", "column"), [("epilepsy", "subject"), ("wine", "judge")])
def test_dtypes_are_applied_fresh_each_time(name, column):
    first = bf.load_data(name)
    first[column] = 0
    assert isinstance(bf.load_data(name)[column].dtype, pd.CategoricalDtype)


def test_new_datasets_work_in_formulas():
    radon = bf.Model("log_radon ~ floor + uranium + (1|county)", bf.load_data("radon"))
    assert radon.design.X.shape == (919, 2)
    assert len(radon.design.group_levels["county"]) == 85

    epilepsy = bf.Model(
        "seizures ~ trt + lbase + lage + (1|subject)", bf.load_data("epilepsy"), family="poisson"
    )
    assert epilepsy.family.name == "poisson"
    assert epilepsy.design.common_terms[0].columns == ("trt[progabide]",)
    assert len(epilepsy.design.group_levels["subject"]) == 59

    wine = bf.Model("response ~ temp + contact + (1|judge) + (1|bottle)", bf.load_data("wine"))
    assert [t.columns for t in wine.design.common_terms] == [("temp[warm]",), ("contact[yes]",)]
    assert len(wine.design.group_levels["judge"]) == 9
    assert len(wine.design.group_levels["bottle"]) == 8
    # bottle as a fixed factor: 7 dummies, not one numeric slope
    assert bf.Model("response ~ bottle", bf.load_data("wine")).design.X.shape == (72, 7)
