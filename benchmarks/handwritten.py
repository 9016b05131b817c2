"""Hand-written PyMC models of the workloads Bambi cannot fit, as a PyMC user would write them.

W11 (sleepstudy with correlated intercepts and slopes): ``Reaction ~ Days + (Days | Subject)``
with bayesformula's default priors typed in (its printout of the model), the intercept at the
mean of Days, an LKJ(1) prior on the correlation and the Cholesky factor from
``pm.LKJCholeskyCov``; the effects centered (``MvNormal``) or non-centered (standard normal
offsets times the factor). The same posterior as bayesformula's model of W11.
"""

from __future__ import annotations

import numpy as np
from workloads import WORKLOADS

#: the variants of each hand-written model
VARIANTS = ("centered", "noncentered")


def w11(variant: str):
    import pymc as pm

    _, data, _ = WORKLOADS["W11"]()
    subjects, idx = np.unique(data["Subject"], return_inverse=True)
    days = data["Days"].to_numpy(dtype=float)
    days_c = days - days.mean()
    y = data["Reaction"].to_numpy(dtype=float)
    coords = {"subject": subjects, "effect": ["Intercept", "Days"]}
    with pm.Model(coords=coords) as model:
        intercept = pm.Normal("Intercept_centered", 298.5, 140.4)
        slope = pm.Normal("Days", 0.0, 48.89)
        chol, _, _ = pm.LKJCholeskyCov(
            "chol",
            n=2,
            eta=1.0,
            sd_dist=pm.HalfNormal.dist(sigma=np.array([140.4, 48.89])),
            compute_corr=True,
        )
        if variant == "centered":
            effects = pm.MvNormal("effects", mu=np.zeros(2), chol=chol, dims=("subject", "effect"))
        else:
            offset = pm.Normal("offset", 0.0, 1.0, dims=("subject", "effect"))
            effects = pm.Deterministic("effects", offset @ chol.T, dims=("subject", "effect"))
        sigma = pm.HalfStudentT("sigma", nu=4, sigma=56.17)
        mu = intercept + effects[idx, 0] + (slope + effects[idx, 1]) * days_c
        pm.Normal("Reaction", mu=mu, sigma=sigma, observed=y)
    return model


HANDWRITTEN = {"W11": w11}
