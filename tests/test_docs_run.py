"""README.md and docs/*.md run as written and print what they show.

Each page's code blocks run top to bottom in one namespace, in a temporary working directory;
an output block shown after a block must equal what the block prints. The conventions and the
runner are in tests/docs_outputs.py; ``make docs-outputs`` rewrites the shown outputs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests import docs_outputs
from tests.conftest import _SAMPLES
from tests.docs_outputs import ROOT, DocsPageError, check_page, parse, rewrite, run_page

REGENERATE = "If the code's output is the right one, `make docs-outputs` rewrites the page."


def _page_param(page: Path):
    """A page, marked slow when its code samples (the pattern conftest.py marks tests by) or it
    runs commands."""
    try:
        blocks = parse((ROOT / page).read_text(encoding="utf-8"), str(page))
    except DocsPageError:
        blocks = []  # the test itself reports the page's error
    slow = any(
        (b.language == "python" and _SAMPLES.search(b.code)) or b.language == "console"
        for b in blocks
        if b.skip is None
    )
    return pytest.param(page, id=page.as_posix(), marks=[pytest.mark.slow] if slow else [])


@pytest.mark.parametrize("page", [_page_param(p) for p in docs_outputs.pages()])
def test_page_runs_and_prints_what_it_shows(page, tmp_path):
    run, problems = check_page(page, tmp_path)
    assert not problems, "\n\n".join([*problems, REGENERATE])


def test_every_page_is_checked_here_or_elsewhere():
    pages = {p.as_posix() for p in docs_outputs.pages()}
    every = {"README.md", *(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))}
    assert pages | set(docs_outputs.EXCLUDED) == every
    for page in docs_outputs.EXCLUDED:
        assert (ROOT / page).exists(), page
    assert (ROOT / "tests" / "test_errors_page.py").exists()


# ------------------------------------------------------------------ the checker can fail
def _edit_first_shown_digit(text: str) -> tuple[str, str, str]:
    """``text`` with one digit changed in the first output block; the line before and after."""
    blocks = parse(text)
    shown = next(b.output for b in blocks if b.language == "python" and b.output is not None)
    lines = text.split("\n")
    for k in range(shown.start + 1, shown.end):
        match = re.search(r"\d", lines[k])
        if match:
            i = match.start()
            digit = str((int(lines[k][i]) + 1) % 10)
            before = lines[k]
            lines[k] = before[:i] + digit + before[i + 1 :]
            return "\n".join(lines), before, lines[k]
    raise AssertionError("the first output block shows no number")


def test_a_page_edited_to_show_another_number_fails(tmp_path):
    # priors.md prints models and prior tables: no sampling, so this runs in the fast loop
    copy = tmp_path / "priors.md"
    text, before, after = _edit_first_shown_digit(
        (ROOT / "docs" / "priors.md").read_text(encoding="utf-8")
    )
    copy.write_text(text, encoding="utf-8")
    workdir = tmp_path / "work"
    workdir.mkdir()

    run, problems = check_page(copy, workdir)

    assert not run.errors
    assert len(problems) == 1
    assert f"-{after.rstrip()}" in problems[0]
    assert f"+{before.rstrip()}" in problems[0]
    # and rewriting the page from the run restores the number
    assert f"\n{before}\n" in rewrite(run)


def _page(tmp_path: Path, text: str) -> Path:
    page = tmp_path / "page.md"
    page.write_text(text, encoding="utf-8")
    (tmp_path / "work").mkdir(exist_ok=True)
    return page


def test_output_blocks_are_compared_and_rewritten(tmp_path):
    page = _page(
        tmp_path,
        "Text.\n\n```python\nx = 6 * 7\nprint(x)\n```\n\n```text\n41\n```\n\n"
        "```python\nprint(x + 1)   # no output block: not compared\n```\n",
    )
    run, problems = check_page(page, tmp_path / "work")
    assert len(problems) == 1 and "-41" in problems[0] and "+42" in problems[0]

    page.write_text(rewrite(run), encoding="utf-8")
    assert "```text\n42\n```" in page.read_text(encoding="utf-8")
    assert check_page(page, tmp_path / "work")[1] == []


def test_blocks_share_a_namespace_and_a_working_directory(tmp_path):
    page = _page(
        tmp_path,
        "```python\nopen('a.txt', 'w').write('x')\nn = 1\n```\n\n"
        "```python\nimport os\nprint(n, os.path.exists('a.txt'))\n```\n\n```text\n1 True\n```\n",
    )
    assert check_page(page, tmp_path / "work")[1] == []
    assert (tmp_path / "work" / "a.txt").exists()
    assert not (ROOT / "a.txt").exists()


def test_a_failing_block_fails_with_the_page_line(tmp_path):
    page = _page(tmp_path, "# T\n\n```python\nx = 1\nundefined_name\n```\n")
    _, problems = check_page(page, tmp_path / "work")
    assert len(problems) == 1
    assert "NameError" in problems[0] and 'page.md", line 5' in problems[0]


def test_skip_marker_needs_a_reason_and_a_block(tmp_path):
    skipped = "<!-- docs: skip (needs a cluster) -->\n```python\nraise SystemExit(1)\n```\n"
    assert check_page(_page(tmp_path, skipped), tmp_path / "work")[1] == []
    for bad in (
        "<!-- docs: skip -->\n```python\nx = 1\n```\n",
        "<!-- docs: skp (typo) -->\n```python\nx = 1\n```\n",
        "<!-- docs: skip (nothing follows) -->\n\nText.\n",
        "```python\nx = 1\n",
    ):
        with pytest.raises(DocsPageError):
            run_page(_page(tmp_path, bad), tmp_path / "work")


def test_console_blocks_run_only_bayesformula(tmp_path):
    page = _page(tmp_path, "```console\n$ rm -rf /tmp/nothing\n```\n")
    _, problems = check_page(page, tmp_path / "work")
    assert len(problems) == 1 and "docs: skip" in problems[0]
    assert parse("```console\n$ a \\\n  b\nout\n```\n")[0].lines == ["$ a \\", "  b", "out"]
    [command] = docs_outputs._commands(parse("```console\n$ a \\\n  b\nout\n```\n")[0], "p")
    assert command.text == "a b" and command.shown == ["out"]


def test_a_page_leaves_no_registrations_behind(tmp_path):
    from bayesformula.families import FAMILIES
    from bayesformula.samplers import SAMPLERS

    page = _page(
        tmp_path,
        "```python\nimport dataclasses\nimport bayesformula as bf\n\n"
        "gaussian = bf.get_family('gaussian')\n"
        "bf.register_family(dataclasses.replace(gaussian, name='docs_page_family'))\n"
        "bf.register_sampler('docs_page_sampler', lambda: None)\n```\n",
    )
    families, samplers = set(FAMILIES), set(SAMPLERS)
    assert check_page(page, tmp_path / "work")[1] == []
    assert set(FAMILIES) == families and set(SAMPLERS) == samplers


def test_blocks_inside_lists_and_admonitions_run(tmp_path):
    page = _page(
        tmp_path,
        "!!! note\n\n    ```python\n    print(1 + 1)\n    ```\n\n    ```text\n    3\n    ```\n",
    )
    run, problems = check_page(page, tmp_path / "work")
    assert len(problems) == 1 and "+2" in problems[0]
    assert "    ```text\n    2\n    ```" in rewrite(run)
