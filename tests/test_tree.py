"""The helpers every module uses to read and change a fit's ``xarray.DataTree``."""

import numpy as np
import pytest
import xarray as xr

from bayesformula.core.tree import dataset, groups, has_group, is_tree, make_tree, set_group


def _draws(name, value=0.0):
    return xr.Dataset(
        {name: (("chain", "draw"), np.full((2, 3), value))},
        coords={"chain": [0, 1], "draw": [0, 1, 2]},
    )


def test_make_tree_keeps_order_and_reads_back_datasets():
    tree = make_tree({"posterior": _draws("a", 1.0), "sample_stats": _draws("lp", 2.0)})
    assert is_tree(tree) and not is_tree(_draws("a"))
    assert groups(tree) == ["posterior", "sample_stats"]
    assert has_group(tree, "posterior") and not has_group(tree, "prior")
    assert not has_group(_draws("a"), "posterior")  # a Dataset has no groups
    out = dataset(tree, "posterior")
    assert isinstance(out, xr.Dataset) and float(out["a"].sum()) == 6.0


def test_set_group_adds_replaces_and_accepts_nodes():
    tree = make_tree({"posterior": _draws("a")})
    set_group(tree, "log_likelihood", _draws("y", -1.0))
    assert groups(tree) == ["posterior", "log_likelihood"]
    set_group(tree, "posterior", _draws("b", 3.0))
    assert list(tree["posterior"].data_vars) == ["b"]
    other = make_tree({"prior": _draws("c", 4.0)})
    set_group(tree, "prior", other["prior"])  # a node of another tree
    assert float(tree["prior"]["c"].mean()) == 4.0
    assert groups(other) == ["prior"]  # the other tree is left as it was


def test_dataset_of_a_missing_group_is_a_key_error():
    with pytest.raises(KeyError):
        dataset(make_tree({"posterior": _draws("a")}), "prior")
