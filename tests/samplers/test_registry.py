"""Sampler registry: lookup, unknown names, custom registration."""

from __future__ import annotations

import pytest

import bayesformula as bf
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
    assert model.backend is None  # nothing was built for a bad name


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
