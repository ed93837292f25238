"""The Python examples of README.md and of every page under docs/ run as written, so they
cannot rot.

The convention, for whoever writes a page:

- Every ```` ```python ```` block is a program of its own: it imports what it uses and runs
  in a fresh namespace, in a scratch folder of its own (so ``sqlite:///books.db`` is a new
  file there). No block can see another block's names or files.
- A page that builds something up step by step (the tutorial) marks a block that goes on
  from the one before it with the line ``<!-- continued -->`` right above its fence. The
  blocks of such a sequence run in order, in one namespace and one scratch folder, as one
  test. The marker is an HTML comment: the rendered page does not show it.
- An example a reader may paste into their own folder must be safe there: a single block
  that leaves a file behind is run a second time in the same folder and must pass again
  (keys make chain steps idempotent), and no two examples may name the same SQLite file
  (the README's ``gifts.db`` is the README's alone), so running one page's example beside
  another's cannot collide. A sequence asserts the state after each step, so it runs once;
  its page says to start in an empty folder.
- A page may spell out a file an example reads (a TOML economy) in a block of its own
  language with the line ``<!-- file: NAME -->`` right above its fence: the file is written
  into the scratch folder of the next example before it runs.
- After a run every ``Ledger`` the example left open in a variable must ``verify()``; a
  ledger called ``book`` must hold at least one entry.
"""

from __future__ import annotations

import linecache
import re
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

import giftledger as gl

ROOT = Path(__file__).resolve().parents[1]
PAGES = [
    ROOT / "README.md",
    *sorted(p for p in (ROOT / "docs").rglob("*.md") if "_hooks" not in p.parts),
]
CONTINUED = "<!-- continued -->"
_FILE = re.compile(r"<!-- file: (?P<name>[\w.-]+) -->")
_FENCE = re.compile(r"(?P<before>[^\n]*)\n+```(?P<lang>[\w-]*)[^\n]*\n(?P<code>.*?)```", re.S)
_SQLITE_FILE = re.compile(r"sqlite:///([^\"'\s?]+)")

Run = tuple[str, list[str], dict[str, str]]  # where, the blocks, files to write first


def _name(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


def runs_in(text: str, name: str) -> list[Run]:
    """A page's examples as runs: a block alone, or a block and those continuing it,
    with the files the blocks before them spell out."""
    runs: list[Run] = []
    files: dict[str, str] = {}
    i = -1
    for match in _FENCE.finditer("\n" + text):
        before = match["before"].strip()
        if match["lang"] != "python":
            if file := _FILE.fullmatch(before):
                files[file["name"]] = match["code"]
            continue
        i += 1
        if before == CONTINUED:
            if not runs:
                raise AssertionError(f"{name}: block {i} continues nothing")
            where, blocks, given = runs[-1]
            runs[-1] = (f"{where.rsplit('-', 1)[0]}-{i}", [*blocks, match["code"]], given | files)
        else:
            runs.append((f"{name} example {i}", [match["code"]], files))
        files = {}
    if files:
        raise AssertionError(f"{name}: {sorted(files)} spelled out, but no example follows")
    return runs


RUNS = [run for page in PAGES for run in runs_in(page.read_text("utf-8"), _name(page))]


def _run(where: str, blocks: list[str]) -> None:
    namespace: dict[str, object] = {"__name__": re.sub(r"\W", "_", where)}
    try:
        for i, block in enumerate(blocks):
            filename = f"{where} (block {i + 1} of {len(blocks)})"
            # A failing line shows in the traceback, as it would from a file.
            linecache.cache[filename] = (len(block), None, block.splitlines(True), filename)
            exec(compile(block, filename, "exec"), namespace)
        for name, value in namespace.items():
            if isinstance(value, gl.Ledger):
                try:
                    checked = value.verify()
                except (gl.StoreError, sqlite3.ProgrammingError) as exc:
                    # Closed by the example (a with block, close()). A closed SQLite store
                    # still answers with sqlite3's own error, not a StoreError.
                    if "closed" not in str(exc):
                        raise
                    continue
                assert checked > 0 or name != "book", f"{where}: book holds no entries"
    finally:
        for value in namespace.values():
            if isinstance(value, gl.Ledger):
                value.close()


def test_the_readme_and_the_tutorial_have_examples() -> None:
    names = Counter(where.split(" example")[0] for where, _, _ in RUNS)
    assert names["README.md"] >= 2
    assert names["docs/tutorial.md"] >= 1


@pytest.mark.parametrize(("where", "blocks", "files"), RUNS, ids=[w for w, _, _ in RUNS])
def test_example_runs(
    where: str,
    blocks: list[str],
    files: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)  # sqlite:///books.db lands in the scratch folder
    for name, content in files.items():
        (tmp_path / name).write_text(content, "utf-8")
    _run(where, blocks)
    if len(blocks) == 1 and set(tmp_path.iterdir()) - {tmp_path / n for n in files}:
        _run(where, blocks)  # it left a file behind: a reader may well run it twice


def test_no_two_examples_share_a_sqlite_file() -> None:
    users: dict[str, set[str]] = {}
    for where, blocks, _ in RUNS:
        for block in blocks:
            for name in _SQLITE_FILE.findall(block):
                users.setdefault(name, set()).add(where)
    shared = {name: sorted(runs) for name, runs in users.items() if len(runs) > 1}
    assert not shared, f"examples that would write into one file: {shared}"


def test_a_continued_block_joins_the_run_before_it() -> None:
    page = (
        "```python\nx = 1\n```\n\n<!-- continued -->\n```python\nassert x == 1\n```\n"
        "\n```python\ny = 2\n```\n<!-- continued -->\n\n```python\ny += 1\n```\n"
        "<!-- continued -->\n```python\nassert y == 3\n```\n"
    )
    assert runs_in(page, "p.md") == [
        ("p.md example 0-1", ["x = 1\n", "assert x == 1\n"], {}),
        ("p.md example 2-4", ["y = 2\n", "y += 1\n", "assert y == 3\n"], {}),
    ]
    with pytest.raises(AssertionError, match="continues nothing"):
        runs_in("<!-- continued -->\n```python\nx = 1\n```\n", "q.md")


def test_a_spelled_out_file_goes_to_the_next_example() -> None:
    page = (
        "```toml\na = 1\n```\n\n<!-- file: my.toml -->\n```toml\nname = 'x'\n```\n\n"
        "```python\nopen('my.toml')\n```\n\n```python\nz = 0\n```\n"
    )
    assert runs_in(page, "p.md") == [
        ("p.md example 0", ["open('my.toml')\n"], {"my.toml": "name = 'x'\n"}),
        ("p.md example 1", ["z = 0\n"], {}),
    ]
    with pytest.raises(AssertionError, match="no example follows"):
        runs_in("<!-- file: a.toml -->\n```toml\nx = 1\n```\n", "q.md")
