"""The interpretation functions as `bayesformula.Model` methods."""

from __future__ import annotations

import pandas as pd

from bayesformula.interpret.effects import comparisons as _comparisons
from bayesformula.interpret.grid import datagrid as _datagrid
from bayesformula.interpret.slopes import slopes as _slopes

__all__ = ["InterpretMethods"]


class InterpretMethods:
    """``model.comparisons``, ``model.slopes`` and ``model.datagrid``."""

    def comparisons(self, idata, variables=None, data: pd.DataFrame | None = None, **kwargs):
        """`bayesformula.comparisons` of this model: how the prediction changes when a
        predictor changes, unit by unit or averaged (``by=``, ``average=True``, ``wts=``)."""
        return _comparisons(self, idata, variables, data, **kwargs)

    def slopes(self, idata, variables=None, data: pd.DataFrame | None = None, **kwargs):
        """`bayesformula.slopes` of this model: the derivative of the prediction in a numeric
        predictor, unit by unit or averaged."""
        return _slopes(self, idata, variables, data, **kwargs)

    def datagrid(self, data: pd.DataFrame | None = None, **values) -> pd.DataFrame:
        """`bayesformula.datagrid` of this model: the given values, every other variable of
        the formula at its typical value."""
        return _datagrid(self, data, **values)
