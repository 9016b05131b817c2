"""Default priors and diagnostics at numerical edges: constant responses and predictors,
separated binary outcomes, and responses on extreme scales."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

import bayesformula as bf
from bayesformula.core.prior import Prior
from bayesformula.diagnostics import check
from bayesformula.errors import BayesformulaError, DataError
from bayesformula.priors.edges import describe_separation, find_separation
from tests.conftest import FIT
from tests.helpers import fit_tree

N = 20


def _x(n=N, seed=0):
    return np.random.default_rng(seed).normal(size=n)


def _scales(priors) -> list[float]:
    """Every number in every prior of a PriorSet (hyperpriors included)."""
    out = []

    def walk(value):
        if isinstance(value, Prior):
            for arg in value.args.values():
                walk(arg)
        elif value is not None:
            out.extend(np.ravel(np.asarray(value, dtype=float)).tolist())

    for mapping in (priors.common, priors.group, priors.aux, priors.terms):
        for value in mapping.values():
            walk(value)
    return out


def _sigmas(priors) -> list[float]:
    """The scale parameters of every prior (must be finite and > 0)."""
    out = []

    def walk(prior):
        for key, arg in prior.args.items():
            if isinstance(arg, Prior):
                walk(arg)
            elif key in ("sigma", "beta"):
                out.extend(np.ravel(np.asarray(arg, dtype=float)).tolist())

    for mapping in (priors.common, priors.group, priors.aux):
        for value in mapping.values():
            if isinstance(value, Prior):
                walk(value)
    return out


def _warnings(caplog) -> str:
    return " ".join(r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)


# ----------------------------------------------------------------------------- constant response
@pytest.mark.parametrize("value", [5.0, 0.0, 0.1, -3e9, 1e-9, 1 / 3])
def test_constant_response_gets_finite_priors_scaled_by_its_magnitude(value, caplog):
    data = pd.DataFrame({"x": _x(), "y": np.full(N, value)})
    with caplog.at_level(logging.WARNING, logger="bayesformula"):
        model = bf.Model("y ~ x", data)
    priors = model.priors
    assert all(np.isfinite(_scales(priors)))
    scale = abs(value) if value else 1.0  # the magnitude stands in for the missing spread
    # np.std of a constant float column is a rounding error (1.4e-17 for 0.1), never the scale
    assert priors.aux["sigma"].args["sigma"] == pytest.approx(scale, rel=1e-12)
    assert priors.common["Intercept"].args["sigma"] == pytest.approx(2.5 * scale, rel=1e-12)
    assert priors.common["Intercept"].args["mu"] == pytest.approx(value, rel=1e-12)
    message = _warnings(caplog)
    assert f"the response 'y' has the same value ({value!r}) in all {N} rows" in message
    assert "sigma shrinks to 0" in message


def test_constant_response_with_a_formula_for_sigma():
    """sigma's intercept is centred on log(sd(y)): the magnitude stands in for sd(y)."""
    data = pd.DataFrame({"x": _x(), "w": _x(seed=2), "y": 0.1})
    model = bf.Model(bf.Formula("y ~ x", "sigma ~ w"), data)
    prior = model.priors.common["sigma_Intercept"]
    assert prior.args["mu"] == pytest.approx(np.log(0.1), rel=1e-12)
    assert all(np.isfinite(_scales(model.priors))) and min(_sigmas(model.priors)) > 0


def test_constant_count_response_warns_without_the_sigma_advice(caplog):
    data = pd.DataFrame({"x": _x(), "y": np.full(N, 4)})
    with caplog.at_level(logging.WARNING, logger="bayesformula"):
        model = bf.Model("y ~ x", data, family="poisson")
    assert all(np.isfinite(_scales(model.priors))) and min(_sigmas(model.priors)) > 0
    message = _warnings(caplog)
    assert "has the same value (4.0) in all 20 rows" in message
    assert "sigma" not in message


def test_varying_response_does_not_warn(caplog):
    x = _x()
    with caplog.at_level(logging.WARNING, logger="bayesformula"):
        bf.Model("y ~ x", pd.DataFrame({"x": x, "y": x + 1}))
    assert _warnings(caplog) == ""


# ----------------------------------------------------------------------------- constant predictor
@pytest.mark.parametrize(("value", "shown"), [(3.0, "3.0"), (0.1, "0.1"), (-2, "-2.0")])
def test_constant_predictor_beside_an_intercept_is_an_error(value, shown):
    x = _x()
    data = pd.DataFrame({"x": x, "z": np.full(N, value), "y": x + _x(seed=1)})
    for cls in (DataError, ValueError, BayesformulaError):
        with pytest.raises(cls) as info:
            bf.Model("y ~ x + z", data)
    assert str(info.value) == (
        f"column 'z' is constant (value {shown} in all {N} rows); its slope cannot be "
        "estimated beside the intercept; drop it from the formula."
    )


