"""Keywords besides fit's own: each engine declares the ones it takes, and any other is an
`ArgumentTypeError` naming it before anything is built or sampled.

The declarations are checked against the engines themselves (their signatures and settings), so
an engine upgrade that renames a setting fails here rather than being dropped without a word.
"""

from __future__ import annotations

import inspect

import pytest

import bayesformula as bf
from bayesformula import compiled
from bayesformula.errors import ArgumentTypeError
from bayesformula.samplers import SAMPLERS, get_sampler
from bayesformula.samplers.keywords import (
    COMMON,
    KEYWORDS,
    accepted_keywords,
    check_keywords,
    engines_taking,
)


class _Stop(Exception):
    """Raised by a stand-in engine instead of sampling."""


@pytest.fixture
def no_sampling(monkeypatch):
    """Every registered sampler's ``sample`` fails the test if it is reached."""
    for name in list(SAMPLERS):
        cls = type(get_sampler(name))

        def refuse(self, *args, _name=name, **kwargs):
            raise AssertionError(f"{_name} sampled although a keyword was refused")

        monkeypatch.setattr(cls, "sample", refuse)


def _fit(model, **kwargs):
    """`Model.fit` without a progress bar or the diagnostics report."""
    return model.fit(progressbar=False, diagnostics=False, **kwargs)


@pytest.mark.parametrize("name", sorted(set(SAMPLERS)))
def test_every_engine_refuses_an_unknown_keyword_before_any_work(name, no_sampling, bioassay):
    """pymc, numpyro, blackjax, laplace, vi and pathfinder used to drop it without a word."""
    model = bf.Model("p(deaths, n) ~ dose", bioassay, family="binomial")
    with pytest.raises(ArgumentTypeError, match="keyword 'not_a_setting', which .* not know"):
        _fit(model, inference_method=name, not_a_setting=1)
    assert compiled.built_graph(model.spec, build=False) is None  # nothing was built


def test_every_builtin_engine_declares_its_keywords():
    for name in SAMPLERS:
        accepted = accepted_keywords(name)
        assert accepted is not None, name
        assert not accepted & {"step", "nuts_sampler", "model", "seed"}, name


@pytest.mark.parametrize(
    ("method", "keyword", "words"),
    [
        ("pymc", "max_treedepht", "did you mean 'max_treedepth'"),
        ("nutpie", "mindeth", "did you mean 'mindepth'"),
        ("pathfinder", "num_path", "did you mean 'num_paths'"),
        ("vi", "nn", "did you mean 'n'"),
        ("laplace", "n", "inference_method='vi' takes it"),
        ("nutpie", "init", "inference_method='pymc' takes it"),
        ("numpyro", "max_tree_depth", r"go in nuts=\{...\}"),
        ("nutpie", "seed", "write random_seed="),
        ("pymc", "num_warmup", "write tune="),
        ("blackjax", "nuts_sampler_kwargs", r"write nuts=\{...\}"),
    ],
)
def test_the_message_says_what_to_write(method, keyword, words, no_sampling, bioassay):
    model = bf.Model("p(deaths, n) ~ dose", bioassay, family="binomial")
    with pytest.raises(ArgumentTypeError, match=words) as err:
        _fit(model, inference_method=method, **{keyword: 1})
    assert f"'{keyword}'" in str(err.value) and method in str(err.value)


def test_auto_refuses_what_its_chosen_engine_does_not_take(monkeypatch, bioassay):
    """'auto' takes the keywords of the engines it may choose; once it has chosen, a keyword
    of another engine is refused before the chosen one samples (here nutpie's adaptation= on
    the PyMC graph, which auto gives PyMC's NUTS)."""
    import pymc

    monkeypatch.setattr(pymc, "sample", lambda *a, **k: pytest.fail("pm.sample was called"))
    model = bf.Model("p(deaths, n) ~ dose", bioassay, family="binomial")
    with pytest.raises(ArgumentTypeError, match="chose 'pymc' for this model") as err:
        _fit(model, inference_method="auto", fast_path=False, adaptation="diag")
    assert "'adaptation'" in str(err.value) and "inference_method='nutpie' takes it" in str(
        err.value
    )


def test_a_declared_custom_sampler_is_checked_and_an_undeclared_one_is_not(monkeypatch, bioassay):
    import numpy as np
    import xarray as xr

    from bayesformula.core.tree import make_tree

    model = bf.Model("p(deaths, n) ~ dose", bioassay, family="binomial")
    draws = {v: (("chain", "draw"), np.zeros((2, 3))) for v in ("dose", "Intercept")}
    idata = make_tree({"posterior": xr.Dataset(draws)})
    seen = {}

    class Declared:
        name = "declared"
        keywords = frozenset({"depth"})

        def sample(self, pm_model, **kwargs):
            seen.update(kwargs)
            return idata.copy()

    class Undeclared(Declared):
        keywords = None

    monkeypatch.setitem(SAMPLERS, "declared", Declared)
    monkeypatch.setitem(SAMPLERS, "undeclared", Undeclared)
    with pytest.raises(ArgumentTypeError, match="did you mean 'depth'"):
        _fit(model, inference_method="declared", deptj=3)
    _fit(model, inference_method="declared", depth=3, draws=7)
    assert seen["depth"] == 3 and seen["draws"] == 7
    _fit(model, inference_method="undeclared", anything=1)
    assert seen["anything"] == 1


