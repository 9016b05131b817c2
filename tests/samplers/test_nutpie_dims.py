"""nutpie stores each variable's dims as one comma-joined string and splits it again, so dim
names with commas (``bs(x, df=5)_dim``, ``hsgp(x, m=10, c=1.5)_weights_dim``) are swapped for
comma-free ones while it samples and restored in the result."""

from __future__ import annotations

import dataclasses

import numpy as np

from bayesformula.samplers.external import _comma_free_dims, _restore_dims
from tests.helpers import fit_tree


@dataclasses.dataclass(frozen=True)
class _Compiled:  # the fields of nutpie's CompiledPyMCModel that carry names
    dims: dict
    _coords: dict
    _shapes: dict = dataclasses.field(default_factory=dict)

    @property
    def coords(self):
        return self._coords

    @property
    def shapes(self):
        return self._shapes


def test_dims_with_commas_round_trip():  # the samplers run on models like this by hand
    dim = "hsgp(x, m=3, c=1.5)_weights_dim"
    compiled = _Compiled(
        dims={"hsgp(x, m=3, c=1.5)": (dim,), "b": ("b_dim",)},
        _coords={dim: [0, 1, 2], "b_dim": ["u", "v"]},
    )
    safe, renamed = _comma_free_dims(compiled)
    (safe_dim,) = safe.dims["hsgp(x, m=3, c=1.5)"]
    assert "," not in safe_dim and renamed == {safe_dim: dim}
    assert safe.dims["b"] == ("b_dim",) and set(safe.coords) == {safe_dim, "b_dim"}
    assert _comma_free_dims(_Compiled(dims={"b": ("b_dim",)}, _coords={}))[1] == {}

    # a variable without dims (a transform) gets nutpie's default dim names, commas replaced
    ell = "hsgp(x, z, m=3, c=1.5)_ell_log__"
    safe_ell, renamed_ell = _comma_free_dims(_Compiled({}, {}, _shapes={ell: (2,)}))
    (ell_dim,) = safe_ell.dims[ell]
    assert "," not in ell_dim and renamed_ell[ell_dim] == f"{ell}_dim_0"
    assert list(safe_ell.coords[ell_dim]) == [0, 1]

    # what nutpie returns: the variable with the comma-free dim
    idata = fit_tree(
        posterior={"hsgp(x, m=3, c=1.5)": np.zeros((1, 2, 3))},
        dims={"hsgp(x, m=3, c=1.5)": [safe_dim]},
        coords={safe_dim: [0, 1, 2]},
    )
    _restore_dims(idata, renamed)
    assert idata.posterior["hsgp(x, m=3, c=1.5)"].dims == ("chain", "draw", dim)
    assert list(idata.posterior[dim].values) == [0, 1, 2]
