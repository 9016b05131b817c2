"""``check_family``: the conformance suite for built-in and user families.

It checks a family's declaration (links, likelihood, default priors), builds a small model
``y ~ x`` on data that fits the family's support, and checks that the pieces agree with each
other: the numpy ``draw`` that predictions use must draw from the same distribution as the
PyMC likelihood the model is fitted with (a two-sample Kolmogorov-Smirnov test at the model's
initial point), and both prediction kinds must work and stay inside the family's support.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from bayesformula.core.prior import Prior
from bayesformula.errors import BayesformulaError, FamilyError
from bayesformula.families.family import AUX_SUPPORTS, Family
from bayesformula.families.links import get_link
from bayesformula.families.registry import get_family
from bayesformula.report import CheckReport

__all__ = ["FamilyReport", "check_family", "example_data"]

#: Smallest p-value the numpy-vs-PyMC draw comparison accepts. With the default 50,000 draws a
#: scale or location error of 10 % gives p-values far below this.
KS_MIN_P = 1e-4


@dataclass
class FamilyReport(CheckReport):
    """Outcome of `check_family`: one entry per check, with what failed."""

    family: str

    def title(self) -> str:
        return f"check_family('{self.family}')"


def example_data(family: Family, n: int = 60, seed: int = 0) -> tuple[str, pd.DataFrame]:
    """A formula and a data frame whose response fits ``family.support``."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    trials = rng.integers(4, 12, n)
    support = family.support
    if support == "real":
        y = 1.0 + 0.5 * x + rng.normal(size=n)
    elif support == "binary":
        y = rng.binomial(1, 1 / (1 + np.exp(-0.5 * x)))
    elif support == "trials":
        y = rng.binomial(trials, 1 / (1 + np.exp(-0.5 * x)))
    elif support == "count":
        y = rng.poisson(np.exp(1.0 + 0.3 * x)) * (rng.random(n) < 0.8)
    elif support == "positive":
        y = rng.gamma(3.0, np.exp(0.3 * x) / 3.0)
    elif support == "nonnegative":
        y = rng.gamma(3.0, np.exp(0.3 * x) / 3.0) * (rng.random(n) < 0.8)
    elif support == "unit":
        y = rng.beta(2.0 + x.clip(-1, 1), 3.0)
    elif support == "circular":
        y = rng.vonmises(0.3 + 0.2 * x, 3.0)
    elif support == "ordinal":
        levels = ["low", "mid", "high"]
        codes = np.digitize(0.8 * x + rng.logistic(size=n), [-0.7, 0.7])
        y = pd.Categorical.from_codes(codes, categories=levels, ordered=True)
    elif support in ("categorical", "multinomial"):
        eta = np.column_stack([np.zeros(n), 0.3 + 0.6 * x, -0.2 - 0.5 * x])
        p = np.exp(eta) / np.exp(eta).sum(axis=1, keepdims=True)
        if support == "multinomial":
            counts = np.array([rng.multinomial(t, row) for t, row in zip(trials, p, strict=True)])
            df = pd.DataFrame({"y1": counts[:, 0], "y2": counts[:, 1], "y3": counts[:, 2]})
            return "c(y1, y2, y3) ~ x", df.assign(x=x)
        codes = np.array([rng.choice(3, p=row) for row in p])
        y = pd.Categorical.from_codes(codes, categories=["a", "b", "c"])
    else:  # pragma: no cover - Family checks its support
        raise FamilyError(f"no example data for support {support!r}.")
    df = pd.DataFrame({"y": y, "x": x, "n": trials})
    return ("p(y, n) ~ x" if support == "trials" else "y ~ x"), df


def check_family(
    family: str | Family,
    *,
    data: pd.DataFrame | None = None,
    formula: str | None = None,
    draws: int = 50_000,
    seed: int = 20261124,
    raise_on_failure: bool = True,
) -> FamilyReport:
    """Run the conformance suite against a family.

    Parameters
    ----------
    family : str or Family
        A registered name or a `Family` (registered or not).
    data, formula : optional
        A data set and formula to build the test model from; by default a simulated
        ``y ~ x`` (``p(y, n) ~ x`` for families with trials) that fits the family's support.
    draws : int, default 50,000
        Responses drawn from the numpy ``draw`` and from the PyMC likelihood for their
        comparison.
    seed : int
        Seed for the data, the draws and the prior predictive.
    raise_on_failure : bool, default True
        Raise `FamilyError` listing the failed checks; otherwise return the report.

    Returns
    -------
    FamilyReport

    Examples
    --------
    >>> import bayesformula as bf
    >>> print(bf.check_family("poisson"))  # doctest: +SKIP
    check_family('poisson'): 8 passed.
    """
    family = get_family(family)
    report = FamilyReport(family=family.name)
    try:
        _run(report, family, data, formula, draws, seed)
    except BayesformulaError as err:  # a check that could not even run
        report.failed.setdefault("model", f"{type(err).__name__}: {err}")
    if raise_on_failure and not report.ok:
        raise FamilyError(str(report))
    return report


