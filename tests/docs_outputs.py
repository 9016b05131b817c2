"""Run the code of the documentation pages, check the output they show, or rewrite it.

The conventions (described for authors in README.md, "Documentation"):

- Every ```` ```python ```` block of a page runs, top to bottom, in one namespace per page: a
  page is a script. It runs in an empty temporary working directory, with matplotlib's Agg
  backend and numpy's and ``random``'s global seeds fixed.
- A ```` ```text ```` block that directly follows a ```` ```python ```` block (only blank lines
  between) shows what that block prints (its code's ``print`` calls). Warnings, log lines and
  progress bars are not part of it. Trailing spaces and blank lines at either end are ignored.
- A ```` ```console ```` block holds ``$ bayesformula ...`` commands; each runs as
  ``python -m bayesformula ...`` (the interpreter running the check) in the page's working
  directory, and the lines after a command, up to the next ``$``, are its standard output.
- ``<!-- docs: skip (reason) -->`` on the line before a block's opening fence (blank lines
  allowed between) leaves that block, and the output shown after it, unchecked. The reason is
  required; use it only for what cannot run offline or in CI (a remote cluster, a GPU, a
  command that is not ``bayesformula``).

Check every page, or some::

    python -m tests.docs_outputs [PAGE ...]

Rewrite the output blocks from what the code prints now (``make docs-outputs``)::

    python -m tests.docs_outputs --write [PAGE ...]

To show a new output, put an empty ```` ```text ```` block after the python block and run the
command above.
"""

from __future__ import annotations

import argparse
import builtins
import contextlib
import difflib
import io
import os
import random
import re
import shlex
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Pages whose code is executed elsewhere, with the reason; everything else in README.md and
#: docs/*.md runs here.
EXCLUDED = {
    "docs/errors.md": "its examples run in tests/test_errors_page.py",
}

RUN_LANGUAGES = ("python", "console")
OUTPUT_LANGUAGE = "text"
COMMAND = "bayesformula"
COMMAND_TIMEOUT_S = 600

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_MARKER = re.compile(r"^\s*<!--\s*docs:(?P<body>.*?)-->\s*$")
_SKIP = re.compile(r"^\s*skip\s*\((?P<reason>[^)]*\S[^)]*)\)\s*$")


class DocsPageError(ValueError):
    """A page that breaks the conventions (an unclosed fence, a malformed marker...)."""


@dataclass
class Block:
    """One fenced block: ``start`` and ``end`` are the 0-based lines of its fences."""

    language: str
    start: int
    end: int
    lines: list[str]
    skip: str | None = None
    output: Block | None = None

    @property
    def code(self) -> str:
        return "".join(line + "\n" for line in self.lines)


@dataclass
class Outcome:
    """What running one block gave: its standard output, or the error it raised."""

    block: Block
    stdout: str = ""
    error: str | None = None
    commands: list[tuple[Command, str]] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class PageRun:
    """The outcomes of a page's blocks, in order, up to the first that failed."""

    path: Path
    outcomes: list[Outcome]
    seconds: float

    @property
    def errors(self) -> list[str]:
        return [o.error for o in self.outcomes if o.error]


# --------------------------------------------------------------------------------- parsing
def pages() -> list[Path]:
    """README.md and every docs/*.md page, as paths relative to the repository root."""
    found = [Path("README.md"), *sorted(p.relative_to(ROOT) for p in (ROOT / "docs").glob("*.md"))]
    return [p for p in found if p.as_posix() not in EXCLUDED]


