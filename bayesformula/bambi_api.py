"""Bambi's model methods and names that `bayesformula.Model` keeps: `BambiAPI` (a mixin of
`Model`: ``components``, ``response_component``, ``set_priors``, ``set_alias``,
``plot_priors``) and `inference_methods`.

The mixin reads and replaces the model's own frozen spec (``self._spec``); what it shows comes
from `bayesformula.spec.bambi`. docs/bambi-differences.md says where it differs from Bambi.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any, NoReturn

from bayesformula import compiled
from bayesformula.errors import ModelError
from bayesformula.plots import plot_priors as _plot_priors
from bayesformula.samplers import SAMPLERS
from bayesformula.spec import ModelSpec, specify
from bayesformula.spec.bambi import (
    Component,
    ConstantComponent,
    ResponseComponent,
    components,
    merged_priors,
    response_component,
)

__all__ = ["BambiAPI", "InferenceMethods", "inference_methods"]


def _respecified(spec: ModelSpec, priors: dict[str, Any]) -> ModelSpec:
    """``spec`` specified again with the user priors ``priors`` (everything else as given).

    The data and formula are unchanged, so the warnings their checks gave when the model was
    made (rows dropped, for example) are not repeated.
    """
    options = spec.options
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        new = specify(
            formula=spec.formula,
            data=spec.data,
            family=spec.family,
            priors=priors,
            link=dict(options.link) if isinstance(options.link, Mapping) else options.link,
            categorical=options.categorical,
            dropna=options.dropna,
            auto_scale=options.auto_scale,
            noncentered=(
                dict(options.noncentered)
                if isinstance(options.noncentered, Mapping)
                else options.noncentered
            ),
            center_predictors=options.center_predictors,
            extra_namespace=dict(spec.extra_namespace) or None,
        )
    if new.design.n_dropped != spec.design.n_dropped:  # a loaded model keeps its count
        new = new.with_n_dropped(spec.design.n_dropped)
    return new


class BambiAPI:
    """Bambi's ``Model`` methods and attributes that are not stages of their own; a mixin
    of `bayesformula.Model`, which holds the frozen spec as ``_spec``."""

    _spec: ModelSpec

    @property
    def components(self) -> Mapping[str, Component | ConstantComponent]:
        """The model's parameters, as Bambi's ``Model.components`` (read-only views).

        Keyed by parameter: the parent (``"mu"``, ``"p"``) first, then each auxiliary
        parameter (``"sigma"``). A parameter with a formula is a
        `bayesformula.spec.bambi.Component` with ``terms``, ``common_terms``,
        ``group_specific_terms``, ``intercept_term``, ``hsgp_terms`` and ``offset_terms``
        (keyed as written in its formula; each term has ``name``, ``prior``, ``data``, ...);
        one without is a ``ConstantComponent`` with its ``prior``.

        Examples
        --------
        >>> import bayesformula as bf
        >>> model = bf.Model("p(deaths, n) ~ dose", bf.load_data("bioassay"), family="binomial")
        >>> list(model.components["p"].common_terms), model.components["p"].intercept_term.name
        (['dose'], 'Intercept')
        """
        return components(self._spec)

    @property
    def response_component(self) -> ResponseComponent:
        """The response, as Bambi's ``Model.response_component``: ``.term.name`` is the
        observed variable's name in the fit (``"deaths"`` for ``p(deaths, n)``, where Bambi
        has ``"p(deaths, n)"``), ``.term.expr`` the response as written."""
        return response_component(self._spec)

    def set_priors(self, priors=None, common=None, group_specific=None) -> None:
        """Set priors after the model is made, as Bambi's ``Model.set_priors``.

        The model is specified again with the changed priors (its spec is frozen; the PyMC
        graph and the fast path's density are built anew on next use), so the next `fit`,
        `prior_predictive` or `predict` uses them. Calls add up; a later call wins.

        Parameters
        ----------
        priors : dict, optional
            As ``priors=`` of `bayesformula.Model`: priors by term or parameter name. Its
            names win over ``common`` and ``group_specific``.
        common : Prior, optional
            The prior of every common term of the main formula except the intercept (as
            ``priors={"common": ...}``).
        group_specific : Prior, optional
            The prior of every group-specific term of the main formula.

        Raises
        ------
        PriorError
            For an unknown name or an invalid prior; the model is left as it was.

        Examples
        --------
        >>> import bayesformula as bf
        >>> model = bf.Model("p(deaths, n) ~ dose", bf.load_data("bioassay"), family="binomial")
        >>> model.set_priors(common=bf.Prior("Normal", mu=0, sigma=10))
        >>> model.priors.common["dose"]
        Normal(mu: 0, sigma: 10)
        """
        if priors is None and common is None and group_specific is None:
            return
        spec = self._spec
        new = _respecified(spec, merged_priors(spec, priors, common, group_specific))
        built = compiled.built_graph(spec, build=False)
        if built is not None and built.touched():
            warnings.warn(
                "the PyMC model was changed after it was built (a variable, potential or new "
                "data added to model.build()); set_priors specifies the model again, without "
                "those changes: add them to model.build() again.",
                UserWarning,
                stacklevel=2,
            )
        self._spec = new

    def set_alias(self, aliases: Mapping[str, str]) -> NoReturn:
        """Not available: Bambi's ``set_alias`` renames parameters in the fit.

        bayesformula keeps the model's names in the fit, because `predict`, `predictions`,
        `compute_log_likelihood`, `r2` and `bayesformula.summary` find the parameters by
        them. Rename for display instead (see the error message).

        Raises
        ------
        ModelError
            Always, naming the replacements.
        """
        shown = ", ".join(f"{k!r}: {v!r}" for k, v in list(dict(aliases).items())[:3])
        raise ModelError(
            "set_alias is not available: bayesformula keeps the model's names in the fit, "
            "because predict, predictions, compute_log_likelihood, r2 and bf.summary find the "
            "parameters by them (docs/bambi-differences.md). Rename for display instead: "
            "tables with bf.summary(idata).rename(index=...) (rows are 'name' or "
            "'name[level]'), a copy of the draws with "
            f"idata['posterior'].to_dataset().rename_vars({{{shown}}}), plots with "
            "labeller=arviz_base.labels.MapLabeller(var_name_map=aliases)."
        )

    def graph(self, formatting="plain", name=None, figsize=None, dpi=300, fmt="png"):
        """Draw the model graph with ``pymc.model_to_graphviz`` (needs the graphviz package);
        with ``name`` it is also saved as ``name.fmt``."""
        from bayesformula.plots.inference import model_graph

        return model_graph(self.build(), formatting, name, figsize, dpi, fmt)

    def plot_priors(self, *args: Any, **kwargs: Any):
        """Plot the priors; Bambi's ``Model.plot_priors``, here `bayesformula.plot_priors`
        with this model (its arguments and result)."""
        return _plot_priors(self, *args, **kwargs)


#: How the built-in engines approximate the posterior, for `InferenceMethods.names`.
_APPROXIMATIONS = {"laplace": "laplace", "vi": "vi", "pathfinder": "vi"}


class InferenceMethods:
    """The registered ``inference_method=`` names, as Bambi's ``bmb.inference_methods``.

    Examples
    --------
    >>> import bayesformula as bf
    >>> sorted(bf.inference_methods.names["pymc"])
    ['laplace', 'mcmc', 'vi']
    """

    @property
    def names(self) -> dict[str, dict[str, list[str]]]:
        """``{"pymc": {"mcmc": [...], "vi": [...], "laplace": [...]}}``: every registered
        sampler by kind. All run on the model PyMC builds (or on its exact fast-path
        log-density); "auto" picks one of the MCMC engines."""
        kinds: dict[str, list[str]] = {"mcmc": [], "vi": [], "laplace": []}
        for name, factory in sorted(SAMPLERS.items()):
            if getattr(factory, "approximate", False):
                kinds.setdefault(_APPROXIMATIONS.get(name, "vi"), []).append(name)
            else:
                kinds["mcmc"].append(name)
        return {"pymc": {kind: names for kind, names in kinds.items() if names}}

    def __repr__(self) -> str:
        return f"InferenceMethods({self.names!r})"


#: Bambi's ``bmb.inference_methods``.
inference_methods = InferenceMethods()