def test_constant_predictor_in_an_auxiliary_formula():
    x = _x()
    data = pd.DataFrame({"x": x, "z": 3.0, "y": x + _x(seed=1)})
    with pytest.raises(DataError, match="^in the formula for sigma, column 'z' is constant"):
        bf.Model(bf.Formula("y ~ x", "sigma ~ z"), data)


def test_constant_predictor_beside_ordinal_thresholds():
    rng = np.random.default_rng(2)
    y = pd.Categorical(rng.choice(["lo", "mid", "hi"], N), categories=["lo", "mid", "hi"])
    data = pd.DataFrame({"x": _x(), "z": 1.5, "y": y})
    data["y"] = data["y"].cat.as_ordered()
    with pytest.raises(DataError, match="column 'z' is constant"):
        bf.Model("y ~ x + z", data, family="cumulative")


def test_constant_predictor_without_intercept_plays_its_part():
    x = _x()
    y = 2 + x + _x(seed=1)
    model = bf.Model("y ~ 0 + x + z", pd.DataFrame({"x": x, "z": 4.0, "y": y}))
    # z * b_z is the intercept: b_z's scale is the intercept's (2.5 sd(y)) over |z|
    expected = 2.5 * np.std(y) / 4.0
    assert model.priors.common["z"].args["sigma"] == pytest.approx(expected, rel=1e-12)


def test_column_of_zeros_is_left_to_its_prior_with_a_warning(caplog):
    """A combination of levels that never occurs gives a column of zeros: the likelihood never
    sees its coefficient, so it only warns, and the prior scale stays finite."""
    rng = np.random.default_rng(0)
    data = pd.DataFrame({"a": ["p", "q", "r"] * 10, "b": ["s", "t"] * 15})
    data["y"] = rng.normal(size=len(data))
    data = data[~((data["a"] == "r") & (data["b"] == "t"))]
    with caplog.at_level(logging.WARNING, logger="bayesformula"):
        model = bf.Model("y ~ a * b", data)
    assert "column 'a[r]:b[t]' of term 'a:b' is 0 in all 25 rows" in _warnings(caplog)
    sigma = model.priors.common["a:b"].args["sigma"]
    assert np.all(np.isfinite(sigma)) and np.all(np.asarray(sigma) > 0)


def test_constant_group_slope_gets_a_finite_scale():
    rng = np.random.default_rng(4)
    data = pd.DataFrame({"x": _x(40), "z": 3.0, "g": rng.choice(list("abc"), 40)})
    data["y"] = data["x"] + rng.normal(size=40)
    model = bf.Model("y ~ x + (0 + z|g)", data)
    hyper = model.priors.group["z|g"].args["sigma"]
    assert hyper.args["sigma"] == pytest.approx(2.5 * np.std(data["y"]) / 3.0, rel=1e-12)


# ----------------------------------------------------------------------------- separation
def _separated(formula, data, family="bernoulli"):
    model = bf.Model(formula, data, family=family)
    return model, find_separation(model.design, model.response_data, model.family, "y")


def test_complete_separation_by_a_numeric_predictor(caplog):
    x = _x(50)
    with caplog.at_level(logging.WARNING, logger="bayesformula"):
        model, found = _separated("y ~ x", pd.DataFrame({"x": x, "y": (x > 0).astype(int)}))
    (record,) = found
    assert record.predictors == ("x",) and record.complete
    low, high = x[x <= 0].max(), x[x > 0].min()
    assert f"every row with x >= {high:.6g} has y = 1" in record.detail
    assert f"every row with x <= {low:.6g} has y = 0" in record.detail
    message = _warnings(caplog)  # at construction, through the package's logger
    assert "complete separation by 'x'" in message and "governed by the prior" in message


def test_quasi_complete_separation_with_ties_at_the_boundary():
    x = np.r_[np.linspace(-2, -0.1, 10), 0.0, 0.0, np.linspace(0.1, 2, 10)]
    y = np.r_[np.zeros(10), 0, 1, np.ones(10)].astype(int)
    _, (record,) = _separated("y ~ x", pd.DataFrame({"x": x, "y": y}))
    assert not record.complete and "rows at 0 have either" in record.detail


