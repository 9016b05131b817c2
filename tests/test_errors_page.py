"""The examples of docs/errors.md run as written and print what the page shows."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

PAGE = Path(__file__).resolve().parents[1] / "docs" / "errors.md"


def test_errors_page_examples_run_as_written(tmp_path):
    text = PAGE.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 2
    outputs = []
    for block in blocks:
        result = subprocess.run(
            [sys.executable, "-c", block], capture_output=True, text=True, cwd=tmp_path
        )
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout)
    # the first example's comment shows the message it prints
    shown = re.findall(r"^# (.*)$", blocks[0], re.M)
    assert " ".join(shown) == " ".join(outputs[0].split())
