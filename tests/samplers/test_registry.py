"""Sampler registry: lookup, unknown names, custom registration."""

from __future__ import annotations

import pytest

import bayesformula as bf
from bayesformula import compiled
from bayesformula.errors import SamplerError
from bayesformula.samplers import SAMPLERS, Sampler, get_sampler


def test_pymc_is_registered_and_satisfies_protocol():
    assert "pymc" in bf.list_samplers()
    assert isinstance(get_sampler("pymc"), Sampler)


def test_unknown_inference_method_lists_known_ones(bioassay):
    with pytest.raises(SamplerError, match="unknown inference_method 'pymcc'; did you mean 'pymc'"):
        get_sampler("pymcc")
    model = bf.Model("p(deaths, n) ~ dose", bioassay, family="binomial")
    with pytest.raises(ValueError, match="Known: .*'pymc'"):
        model.fit(inference_method="mcmc-fast")
    assert compiled.built_graph(model.spec, build=False) is None  # nothing built for a bad name


def test_custom_sampler_is_used_by_fit(bioassay_fit):
    model, idata = bioassay_fit
    calls = {}

    class Replay:
        name = "replay"

        def sample(self, pm_model, **kwargs):
            calls.update(kwargs, model=pm_model)
            return idata.copy()

    bf.register_sampler("replay", Replay)
    try:
        out = model.fit(inference_method="replay", draws=7, random_seed=3)
    finally:
        SAMPLERS.pop("replay")
    assert calls["draws"] == 7 and calls["random_seed"] == 3
    assert calls["model"] is model.build()
    assert out.posterior["dose"].shape == idata.posterior["dose"].shape


def test_looking_for_a_gpu_does_not_import_jax():
    """ArviZ 1 registers ``jax`` as a lazy module; asking whether JAX sees a GPU must not load
    it (half a second) when no GPU plugin is installed and the user has not imported JAX."""
    import subprocess
    import sys

    code = (
        "import sys, arviz, bayesformula\n"
        "from bayesformula.samplers.auto import _GPU_PLUGINS, _installed, _jax_gpu\n"
        "assert not any(_installed(p) for p in _GPU_PLUGINS)\n"
        "assert 'jax' in sys.modules  # ArviZ's lazy placeholder\n"
        "assert _jax_gpu() is False\n"
        "assert 'jax._src' not in sys.modules, 'JAX was imported'\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr[-2000:]


class _Stop(Exception):
    pass


@pytest.mark.parametrize("levels, expected", [(20, "low_rank"), (300, "diag")])
def test_fast_path_mass_matrix_follows_the_model_size(monkeypatch, levels, expected):
    """nutpie's low-rank adaptation up to LOW_RANK_MAX_DIM parameters, a diagonal one above;
    an explicit adaptation= wins."""
    import numpy as np
    import nutpie
    import pandas as pd

    from bayesformula import compiled
    from bayesformula.samplers.external import LOW_RANK_MAX_DIM

    rng = np.random.default_rng(0)
    data = pd.DataFrame({"g": [f"g{i}" for i in range(levels)] * 3})
    data["y"] = rng.normal(size=len(data))
    model = bf.Model("y ~ 1 + (1|g)", data)
    ndim = compiled.fast_path(model.spec).ndim
    assert (ndim <= LOW_RANK_MAX_DIM) == (expected == "low_rank")
    seen = []

    def record(*args, **kwargs):
        seen.append(kwargs.get("adaptation"))
        raise _Stop

    monkeypatch.setattr(nutpie, "sample", record)
    for extra in ({}, {"adaptation": "draw_diag"}):
        with pytest.raises(_Stop):
            model.fit(inference_method="nutpie", progressbar=False, **extra)
    assert seen == [expected, "draw_diag"]
