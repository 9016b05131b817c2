"""The `Model` facade: it wires formula -> priors -> family -> PyMC model -> sampler."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bayesformula.build.density import Unsupported, build_density
from bayesformula.build.parameterization import anchor_factor, resolve_parameterization
from bayesformula.errors import FamilyError, FormulaError, PriorError, SamplerError
from bayesformula.families.registry import get_family
from bayesformula.formula.design import drop_intercept, make_design
from bayesformula.formula.distributional import aux_parts, used_columns
from bayesformula.formula.formula import Formula
from bayesformula.formula.helpers import evaluate_helper, split_response_helper
from bayesformula.priors.auto import (
    PriorSet,
    add_part_priors,
    apply_user_priors,
    check_vector_priors,
    default_priors,
)
from bayesformula.priors.prior import Prior
from bayesformula.results.predict import compile_predictor
from bayesformula.results.predict import predict as _predict
from bayesformula.samplers import get_sampler
from bayesformula.samplers.density import DensityModel

if TYPE_CHECKING:
    from bayesformula.build.pymc import BuiltModel

__all__ = ["Model"]

#: Default warm-up steps per chain when nutpie samples the fast path's log-density.
FAST_PATH_TUNE = 300


class Model:
    """A Bayesian regression model specified by an R-style formula.

    Parameters
    ----------
    formula : str or Formula
        For example ``"p(deaths, n) ~ dose"`` or ``"Reaction ~ Days + (Days|Subject)"``
        (correlated intercepts and slopes; ``(Days||Subject)`` for independent ones).
        ``Formula("y ~ x", "sigma ~ z")`` also models auxiliary parameters per observation.
    data : pandas.DataFrame
        The data; only the columns the formula uses are read.
    family : str or Family, default "gaussian"
        One of `bayesformula.list_families` or a registered/custom `Family`. The ordinal
        families (``"cumulative"``, ``"sratio"``, ``"cratio"``, ``"acat"``) take ordered
        categories and drop the intercept: their thresholds take its place. ``"categorical"``
        (one category per row), ``"multinomial"`` and ``"dirichlet_multinomial"`` (counts
        per category, ``c(y1, ..., yK) ~ x``) give every term one coefficient per category
        but the first, the reference (dimension ``{response}_reduced_dim``).
    priors : dict, optional
        Overrides of default priors, keyed by term (``"dose"``, ``"Intercept"``, ``"1|g"``,
        ``"sigma_z"`` in an auxiliary formula), correlations (``"1+x|g_corr"``, an
        ``LKJCorr`` prior), auxiliary parameter (``"sigma"``; a number fixes it), ``"common"``
        or ``"group_specific"``. Values are `Prior` objects.
    link : str or dict, optional
        Link of the parent parameter (default: the family's default link). A dict may also
        set the link of an auxiliary parameter that has a formula (``{"sigma": "log"}``).
    categorical : str or list of str, optional
        Numeric columns to treat as categorical.
    dropna : bool, default False
        Drop rows with missing values in used columns (and warn how many); otherwise such
        rows are an error.
    auto_scale : bool, default True
        Scale default priors to the data. If False, intercept and slopes get flat priors.
    noncentered : None, bool or dict, default None
        Parameterisation of group-specific effects. None chooses per grouping factor from the
        data: centered when each level's data outweigh the population prior, non-centered
        otherwise (the choice and its reason are printed with the model). True or False sets
        every factor; ``{"g": True}`` sets some and lets the others be chosen.
    center_predictors : bool, default True
        Sample the intercept at the predictors' means (reported uncentered as ``Intercept``).
    extra_namespace : dict, optional
        Functions or values the formula may use by name, besides data columns, numpy (as
        ``np``) and the built-in transforms.

    Examples
    --------
    >>> import bayesformula as bf
    >>> model = bf.Model("p(deaths, n) ~ dose", bf.load_data("bioassay"), family="binomial")
    >>> model.response_name, model.family.name, model.link.name
    ('deaths', 'binomial', 'logit')
    """

    def __init__(
        self,
        formula: str | Formula,
        data: pd.DataFrame,
        family: Any = "gaussian",
        priors: dict[str, Any] | None = None,
        link: str | dict | None = None,
        categorical: str | list[str] | None = None,
        dropna: bool = False,
        auto_scale: bool = True,
        noncentered: bool | dict[str, bool] | None = None,
        center_predictors: bool = True,
        extra_namespace: dict[str, Any] | None = None,
    ):
        self.formula = formula if isinstance(formula, Formula) else Formula(formula)
        self.data = data
        self._options = {
            "priors": dict(priors) if isinstance(priors, dict) else priors,
            "link": link,
            "categorical": categorical,
            "dropna": dropna,
            "extra_namespace": sorted(extra_namespace) if isinstance(extra_namespace, dict) else [],
        }
        self.family = get_family(family)
        self.link = self.family.resolve_link(link)
        main, helper_spec = split_response_helper(self.formula.main)
        additionals = self.formula.additionals
        if helper_spec is not None and self.family.parent_over_levels:
            kind = "ordinal" if self.family.support == "ordinal" else "categorical"
            raise FamilyError(
                f"{helper_spec.text}: response helpers (censored, truncated, weighted) are not "
                f"available for the {kind} family '{self.family.name}'; write the response "
                f"as a plain column ('{helper_spec.response} ~ ...')."
            )
        self.design = make_design(
            main,
            data,
            dropna=dropna,
            categorical=categorical,
            extra_namespace=extra_namespace,
            also_used=(
                used_columns(additionals, self.family, getattr(data, "columns", []))
                if additionals
                else ()
            ),
        )
        #: models of auxiliary parameters from the additional formulas, by parameter
        self.aux_parts = aux_parts(
            additionals,
            self.family,
            data,
            self.design.index,
            links=link if isinstance(link, dict) else None,
            categorical=categorical,
            extra_namespace=extra_namespace,
        )
        self.response_data = self.family.check_response(self.design.response, self.design.index)
        if self.family.per_category:
            _check_per_category_terms(self.design, self.family)
        if not self.family.intercept:  # ordinal families: the thresholds take its place
            self.design = drop_intercept(self.design, _intercept_owner(self.family))
        #: censoring, truncation or weights from censored()/truncated()/weighted(), or None
        self.response_helper = (
            None
            if helper_spec is None
            else evaluate_helper(helper_spec, data, self.design.index, self.response_data.values)
        )
        if self.response_helper is not None and self.response_helper.kind != "weighted":
            _check_has_cdf(self.family, self.response_helper.text)
        self.noncentered = noncentered
        self.parameterization = resolve_parameterization(
            noncentered, self.design, self.family, self.response_data
        )
        self.anchor = anchor_factor(self.design, self.parameterization)
        self.center_predictors = center_predictors
        self.auto_scale = auto_scale
        defaults = default_priors(
            self.design, self.family, self.link, self.response_data, auto_scale=auto_scale
        )
        for part in self.aux_parts.values():
            defaults = add_part_priors(
                defaults, part, self.family, self.response_data, auto_scale=auto_scale
            )
        self.priors: PriorSet = apply_user_priors(defaults, priors, self.family)
        check_vector_priors(self.priors, self.family, self.response_data)
        if self.family.per_category:
            _check_category_priors(self.priors, self.design, self.response_data)
        self.backend: BuiltModel | None = None
        self._density = None
        self._predictor = None
        self._loglik = None

    # ------------------------------------------------------------------ building
    @property
    def response_name(self) -> str:
        """Name of the observed variable in the PyMC model and in InferenceData."""
        return self.design.response.name

    def _build(self) -> BuiltModel:
        if self.backend is None:
            from bayesformula.build.pymc import build_model

            self.backend = build_model(
                self.design,
                self.family,
                self.link,
                self.priors,
                self.response_data,
                noncentered={f: c.noncentered for f, c in self.parameterization.items()},
                center_predictors=self.center_predictors,
                helper=self.response_helper,
                parts=self.aux_parts,
            )
        return self.backend

    def density(self):
        """The model's exact log-density in numpy (the fast path), or None where unsupported.

        Returns
        -------
        bayesformula.samplers.density.DensityModel or None
            None when the family, link or a prior is outside what the fast path computes;
            ``model.fast_path_note`` then says why.
        """
        if self._density is None:
            try:
                if self.response_helper is not None:
                    raise Unsupported(f"the response helper {self.response_helper.text}")
                if self.aux_parts:
                    raise Unsupported(
                        "formulas for auxiliary parameters ("
                        + ", ".join(p.formula for p in self.aux_parts.values())
                        + ")"
                    )
                self._density = build_density(
                    self.design,
                    self.family,
                    self.link,
                    self.priors,
                    self.response_data,
                    self.parameterization,
                    center_predictors=self.center_predictors,
                    anchor=self.anchor,
                )
                self._fast_path_note = self._density.description
            except Unsupported as why:
                self._density = False
                self._fast_path_note = f"not available ({why}); the PyMC graph is compiled"
        return self._density or None

    @property
    def fast_path_note(self) -> str:
        """Whether the fast path (the numpy log-density) covers this model, and if not why."""
        if self._density is None:
            self.density()
        return self._fast_path_note

    def _centered_aux(self) -> list[str]:
        """Auxiliary parameters sampled at the predictors' means (ordinal thresholds)."""
        if not (self.center_predictors and self.design.common_terms):
            return []
        return [
            a.name
            for a in self.family.aux
            if a.replaces_intercept and isinstance(self.priors.aux[a.name], Prior)
        ]

    @property
    def centered_factors(self) -> list[str]:
        """Grouping factors whose effects are sampled centered."""
        return [f for f, c in self.parameterization.items() if not c.noncentered]

    def build(self):
        """Build (once) and return the underlying ``pymc.Model``.

        It is also reachable as ``model.backend.model``; add to it in a ``with`` block.
        """
        return self._build().model

    @property
    def pymc_model(self):
        """The underlying ``pymc.Model`` (built on first access)."""
        return self.build()

    def graph(
        self,
        formatting: str = "plain",
        name: str | None = None,
        figsize=None,
        dpi=300,
        fmt: str = "png",
    ):
        """Draw the model graph with ``pymc.model_to_graphviz`` (needs the graphviz package).

        If ``name`` is given the figure is also saved as ``name.fmt``.
        """
        import pymc as pm

        try:
            graph = pm.model_to_graphviz(
                self.build(), formatting=formatting, figsize=figsize, dpi=dpi
            )
        except ImportError as err:
            raise ImportError(
                f"model.graph() needs graphviz: pip install graphviz (and the system graphviz "
                f"package). ({err})"
            ) from None
        if name is not None:
            graph.render(filename=name, format=fmt, cleanup=True)
        return graph

    # ------------------------------------------------------------------ inference
    def fit(
        self,
        draws: int = 1000,
        tune: int | None = None,
        discard_tuned_samples: bool = True,
        omit_offsets: bool = True,
        include_response_params: bool = False,
        inference_method: str = "auto",
        chains: int | None = None,
        cores: int | None = None,
        random_seed: Any = None,
        target_accept: float | None = None,
        progressbar: bool = True,
        log_likelihood: bool = False,
        diagnostics: bool = True,
        fast_path: bool = True,
        **kwargs: Any,
    ):
        """Draw from the posterior.

        Parameters
        ----------
        draws : int, default 1000
            Draws kept per chain.
        tune : int, optional
            Tuning (warm-up) steps per chain. By default 300 when nutpie samples the fast
            path's log-density (its mass-matrix adaptation needs no more on the models the fast
            path covers) and 1000 otherwise, as in PyMC.
        discard_tuned_samples : bool, default True
            Drop the tuning draws.
        omit_offsets : bool, default True
            Drop the standardised ``*_offset`` variables of non-centered group effects and
            ``hsgp()`` weights.
        include_response_params : bool, default False
            Also store the parent parameter (``mu``/``p``) per observation in the posterior.
        inference_method : str, default "auto"
            A registered sampler (see `bayesformula.samplers.list_samplers`). "auto" samples
            the fast path's numpy log-density with nutpie where the model allows it (nothing
            to compile), and otherwise picks an engine for the PyMC graph; it prints its choice.
        chains, cores : int, optional
            Number of chains and of processes (engine defaults if None).
        random_seed : int, optional
            The same seed gives the same draws.
        target_accept : float, optional
            NUTS target acceptance rate (raise it, e.g. 0.95, if there are divergences).
        progressbar : bool, default True
            Show sampling progress.
        log_likelihood : bool, default False
            Add the pointwise log-likelihood (a ``log_likelihood`` group) for LOO and
            `bayesformula.compare`. ``idata_kwargs={"log_likelihood": True}`` works too.
        diagnostics : bool, default True
            Print the sampler diagnostics (`check`) once the fit is done.
        fast_path : bool, default True
            Let samplers that take a plain log-density ("auto", "nutpie") use the model's
            exact numpy log-density (`density`) instead of compiling the PyMC graph. The
            posterior is the same; False compiles the graph.
        **kwargs
            Passed to the engine (``pm.sample`` for "pymc").

        Returns
        -------
        arviz.InferenceData
            With groups posterior, sample_stats and observed_data.
        """
        for key in ("nuts_sampler", "step"):
            if key in kwargs:
                raise SamplerError(
                    f"'{key}' is chosen through inference_method=; got {key}={kwargs[key]!r}."
                )
        sampler = get_sampler(inference_method)
        idata_kwargs = dict(kwargs.pop("idata_kwargs", None) or {})
        log_likelihood = bool(idata_kwargs.pop("log_likelihood", False)) or log_likelihood
        if idata_kwargs:
            kwargs["idata_kwargs"] = idata_kwargs
        target = None
        if fast_path and getattr(sampler, "accepts_density", False):
            target = self.density()
        if target is None:
            target = self._build().model
        if tune is None:
            tune = FAST_PATH_TUNE if isinstance(target, DensityModel) else 1000
        idata = _sample_with_advice(
            sampler,
            target,
            draws=draws,
            tune=tune,
            chains=chains,
            cores=cores,
            random_seed=random_seed,
            target_accept=target_accept,
            progressbar=progressbar,
            discard_tuned_samples=discard_tuned_samples,
            **kwargs,
        )
        idata = self._clean(idata, omit_offsets)
        if include_response_params:
            self.predict(idata, kind="response_params", inplace=True)
        if log_likelihood:
            self.compute_log_likelihood(idata, inplace=True)
        approximation = idata.posterior.attrs.get("approximation")
        if approximation and diagnostics:
            print(
                f"Approximate posterior ({approximation}): not MCMC draws, so there are no "
                "sampler diagnostics; check important results with inference_method='pymc'."
            )
        elif diagnostics and "sample_stats" in idata.groups():
            print(self.check(idata))
        return idata

    def check(self, idata, var_names=None):
        """Sampler diagnostics with the next step for each problem.

        Checks divergences, r_hat > 1.01, bulk and tail ESS below 100 per chain, tree-depth
        saturation, non-finite energies and E-BFMI. ``print()`` the result for a report;
        ``.ok``, ``.problems`` and ``.to_frame()`` give it as data.

        Returns
        -------
        bayesformula.diagnostics.Diagnostics
        """
        from bayesformula.diagnostics import check

        return check(idata, model=self, var_names=var_names)

    def compute_log_likelihood(self, idata, inplace: bool = True):
        """Add the pointwise log-likelihood of the observed data (a ``log_likelihood`` group).

        Needed by `bayesformula.loo` and `bayesformula.compare`.
        """
        from bayesformula.results.compare import log_likelihood

        return log_likelihood(self, idata, inplace=inplace)

    def r2(self, idata, summary: bool = True, prob: float = 0.94):
        """Bayesian R-squared; see `bayesformula.r2`."""
        from bayesformula.results.compare import bayes_r2

        return bayes_r2(self, idata, summary=summary, prob=prob)

    def _clean(self, idata, omit_offsets: bool):
        """Drop internal data containers and (optionally) offsets; tag the result."""
        if "constant_data" in idata.groups():
            del idata.constant_data
        designs = [self.design] + [p.design for p in self.aux_parts.values()]
        offsets = (
            [f"{t.name}_offset" for d in designs for t in d.group_terms]
            + [
                f"{b.name}_{suffix}"
                for d in designs
                for b in d.group_blocks
                for suffix in ("offset", "cholesky", "joint")
            ]
            if omit_offsets
            else []
        )
        if omit_offsets:
            offsets += [
                f"{t.name}_offset"
                for t in self.design.special_terms
                if t.kind == "hsgp" and not t.centered
            ]
        for group in ("posterior", "prior"):
            if group in idata.groups() and offsets:
                setattr(idata, group, idata[group].drop_vars(offsets, errors="ignore"))
        for group in idata.groups():
            idata[group].attrs["modeling_interface"] = "bayesformula"
        return idata

    def prior_predictive(
        self, draws: int = 500, var_names=None, omit_offsets: bool = True, random_seed: Any = None
    ):
        """Draw parameters and responses from the prior (forward sampling, no MCMC).

        Ordered thresholds of the cumulative family are the exception: PyMC's forward draws
        ignore their ordering, so they are redrawn from the ordered prior (see
        `bayesformula.build.thresholds.ordered_prior_sample`).

        Returns
        -------
        arviz.InferenceData
            With groups prior, prior_predictive and observed_data. Pass it to
            `predict` with ``group="prior"`` for prior curves on new data.
        """
        import pymc as pm

        from bayesformula.build.thresholds import order_prior_draws

        pm_model = self.build()
        if var_names is not None:
            idata = pm.sample_prior_predictive(
                draws=draws, model=pm_model, var_names=var_names, random_seed=random_seed
            )
            order_prior_draws(self, idata.prior, np.random.default_rng(random_seed))
            return self._clean(idata, omit_offsets)
        # parameters from PyMC, responses from the family's numpy draw (the same one
        # predict(kind="response") uses): PyMC draws some likelihoods, such as the hurdle
        # families' zero-truncated counts, by rejection, which fails for extreme prior draws
        seeds = np.random.default_rng(random_seed).integers(0, 2**31, size=2)
        params = [v.name for v in pm_model.free_RVs + pm_model.deterministics]
        idata = pm.sample_prior_predictive(
            draws=draws, model=pm_model, var_names=params, random_seed=int(seeds[0])
        )
        # PyMC's forward draws ignore ordering constraints (ordinal thresholds)
        order_prior_draws(self, idata.prior, np.random.default_rng(seeds[0]))
        with_y = self.predict(
            idata, kind="response", group="prior", inplace=False, random_seed=int(seeds[1])
        )
        idata.add_groups({"prior_predictive": with_y.prior_predictive})
        return self._clean(idata, omit_offsets)

    def _get_predictor(self):
        if self._predictor is None:
            self._predictor = compile_predictor(self._build())
        return self._predictor

    def predict(
        self,
        idata,
        kind: str = "response_params",
        data: pd.DataFrame | None = None,
        inplace: bool = True,
        include_group_specific: bool = True,
        sample_new_groups: bool = False,
        random_seed: Any = None,
        group: str = "posterior",
    ):
        """Predict the parent parameter or new responses, in-sample or on new data.

        Parameters
        ----------
        idata : arviz.InferenceData
            From `fit` (or `prior_predictive` with ``group="prior"``).
        kind : {"response_params", "response"}
            ``"response_params"`` adds the parent parameter (``mu`` or ``p``) per observation to
            ``idata.posterior``; ``"response"`` also draws responses into
            ``idata.posterior_predictive``. Ordinal families: ``p`` holds the probability of
            each response level (an extra dim ``{response}_dim``), and responses are drawn
            as category codes 0..K-1.
        data : pandas.DataFrame, optional
            New data (default: the data the model was built on). Its index labels ``__obs__``.
        inplace : bool, default True
            Modify ``idata`` and return None; otherwise return a modified copy.
        include_group_specific : bool, default True
            Include group-specific effects (False predicts for a typical group).
        sample_new_groups : bool, default False
            Allow group levels not seen in fitting: their effects are drawn from the fitted
            population distribution ``Normal(0, sigma)``, per draw. Otherwise new levels are
            an error.
        random_seed : int, optional
            Seed for response draws and new-group effects.
        group : {"posterior", "prior"}
            Which draws to use.
        """
        return _predict(
            self,
            idata,
            kind=kind,
            data=data,
            inplace=inplace,
            include_group_specific=include_group_specific,
            sample_new_groups=sample_new_groups,
            random_seed=random_seed,
            group=group,
        )

    def predictions(
        self,
        idata,
        data: pd.DataFrame | None = None,
        kind: str = "response_params",
        prob: float = 0.94,
        include_group_specific: bool = True,
        sample_new_groups: bool = False,
        random_seed: Any = None,
        group: str = "posterior",
        chunk_size: int | None = None,
        progressbar: bool | None = None,
    ) -> pd.DataFrame:
        """Predictions summarised as a DataFrame with one row per row of ``data``.

        The table has ``data``'s index (the fitting data's index when ``data`` is None), so it
        joins back onto the input: ``new_df.join(model.predictions(idata, new_df))``.

        Parameters
        ----------
        idata : arviz.InferenceData
            From `fit`; it is not modified.
        data : pandas.DataFrame, optional
            New data (default: the data the model was built on).
        kind : {"response_params", "response"}
            ``"response_params"``: the parent parameter (``mu`` or ``p``) with columns
            ``mean``, ``sd``, ``hdi_3%``, ``hdi_97%`` (for ``prob=0.94``). ``"response"`` adds
            draws of new responses: ``response_mean``, ``response_sd`` and the equal-tailed
            predictive interval ``pi_3%``, ``pi_97%``. Ordinal families have these per level:
            ``mean[level]`` (the probability of each level), ``sd[level]``, ``hdi_3%[level]``,
            ``hdi_97%[level]``; with ``"response"`` also ``response[level]`` (share of drawn
            responses) and ``response_mode`` (the level drawn most often).
        prob : float, default 0.94
            Probability of the intervals.
        include_group_specific, sample_new_groups, random_seed, group
            As in `predict`.
        chunk_size : int, optional
            Rows evaluated at a time. By default chunks hold at most four million draws x
            rows, so memory stays bounded however large ``data`` is.
        progressbar : bool, optional
            Show progress over chunks (default: when there is more than one chunk).

        Examples
        --------
        >>> table = model.predictions(idata, data=new_df, kind="response")  # doctest: +SKIP
        >>> new_df.join(table)  # doctest: +SKIP
        """
        from bayesformula.results.tables import prediction_table

        return prediction_table(
            self,
            idata,
            data=data,
            kind=kind,
            prob=prob,
            include_group_specific=include_group_specific,
            sample_new_groups=sample_new_groups,
            random_seed=random_seed,
            group=group,
            chunk_size=chunk_size,
            progressbar=progressbar,
        )

    # ------------------------------------------------------------------ display
    def prior_table(self) -> pd.DataFrame:
        """Every prior in use as a DataFrame (parameter, kind, prior, source)."""
        return self.priors.table()

    def __str__(self) -> str:
        d = self.design
        lines = [
            f"       Formula: {self.formula}",
            f"        Family: {self.family.name}",
            f"          Link: {self.family.parent} = {self.link.name}"
            + "".join(f", {p.param} = {p.link.name}" for p in self.aux_parts.values()),
            f"  Observations: {d.n_obs}"
            + (f" ({d.n_dropped} rows with missing values dropped)" if d.n_dropped else ""),
        ]
        if self.response_data.note:
            lines.append(f"      Response: {self.response_data.note}")
        if self.response_helper is not None:
            lines.append(f"      Response: {self.response_helper.describe()}")
        if not self.family.intercept:
            lines.append(f"     Intercept: none; {_intercept_owner(self.family)} take its place")
        lines += ["        Priors:", f"    target = {self.family.parent}"]
        if self.priors.common:
            lines.append("        Common-level effects")
            for name, prior in self.priors.common.items():
                where = (
                    "  (intercept at the predictors' means)"
                    if name == "Intercept"
                    and (d.common_terms or d.special_terms)
                    and self.center_predictors
                    else ""
                )
                lines.append(f"            {name} ~ {prior!r}{where}")
        if self.priors.group:
            lines.append("        Group-level effects")
            for name, prior in self.priors.group.items():
                lines.append(f"            {name} ~ {prior!r}")
            for name, prior in self.priors.corr.items():
                lines.append(f"            {name}_corr ~ {prior!r}  (correlations)")
        if self.priors.terms:
            lines.append("        Monotonic and Gaussian-process terms")
            for name, prior in self.priors.terms.items():
                shown = repr(prior) if isinstance(prior, Prior) else f"{prior} (fixed)"
                lines.append(f"            {name} ~ {shown}")
        if self.priors.aux:
            lines.append("        Auxiliary parameters")
            about = {a.name: a.description for a in self.family.aux}
            for name, prior in self.priors.aux.items():
                shown = repr(prior) if isinstance(prior, Prior) else f"{prior} (fixed)"
                notes = [about[name]] if about.get(name) else []
                if name in self._centered_aux():
                    notes.append("prior at the predictors' means")
                note = f"  ({'; '.join(notes)})" if notes else ""
                lines.append(f"            {name} ~ {shown}{note}")
        if d.special_terms:
            lines.append("  Terms outside the design matrix:")
            lines += [f"            {term.describe()}" for term in d.special_terms]
        if d.group_terms:
            lines.append("  Group effects (parameterisation per grouping factor):")
            for factor, choice in self.parameterization.items():
                anchored = (
                    ", centered on the common coefficients"
                    if factor == self.anchor and self.density() is not None
                    else ""
                )
                lines.append(f"            {factor}: {choice.label}{anchored} ({choice.reason})")
        return "\n".join(lines)

    __repr__ = __str__


def _check_per_category_terms(design, family) -> None:
    """Terms the per-category linear predictors of categorical families do not support."""
    fam = f"family '{family.name}'"
    if design.group_blocks:
        names = ", ".join(f"({b.name})" for b in design.group_blocks)
        raise FormulaError(
            f"{fam} gives every group-specific term one effect per category; correlated "
            f"effects {names} are not available for it. Write them as independent effects "
            "with '||', e.g. (1 + x || g)."
        )
    if design.special_terms:
        names = ", ".join(t.name for t in design.special_terms)
        raise FormulaError(
            f"{fam}: the terms {names} (mo(), hsgp()) are not available for per-category "
            "coefficients. Use a categorical predictor, bs() or poly() instead."
        )
    if design.offset is not None:
        raise FormulaError(
            f"{fam}: offset() is not available; it would shift every category's log-ratio "
            "to the reference alike. Remove it (a multinomial response's totals already "
            "enter as its trials)."
        )


def _check_category_priors(priors, design, response) -> None:
    """Each parameter of a prior of a categorical family's coefficients must broadcast to the
    coefficients' shape, (columns, categories): one value, one per column, one per category
    (one-column terms) or the full table."""
    labels = response.coords[response.category_dim]
    k = len(labels)
    shapes = {"Intercept": 1}
    shapes.update({t.name: t.slice.stop - t.slice.start for t in design.common_terms})
    group = {t.name: (len(t.columns) if t.expr_dim is not None else 1) for t in design.group_terms}
    checks = [(name, priors.common.get(name), w) for name, w in shapes.items()]
    checks += [(name, priors.group[name].args.get("sigma"), w) for name, w in group.items()]
    for name, prior, width in checks:
        if not isinstance(prior, Prior):
            continue
        target = (width, k) if width > 1 else (k,)
        for key, value in prior.args.items():
            if isinstance(value, Prior) or np.ndim(value) == 0:
                continue
            shape = np.shape(value)
            if width > 1 and len(shape) == 1 and shape[0] == width:
                continue  # one value per column, applied to every category
            try:
                np.broadcast_shapes(shape, target)
            except ValueError:
                cats = f"{k} categories ({', '.join(labels)})"
                has = f"{width} columns x {cats}" if width > 1 else cats
                fits = (
                    f"one number, {width} values (one per column) or a {target} array"
                    if width > 1
                    else f"one number or {k} values (one per category)"
                )
                raise PriorError(
                    f"the prior for '{name}' has {key} of shape {shape}, but its coefficients "
                    f"span {has}; give {fits}."
                ) from None


def _intercept_owner(family) -> str:
    """What takes the intercept's place in a family without one ("the thresholds of ...")."""
    names = [a.name for a in family.aux if a.replaces_intercept] or ["parameters"]
    return f"the {' and '.join(names)}s of family '{family.name}'"


def _sample_with_advice(sampler, model, **kwargs):
    """Run a sampler; a log-density that is not finite at the start becomes a clear error."""
    try:
        return sampler.sample(model, **kwargs)
    except Exception as err:
        if type(err).__name__ != "SamplingError":
            raise
        raise SamplerError(
            "sampling could not start: the log-density is not finite at the initial point "
            f"(bad initial energy). {err} Check the priors with model.prior_predictive() and "
            "the data for extreme values or a response outside the family's support; a prior "
            "allowing impossible parameter values is the usual cause."
        ) from err


def _check_has_cdf(family, text: str) -> None:
    """Censoring and truncation need the likelihood's CDF; say so before building."""
    import pymc as pm

    params: dict[str, Any] = {family.parent: np.float64(0.5)}
    for aux in family.aux:
        params[aux.name] = np.float64(0.5 if aux.support == "unit" else 1.0)
    params["trials"] = np.int64(2)
    try:
        dist = getattr(pm, family.likelihood).dist(**family.to_dist(params))
        pm.logcdf(dist, np.float64(1.0))
    except NotImplementedError:
        raise FamilyError(
            f"{text} needs the cumulative distribution function of family '{family.name}' "
            f"({family.likelihood}), which PyMC does not provide; use weighted() or another "
            "family."
        ) from None
    except Exception:  # noqa: BLE001 - the probe's numbers may not suit a user family
        return