def _run(report: FamilyReport, family: Family, data, formula, draws: int, seed: int) -> None:
    import pymc as pm
    from pytensor.compile.mode import Mode
    from scipy import stats

    from bayesformula.compiled import built_graph
    from bayesformula.model import Model

    # ---------------------------------------------------------------- the declaration
    try:
        links = [get_link(name) for name in family.links]
        why = ""
    except FamilyError as err:
        links, why = [], str(err)
    report.record("links", bool(links), why or "the family declares no links")
    likelihood = getattr(pm, family.likelihood, None)
    report.record(
        "likelihood",
        likelihood is not None and hasattr(likelihood, "dist"),
        f"'{family.likelihood}' is not a PyMC distribution",
    )
    bad_priors = []
    for param in family.aux:
        prior = param.default_prior(1.0)
        if isinstance(prior, Prior):
            continue
        if not (isinstance(prior, int | float) and param.check_fixed(float(prior))):
            bad_priors.append(
                f"{param.name}: {prior!r} is neither a Prior nor a number "
                f"{AUX_SUPPORTS[param.support][1]}"
            )
    report.record("default priors", not bad_priors, "; ".join(bad_priors))
    if not report.ok:
        return

    # ---------------------------------------------------------------- the model
    if data is None:
        formula, data = example_data(family, seed=seed)
    elif formula is None:
        raise FamilyError("check_family: pass the formula along with data=.")
    model = Model(formula, data, family=family)
    pm_model = model.build()
    n_obs = len(model.design.index)
    # free variables, and deterministics for parameters sampled centred (ordinal thresholds)
    names = {v.name for v in pm_model.free_RVs + pm_model.deterministics}
    missing = [
        a.name
        for a in family.aux
        if isinstance(model.priors.aux[a.name], Prior) and a.name not in names
    ]
    report.record(
        "parameters",
        not missing and len(pm_model.coords["__obs__"]) == n_obs,
        f"auxiliary parameters {missing} are not in the model"
        if missing
        else "the observations' coords do not match the data",
    )
    point = pm_model.initial_point(random_seed=seed)
    logp = float(pm_model.compile_logp()(point))
    report.record("log-density", np.isfinite(logp), f"not finite at the initial point: {logp}")
    if not np.isfinite(logp):
        return

    # ---------------------------------------------------------------- draw vs likelihood
    # the parent and the free auxiliary parameters at the initial point (constrained scale)
    free_aux = [a.name for a in family.aux if a.name in names]
    graphs = pm_model.replace_rvs_by_values(
        [built_graph(model.spec).parent, *(pm_model[name] for name in free_aux)]
    )
    at_point = pm_model.compile_fn(graphs, inputs=pm_model.value_vars, on_unused_input="ignore")
    parent_value, *aux_values = (np.asarray(v) for v in at_point(point))
    values = dict(zip(free_aux, aux_values, strict=True))
    # the row with the median parent (its first level's probability for ordinal families)
    key = parent_value.reshape(len(parent_value), -1)[:, 0]
    i = int(np.argmin(np.abs(key - np.median(key))))
    params: dict[str, Any] = {
        family.parent: np.full((draws, *parent_value.shape[1:]), parent_value[i])
    }
    for param in family.aux:
        spec = model.priors.aux[param.name]
        params[param.name] = values[param.name] if isinstance(spec, Prior) else float(spec)
    if model.response_data.trials is not None:
        params["trials"] = np.full(draws, int(model.response_data.trials[i]))
    rng = np.random.default_rng(seed)
    # one response per draw: a value, or counts per category (c(y1, ..., yK) responses)
    y_shape = (draws,) + np.shape(model.response_data.values)[1:]
    try:
        numpy_draws = np.asarray(family.draw(rng, **family.to_dist(params)), dtype=float)
        shape_ok = numpy_draws.shape == y_shape
    except Exception as err:  # noqa: BLE001 - reported, not raised
        report.record("numpy draw", False, f"family.draw failed: {type(err).__name__}: {err}")
        return
    report.record(
        "numpy draw", shape_ok, f"draw returned shape {numpy_draws.shape}, expected {y_shape}"
    )
    dist = likelihood.dist(**family.to_dist(params))
    # one forward draw: numpy's own generators through PyTensor's Python linker (numba would
    # fall back to object mode, with a warning, for wald, skewnormal and beta_binomial draws)
    forward = Mode(linker="py", optimizer="fast_compile")
    if _has_scan(dist):  # a rejection loop (truncated counts) copies its state each step there
        forward = None
    pymc_draws = np.asarray(pm.draw(dist, random_seed=seed + 1, mode=forward), dtype=float)
    if not shape_ok or pymc_draws.shape != y_shape:
        return
    # per category for count vectors, with a Bonferroni correction over the categories
    columns = numpy_draws.reshape(draws, -1).shape[1]
    p_value = min(
        1.0,
        columns
        * min(
            float(stats.ks_2samp(a, b).pvalue)
            for a, b in zip(
                numpy_draws.reshape(draws, -1).T, pymc_draws.reshape(draws, -1).T, strict=True
            )
        ),
    )
    report.record(
        "draw matches likelihood",
        p_value >= KS_MIN_P,
        f"the numpy draw and PyMC's {family.likelihood} differ at {family.parent}="
        f"{np.array2string(parent_value[i], precision=4)} (two-sample KS p = {p_value:.2g}; means "
        f"{np.mean(numpy_draws):.4g} vs {np.mean(pymc_draws):.4g})",
    )

    # ---------------------------------------------------------------- predictions
    prior = model.prior_predictive(draws=20, random_seed=seed)
    model.predict(prior, kind="response_params", group="prior")
    parent = prior.prior[family.parent]
    levels = model.response_data.levels if family.parent_over_levels else None
    expected = (1, 20, n_obs) + (() if levels is None else (len(levels),))
    report.record(
        "predict response_params",
        parent.shape == expected,
        f"the parent has shape {parent.shape}, expected {expected}",
    )
    if levels is not None:
        total = parent.values.sum(axis=-1)
        report.record(
            "category probabilities",
            bool(np.all(parent.values >= 0) and np.allclose(total, 1.0)),
            f"probabilities outside [0, 1] or not summing to 1 (sums from {total.min():.6g} "
            f"to {total.max():.6g})",
        )
    y = prior.prior_predictive[model.response_name].values
    # rows whose parent is undefined (a prior draw outside the link's range, e.g. a negative
    # linear predictor with inverse_squared) have no response to check
    defined = np.isfinite(parent.values)
    if defined.ndim > y.ndim:
        defined = defined.all(axis=tuple(range(y.ndim, defined.ndim)))
    trials = model.response_data.trials
    in_support, why = True, ""
    y_expected = (1, 20) + np.shape(model.response_data.values)
    try:
        if y.shape != y_expected:
            raise BayesformulaError(f"responses have shape {y.shape}, expected {y_expected}")
        if y.ndim == 4:  # counts per category, (chain, draw, obs, K)
            rows = np.isfinite(parent.values).all(axis=-1)
            _fits_counts(y[rows], np.broadcast_to(trials, y.shape[:3])[rows])
        else:
            _fits_support(
                family,
                y[defined],
                None if trials is None else np.broadcast_to(trials, y.shape)[defined],
                n_levels=None if levels is None else len(levels),
            )
    except BayesformulaError as err:
        in_support, why = False, str(err)
    report.record("predict response", in_support, why)


