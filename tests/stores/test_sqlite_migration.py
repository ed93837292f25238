"""A SQLite file written by an earlier giftledger opens, migrates and answers as before.

``tests/fixtures/sqlite_v1.db`` was written in schema version 1 (see
``tests/fixtures/make_sqlite_v1.py``), with what that giftledger answered about
it in ``sqlite_v1.json``. Each test works on a copy: opening migrates the file.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from moneyed import Money

import giftledger as gl
from giftledger._stores import sqlite as glsqlite

from ..fixtures.make_sqlite_v1 import answers
from .helpers import holds_from_every_account, journaled_definitions

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture
def v1_file(tmp_path: Path) -> Path:
    path = tmp_path / "v1.db"
    shutil.copyfile(FIXTURES / "sqlite_v1.db", path)
    return path


def _version(path: Path) -> str:
    db = sqlite3.connect(path)
    try:
        return str(db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0])
    finally:
        db.close()


def _clock_after(book: gl.Ledger, delay: timedelta = timedelta(hours=1)) -> gl.ManualClock:
    last = book.transaction(book.head[0])
    return gl.ManualClock(last.recorded_at + delay)


def test_a_version_1_file_migrates_and_answers_exactly_as_before(v1_file: Path) -> None:
    assert _version(v1_file) == "1"
    expected = json.loads((FIXTURES / "sqlite_v1.json").read_text())
    with gl.Ledger.open(f"sqlite:///{v1_file}") as book:
        gl.GiftEconomy.from_ledger(book)  # registers the economy's units
        # The clock the fixture was written with stood at its last entry: a pending
        # hold's expiry counts against that time.
        clock = _clock_after(book, timedelta(0))
    assert _version(v1_file) == str(glsqlite.SCHEMA_VERSION)
    with gl.Ledger.open(f"sqlite:///{v1_file}", clock=clock) as book:
        assert json.loads(json.dumps(answers(book))) == expected


def test_the_chain_on_a_migrated_file_verifies_and_goes_on(v1_file: Path) -> None:
    with gl.Ledger.open(f"sqlite:///{v1_file}") as book:
        clock = _clock_after(book)
    with gl.Ledger.open(f"sqlite:///{v1_file}", clock=clock) as book:
        app = gl.GiftEconomy.from_ledger(book)
        entries = app.verify()
        accounts = len(book.accounts())
        before = book.balance("creators:bob:diamonds")
        app.send_gift("carol", "bob", "Rose", key="after-migration")
        assert book.balance("creators:bob:diamonds") > before
        # The first write journals the book's definitions, then the gift's entry.
        defined = journaled_definitions(book, entries + 1, accounts)
        assert app.verify() == entries + defined + 1


def test_past_balances_on_a_migrated_file_count_old_and_new_back_dated_entries(
    v1_file: Path,
) -> None:
    with gl.Ledger.open(f"sqlite:///{v1_file}") as book:
        clock = _clock_after(book)
    with gl.Ledger.open(f"sqlite:///{v1_file}", clock=clock) as book:
        # The fixture back-dated 3.50 to three days before its start and 1.00 to ten.
        late = book.transaction(book.find("late").id).effective_at  # type: ignore[union-attr]
        before = {t: book.balance("ops:tips", at=t) for t in (late, late - timedelta(days=1))}
        book.transfer("ops:equity", "ops:tips", "0.25", effective_at=late - timedelta(hours=1))
        assert book.balance("ops:tips", at=late) == before[late] + Money("0.25", "USD")
        assert (
            book.balance("ops:tips", at=late - timedelta(days=1))
            == before[late - timedelta(days=1)]
        )
        head = book.head[0]
        assert book.balance("ops:tips", at=late, recorded_through=head - 1) == before[late]
        assert book.trial_balance().is_balanced
        assert book.verify() == head


def test_a_version_4_file_gets_the_holds_by_account_and_answers_as_before(
    v1_file: Path,
) -> None:
    """Version 5 indexes the holds by account and id (an account's holds from an entry
    on: a withdrawal's caps); a version 4 file gets the indexes and its holds answer as
    before."""
    db = sqlite3.connect(v1_file, isolation_level=None)
    assert glsqlite.migrate(db, glsqlite.MIGRATIONS[:4]) == 4
    index = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'holds'"
    assert "holds_debit_id" not in {row[0] for row in db.execute(index)}
    db.close()
    with gl.Ledger.open(f"sqlite:///{v1_file}") as book:
        assert _version(v1_file) == str(glsqlite.SCHEMA_VERSION) == "5"
        holds_from_every_account(book)
        book.verify()
    with sqlite3.connect(v1_file) as db:
        names = {row[0] for row in db.execute(index)}
    assert {"holds_debit_id", "holds_credit_id"} <= names
