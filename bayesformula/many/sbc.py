"""Simulation-based calibration (Talts et al. 2018): does fitting recover the prior?

For each of ``n`` simulations a parameter set is drawn from the model's prior and a dataset
from the likelihood at those parameters, on the model's own rows; the model is fitted to each
dataset with `fit_many`, and each parameter's rank among its thinned posterior draws is
recorded. When the sampler and the model's log-density are right, every rank is uniform on
0..L. A rank histogram that is not flat (a smile: posteriors too narrow; a slope: biased)
points at a problem.

The priors are fixed for every simulation: a model whose default priors scale to the data
would otherwise get other priors for each simulated dataset, and the posterior would not be
the one the parameters were drawn from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from bayesformula.errors import ArgumentError
from bayesformula.many.run import fit_many

__all__ = ["SBCResult", "sbc"]

#: Family-wise level of the uniformity test: the smallest p-value, times the number of
#: parameters (Bonferroni), must reach it.
LEVEL = 0.01

#: Supports of responses of categories (the prior predictive draws their codes).
_CATEGORIES = ("ordinal", "categorical")


@dataclass
class SBCResult:
    """The ranks of `sbc` and their uniformity test.

    Attributes
    ----------
    ranks : pandas.DataFrame
        One row per simulation fitted, one column per parameter (``x``, ``1|g[a]``): the
        number of thinned posterior draws below the prior draw, 0..``L``.
    L : int
        The number of thinned posterior draws per simulation.
    tests : pandas.DataFrame
        Per parameter: the chi-square statistic of its rank histogram (``bins`` bins), its
        p-value, and the smallest p-value times the number of parameters (``p_bonferroni``).
    failed : dict
        Simulation -> why it was left out of the ranks: its fit failed, or a category of its
        simulated response had no row.
    """

    ranks: pd.DataFrame
    L: int
    tests: pd.DataFrame
    failed: dict
    bins: int

    @property
    def p_value(self) -> float:
        """The family-wise p-value of uniformity (Bonferroni over the parameters)."""
        return float(min(1.0, self.tests["p_value"].min() * len(self.tests)))

    @property
    def ok(self) -> bool:
        """Whether every parameter's ranks pass as uniform at the family-wise level `LEVEL`."""
        return self.p_value >= LEVEL

    def __repr__(self) -> str:
        verdict = "uniform" if self.ok else "NOT uniform"
        return (
            f"SBC: {len(self.ranks)} simulations, {self.ranks.shape[1]} parameters, ranks of "
            f"{self.L} draws: {verdict} (family-wise p = {self.p_value:.3g}, level {LEVEL}); "
            f"{len(self.failed)} left out (failed)."
        )

    def plot(self, parameters: list[str] | None = None, prob: float = 0.95):
        """The ECDF of each parameter's normalised ranks minus the uniform's, with a
        simultaneous band (Dvoretzky-Kiefer-Wolfowitz: the whole curve stays inside with
        probability ``prob`` when the ranks are uniform), and its rank histogram."""
        import matplotlib.pyplot as plt

        names = list(parameters or self.ranks.columns)
        fig, axes = plt.subplots(
            2, len(names), figsize=(2.6 * len(names), 4.4), squeeze=False, sharey="row"
        )
        n = len(self.ranks)
        band = np.sqrt(np.log(2 / (1 - prob)) / (2 * n))
        grid = np.linspace(0, 1, 201)
        for j, name in enumerate(names):
            u = (self.ranks[name].to_numpy() + 0.5) / (self.L + 1)
            ecdf = (u[None, :] <= grid[:, None]).mean(axis=1)
            top = axes[0, j]
            top.fill_between(grid, -band, band, color="0.85", label=f"{prob:.0%} band")
            top.plot(grid, ecdf - grid, color="C0")
            top.axhline(0, color="0.4", lw=0.8)
            top.set_title(name, fontsize=9)
            top.set_xlabel("normalised rank")
            bottom = axes[1, j]
            bottom.hist(self.ranks[name], bins=self.bins, range=(0, self.L + 1), color="C0")
            bottom.axhline(n / self.bins, color="0.3", lw=0.8)
            bottom.set_xlabel("rank")
        axes[0, 0].set_ylabel("ECDF - uniform")
        axes[1, 0].set_ylabel("simulations")
        axes[0, 0].legend(fontsize=8, loc="lower left")
        fig.suptitle(f"SBC: {n} simulations, family-wise p = {self.p_value:.3g}")
        fig.tight_layout()
        return fig


