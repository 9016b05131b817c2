"""Shared fixtures. Fitted models are session-scoped: each PyTensor compile costs seconds, so
tests that only read a posterior share one honest fit."""

from __future__ import annotations

import inspect
import os
import re
import signal
import threading
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayesformula as bf

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

warnings.filterwarnings("ignore", message=".*could not link to a BLAS.*")
warnings.filterwarnings("ignore", message=".*We recommend running at least 4 chains.*")

# "auto" chooses from measured costs (bayesformula.samplers.costs): the suite neither reads nor
# writes the machine's records, so that its choices do not depend on the fits before it
os.environ.setdefault("BAYESFORMULA_COSTS", "off")

# pytest-xdist's workers (`make test` runs two) ignore SIGINT, which only their controller
# handles; the tests of Ctrl-C during sampling send it to their own process and need Python's
# own handler
if os.environ.get("PYTEST_XDIST_WORKER") and threading.current_thread() is threading.main_thread():
    signal.signal(signal.SIGINT, signal.default_int_handler)

FIT = {"draws": 500, "tune": 500, "chains": 2, "cores": 1, "progressbar": False}


@pytest.fixture(scope="session")
def bioassay():
    return bf.load_data("bioassay")


@pytest.fixture(scope="session")
def sleepstudy():
    path = SHARED_DATA / "sleepstudy.csv"
    return pd.read_csv(path) if path.exists() else bf.load_data("sleepstudy")


@pytest.fixture(scope="session")
def bioassay_fit(bioassay):
    model = bf.Model("p(deaths, n) ~ dose", bioassay, family="binomial")
    return model, model.fit(random_seed=11, **FIT)


@pytest.fixture(scope="session")
def sleep_fit(sleepstudy):
    model = bf.Model("Reaction ~ Days + (Days|Subject)", sleepstudy)
    return model, model.fit(random_seed=5, **{**FIT, "draws": 800, "tune": 800})


@pytest.fixture(scope="session")
def group_data():
    """Gaussian data with a categorical predictor and one grouping factor (known truth)."""
    rng = np.random.default_rng(42)
    n_groups, per = 8, 15
    g = np.repeat([f"g{i}" for i in range(n_groups)], per)
    u = rng.normal(0, 1.5, n_groups)
    x = rng.normal(0, 1, n_groups * per)
    a = rng.choice(["lo", "mid", "hi"], n_groups * per)
    effect_a = pd.Series(a).map({"lo": 0.0, "mid": 1.0, "hi": -1.0}).to_numpy()
    y = (
        2.0
        + 0.8 * x
        + effect_a
        + u[np.repeat(np.arange(n_groups), per)]
        + rng.normal(0, 0.7, len(x))
    )
    return pd.DataFrame({"y": y, "x": x, "a": a, "g": g}, index=[f"r{i}" for i in range(len(x))])


@pytest.fixture(scope="session")
def group_fit(group_data):
    model = bf.Model("y ~ x + a + (1|g)", group_data)
    return model, model.fit(random_seed=3, **FIT)


# --------------------------------------------------------------------------- the slow marker
#: What a test (or a fixture it uses) calls when it runs a real sampler or a whole example.
_SAMPLES = re.compile(
    r"\.fit\(|prior_predictive\(|pm\.sample|check_family\(|check_sampler\(|fit_many\("
    r"|main\(\[\s*\"fit\"|subprocess|runpy|_run_example"
)


def _source(func) -> str:
    try:
        return inspect.getsource(func)
    except (OSError, TypeError):
        return ""


def _samples(item) -> bool:
    if _SAMPLES.search(_source(getattr(item, "function", None))):
        return True
    info = getattr(item, "_fixtureinfo", None)
    for defs in info.name2fixturedefs.values() if info else ():
        if any(_SAMPLES.search(_source(d.func)) for d in defs):
            return True
    return False


def pytest_collection_modifyitems(config, items):
    """Mark every test that samples (directly or through a fixture) ``slow``, so that
    ``pytest -m "not slow"`` is a fast inner loop; ``make test`` still runs everything."""
    slow = pytest.mark.slow
    for item in items:
        if "slow" not in item.keywords and _samples(item):
            item.add_marker(slow)
