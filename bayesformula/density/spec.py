"""`density_of_spec`: a `bayesformula.spec.ModelSpec`'s fast-path density, from the builder for
its family (`bayesformula.density.categorical` for the families with coefficients per category,
`bayesformula.density.build` for every other), or `Unsupported`."""

from __future__ import annotations

from bayesformula.density.build import build_density
from bayesformula.density.categorical import build_per_category
from bayesformula.density.model import DensityModel
from bayesformula.density.priors import Unsupported

__all__ = ["density_of_spec"]


def density_of_spec(spec, *, kernel: bool | None = None) -> DensityModel:
    """The fast path's density of a `bayesformula.spec.ModelSpec`.

    Raises
    ------
    Unsupported
        Also for response helpers the fast path does not compute.
    """
    helper = spec.response_helper
    # a helper's log-likelihood is that of the family's PyMC distribution, not of a family's
    # own log-density (the graph takes the distribution's there)
    if helper is not None and spec.family.logp is not None:
        raise Unsupported(f"the response helper {helper.text}")
    if spec.family.per_category:
        if spec.aux_parts or helper is not None:  # neither is allowed for these families
            raise Unsupported(f"family '{spec.family.name}' with a formula or weights")
        return build_per_category(
            spec.design,
            spec.family,
            spec.link,
            spec.priors,
            spec.response_data,
            spec.parameterization,
            center_predictors=spec.center_predictors,
        )
    return build_density(
        spec.design,
        spec.family,
        spec.link,
        spec.priors,
        spec.response_data,
        spec.parameterization,
        center_predictors=spec.center_predictors,
        anchor=spec.anchor,
        kernel=kernel,
        parts=spec.aux_parts,
        helper=helper,
    )