def test_separation_by_a_level_of_a_categorical_predictor():
    rng = np.random.default_rng(5)
    a = rng.choice(["u", "v", "w"], 60)
    y = rng.integers(0, 2, 60)
    y[a == "w"] = 1
    _, (record,) = _separated("y ~ a", pd.DataFrame({"a": a, "y": y}))
    assert record.predictors == ("a[w]",) and record.terms == ("a",)
    assert record.detail == f"all {np.sum(a == 'w')} rows with a[w] have y = 1"
    assert not record.complete


def test_separation_of_binomial_proportions():
    x = _x(30)
    k = np.where(x > 0, 6, 0)
    data = pd.DataFrame({"x": x, "k": k, "n": 6})
    model = bf.Model("p(k, n) ~ x", data, family="binomial")
    (record,) = find_separation(model.design, model.response_data, model.family, "k")
    assert record.complete and "has only successes" in record.detail


def test_separation_by_a_combination_found_by_the_linear_program():
    rng = np.random.default_rng(6)
    x1, x2 = rng.normal(size=(2, 80))
    y = (x1 + x2 > 0).astype(int)
    _, (record,) = _separated("y ~ x1 + x2", pd.DataFrame({"x1": x1, "x2": x2, "y": y}))
    assert set(record.predictors) == {"x1", "x2"} and record.complete
    assert "a combination of x1, x2" in describe_separation((record,))


def test_every_outcome_the_same():
    _, (record,) = _separated("y ~ x", pd.DataFrame({"x": _x(), "y": 0}))
    assert record.terms == ("Intercept",) and record.detail == "every row has y = 0"


def test_no_separation_when_outcomes_overlap(bioassay):
    rng = np.random.default_rng(7)
    x = rng.normal(size=200)
    a = rng.choice(["u", "v"], 200)
    y = (rng.random(200) < 1 / (1 + np.exp(-x))).astype(int)
    assert _separated("y ~ x + a", pd.DataFrame({"x": x, "a": a, "y": y}))[1] == ()
    # bioassay: 0/5, 1/5, 3/5, 5/5 deaths; the mixed rows rule out any separating direction
    assert _separated("p(deaths, n) ~ dose", bioassay, family="binomial")[1] == ()


def test_families_without_separation_are_not_checked():
    x = _x()
    model = bf.Model("y ~ x", pd.DataFrame({"x": x, "y": (x > 0).astype(int)}), family="poisson")
    assert find_separation(model.design, model.response_data, model.family) == ()


def test_diagnostics_name_the_separation():
    x = _x(40)
    model = bf.Model("y ~ x", pd.DataFrame({"x": x, "y": (x > 0).astype(int)}), family="bernoulli")
    draws = fit_tree(
        posterior={"Intercept": np.zeros((2, 10)), "x": np.ones((2, 10))},
        sample_stats={"diverging": np.zeros((2, 10), dtype=bool)},
    )
    finding = check(draws, model=model.spec)["separation"]
    assert not finding.ok and finding.variables == ("x",)
    assert "complete separation by 'x'" in finding.message
    assert "informative prior" in finding.advice
    overlapping = bf.Model("y ~ x", pd.DataFrame({"x": x, "y": [0, 1] * 20}), family="bernoulli")
    gaussian = bf.Model("y ~ x", pd.DataFrame({"x": x, "y": x}))
    for other in (overlapping, gaussian):  # reported only where there is separation
        assert "separation" not in [f.check for f in check(draws, model=other.spec).findings]


@pytest.mark.slow
def test_separated_logistic_data_sample_with_default_priors():
    x = _x(50, seed=3)
    model = bf.Model("y ~ x", pd.DataFrame({"x": x, "y": (x > 0).astype(int)}), family="bernoulli")
    idata = model.fit(random_seed=9, diagnostics=False, **{**FIT, "draws": 500, "tune": 500})
    slope = idata.posterior["x"].values
    assert np.all(np.isfinite(slope))
    assert int(idata.sample_stats["diverging"].sum()) <= 10  # at most 1% of 1000 draws
    table = bf.summary(idata)
    # 2 x 500 draws: a well-mixed fit's split r_hat passes 1.01 now and then; 1.02 does not
    assert table["r_hat"].max() <= 1.02 and table["ess_bulk"].min() >= 200
    # the data push the slope up without bound; the prior keeps it finite: positive, and in the
    # prior's range (Normal(0, 2.5 / sd(x)))
    prior_sd = model.priors.common["x"].args["sigma"]
    assert 0 < slope.mean() < 4 * prior_sd and slope.std() < prior_sd
    report = model.check(idata)
    assert report["separation"].variables == ("x",)
    assert "separation" in str(report)


