"""The documentation site builds with ``mkdocs build --strict`` and renders the API reference."""

import html
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mkdocs")
pytest.importorskip("mkdocstrings_handlers.python")

import bayesformula as bf  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _text(page: Path) -> str:
    """The visible text of an HTML page, whitespace collapsed."""
    raw = re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8"))
    return " ".join(html.unescape(raw).split())


def test_docs_build_strict(tmp_path):
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr

    api = site / "api" / "index.html"
    assert api.exists()
    text = _text(api)
    assert "bayesformula.Model" in text
    # Bambi's spellings are public API too
    for name in ("set_priors", "response_component", "bayesformula.Likelihood", "InferenceMethods"):
        assert name in text, name
    summary = inspect.getdoc(bf.Model).splitlines()[0]
    summary = " ".join(summary.replace("``", "").split())
    assert summary in text
