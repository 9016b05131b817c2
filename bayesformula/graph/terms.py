"""PyMC parts of ``mo()`` and ``hsgp()`` terms (see `bayesformula.formula.terms`).

Variables (``{name}`` is the term as formulae writes it):

* ``mo(x)``: the coefficient ``mo(x)`` (average difference between adjacent levels) and the
  simplex ``mo(x)_simplex`` (dim ``mo(x)_simplex_dim``, coordinates ``"low->mid"``, ...); the
  contribution is ``b * D * cumsum(simplex)[x - 1]`` (0 at the lowest level).
* ``hsgp(...)``: basis weights ``{name}`` (dims ``{name}_weights_dim`` and, with ``by=``,
  ``{name}_by``), the amplitude ``{name}_sigma`` and lengthscale ``{name}_ell`` (per level with
  ``share_cov=False``, per predictor with ``iso=False``), and in the non-centered form the
  standard-normal ``{name}_offset`` with ``{name} = {name}_offset * sqrt(S(omega))``.

Data containers (swapped by prediction): ``__mo_codes_{name}``, ``__mo_z_{name}``,
``__hsgp_basis_{name}`` and ``__hsgp_by_{name}`` (`bayesformula.spec.names.term_data_name`).
"""

from __future__ import annotations

import math

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from bayesformula.core.prior import Prior
from bayesformula.spec.names import term_data_name

__all__ = ["special_parts", "spectral_density"]

_NU = {"matern32": 1.5, "matern52": 2.5}


def spectral_density(cov: str, omega, sigma, ell, d: int):
    """Spectral density of a stationary covariance function at frequencies ``omega``.

    Parameters
    ----------
    cov : {"expquad", "matern32", "matern52"}
    omega : tensor
        ``(..., d)`` frequencies.
    sigma : tensor
        Marginal standard deviation, broadcastable to ``omega.shape[:-1]``.
    ell : tensor
        Lengthscale(s), broadcastable to ``omega``'s shape (one per input for ARD).
    d : int
        Number of inputs.

    Notes
    -----
    With ``u = ell * omega`` (elementwise) and ``prod(ell)`` over the inputs (``ell**d`` when
    isotropic), ``S(omega) = sigma**2 * prod(ell) * s(|u|**2)`` where (Rasmussen & Williams 2006,
    eq. 4.15 and 4.20)

    * expquad: ``s(r2) = (2 pi)**(d/2) exp(-r2 / 2)``,
    * Matern nu: ``s(r2) = 2**d pi**(d/2) Gamma(nu + d/2) (2 nu)**nu / Gamma(nu)
      * (2 nu + r2)**(-(nu + d/2))``.
    """
    omega = pt.as_tensor_variable(omega)
    ell = pt.as_tensor_variable(ell)
    scaled = omega * ell
    r2 = pt.sum(scaled**2, axis=-1)
    prod_ell = pt.prod(pt.broadcast_to(ell, scaled.shape), axis=-1)
    if cov == "expquad":
        unit = (2 * np.pi) ** (d / 2) * pt.exp(-0.5 * r2)
    else:
        nu = _NU[cov]
        const = 2**d * np.pi ** (d / 2) * math.gamma(nu + d / 2) * (2 * nu) ** nu / math.gamma(nu)
        unit = const * (2 * nu + r2) ** (-(nu + d / 2))
    return pt.as_tensor_variable(sigma) ** 2 * prod_ell * unit


def _parameter(spec, name: str, dims: tuple[str, ...], shape: tuple[int, ...]):
    """A term parameter: a random variable from its prior, or a fixed number."""
    if isinstance(spec, Prior):
        if len(dims) == 2:  # (predictor, level): per-predictor prior parameters along axis 0
            spec = spec.replace(
                **{
                    k: np.reshape(v, (-1, 1))
                    for k, v in spec.args.items()
                    if not isinstance(v, Prior) and np.ndim(v) == 1
                }
            )
        return spec.create_variable(name, dims=dims or None)
    return pt.as_tensor_variable(np.broadcast_to(np.float64(spec), shape).copy())


