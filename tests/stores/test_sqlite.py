"""The SQLite store's own promises: durability settings, append-only triggers, schema versions."""

from __future__ import annotations

import sqlite3
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import giftledger as gl
from giftledger._stores import sqlite as glsqlite

from .helpers import Alarm, a_torn_write_is_not_read, interrupted_at


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "book.db"


#: The ids of the ``book`` fixture's transfer and hold, after the ACCOUNT entries of
#: mint (1) and alice (2).
TRANSFER, HOLD = 3, 4


@pytest.fixture
def book(path: Path, clock: gl.ManualClock) -> Iterator[gl.Ledger]:
    with gl.Ledger.open(f"sqlite:///{path}", clock=clock) as book:
        book.open_account("mint", "USD", rule=gl.BalanceRule.unrestricted())
        book.open_account("alice", "USD", normal="credit")
        assert book.transfer("mint", "alice", "10.00", key="k1").id == TRANSFER
        assert book.hold("alice", "mint", "1.00", timeout=timedelta(hours=1)).id == HOLD
        yield book


@pytest.fixture
def raw(path: Path, book: gl.Ledger) -> Iterator[sqlite3.Connection]:
    """A plain sqlite3 connection to the ledger's file, as an attacker would have."""
    db = sqlite3.connect(path, isolation_level=None)
    yield db
    db.close()


def test_file_is_durable_wal_with_full_sync(book: gl.Ledger, path: Path) -> None:
    store = book.store
    assert isinstance(store, gl.SQLiteStore)
    db = store._db
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] >= 10_000


def test_tables_are_strict_and_amounts_are_integers(raw: sqlite3.Connection) -> None:
    tables = [
        r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    ]
    for table in tables:
        assert raw.execute(f"SELECT strict FROM pragma_table_list('{table}')").fetchone()[0] == 1
    for table in tables:
        for _, name, typ, *_ in raw.execute(f"PRAGMA table_info('{table}')"):
            assert typ in ("INTEGER", "TEXT"), (table, name, typ)
    types = raw.execute(
        "SELECT DISTINCT typeof(minor), typeof(net_after) FROM postings WHERE net_after IS NOT NULL"
    ).fetchall()
    assert types == [("integer", "integer")]
    assert raw.execute("SELECT minor FROM postings ORDER BY tx_id, idx").fetchall() == [
        (1000,),
        (1000,),
        (100,),
        (100,),
    ]
    with pytest.raises(sqlite3.IntegrityError, match="REAL"):  # STRICT refuses a float
        raw.execute("UPDATE accounts SET net = 1.5 WHERE name = 'alice'")


@pytest.mark.parametrize(
    "statement",
    [
        f"UPDATE transactions SET memo = 'changed' WHERE id = {TRANSFER}",
        f"UPDATE transactions SET hash = '00' WHERE id = {TRANSFER}",
        f"DELETE FROM transactions WHERE id = {HOLD}",
        "DELETE FROM transactions",
        f"UPDATE postings SET minor = 1 WHERE tx_id = {TRANSFER}",
        f"DELETE FROM postings WHERE tx_id = {TRANSFER}",
        f"UPDATE idempotency SET transaction_id = {HOLD}",
        "DELETE FROM idempotency",
        "DELETE FROM accounts WHERE name = 'alice'",
        "UPDATE accounts SET name = 'mallory' WHERE name = 'alice'",
        "UPDATE accounts SET unit = 'EUR' WHERE name = 'alice'",
        "UPDATE accounts SET min_balance = NULL WHERE name = 'alice'",
        "DELETE FROM holds",
        "UPDATE holds SET minor = 1",
    ],
)
def test_direct_updates_and_deletes_are_refused(
    raw: sqlite3.Connection, book: gl.Ledger, statement: str
) -> None:
    before = list(book.transactions())
    with pytest.raises(sqlite3.IntegrityError, match="giftledger: "):
        raw.execute(statement)
    assert list(book.transactions()) == before
    assert book.verify() == HOLD


