"""``giftledger export`` and ``giftledger import``: the demo's books to a file and back,
refusals that name the line, and nothing written or left behind on any error."""

from __future__ import annotations

import csv
import json
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import giftledger as gl
from giftledger.cli import _common, exports

from .conftest import Invoke, assert_one_error_line, snapshot
from .test_proofs import DEMO


def _balances(invoke: Invoke, ledger: str) -> list[dict[str, object]]:
    result = invoke("balances", "--json", "--ledger", ledger)
    assert result.exit_code == 0, result.stderr
    rows: list[dict[str, object]] = json.loads(result.stdout)["balances"]
    return rows


def _head(workdir: Path) -> str:
    with gl.Ledger.open(f"sqlite:///{workdir / 'giftledger-demo.db'}") as book:
        return book.head[1]


def test_jsonl_export_imports_into_a_new_file_with_the_same_balances(
    workdir: Path, invoke: Invoke
) -> None:
    before = snapshot(workdir)
    result = invoke("export", "--format", "jsonl", "books.jsonl")
    assert result.exit_code == 0, result.stderr
    head = _head(workdir)
    assert f"head hash: {head}" in result.stdout
    assert set(snapshot(workdir)) == {*before, "books.jsonl"}  # the ledger is only read
    assert {k: v for k, v in snapshot(workdir).items() if k in before} == before
    header = json.loads((workdir / "books.jsonl").read_text().splitlines()[0])
    assert header["head"] == head

    done = invoke("import", "books.jsonl", "--ledger", "copy.db", "--expect-head", head)
    assert done.exit_code == 0, done.stderr
    assert f"head hash: {head}" in done.stdout
    assert _balances(invoke, "copy.db") == _balances(invoke, "giftledger-demo.db")
    assert invoke("verify", "--ledger", "copy.db").exit_code == 0
    statement = ("statement", "bob", "--json", "--ledger")
    assert invoke(*statement, "copy.db").stdout == invoke(*statement, "giftledger-demo.db").stdout
    # No temporary file is left beside either output.
    assert sorted(p.name for p in workdir.iterdir()) == [
        "books.jsonl",
        "copy.db",
        "giftledger-demo.db",
    ]


def test_the_format_follows_the_suffix(workdir: Path, invoke: Invoke) -> None:
    assert invoke("export", "books.csv").exit_code == 0
    with (workdir / "books.csv").open(newline="", encoding="utf-8") as f:
        csv.field_size_limit(10**7)
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == list(gl.CSV_COLUMNS)
    assert max(int(r["entry_id"]) for r in rows) == DEMO
    assert invoke("export", "books.jsonl").exit_code == 0
    assert (workdir / "books.jsonl").read_text().startswith('{"type":"header"')
    assert_one_error_line(invoke("export", "books.txt"), "--format")


def test_beancount_export_passes_beancounts_loader(workdir: Path, invoke: Invoke) -> None:
    from beancount import loader
    from beancount.core import data

    result = invoke("export", "--format", "beancount", "books.beancount")
    assert result.exit_code == 0, result.stderr
    entries, errors, _ = loader.load_file(str(workdir / "books.beancount"))
    assert errors == []
    asserted = [e for e in entries if isinstance(e, data.Balance)]
    with gl.Ledger.open(f"sqlite:///{workdir / 'giftledger-demo.db'}") as book:
        _ = gl.GiftEconomy.from_ledger(book)
        accounts = book.balances("")
    # The file asserts every account's balance, and the loader checked every one.
    assert len(asserted) == len(accounts)
    assert {e.account for e in entries if isinstance(e, data.Open)} == {e.account for e in asserted}


def test_an_existing_file_is_refused_unless_force(workdir: Path, invoke: Invoke) -> None:
    (workdir / "books.jsonl").write_text("mine")
    before = snapshot(workdir)
    assert_one_error_line(invoke("export", "books.jsonl"), "books.jsonl", "--force")
    assert snapshot(workdir) == before
    result = invoke("export", "books.jsonl", "--force")
    assert result.exit_code == 0, result.stderr
    assert (workdir / "books.jsonl").read_text().startswith('{"type":"header"')