# ----------------------------------------------------------------------------- extreme scales
SCALES = (1.0, 1e-9, 1e9)


def test_default_priors_scale_with_the_response():
    x = _x(100)
    base = 1 + 0.5 * x + _x(100, seed=1)
    reference = bf.Model("y ~ x", pd.DataFrame({"x": x, "y": base})).priors
    for scale in SCALES[1:]:
        priors = bf.Model("y ~ x", pd.DataFrame({"x": x, "y": scale * base})).priors
        for name in ("Intercept", "x"):
            for arg in ("mu", "sigma"):
                got = priors.common[name].args[arg]
                assert got == pytest.approx(scale * reference.common[name].args[arg], rel=1e-12)
        ref_sigma = reference.aux["sigma"].args["sigma"]
        assert priors.aux["sigma"].args["sigma"] == pytest.approx(scale * ref_sigma, rel=1e-12)


@pytest.mark.slow
def test_extreme_response_scales_sample_like_a_standardised_response():
    """The same data at scales 1, 1e-9 and 1e9 (the fast path, default priors): the priors
    scale with the response, so slope / scale has one posterior; the fits must agree within
    Monte Carlo error and mix as well."""
    x = _x(100)
    base = 1 + 0.5 * x + _x(100, seed=1)
    fits = {}
    for scale in SCALES:
        model = bf.Model("y ~ x", pd.DataFrame({"x": x, "y": scale * base}))
        idata = model.fit(random_seed=7, diagnostics=False, **{**FIT, "draws": 1000})
        assert "nutpie" in idata.posterior.attrs.get("inference_method", "")
        assert int(idata.sample_stats["diverging"].sum()) == 0
        table = bf.summary(idata)
        assert table["r_hat"].max() <= 1.01 and table["ess_bulk"].min() >= 800
        fits[scale] = table.loc["x", ["mean", "sd", "mcse_mean", "mcse_sd"]] / scale
    ref = fits[1.0]
    for scale in SCALES[1:]:
        got = fits[scale]
        # independent chains: the difference of two estimates has sd sqrt(mcse1^2 + mcse2^2);
        # 4 of those is a 1-in-15,000 false alarm per comparison
        for stat, mcse in (("mean", "mcse_mean"), ("sd", "mcse_sd")):
            tolerance = 4 * np.hypot(ref[mcse], got[mcse])
            assert abs(got[stat] - ref[stat]) < tolerance, (scale, stat)


def test_auto_gives_extreme_scales_off_the_fast_path_to_nutpie():
    """PyMC's NUTS starts from unit scales and fails to adapt to a response of scale 1e-9
    (r_hat above 2); off the fast path "auto" hands such models to nutpie, and says why."""
    from bayesformula.samplers.auto import choose, response_scale

    x = _x(100)
    base = 1 + 0.5 * x + _x(100, seed=1)
    for scale, engine in ((1.0, "pymc"), (1e-9, "nutpie"), (1e9, "nutpie")):
        model = bf.Model("y ~ x", pd.DataFrame({"x": x, "y": scale * base}), family="t")
        pm_model = model.build()
        assert response_scale(pm_model) == pytest.approx(scale * np.std(base), rel=1e-9)
        name, reason = choose(pm_model)
        assert name == engine, (scale, reason)
        if engine == "nutpie":
            assert "extreme scale" in reason
    counts = bf.Model("k ~ x", pd.DataFrame({"x": x, "k": np.arange(100) * 10**6}), "poisson")
    assert response_scale(counts.build()) is None  # counts: the log link sets the scale


@pytest.mark.slow
def test_extreme_scales_off_the_fast_path_sample_like_a_standardised_response():
    """A Student t regression (the PyMC graph, "auto"): slope / scale agrees across scales
    1, 1e-9 and 1e9 within Monte Carlo error."""
    x = _x(100)
    base = 1 + 0.5 * x + _x(100, seed=1)
    fits = {}
    for scale in SCALES:
        model = bf.Model("y ~ x", pd.DataFrame({"x": x, "y": scale * base}), family="t")
        idata = model.fit(random_seed=7, diagnostics=False, **FIT)
        table = bf.summary(idata)
        assert table["r_hat"].max() <= 1.02 and table.loc["x", "ess_bulk"] >= 300, scale
        fits[scale] = table.loc["x", ["mean", "mcse_mean"]] / scale
    for scale in SCALES[1:]:
        tolerance = 4 * np.hypot(fits[1.0]["mcse_mean"], fits[scale]["mcse_mean"])
        assert abs(fits[scale]["mean"] - fits[1.0]["mean"]) < tolerance, scale