def _fits_counts(y: np.ndarray, totals: np.ndarray) -> None:
    """Raise `ResponseError` unless drawn count vectors (rows, K) are whole, non-negative
    and sum to their rows' totals."""
    from bayesformula.errors import ResponseError

    bad = np.any((y < 0) | (y != np.round(y)), axis=-1) | (y.sum(axis=-1) != totals)
    if bad.any():
        raise ResponseError(
            f"{int(bad.sum())} drawn count vectors are not whole, non-negative counts summing "
            f"to their totals, e.g. {y[bad][:3].tolist()} for totals {totals[bad][:3].tolist()}."
        )


def _fits_support(
    family: Family, y: np.ndarray, trials: np.ndarray | None, n_levels: int | None = None
) -> None:
    """Raise `ResponseError` when drawn responses fall outside the family's support
    (for ordinal and categorical families: category codes outside 0..n_levels - 1)."""
    from bayesformula.errors import ResponseError
    from bayesformula.formula.design import Response

    if n_levels is not None:
        bad = (y < 0) | (y > n_levels - 1) | (y != np.round(y))
        if bad.any():
            raise ResponseError(
                f"{int(bad.sum())} drawn categories are not codes 0..{n_levels - 1}, e.g. "
                f"{y[bad][:5].tolist()}."
            )
        return

    response = Response(
        name="y",
        expr="y",
        kind="numeric" if trials is None else "proportion",
        values=np.asarray(y),
        trials=trials,
    )
    family.check_response(response, pd.RangeIndex(len(y)))


def _has_scan(graphs) -> bool:
    """Whether ``graphs`` loop (a PyTensor ``Scan``, also inside a symbolic random variable
    such as a truncated count's): such draws took half a minute through the Python linker,
    against seconds to compile with numba."""
    from pytensor.graph.traversal import ancestors

    for v in ancestors(graphs if isinstance(graphs, list) else [graphs]):
        op = v.owner.op if v.owner is not None else None
        if type(op).__name__ == "Scan":
            return True
        if (
            op is not None
            and getattr(op, "inner_outputs", None)
            and _has_scan(list(op.inner_outputs))
        ):
            return True
    return False
