"""A real headless browser for tests of HTML output: Chromium renders a page, reports the
layout a script measured in it and takes a screenshot.

Tests that need it skip when no browser is installed, with the reason, unless
``BAYESFORMULA_REQUIRE_BROWSER=1`` (set by ``.ci/run``, which installs Debian's chromium): then
a missing browser is a failure, so CI always runs them.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

#: The flags of a headless, offline run as root in a container: no sandbox, no GPU, no
#: network (the machine's closed network would refuse every background connection).
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)

#: Measures every element with a ``data-measure`` attribute once the page has loaded and
#: writes the result as JSON into ``<pre id="layout">``, which ``--dump-dom`` then shows.
MEASURE = """
<script>
window.addEventListener("load", () => {
  const box = (el) => { const r = el.getBoundingClientRect();
    return {left: r.left, top: r.top, right: r.right, bottom: r.bottom}; };
  const out = {};
  for (const el of document.querySelectorAll("[data-measure]")) {
    const tables = [...el.querySelectorAll("table")].map((t) => ({
      box: box(t),
      className: t.className,
      overflows: t.scrollWidth > el.clientWidth,
      rows: [...t.rows].map((row) => [...row.cells].map((cell) => ({
        text: cell.innerText, box: box(cell),
        clipped: cell.scrollWidth > cell.clientWidth + 1,
        bold: parseInt(getComputedStyle(cell).fontWeight) >= 600,
      }))),
    }));
    out[el.dataset.measure] = {box: box(el), width: el.clientWidth,
                               text: el.innerText, tables: tables};
  }
  document.getElementById("layout").textContent = JSON.stringify(out);
});
</script>
"""


def find_browser() -> str | None:
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def browser() -> str:
    """The browser's path; skips the test (fails it under ``BAYESFORMULA_REQUIRE_BROWSER``)
    when there is none."""
    path = find_browser()
    if path is None:
        why = (
            "no headless browser installed (looked for "
            + ", ".join(CANDIDATES)
            + "); `apt-get install chromium` runs these tests"
        )
        if os.environ.get("BAYESFORMULA_REQUIRE_BROWSER") == "1":
            pytest.fail(why + ", and BAYESFORMULA_REQUIRE_BROWSER=1 requires it")
        pytest.skip(why)
    return path


def notebook_page(cells: dict[str, str], width: int = 900) -> str:
    """A page laid out like a notebook's output area: each cell's HTML in its own box of
    ``width`` pixels, measured by `MEASURE`."""
    body = "\n".join(
        f'<div class="output" data-measure="{html.escape(name)}" '
        f'style="width:{width}px;margin:12px 16px;overflow-x:auto">{fragment}</div>'
        for name, fragment in cells.items()
    )
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head>'
        f'<body style="margin:0;background:#fff">{body}'
        f'<pre id="layout" style="display:none"></pre>{MEASURE}'
        "</body></html>"
    )


def render(page: str, screenshot: Path, size: tuple[int, int] = (1000, 1600)) -> dict:
    """Render ``page`` in the browser: the layout `MEASURE` found, and a PNG screenshot of
    the window written to ``screenshot``."""
    path = browser()
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "page.html"
        source.write_text(page, encoding="utf-8")
        common = [
            path,
            *FLAGS,
            f"--user-data-dir={tmp}/profile",
            f"--window-size={size[0]},{size[1]}",
        ]
        dom = _run([*common, "--virtual-time-budget=2000", "--dump-dom", source.as_uri()])
        _run([*common, f"--screenshot={screenshot}", source.as_uri()])
    found = re.search(r'<pre id="layout"[^>]*>(.*?)</pre>', dom, re.S)
    assert found and found.group(1), "the page's layout script did not run:\n" + dom[-2000:]
    return json.loads(html.unescape(found.group(1)))


def _run(command: list[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"{command[0]} failed ({done.returncode}):\n{done.stderr[-3000:]}"
    return done.stdout
