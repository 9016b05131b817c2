"""Every registered sampler: conformance, the same layout, optional engines and "auto"."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

import numpy as np
import pytest

import bayesformula as bf
from bayesformula.errors import SamplerError
from bayesformula.samplers import auto as auto_module
from bayesformula.samplers import get_sampler
from bayesformula.samplers.layout import REQUIRED_STATS
from bayesformula.testing import check_sampler
from bayesformula.testing.sampler import reference_model
from tests.conftest import FIT

ENGINE_MODULES = {
    "pymc": (),
    "laplace": (),
    "vi": (),
    "nutpie": ("nutpie",),
    "numpyro": ("numpyro", "jax"),
    "blackjax": ("blackjax", "jax"),
    "pathfinder": ("pymc_extras",),
}
MCMC = ("pymc", "nutpie", "numpyro", "blackjax")


def installed(name: str) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ENGINE_MODULES[name])


def needs(name: str):
    return pytest.mark.skipif(not installed(name), reason=f"{name} engine not installed")


def test_every_registered_sampler_is_covered():
    assert set(bf.list_samplers()) == set(ENGINE_MODULES) | {"auto"}


@pytest.mark.parametrize("name", sorted(ENGINE_MODULES))
def test_check_sampler_passes(name):
    if not installed(name):
        pytest.skip(f"{name} engine not installed")
    report = check_sampler(name, draws=300, tune=300)
    assert report.ok, str(report)
    assert "same seed, same draws" in report.passed
    assert "posterior mean of theta" in report.passed
    assert report.approximate == (name not in MCMC)
    if getattr(get_sampler(name), "accepts_density", False):
        # samplers that take a plain log-density pass the same checks on one
        assert "log-density: posterior mean of theta" in report.passed
        assert "log-density: same seed, same draws" in report.passed


class _Leaky:
    """PyMC underneath, but keeps transformed names and ignores the seed: must fail."""

    name = "leaky"

    def sample(self, model, *, random_seed=None, target_accept=None, **kwargs):
        import pymc as pm

        idata = pm.sample(model=model, random_seed=None, **kwargs)
        idata.posterior["tau_log__"] = np.log(idata.posterior["tau"])
        return idata


def test_check_sampler_catches_a_nonconforming_adapter(monkeypatch):
    from bayesformula.samplers.base import SAMPLERS

    monkeypatch.setitem(SAMPLERS, "leaky", _Leaky)
    report = check_sampler("leaky", draws=100, tune=100, raise_on_failure=False)
    assert not report.ok
    assert "variable names" in report.failed and "tau_log__" in report.failed["variable names"]
    assert "same seed, same draws" in report.failed
    with pytest.raises(SamplerError, match="check_sampler\\('leaky'\\).*failed"):
        check_sampler("leaky", draws=100, tune=100)


def test_missing_engine_names_the_install_line(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda m, *a: None if m == "nutpie" else real(m, *a)
    )
    with pytest.raises(SamplerError, match=r"pip install 'bayesformula\[nutpie\]'"):
        get_sampler("nutpie").sample(reference_model(), draws=10, tune=10)


@pytest.mark.parametrize("name", ["nutpie", "numpyro", "blackjax"])
def test_core_model_agrees_across_backends(name, group_fit, group_data):
    """y ~ x + a + (1|g) with each engine: same layout and the same posterior as PyMC."""
    if not installed(name):
        pytest.skip(f"{name} engine not installed")
    reference_model_, reference = group_fit
    model = bf.Model("y ~ x + a + (1|g)", group_data)
    idata = model.fit(inference_method=name, random_seed=4, diagnostics=False, **FIT)
    assert set(idata.children) == set(reference.children)
    assert set(idata.posterior.data_vars) == set(reference.posterior.data_vars)
    for var in idata.posterior.data_vars:
        assert idata.posterior[var].dims == reference.posterior[var].dims
        for dim in idata.posterior[var].dims[2:]:
            assert list(idata.posterior[dim].values) == list(reference.posterior[dim].values)
    assert set(REQUIRED_STATS) <= set(idata.sample_stats.data_vars)
    # posterior means agree within Monte Carlo error of both fits (5 combined MCSEs)
    a, b = bf.summary(idata), bf.summary(reference)
    tol = 5 * np.hypot(a["mcse_mean"], b["mcse_mean"])
    assert (np.abs(a["mean"] - b["mean"]) <= tol).all(), (a["mean"] - b["mean"]).abs() / tol
    # predictions and diagnostics work on every backend's output
    assert len(model.check(idata).findings) == 6
    table = model.predictions(idata, data=group_data.head(3))
    assert list(table.index) == list(group_data.index[:3])


@pytest.mark.parametrize("name", ["laplace", "vi"])
def test_approximations_say_so(name, bioassay, caplog):
    model = bf.Model("p(deaths, n) ~ dose", bioassay, family="binomial")
    with caplog.at_level(logging.INFO, logger="bayesformula"):
        idata = model.fit(
            inference_method=name, draws=400, random_seed=1, progressbar=False, verbose=True
        )
    assert idata.posterior.attrs["approximation"] == ("advi" if name == "vi" else name)
    assert "Approximate posterior" in caplog.text
    assert set(idata.posterior.data_vars) == {"dose", "Intercept", "Intercept_centered"}
    assert "sample_stats" not in idata.children
    # the bioassay posterior of dose is clearly positive under both approximations
    assert float(idata.posterior["dose"].mean()) > 2


def test_auto_choice(monkeypatch, bioassay_fit, caplog):
    model, _ = bioassay_fit
    pm_model = model.build()
    name, reason = auto_module.choose(pm_model)
    assert name == "pymc" and "4 observed values x 2 parameters" in reason
    assert "figures of a 2-core machine" in reason  # the suite keeps no records
    monkeypatch.setattr(auto_module, "_installed", lambda *m: True)
    # a compile of this model held already: nutpie costs its sampling alone
    monkeypatch.setattr(auto_module, "_nutpie_compiled", lambda model: True)
    name, reason = auto_module.choose(pm_model)
    assert name == "nutpie" and "nutpie about" in reason and "compiled already" in reason
    monkeypatch.setattr(auto_module, "_jax_gpu", lambda: True)
    name, reason = auto_module.choose(pm_model)
    assert name == "numpyro" and "GPU" in reason
    monkeypatch.undo()
    caplog.set_level(logging.INFO, logger="bayesformula")
    idata = model.fit(
        inference_method="auto", random_seed=11, diagnostics=False, verbose=True, **FIT
    )
    assert "chose 'nutpie' on the model's exact numpy log-density" in caplog.text
    assert idata.posterior.attrs["inference_method"] == "nutpie"
    caplog.clear()
    idata = model.fit(
        inference_method="auto",
        fast_path=False,
        random_seed=11,
        diagnostics=False,
        verbose=True,
        **FIT,
    )
    assert "inference_method='auto' chose 'pymc'" in caplog.text
    assert idata.posterior.attrs["inference_method"] == "pymc"
    # a GPU that JAX sees sends even fast-path models to a JAX sampler
    monkeypatch.setattr(auto_module, "_jax_gpu", lambda: True)
    assert not auto_module.AutoSampler().accepts_density


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax not installed")
def test_jax_samplers_keep_compiled_programs_between_processes(monkeypatch, tmp_path):
    import jax

    from bayesformula.samplers import jax_nuts

    before = jax.config.jax_compilation_cache_dir
    try:
        jax.config.update("jax_compilation_cache_dir", None)
        monkeypatch.delenv("JAX_COMPILATION_CACHE_DIR", raising=False)
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
        jax_nuts.enable_jax_cache()
        assert jax.config.jax_compilation_cache_dir == str(tmp_path / "bayesformula" / "jax")
        # a directory the user chose is kept
        jax.config.update("jax_compilation_cache_dir", str(tmp_path / "mine"))
        jax_nuts.enable_jax_cache()
        assert jax.config.jax_compilation_cache_dir == str(tmp_path / "mine")
    finally:
        jax.config.update("jax_compilation_cache_dir", before)


@needs("nutpie")
def test_fast_path_draws_pair_with_their_sampler_statistics(sleepstudy, monkeypatch):
    """On the fast path nutpie keeps one code per draw and the draws are rebuilt from numpy
    buffers afterwards: every posterior draw (warm-up included when kept) must be the one whose
    log density nutpie recorded, with the model's coords and dims, whether nutpie's trace was
    kept in memory or streamed to disk, and whether the warm-up was recorded or skipped."""
    from bayesformula.samplers import external

    read = []
    original = external._read_disk_trace
    monkeypatch.setattr(
        external, "_read_disk_trace", lambda *a, **k: read.append(1) or original(*a, **k)
    )
    model = bf.Model("Reaction ~ Days + (1|Subject)", sleepstudy)
    assert model.density() is not None
    pm_model = model.build()
    logp = pm_model.compile_logp(jacobian=True)
    fits = {}
    for on_disk in (False, True):
        for discard in (False, True):
            idata = model.fit(
                draws=40,
                tune=30,
                chains=2,
                random_seed=3,
                progressbar=False,
                diagnostics=False,
                discard_tuned_samples=discard,
                trace_on_disk=on_disk,
            )
            fits[on_disk, discard] = idata
            assert idata.posterior.sizes["draw"] == 40
            assert ("warmup_posterior" in idata.children) is not discard
            assert list(idata.posterior["1|Subject"].coords["Subject__factor_dim"].values) == list(
                model.design.group_levels["Subject"]
            )
            pairs = [(idata.posterior, idata.sample_stats)]
            if not discard:
                assert idata.warmup_posterior.sizes["draw"] == 30
                pairs.append((idata.warmup_posterior, idata.warmup_sample_stats))
            for post, stats in pairs:
                for chain in (0, 1):
                    for draw in (0, post.sizes["draw"] // 2, post.sizes["draw"] - 1):
                        point = {}
                        for rv in pm_model.free_RVs:
                            value = post[rv.name].sel(chain=chain, draw=draw).values
                            transform = pm_model.rvs_to_transforms.get(rv)
                            point[pm_model.rvs_to_values[rv].name] = (
                                np.log(value) if transform is not None else value
                            )
                        expected = float(stats["lp"].sel(chain=chain, draw=draw))
                        assert float(logp(point)) == pytest.approx(expected, rel=1e-9)
    assert len(read) == 2  # the two fits asked to stream went through the disk trace
    # the same seed gives the same draws and statistics wherever nutpie kept its trace
    for discard in (False, True):
        memory, disk = fits[False, discard], fits[True, discard]
        np.testing.assert_array_equal(
            memory.posterior["Intercept"].values, disk.posterior["Intercept"].values
        )
        for name in REQUIRED_STATS:
            np.testing.assert_array_equal(
                memory.sample_stats[name].values, disk.sample_stats[name].values
            )


@needs("nutpie")
def test_large_fast_path_traces_go_to_disk_by_size(sleepstudy, monkeypatch):
    from bayesformula.samplers import external

    assert external._nutpie_trace_bytes(1003, 2000, 2) == 2 * 8 * 1003 * 2000 * 2
    read = []
    original = external._read_disk_trace
    monkeypatch.setattr(
        external, "_read_disk_trace", lambda path, **k: read.append(path) or original(path, **k)
    )
    model = bf.Model("Reaction ~ Days", sleepstudy)
    kwargs = dict(draws=20, tune=20, chains=2, random_seed=1, progressbar=False, diagnostics=False)
    model.fit(**kwargs)
    assert read == []  # 3 parameters: far below the limit
    monkeypatch.setattr(external, "DISK_TRACE_MIN_BYTES", external._nutpie_trace_bytes(3, 40, 2))
    idata = model.fit(**kwargs)
    assert len(read) == 1
    assert idata.posterior.sizes["draw"] == 20
    assert not Path(read[0]).exists()  # the temporary folder is gone once the fit returns