def _monotonic_part(term, priors, data):
    b = priors.common[term.name].create_variable(term.name)
    zeta = priors.terms[term.simplex_name].create_variable(term.simplex_name, dims=term.simplex_dim)
    steps = pt.concatenate([pt.zeros((1,), dtype="float64"), pt.cumsum(zeta)]) * term.D
    value = steps[data[term_data_name(term, "codes")]]
    factor = np.ones(len(term.codes)) if term.z is None else term.z
    if term.z is not None:
        value = value * data[term_data_name(term, "z")]
    # mean over the fitting rows: sum_k steps[k] * (sum of the factor over rows at level k) / n
    weights = np.bincount(term.codes, weights=factor, minlength=term.D + 1) / len(term.codes)
    mean = b * pt.dot(steps, weights)
    return b * value, mean, {term.name: b, term.simplex_name: zeta}


def _hsgp_part(term, priors, data):
    name, G, d = term.name, term.n_levels, term.d
    per_var = term.var_dim in term.ell_dims
    sigma = _parameter(
        priors.terms[f"{name}_sigma"],
        f"{name}_sigma",
        term.sigma_dims,
        (G,) if term.per_level else (),
    )
    ell_shape = ((d,) if per_var else ()) + ((G,) if term.per_level else ())
    ell = _parameter(priors.terms[f"{name}_ell"], f"{name}_ell", term.ell_dims, ell_shape)
    # omega is (levels, M, d): sigma -> (levels, 1) or scalar; ell -> (levels, 1, d), (d,),
    # (levels, 1, 1) or scalar
    sigma_b = sigma[:, None] if term.per_level else sigma
    if per_var and term.per_level:
        ell_b = ell.T[:, None, :]
    elif term.per_level:
        ell_b = ell[:, None, None]
    else:
        ell_b = ell
    psd = spectral_density(term.cov, term.omega, sigma_b, ell_b, d)
    sqrt_psd = pt.sqrt(psd)  # (levels, M)
    scale = sqrt_psd.T if term.by_levels is not None else sqrt_psd[0]
    if term.centered:
        weights = pm.Normal(name, mu=np.float64(0.0), sigma=scale, dims=term.weights_dims)
    else:
        raw = pm.Normal(
            f"{name}_offset", mu=np.float64(0.0), sigma=np.float64(1.0), dims=term.weights_dims
        )
        weights = pm.Deterministic(name, raw * scale, dims=term.weights_dims)
    basis = data[term_data_name(term, "basis")]
    n = term.basis.shape[0]
    if term.by_levels is None:
        value = pt.dot(basis, weights)
        mean = pt.dot(term.basis.mean(axis=0), weights)
    else:
        value = pt.sum(basis * weights.T[data[term_data_name(term, "by")]], axis=1)
        sums = np.stack(
            [term.basis[term.by_index == g].sum(axis=0) for g in range(G)], axis=1
        )  # (M, levels): each level's basis summed over its fitting rows
        mean = pt.sum(weights * (sums / n))
    return value, mean, {name: weights}


def special_parts(design, priors, data):
    """Contributions of the design's ``mo()``/``hsgp()`` terms to the linear predictor.

    Returns
    -------
    (list, tensor or None, dict)
        One ``(n,)`` tensor per term; the sum of their means over the fitting rows (computed
        from the fitting data as constants, so it is unaffected by prediction's data swap),
        which centres the intercept as the common columns' means do; and the coefficient
        nodes prediction replaces by draws.
    """
    parts, means, nodes = [], [], {}
    for term in getattr(design, "special_terms", ()):
        build = _monotonic_part if term.kind == "mo" else _hsgp_part
        value, mean, term_nodes = build(term, priors, data)
        parts.append(value)
        means.append(mean)
        nodes.update(term_nodes)
    total = None
    for mean in means:
        total = mean if total is None else total + mean
    return parts, total, nodes
