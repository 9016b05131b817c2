"""`fit_many` pads grouping factors to a common number of levels for models fitted from their
graph, so that datasets with different groups share one compile; the padded levels change
nothing else in the posterior and leave no trace in the results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import bayesformula as bf
from bayesformula.many.levels import drop_padding, level_counts, padded
from bayesformula.samplers import reuse


def _market(n_groups: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = rng.permutation(np.repeat([f"s{j}" for j in range(n_groups)], 12))
    u = rng.normal(0, 0.7, n_groups)
    x = rng.normal(size=g.size)
    codes = np.array([int(s[1:]) for s in g])
    return pd.DataFrame({"g": g, "x": x, "y": 1.0 + 0.5 * x + u[codes] + rng.normal(size=g.size)})


@pytest.mark.parametrize("noncentered", [True, False])
def test_padded_levels_add_only_their_prior_to_the_log_density(noncentered):
    """logp(padded model at (theta, extra effects)) = logp(model at theta) + the extra
    effects' prior log-density, at random points: the rest of the posterior is unchanged."""
    model = bf.Model("y ~ x + (1|g)", _market(4, seed=1), noncentered=noncentered)
    wider = bf.Model.from_spec(padded(model.spec, {"g": 7}))
    assert list(wider.design.group_levels["g"])[4:] == [f"(padding {i})" for i in (1, 2, 3)]
    pm_model, pm_wider = model.build(), wider.build()
    logp, logp_wider = pm_model.compile_logp(), pm_wider.compile_logp()
    name = "1|g_offset" if noncentered else "1|g"
    rng = np.random.default_rng(3)
    for _ in range(3):
        point = {
            k: np.asarray(v) + rng.normal(scale=0.3, size=np.shape(v))
            for k, v in pm_model.initial_point().items()
        }
        extra = rng.normal(scale=0.8, size=3)
        wide = dict(point, **{name: np.concatenate([point[name], extra])})
        sigma = np.exp(point["1|g_sigma_log__"])
        prior = stats.norm.logpdf(extra, 0, 1 if noncentered else sigma).sum()
        assert float(logp_wider(wide)) == pytest.approx(float(logp(point)) + prior, rel=1e-10)


def test_level_counts_take_the_largest_of_the_datasets():
    frames = [_market(3, 0), _market(5, 1), _market(4, 2).assign(g=lambda d: d.g.where(d.x > 9))]
    assert level_counts(("g",), frames) == {"g": 5}
    assert level_counts(("shop",), frames) == {}


def test_datasets_with_different_groups_share_one_compile():
    """Off the fast path (the graph, compiled by nutpie), three markets with 3, 4 and 5 stores
    are one structure; their tables show their own stores only, and a market's posterior is
    the one of its own fit."""
    pytest.importorskip("nutpie")
    frames = {f"m{k}": _market(k, seed=k) for k in (3, 4, 5)}
    reuse.clear()
    fit = {"draws": 400, "tune": 400, "chains": 2, "progressbar": False}
    result = bf.fit_many(
        "y ~ x + (1|g)", datasets=frames, random_seed=5, fast_path=False, noncentered=True, **fit
    )
    assert not result.errors
    assert reuse.cache_info()["compiled"] == 1
    assert reuse.cache_info()["reused"] == 2
    table = result.summary
    assert not table["parameter"].str.contains("padding").any()
    for k in (3, 4, 5):
        stores = table[(table.dataset == f"m{k}") & table.parameter.str.startswith("1|g[")]
        assert len(stores) == k
    own = bf.summary(bf.Model("y ~ x + (1|g)", frames["m3"]).fit(random_seed=9, **fit))
    theirs = table[table.dataset == "m3"].set_index("parameter").loc[own.index]
    tolerance = 5 * np.hypot(own["mcse_mean"], theirs["mcse_mean"])
    assert (np.abs(own["mean"] - theirs["mean"]) < tolerance).all()


def test_drop_padding_removes_only_the_added_labels():
    import xarray as xr

    ds = xr.Dataset(
        {"b": (("chain", "draw", "g"), np.zeros((1, 2, 4)))},
        coords={"g": ["a", "(padding x)", "(padding 1)", "(padding 2)"]},
    )
    assert list(drop_padding(ds)["g"].values) == ["a", "(padding x)"]