def test_settled_holds_and_closed_accounts_stay_so(
    raw: sqlite3.Connection, book: gl.Ledger
) -> None:
    (hold,) = book.holds()
    book.void_hold(hold)
    with pytest.raises(sqlite3.IntegrityError, match="stays settled"):
        raw.execute("UPDATE holds SET status = 'pending'")
    book.open_account("gone", "USD")
    book.close_account("gone")
    with pytest.raises(sqlite3.IntegrityError, match="stays closed"):
        raw.execute("UPDATE accounts SET closed = 0 WHERE name = 'gone'")


@pytest.mark.parametrize(
    ("trigger", "tamper", "broken_at"),
    [
        (
            "postings_no_update",
            f"UPDATE postings SET minor = 2000 WHERE tx_id = {TRANSFER}",
            TRANSFER,
        ),
        (
            "transactions_no_update",
            f"UPDATE transactions SET memo = 'x' WHERE id = {TRANSFER}",
            TRANSFER,
        ),
        (
            "transactions_no_update",
            f"UPDATE transactions SET effective_at = effective_at - 1 WHERE id = {HOLD}",
            HOLD,
        ),
        (
            "postings_no_delete",
            f"DELETE FROM postings WHERE tx_id = {TRANSFER} AND idx = 1",
            TRANSFER,
        ),
        ("transactions_no_delete", f"DELETE FROM transactions WHERE id = {HOLD}", None),
        # alice's ACCOUNT entry defines her unit: it names the change.
        ("accounts_fixed", "UPDATE accounts SET unit = 'EUR' WHERE name = 'alice'", 2),
    ],
)
def test_verify_catches_a_change_made_behind_the_triggers_back(
    raw: sqlite3.Connection, book: gl.Ledger, trigger: str, tamper: str, broken_at: int | None
) -> None:
    assert book.verify() == HOLD
    raw.execute(f"DROP TRIGGER {trigger}")
    raw.execute(tamper)
    with pytest.raises(gl.ChainBroken) as broken:
        book.verify()
    assert broken.value.transaction_id == broken_at


def test_verify_catches_totals_changed_behind_the_ledgers_back(
    raw: sqlite3.Connection, book: gl.Ledger
) -> None:
    raw.execute("UPDATE accounts SET net = net - 1 WHERE name = 'alice'")  # totals may change
    with pytest.raises(gl.ChainBroken, match="alice"):
        book.verify()


def test_verify_catches_a_trial_balance_total_changed_behind_the_ledgers_back(
    raw: sqlite3.Connection, book: gl.Ledger
) -> None:
    raw.execute("UPDATE totals SET debits = debits + 1, credits = credits + 1")  # still even
    with pytest.raises(gl.ChainBroken, match="per-unit totals"):
        book.verify()


# -- schema versions -------------------------------------------------------------------


def test_new_file_records_the_schema_version(raw: sqlite3.Connection) -> None:
    row = raw.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    assert row == (str(glsqlite.SCHEMA_VERSION),)


def test_database_newer_than_the_library_is_refused(path: Path, book: gl.Ledger) -> None:
    book.close()
    with sqlite3.connect(path, isolation_level=None) as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(99),))
    db.close()
    with pytest.raises(
        gl.SchemaVersionError,
        match=f"schema version 99, newer than the {glsqlite.SCHEMA_VERSION}",
    ):
        gl.Ledger.open(f"sqlite:///{path}")
    with pytest.raises(gl.StoreError):  # a SchemaVersionError is a StoreError
        gl.Ledger.open(f"sqlite:///{path}")


def test_migrations_run_once_each_in_order(path: Path) -> None:
    ran: list[int] = []
    current = glsqlite.SCHEMA_VERSION

    def next_step(db: sqlite3.Connection) -> None:
        ran.append(current + 1)
        db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL) STRICT")

    db = sqlite3.connect(path, isolation_level=None)
    assert glsqlite.migrate(db, glsqlite.MIGRATIONS) == current
    assert glsqlite.migrate(db, (*glsqlite.MIGRATIONS, next_step)) == current + 1
    assert glsqlite.migrate(db, (*glsqlite.MIGRATIONS, next_step)) == current + 1
    assert ran == [current + 1]
    version = "SELECT value FROM meta WHERE key = 'schema_version'"
    assert db.execute(version).fetchone() == (str(current + 1),)
    # The library (at the current version) now refuses the file rather than misread it.
    with pytest.raises(gl.SchemaVersionError):
        glsqlite.migrate(db, glsqlite.MIGRATIONS)
    db.close()