def test_a_file_that_appears_while_exporting_is_not_replaced(
    workdir: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = exports.WRITERS["jsonl"]

    def racing(book: gl.Ledger, out: Path, **kw: object) -> int:
        (workdir / "books.jsonl").write_text("someone else's")
        return real(book, out, **kw)

    monkeypatch.setitem(exports.WRITERS, "jsonl", racing)
    assert_one_error_line(invoke("export", "books.jsonl"), "exists")
    assert (workdir / "books.jsonl").read_text() == "someone else's"
    assert sorted(p.name for p in workdir.iterdir()) == ["books.jsonl", "giftledger-demo.db"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["export", "out.jsonl", "--ledger", "missing.db"], ["missing.db", "does not exist"]),
        (["export", "out.jsonl", "--ledger", "notes.txt"], ["not a giftledger ledger"]),
        (["export", "no/such/dir/out.jsonl"], ["does not exist"]),
        (["export", "."], ["is a folder"]),
        (["export", "out.jsonl", "--format", "xml"], ["xml"]),
        (["import", "gone.jsonl", "--ledger", "copy.db"], ["gone.jsonl"]),
        (["import", "notes.txt", "--ledger", "copy.db"], ["line 1"]),
        (["import", "books.jsonl", "--ledger", "giftledger-demo.db"], ["not empty"]),
        (["import", "books.jsonl", "--ledger", "notes.txt"], ["not a giftledger ledger"]),
        (["import", "books.jsonl", "--ledger", "no/dir/copy.db"], ["does not exist"]),
        (["import", "books.jsonl", "--ledger", "copy.db", "--expect-head", "abc"], ["abc"]),
        (["import", "books.jsonl", "--ledger", "copy.db", "--expect-head", "a" * 64], ["aaaa"]),
        (["import", "books.jsonl"], ["--ledger"]),
    ],
)
def test_bad_arguments_are_one_line_and_write_nothing(
    workdir: Path, invoke: Invoke, args: list[str], words: list[str]
) -> None:
    assert invoke("export", "books.jsonl").exit_code == 0
    (workdir / "notes.txt").write_text("not a ledger")
    before = snapshot(workdir)
    assert_one_error_line(invoke(*args), *words)
    assert snapshot(workdir) == before


def _edit_one_byte(text: str) -> tuple[str, int]:
    """The export with the last digit of the first USD posting's amount changed, and its
    line number."""
    lines = text.split("\n")
    for n, line in enumerate(lines):
        found = re.search(r'"debit",\d*(\d),"USD"', line)
        if found is not None:
            at = found.start(1)
            digit = str((int(line[at]) + 1) % 10)
            lines[n] = line[:at] + digit + line[at + 1 :]
            return "\n".join(lines), n + 1
    raise AssertionError("no USD posting in the export")


def test_a_one_byte_edit_is_refused_naming_the_line_and_leaves_nothing(
    workdir: Path, invoke: Invoke
) -> None:
    assert invoke("export", "books.jsonl").exit_code == 0
    original = (workdir / "books.jsonl").read_text()
    edited, line = _edit_one_byte(original)
    assert sum(a != b for a, b in zip(original, edited, strict=True)) == 1
    (workdir / "edited.jsonl").write_text(edited)
    before = snapshot(workdir)
    result = invoke("import", "edited.jsonl", "--ledger", "copy.db")
    assert_one_error_line(result, "edited.jsonl", f"line {line}")
    assert snapshot(workdir) == before  # no copy.db, no temporary file, no -wal
    # The same into an empty ledger that exists: it stays empty.
    with gl.Ledger.open(f"sqlite:///{workdir / 'empty.db'}"):
        pass
    before = snapshot(workdir)
    assert_one_error_line(invoke("import", "edited.jsonl", "--ledger", "empty.db"), f"line {line}")
    assert snapshot(workdir) == before
    with gl.Ledger.open(f"sqlite:///{workdir / 'empty.db'}") as book:
        assert book.head[0] == 0
    assert invoke("import", "books.jsonl", "--ledger", "empty.db").exit_code == 0


def test_import_into_memory_checks_an_export(workdir: Path, invoke: Invoke) -> None:
    assert invoke("export", "books.jsonl").exit_code == 0
    before = snapshot(workdir)
    result = invoke("import", "books.jsonl", "--ledger", "memory:")
    assert result.exit_code == 0, result.stderr
    assert f"{DEMO} entries restored" in result.stdout
    assert snapshot(workdir) == before


def test_new_files_get_the_usual_mode(workdir: Path, invoke: Invoke) -> None:
    assert invoke("export", "books.jsonl").exit_code == 0
    assert invoke("import", "books.jsonl", "--ledger", "copy.db").exit_code == 0
    want = _common.new_file_mode()
    assert (workdir / "books.jsonl").stat().st_mode & 0o777 == want
    assert (workdir / "copy.db").stat().st_mode & 0o777 == want


def test_export_and_import_report_progress(
    workdir: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, int, int]] = []

    @contextmanager
    def recording(label: str) -> Iterator[Callable[[int, int], None]]:
        yield lambda done, total: seen.append((label, done, total))

    monkeypatch.setattr(exports, "progress_bar", recording)
    assert invoke("export", "books.jsonl").exit_code == 0
    assert invoke("import", "books.jsonl", "--ledger", "copy.db").exit_code == 0
    assert seen == [("exporting jsonl", DEMO, DEMO), ("importing", DEMO, DEMO)]


def test_the_progress_bar_is_only_for_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    with _common.progress_bar("x") as none:
        assert none is None  # pytest's stderr is no terminal
    monkeypatch.setattr(_common, "stderr_is_tty", lambda: True)
    with _common.progress_bar("x") as update:
        assert update is not None
        update(5, 10)


def test_a_sqlite_file_with_a_wal_is_restored_whole(workdir: Path, invoke: Invoke) -> None:
    assert invoke("export", "books.jsonl").exit_code == 0
    assert invoke("import", "books.jsonl", "--ledger", "copy.db").exit_code == 0
    assert not (workdir / "copy.db-wal").exists()
    db = sqlite3.connect(f"file:{workdir / 'copy.db'}?mode=ro", uri=True)
    try:
        assert db.execute("SELECT count(*) FROM transactions").fetchone() == (DEMO,)
    finally:
        db.close()