def parse(text: str, name: str = "<page>") -> list[Block]:
    """The fenced blocks of a Markdown page, with skip markers and output blocks attached."""
    lines = text.split("\n")
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, fence = match["indent"], match["fence"]
        language = match["info"].strip().split(" ")[0].lower() if match["info"].strip() else ""
        close = re.compile(rf"^ *{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        j = i + 1
        while j < len(lines) and not close.match(lines[j]):
            j += 1
        if j == len(lines):
            raise DocsPageError(f"{name}:{i + 1}: the block opened here is never closed")
        body = [
            line[len(indent) :] if line.startswith(indent) else line for line in lines[i + 1 : j]
        ]
        blocks.append(Block(language, i, j, body, skip=_skip_reason(lines, i, name)))
        i = j + 1
    _check_markers(lines, blocks, name)
    for before, after in zip(blocks, blocks[1:], strict=False):
        between = lines[before.end + 1 : after.start]
        if (
            before.language == "python"
            and after.language == OUTPUT_LANGUAGE
            and all(not line.strip() for line in between)
        ):
            before.output = after
    return blocks


def _skip_reason(lines: list[str], start: int, name: str) -> str | None:
    k = start - 1
    while k >= 0 and not lines[k].strip():
        k -= 1
    if k < 0:
        return None
    marker = _MARKER.match(lines[k])
    if not marker:
        return None
    skip = _SKIP.match(marker["body"])
    if not skip:
        raise DocsPageError(
            f"{name}:{k + 1}: unknown docs marker {lines[k].strip()!r}; the one marker is "
            "<!-- docs: skip (reason) -->"
        )
    return skip["reason"].strip()


def _check_markers(lines: list[str], blocks: list[Block], name: str) -> None:
    """Every docs marker must be followed by a block, or it would silently do nothing."""
    inside = {k for b in blocks for k in range(b.start, b.end + 1)}
    for k, line in enumerate(lines):
        if k in inside or not _MARKER.match(line):
            continue
        nxt = k + 1
        while nxt < len(lines) and not lines[nxt].strip():
            nxt += 1
        if not any(b.start == nxt for b in blocks):
            raise DocsPageError(f"{name}:{k + 1}: a docs marker must come right before a block")
        _skip_reason(lines, nxt, name)


def normalize(text: str) -> str:
    """Output as compared: trailing spaces and leading and trailing blank lines removed."""
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


# --------------------------------------------------------------------------------- running
def run_page(path: Path, workdir: Path | None = None) -> PageRun:
    """Run every block of ``path`` (a Markdown page) in order, in one namespace."""
    path = Path(path)
    full = path if path.is_absolute() else ROOT / path
    blocks = parse(full.read_text(encoding="utf-8"), str(path))
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="docs-")))
        stack.enter_context(_page_environment(workdir))
        namespace = {"__name__": "__main__", "__file__": str(full)}
        outcomes = []
        began = time.perf_counter()
        for block in blocks:
            if block.skip is not None or block.language not in RUN_LANGUAGES:
                continue
            if block.language == "python":
                outcome = _run_python(block, namespace, str(path))
            else:
                outcome = _run_console(block, workdir, str(path))
            outcomes.append(outcome)
            if outcome.error:
                break  # the page is a script: later blocks depend on this one
        return PageRun(path, outcomes, time.perf_counter() - began)


