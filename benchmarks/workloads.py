"""The benchmark workloads W1-W12: seeded data, formula and family.

All twelve are on bayesformula's fast path. Bambi cannot fit W11 (correlated effects): it is
compared with hand-written PyMC models (`handwritten.py`).
A workload's formula is a string, or a tuple of the main formula and auxiliary formulas.

Imports only numpy and pandas, so the same file serves bayesformula's environment and a
separate environment with Bambi (whose formulae pin conflicts with bayesformula's).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

DATASETS = Path(__file__).resolve().parents[1] / "bayesformula" / "datasets"


def w1():
    data = pd.read_csv(DATASETS / "bioassay.csv")
    return "p(deaths, n) ~ dose", data, "binomial"


def w2():
    rng = np.random.default_rng(2)
    n, p = 10_000, 10
    X = rng.normal(size=(n, p))
    beta = rng.normal(0, 1, p)
    data = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    data["y"] = 1.5 + X @ beta + rng.normal(0, 2.0, n)
    return "y ~ " + " + ".join(f"x{j}" for j in range(p)), data, "gaussian"


def w3():
    rng = np.random.default_rng(3)
    n = 50_000
    X = rng.normal(size=(n, 5))
    cat = rng.choice(list("abcde"), n)
    eta = -0.3 + X @ np.array([0.5, -0.4, 0.3, 0.2, -0.1])
    eta += pd.Series(cat).map(dict(zip("abcde", [0.0, 0.4, -0.3, 0.8, -0.6], strict=True)))
    data = pd.DataFrame(X, columns=[f"x{j}" for j in range(5)])
    data["c"] = cat
    data["y"] = rng.binomial(1, 1 / (1 + np.exp(-eta.to_numpy())))
    return "y ~ x0 + x1 + x2 + x3 + x4 + c", data, "bernoulli"


def w4():
    data = pd.read_csv(DATASETS / "sleepstudy.csv")
    # independent intercepts and slopes: the model Bambi fits for (Days|Subject)
    return "Reaction ~ Days + (Days||Subject)", data, "gaussian"


def w5():
    rng = np.random.default_rng(5)
    n, groups = 100_000, 1_000
    g = rng.integers(0, groups, n)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    u = rng.normal(0, 0.5, groups)
    eta = 0.5 + 0.3 * x1 - 0.2 * x2 + u[g]
    data = pd.DataFrame({"y": rng.poisson(np.exp(eta)), "x1": x1, "x2": x2, "g": g})
    data["g"] = "g" + data["g"].astype(str)
    return "y ~ x1 + x2 + (1|g)", data, "poisson"


def w6():
    rng = np.random.default_rng(6)
    n = 20_000
    g1, g2 = rng.integers(0, 500, n), rng.integers(0, 50, n)
    x = rng.normal(size=n)
    eta = -0.2 + 0.6 * x + rng.normal(0, 0.7, 500)[g1] + rng.normal(0, 0.4, 50)[g2]
    data = pd.DataFrame({"y": rng.binomial(1, 1 / (1 + np.exp(-eta))), "x": x, "g1": g1, "g2": g2})
    data["g1"] = "a" + data["g1"].astype(str)
    data["g2"] = "b" + data["g2"].astype(str)
    return "y ~ x + (1|g1) + (1|g2)", data, "bernoulli"


def w7():
    rng = np.random.default_rng(7)
    n, groups = 20_000, 200
    g = rng.integers(0, groups, n)
    x = rng.normal(size=n)
    mu = np.exp(1.0 + 0.4 * x + rng.normal(0, 0.3, groups)[g])
    alpha = 3.0
    y = rng.negative_binomial(alpha, alpha / (alpha + mu))
    data = pd.DataFrame({"y": y, "x": x, "g": "g" + pd.Series(g).astype(str)})
    return "y ~ x + (1|g)", data, "negativebinomial"


def w8():
    rng = np.random.default_rng(8)
    n = 5_000
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    latent = 0.8 * x1 - 0.5 * x2 + rng.logistic(size=n)
    y = np.digitize(latent, [-1.5, -0.3, 0.6, 1.8])  # five ordered categories
    data = pd.DataFrame({"y": pd.Categorical(y, ordered=True), "x1": x1, "x2": x2})
    return "y ~ x1 + x2", data, "cumulative"


def w9():
    rng = np.random.default_rng(9)
    n = 20_000
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    mu = 1 / (1 + np.exp(-(-0.3 + 0.6 * x1 - 0.4 * x2)))
    kappa = 12.0
    data = pd.DataFrame({"y": rng.beta(mu * kappa, (1 - mu) * kappa), "x1": x1, "x2": x2})
    return "y ~ x1 + x2", data, "beta"


def w10():
    rng = np.random.default_rng(10)
    n, groups = 10_000, 100
    g = rng.integers(0, groups, n)
    x = rng.normal(size=n)
    y = 2.0 + 0.8 * x + rng.normal(0, 0.7, groups)[g] + 1.5 * rng.standard_t(4, n)
    data = pd.DataFrame({"y": y, "x": x, "g": "g" + pd.Series(g).astype(str)})
    return "y ~ x + (1|g)", data, "t"


def w11():
    data = pd.read_csv(DATASETS / "sleepstudy.csv")
    return "Reaction ~ Days + (Days|Subject)", data, "gaussian"


def w12():
    rng = np.random.default_rng(12)
    n = 2_000
    x = rng.normal(size=n)
    y = 1.0 + 0.5 * x + np.exp(-0.2 + 0.4 * x) * rng.normal(size=n)
    return ("y ~ x", "sigma ~ x"), pd.DataFrame({"y": y, "x": x}), "gaussian"


WORKLOADS = {
    "W1": w1,
    "W2": w2,
    "W3": w3,
    "W4": w4,
    "W5": w5,
    "W6": w6,
    "W7": w7,
    "W8": w8,
    "W9": w9,
    "W10": w10,
    "W11": w11,
    "W12": w12,
}

#: workloads Bambi cannot fit (its ``(x|g)`` effects are independent: W4's model, not W11's)
NOT_BAMBI = {"W11"}

DESCRIPTIONS = {
    "W1": "bioassay p(deaths, n) ~ dose, binomial (4 rows)",
    "W2": "gaussian, n = 10,000, 10 numeric predictors",
    "W3": "bernoulli, n = 50,000, 5 numeric + 1 categorical (5 levels)",
    "W4": "sleepstudy Reaction ~ Days + (Days||Subject) (Bambi: (Days|Subject), the same model)",
    "W5": "poisson, n = 100,000, y ~ x1 + x2 + (1|g), 1,000 groups",
    "W6": "bernoulli, n = 20,000, y ~ x + (1|g1) + (1|g2), 500 and 50 groups",
    "W7": "negativebinomial, n = 20,000, y ~ x + (1|g), 200 groups",
    "W8": "ordinal cumulative, n = 5,000, y ~ x1 + x2, 5 categories",
    "W9": "beta, n = 20,000, y ~ x1 + x2",
    "W10": "student t, n = 10,000, y ~ x + (1|g), 100 groups",
    "W11": "sleepstudy Reaction ~ Days + (Days|Subject), correlated effects",
    "W12": "gaussian, n = 2,000, y ~ x with sigma ~ x",
}
