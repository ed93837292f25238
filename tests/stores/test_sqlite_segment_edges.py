"""Entries at the real index segment's edges (ids 16,383, 16,384 and 16,385, with the
file's own 2^14 entries per segment): past balances across them, back-dated and
post-dated, equal those of a memory ledger given the same entries.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from moneyed import Money

import giftledger as gl
from giftledger._stores import sqlite as glsqlite

START = datetime(2026, 1, 1, tzinfo=UTC)
EDGE = 1 << glsqlite.SEGMENT_BITS  # 16,384: the first id of the second segment
OPENED = 3  # the ACCOUNT entries of f, g and x: ids 1 .. 3


def test_past_balances_across_the_first_segment_edge(tmp_path: Path) -> None:
    assert glsqlite.SEGMENT_BITS == 14
    clock = gl.ManualClock(START)
    sql = gl.Ledger.open(f"sqlite:///{tmp_path / 'book.db'}", clock=clock)
    mem = gl.Ledger(clock=clock)
    filler = [[gl.debit("f", 1), gl.credit("g", 1)]] * (EDGE - 4 - OPENED)  # ids 5 .. 16,381
    at = START + timedelta(hours=1)
    edge = [  # ids 16,382 .. 16,388: x's, at, before and after the edge
        gl.TransactionRequest([gl.debit("x", 1), gl.credit("g", 1)], effective_at=at),
        gl.TransactionRequest(  # 16,383: back-dated by a microsecond
            [gl.debit("x", 2), gl.credit("g", 2)], effective_at=at - timedelta(microseconds=1)
        ),
        gl.TransactionRequest([gl.debit("x", 4), gl.credit("g", 4)], effective_at=at),  # 16,384
        gl.TransactionRequest(  # 16,385: post-dated by a microsecond
            [gl.debit("x", 8), gl.credit("g", 8)], effective_at=at + timedelta(microseconds=1)
        ),
        gl.TransactionRequest(  # 16,386: back-dated by an hour
            [gl.debit("x", 16), gl.credit("g", 16)], effective_at=START
        ),
        gl.TransactionRequest([gl.debit("x", 32), gl.credit("g", 32)], effective_at=at),
    ]
    with sql:
        for book in (sql, mem):
            for name in ("f", "g", "x"):
                book.open_account(name, "USD", rule=gl.BalanceRule.unrestricted())
            assert book.head[0] == OPENED
            book.transfer("x", "g", 64, effective_at=START - timedelta(days=1))  # id 4
            book.post_many(filler)
            txs = book.post_many(edge)
            assert [tx.id for tx in txs] == list(range(EDGE - 2, EDGE + 4))
        assert sql.head == mem.head
        times = [None, START - timedelta(days=1), START]
        times += [at + timedelta(microseconds=d) for d in (-2, -1, 0, 1, 2)]
        throughs = [
            None,
            1,
            OPENED + 1,
            EDGE - 3,
            EDGE - 2,
            EDGE - 1,
            EDGE,
            EDGE + 1,
            EDGE + 2,
            EDGE + 3,
        ]
        for name in ("x", "g"):
            for when in times:
                for through in throughs:
                    assert sql.balance(name, at=when, recorded_through=through) == mem.balance(
                        name, at=when, recorded_through=through
                    ), (name, when, through)
        assert sql.balance("x", at=at, recorded_through=EDGE) == Money(64 + 7, "USD")
        assert sql.balance("x", at=at) == Money(64 + 1 + 2 + 4 + 16 + 32, "USD")
        assert (
            sql.history("x", after=EDGE - 2, limit=3).items
            == mem.history("x", after=EDGE - 2, limit=3).items
        )
        assert sql.trial_balance() == mem.trial_balance()
        assert sql.verify() == mem.verify() == EDGE + 3
