"""Hash formula 3 (a keyed entry hashed with its idempotency record) on books written
under formula 2: they open (the schema is migrated), keep verifying under formula 2,
and chain on under formula 3; a journal never goes back to an older formula.

A formula 2 book is written by this giftledger with the formula of new entries pinned
to 2 (``writes.HASH_VERSION``), and its schema marked as the release before wrote it
(SQLite schema 3; PostgreSQL schema 2 with its ``hash_version IN (1, 2)`` check),
without the index of entries by key and the server's head step (``gl_open``,
``gl_link``, ``gl_flush``) that the same schema step adds, nor schema 4's ``gl_ledger``.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

import giftledger as gl
from giftledger._ledger import writes
from giftledger._stores import postgres_schema
from giftledger._stores import sqlite as glsqlite


def _write_formula_2_book(url: str, monkeypatch: pytest.MonkeyPatch) -> int:
    """Write a small book under formula 2; return its entry count."""
    monkeypatch.setattr(writes, "HASH_VERSION", 2)
    clock = gl.ManualClock()
    with gl.Ledger.open(url, clock=clock) as book:
        book.open_account("world", "USD", rule=gl.BalanceRule.unrestricted())
        book.open_account("creators:ana", "USD", normal="credit")
        clock.advance(timedelta(seconds=1))
        book.transfer("world", "creators:ana", 100, key="gift-1")
        book.transfer("world", "creators:ana", 5)
        with pytest.raises(gl.InsufficientFunds):
            book.transfer("creators:ana", "world", 999, key="w-1")  # a remembered failure
        count = book.verify()
        assert {t.hash_version for t in book.transactions()} == {2}
    monkeypatch.setattr(writes, "HASH_VERSION", 3)
    return count


def _as_the_release_before(url: str) -> None:
    """Mark the schema as the release before formula 3 left it."""
    if url.startswith("sqlite:///"):
        import sqlite3

        db = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        db.execute("DROP INDEX transactions_key")
        db.execute("DROP INDEX holds_debit_id")  # and version 5's (the holds by account)
        db.execute("DROP INDEX holds_credit_id")
        db.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
        db.close()
        return
    import psycopg

    from giftledger._stores import postgres as pgstore

    admin, schema = pgstore._split_url(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            f'ALTER TABLE "{schema}".gl_transactions '
            f"DROP CONSTRAINT gl_transactions_hash_version_check, "
            f"ADD CONSTRAINT gl_transactions_hash_version_check CHECK (hash_version IN (1, 2))"
        )
        conn.execute(f'DROP INDEX "{schema}".gl_transactions_key')
        conn.execute(f'DROP INDEX "{schema}".gl_holds_debit_id')  # and schema 6's
        conn.execute(f'DROP INDEX "{schema}".gl_holds_credit_id')
        functions = conn.execute(  # schemas 3 to 5 (two gl_link since 5) and 8
            "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n "
            "ON n.oid = p.pronamespace WHERE n.nspname = %s AND p.proname = ANY(%s)",
            (schema, ["gl_open", "gl_link", "gl_flush", "gl_ledger", "gl_slot", "gl_claim_slot"]),
        ).fetchall()
        assert len(functions) == 7
        for (function,) in functions:
            conn.execute(f"DROP FUNCTION {function}")
        conn.execute(f"UPDATE \"{schema}\".gl_meta SET value = '2' WHERE key = 'schema_version'")


def _schema_version(url: str) -> str:
    if url.startswith("sqlite:///"):
        import sqlite3

        db = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            return str(
                db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
            )
        finally:
            db.close()
    import psycopg

    from giftledger._stores import postgres as pgstore

    admin, schema = pgstore._split_url(url)
    with psycopg.connect(admin) as conn:
        row = conn.execute(
            f"SELECT value FROM \"{schema}\".gl_meta WHERE key = 'schema_version'"
        ).fetchone()
    assert row is not None
    return str(row[0])


def test_a_formula_2_book_keeps_verifying_and_chains_on_under_formula_3(
    durable_store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = durable_store_url
    before = _write_formula_2_book(url, monkeypatch)
    _as_the_release_before(url)
    with gl.Ledger.open(url) as book:  # migrates the schema
        assert book.verify() == before
        clock = gl.ManualClock(book.transaction(before).recorded_at + timedelta(seconds=1))
    current = (
        glsqlite.SCHEMA_VERSION if url.startswith("sqlite") else postgres_schema.SCHEMA_VERSION
    )
    assert _schema_version(url) == str(current)
    with gl.Ledger.open(url, clock=clock) as book:
        # A key of a formula 2 entry still replays, and still refuses other content.
        assert book.transfer("world", "creators:ana", 100, key="gift-1").id < before
        with pytest.raises(gl.DuplicateKeyConflict):
            book.transfer("world", "creators:ana", 101, key="gift-1")
        book.transfer("world", "creators:ana", 7, key="gift-2")
        book.note(memo="unkeyed")
        after = book.verify()
        versions = [t.hash_version for t in book.transactions()]
    assert after == before + 2
    assert versions == [2] * before + [3, 3]
    with gl.Ledger.open(url) as book:  # reopened: the same answer
        assert book.verify() == after


def test_a_formula_2_entry_after_formula_3_ones_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    book = gl.Ledger()
    book.open_account("world", "USD", rule=gl.BalanceRule.unrestricted())
    book.open_account("creators:ana", "USD", normal="credit")
    book.transfer("world", "creators:ana", 100, key="gift-1")
    monkeypatch.setattr(writes, "HASH_VERSION", 2)  # as an earlier release would write
    late = book.transfer("world", "creators:ana", 5, key="gift-2")
    with pytest.raises(gl.ChainBroken, match="then 2, then 3, never back") as err:
        book.verify()
    assert err.value.transaction_id == late.id
