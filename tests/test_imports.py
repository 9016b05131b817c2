"""What ``import bayesformula`` and a fast-path fit load: PyMC only when a model needs its graph."""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap

import pytest

from bayesformula.core.prior import _COMMON_PARAMS


def test_fast_path_fit_never_imports_pymc():
    """A model sampled on its numpy log-density (the fast path) neither builds nor imports a
    PyMC graph; the first call that needs one (here `build`) imports it."""
    script = textwrap.dedent(
        """
        import sys
        import bayesformula as bf
        loaded = lambda: sorted(m for m in ("pymc", "pytensor") if m in sys.modules)
        assert loaded() == [], loaded()
        model = bf.Model("p(deaths, n) ~ dose", bf.load_data("bioassay"), family="binomial")
        idata = model.fit(draws=50, tune=50, chains=1, random_seed=1, progressbar=False,
                          diagnostics=False, inference_method="nutpie")
        assert "posterior" in idata.children
        assert model.density() is not None
        assert loaded() == [], loaded()
        model.build()
        assert loaded() == ["pymc", "pytensor"], loaded()
        print("ok")
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().endswith("ok")


@pytest.mark.parametrize("name", sorted(_COMMON_PARAMS))
def test_prior_parameter_table_matches_pymc(name):
    """Default priors are validated from a table (no PyMC import); it must equal PyMC's own."""
    import pymc as pm

    sig = inspect.signature(getattr(pm, name).dist)
    expected = {
        p.name
        for p in sig.parameters.values()
        if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL) and p.name not in {"cls", "size"}
    }
    assert _COMMON_PARAMS[name] == expected
