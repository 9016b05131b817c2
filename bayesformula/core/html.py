"""Self-contained HTML fragments for notebooks (Jupyter, VS Code, marimo): tables with inline
styles, no scripts and no external assets, every text escaped."""

from __future__ import annotations

import html
from collections.abc import Sequence

__all__ = ["Section", "escape", "fragment", "table", "title"]

_CELL = "padding:2px 10px 2px 0;text-align:left;vertical-align:top"
_HEAD = f"{_CELL};font-weight:600"
_SECTION = "padding:6px 0 2px 0;text-align:left;font-style:italic;color:#555"


class Section(str):
    """A row of `table` that spans the table: a heading within it (already escaped)."""


def escape(text) -> str:
    return html.escape(str(text))


def title(text: str) -> str:
    """A heading above a table."""
    return f'<div style="font-weight:600;margin:8px 0 2px 0">{escape(text)}</div>'


def table(rows: Sequence, columns: Sequence[str] = (), css_class: str = "") -> str:
    """A table of ``rows`` (sequences of cells, or `Section` headings). With ``columns`` a
    header row names them; without, the first cell of each row is the row's label (bold)."""
    width = len(columns) or max((len(r) for r in rows if not isinstance(r, Section)), default=1)
    attribute = f' class="{escape(css_class)}"' if css_class else ""
    out = [f'<table{attribute} style="border-collapse:collapse;margin:0">']
    if columns:
        heads = "".join(f'<th style="{_HEAD}">{escape(c)}</th>' for c in columns)
        out.append(f"<tr>{heads}</tr>")
    for row in rows:
        if isinstance(row, Section):
            out.append(f'<tr><th colspan="{width}" style="{_SECTION}">{row}</th></tr>')
            continue
        cells = [
            f'<td style="{_HEAD if i == 0 and not columns else _CELL}">{escape(c)}</td>'
            for i, c in enumerate(row)
        ]
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def fragment(heading: str, parts: Sequence[str], css_class: str) -> str:
    """The parts under a heading, in one ``<div class=css_class>``."""
    return "\n".join(
        [
            f'<div class="{escape(css_class)}" style="font-family:sans-serif;font-size:13px">',
            f'<div style="font-weight:600;margin-bottom:4px">{escape(heading)}</div>',
            *parts,
            "</div>",
        ]
    )
