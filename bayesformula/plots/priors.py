"""Prior densities of a model's parameters: population-level and hyper-priors by default."""

from __future__ import annotations

import math
from typing import Any

import arviz as az

from bayesformula.core.prior import Prior
from bayesformula.core.validate import check_bool, check_int
from bayesformula.errors import PredictionError
from bayesformula.plots._checks import check_model, check_var_names, figure_of, parameter_names

__all__ = ["plot_priors", "prior_parameters"]

#: Default most panels one figure of `plot_priors` holds.
MAX_PANELS = 40
#: Size of one panel in inches (width, height), and the most panels per row.
PANEL_INCHES = (2.6, 2.2)
COL_WRAP = 4


def prior_parameters(model, known, group_levels: bool) -> list[str]:
    """Names of the prior's parameters to show, in the order of the prior table.

    Common terms (per-level coefficients of categorical terms included), standard deviations of
    group-specific terms, their correlations, auxiliary parameters, then parameters of special
    terms (``mo()``, ``hsgp()``). Any other parameter of ``known`` follows, so none is lost.
    The group-specific effects themselves (one value per group level) come last, and only
    with ``group_levels``.

    Parameters
    ----------
    model : bayesformula.Model
        The model.
    known : iterable of str
        The parameters of the prior draws (no per-observation variables).
    group_levels : bool
        Whether to add the group-specific effects.

    Returns
    -------
    list of str
    """
    priors = model.priors
    levels = list(priors.group)
    ordered = list(priors.common)
    for term, prior in priors.group.items():
        if isinstance(prior.args.get("sigma"), Prior):
            ordered.append(f"{term}_sigma")
    ordered += [f"{block}_corr" for block in priors.corr]
    ordered += [name for name, prior in priors.aux.items() if isinstance(prior, Prior)]
    ordered += [name for name, prior in priors.terms.items() if isinstance(prior, Prior)]
    known = list(known)
    names = [n for n in dict.fromkeys(ordered) if n in known]
    names += [n for n in known if n not in names and n not in levels]
    if group_levels:
        names += [n for n in levels if n in known]
    return names


def _panels(dataset, names, coords) -> dict[str, int]:
    """Panels `arviz.plot_dist` draws per variable: one per combination of its non-sample
    dimensions, after ``coords`` picks values."""
    coords = coords or {}
    counts = {}
    for name in names:
        count = 1
        for dim, size in dataset[name].sizes.items():
            if dim in ("chain", "draw"):
                continue
            if dim in coords:  # a list of values, or one value
                picked = coords[dim]
                many = hasattr(picked, "__len__") and not isinstance(picked, str)
                size = len(picked) if many else 1
            count *= size
        counts[name] = count
    return counts


def _check_panels(dataset, counts: dict[str, int], max_panels: int | None, levels) -> None:
    """Raise when the panels exceed ``max_panels``, naming the biggest variables and how to
    show fewer."""
    total = sum(counts.values())
    if max_panels is None or total <= max_panels:
        return
    biggest = sorted(counts.items(), key=lambda item: -item[1])
    parts = ", ".join(f"'{name}' {n}" for name, n in biggest if n > 1) or "one each"
    hint = ""
    shown_levels = [name for name in counts if name in levels]
    if shown_levels:
        da = dataset[shown_levels[0]]
        dim = next(d for d in da.dims if d not in ("chain", "draw"))
        few = [str(v) for v in da[dim].values[:2]]
        hint = (
            " Every level of a group-specific term has the same prior: leave group_levels=False "
            f"(the default), or pick a few levels with coords={{'{dim}': {few}}}."
        )
    raise PredictionError(
        f"plot_priors would draw {total} panels (per variable: {parts}), more than "
        f"max_panels={max_panels}; nothing was drawn.{hint} Pass var_names=[...] for fewer "
        "parameters, or max_panels=None to draw them all."
    )


def _figsize(n_panels: int) -> tuple[float, float]:
    cols = min(COL_WRAP, max(n_panels, 1))
    rows = math.ceil(max(n_panels, 1) / COL_WRAP)
    return (PANEL_INCHES[0] * cols, PANEL_INCHES[1] * rows)


