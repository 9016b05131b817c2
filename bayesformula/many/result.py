"""`ManyFits`: what `fit_many` returns, as tidy pandas tables (and the draws on request)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from bayesformula.core import html
from bayesformula.results.display import ParameterTable

__all__ = ["ManyFits"]

#: Rows of the summary shown by ``repr`` and in a notebook.
SHOWN_ROWS = 10


@dataclass
class ManyFits:
    """The fits of one model to many datasets (`bayesformula.fit_many`).

    Attributes
    ----------
    summary : ParameterTable
        A DataFrame (shown rounded, as `bayesformula.summary`), one row per dataset and
        parameter: the dataset's name (its ``by`` column(s), or
        ``dataset``), ``parameter``, then the posterior summary (``mean``, ``sd``, the interval,
        ``mcse_*``, ``ess_bulk``, ``ess_tail``, ``r_hat``) and the dataset's ``divergences``.
    diagnostics : pandas.DataFrame
        One row per dataset fitted: ``ok`` (every sampler check passed), ``divergences``,
        ``problems`` (the checks that failed), ``engine``, ``warnings`` (what the package
        warned about the dataset's model, such as separation, first lines joined by `` | ``)
        and ``seconds``.
    errors : dict
        Dataset name -> why its fit failed (``errors="collect"``).
    posterior : xarray.Dataset or None
        The draws (``keep="draws"``), with a leading ``dataset`` dimension.
    seconds : float
        Wall time of the whole run.
    executor : str
        What ran the fits.
    """

    summary: pd.DataFrame
    diagnostics: pd.DataFrame
    errors: dict = field(default_factory=dict)
    posterior: Any = None
    seconds: float = 0.0
    executor: str = ""

    @classmethod
    def from_outcomes(cls, outcomes, by_columns, seconds: float, executor: str) -> ManyFits:
        """Tidy tables from the workers' `Outcome` list (in the datasets' order)."""
        fitted = [o for o in outcomes if o.error is None]
        tables = []
        for outcome in fitted:
            table = outcome.summary.rename_axis("parameter").reset_index()
            table.insert(table.shape[1], "divergences", outcome.diagnostics["divergences"])
            tables.append(_named(table, outcome.name, by_columns))
        summary = ParameterTable(pd.concat(tables, ignore_index=True) if tables else None)
        rows = [
            {**_names(o.name, by_columns), **o.diagnostics, "seconds": o.seconds} for o in fitted
        ]
        diagnostics = pd.DataFrame(rows)
        if rows:
            diagnostics = diagnostics.set_index(by_columns)
        errors = {o.name: o.error for o in outcomes if o.error is not None}
        posterior = None
        if fitted and fitted[0].posterior is not None:
            import xarray as xr

            names = pd.Index([o.name for o in fitted], name="dataset", tupleize_cols=False)
            posterior = xr.concat([o.posterior for o in fitted], dim=names, join="outer")
        return cls(summary, diagnostics, errors, posterior, seconds, executor)

    @property
    def n_datasets(self) -> int:
        return len(self.diagnostics) + len(self.errors)

    def _counts(self) -> list[tuple[str, str]]:
        fitted = len(self.diagnostics)
        ok = int(self.diagnostics["ok"].sum()) if fitted else 0
        rate = f"{self.n_datasets / self.seconds:.2f} datasets/s" if self.seconds > 0 else ""
        return [
            ("Datasets", f"{self.n_datasets}"),
            ("Fitted", f"{fitted} ({ok} without problems, {fitted - ok} with)"),
            ("Failed", f"{len(self.errors)}"),
            ("Ran on", f"{self.executor}, {self.seconds:.1f} s" + (f" ({rate})" if rate else "")),
        ]

    def __repr__(self) -> str:
        lines = ["ManyFits"] + [f"  {label:>8}: {value}" for label, value in self._counts()]
        for name, why in list(self.errors.items())[:3]:
            lines.append(f"  failed {name!r}: {why}")
        if not self.summary.empty:
            lines.append(self.summary.head(SHOWN_ROWS).to_string())
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        parts = [html.table(self._counts(), css_class="header")]
        if self.errors:
            parts.append(html.title("Failed"))
            rows = [(str(name), why) for name, why in self.errors.items()]
            parts.append(html.table(rows, ("dataset", "why"), css_class="errors"))
        if not self.summary.empty:
            parts.append(html.title(f"Summary (first {SHOWN_ROWS} of {len(self.summary)} rows)"))
            shown = self.summary.head(SHOWN_ROWS).display_frame()
            rows = [tuple(map(str, row)) for row in shown.itertuples(index=False)]
            parts.append(html.table(rows, tuple(map(str, shown.columns)), css_class="summary"))
        return html.fragment("bayesformula.ManyFits", parts, "bayesformula-many")


def _names(name, by_columns: list[str]) -> dict:
    values = name if isinstance(name, tuple) and len(by_columns) > 1 else (name,)
    return dict(zip(by_columns, values, strict=True))


def _named(table: pd.DataFrame, name, by_columns: list[str]) -> pd.DataFrame:
    for position, (column, value) in enumerate(_names(name, by_columns).items()):
        table.insert(position, column, [value] * len(table))
    return table
