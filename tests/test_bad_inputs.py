"""A catalogue of bad inputs: each must raise a typed bayesformula error that also subclasses
the builtin a caller would catch, with a message naming what was wrong.

Every case is ``(call, error class, builtin, words)``: the call is made on shared, small
models; ``words`` is a regular expression the message must contain. The groups follow the
public surface: model construction, data, `fit`, `prior_predictive`, `predict` and the
tables, the plots, and the command line (whose exit codes are checked separately).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayesformula as bf
from bayesformula.cli import main
from bayesformula.errors import (
    ArgumentError,
    ArgumentTypeError,
    BayesformulaError,
    DataError,
    DataTypeError,
    FamilyError,
    FormulaError,
    FormulaSyntaxError,
    ModelError,
    PredictionError,
    PriorError,
    ResponseError,
    SamplerError,
    UnknownNameError,
)

rng = np.random.default_rng(5)
N = 24
DF = pd.DataFrame(
    {
        "y": rng.normal(size=N),
        "x": rng.normal(size=N),
        "z": rng.normal(size=N),
        "g": list("abcd") * (N // 4),
        "one": ["a"] * N,
        "k": rng.integers(0, 5, size=N),
        "n": np.full(N, 5),
        "pos": rng.uniform(0.5, 2.0, size=N),
    }
)


def with_col(**cols):
    return DF.assign(**cols)


def first_inf(values):
    out = np.asarray(values, dtype=float).copy()
    out[0] = np.inf
    return out


@pytest.fixture(scope="module")
def fits():
    """A binomial and a gaussian model with their (small) fits, shared by the cases."""
    bio = bf.Model("p(deaths, n) ~ dose", bf.load_data("bioassay"), family="binomial")
    lin = bf.Model("y ~ x + z + (1|g)", DF)
    kw = {"draws": 100, "tune": 200, "chains": 2, "progressbar": False, "diagnostics": False}
    return {
        "bio": bio,
        "bio_fit": bio.fit(random_seed=1, **kw),
        "lin": lin,
        "lin_fit": lin.fit(random_seed=2, **kw),
    }


def _fit(f, **kw):
    return f["bio"].fit(**{"progressbar": False, "diagnostics": False, **kw})


# (id, call(fits), error class, builtin, words in the message)
MODEL_CASES = [
    # ----------------------------------------------------------- Model(...) arguments
    ("formula not a string", lambda f: bf.Model(3, DF), DataTypeError, TypeError, "string"),
    ("formula empty", lambda f: bf.Model("", DF), FormulaSyntaxError, ValueError, "empty"),
    ("formula without ~", lambda f: bf.Model("y", DF), FormulaSyntaxError, ValueError, "no '~'"),
    ("data a list", lambda f: bf.Model("y ~ x", [1, 2]), DataTypeError, TypeError, "DataFrame"),
    ("data a Series", lambda f: bf.Model("y ~ x", DF.y), DataTypeError, TypeError, "Series"),
    ("data no rows", lambda f: bf.Model("y ~ x", DF.iloc[:0]), DataError, ValueError, "no rows"),
    (
        "family unknown",
        lambda f: bf.Model("y ~ x", DF, family="gausian"),
        FamilyError,
        ValueError,
        "did you mean 'gaussian'",
    ),
    (
        "family a number",
        lambda f: bf.Model("y ~ x", DF, family=3),
        FamilyError,
        ValueError,
        "family must be",
    ),
    (
        "link unknown",
        lambda f: bf.Model("y ~ x", DF, link="logt"),
        FamilyError,
        ValueError,
        "did you mean 'logit'",
    ),
    ("priors a list", lambda f: bf.Model("y ~ x", DF, priors=[1]), PriorError, ValueError, "dict"),
    (
        "priors unknown term",
        lambda f: bf.Model("y ~ x", DF, priors={"xx": bf.Prior("Flat")}),
        PriorError,
        ValueError,
        "did you mean 'x'",
    ),
    (
        "priors a string value",
        lambda f: bf.Model("y ~ x", DF, priors={"x": "Normal"}),
        PriorError,
        ValueError,
        "must be a bf.Prior",
    ),
    (
        "prior negative sigma",
        lambda f: bf.Prior("Normal", mu=0, sigma=-1),
        PriorError,
        ValueError,
        "'sigma' must be > 0",
    ),
    (
        "prior unknown distribution",
        lambda f: bf.Prior("Normall"),
        PriorError,
        ValueError,
        "did you mean 'Normal'",
    ),
    (
        "dropna not a bool",
        lambda f: bf.Model("y ~ x", DF, dropna="yes"),
        ArgumentTypeError,
        TypeError,
        "dropna must be True or False, got 'yes'",
    ),
    (
        "auto_scale not a bool",
        lambda f: bf.Model("y ~ x", DF, auto_scale=None),
        ArgumentTypeError,
        TypeError,
        "auto_scale must be True or False",
    ),
    (
        "center_predictors not a bool",
        lambda f: bf.Model("y ~ x", DF, center_predictors="no"),
        ArgumentTypeError,
        TypeError,
        "center_predictors",
    ),
    (
        "categorical a number",
        lambda f: bf.Model("y ~ x", DF, categorical=3),
        DataTypeError,
        TypeError,
        "column name or a list",
    ),
    (
        "categorical unknown column",
        lambda f: bf.Model("y ~ x", DF, categorical="q"),
        UnknownNameError,
        KeyError,
        "categorical names column 'q'",
    ),
    (
        "noncentered a string",
        lambda f: bf.Model("y ~ (1|g)", DF, noncentered="yes"),
        ModelError,
        ValueError,
        "noncentered must be",
    ),
    (
        "noncentered unknown factor",
        lambda f: bf.Model("y ~ (1|g)", DF, noncentered={"h": 1}),
        ModelError,
        ValueError,
        "unknown factor 'h'",
    ),
    (
        "extra_namespace a list",
        lambda f: bf.Model("y ~ x", DF, extra_namespace=[1]),
        FormulaError,
        ValueError,
        "extra_namespace must be a dict",
    ),
    (
        "unknown column",
        lambda f: bf.Model("y ~ xx", DF),
        UnknownNameError,
        KeyError,
        "did you mean 'x'",
    ),
    # ------------------------------------------------------------------------ data
    (
        "infinite predictor",
        lambda f: bf.Model("y ~ x", with_col(x=first_inf(DF.x))),
        DataError,
        ValueError,
        r"infinite values .*'x': 1.*dropna=True",
    ),
    (
        "infinite group column",
        lambda f: bf.Model("y ~ (1|q)", with_col(q=first_inf(DF.k))),
        DataError,
        ValueError,
        r"'q': 1",
    ),
    (
        "infinite offset column",
        lambda f: bf.Model("y ~ x + offset(o)", with_col(o=first_inf(DF.pos))),
        DataError,
        ValueError,
        r"'o': 1",
    ),
    (
        "infinite trials",
        lambda f: bf.Model("p(k, t) ~ x", with_col(t=first_inf(DF.n)), family="binomial"),
        DataError,
        ValueError,
        r"'t': 1",
    ),
    (
        "infinite response",
        lambda f: bf.Model("y ~ x", with_col(y=first_inf(DF.y))),
        ResponseError,
        ValueError,
        "not finite",
    ),
    (
        "infinite weights",
        lambda f: bf.Model("weighted(y, w) ~ x", with_col(w=first_inf(DF.pos))),
        ResponseError,
        ValueError,
        "weights",
    ),
    (
        "log of zero",
        lambda f: bf.Model("y ~ np.log(q)", with_col(q=np.r_[0.0, DF.pos[1:]])),
        DataError,
        ValueError,
        r"'np.log\(q\)' .* not finite in 1",
    ),
    (
        "log of zero offset",
        lambda f: bf.Model("y ~ x + offset(np.log(q))", with_col(q=np.r_[0.0, DF.pos[1:]])),
        DataError,
        ValueError,
        "offset .* not finite",
    ),
    (
        "missing values",
        lambda f: bf.Model("y ~ x", with_col(x=np.r_[np.nan, DF.x[1:]])),
        DataError,
        ValueError,
        "missing values.*dropna=True",
    ),
    (
        "duplicated column",
        lambda f: bf.Model("y ~ x", pd.concat([DF, DF[["x"]]], axis=1)),
        DataError,
        ValueError,
        r"more than one column named 'x' \(2 times\)",
    ),
    (
        "single-level factor",
        lambda f: bf.Model("y ~ one", DF),
        DataError,
        ValueError,
        "single level.*'one' is always 'a'",
    ),
    (
        "single-level C()",
        lambda f: bf.Model("y ~ x + C(one)", DF),
        DataError,
        ValueError,
        r"'C\(one\)'.*single level",
    ),
    (
        "single-level grouping factor",
        lambda f: bf.Model("y ~ x + (1|one)", DF),
        DataError,
        ValueError,
        "grouping factor 'one' has a single level",
    ),
    (
        "dates",
        lambda f: bf.Model("y ~ t", with_col(t=pd.date_range("2020", periods=N))),
        DataTypeError,
        TypeError,
        "column 't' holds dates.*dt.days",
    ),
    (
        "time spans",
        lambda f: bf.Model("y ~ t", with_col(t=pd.to_timedelta(DF.k, unit="D"))),
        DataTypeError,
        TypeError,
        "column 't' holds time spans",
    ),
    (
        "mixed types",
        lambda f: bf.Model("y ~ m", with_col(m=[1, "a"] * (N // 2))),
        DataTypeError,
        TypeError,
        "column 'm' mixes types",
    ),
    (
        "complex numbers",
        lambda f: bf.Model("y ~ c", with_col(c=DF.x + 1j)),
        DataTypeError,
        TypeError,
        "column 'c' holds complex",
    ),
    (
        "lists in a column",
        lambda f: bf.Model("y ~ c", with_col(c=[[1]] * N)),
        DataTypeError,
        TypeError,
        "column 'c' holds values of type list",
    ),
    (
        "text in p(y, n)",
        lambda f: bf.Model(
            "p(k, t) ~ x", with_col(t=["5"] * (N - 1) + ["five"]), family="binomial"
        ),
        DataTypeError,
        TypeError,
        "column 't' of p\\(k, t\\) must hold numbers",
    ),
    (
        "negative counts",
        lambda f: bf.Model("k ~ x", with_col(k=np.r_[-1, DF.k[1:]]), family="poisson"),
        ResponseError,
        ValueError,
        "poisson",
    ),
    (
        "successes above trials",
        lambda f: bf.Model("p(k, n) ~ x", with_col(k=np.r_[9, DF.k[1:]]), family="binomial"),
        ResponseError,
        ValueError,
        "trials",
    ),
]

# cases that need the shared models and fits
FIT_CASES = [
    # ------------------------------------------------------------------------ fit()
    (
        "fit draws=0",
        lambda f: _fit(f, draws=0),
        ArgumentError,
        ValueError,
        "fit\\(\\): draws must be an integer >= 1, got 0",
    ),
    ("fit draws=-5", lambda f: _fit(f, draws=-5), ArgumentError, ValueError, "got -5"),
    (
        "fit draws a string",
        lambda f: _fit(f, draws="many"),
        ArgumentTypeError,
        TypeError,
        "draws must be an integer",
    ),
    (
        "fit draws fractional",
        lambda f: _fit(f, draws=10.5),
        ArgumentTypeError,
        TypeError,
        "got 10.5",
    ),
    ("fit tune=-1", lambda f: _fit(f, tune=-1), ArgumentError, ValueError, "tune .* >= 0"),
    ("fit chains=0", lambda f: _fit(f, chains=0), ArgumentError, ValueError, "chains"),
    ("fit cores=0", lambda f: _fit(f, cores=0), ArgumentError, ValueError, "cores"),
    (
        "fit target_accept=1.5",
        lambda f: _fit(f, target_accept=1.5),
        ArgumentError,
        ValueError,
        "target_accept must be a number strictly between 0 and 1",
    ),
    (
        "fit random_seed a string",
        lambda f: _fit(f, random_seed="abc"),
        ArgumentTypeError,
        TypeError,
        "random_seed must be None, a non-negative integer",
    ),
    (
        "fit random_seed negative",
        lambda f: _fit(f, random_seed=-3),
        ArgumentError,
        ValueError,
        "random_seed",
    ),
    (
        "fit progressbar a string",
        lambda f: _fit(f, progressbar="no"),
        ArgumentTypeError,
        TypeError,
        "progressbar must be True or False",
    ),
    (
        "fit fast_path a number",
        lambda f: _fit(f, fast_path=2),
        ArgumentTypeError,
        TypeError,
        "fast_path",
    ),
    (
        "fit typo in a keyword",
        lambda f: _fit(f, draw=100),
        ArgumentTypeError,
        TypeError,
        "unexpected keyword argument 'draw'; did you mean 'draws'",
    ),
    (
        "fit keyword nutpie does not know",
        lambda f: _fit(f, foo=1, inference_method="nutpie"),
        ArgumentTypeError,
        TypeError,
        "keyword 'foo', which nutpie does not know",
    ),
    (
        "fit unknown method",
        lambda f: _fit(f, inference_method="nutpi"),
        SamplerError,
        ValueError,
        "did you mean 'nutpie'",
    ),
    (
        "fit nuts_sampler",
        lambda f: _fit(f, nuts_sampler="numpyro"),
        SamplerError,
        ValueError,
        "inference_method",
    ),
    # ----------------------------------------------------------- prior_predictive()
    (
        "prior draws=-1",
        lambda f: f["bio"].prior_predictive(draws=-1),
        ArgumentError,
        ValueError,
        "prior_predictive\\(\\): draws",
    ),
    (
        "prior unknown var_names",
        lambda f: f["bio"].prior_predictive(var_names=["dos"]),
        ArgumentError,
        ValueError,
        "did you mean 'dose'",
    ),
    (
        "prior seed a float",
        lambda f: f["bio"].prior_predictive(random_seed=1.5),
        ArgumentTypeError,
        TypeError,
        "random_seed",
    ),
    # ------------------------------------------------------- predict() and the tables
    (
        "predict a fit of another model",
        lambda f: f["lin"].predict(f["bio_fit"], inplace=False),
        PredictionError,
        ValueError,
        "no draws of 'x', 'z'.*fit of this model",
    ),
    (
        "predict levels of another model",
        lambda f: bf.Model("y ~ x + z + (1|g)", DF[DF.g != "d"]).predict(
            f["lin_fit"], inplace=False
        ),
        PredictionError,
        ValueError,
        "has 4 values along .* this model has 3",
    ),
    (
        "predict not a fit",
        lambda f: f["bio"].predict("abc"),
        DataTypeError,
        TypeError,
        "idata must be the fit",
    ),
    (
        "predict unknown kind",
        lambda f: f["bio"].predict(f["bio_fit"], kind="foo"),
        ArgumentError,
        ValueError,
        "kind: unknown kind 'foo'",
    ),
    (
        "predict unknown group",
        lambda f: f["bio"].predict(f["bio_fit"], group="posteriors"),
        ArgumentError,
        ValueError,
        "did you mean 'posterior'",
    ),
    (
        "predict inplace a string",
        lambda f: f["bio"].predict(f["bio_fit"], inplace="no"),
        ArgumentTypeError,
        TypeError,
        "inplace must be True or False",
    ),
    (
        "predict data a list",
        lambda f: f["bio"].predict(f["bio_fit"], data=[1]),
        DataTypeError,
        TypeError,
        "DataFrame",
    ),
    (
        "predict text in a numeric column",
        lambda f: f["bio"].predict(
            f["bio_fit"], data=pd.DataFrame({"dose": ["0.1", "abc"], "n": [5, 5]}), inplace=False
        ),
        PredictionError,
        ValueError,
        "column 'dose' holds text .*'abc'",
    ),
    (
        "predict missing column",
        lambda f: f["lin"].predict(f["lin_fit"], data=DF.drop(columns="z"), inplace=False),
        PredictionError,
        ValueError,
        "lacks column",
    ),
    (
        "predict unseen group",
        lambda f: f["lin"].predict(f["lin_fit"], data=with_col(g="new"), inplace=False),
        PredictionError,
        ValueError,
        "new",
    ),
    (
        "predictions prob=2",
        lambda f: f["bio"].predictions(f["bio_fit"], prob=2),
        ArgumentError,
        ValueError,
        "predictions\\(\\): prob must be a number strictly",
    ),
    (
        "predictions chunk_size=0",
        lambda f: f["bio"].predictions(f["bio_fit"], chunk_size=0),
        ArgumentError,
        ValueError,
        "chunk_size",
    ),
    (
        "summary prob=5",
        lambda f: bf.summary(f["bio_fit"], prob=5),
        ArgumentError,
        ValueError,
        "summary\\(\\): prob",
    ),
    (
        "summary kind",
        lambda f: bf.summary(f["bio_fit"], kind="hpd"),
        ArgumentError,
        ValueError,
        "kind",
    ),
    (
        "summary unknown variable",
        lambda f: bf.summary(f["bio_fit"], var_names=["dos"]),
        ArgumentError,
        ValueError,
        "did you mean 'dose'",
    ),
    (
        "summary round_to negative",
        lambda f: bf.summary(f["bio_fit"], round_to=-1),
        ArgumentError,
        ValueError,
        "round_to",
    ),
    ("summary not a fit", lambda f: bf.summary(DF), DataTypeError, TypeError, "DataFrame"),
    (
        "conf_int prob=0",
        lambda f: bf.conf_int(f["bio_fit"], prob=0),
        ArgumentError,
        ValueError,
        "conf_int\\(\\): prob",
    ),
    ("params not a fit", lambda f: bf.params(None), DataTypeError, TypeError, "NoneType"),
    ("r2 prob=3", lambda f: f["bio"].r2(f["bio_fit"], prob=3), ArgumentError, ValueError, "prob"),
    (
        "loo without log-likelihood",
        lambda f: bf.loo(f["bio_fit"]),
        PredictionError,
        ValueError,
        "log_likelihood",
    ),
    (
        "compare one model",
        lambda f: bf.compare({"a": f["bio_fit"]}),
        ArgumentError,
        ValueError,
        "at least two",
    ),
    (
        "compare waic",
        lambda f: bf.compare({"a": f["bio_fit"], "b": f["bio_fit"]}, ic="waic"),
        ArgumentError,
        ValueError,
        "PSIS-LOO",
    ),
    # ------------------------------------------------------------------------ plots
    (
        "plot_predictions unknown kind",
        lambda f: bf.plot_predictions(f["bio"], f["bio_fit"], "dose", kind="mu"),
        ArgumentError,
        ValueError,
        "kind",
    ),
    (
        "plot_predictions unknown covariate",
        lambda f: bf.plot_predictions(f["bio"], f["bio_fit"], "dos"),
        PredictionError,
        ValueError,
        "dose",
    ),
    (
        "plot_predictions n_points=1",
        lambda f: bf.plot_predictions(f["bio"], f["bio_fit"], "dose", n_points=1),
        ArgumentError,
        ValueError,
        "n_points",
    ),
    (
        "plot_predictions arguments swapped",
        lambda f: bf.plot_predictions(f["bio_fit"], f["bio"], "dose"),
        DataTypeError,
        TypeError,
        "model must be the bayesformula.Model",
    ),
    (
        "plot_posterior prob",
        lambda f: bf.plot_posterior(f["bio_fit"], prob=1.0),
        ArgumentError,
        ValueError,
        "prob",
    ),
    (
        "plot_trace not a fit",
        lambda f: bf.plot_trace({"a": 1}),
        DataTypeError,
        TypeError,
        "plot_trace",
    ),
    (
        "plot_ppc num_pp_samples=0",
        lambda f: bf.plot_ppc(f["bio"], f["bio_fit"], num_pp_samples=0),
        ArgumentError,
        ValueError,
        "num_pp_samples",
    ),
    (
        "plot_priors draws=0",
        lambda f: bf.plot_priors(f["bio"], draws=0),
        ArgumentError,
        ValueError,
        "draws",
    ),
]


CASES = MODEL_CASES + FIT_CASES


def _check(call, fits, error, builtin, words):
    assert issubclass(error, BayesformulaError) and issubclass(error, builtin)
    with pytest.raises(error, match=words) as info:
        call(fits)
    assert isinstance(info.value, builtin)
    assert isinstance(info.value, BayesformulaError)


@pytest.mark.parametrize(
    ("call", "error", "builtin", "words"),
    [case[1:] for case in MODEL_CASES],
    ids=[case[0] for case in MODEL_CASES],
)
def test_bad_model_input_is_a_typed_error_naming_the_problem(call, error, builtin, words):
    _check(call, None, error, builtin, words)


@pytest.mark.parametrize(
    ("call", "error", "builtin", "words"),
    [case[1:] for case in FIT_CASES],
    ids=[case[0] for case in FIT_CASES],
)
def test_bad_fit_input_is_a_typed_error_naming_the_problem(fits, call, error, builtin, words):
    _check(call, fits, error, builtin, words)


def test_catalogue_is_broad():
    assert len(CASES) >= 60
    assert len({case[0] for case in CASES}) == len(CASES)


# ----------------------------------------------------------------------- command line
BIO = ["--dataset", "bioassay", "--family", "binomial"]


@pytest.mark.parametrize(
    ("argv", "code", "words"),
    [
        (["fit", "p(deaths, n) ~ dose", *BIO, "--draws", "-5"], 2, "--draws: must be at least 1"),
        (["fit", "p(deaths, n) ~ dose", *BIO, "--tune", "x"], 2, "expected an integer"),
        (["fit", "p(deaths, n) ~ dose", *BIO, "--prob", "2"], 2, "strictly between 0 and 1"),
        (["fit", "p(deaths, n) ~ dose", *BIO, "--target-accept", "1"], 2, "between 0 and 1"),
        (["fit", "p(deaths, n) ~ dose", *BIO, "--seed", "-1"], 2, "--seed"),
        (["fit", "p(deaths, n) ~ dose", *BIO, "--inference-method", "nutpi"], 2, "nutpie"),
        (["fit", "p(deaths, n) ~ dos", *BIO], 3, "dose"),
        (
            ["fit", "p(deaths, n) ~ dose", *BIO, "--out", "/no/such/folder/fit.nc"],
            4,
            "does not exist",
        ),
    ],
    ids=["draws", "tune", "prob", "target-accept", "seed", "method", "formula", "out"],
)
def test_cli_rejects_bad_arguments_before_fitting(capsys, argv, code, words, monkeypatch):
    def no_fit(*args, **kwargs):  # any fit here would be a failure of the early checks
        raise AssertionError("the command fitted before checking its arguments")

    monkeypatch.setattr(bf.Model, "fit", no_fit)
    try:
        rc = main(argv)
    except SystemExit as exit_:  # argparse's own errors
        rc = exit_.code
    assert rc == code
    assert words in capsys.readouterr().err


def test_cli_unwritable_out_is_reported_before_fitting(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "ro"
    folder.mkdir()
    target = folder / "fit.nc"
    target.mkdir()  # a folder where the file should go: not writable as a file
    monkeypatch.setattr(bf.Model, "fit", lambda *a, **k: pytest.fail("fitted before checking"))
    assert main(["fit", "p(deaths, n) ~ dose", *BIO, "--out", str(target)]) == 4
    assert "is a folder" in capsys.readouterr().err


def test_cli_bad_data_is_exit_code_3(tmp_path, capsys):
    table = tmp_path / "d.csv"
    frame = bf.load_data("bioassay").astype({"n": str})
    frame.loc[0, "n"] = "five"
    frame.to_csv(table, index=False)
    rc = main(["fit", "p(deaths, n) ~ dose", "--data", str(table), "--family", "binomial"])
    assert rc == 3
    err = capsys.readouterr().err
    assert "column 'n'" in err and "internal error" not in err
