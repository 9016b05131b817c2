"""Custom families written as Bambi writes them: `Likelihood`, then ``Family(name, likelihood,
link)``.

    likelihood = bf.Likelihood("Normal", params=["mu", "sigma"], parent="mu")
    family = bf.Family("my_normal", likelihood, {"mu": "identity", "sigma": "log"})
    bf.Model("y ~ x", data, family=family)

`family_fields` turns that call into the fields of a `bayesformula.families.Family`. A
likelihood with the parent and parameters of a built-in family (``Normal`` with ``mu`` and
``sigma`` is the gaussian's) takes that family's parts: its response check, the mapping of its
parameters to PyMC's (``Beta``'s ``mu``/``kappa``), its numpy draws and the default priors of
its auxiliary parameters. Any other PyMC distribution takes its parameters as PyMC names them,
draws responses with PyMC, checks only that the response is a finite number, and gives each
auxiliary parameter a default prior by what its link says of it (Bambi asks for one).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from bayesformula.core.prior import Prior, distribution_parameters
from bayesformula.errors import FamilyError
from bayesformula.families.family import AuxParam
from bayesformula.families.links import LINKS, Link

__all__ = ["Likelihood", "family_fields"]

#: What an auxiliary parameter's link says of its values (and so of its default prior and the
#: links its own formula may take): Bambi's ``{"sigma": "log"}`` makes ``sigma`` positive.
_SUPPORT_OF_LINK = {
    "log": "positive",
    "logit": "unit",
    "probit": "unit",
    "cloglog": "unit",
    "identity": "real",
}


def _builtin_like(likelihood: str, parent: str | None = None, params=None):
    """The first registered family (not ordinal or categorical) with this PyMC likelihood,
    and with this parent and parameters when given."""
    from bayesformula.families.registry import FAMILIES

    for family in FAMILIES.values():
        if family.likelihood != likelihood or family.parent_over_levels:
            continue
        if parent is not None and family.parent != parent:
            continue
        if params is not None and set(params) != {family.parent, *family.aux_names}:
            continue
        return family
    return None


class Likelihood:
    """The likelihood of a custom family, as Bambi's ``bmb.Likelihood``.

    Parameters
    ----------
    name : str
        A PyMC distribution (``"Normal"``, ``"ZeroInflatedPoisson"``, ...).
    params : sequence of str, optional
        The distribution's parameters, as PyMC names them (or as the built-in family of that
        likelihood does: ``["mu", "kappa"]`` for ``"Beta"``). Default: those of the built-in
        family with this likelihood.
    parent : str, optional
        The parameter the main formula models (default: the built-in family's).
    dist : PyMC distribution class, optional
        Used only for its name (a distribution of the ``pymc`` namespace); a distribution of
        your own is not available (see `Family`'s ``logp`` instead).

    Raises
    ------
    FamilyError
        Unknown distribution, parameters PyMC's distribution does not have, or a parent that
        is not one of the parameters.

    Examples
    --------
    >>> Likelihood("Normal").params, Likelihood("Normal").parent
    (('mu', 'sigma'), 'mu')
    """

    __slots__ = ("name", "params", "parent")

    def __init__(
        self,
        name: str,
        params: Sequence[str] | None = None,
        parent: str | None = None,
        dist: Any = None,
    ):
        if dist is not None:
            name = _dist_name(dist, name)
        if not isinstance(name, str):
            raise FamilyError(
                f"a Likelihood's name must be a PyMC distribution name, got {name!r}."
            )
        builtin = _builtin_like(name)
        if params is None:
            if builtin is None:
                raise FamilyError(
                    f"Likelihood('{name}') needs params=[...] and parent=: no built-in family "
                    f"uses the {name} likelihood to take them from."
                )
            params = (builtin.parent, *builtin.aux_names)
        if isinstance(params, str) or not all(isinstance(p, str) for p in params):
            raise FamilyError(
                f"Likelihood('{name}'): params must be a list of parameter names, got {params!r}."
            )
        params = tuple(params)
        if parent is None:
            if builtin is None or builtin.parent not in params:
                raise FamilyError(f"Likelihood('{name}') needs parent=, one of {list(params)}.")
            parent = builtin.parent
        if parent not in params:
            raise FamilyError(
                f"Likelihood('{name}'): the parent '{parent}' must be one of params {list(params)}."
            )
        if _builtin_like(name, parent, params) is None:
            known = distribution_parameters(name)
            if known is None:
                raise FamilyError(
                    f"Likelihood('{name}'): PyMC has no distribution '{name}' (Bambi's "
                    "'Gaussian' is PyMC's 'Normal'); use a pymc distribution's name."
                )
            unknown = [p for p in params if p not in known]
            if unknown:
                raise FamilyError(
                    f"Likelihood('{name}'): PyMC's {name} has no parameter "
                    f"{', '.join(repr(u) for u in unknown)}; its parameters are "
                    f"{', '.join(sorted(known))}."
                )
        self.name, self.params, self.parent = name, params, parent

    def __repr__(self) -> str:
        return (
            f"Likelihood(name={self.name!r}, params={list(self.params)!r}, parent={self.parent!r})"
        )


def _dist_name(dist: Any, name: str) -> str:
    """The pymc name of ``dist`` (a class of the pymc namespace), else an error."""
    import pymc as pm

    dist_name = getattr(dist, "__name__", None)
    if isinstance(dist_name, str) and getattr(pm, dist_name, None) is dist:
        return dist_name
    raise FamilyError(
        f"Likelihood('{name}', dist=...): a distribution of your own is not available. Give a "
        "PyMC distribution by name, or make a Family with likelihood=<PyMC name> and "
        "logp=f, f(value, **parameters) your log-density on PyTensor tensors."
    )


# ------------------------------------------------------------------ parts of a generic family
def _select(d: dict, names: tuple[str, ...]) -> dict:
    """The likelihood's parameters, as PyMC names them."""
    return {name: d[name] for name in names}


def _pymc_draw(likelihood: str, rng, **params) -> np.ndarray:
    """Responses drawn with PyMC's distribution (for likelihoods no built-in family has)."""
    import pymc as pm

    return np.asarray(pm.draw(getattr(pm, likelihood).dist(**params), random_seed=rng))


def _positive_prior(sd_y: float) -> Prior:
    return Prior("HalfStudentT", nu=4, sigma=sd_y)


def _unit_prior(_: float) -> Prior:
    return Prior("Beta", alpha=2, beta=2)


def _real_prior(sd_y: float) -> Prior:
    return Prior("Normal", mu=0, sigma=2.5 * sd_y)


_DEFAULT_PRIORS = {"positive": _positive_prior, "unit": _unit_prior, "real": _real_prior}


# ------------------------------------------------------------------ Bambi's Family(...)
def _links(name: str, likelihood: Likelihood, link: Any) -> dict[str, Link | str]:
    """Bambi's ``link`` (a name or `Link` for the parent, or a dict by parameter)."""
    if link is None:
        builtin = _builtin_like(likelihood.name, likelihood.parent, likelihood.params)
        if builtin is None:
            raise FamilyError(
                f"Family('{name}', ...) needs link=, the parent '{likelihood.parent}''s link "
                "(a name such as 'identity' or 'log', a Link, or a dict by parameter)."
            )
        link = builtin.default_link
    links = dict(link) if isinstance(link, Mapping) else {likelihood.parent: link}
    unknown = [k for k in links if k not in likelihood.params]
    if unknown:
        raise FamilyError(
            f"Family('{name}'): link is given for {unknown}, which the likelihood "
            f"{likelihood.name} does not have; its parameters are {list(likelihood.params)}."
        )
    if likelihood.parent not in links:
        raise FamilyError(
            f"Family('{name}'): link needs the parent '{likelihood.parent}''s link, e.g. "
            f"{{'{likelihood.parent}': 'identity', ...}}."
        )
    out: dict[str, Link | str] = {}
    for param, value in links.items():
        if isinstance(value, Link):
            out[param] = value.name if LINKS.get(value.name) == value else value
        elif isinstance(value, str):
            out[param] = Link(value).name  # an unknown name is an error here
        else:
            raise FamilyError(
                f"Family('{name}'): the link of '{param}' must be a name or a bf.Link, got "
                f"{value!r}."
            )
    if out[likelihood.parent] == "softmax":
        raise FamilyError(
            f"Family('{name}'): the softmax link is for categorical families; use "
            "family='categorical' or 'multinomial'."
        )
    return out


def _aux_support(name: str, param: str, link: Link | str | None, fixed: str | None) -> str:
    """The support of an auxiliary parameter: what the link Bambi's family gives it says
    (positive without one), which must be ``fixed`` when the parameter's values are known."""
    if link is None:
        return fixed or "positive"
    if isinstance(link, Link):
        raise FamilyError(
            f"Family('{name}'): '{param}' has the link {link.name!r} of your own, but the "
            "formula of an auxiliary parameter takes a registered link by what the parameter "
            "is: log (> 0), logit, probit or cloglog (in (0, 1)), identity (any number)."
        )
    support = _SUPPORT_OF_LINK.get(link)
    if support is None:
        raise FamilyError(
            f"Family('{name}'): '{param}' cannot take the link {link!r}; auxiliary parameters "
            "take log (> 0), logit, probit or cloglog (in (0, 1)) or identity (any number)."
        )
    if fixed is not None and support != fixed:
        allowed = [k for k, v in _SUPPORT_OF_LINK.items() if v == fixed]
        raise FamilyError(
            f"Family('{name}'): '{param}' is a {fixed} parameter, whose link is "
            f"{' or '.join(allowed)}; got {link!r}."
        )
    return support


def family_fields(name: str, likelihood: Likelihood, link: Any = None) -> dict[str, Any]:
    """The `Family` fields of Bambi's ``Family(name, likelihood, link)``.

    Raises
    ------
    FamilyError
        For an invalid name, likelihood or link.
    """
    if not isinstance(name, str) or not name:
        raise FamilyError(f"a family's name must be a non-empty string, got {name!r}.")
    if not isinstance(likelihood, Likelihood):
        raise FamilyError(
            f"Family('{name}', likelihood, link): likelihood must be a bf.Likelihood, got "
            f"{type(likelihood).__name__}."
        )
    links = _links(name, likelihood, link)
    parent_link = links.pop(likelihood.parent)
    builtin = _builtin_like(likelihood.name, likelihood.parent, likelihood.params)
    described = f"custom family: {likelihood.name} likelihood, written as Bambi's Family()"
    if builtin is not None:
        aux = tuple(
            AuxParam(
                a.name,
                a.default_prior,
                support=_aux_support(name, a.name, links.get(a.name), a.support),
                description=a.description,
                data_prior=a.data_prior,
            )
            for a in builtin.aux
        )
        return {
            "name": name,
            "likelihood": likelihood.name,
            "parent": likelihood.parent,
            "links": (parent_link,),
            "support": builtin.support,
            "to_dist": builtin.to_dist,
            "draw": builtin.draw,
            "aux": aux,
            "scale_by_response": builtin.scale_by_response,
            "response_transform": builtin.response_transform,
            "description": described,
            "logp": builtin.logp,
        }
    aux = []
    for param in likelihood.params:
        if param == likelihood.parent:
            continue
        support = _aux_support(name, param, links.get(param), None)
        aux.append(
            AuxParam(
                param,
                _DEFAULT_PRIORS[support],
                support=support,
                description="a parameter of a custom family (its default prior is chosen by "
                "its support; set it with priors=)",
            )
        )
    return {
        "name": name,
        "likelihood": likelihood.name,
        "parent": likelihood.parent,
        "links": (parent_link,),
        "support": "real",
        "to_dist": functools.partial(_select, names=likelihood.params),
        "draw": functools.partial(_pymc_draw, likelihood.name),
        "aux": tuple(aux),
        "description": described,
    }
