"""The default prior scheme, recomputed independently from the data."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

import bayesformula as bf


def test_bioassay_defaults(bioassay):
    m = bf.Model("p(deaths, n) ~ dose", bioassay, family="binomial")
    ic, dose = m.priors.common["Intercept"], m.priors.common["dose"]
    assert ic.name == "Normal" and np.isclose(ic.args["mu"], special.logit(9 / 20))
    assert np.isclose(ic.args["sigma"], 2.5)
    assert np.isclose(dose.args["sigma"], 2.5 / np.std(bioassay["dose"]))  # ddof=0
    text = str(m)
    assert "dose ~ Normal(mu: 0, sigma: 4.373)" in text and "Link: p = logit" in text


def test_gaussian_group_defaults(sleepstudy):
    m = bf.Model("Reaction ~ Days + (Days|Subject)", sleepstudy)
    sd_y, sd_x = np.std(sleepstudy.Reaction), np.std(sleepstudy.Days)
    assert np.isclose(m.priors.common["Intercept"].args["mu"], sleepstudy.Reaction.mean())
    assert np.isclose(m.priors.common["Intercept"].args["sigma"], 2.5 * sd_y)
    assert np.isclose(m.priors.common["Days"].args["sigma"], 2.5 * sd_y / sd_x)
    g1 = m.priors.group["1|Subject"].args["sigma"]
    g2 = m.priors.group["Days|Subject"].args["sigma"]
    assert g1.name == "HalfNormal" and np.isclose(g1.args["sigma"], 2.5 * sd_y)
    assert np.isclose(g2.args["sigma"], 2.5 * sd_y / sd_x)
    sigma = m.priors.aux["sigma"]
    assert sigma.name == "HalfStudentT" and np.isclose(sigma.args["sigma"], sd_y)
    table = m.prior_table()
    assert set(table["parameter"]) == {
        "Intercept",
        "Days",
        "1|Subject",
        "Days|Subject",
        "1+Days|Subject_corr",
        "sigma",
    }
    assert (table["source"] == "default").all()
    assert m.priors.corr["1+Days|Subject"] == bf.Prior("LKJCorr", eta=1)


def test_log_link_intercept_centred_on_log_mean():
    df = pd.DataFrame({"y": [1, 4, 9, 2, 0, 7], "x": [0.1, 0.5, 0.9, 0.2, 0.0, 0.8]})
    m = bf.Model("y ~ x", df, family="poisson")
    assert np.isclose(m.priors.common["Intercept"].args["mu"], np.log(df.y.mean()))
    assert np.isclose(m.priors.common["x"].args["sigma"], 2.5 / np.std(df.x))


def test_auto_scale_false_gives_flat_priors(bioassay):
    m = bf.Model("p(deaths, n) ~ dose", bioassay, family="binomial", auto_scale=False)
    assert m.priors.common["dose"].name == "Flat" and m.priors.common["Intercept"].name == "Flat"


def test_user_priors_override_and_hyperpriors(sleepstudy):
    m = bf.Model(
        "Reaction ~ Days + (Days|Subject)",
        sleepstudy,
        priors={
            "common": bf.Prior("Normal", mu=0, sigma=50),
            "Days": bf.Prior("Normal", mu=10, sigma=5),
            "group_specific": bf.Prior("Normal", mu=0, sigma=bf.Prior("HalfNormal", sigma=20)),
            "sigma": bf.Prior("Exponential", lam=0.05),
        },
    )
    assert m.priors.common["Days"] == bf.Prior("Normal", mu=10, sigma=5)  # named key wins
    assert m.priors.common["Intercept"].args["sigma"] != 50  # "common" skips the intercept
    assert m.priors.group["Days|Subject"].args["sigma"] == bf.Prior("HalfNormal", sigma=20)
    pm_model = m.build()
    names = {v.name for v in pm_model.free_RVs}
    assert {"1+Days|Subject_cholesky", "sigma"} <= names
    # the correlated terms' standard deviations come from one HalfNormal(20) per term
    sd_dist = pm_model["1+Days|Subject_cholesky"].owner.inputs[-1]
    np.testing.assert_allclose(sd_dist.owner.inputs[-1].eval(), [20.0, 20.0])
    assert "Exponential" in str(m)
