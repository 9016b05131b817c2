"""Fits as ``xarray.DataTree``, the layout ArviZ 1 reads.

A fit is a tree whose children are the groups (``posterior``, ``sample_stats``,
``posterior_predictive``, ``log_likelihood``, ``prior``, ``observed_data``, ...), each a dataset
with ``chain`` and ``draw`` dims where it holds draws. These helpers are the package's one way
to read and change them, so that no module depends on how a tree stores its children.
"""

from __future__ import annotations

from collections.abc import Mapping

import xarray as xr

__all__ = ["dataset", "groups", "has_group", "is_tree", "make_tree", "set_group"]


def is_tree(obj) -> bool:
    """Whether ``obj`` is a fit's tree (`xarray.DataTree`)."""
    return isinstance(obj, xr.DataTree)


def groups(tree) -> list[str]:
    """The names of the tree's groups, in order (``["posterior", "sample_stats", ...]``)."""
    return list(tree.children) if is_tree(tree) else []


def has_group(tree, name: str) -> bool:
    """Whether the tree has a group called ``name``."""
    return is_tree(tree) and name in tree.children


def dataset(tree, name: str) -> xr.Dataset:
    """Group ``name`` as a plain `xarray.Dataset` (a copy of the node's variables and attrs)."""
    return tree[name].to_dataset()


def set_group(tree, name: str, value: xr.Dataset | xr.DataTree) -> None:
    """Add or replace group ``name`` (a dataset or a tree node) in place."""
    if isinstance(value, xr.DataTree):
        value = value.to_dataset()
    tree[name] = value


def make_tree(groups: Mapping[str, xr.Dataset | xr.DataTree]) -> xr.DataTree:
    """A new tree with the given groups, in the given order."""
    tree = xr.DataTree()
    for name, value in groups.items():
        set_group(tree, name, value)
    return tree