@contextlib.contextmanager
def _page_environment(workdir: Path):
    """Run a page in ``workdir`` with fixed global seeds; afterwards put back the working
    directory, the global random states and the registries a page may add to (families,
    links, samplers), and close its figures, so that pages do not affect each other or the
    tests that run after them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from bayesformula.families import FAMILIES, LINKS
    from bayesformula.samplers import SAMPLERS

    registries = [(registry, dict(registry)) for registry in (FAMILIES, LINKS, SAMPLERS)]
    states = random.getstate(), np.random.get_state()
    random.seed(0)
    np.random.seed(0)
    previous = Path.cwd()
    os.chdir(workdir)
    try:
        yield
    finally:
        os.chdir(previous)
        plt.close("all")
        random.setstate(states[0])
        np.random.set_state(states[1])
        for registry, saved in registries:
            registry.clear()
            registry.update(saved)


def _printer(buffer: io.StringIO):
    """The ``print`` a page's code sees: what it prints to standard output goes to ``buffer``.

    Only the code's own ``print`` calls are captured, not everything written to
    ``sys.stdout``: sampling progress bars (PyMC draws its on standard output) are a display,
    not output, and their timings differ from run to run.
    """

    def print(*values, sep=" ", end="\n", file=None, flush=False):  # noqa: A001
        if file is None or file is sys.stdout:
            file = buffer
        builtins.print(*values, sep=sep, end=end, file=file, flush=flush)

    return print


def _run_python(block: Block, namespace: dict, name: str) -> Outcome:
    # padding the code with the lines above it makes tracebacks point into the page
    code = compile("\n" * (block.start + 1) + block.code, name, "exec")
    buffer = io.StringIO()
    namespace["print"] = _printer(buffer)
    began = time.perf_counter()
    try:
        exec(code, namespace)
    except Exception as err:  # noqa: BLE001 - reported with the page's line
        # the traceback from the page's code on, without the runner's own frame
        trace = "".join(traceback.format_exception(type(err), err, err.__traceback__.tb_next))
        error = f"{name}:{block.start + 1}: the block raised\n{trace}"
        return Outcome(block, buffer.getvalue(), error, seconds=time.perf_counter() - began)
    return Outcome(block, buffer.getvalue(), seconds=time.perf_counter() - began)


@dataclass
class Command:
    """A ``$ command`` of a console block: its lines as written (a line ending in a backslash
    continues on the next) and the output lines shown after it."""

    source: list[str]
    shown: list[str]

    @property
    def text(self) -> str:
        return " ".join(line.removesuffix("\\").strip() for line in self.source)[2:]


def _commands(block: Block, name: str) -> list[Command]:
    """The commands of a console block, in order."""
    commands: list[Command] = []
    continued = False
    for k, line in enumerate(block.lines):
        if continued:
            commands[-1].source.append(line)
        elif line.startswith("$ "):
            commands.append(Command([line], []))
        elif commands:
            commands[-1].shown.append(line)
        elif line.strip():
            raise DocsPageError(
                f"{name}:{block.start + k + 2}: a console block starts with a '$ ' command"
            )
        continued = bool(commands) and not commands[-1].shown and line.endswith("\\")
    return commands


def _run_console(block: Block, workdir: Path, name: str) -> Outcome:
    outcome = Outcome(block)
    began = time.perf_counter()
    try:
        _run_commands(block, workdir, name, outcome)
    finally:
        outcome.seconds = time.perf_counter() - began
    return outcome


def _run_commands(block: Block, workdir: Path, name: str, outcome: Outcome) -> None:
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}
    for command in _commands(block, name):
        argv = shlex.split(command.text)
        if argv[0] != COMMAND:
            outcome.error = (
                f"{name}:{block.start + 1}: console blocks run only {COMMAND!r} commands; mark "
                f"this block <!-- docs: skip (reason) --> to show {argv[0]!r}"
            )
            return
        result = subprocess.run(
            [sys.executable, "-m", "bayesformula", *argv[1:]],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S,
        )
        outcome.commands.append((command, result.stdout))
        if result.returncode != 0:
            outcome.error = (
                f"{name}:{block.start + 1}: `{command.text}` exited with {result.returncode}\n"
                f"{result.stderr}"
            )
            return


# ------------------------------------------------------------------------------- comparing
def differences(run: PageRun) -> list[str]:
    """One unified diff per shown output that differs from what the code printed."""
    diffs = []
    for outcome in run.outcomes:
        block = outcome.block
        if outcome.error:
            continue
        if block.language == "python" and block.output is not None:
            shown = block.output.code
            where = f"{run.path}:{block.output.start + 1} (output of line {block.start + 1})"
            diffs += _diff(shown, outcome.stdout, where)
        elif block.language == "console":
            for command, printed in outcome.commands:
                where = f"{run.path}:{block.start + 1} (`$ {command.text}`)"
                diffs += _diff("\n".join(command.shown), printed, where)
    return diffs


def _diff(shown: str, printed: str, where: str) -> list[str]:
    a, b = normalize(shown).split("\n"), normalize(printed).split("\n")
    if a == b:
        return []
    diff = difflib.unified_diff(a, b, "shown in the page", "printed by the code", lineterm="")
    return [f"{where}: the output shown differs from what the code prints\n" + "\n".join(diff)]


def check_page(path: Path, workdir: Path | None = None) -> tuple[PageRun, list[str]]:
    """Run a page; return the run and its problems (errors first, then output diffs)."""
    run = run_page(path, workdir)
    return run, run.errors + differences(run)


def rewrite(run: PageRun) -> str:
    """The page's text with every output block replaced by what its code printed."""
    full = run.path if run.path.is_absolute() else ROOT / run.path
    lines = full.read_text(encoding="utf-8").split("\n")
    edits: list[tuple[int, int, list[str]]] = []
    for outcome in run.outcomes:
        block = outcome.block
        if outcome.error:
            continue
        if block.language == "python" and block.output is not None:
            new = normalize(outcome.stdout).split("\n") if normalize(outcome.stdout) else []
            edits.append((block.output.start + 1, block.output.end, new))
        elif block.language == "console":
            new = []
            for command, printed in outcome.commands:
                new += command.source
                if normalize(printed):
                    new += normalize(printed).split("\n")
            edits.append((block.start + 1, block.end, new))
    for begin, end, new in sorted(edits, reverse=True):
        indent = re.match(r" *", lines[begin - 1])[0]
        lines[begin:end] = [indent + line if line else line for line in new]
    return "\n".join(lines)


# ---------------------------------------------------------------------------- command line
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.docs_outputs",
        description="Run the documentation's code blocks and check (or --write) their output.",
    )
    parser.add_argument("pages", nargs="*", type=Path, help="pages (default: all)")
    parser.add_argument("--write", action="store_true", help="rewrite the output blocks")
    parser.add_argument("--times", action="store_true", help="print each block's seconds")
    args = parser.parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("BAYESFORMULA_COSTS", "off")  # as the test suite: see conftest.py
    failed = False
    total = 0.0
    for page in args.pages or pages():
        run, problems = check_page(page)
        total += run.seconds
        if args.times:
            for outcome in run.outcomes:
                print(f"  line {outcome.block.start + 1}: {outcome.seconds:.1f} s")
        if args.write and not run.errors:
            full = page if page.is_absolute() else ROOT / page
            old = full.read_text(encoding="utf-8")
            new = rewrite(run)
            if new != old:
                full.write_text(new, encoding="utf-8")
            status = "rewritten" if new != old else "unchanged"
            print(f"{page}: {status} ({run.seconds:.1f} s)")
            continue
        failed |= bool(problems)
        print(f"{page}: {'FAILED' if problems else 'ok'} ({run.seconds:.1f} s)")
        for problem in problems:
            print(problem, file=sys.stderr)
        if args.write:
            failed = True
    print(f"total {total:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
