"""docs/plots.md: its Python blocks run top to bottom as one script."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

PAGE = Path(__file__).resolve().parents[2] / "docs" / "plots.md"


def python_blocks(text: str) -> list[str]:
    """The code of every fenced ```python block, in page order."""
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


@pytest.mark.slow
def test_plots_page_blocks_run_in_one_namespace(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the page saves figures to the working directory
    blocks = python_blocks(PAGE.read_text(encoding="utf-8"))
    assert len(blocks) >= 6
    namespace: dict = {"__name__": "docs_plots"}
    for number, block in enumerate(blocks, start=1):
        code = compile(block, f"{PAGE.name}, python block {number}", "exec")
        exec(code, namespace)  # noqa: S102 - the page's own examples
        plt.close("all")
    assert (tmp_path / "priors.png").stat().st_size > 3_000
    ax = namespace["fig"].axes[0]
    assert ax.get_ylabel() == "seizures (psi: P(not an extra zero))"
