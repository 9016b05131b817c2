"""Bambi's `fit` keywords: those with a meaning here work, the others say what replaces them.

The list is Bambi 0.21's ``Model.fit`` signature and the spellings of older versions and of
PyMC that Bambi passes on through ``**kwargs``. The engines' sampling calls are replaced by
recorders that stop before sampling, except in the tests marked as sampling.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from scipy.special import expit

import bayesformula as bf
from bayesformula.errors import ArgumentTypeError, SamplerError

#: Bambi 0.21's ``Model.fit(...)`` parameters (``bambi.Model.fit``'s signature).
BAMBI_FIT = (
    "draws",
    "tune",
    "discard_tuned_samples",
    "omit_offsets",
    "include_mean",
    "include_response_params",
    "inference_method",
    "init",
    "n_init",
    "chains",
    "cores",
    "random_seed",
    "nuts",
)


class _Stop(Exception):
    """Raised by a recorder instead of sampling."""


@pytest.fixture
def recorded(monkeypatch):
    """nutpie's and PyMC's sampling functions record their keywords and stop."""
    import nutpie
    import pymc

    calls = {}

    def recorder(engine):
        def record(*args, **kwargs):
            calls[engine] = kwargs
            raise _Stop

        return record

    monkeypatch.setattr(nutpie, "sample", recorder("nutpie"))
    monkeypatch.setattr(pymc, "sample", recorder("pymc"))
    return calls


@pytest.fixture
def model(bioassay):
    return bf.Model("p(deaths, n) ~ dose", bioassay, family="binomial")


def _fit(model, **kwargs):
    """`Model.fit` up to the engine's sampling call (the recorder stops it there)."""
    with pytest.raises(_Stop):
        model.fit(progressbar=False, diagnostics=False, **kwargs)


def _refused(model, error=ArgumentTypeError, **kwargs) -> str:
    """The message of the error `fit` raises for ``kwargs``; no graph may have been built."""
    built = model.backend
    with pytest.raises(error) as err:
        model.fit(progressbar=False, diagnostics=False, **kwargs)
    assert model.backend is built
    return str(err.value)


def test_bambi_s_fit_parameters_are_fit_s_or_pymc_s(recorded, model):
    """Each of Bambi 0.21's parameters is fit's own or reaches pm.sample under "pymc" (Bambi's
    default engine); include_mean, deprecated in Bambi, says what replaces it."""
    own = set(inspect.signature(bf.Model.fit).parameters)
    for name in set(BAMBI_FIT) - own - {"include_mean"}:
        _fit(model, inference_method="pymc", **{name: {} if name == "nuts" else "auto"})
        assert name in recorded["pymc"], name
    assert "include_mean" not in own
    message = _refused(model, include_mean=True)
    assert "include_response_params=True" in message and "Bambi 0.14" in message


def test_bambi_s_nuts_dict_works_with_nutpie(recorded, model):
    """nuts={...} (Bambi 0.21) and max_treedepth= (PyMC) under "auto", which samples the fast
    path with nutpie: nutpie gets its own names for them."""
    _fit(model, nuts={"target_accept": 0.9, "max_treedepth": 12})
    assert recorded["nutpie"]["target_accept"] == 0.9 and recorded["nutpie"]["maxdepth"] == 12
    assert "nuts" not in recorded["nutpie"] and "max_treedepth" not in recorded["nutpie"]
    _fit(model, inference_method="nutpie", max_treedepth=9)
    assert recorded["nutpie"]["maxdepth"] == 9
    message = _refused(model, nuts={"max_treedepht": 3})
    assert "max_treedepht" in message and "max_treedepth" in message


def test_engine_choice_keywords_name_inference_method(model):
    for key in ("nuts_sampler", "sampler_backend"):
        message = _refused(model, SamplerError, **{key: "numpyro"})
        assert f"{key}='numpyro'" in message and "write inference_method='numpyro'" in message


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("mcmc", "pymc"),
        ("nuts_numpyro", "numpyro"),
        ("nuts_blackjax", "blackjax"),
        ("numpyro_nuts", "numpyro"),
        ("blackjax_nuts", "blackjax"),
    ],
)
def test_older_bambi_inference_methods_name_their_replacement(old, new, model):
    message = _refused(model, SamplerError, inference_method=old)
    assert f"write inference_method='{new}'" in message


def test_bayeux_samplers_say_there_are_none(model):
    message = _refused(model, SamplerError, inference_method="tfp_hmc")
    assert "bayeux" in message and "'auto'" in message


def test_idata_kwargs(recorded, model):
    """log_likelihood (computed by fit) with every engine; the rest only where PyMC builds
    the result."""
    _fit(model, inference_method="pymc", idata_kwargs={"include_transformed": True})
    assert recorded["pymc"]["idata_kwargs"] == {"include_transformed": True}
    _fit(model, inference_method="pymc", idata_kwargs={"log_likelihood": True})
    assert "idata_kwargs" not in recorded["pymc"]  # fit computes it after sampling
    message = _refused(model, inference_method="nutpie", idata_kwargs={"include_transformed": 1})
    assert "nutpie takes no idata_kwargs but 'log_likelihood'" in message
    assert "'pymc'" in message
    assert "must be a dict" in _refused(model, idata_kwargs=["log_likelihood"])


def test_pymc_s_keywords_reach_pymc_and_say_what_replaces_them_elsewhere(recorded, model):
    _fit(model, inference_method="pymc", compute_convergence_checks=False, init="adapt_diag")
    assert recorded["pymc"]["compute_convergence_checks"] is False
    assert recorded["pymc"]["init"] == "adapt_diag"
    message = _refused(model, compute_convergence_checks=False)  # "auto": nutpie here
    assert "diagnostics=False" in message
    message = _refused(model, inference_method="nutpie", n_init=100)
    assert "inference_method='pymc' takes it" in message
    message = _refused(model, inference_method="pymc", method="advi")
    assert "inference_method=" in message and "'vi'" in message


def test_include_response_params_and_idata_log_likelihood_with_every_kind_of_engine(
    model, bioassay
):
    """Bambi's include_response_params=True adds the per-row mean to the posterior, and
    idata_kwargs={"log_likelihood": True} the log_likelihood group, on the fast path (nutpie)
    and with an approximation (laplace)."""
    settings = dict(draws=50, random_seed=1, progressbar=False, diagnostics=False)
    for method, extra in (("auto", {"tune": 50, "chains": 1}), ("laplace", {})):
        idata = model.fit(
            inference_method=method,
            include_response_params=True,
            idata_kwargs={"log_likelihood": True},
            **settings,
            **extra,
        )
        post = idata.posterior
        assert post["p"].dims == ("chain", "draw", "__obs__"), method
        # p per row is the inverse logit of the linear predictor at that row's dose
        eta = post["Intercept"].values[..., None] + np.outer(
            post["dose"].values, bioassay["dose"]
        ).reshape(*post["dose"].shape, -1)
        np.testing.assert_allclose(post["p"].values, expit(eta), rtol=1e-6)
        assert idata.log_likelihood["deaths"].sizes["__obs__"] == 4, method


def test_the_bambi_differences_page_has_every_bambi_fit_keyword():
    from pathlib import Path

    page = Path(__file__).resolve().parents[2] / "docs" / "bambi-differences.md"
    section = page.read_text().split("## fit() keywords", 1)[1]
    for name in (*BAMBI_FIT, "idata_kwargs", "compute_convergence_checks", "nuts_sampler"):
        assert f"`{name}" in section, name
