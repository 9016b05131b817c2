"""The bundled datasets load offline with known values; an unknown name is a DatasetError."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayesformula as bf
from bayesformula.errors import BayesformulaError, DatasetError

SHARED_SLEEPSTUDY = Path(__file__).resolve().parents[3] / "shared" / "data" / "sleepstudy.csv"
KNOWN = (
    "'bioassay', 'cherry_blossoms', 'epilepsy', 'fish', 'my_data', 'radon', 'sleepstudy', 'wine'"
)


def test_list_datasets():
    datasets = bf.list_datasets()
    assert sorted(datasets) == [
        "bioassay",
        "cherry_blossoms",
        "epilepsy",
        "fish",
        "my_data",
        "radon",
        "sleepstudy",
        "wine",
    ]
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


def test_cherry_blossoms():
    df = bf.load_data("cherry_blossoms")
    assert df.shape == (1215, 5)
    assert list(df.columns) == ["year", "doy", "temp", "temp_upper", "temp_lower"]
    assert df["year"].dtype == np.int64
    for column in ["doy", "temp", "temp_upper", "temp_lower"]:
        assert df[column].dtype == np.float64
    # one row per year, 801 to 2015
    assert df["year"].tolist() == list(range(801, 2016))
    # 827 bloom dates (the rows Bambi's splines notebook keeps), 1124 temperatures
    assert df["doy"].notna().sum() == 827
    assert df["temp"].notna().sum() == 1124
    assert (df[["temp", "temp_upper", "temp_lower"]].notna().sum() == 1124).all()
    assert df["doy"].min() == 86 and df["doy"].max() == 124
    # rethinking's precis: doy 104.54 (sd 6.41), temp 6.14 (sd 0.66)
    assert df["doy"].mean() == pytest.approx(104.5405, abs=1e-4)
    assert df["doy"].std() == pytest.approx(6.4070, abs=1e-4)
    assert df["temp"].mean() == pytest.approx(6.1419, abs=1e-4)
    # sums computed from the source file at extraction time
    assert df["doy"].sum() == 86455
    assert df["temp"].sum() == pytest.approx(6903.48, abs=1e-6)
    known = df.dropna(subset=["temp"])
    assert (known["temp_lower"] <= known["temp"]).all()
    assert (known["temp"] <= known["temp_upper"]).all()
    assert df.iloc[11].tolist()[:2] == [812, 92.0]
    assert df.iloc[-1].tolist()[:2] == [2015, 93.0]


def test_fish():
    df = bf.load_data("fish")
    assert df.shape == (250, 6)
    assert list(df.columns) == ["count", "livebait", "camper", "persons", "child", "hours"]
    for column in ["count", "livebait", "camper", "persons", "child"]:
        assert df[column].dtype == np.int64
    assert df["hours"].dtype == np.float64
    assert not df.isna().any().any()
    # the summary of the UCLA zero-inflated Poisson example
    np.testing.assert_allclose(
        df[["count", "livebait", "camper", "persons", "child"]].mean(),
        [3.296, 0.864, 0.588, 2.528, 0.684],
    )
    assert df["count"].std() == pytest.approx(11.635028, abs=1e-6)
    assert (df["count"] == 0).sum() == 142
    assert df["count"].sum() == 824 and df["count"].max() == 149
    assert set(df["livebait"]) == {0, 1} and set(df["camper"]) == {0, 1}
    assert df["persons"].between(1, 4).all() and df["child"].between(0, 3).all()
    assert (df["child"] < df["persons"]).all()
    assert df["hours"].sum() == pytest.approx(1381.495, abs=1e-9)


def test_my_data():
    df = bf.load_data("my_data")
    assert df.shape == (50, 3)
    assert list(df.columns) == ["y", "x", "z"]
    assert (df.dtypes == np.float64).all()
    # the numbers behind Bambi's printed default priors for "y ~ x + z"
    assert df["y"].mean() == pytest.approx(0.1852, abs=5e-5)
    assert df["y"].std(ddof=0) == pytest.approx(1.013, abs=5e-4)
    assert 2.5 * df["y"].std() / df["x"].std() == pytest.approx(2.231, abs=5e-4)
    assert 2.5 * df["y"].std() / df["z"].std() == pytest.approx(2.4374, abs=5e-5)
    assert df.iloc[0].tolist() == [0.4858290494287822, 0.4505592412800115, 1.3342414388873296]


def test_every_dataset_is_package_data_with_a_source_entry():
    from importlib import resources

    folder = resources.files("bayesformula.datasets")
    sources = folder.joinpath("SOURCES.md").read_text(encoding="utf-8")
    for name in bf.list_datasets():
        assert folder.joinpath(f"{name}.csv").is_file()
        assert f"\n## {name}\n" in sources
        # each entry says where the data come from
        entry = sources.split(f"\n## {name}\n")[1].split("\n## ")[0]
        assert "Source" in entry