def sbc(
    model,
    n: int = 100,
    *,
    draws: int = 500,
    chains: int = 2,
    L: int = 99,
    executor: Any = None,
    random_seed: int | None = None,
    progressbar: bool = True,
    **fit_kwargs: Any,
) -> SBCResult:
    """Simulation-based calibration of ``model`` (its formula, family, links and priors, on its
    own rows): ``n`` parameter sets from the prior, a dataset simulated from each, a fit of
    each (`fit_many`, on ``executor``), and each parameter's rank among ``L`` thinned posterior
    draws.

    Parameters
    ----------
    model : bayesformula.Model
        A model of any family (categories and counts per category included). A simulated
        dataset in which a category of a categorical or ordinal response has no row is left
        out (its model would have fewer categories) and counted in ``failed``: leaving out
        datasets by what they hold keeps the ranks uniform. A ``truncated()`` response is
        simulated within its bounds; a ``censored()`` one (its status a column) is censored
        at each censored row's own limit, the status following the simulated value (see
        `_censor`). ``weighted()`` responses are refused.
    n : int
        Simulations (100-1000 for a verdict; a rank histogram of ``n`` simulations tells
        apart deviations of about ``1 / sqrt(n / bins)``).
    draws, chains
        Posterior draws per chain of each fit (thinned to ``L`` draws).
    L : int
        Posterior draws each rank is taken among (ranks are 0..L).
    executor, random_seed, progressbar
        As for `fit_many`.
    **fit_kwargs
        Passed to each fit (``tune``, ``inference_method``, ...).

    Returns
    -------
    SBCResult
        ``ranks``, the uniformity ``tests``, ``ok`` and ``plot()``.
    """
    spec = model.spec
    where = "sbc()"
    status_column = _status_column(model, where)
    if draws * chains < L:
        raise ArgumentError(f"{where}: draws x chains ({draws * chains}) must be at least L ({L}).")
    seeds = np.random.SeedSequence(random_seed).spawn(2)
    prior = model.prior_predictive(draws=n, random_seed=int(seeds[0].generate_state(1)[0]))
    simulated = prior["prior_predictive"][model.response_name].to_numpy()[0]  # (n, rows, ...)
    rows = model.data.loc[model.design.index] if model.design.n_dropped else model.data
    datasets, skipped = _datasets(model, rows, simulated, where, status_column)
    if not datasets:
        raise ArgumentError(f"{where}: no simulated dataset can be fitted: {skipped[0]}")
    result = fit_many(
        spec.formula,
        datasets=datasets,
        executor=executor,
        errors="collect",
        keep="draws",
        random_seed=int(seeds[1].generate_state(1)[0]),
        progressbar=progressbar,
        draws=draws,
        chains=chains,
        **_same_model(spec),
        **fit_kwargs,
    )
    if result.posterior is None:
        raise ArgumentError(
            f"{where}: every fit failed, for example: {next(iter(result.errors.values()))}"
        )
    truth = _flat(prior["prior"].to_dataset().squeeze("chain", drop=True), "draw")
    fitted = [int(i) for i in result.diagnostics.index]
    ranks = _ranks(truth.loc[fitted], result.posterior, L)
    # bins of equal numbers of rank values (L + 1 of them), about 5 simulations per bin or more
    bins = max(b for b in (1, 2, 4, 5, 10) if (L + 1) % b == 0 and b <= max(1, len(ranks) // 5))
    return SBCResult(ranks, L, _tests(ranks, L, bins), {**skipped, **result.errors}, bins)


def _status_column(model, where: str) -> str | None:
    """The data column of a ``censored()`` response's status (a simulated row's status follows
    its value, `_censor`), None for other responses. ``weighted()`` and a status written as
    a literal are refused; ``truncated()`` needs nothing (the family's draws keep within its
    bounds)."""
    helper = model.response_helper
    if helper is None or helper.kind == "truncated":
        return None
    if helper.kind == "censored":
        from bayesformula.formula.helpers import split_response_helper

        status = split_response_helper(model.spec.formula.main)[1].args[-1]
        if isinstance(status, str):
            return status
        raise ArgumentError(
            f"{where}: {helper.text} gives every row the same censoring status; a simulated "
            "dataset decides each row's status from its simulated value, so write the status "
            "as a column of the data."
        )
    raise ArgumentError(
        f"{where} simulates the family's response; {helper.text} has no generative reading "
        "(a weighted row is not a number of copies of a simulated one)."
    )


def _censor(helper, y: np.ndarray, values: np.ndarray, coding: pd.Series):
    """A simulated response censored as the model's rows are: each row's limit is its
    observed value where the row is censored (right: above it, left: at most it, interval:
    in (value, upper]), and a draw beyond the limit is reported at the limit with the row's
    status; other draws, and every draw of a row not censored, are observed exactly. The
    censoring depends on the draw and fixed limits alone, so the likelihood the model uses is
    the simulation's. Returns the response and the status column in the data's own coding."""
    from bayesformula.formula.helpers import STATUS_CODES

    status = helper.status
    out = np.asarray(values, dtype=float).copy()
    codes = np.zeros(len(out), dtype=np.int64)
    right = (status == STATUS_CODES["right"]) & (values > y)
    left = (status == STATUS_CODES["left"]) & (values <= y)
    upper = helper.upper if helper.upper is not None else np.full(len(out), np.nan)
    inside = (status == STATUS_CODES["interval"]) & (values > y) & (values <= upper)
    for where, kind in ((right, "right"), (left, "left"), (inside, "interval")):
        out[where] = y[where]
        codes[where] = STATUS_CODES[kind]
    if coding.dtype == object or isinstance(coding.dtype, pd.StringDtype):
        names = {code: name for name, code in STATUS_CODES.items()}
        return out, np.array([names[c] for c in codes], dtype=object)
    return out, codes.astype(coding.dtype, copy=False)


def _datasets(model, rows: pd.DataFrame, simulated: np.ndarray, where: str, status_column=None):
    """The model's rows with each simulated response (a dict by simulation), and the
    simulations left out with why (``status_column``: see `_status_column`)."""
    data = model.response_data
    helper = model.response_helper
    # a censored row's limit: its observed value
    limits = None if status_column is None else np.asarray(data.values, dtype=float)
    datasets, skipped = {}, {}
    for i, values in enumerate(simulated):
        if model.family.support in _CATEGORIES:  # codes -> the response's own categories
            codes = np.asarray(values, dtype=int)
            missing = [data.levels[k] for k in range(len(data.levels)) if not np.any(codes == k)]
            if missing:
                skipped[i] = f"no row drew the category {missing[0]!r}"
                continue
            response = pd.Categorical.from_codes(
                codes, categories=list(data.levels), ordered=model.family.support == "ordinal"
            )
            datasets[i] = rows.assign(**{model.response_name: response})
        elif np.ndim(values) == 2:  # counts per category: one column each
            absent = [level for level in data.levels if level not in rows.columns]
            if absent:
                raise ArgumentError(
                    f"{where}: the count columns of {model.response_name} must be data columns; "
                    f"{absent[0]!r} is not."
                )
            datasets[i] = rows.assign(**dict(zip(data.levels, values.T, strict=True)))
        elif status_column is not None:
            response, status = _censor(helper, limits, values, rows[status_column])
            datasets[i] = rows.assign(**{model.response_name: response, status_column: status})
        else:
            if helper is not None:  # truncated: the draws keep within the bounds
                if np.any((values < helper.lower_bound) | (values > helper.upper_bound)):
                    raise ArgumentError(
                        f"{where}: a simulated response fell outside {helper.text}'s bounds."
                    )
            datasets[i] = rows.assign(**{model.response_name: values})
    return datasets, skipped


def _same_model(spec) -> dict:
    """`bayesformula.Model`'s keywords that specify ``spec``'s model again on other data, with
    every prior fixed to the one ``spec`` uses."""
    options, priors = spec.options, spec.priors
    fixed = {
        **priors.common,
        **priors.group,
        **{f"{name}_corr": prior for name, prior in priors.corr.items()},
        **priors.aux,
        **priors.terms,
    }
    return {
        "family": spec.family,
        "priors": fixed,
        "link": dict(options.link) if isinstance(options.link, dict) else options.link,
        "categorical": options.categorical,
        "noncentered": options.noncentered,
        "center_predictors": options.center_predictors,
        "extra_namespace": dict(spec.extra_namespace) or None,
    }


def _flat(data, sample: str) -> pd.DataFrame:
    """One column per scalar parameter (``x``, ``1|g[a]``), one row per ``sample``, for the
    variables a fit reports (not the sampler's internal ``*_centered`` ones)."""
    columns = {}
    for name, values in data.data_vars.items():
        if name.endswith(("_centered", "_offset")) or values.ndim == 0:
            continue
        other = [d for d in values.dims if d != sample]
        if not other:
            columns[name] = values.to_numpy()
            continue
        stacked = values.stack(_component=other).transpose(sample, "_component")
        array = stacked.to_numpy()
        for k, label in enumerate(stacked["_component"].to_index()):
            label = ",".join(map(str, label)) if isinstance(label, tuple) else str(label)
            columns[f"{name}[{label}]"] = array[:, k]
    return pd.DataFrame(columns, index=data[sample].to_numpy())


def _ranks(truth: pd.DataFrame, posterior, L: int) -> pd.DataFrame:
    """Each simulation's rank of its prior draw among ``L`` evenly thinned posterior draws."""
    out = []
    for i in truth.index:
        draws = posterior.sel(dataset=i).stack(_sample=("chain", "draw"))
        flat = _flat(draws, "_sample")
        keep = np.linspace(0, len(flat) - 1, L).round().astype(int)
        thinned = flat.iloc[keep]
        shared = [c for c in truth.columns if c in thinned.columns]
        out.append((thinned[shared] < truth.loc[i, shared]).sum(axis=0))
    return pd.DataFrame(out, index=truth.index).astype(int)


def _tests(ranks: pd.DataFrame, L: int, bins: int) -> pd.DataFrame:
    """Per parameter: the chi-square test of a flat rank histogram over ``bins`` bins."""
    edges = np.linspace(0, L + 1, bins + 1)
    rows = []
    for name in ranks.columns:
        counts, _ = np.histogram(ranks[name], bins=edges)
        expected = np.diff(edges) / (L + 1) * len(ranks)
        statistic, p = stats.chisquare(counts, expected)
        rows.append({"parameter": name, "chi2": statistic, "p_value": p})
    tests = pd.DataFrame(rows).set_index("parameter")
    tests["p_bonferroni"] = np.minimum(1.0, tests["p_value"] * len(tests))
    return tests
