"""The `Model` facade: Bambi's API over a frozen `ModelSpec`; each method calls one stage."""

from __future__ import annotations

from typing import Any

import pandas as pd

from bayesformula import compiled
from bayesformula.bambi_api import BambiAPI
from bayesformula.diagnostics import check as _check
from bayesformula.diagnostics import report_fit
from bayesformula.formula.formula import Formula
from bayesformula.interpret.methods import InterpretMethods
from bayesformula.log import verbosity
from bayesformula.results import fit as _fit
from bayesformula.results.compare import bayes_r2, log_likelihood
from bayesformula.results.describe import Described
from bayesformula.results.predict import predict as _predict
from bayesformula.results.tables import prediction_table
from bayesformula.spec import ModelSpec, specify

__all__ = ["Model"]


class Model(InterpretMethods, BambiAPI, Described):
    """A Bayesian regression model specified by an R-style formula.

    Parameters
    ----------
    formula : str or Formula
        For example ``"p(deaths, n) ~ dose"`` or ``"Reaction ~ Days + (Days|Subject)"``
        (correlated intercepts and slopes; ``(Days||Subject)`` for independent ones).
        ``Formula("y ~ x", "sigma ~ z")`` also models auxiliary parameters per observation.
    data : pandas.DataFrame, polars (eager or lazy), pyarrow Table, dict of columns
        Only the columns the formula uses are read; other kinds are converted to pandas once.
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
        Drop rows with missing values in used columns (warning how many); else they are an error.
    auto_scale : bool, default True
        Scale default priors to the data. If False, intercept and slopes get flat priors.
    noncentered : None, bool or dict, default None
        Parameterisation of group-specific effects. None chooses per grouping factor from the
        data (centered when each level's data outweigh the population prior; ``print(model)``
        says why). True or False sets every factor; ``{"g": True}`` sets some.
    center_predictors : bool, default True
        Sample the intercept at the predictors' means (reported uncentered as ``Intercept``).
    extra_namespace : dict, optional
        Functions or values the formula may use by name, besides data columns, numpy (as
        ``np``) and the built-in transforms.

    Attributes
    ----------
    spec : ModelSpec
        The frozen specification every stage reads (`bayesformula.spec.specify`); ``formula``,
        ``data``, ``family``, ``link``, ``design``, ``priors``, ``response_data``,
        ``response_helper``, ``aux_parts`` and ``parameterization`` are read-only views of it.

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
        data: Any,
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
        self._spec = specify(**_arguments(locals()))

    @classmethod
    def from_spec(cls, spec: ModelSpec) -> Model:
        """A model of an existing `ModelSpec` (for example one `bayesformula.load` rebuilt)."""
        model = cls.__new__(cls)
        model._spec = spec
        return model

    spec = property(lambda self: self._spec, doc="The model's frozen `ModelSpec`.")

    # read-only views of the spec (Bambi's attribute names)
    formula = property(lambda self: self._spec.formula)
    data = property(lambda self: self._spec.data)
    family = property(lambda self: self._spec.family)
    link = property(lambda self: self._spec.link)
    design = property(lambda self: self._spec.design)
    priors = property(lambda self: self._spec.priors)
    response_data = property(lambda self: self._spec.response_data)
    response_helper = property(lambda self: self._spec.response_helper)
    aux_parts = property(lambda self: self._spec.aux_parts)
    parameterization = property(lambda self: self._spec.parameterization)
    anchor = property(lambda self: self._spec.anchor)
    noncentered = property(lambda self: self._spec.options.noncentered)
    auto_scale = property(lambda self: self._spec.options.auto_scale)
    center_predictors = property(lambda self: self._spec.center_predictors)
    response_name = property(lambda self: self._spec.response_name, doc="The observed variable.")
    centered_factors = property(lambda self: self._spec.centered_factors)

    @property
    def backend(self):
        """The PyMC model and handles (`graph.model.BuiltModel`, ``.model``), built on access."""
        return compiled.built_graph(self._spec)

    def build(self):
        """Build (once) and return the underlying ``pymc.Model``.

        Add to it in a ``with`` block if you like; a model changed after building (a
        potential, a variable, new data) is then sampled from its graph, never the fast path.
        """
        return compiled.built_graph(self._spec).model

    pymc_model = property(build, doc="The underlying ``pymc.Model`` (built on first access).")

    def density(self):
        """The model's exact numpy log-density (the fast path's `DensityModel`), or None where
        the fast path does not cover it (``model.fast_path_note`` says why)."""
        return compiled.density(self._spec)

    @property
    def fast_path_note(self) -> str:
        """Whether the fast path (the numpy log-density) covers this model, and if not why."""
        return compiled.fast_path_note(self._spec)

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
        verbose: bool | None = None,
        **kwargs: Any,
    ):
        """Draw from the posterior; returns an ``xarray.DataTree`` in ArviZ 1's layout
        (groups posterior, sample_stats, observed_data) that every ArviZ function reads.

        Parameters
        ----------
        draws, tune : int
            Draws kept and tuning steps per chain. ``tune`` defaults to 300 when nutpie samples
            the fast path's log-density (its adaptation needs no more there), else 1000.
        discard_tuned_samples, chains, cores, random_seed, target_accept, progressbar
            As in ``pymc.sample``; ``chains=None`` is 2 with every engine (same seed, same draws).
        omit_offsets : bool, default True
            Drop the standardised ``*_offset`` variables (non-centered effects, ``hsgp()``).
        include_response_params : bool, default False
            Also store the parent parameter (``mu``/``p``) per observation in the posterior.
        inference_method : str, default "auto"
            A registered sampler (`bayesformula.samplers.list_samplers`). "auto" samples the
            fast path's numpy log-density with nutpie where the model allows it (nothing to
            compile), and otherwise picks an engine for the PyMC graph; it logs its choice
            (see ``verbose``).
        log_likelihood : bool, default False
            Add the pointwise log-likelihood (``log_likelihood`` group) for LOO and
            `bayesformula.compare` (``idata_kwargs={"log_likelihood": True}`` works too).
        diagnostics : bool, default True
            Report the sampler diagnostics (`check`) through the ``"bayesformula"`` logger.
        verbose : bool, optional
            None (quiet): only problems, and a note that does not change from fit to fit once
            per process; True: every note and the engines' own messages; False: problems only
            (`bayesformula.set_verbose` sets it for the process).
        fast_path : bool, default True
            Let samplers that take a plain log-density ("auto", "nutpie") use the model's exact
            numpy log-density (`density`): the same posterior, nothing compiled. A model whose
            graph was changed after `build` always samples the graph.
        **kwargs
            Engine options; a keyword the engine does not declare is an ``ArgumentTypeError``.
        """
        idata = _fit.sample(self._spec, **_arguments(locals()))
        with verbosity(verbose):
            if diagnostics:
                report_fit(idata, self._spec)
        return idata

    def check(self, idata, var_names=None):
        """Sampler diagnostics with the next step for each problem (divergences, r_hat, ESS,
        tree depth, E-BFMI, an approximation's Pareto k; `bayesformula.diagnostics.check`):
        ``print()`` it for a report; ``.ok``, ``.problems`` and ``.to_frame()`` as data."""
        return _check(idata, model=self._spec, var_names=var_names)

    def compute_log_likelihood(self, idata, inplace: bool = True):
        """Add the pointwise log-likelihood of the observed data (a ``log_likelihood`` group),
        which `bayesformula.loo` and `bayesformula.compare` need."""
        return log_likelihood(self._spec, idata, inplace=inplace)

    def r2(self, idata, summary: bool = True, prob: float = 0.94):
        """Bayesian R-squared; see `bayesformula.r2`."""
        return bayes_r2(self._spec, idata, summary=summary, prob=prob)

    def prior_predictive(
        self, draws: int = 500, var_names=None, omit_offsets: bool = True, random_seed: Any = None
    ):
        """Draw parameters and responses from the prior (forward sampling, no MCMC).

        Ordered thresholds of the ordinal families are redrawn from the ordered prior (PyMC's
        forward draws ignore the ordering). Returns an ``xarray.DataTree`` with groups prior,
        prior_predictive and observed_data; pass it to `predict` with ``group="prior"`` for
        prior curves on new data.
        """
        return _fit.prior_predictive(self._spec, **_arguments(locals()))

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

        ``kind="response_params"`` adds the parent parameter (``mu`` or ``p``; one probability
        per level, dim ``{response}_dim``, for ordinal and categorical families) per
        observation to ``idata[group]``; ``"response"`` also draws responses into
        ``posterior_predictive``; ``"linpred"`` also adds the linear predictor (the link's
        scale) as ``linpred``. ``data`` is new data (default: the fitting data; its index
        labels ``__obs__``). ``inplace=False`` returns a modified copy. Without
        ``include_group_specific`` predictions are for a typical group; ``sample_new_groups``
        draws the effects of levels not seen in fitting from the fitted population
        distribution (otherwise they are an error). ``group="prior"`` uses prior draws.
        """
        return _predict(self._spec, **_arguments(locals()))

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
        return_type: str | None = None,
    ):
        """Predictions summarised per row of ``data`` (any data frame, default the fitting
        rows), with its index: ``new_df.join(model.predictions(idata, new_df))``. Columns
        ``mean``, ``sd``, ``hdi_3%``, ``hdi_97%`` of the parent parameter (per level for
        ordinal and categorical families); ``kind="response"`` adds ``response_mean``,
        ``response_sd``, ``pi_3%``, ``pi_97%``. Rows go in chunks (``chunk_size``, default at
        most four million draws x rows) with progress. The table comes back in ``data``'s kind
        (polars, pyarrow) or ``return_type`` (`bayesformula.results.tables.prediction_table`).
        """
        return prediction_table(self._spec, **_arguments(locals()))

    def prior_table(self) -> pd.DataFrame:
        """Every prior in use as a DataFrame (parameter, kind, prior, source)."""
        return self._spec.priors.table()


def _arguments(namespace: dict) -> dict:
    """A method's ``locals()`` on entry as its stage's keywords (``**kwargs`` merged in)."""
    out = {k: v for k, v in namespace.items() if k not in ("self", "kwargs")}
    return {**out, **namespace.get("kwargs", {})}