def test_check_keywords_lets_fits_own_arguments_through():
    check_keywords("laplace", None, dict.fromkeys(COMMON))
    assert engines_taking("idata_kwargs") == ["blackjax", "numpyro", "pymc"]


# ------------------------------------------------------- declarations against the engines
def test_pymc_keywords_are_pm_sample_s():
    import pymc as pm
    from pymc.step_methods.hmc.base_hmc import BaseHMC

    sample = set(inspect.signature(pm.sample).parameters) - {"kwargs"}
    nuts = set(inspect.signature(pm.NUTS.__init__).parameters)
    nuts |= set(inspect.signature(BaseHMC.__init__).parameters)
    declared = accepted_keywords("pymc")
    # every declared keyword is pm.sample's, the NUTS step's, or the nuts={...} dict
    assert declared <= sample | nuts | {"nuts"}, declared - sample - nuts
    # every keyword of pm.sample is fit's own, declared, or refused on purpose
    refused = {"step", "nuts_sampler", "model", "nuts_sampler_kwargs"}
    assert sample <= COMMON | declared | refused, sample - COMMON - declared - refused


def test_nutpie_keywords_are_nutpie_s():
    import nutpie
    from nutpie import _lib

    from bayesformula.samplers.external import NUTPIE_SETTINGS

    def known_setting(name: str) -> bool:
        """Whether some nutpie settings object takes ``name`` (each value type tried)."""
        for kind in (_lib.PyNutsSettings, _lib.PyMclmcSettings):
            for adaptation in ("Diag", "LowRank", "Flow"):
                for value in (1, 0.5, True):
                    try:
                        getattr(kind, adaptation)(1).update({name: value})
                        return True
                    except AttributeError as err:
                        if "Unknown settings attribute" in str(err):
                            break
                    except Exception:  # the right name, a value of the wrong type
                        continue
        return False

    deprecated = {"transform_adapt", "use_grad_based_mass_matrix"}  # nutpie.sample pops them
    assert [s for s in sorted(NUTPIE_SETTINGS - deprecated) if not known_setting(s)] == []
    signature = set(inspect.signature(nutpie.sample).parameters)
    ours = {"backend", "trace_on_disk", "low_rank_modified_mass_matrix", "max_treedepth", "nuts"}
    assert accepted_keywords("nutpie") <= signature | NUTPIE_SETTINGS | ours


def test_approximation_keywords_are_their_engines():
    import pymc as pm

    vi = set(inspect.signature(type(get_sampler("vi")).sample).parameters)
    assert KEYWORDS["vi"] <= vi and KEYWORDS["vi"] <= set(inspect.signature(pm.fit).parameters)
    pmx = pytest.importorskip("pymc_extras")
    pathfinder = set(inspect.signature(pmx.fit_pathfinder).parameters)
    assert KEYWORDS["pathfinder"] <= pathfinder
    # the rest of fit_pathfinder's arguments are fit's own under another name, or set here
    assert pathfinder - KEYWORDS["pathfinder"] == {
        "model",
        "num_draws",
        "random_seed",
        "progressbar",
        "cores",
    }


def test_jax_keywords_are_pymc_s_jax_driver_s():
    import pymc as pm
    import pymc.sampling.jax as pmjax

    from bayesformula.samplers.jax_nuts import JAX_DRIVER_OPTIONS

    driver = set(inspect.signature(pmjax.sample_jax_nuts).parameters)
    assert set(JAX_DRIVER_OPTIONS) <= driver
    sample = set(inspect.signature(pm.sample).parameters)
    for name in ("numpyro", "blackjax"):
        assert accepted_keywords(name) <= sample | driver | {"nuts"}


def test_jax_driver_options_go_in_nuts(monkeypatch):
    """PyMC reads the JAX samplers' driver settings only from nuts={...}; given as keywords
    they are moved there (PyMC would drop them)."""
    import pymc

    from bayesformula.testing.sampler import reference_model

    calls = []

    def record(*args, **kwargs):
        calls.append(kwargs)
        raise _Stop

    monkeypatch.setattr(pymc, "sample", record)
    monkeypatch.setattr("bayesformula.samplers.jax_nuts.enable_jax_cache", lambda: None)
    monkeypatch.setattr("bayesformula.samplers.jax_nuts.require", lambda *a, **k: None)
    nuts = {"max_tree_depth": 5}
    with pytest.raises(_Stop):
        get_sampler("numpyro").sample(reference_model(), jitter=False, nuts=nuts, cores=2)
    assert calls[0]["nuts"] == {"max_tree_depth": 5, "jitter": False}
    assert "jitter" not in calls[0] and nuts == {"max_tree_depth": 5}  # the user's dict is kept
