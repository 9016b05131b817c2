"""bayesformula: Bayesian regression from R-style formulas.

>>> import bayesformula as bf
>>> model = bf.Model("p(deaths, n) ~ dose", bf.load_data("bioassay"), family="binomial")
"""

import warnings as _warnings

with _warnings.catch_warnings():  # ArviZ 0.23 announces its refactor on import
    _warnings.simplefilter("ignore", FutureWarning)
    import arviz as _arviz  # noqa: F401

from bayesformula import errors
from bayesformula.bambi_api import inference_methods
from bayesformula.datasets import list_datasets, load_data
from bayesformula.errors import BayesformulaError
from bayesformula.families import Family, Link, get_family, list_families, register_family
from bayesformula.families.custom import Likelihood
from bayesformula.formula import Formula
from bayesformula.interpret import (
    Interpretation,
    comparisons,
    datagrid,
    hypothesis,
    plot_comparisons,
    plot_slopes,
    predictions,
    slopes,
)
from bayesformula.io import load, save
from bayesformula.log import set_verbose
from bayesformula.many import ManyFits, SBCResult, fit_many, sbc
from bayesformula.model import Model
from bayesformula.plots import (
    plot_posterior,
    plot_ppc,
    plot_predictions,
    plot_prior_predictive,
    plot_priors,
    plot_trace,
)
from bayesformula.priors import Prior
from bayesformula.results.compare import bayes_r2 as r2
from bayesformula.results.compare import compare, loo
from bayesformula.results.tables import conf_int, params, summary
from bayesformula.samplers import InterruptedFitWarning, list_samplers, register_sampler
from bayesformula.testing import check_density, check_family, check_sampler
from bayesformula.version import __version__  # noqa: F401  (bf.__version__)

__all__ = [
    "BayesformulaError",
    "Family",
    "Formula",
    "Interpretation",
    "InterruptedFitWarning",
    "Likelihood",
    "ManyFits",
    "Link",
    "Model",
    "Prior",
    "SBCResult",
    "check_density",
    "check_family",
    "check_sampler",
    "compare",
    "comparisons",
    "conf_int",
    "datagrid",
    "errors",
    "fit_many",
    "get_family",
    "hypothesis",
    "inference_methods",
    "list_datasets",
    "list_families",
    "list_samplers",
    "load",
    "load_data",
    "loo",
    "params",
    "plot_comparisons",
    "plot_posterior",
    "plot_ppc",
    "plot_predictions",
    "plot_prior_predictive",
    "plot_priors",
    "plot_slopes",
    "plot_trace",
    "predictions",
    "r2",
    "register_family",
    "register_sampler",
    "save",
    "sbc",
    "set_verbose",
    "slopes",
    "summary",
]


def __getattr__(name: str):
    """``bf.math`` is ``pymc.math`` (Bambi's ``bmb.math``: tensor functions such as
    ``sigmoid`` for a custom link's ``linkinv_backend``), imported on first use."""
    if name == "math":
        import pymc.math

        return pymc.math
    raise AttributeError(f"module 'bayesformula' has no attribute {name!r}")
