"""verify(since=checkpoint) on SQLite and PostgreSQL, tampered as an attacker with the
database would: triggers dropped (SQLite) or ``session_replication_role = replica``
(PostgreSQL), then a truncation of the last entries or a rewrite of entry 3 with
entries 3 to 11 hashed again, so the chain itself still holds."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import attrs
import pytest

import giftledger as gl

from ..ledger.helpers import rehashed

Execute = Callable[[str, tuple[Any, ...]], None]


@contextmanager
def _attacker(url: str) -> Iterator[Execute]:
    """Run statements on the ledger's database behind its back, triggers out of the way."""
    if url.startswith("sqlite:///"):
        db = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        names = db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()
        for (name,) in names:
            db.execute(f'DROP TRIGGER "{name}"')
        try:
            yield lambda sql, args: db.execute(sql, args) and None
        finally:
            db.close()
        return
    import psycopg

    from giftledger._stores import postgres as pgstore

    admin, schema = pgstore._split_url(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("SELECT set_config('search_path', %s, false)", (f'"{schema}"',))
        conn.execute("SET session_replication_role = replica")  # no user triggers fire

        def run(sql: str, args: tuple[Any, ...]) -> None:
            conn.execute(
                sql.replace("transactions", "gl_transactions").replace("?", "%s"),
                args,  # type: ignore[arg-type]
            )

        yield run


#: The entries ``_books`` starts with: the definitions of its two accounts.
OPENED = 2


def _books(url: str) -> gl.Ledger:
    clock = gl.ManualClock()
    book = gl.Ledger.open(url, clock=clock)
    book.open_account("a", "USD")
    book.open_account("b", "USD", normal="credit")
    for i in range(8):
        clock.advance(timedelta(seconds=1))
        book.transfer("a", "b", i + 1, memo=f"entry {i + 1}")
    for i in range(3):
        book.note(memo=f"note {i + 9}")  # 11 to 13: they move nothing, no totals to fix
    assert book.verify() == OPENED + 11
    return book


def test_verify_since_reports_a_truncation(durable_store_url: str) -> None:
    with _books(durable_store_url) as book:
        cp = book.checkpoint()
        with _attacker(durable_store_url) as run:
            run("DELETE FROM transactions WHERE id > ?", (OPENED + 9,))  # two notes
        assert book.verify() == OPENED + 9  # the books alone look whole
        with pytest.raises(gl.ChainBroken, match="entries 12 to 13 were removed") as err:
            book.verify(since=cp)
        assert err.value.transaction_id == OPENED + 10


def test_verify_since_reports_a_rewrite_hashed_again_to_the_end(durable_store_url: str) -> None:
    with _books(durable_store_url) as book:
        cp = book.checkpoint()
        first = OPENED + 3  # the third transfer
        proof = book.inclusion_proof(OPENED + 5, cp)
        entries = [book.transaction(id) for id in range(first, cp.size + 1)]
        entries[0] = attrs.evolve(entries[0], memo="rewritten")
        with _attacker(durable_store_url) as run:
            for tx in rehashed(entries, book.transaction(first - 1).hash):
                run(
                    "UPDATE transactions SET memo = ?, prev_hash = ?, hash = ? WHERE id = ?",
                    (tx.memo, tx.prev_hash, tx.hash, tx.id),
                )
        assert book.verify() == cp.size  # every entry was hashed again: the chain holds
        with pytest.raises(gl.ChainBroken, match="checkpoint's head, now hashes to") as err:
            book.verify(since=cp)
        # The head path's subtrees of 8 and 4 entries: the first holds the rewrite.
        assert cp.size == OPENED + 11 == 13
        assert "an entry at or before 8 was rewritten" in str(err.value)
        assert err.value.transaction_id == 8
        # What the creator holds still checks against the published checkpoint, and
        # a proof from the rewritten books is refused by it.
        gl.verify_inclusion(proof, cp)
        fresh = gl.Ledger.open(durable_store_url)
        try:
            forged = attrs.evolve(proof, leaf=fresh.transaction(OPENED + 5).hash)
            with pytest.raises(gl.ProofFailed):
                gl.verify_inclusion(forged, cp)
            with pytest.raises(gl.ChainBroken, match="another ledger's"):
                fresh.inclusion_proof(OPENED + 5, cp)
        finally:
            fresh.close()


def test_a_rewrite_not_hashed_again_is_named_by_verify_since(durable_store_url: str) -> None:
    with _books(durable_store_url) as book:
        cp = book.checkpoint()
        with _attacker(durable_store_url) as run:
            run("UPDATE transactions SET memo = ? WHERE id = ?", ("rewritten", OPENED + 3))
        with pytest.raises(gl.ChainBroken) as err:
            book.verify(since=cp)
        assert err.value.transaction_id == OPENED + 3


def test_checkpoints_of_a_reopened_store_are_the_same(durable_store_url: str) -> None:
    with _books(durable_store_url) as book:
        cp = book.checkpoint()
        book.transfer("a", "b", 1)
        later = book.checkpoint()
    with gl.Ledger.open(durable_store_url) as again:
        assert again.checkpoint() == later
        assert again.verify(since=cp) == OPENED + 12
        gl.verify_consistency(again.consistency_proof(cp), cp, later)
        gl.verify_inclusion(again.inclusion_proof(OPENED + 12, later), later)
