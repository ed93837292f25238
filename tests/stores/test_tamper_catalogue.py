"""Everything under the hash: each tamper case of issue 11, done as an attacker with the
database would do it (triggers dropped on SQLite, ``session_replication_role = replica``
on PostgreSQL; a hold's status with the triggers in place), is reported by ``verify()``
naming the entry or the account.

Each case builds the same small book, checks it verifies, tampers with one row behind
the ledger's back, and opens the books again (a new ledger, so no cache hides the
change) to verify them.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

import giftledger as gl

from ..ledger.helpers import rehashed

Run = Callable[[str, tuple[Any, ...]], list[tuple[Any, ...]]]

FIXTURES = Path(__file__).parent.parent / "fixtures"

_PG_TABLES = {
    "transactions": "gl_transactions",
    "postings": "gl_postings",
    "accounts": "gl_accounts",
    "holds": "gl_holds",
    "idempotency": "gl_keys",
    "totals": "gl_totals",
}


@contextmanager
def _attacker(url: str, *, triggers: bool = False) -> Iterator[Run]:
    """Run SQL on the ledger's database behind its back (SQLite table names; on
    PostgreSQL they are mapped). ``triggers``: leave the store's triggers in place."""
    if url.startswith("sqlite:///"):
        db = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        if not triggers:
            names = db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()
            for (name,) in names:
                db.execute(f'DROP TRIGGER "{name}"')
        try:
            yield lambda sql, args: db.execute(sql, args).fetchall()
        finally:
            db.close()
        return
    import psycopg

    from giftledger._stores import postgres as pgstore

    admin, schema = pgstore._split_url(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("SELECT set_config('search_path', %s, false)", (f'"{schema}"',))
        if not triggers:
            conn.execute("SET session_replication_role = replica")  # no user triggers fire

        def run(sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
            for table, pg in _PG_TABLES.items():
                sql = sql.replace(f" {table} ", f" {pg} ").replace(f" {table}\n", f" {pg}\n")
            sql = sql.replace(
                "account_id = (SELECT id FROM gl_accounts WHERE name = ?)", "account = ?"
            )
            cur = conn.execute(sql.replace("?", "%s"), args)  # type: ignore[arg-type]
            return cur.fetchall() if cur.description else []

        yield run


@attrs.frozen
class Book:
    """What the tamper cases need to know of the books they tamper with."""

    transfer: int  # a keyed transfer to the creator
    hold: int  # a pending hold on the creator's balance
    failure: int  # the KEY entry of a failure remembered under "w-2"
    creator_opened: int  # the ACCOUNT entry that opened the creator's account
    count: int


def _build(url: str) -> Book:
    clock = gl.ManualClock()
    with gl.Ledger.open(url, clock=clock) as book:
        book.open_account("world", "USD", rule=gl.BalanceRule.unrestricted())
        creator = book.open_account("creators:ana", "USD", normal="credit", metadata={"age": 16})
        book.open_account("payouts", "USD", normal="credit")
        clock.advance(timedelta(seconds=1))
        tx = book.transfer("world", "creators:ana", 100, key="gift-1")
        hold = book.hold("creators:ana", "payouts", 30, key="w-1")
        with pytest.raises(gl.InsufficientFunds):
            book.hold("creators:ana", "payouts", 500, key="w-2")
        count = book.verify()
        entries = list(book.transactions())
    opened = next(
        t.id for t in entries if t.kind is gl.EntryKind.ACCOUNT and creator.name in t.memo
    )
    failure = next(t.id for t in entries if t.kind is gl.EntryKind.KEY)
    assert count == len(entries) == failure
    return Book(tx.id, hold.id, failure, opened, count)


def _broken(url: str) -> gl.ChainBroken:
    with gl.Ledger.open(url) as book, pytest.raises(gl.ChainBroken) as err:
        book.verify()
    return err.value


def test_an_edited_net_after_is_named(durable_store_url: str) -> None:
    b = _build(durable_store_url)
    with _attacker(durable_store_url) as run:
        run(
            "UPDATE postings SET net_after = ? WHERE tx_id = ? AND idx = 1",
            (-99_999_999, b.transfer),
        )
    err = _broken(durable_store_url)
    assert err.transaction_id == b.transfer
    assert "'creators:ana'" in str(err)


def test_a_deleted_idempotency_record_is_named(durable_store_url: str) -> None:
    b = _build(durable_store_url)
    with _attacker(durable_store_url) as run:
        run("DELETE FROM idempotency WHERE key = ?", ("gift-1",))
    err = _broken(durable_store_url)
    assert err.transaction_id == b.transfer
    assert "'gift-1'" in str(err)
    assert "no longer remembers" in str(err)


def test_a_deleted_failure_record_is_named(durable_store_url: str) -> None:
    b = _build(durable_store_url)
    with _attacker(durable_store_url) as run:
        run("DELETE FROM idempotency WHERE key = ?", ("w-2",))
    err = _broken(durable_store_url)
    assert err.transaction_id == b.failure
    assert "'w-2'" in str(err)
    assert "InsufficientFunds" in str(err)


def test_a_record_no_entry_journals_is_named(durable_store_url: str) -> None:
    _build(durable_store_url)
    with _attacker(durable_store_url) as run:
        run(
            "INSERT INTO idempotency (key, fingerprint, transaction_id) VALUES (?, ?, ?)",
            ("gl:party:forged", "0" * 64, 4),
        )
    err = _broken(durable_store_url)
    assert "'gl:party:forged'" in str(err)
    assert "no entry" in str(err)


def test_a_hold_voided_by_a_plain_update_is_named(durable_store_url: str) -> None:
    b = _build(durable_store_url)
    with _attacker(durable_store_url, triggers=True) as run:  # no trigger stops it
        run("UPDATE holds SET status = ? WHERE id = ?", ("voided", b.hold))
    err = _broken(durable_store_url)
    assert err.transaction_id == b.hold
    assert f"hold {b.hold}" in str(err)


def _account_metadata(run: Run, name: str) -> str:
    ((text,),) = run("SELECT metadata FROM accounts WHERE name = ?", (name,))
    return text if isinstance(text, str) else json.dumps(text)


@pytest.mark.parametrize(
    ("column", "value", "shown"),
    [
        ("min_balance", -1_000_000, "min_balance"),
        ("normal", "debit", "normal"),
        ("unit", "EUR", "unit"),
        ("metadata", None, "metadata"),  # gl.age 16 -> 30: the value is built below
        ("closed", 1, "closed"),
    ],
)
def test_a_changed_account_definition_is_named(
    durable_store_url: str, column: str, value: object, shown: str
) -> None:
    b = _build(durable_store_url)
    with _attacker(durable_store_url) as run:
        if column == "metadata":
            value = _account_metadata(run, "creators:ana").replace("16", "30")
            assert "30" in str(value)
        if column == "closed" and not durable_store_url.startswith("sqlite"):
            value = True
        run(f"UPDATE accounts SET {column} = ? WHERE name = ?", (value, "creators:ana"))
    err = _broken(durable_store_url)
    assert "'creators:ana'" in str(err)
    assert shown in str(err)
    assert err.transaction_id == b.creator_opened
    if column == "metadata":
        assert "30" in str(err)
        assert "16" in str(err)


def test_an_account_the_journal_never_opened_is_named(durable_store_url: str) -> None:
    _build(durable_store_url)
    with _attacker(durable_store_url) as run:
        run(
            "INSERT INTO accounts (name, unit, normal, min_balance, closed, trading, metadata) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            ("forged", "USD", "debit", None, False, False, "{}"),
        )
    err = _broken(durable_store_url)
    assert "'forged'" in str(err)
    assert "never opened it" in str(err)


def test_a_truncation_with_totals_fixed_up_is_named_by_verify_since(
    durable_store_url: str,
) -> None:
    clock = gl.ManualClock()
    with gl.Ledger.open(durable_store_url, clock=clock) as book:
        book.open_account("a", "USD")
        book.open_account("b", "USD", normal="credit")
        for i in range(5):
            book.transfer("a", "b", i + 1)
        cp = book.checkpoint()
        last = cp.size
    with _attacker(durable_store_url) as run:
        # Remove the last two transfers (4 + 5) and fix every total they moved.
        run("DELETE FROM postings WHERE tx_id > ?", (last - 2,))
        run("DELETE FROM transactions WHERE id > ?", (last - 2,))
        run("UPDATE accounts SET net = net - 900 WHERE name = ?", ("a",))  # cents
        run("UPDATE accounts SET net = net + 900 WHERE name = ?", ("b",))
        run("UPDATE totals SET debits = ?, credits = ? WHERE unit = ?", (600, 600, "USD"))
    with gl.Ledger.open(durable_store_url) as book:
        assert book.verify() == last - 2  # the totals were fixed: the books alone look whole
        with pytest.raises(gl.ChainBroken, match="were removed") as err:
            book.verify(since=cp)
        assert err.value.transaction_id == last - 1


def test_a_rewrite_hashed_again_is_named_by_verify_since(durable_store_url: str) -> None:
    cp = _rewrite_from(durable_store_url, 3, 11)  # 11 entries, from entry 3 on
    with gl.Ledger.open(durable_store_url) as book:
        assert book.verify() == 11  # every entry was hashed again: the chain holds
        with pytest.raises(gl.ChainBroken, match="checkpoint's head") as err:
            book.verify(since=cp)
        # The checkpoint's head path holds the roots of entries 1-8 and 9-10: the first
        # differs, so the rewrite is at or before 8.
        assert "an entry at or before 8 was rewritten" in str(err.value)
        assert err.value.transaction_id == 8


def _rewrite_from(url: str, first: int, size: int) -> gl.Checkpoint:
    """Books of ``size`` entries (two accounts, then notes) and their checkpoint; then
    entry ``first`` rewritten and every entry after it hashed again."""
    with gl.Ledger.open(url, clock=gl.ManualClock()) as book:
        book.open_account("a", "USD")
        book.open_account("b", "USD", normal="credit")
        for i in range(size - 2):
            book.note(memo=f"note {i + 3}")
        cp = book.checkpoint()
        assert cp.size == size
        entries = [book.transaction(id) for id in range(first, size + 1)]
        entries[0] = attrs.evolve(entries[0], memo="rewritten")
        rewritten = rehashed(entries, book.transaction(first - 1).hash)
    with _attacker(url) as run:
        for tx in rewritten:
            run(
                "UPDATE transactions SET memo = ?, prev_hash = ?, hash = ? WHERE id = ?",
                (tx.memo, tx.prev_hash, tx.hash, tx.id),
            )
    return cp


@pytest.mark.parametrize(
    ("first", "named", "shown"),
    [
        # 12 entries: the head path holds the roots of entries 1-8, 9-10 and 11.
        (11, 11, "entry 11 was rewritten"),
        (12, 12, "entry 12 was rewritten"),
        (9, 10, "an entry at or before 10 (from 9 to 10; entries 1 to 8 are still"),
        (10, 10, "an entry at or before 10 (from 9 to 10;"),
    ],
)
def test_a_rewrite_hashed_again_is_narrowed_down_by_the_checkpoint(
    durable_store_url: str, first: int, named: int, shown: str
) -> None:
    cp = _rewrite_from(durable_store_url, first, 12)
    with gl.Ledger.open(durable_store_url) as book:
        assert book.verify() == 12
        with pytest.raises(gl.ChainBroken) as err:
            book.verify(since=cp)
    assert shown in str(err.value)
    assert err.value.transaction_id == named


# -- rows of no account and of no entry -----------------------------------------------------


def test_totals_planted_for_an_account_not_yet_opened_are_named(durable_store_url: str) -> None:
    """PostgreSQL keeps the totals of accounts without a floor in slot rows, summed on
    read: a row planted for a name no account has yet would become that account's
    balance the moment it is opened."""
    _build(durable_store_url)
    with _attacker(durable_store_url) as run:
        if durable_store_url.startswith("sqlite"):
            # SQLite keeps totals on the account's row: a row is an account.
            run(
                "INSERT INTO accounts (name, unit, normal, min_balance, closed, trading, "
                "metadata, net) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                ("creators:later", "USD", "credit", None, 0, 0, "{}", -5_000_000),
            )
        else:
            run(
                "INSERT INTO gl_balances (account, slot, net) VALUES (?, ?, ?)",
                ("creators:later", 7, -5_000_000),
            )
    err = _broken(durable_store_url)
    assert "'creators:later'" in str(err)
    assert "never opened" in str(err)


def test_unit_totals_planted_for_a_unit_no_entry_moved_are_named(durable_store_url: str) -> None:
    _build(durable_store_url)
    with _attacker(durable_store_url) as run:
        if durable_store_url.startswith("sqlite"):
            run("INSERT INTO totals (unit, debits, credits) VALUES (?, ?, ?)", ("EUR", "5", "5"))
        else:
            run(
                "INSERT INTO gl_totals (unit, slot, debits, credits) VALUES (?, ?, ?, ?)",
                ("EUR", 7, 5, 5),
            )
    err = _broken(durable_store_url)
    assert "per-unit totals differ" in str(err)


def _plant_posting(run: Run, url: str, tx_id: int, net_after: int | None) -> None:
    """A posting of entry ``tx_id`` crediting the creator, written behind the ledger."""
    if url.startswith("sqlite"):
        ((account_id,),) = run("SELECT id FROM accounts WHERE name = ?", ("creators:ana",))
        run(
            "INSERT INTO postings (tx_id, idx, account_id, side, minor, unit, net_after) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (tx_id, 5, account_id, "credit", 99_900, "USD", net_after),
        )
        ((segment_bits,),) = run("SELECT value FROM meta WHERE key = ?", ("segment_bits",))
        run(
            "INSERT OR IGNORE INTO account_segments (account_id, segment) VALUES (?, ?)",
            (account_id, tx_id >> int(segment_bits)),
        )
    else:
        run(
            "INSERT INTO gl_postings (tx_id, idx, account, side, minor, unit, net_after) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (tx_id, 5, "creators:ana", "credit", 99_900, "USD", net_after),
        )


@pytest.mark.parametrize("beyond", [1, 0])
def test_a_posting_of_no_entry_is_named(durable_store_url: str, beyond: int) -> None:
    """A posting planted for the next entry (head + 1), consistent with the account's
    running balance, would show in its history and be taken into the next write's
    entry; one for entry 0 is read by nothing but is no row of the journal either."""
    b = _build(durable_store_url)
    tx_id = b.count + 1 if beyond else 0
    with gl.Ledger.open(durable_store_url) as book, book.store.read() as r:
        st = r.account_state("creators:ana")
        assert st is not None
        net = st.net
    with _attacker(durable_store_url) as run:
        _plant_posting(run, durable_store_url, tx_id, net - 99_900)
    err = _broken(durable_store_url)
    assert err.transaction_id == tx_id
    assert f"transaction {tx_id}" in str(err)
    assert "'creators:ana'" in str(err)
    assert "no such entry" in str(err)


def test_a_hold_of_no_entry_is_named(durable_store_url: str) -> None:
    b = _build(durable_store_url)
    with _attacker(durable_store_url) as run:
        if durable_store_url.startswith("sqlite"):
            ids = {
                n: run("SELECT id FROM accounts WHERE name = ?", (n,))[0][0]
                for n in ("creators:ana", "payouts")
            }
            run(
                "INSERT INTO holds (id, debit_id, credit_id, minor, unit, expires_at, status, "
                "posted_minor) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (b.count + 1, ids["creators:ana"], ids["payouts"], 500, "USD", None, "pending", 0),
            )
        else:
            run(
                "INSERT INTO holds (id, debit, credit, minor, unit, expires_at, status, "
                "posted_minor) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (b.count + 1, "creators:ana", "payouts", 500, "USD", None, "pending", 0),
            )
    err = _broken(durable_store_url)
    assert err.transaction_id == b.count + 1
    assert f"hold {b.count + 1}" in str(err)
    assert "no such" in str(err)  # not "differs from the hold entry": there is none


# -- hold expiry bookkeeping -----------------------------------------------------------------


@pytest.mark.parametrize("value", ["later", "none"])
def test_a_delayed_next_expiry_is_named(durable_store_url: str, value: str) -> None:
    """Each account keeps the earliest expiry of its pending holds, to know when to
    discount them: put later (or cleared), an expired hold would keep its funds."""
    clock = gl.ManualClock()
    with gl.Ledger.open(durable_store_url, clock=clock) as book:
        book.open_account("world", "USD", rule=gl.BalanceRule.unrestricted())
        book.open_account("creators:ana", "USD", normal="credit")
        book.open_account("payouts", "USD", normal="credit")
        book.transfer("world", "creators:ana", 100)
        hold = book.hold("creators:ana", "payouts", 80, timeout=timedelta(hours=1))
        assert book.verify()
    with _attacker(durable_store_url) as run:
        ((stored,),) = run("SELECT next_expiry FROM accounts WHERE name = ?", ("creators:ana",))
        assert stored is not None
        later = stored + 10**12 if value == "later" else None  # microseconds: 11 days on
        run("UPDATE accounts SET next_expiry = ? WHERE name = ?", (later, "creators:ana"))
    err = _broken(durable_store_url)
    assert "'creators:ana'" in str(err)
    assert "next expiry" in str(err)
    assert err.transaction_id == hold.id


# -- the write path does not trust the idempotency table alone ---------------------------


def _entries(url: str) -> list[gl.Transaction]:
    with gl.Ledger.open(url) as book:
        return list(book.transactions())


def test_a_retry_after_its_record_was_deleted_is_refused(durable_store_url: str) -> None:
    b = _build(durable_store_url)
    with _attacker(durable_store_url) as run:
        run("DELETE FROM idempotency WHERE key = ?", ("gift-1",))
    before = _entries(durable_store_url)
    with gl.Ledger.open(durable_store_url) as book:
        with pytest.raises(gl.ChainBroken) as err:
            book.transfer("world", "creators:ana", 100, key="gift-1")  # the retry
        assert err.value.transaction_id == b.transfer
        assert "'gift-1'" in str(err.value)
        assert f"transaction {b.transfer}" in str(err.value)
        request = gl.TransactionRequest(
            [gl.debit("world", 100), gl.credit("creators:ana", 100)], key="gift-1"
        )
        with pytest.raises(gl.ChainBroken, match="'gift-1'"):  # in a batch too
            book.post_many([request])
        (result,) = book.post_many([request], atomic=False)
        assert isinstance(result, gl.ChainBroken)
        assert result.transaction_id == b.transfer
    assert _entries(durable_store_url) == before  # nothing changed
    err2 = _broken(durable_store_url)  # and verify() still names the missing record
    assert err2.transaction_id == b.transfer


def test_a_migrated_book_whose_definitions_record_was_deleted_refuses_to_write(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v1.db"
    shutil.copy(FIXTURES / "sqlite_v1.db", path)
    url = f"sqlite:///{path}"
    with gl.Ledger.open(url) as book:
        book.open_account("new:one", "USD")  # journals every definition
        count = book.verify()
        defining = next(t.id for t in book.transactions() if t.kind is gl.EntryKind.DEFINITIONS)
    with _attacker(url) as run:
        run("DELETE FROM idempotency WHERE key = ?", ("gl:definitions",))
    with gl.Ledger.open(url) as book:
        with pytest.raises(gl.ChainBroken) as err:
            book.open_account("new:two", "USD")
        assert err.value.transaction_id == defining
        assert "'gl:definitions'" in str(err.value)
        assert book.head[0] == count  # nothing was journaled again
        assert "new:two" not in {a.name for a in book.accounts()}
    err2 = _broken(url)
    assert err2.transaction_id == defining


# -- values the ledger never writes: named, not raw Python errors -------------------------


def _row_id(b: Book, row: str) -> int:
    return {"transfer": b.transfer, "hold": b.hold}[row]


@pytest.mark.parametrize(
    ("table", "column", "value", "row", "shown"),
    [
        ("transactions", "kind", "bogus", "transfer", "'bogus'"),
        ("transactions", "metadata", "[[1,2,3]]", "transfer", "3]]"),
        ("transactions", "metadata", "5", "transfer", "5"),
        ("transactions", "rates", '"junk"', "transfer", "junk"),
        ("transactions", "effective_at", 2**63 - 1, "transfer", str(2**63 - 1)),
        ("holds", "status", "bogus", "hold", "'bogus'"),
        ("accounts", "metadata", "[1]", None, "[1]"),
    ],
)
def test_an_unreadable_value_is_named(
    durable_store_url: str, table: str, column: str, value: object, row: str | None, shown: str
) -> None:
    """Garbage where the ledger writes an entry kind, JSON, a time or a hold status
    is reported as a broken chain naming the row and the column, by verify() and by
    reads, never as a KeyError, ValueError, TypeError or OverflowError."""
    b = _build(durable_store_url)
    with _attacker(durable_store_url) as run:
        if row is None:
            run(f"UPDATE {table} SET {column} = ? WHERE name = ?", (value, "creators:ana"))
        else:
            run(f"UPDATE {table} SET {column} = ? WHERE id = ?", (value, _row_id(b, row)))
    err = _broken(durable_store_url)
    if row is None:
        assert "account 'creators:ana'" in str(err)
    else:
        assert err.transaction_id == _row_id(b, row)
    if row == "hold" and durable_store_url.startswith("sqlite"):
        # SQLite compares its holds table with the journal in SQL, before reading it.
        assert f"the stored hold {b.hold} differs" in str(err)
    else:
        assert f"{table}.{column}" in str(err)  # gl_transactions.kind on PostgreSQL
        assert shown in str(err)
    with gl.Ledger.open(durable_store_url) as book:
        read_it: Callable[[], object] = {
            "transfer": lambda: book.transaction(b.transfer),
            "hold": lambda: book.get_hold(b.hold),
            None: lambda: book.balance("creators:ana"),
        }[row]
        with pytest.raises(gl.ChainBroken) as read:
            read_it()
    assert f"{table}.{column}" in str(read.value)


def test_a_total_that_is_no_integer_is_named(durable_store_url: str) -> None:
    """SQLite keeps the per-unit totals as decimal text, PostgreSQL as numeric: a
    fraction there fails verify() and the next write, naming the unit and column."""
    _build(durable_store_url)
    with _attacker(durable_store_url) as run:
        run(
            "UPDATE totals SET debits = debits + 0.5, credits = credits + 0.5 WHERE unit = ?",
            ("USD",),
        )
    err = _broken(durable_store_url)
    assert "totals.debits" in str(err)
    assert "'USD'" in str(err)
    assert ".5" in str(err)
    if durable_store_url.startswith("sqlite"):  # the writer adds to the stored text
        with gl.Ledger.open(durable_store_url) as book, pytest.raises(gl.ChainBroken) as write:
            book.transfer("world", "creators:ana", 1)
        assert "totals.debits" in str(write.value)


@pytest.mark.parametrize(
    ("table", "column", "value", "where"),
    [
        ("transactions", "metadata", "{", "id"),
        ("transactions", "rates", "junk", "id"),
        ("accounts", "metadata", "{", "name"),
        ("totals", "debits", "abc", "unit"),
    ],
)
def test_sqlite_text_that_is_no_json_or_number_is_named(
    tmp_path: Path, table: str, column: str, value: str, where: str
) -> None:
    """SQLite keeps JSON and the totals as text: text that does not read is named."""
    url = f"sqlite:///{tmp_path / 'book.db'}"
    b = _build(url)
    key = {"id": b.transfer, "name": "creators:ana", "unit": "USD"}[where]
    with _attacker(url) as run:
        run(f"UPDATE {table} SET {column} = ? WHERE {where} = ?", (value, key))
    err = _broken(url)
    assert f"{table}.{column}" in str(err)
    assert repr(value) in str(err)


@pytest.mark.parametrize("value", ["x", "-1", "99", None])
def test_sqlite_segment_bits_unreadable_is_named(tmp_path: Path, value: str | None) -> None:
    """The account index's segment size is read when the file is opened: garbage
    there (or the row deleted) refuses the open, naming it."""
    url = f"sqlite:///{tmp_path / 'book.db'}"
    _build(url)
    with _attacker(url) as run:
        if value is None:
            run("DELETE FROM meta WHERE key = ?", ("segment_bits",))
        else:
            run("UPDATE meta SET value = ? WHERE key = ?", (value, "segment_bits"))
    with pytest.raises(gl.ChainBroken, match=r"meta\.segment_bits"):
        gl.Ledger.open(url)


# -- the memory store: the same re-derivations, on its own records -------------------------


def test_memory_store_tampering_is_named() -> None:
    book = gl.Ledger.open("memory:")
    book.open_account("world", "USD", rule=gl.BalanceRule.unrestricted())
    book.open_account("creators:ana", "USD", normal="credit", metadata={"age": 16})
    tx = book.transfer("world", "creators:ana", 100, key="gift-1")
    store: Any = book.store
    st = store._states["creators:ana"]
    st.account = attrs.evolve(st.account, metadata=(("age", 30),))
    with pytest.raises(gl.ChainBroken, match="'creators:ana' differs from its definition") as err:
        book.verify()
    assert err.value.transaction_id == 2
    st.account = attrs.evolve(st.account, metadata=(("age", 16),))
    assert book.verify() == tx.id
    del store._keys["gift-1"]
    with pytest.raises(gl.ChainBroken, match="'gift-1'") as err:
        book.verify()
    assert err.value.transaction_id == tx.id
    head = book.head
    with pytest.raises(gl.ChainBroken, match="no longer remembers") as err:
        book.transfer("world", "creators:ana", 100, key="gift-1")  # the retry is refused
    assert err.value.transaction_id == tx.id
    assert book.head == head


def test_memory_store_next_expiry_and_rolled_back_keys() -> None:
    clock = gl.ManualClock()
    book = gl.Ledger.open("memory:", clock=clock)
    book.open_account("world", "USD", rule=gl.BalanceRule.unrestricted())
    book.open_account("creators:ana", "USD", normal="credit")
    book.open_account("payouts", "USD", normal="credit")
    book.transfer("world", "creators:ana", 100)
    hold = book.hold("creators:ana", "payouts", 80, timeout=timedelta(hours=1))
    store: Any = book.store
    st = store._states["creators:ana"]
    due = st.next_expiry
    st.next_expiry = due + timedelta(days=30)
    with pytest.raises(gl.ChainBroken, match="'creators:ana' stores the next expiry") as err:
        book.verify()
    assert err.value.transaction_id == hold.id
    st.next_expiry = due
    book.verify()
    # A batch rolled back forgets the keys its entries carried: the request can run again.
    good = gl.TransactionRequest(
        [gl.debit("world", 1), gl.credit("creators:ana", 1)], key="batch-1"
    )
    bad = gl.TransactionRequest([gl.debit("world", 1), gl.credit("nobody", 1)])
    with pytest.raises(gl.UnknownAccount):
        book.post_many([good, bad])
    (tx,) = book.post_many([good])
    assert tx.key == "batch-1"
    assert book.verify() == tx.id


# -- books written before definitions were journaled --------------------------------------


def test_a_book_of_an_earlier_release_verifies_then_journals_its_definitions(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v1.db"
    shutil.copy(FIXTURES / "sqlite_v1.db", path)
    url = f"sqlite:///{path}"
    with gl.Ledger.open(url) as book:
        before = book.verify()
        accounts = book.accounts()
        assert not any(
            t.kind in (gl.EntryKind.ACCOUNT, gl.EntryKind.KEY) for t in book.transactions()
        )
        book.open_account("new:one", "USD")  # the first write journals every definition
        after = book.verify()
        entries = list(book.transactions(start=before + 1))
    assert entries[0].kind is gl.EntryKind.DEFINITIONS
    defined = [t for t in entries if t.kind is gl.EntryKind.ACCOUNT]
    assert len(defined) == len(accounts) + 1
    assert after == before + len(entries)
    # From now on an account's definition is under the hash.
    name = accounts[0].name
    with _attacker(url) as run:
        run("UPDATE accounts SET min_balance = ? WHERE name = ?", (-5, name))
    err = _broken(url)
    assert repr(name) in str(err)
    assert "min_balance" in str(err)


# -- the idempotency record of a keyed entry: under its hash (formula 3) -------------------


def _fingerprint_of_other_transfer() -> str:
    """The fingerprint a retry of ``gift-1`` with another amount (999, not 100) has."""
    other = gl.Ledger()
    other.open_account("world", "USD", rule=gl.BalanceRule.unrestricted())
    other.open_account("creators:ana", "USD", normal="credit")
    other.transfer("world", "creators:ana", 999, key="gift-1")
    with other.store.read() as r:
        record = r.idempotency("gift-1")
    assert record is not None
    return record.fingerprint


def test_a_changed_fingerprint_is_named(durable_store_url: str) -> None:
    b = _build(durable_store_url)
    forged = _fingerprint_of_other_transfer()
    with _attacker(durable_store_url) as run:
        run("UPDATE idempotency SET fingerprint = ? WHERE key = ?", (forged, "gift-1"))
    before = _entries(durable_store_url)
    with gl.Ledger.open(durable_store_url) as book:
        # What the attacker wants: a retry with other content that replays the entry
        # instead of raising DuplicateKeyConflict. The entry's hash covers the record:
        # the replay is refused, and nothing is written.
        with pytest.raises(gl.ChainBroken, match="'gift-1' is not the one") as refused:
            book.transfer("world", "creators:ana", 999, key="gift-1")
        assert refused.value.transaction_id == b.transfer
    assert _entries(durable_store_url) == before
    err = _broken(durable_store_url)
    assert err.transaction_id == b.transfer
    assert f"transaction {b.transfer} does not match its hash" in str(err)
    assert "'gift-1'" in str(err)
    assert "fingerprint" in str(err)


def test_a_changed_result_is_named(durable_store_url: str) -> None:
    b = _build(durable_store_url)
    with _attacker(durable_store_url) as run:
        run("UPDATE idempotency SET result = ? WHERE key = ?", ("forged", "w-1"))
    err = _broken(durable_store_url)
    assert err.transaction_id == b.hold
    assert f"transaction {b.hold} does not match its hash" in str(err)
    assert "'w-1'" in str(err)


@pytest.mark.parametrize("target", ["none", "missing", "other"])
def test_a_record_redirected_behind_the_ledgers_back_is_not_replayed(
    durable_store_url: str, target: str
) -> None:
    """A key's record made to name no entry, an entry that does not exist, or another
    entry: a retry raises ChainBroken (never an AssertionError, never another entry's
    content), writes nothing, and verify() names the entry."""
    b = _build(durable_store_url)
    value = {"none": None, "missing": 999, "other": b.hold}[target]
    with _attacker(durable_store_url) as run:
        run("UPDATE idempotency SET transaction_id = ? WHERE key = ?", (value, "gift-1"))
    before = _entries(durable_store_url)
    with gl.Ledger.open(durable_store_url) as book, pytest.raises(gl.ChainBroken, match="'gift-1'"):
        book.transfer("world", "creators:ana", 100, key="gift-1")
    assert _entries(durable_store_url) == before
    assert _broken(durable_store_url).transaction_id == b.transfer


def test_a_failure_record_emptied_behind_the_ledgers_back_is_not_replayed(
    durable_store_url: str,
) -> None:
    b = _build(durable_store_url)
    with _attacker(durable_store_url) as run:
        run(
            "UPDATE idempotency SET error_type = NULL, error_message = NULL WHERE key = ?",
            ("w-2",),
        )
    before = _entries(durable_store_url)
    refused = pytest.raises(gl.ChainBroken, match="'w-2' names no entry and no error")
    with gl.Ledger.open(durable_store_url) as book, refused:
        book.hold("creators:ana", "payouts", 500, key="w-2")
    assert _entries(durable_store_url) == before
    assert _broken(durable_store_url).transaction_id == b.failure


@pytest.mark.parametrize(
    "value",
    ["[" * 5000 + "]" * 5000, '{"n": ' + "9" * 5000 + "}"],
    ids=["nested-5000-deep", "int-of-5000-digits"],
)
def test_postgres_json_no_decoder_can_read_is_named(postgres_url: str, value: str) -> None:
    """psycopg decodes json columns while it fetches, before the store's decoders:
    a value giftledger never writes must still raise ChainBroken, not RecursionError
    or ValueError, from verify(), reads and a keyed retry."""
    b = _build(postgres_url)
    with _attacker(postgres_url) as run:
        run("UPDATE transactions SET metadata = ?::json WHERE id = ?", (value, b.transfer))
    assert "JSON value" in str(_broken(postgres_url))
    with gl.Ledger.open(postgres_url) as book:
        with pytest.raises(gl.ChainBroken, match="JSON value"):
            list(book.transactions())
        with pytest.raises(gl.ChainBroken, match="JSON value"):
            book.transfer("world", "creators:ana", 100, key="gift-1")


def test_a_hold_record_redirected_to_another_hold_is_not_replayed(
    durable_store_url: str,
) -> None:
    """A hold's key made to name another hold: a retry raises ChainBroken, as a post's
    does, instead of returning the other hold."""
    b = _build(durable_store_url)
    with gl.Ledger.open(durable_store_url) as book:
        other = book.hold("creators:ana", "payouts", 20, key="w-3")
    with _attacker(durable_store_url) as run:
        run("UPDATE idempotency SET transaction_id = ? WHERE key = ?", (other.id, "w-1"))
    before = _entries(durable_store_url)
    refused = pytest.raises(gl.ChainBroken, match="'w-1'")
    with gl.Ledger.open(durable_store_url) as book, refused:
        book.hold("creators:ana", "payouts", 30, key="w-1")
    assert _entries(durable_store_url) == before
    assert _broken(durable_store_url).transaction_id == b.hold


def test_a_retry_of_an_entry_whose_hash_version_was_changed_is_refused(
    durable_store_url: str,
) -> None:
    """A keyed entry given a hash version no giftledger writes: a retry under its key
    raises ChainBroken (not the hash function's ValueError), and verify() names it."""
    b = _build(durable_store_url)
    with _attacker(durable_store_url) as run:
        if durable_store_url.startswith("postgresql"):
            run("ALTER TABLE transactions DROP CONSTRAINT gl_transactions_hash_version_check", ())
        run("UPDATE transactions SET hash_version = ? WHERE id = ?", (7, b.transfer))
    refused = pytest.raises(gl.ChainBroken, match="hash version 7")
    with gl.Ledger.open(durable_store_url) as book, refused:
        book.transfer("world", "creators:ana", 100, key="gift-1")
    assert _broken(durable_store_url).transaction_id == b.transfer