def plot_priors(
    model,
    draws: int = 1000,
    var_names=None,
    group_levels: bool = False,
    max_panels: int | None = MAX_PANELS,
    random_seed=None,
    **kwargs: Any,
):
    """Plot the prior density of the model's population-level parameters and hyper-priors.

    Draws from the prior with `Model.prior_predictive` (forward sampling, no MCMC) and shows
    one density panel per parameter and per level of a vector-valued one (the effects of a
    categorical term, the correlations of correlated group-specific terms). By default these
    are the common terms, the standard deviations and correlations of group-specific terms,
    the auxiliary parameters (``sigma``, ``psi``, ...) and the parameters of ``mo()`` and
    ``hsgp()`` terms. The group-specific effects, one panel per group level, are shown only
    with ``group_levels=True`` or when named in ``var_names``.

    Parameters
    ----------
    model : bayesformula.Model
        The model whose priors to show.
    draws : int, default 1000
        Number of prior draws.
    var_names : str or list of str, optional
        Parameters to show, as named in ``model.prior_table()`` (for example
        ``["dose", "Intercept"]``, ``"1|g_sigma"``, ``"1+x|g_corr"``, ``"sigma"``, or the
        group-specific effects ``"1|g"``). Default: see above. Overrides ``group_levels``.
    group_levels : bool, default False
        Also show the group-specific effects, one panel per level of the grouping factor.
    max_panels : int or None, default 40
        Most panels one figure holds. Asking for more raises an error that names the
        variables with the most panels (nothing is left out silently); None draws every one.
    random_seed : int, optional
        Seed of the prior draws.
    **kwargs
        Passed to `arviz.plot_dist` (for example ``kind="ecdf"``, ``ci_prob``, or
        ``coords={"g__factor_dim": ["g0", "g1"]}`` to show a few group levels).

    Returns
    -------
    matplotlib.figure.Figure
        Panels of about 2.6 x 2.2 inches, four per row.

    Raises
    ------
    PredictionError
        If a name in ``var_names`` is not a parameter (the message suggests the nearest one),
        or the figure would hold more than ``max_panels`` panels.

    Examples
    --------
    >>> import bayesformula as bf
    >>> model = bf.Model("Reaction ~ Days + (Days|Subject)", bf.load_data("sleepstudy"))
    >>> fig = bf.plot_priors(model, draws=500, random_seed=1)  # doctest: +SKIP
    >>> [ax.get_title() for ax in fig.axes][:2]  # doctest: +SKIP
    ['Intercept', 'Days']
    >>> fig = bf.plot_priors(model, var_names="Days|Subject", random_seed=1)  # doctest: +SKIP
    """
    check_model(model, "plot_priors()")
    group_levels = check_bool(group_levels, "group_levels", "plot_priors()")
    max_panels = check_int(max_panels, "max_panels", "plot_priors()", minimum=1, allow_none=True)
    idata = model.prior_predictive(draws=draws, random_seed=random_seed)
    prior = idata["prior"]
    names = prior_parameters(model, parameter_names(prior), group_levels)
    if var_names is not None:
        chosen = check_var_names(var_names, [str(v) for v in prior.data_vars], "prior")
        left_out = {n[1:] for n in chosen if n.startswith("~")}
        chosen = [n for n in chosen if not n.startswith("~")]
        # only exclusions ("~sigma"): the default parameters without them
        names = [n for n in (chosen or names) if n not in left_out]
    counts = _panels(prior, names, kwargs.get("coords"))
    _check_panels(prior, counts, max_panels, list(model.priors.group))
    figure_kwargs = dict(kwargs.pop("figure_kwargs", None) or {})
    figure_kwargs.setdefault("figsize", _figsize(sum(counts.values())))
    figure_kwargs.setdefault("figsize_units", "inches")
    figure_kwargs.setdefault("layout", "constrained")
    with az.rc_context(rc={"plot.max_subplots": None}):  # the cap is max_panels, checked above
        plot = az.plot_dist(
            idata,
            group="prior",
            var_names=names,
            col_wrap=COL_WRAP,
            figure_kwargs=figure_kwargs,
            **kwargs,
        )
    return figure_of(plot)