def test_failed_migration_changes_nothing(path: Path) -> None:
    def broken(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE half (id INTEGER) STRICT")
        raise RuntimeError("boom")

    db = sqlite3.connect(path, isolation_level=None)
    glsqlite.migrate(db, glsqlite.MIGRATIONS)
    with pytest.raises(RuntimeError, match="boom"):
        glsqlite.migrate(db, (*glsqlite.MIGRATIONS, broken))
    version = "SELECT value FROM meta WHERE key = 'schema_version'"
    assert db.execute(version).fetchone() == (str(glsqlite.SCHEMA_VERSION),)
    assert db.execute("SELECT name FROM sqlite_master WHERE name = 'half'").fetchone() is None
    db.close()


def test_a_file_that_is_not_a_ledger_is_refused(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE customers (id INTEGER)")
    db.close()
    with pytest.raises(gl.StoreError, match="not a giftledger ledger"):
        gl.Ledger.open(f"sqlite:///{path}")


# -- URLs --------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///", "sqlite:///:memory:", "sqlite:book.db"])
def test_urls_that_name_no_file_are_refused(url: str) -> None:
    with pytest.raises(gl.InvalidArgument):
        gl.Ledger.open(url)


def test_relative_and_absolute_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with gl.Ledger.open("sqlite:///relative.db") as book:
        assert book.store.url == "sqlite:///relative.db"
    assert (tmp_path / "relative.db").exists()
    with gl.Ledger.open(f"sqlite:///{tmp_path / 'absolute.db'}") as book:
        assert repr(book.store).startswith("<SQLiteStore")
    assert (tmp_path / "absolute.db").exists()
    with pytest.raises(gl.InvalidArgument, match="does not exist"):
        gl.Ledger.open(f"sqlite:///{tmp_path / 'missing' / 'x.db'}")


# -- several connections on one file ---------------------------------------------------


def test_two_connections_see_each_others_writes(path: Path, clock: gl.ManualClock) -> None:
    with (
        gl.Ledger.open(f"sqlite:///{path}", clock=clock) as one,
        gl.Ledger.open(f"sqlite:///{path}", clock=clock) as two,
    ):
        one.open_account("mint", "USD", rule=gl.BalanceRule.unrestricted())
        two.open_account("alice", "USD", normal="credit")
        for i in range(10):
            (one if i % 2 else two).transfer("mint", "alice", 1, key=f"k{i}")
        two.post_many([[gl.debit("alice", 3), gl.credit("mint", 3)]] * 3)
        with pytest.raises(gl.InsufficientFunds):
            one.transfer("alice", "mint", 2)  # sees two's batch: only 1.00 is left
        assert one.balance("alice") == two.balance("alice") == gl.from_minor(100, "USD")
        assert one.find("k3") == two.find("k3")
        assert one.verify() == two.verify() == 2 + 13  # after the two ACCOUNT entries
        assert one.head == two.head


def test_unit_totals_stay_exact_across_connections_and_rolled_back_writes(
    path: Path, clock: gl.ManualClock
) -> None:
    # Each connection keeps the unit totals it last wrote, to add to them without
    # reading them back: another connection's commit, or a write rolled back after
    # its rows went out, must make it read them again.
    with (
        gl.Ledger.open(f"sqlite:///{path}", clock=clock) as one,
        gl.Ledger.open(f"sqlite:///{path}", clock=clock) as two,
    ):
        one.open_account("mint", "USD", rule=gl.BalanceRule.unrestricted())
        one.open_account("alice", "USD", normal="credit")
        for i in range(1, 7):
            (one if i % 2 else two).transfer("mint", "alice", i)

        def flush_then_fail() -> None:
            with one.store.write():
                one.transfer("mint", "alice", 1_000)
                one.post_many([[gl.debit("mint", 5), gl.credit("alice", 5)]] * 2)
                raise RuntimeError("abandon")

        with pytest.raises(RuntimeError, match="abandon"):
            flush_then_fail()
        one.transfer("mint", "alice", 7)
        two.transfer("mint", "alice", 8)
        turnover = sum(range(1, 9)) * 100  # minor units
        for book in (one, two):
            trial = book.trial_balance()
            assert (trial.debits["USD"], trial.credits["USD"]) == (turnover, turnover)
        assert one.verify() == two.verify() == 2 + 8


def test_a_reader_sees_one_snapshot(path: Path, clock: gl.ManualClock) -> None:
    with (
        gl.Ledger.open(f"sqlite:///{path}", clock=clock) as one,
        gl.Ledger.open(f"sqlite:///{path}", clock=clock) as two,
    ):
        one.open_account("mint", "USD", rule=gl.BalanceRule.unrestricted())
        one.open_account("alice", "USD", normal="credit")
        one.post_many([[gl.debit("mint", 1), gl.credit("alice", 1)]] * 600)
        entries = one.transactions()
        first = next(entries)
        two.transfer("mint", "alice", 1)  # WAL: the writer does not wait for the reader
        assert [first, *entries] == list(two.transactions(1, 603))  # 2 ACCOUNT entries
        assert one.head[0] == 603


def test_sqlite_failures_surface_as_store_errors(path: Path, book: gl.Ledger) -> None:
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock for too long
    try:
        store = gl.SQLiteStore(f"sqlite:///{path}", timeout=0.05)
        with pytest.raises(gl.StoreError, match="write lock"):
            gl.Ledger(store).transfer("mint", "alice", 1)
        store.close()
    finally:
        other.execute("ROLLBACK")
        other.close()
    head = book.head
    # totals past what SQLite holds: refused by the ledger before the store sees them
    with pytest.raises(gl.AmountOutOfRange, match="64-bit"):
        book.post_many([[gl.debit("mint", 10**16), gl.credit("alice", 10**16)]] * 10)
    assert book.head == head
    assert book.verify() == HOLD


def test_an_account_opened_in_a_rolled_back_write_is_forgotten(book: gl.Ledger) -> None:
    def open_then_fail() -> None:
        with book.store.write():
            book.open_account("ghost", "USD")
            raise RuntimeError("abandon")

    with pytest.raises(RuntimeError, match="abandon"):
        open_then_fail()
    book.open_account("real", "USD")  # SQLite may give it the ghost's rowid
    opened = book.transaction(HOLD + 1)  # the ghost's entry was rolled back with it
    assert (opened.kind, opened.memo.count('"name":"real"')) == (gl.EntryKind.ACCOUNT, 1)
    book.transfer("real", "mint", 1)
    last = book.hold("real", "mint", "0.50")
    with pytest.raises(gl.UnknownAccount):
        book.account("ghost")
    assert book.holds("ghost") == ()
    assert [e.posting.account for e in book.history("real").items] == ["real"]
    assert book.verify() == last.id == HOLD + 3


def test_threads_may_share_one_store(path: Path, clock: gl.ManualClock) -> None:
    with gl.Ledger.open(f"sqlite:///{path}", clock=clock) as book:
        book.open_account("mint", "USD", rule=gl.BalanceRule.unrestricted())
        for k in range(4):
            book.open_account(f"w{k}", "USD", normal="credit")
        errors: list[BaseException] = []

        def work(k: int) -> None:
            try:
                for i in range(25):
                    book.transfer("mint", f"w{k}", 1, key=f"{k}-{i}")
                    assert book.balance(f"w{k}") == gl.from_minor((i + 1) * 100, "USD")
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert book.verify() == 5 + 100  # after the five ACCOUNT entries


def test_a_batch_may_lock_more_accounts_than_one_query_takes(path: Path) -> None:
    names = [f"w{i}" for i in range(1_200)]  # several chunks of "name IN (...)"
    with gl.Ledger.open(f"sqlite:///{path}") as book:
        book.open_account("mint", "USD", rule=gl.BalanceRule.unrestricted())
        with book.store.write() as w:  # 1,200 accounts in one write, not 1,200 commits
            now = book._now(w)
            for name in names:  # as open_account does: stored, and journaled
                account = gl.Account(name, "USD", gl.Side.CREDIT)
                w.add_account(account)
                book._journal_account(w, account, now)
    with gl.Ledger.open(f"sqlite:///{path}") as book:  # a new store: nothing cached
        txs = book.post_many([[gl.debit("mint", 1), gl.credit(n, 1)] for n in names])
        assert len(txs) == len(names)
        assert book.balance("w1199") == gl.from_minor(100, "USD")
        assert book.verify() == 1 + 2 * len(names)  # the ACCOUNT entries, then the posts


def _cash_and_wallet(book: gl.Ledger) -> tuple[tuple[int, str], gl.TrialBalance]:
    book.open_account("cash", "USD", rule=gl.BalanceRule.unrestricted())
    book.open_account("wallet", "USD", normal="credit")
    book.post([gl.debit("cash", 1), gl.credit("wallet", 1)])
    return book.head, book.trial_balance()


def _kept_nothing(book: gl.Ledger, head: tuple[int, str], before: gl.TrialBalance) -> None:
    """Nothing of the block is kept, and the store goes on writing, its totals exact."""
    assert (book.head, book.trial_balance()) == (head, before)
    assert book.balance("wallet").amount == 1
    with pytest.raises(gl.UnknownAccount):
        book.account("late")
    book.post([gl.debit("cash", 2), gl.credit("wallet", 2)])
    trial = book.trial_balance()
    usd = before.debits["USD"] + 200
    assert (trial.debits["USD"], trial.credits["USD"]) == (usd, usd)
    assert book.verify() == book.head[0]


@pytest.mark.parametrize("flushed", [True, False], ids=["flushed", "buffered"])
@pytest.mark.parametrize("then", ["writes", "ends"])
def test_a_block_sqlite_rolled_back_itself_keeps_nothing_written_after(
    book: gl.Ledger, flushed: bool, then: str
) -> None:
    """SQLite may roll a transaction back itself (a full disk, an I/O error, an
    interrupt); a caller that caught the failure inside its block and went on, writing
    or just ending the block, had each later statement kept by itself, outside any
    transaction (part of the block landing, its unit totals counted from the
    rolled-back part). The block can no longer commit, and nothing of it is kept."""
    head, before = _cash_and_wallet(book)

    def block_sqlite_ends() -> None:
        with book.store.write():
            book.post([gl.debit("cash", 5), gl.credit("wallet", 5)])
            if flushed:
                book.trial_balance()  # sends the block's rows to SQLite
            book.store._db.execute("ROLLBACK")  # type: ignore[attr-defined]  # as SQLite does
            if then == "writes":
                refused = r"can no longer commit: SQLite ended its transaction"
                with pytest.raises(gl.WriteBlockFailed, match=refused):
                    book.post([gl.debit("cash", 7), gl.credit("wallet", 7)])
                with pytest.raises(gl.WriteBlockFailed, match=refused):
                    book.open_account("late", "USD")
                with pytest.raises(gl.WriteBlockFailed, match=refused):
                    book.trial_balance()  # a read inside the block sends its rows first

    with pytest.raises(
        gl.WriteBlockFailed, match=r"rolled back, nothing in it kept: SQLite ended its transaction"
    ):
        block_sqlite_ends()
    _kept_nothing(book, head, before)


def test_a_writer_used_directly_refuses_to_go_on_once_sqlite_ended_its_transaction(
    book: gl.Ledger,
) -> None:
    head, before = _cash_and_wallet(book)
    cash = book.account("cash")

    def direct() -> None:
        with book.store.write() as w:
            book.store._db.execute("ROLLBACK")  # type: ignore[attr-defined]  # as SQLite does
            with pytest.raises(gl.WriteBlockFailed, match="SQLite ended its transaction"):
                w.lock_accounts(["late"])  # a read under the write lock it no longer has
            with pytest.raises(gl.WriteBlockFailed, match="SQLite ended its transaction"):
                w.replace_account(cash)

    with pytest.raises(gl.WriteBlockFailed, match="nothing in it kept"):
        direct()
    _kept_nothing(book, head, before)


def test_an_interrupted_block_names_the_interrupt_and_keeps_nothing(book: gl.Ledger) -> None:
    """A real SQLite rollback: an interrupt (here from a progress handler) while the
    block's rows go out. The caller gets a StoreError naming it; the block, caught and
    carried on, can no longer commit and says why."""
    head, before = _cash_and_wallet(book)
    db = book.store._db  # type: ignore[attr-defined]

    def interrupted() -> None:
        with book.store.write():
            book.post([gl.debit("cash", 5), gl.credit("wallet", 5)])
            db.set_progress_handler(lambda: 1, 1)  # interrupt the next statement
            try:
                with pytest.raises(gl.StoreError, match="interrupted") as raised:
                    book.trial_balance()
                assert not isinstance(raised.value, gl.WriteBlockFailed)
            finally:
                db.set_progress_handler(None, 1)
            ended = "SQLite ended its transaction: OperationalError: interrupted"
            with pytest.raises(gl.WriteBlockFailed, match=ended):
                book.post([gl.debit("cash", 7), gl.credit("wallet", 7)])

    with pytest.raises(gl.WriteBlockFailed, match=r"nothing in it kept: .*interrupted"):
        interrupted()
    _kept_nothing(book, head, before)


@pytest.mark.parametrize("kept", [True, False], ids=["some kept", "none kept"])
@pytest.mark.parametrize("table", ["transactions", "postings", "backdated", "idempotency"])
def test_a_flush_that_failed_inserting_rows_goes_on_only_if_sqlite_kept_none(
    book: gl.Ledger, table: str, kept: bool
) -> None:
    """SQLite keeps the rows an executemany inserted before the one that failed, and
    leaves the transaction open; the block's buffers still held them all. A caller that
    caught the failure and went on had the rows sent again, and the block failed at its
    end on a UNIQUE constraint, naming neither the failure nor the block. Now, when
    SQLite kept some (the second row failed), the block can no longer commit, names the
    failure and keeps nothing; when it kept none (the first row failed), the block goes
    on and commits all of it, as before."""
    head, before = _cash_and_wallet(book)
    first, second = head[0] + 1, head[0] + 2
    row = 1 if kept else 0
    when = {
        "transactions": f"NEW.id = {second if kept else first}",
        "postings": f"NEW.tx_id = {first} AND NEW.idx = {row}",
        "backdated": f"NEW.tx_id = {first} AND NEW.idx = {row}",  # both postings' rows
        "idempotency": f"NEW.key = 'gift-{row + 1}'",
    }[table]
    # Effective before the accounts' latest posting: back-dated, kept apart too.
    earlier = book.transaction(head[0]).effective_at - timedelta(days=1)
    at = earlier if table == "backdated" else None
    db = book.store._db  # type: ignore[attr-defined]

    def fails_in_its_block() -> None:
        with book.store.write():
            book.post([gl.debit("cash", 5), gl.credit("wallet", 5)], key="gift-1", effective_at=at)
            book.post([gl.debit("cash", 6), gl.credit("wallet", 6)], key="gift-2", effective_at=at)
            db.execute(
                f"CREATE TEMP TRIGGER fail_once BEFORE INSERT ON main.{table} WHEN {when} "
                f"BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
            )
            try:
                with pytest.raises(gl.StoreError, match="injected failure") as raised:
                    book.trial_balance()  # sends the block's rows to SQLite
                assert not isinstance(raised.value, gl.WriteBlockFailed)
            finally:
                db.execute("DROP TRIGGER temp.fail_once")
            assert db.in_transaction  # SQLite ended nothing: only the statement failed
            if not kept:
                return
            part_way = r"can no longer commit: sending .* failed part-way, and SQLite kept some"
            with pytest.raises(gl.WriteBlockFailed, match=part_way):
                book.post([gl.debit("cash", 7), gl.credit("wallet", 7)])
            with pytest.raises(gl.WriteBlockFailed, match=part_way):
                book.trial_balance()

    if kept:
        with pytest.raises(gl.WriteBlockFailed, match=r"nothing in it kept: .*injected failure"):
            fails_in_its_block()
        _kept_nothing(book, head, before)
        return
    fails_in_its_block()
    assert book.head[0] == second
    assert book.balance("wallet").amount == 12
    trial = book.trial_balance()
    assert trial.debits["USD"] == trial.credits["USD"] == before.debits["USD"] + 1100
    assert book.verify() == second
    again = book.post([gl.debit("cash", 5), gl.credit("wallet", 5)], key="gift-1", effective_at=at)
    assert again.id == first  # replayed
    if table == "backdated":
        assert book.balance("wallet", at=earlier).amount == 11
    reopened = gl.Ledger.open(book.store.url)
    try:
        assert reopened.balance("wallet").amount == 12
        assert reopened.verify() == second
    finally:
        reopened.close()


class _Alarming:
    """A store's connection on which a signal handler's exception lands right after the
    first statement holding ``sql`` ran (SQLite kept what it did), or, ``before``, as
    it is about to run."""

    def __init__(self, db: sqlite3.Connection, sql: str, before: bool = False) -> None:
        self.db, self.sql, self.before = db, sql, before

    def __getattr__(self, name: str) -> object:
        return getattr(self.db, name)

    def _ring(self, sql: str) -> None:
        if self.sql and self.sql in sql:
            self.sql = ""
            raise Alarm("timed out")

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        if self.before:
            self._ring(sql)
        out = self.db.execute(sql, *args)
        self._ring(sql)
        return out

    def executemany(self, sql: str, rows: object) -> sqlite3.Cursor:
        if self.before:
            self._ring(sql)
        out = self.db.executemany(sql, rows)  # type: ignore[arg-type]
        self._ring(sql)
        return out


@pytest.mark.parametrize(
    ("sql", "before", "failure"),
    [
        ("INTO transactions ", False, "Alarm: timed out"),
        ("INTO postings ", False, "Alarm: timed out"),
        # SQLite refused the second entry's row, and the alarm lands as the block looks
        # up whether SQLite kept the first one.
        ("SELECT 1 FROM transactions", True, "IntegrityError: injected failure"),
    ],
    ids=["after entries", "after postings", "while looking up"],
)
def test_an_exception_landing_as_a_flush_sends_rows_dooms_the_block(
    book: gl.Ledger, sql: str, before: bool, failure: str
) -> None:
    """A signal handler's exception (a timeout, Ctrl-C) landing right after a statement
    inserted the block's rows, before the block noted them sent, or while it worked out
    what a failed statement had kept: caught inside the block, the rows went again, and
    the block failed on a UNIQUE constraint. Now it can no longer commit, naming the
    failure; nothing of it is kept."""
    head, before_block = _cash_and_wallet(book)
    store: Any = book.store
    real = store._db
    store._db = _Alarming(real, sql, before)
    try:

        def interrupted() -> None:
            with book.store.write():
                book.post([gl.debit("cash", 5), gl.credit("wallet", 5)])
                book.post([gl.debit("cash", 6), gl.credit("wallet", 6)])
                if before:
                    real.execute(
                        f"CREATE TEMP TRIGGER fail_once BEFORE INSERT ON main.transactions "
                        f"WHEN NEW.id = {head[0] + 2} "
                        f"BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
                    )
                try:
                    with pytest.raises(Alarm):
                        book.trial_balance()
                finally:
                    real.execute("DROP TRIGGER IF EXISTS temp.fail_once")
                part_way = f"part-way, and SQLite may have kept some of them: {failure}"
                with pytest.raises(gl.WriteBlockFailed, match=part_way):
                    book.post([gl.debit("cash", 7), gl.credit("wallet", 7)])
                with pytest.raises(gl.WriteBlockFailed, match=part_way):
                    book.trial_balance()  # refused before it sends anything again

        with pytest.raises(gl.WriteBlockFailed, match=f"nothing in it kept: .*{failure}"):
            interrupted()
    finally:
        store._db = real
    _kept_nothing(book, head, before_block)


def test_a_read_in_a_doomed_block_does_not_send_a_torn_write(book: gl.Ledger) -> None:
    """A signal handler's exception lands while a write of a caller's block buffers its
    rows: the write dooms the block, but a read in it still sent the half-buffered entry
    (an entry with some of its postings) and answered from it. It is refused, naming
    the failure; the block keeps nothing."""
    head, before = _cash_and_wallet(book)
    a_torn_write_is_not_read(
        book,
        interrupted_at(glsqlite._Writer.append, "rows.append("),
        lambda: book.post([gl.debit("cash", 6), gl.credit("wallet", 6)]),
    )
    _kept_nothing(book, head, before)


@pytest.mark.parametrize(
    ("method", "line"),
    [
        ("__enter__", "return self._writer"),  # after BEGIN IMMEDIATE
        ("__exit__", "if writer._joined:"),  # before the writer is let go
        ("__exit__", "writer._doom_if_ended()"),  # let go, before COMMIT
    ],
    ids=["entering", "ending", "before commit"],
)
def test_an_exception_landing_as_a_write_block_opens_or_ends_leaves_nothing_open(
    book: gl.Ledger, path: Path, method: str, line: str
) -> None:
    """A signal handler's exception landing in the write block's own opening or ending:
    its transaction was left open (every later write of the process refused, "cannot
    start a transaction within a transaction", and other processes locked out) or its
    writer left in place, so the next write joined it and returned an entry never
    kept. Now the block rolls back, and the store goes on."""
    head, before = _cash_and_wallet(book)
    fired = interrupted_at(getattr(glsqlite._WriteBlock, method), line)()
    try:
        with pytest.raises(KeyboardInterrupt):
            book.post([gl.debit("cash", 5), gl.credit("wallet", 5)])
    finally:
        sys.settrace(None)
    assert fired
    _kept_nothing(book, head, before)
    with gl.Ledger.open(f"sqlite:///{path}") as other:  # kept, and another writer writes
        assert other.head == book.head
        other.post([gl.debit("cash", 1), gl.credit("wallet", 1)])
        assert other.verify() == head[0] + 2


@pytest.mark.parametrize(
    "trigger",
    [
        "BEFORE UPDATE OF net ON main.accounts WHEN NEW.name = 'wallet'",  # after 'eur'
        "BEFORE INSERT ON main.totals WHEN NEW.unit = 'USD'",  # after EUR's, an upsert
    ],
    ids=["balances", "totals"],
)
def test_a_flush_that_failed_on_whole_values_sends_them_again(
    book: gl.Ledger, trigger: str
) -> None:
    """A failed flush whose statement only set whole values (accounts' balances, units'
    totals; here the second row failed, the first one set) changed nothing it cannot
    send again: a caller that caught the failure and went on commits the whole block,
    its balances, totals and chain exact."""
    head, before = _cash_and_wallet(book)
    book.open_account("eur-cash", "EUR", rule=gl.BalanceRule.unrestricted())
    book.open_account("eur", "EUR", normal="credit")
    head, before = book.head, book.trial_balance()
    db = book.store._db  # type: ignore[attr-defined]
    with book.store.write():
        book.post([gl.debit("cash", 5), gl.credit("wallet", 5)])
        book.post([gl.debit("eur-cash", 3), gl.credit("eur", 3)])
        db.execute(
            f"CREATE TEMP TRIGGER fail_once {trigger} "
            f"BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
        )
        try:
            with pytest.raises(gl.StoreError, match="injected failure"):
                book.trial_balance()
        finally:
            db.execute("DROP TRIGGER temp.fail_once")
        book.post([gl.debit("cash", 7), gl.credit("wallet", 7)])
    assert book.head[0] == head[0] + 3
    assert (book.balance("wallet").amount, book.balance("eur").amount) == (13, 3)
    trial = book.trial_balance()
    assert trial.debits["USD"] == trial.credits["USD"] == before.debits["USD"] + 1200
    assert trial.debits["EUR"] == trial.credits["EUR"] == 300
    assert book.verify() == book.head[0]
    reopened = gl.Ledger.open(book.store.url)
    try:
        assert (reopened.balance("wallet").amount, reopened.balance("eur").amount) == (13, 3)
        assert reopened.trial_balance() == trial
        assert reopened.verify() == book.head[0]
    finally:
        reopened.close()


def test_a_write_sqlite_rolled_back_itself_reports_its_own_failure(book: gl.Ledger) -> None:
    """On a full disk or an I/O error SQLite may roll the transaction back itself; the
    block's ROLLBACK then failed ("cannot rollback - no transaction is active") and that
    was the error raised, hiding the cause. The cause is raised, and nothing is kept."""
    book.open_account("cash", "USD", rule=gl.BalanceRule.unrestricted())
    book.open_account("wallet", "USD", normal="credit")
    head = book.head

    def full_disk() -> None:
        with book.store.write():
            book.post([gl.debit("cash", 5), gl.credit("wallet", 5)])
            book.store._db.execute("ROLLBACK")  # type: ignore[attr-defined]  # as SQLite does
            raise sqlite3.OperationalError("database or disk is full")

    with pytest.raises(gl.StoreError, match="database or disk is full"):
        full_disk()
    assert book.head == head
    assert book.balance("wallet").amount == 0
    book.post([gl.debit("cash", 7), gl.credit("wallet", 7)])  # the store goes on
    assert book.balance("wallet").amount == 7
