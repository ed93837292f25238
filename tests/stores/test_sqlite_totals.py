"""A unit's debit and credit totals only grow: past 2^63 - 1 they must still add up.

One amount is at most 10^18 minor units, so ten of the largest transfers pass SQLite's
largest integer in ``totals`` while every account's balance stays in range. The memory
store adds Python ints; SQLite keeps the totals as decimal text.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import giftledger as gl
from giftledger._stores import sqlite as glsqlite

BIG = 10**18  # gl.MAX_MINOR


def _open(path: Path) -> gl.Ledger:
    book = gl.Ledger.open(f"sqlite:///{path}")
    for name in ("a", "b"):
        book.open_account(name, "JPY", rule=gl.BalanceRule.unrestricted())
    return book


def test_a_units_turnover_may_pass_the_largest_sqlite_integer(tmp_path: Path) -> None:
    assert gl.MAX_MINOR == BIG
    with _open(tmp_path / "book.db") as book:
        for i in range(12):  # back and forth: balances stay within one amount
            book.transfer(*(("a", "b") if i % 2 == 0 else ("b", "a")), gl.from_minor(BIG, "JPY"))
        book.post_many([[gl.debit("a", gl.from_minor(BIG, "JPY")), gl.credit("b", BIG)]] * 3)
        with book.store.read() as r:
            assert r.totals() == ({"JPY": 15 * BIG}, {"JPY": 15 * BIG})
        assert book.balance("a") == gl.from_minor(3 * BIG, "JPY")
        assert book.verify() == 2 + 15  # the two accounts' definitions, then 15 transfers
    with gl.Ledger.open(f"sqlite:///{tmp_path / 'book.db'}") as book:
        mem = gl.Ledger()
        for name in ("a", "b"):
            mem.open_account(name, "JPY", rule=gl.BalanceRule.unrestricted())
        for tx in book.transactions():
            if tx.kind is gl.EntryKind.POST:  # not the ACCOUNT entries: they move nothing
                mem.post(list(tx.postings))
        assert book.trial_balance() == mem.trial_balance()
        assert book.verify() == 2 + 15


def test_a_version_1_file_whose_turnover_passed_2_63_migrates(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    assert glsqlite.migrate(db, glsqlite.MIGRATIONS[:1]) == 1
    db.execute("BEGIN")
    for id, name in ((1, "a"), (2, "b")):
        db.execute(
            "INSERT INTO accounts (id, name, unit, normal, min_balance, closed, trading, "
            "metadata) VALUES (?, ?, 'JPY', 'debit', NULL, 0, 0, '[]')",
            (id, name),
        )
    for id in range(1, 13):  # not a valid chain: only the totals are asked about
        db.execute(
            "INSERT INTO transactions (id, kind, effective_at, recorded_at, key, memo, "
            "metadata, reverses, hold_id, expires_at, rates, prev_hash, hash) "
            "VALUES (?, 'post', ?, ?, NULL, '', '[]', NULL, NULL, NULL, '[]', '', '')",
            (id, id, id),
        )
        debit, credit = (1, 2) if id % 2 else (2, 1)
        net = BIG if id % 2 else 0
        db.execute(
            "INSERT INTO postings VALUES (?, 0, ?, 'debit', ?, 'JPY', ?), "
            "(?, 1, ?, 'credit', ?, 'JPY', ?)",
            (id, debit, BIG + 7, net, id, credit, BIG + 7, -net),
        )
    db.execute("COMMIT")
    db.close()
    with gl.Ledger.open(f"sqlite:///{path}") as book, book.store.read() as r:  # migrates
        assert r.totals() == ({"JPY": 12 * (BIG + 7)}, {"JPY": 12 * (BIG + 7)})


def test_an_account_net_past_2_63_is_refused_naming_the_account_and_value(
    tmp_path: Path,
) -> None:
    with _open(tmp_path / "book.db") as book:
        big = gl.from_minor(BIG, "JPY")
        for _ in range(9):
            book.transfer("a", "b", big)
        head = book.head
        # Refused by the ledger, alike on every store, before SQLite sees it.
        with pytest.raises(
            gl.AmountOutOfRange, match=r"account 'a' would hold 10,000,000,000,000,000,000 minor"
        ):
            book.transfer("a", "b", big)
        with pytest.raises(gl.AmountOutOfRange, match=r"account 'a' would hold") as info:
            book.post_many(
                [[gl.debit("b", big), gl.credit("a", big)]]
                + [[gl.debit("a", big), gl.credit("b", big)]] * 2
            )
        assert "raised by request 2 of the batch" in str(info.value.__notes__)
        assert book.head == head
        assert book.balance("a") == gl.from_minor(9 * BIG, "JPY")
        book.transfer("b", "a", big)  # and the book goes on
        assert book.verify() == 2 + 10  # after the two accounts' definitions
