"""``records_from(prefix, seq)``: the records under consecutive keys, on every store.

The chain keeps a party's profile changes and the rules it runs under as records under
consecutive keys (``gl:party:viewer:<name>:0``, ``…:1``, …; ``gl:rules:0``, …). A
process reads them the first time it meets the party: key by key, that is two reads a
record and one more for the first key not taken; a PostgreSQL reader sends the records
of sixteen keys and their entries in one round trip. Either way the answer is the same:
each record with its entry, up to the first key not taken, taken by a remembered
failure, or naming no entry.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

import giftledger as gl
from giftledger._economy.index import records_from

from .conftest import OpenBook


def _keys(book: gl.Ledger) -> dict[str, gl.Transaction]:
    """Entries under x:0, x:1, x:3 … x:39 with a failure remembered under x:2."""
    book.open_account("cash", "USD", rule=gl.BalanceRule.unrestricted())
    book.open_account("wallet", "USD", normal="credit")  # non-negative
    written = {}
    for n in range(40):
        key = f"x:{n}"
        if n == 2:
            with pytest.raises(gl.InsufficientFunds):
                book.post([gl.debit("wallet", 5), gl.credit("cash", 5)], key=key)
            continue
        written[key] = book.post([gl.debit("cash", n + 1), gl.credit("wallet", n + 1)], key=key)
    return written


def test_records_from_walks_consecutive_keys_to_the_first_gap(open_book: OpenBook) -> None:
    book = open_book()
    written = _keys(book)
    with book.store.read() as r:
        got = records_from(r, "x:", 0)
        want = [("x:0", written["x:0"]), ("x:1", written["x:1"])]
        assert [(rec.key, tx) for rec, tx in got] == want
        assert records_from(r, "x:", 2) == []  # a remembered failure ends the walk
        got = records_from(r, "x:", 3)  # 37 records: across the batches of sixteen
        want = [(f"x:{n}", written[f"x:{n}"]) for n in range(3, 40)]
        assert [(rec.key, tx) for rec, tx in got] == want
        assert all(rec.transaction_id == tx.id for rec, tx in got)
        assert records_from(r, "x:", 40) == []
        assert records_from(r, "y:", 0) == []


@pytest.mark.postgres
def test_a_postgres_reader_reads_a_party_profiles_in_one_round_trip(
    postgres_url: str, trips: list[int]
) -> None:
    """A process meeting a viewer with 20 profile changes reads them in two round trips
    (sixteen keys, then the rest), not 43; a purchase then locks its region's accounts,
    as the memory store's does."""
    econ = gl.presets.load("tiktok-live")
    start = econ.latest.effective_from + timedelta(days=1)
    books = []
    for url in (postgres_url, "memory:"):
        clock = gl.ManualClock(start)
        book = gl.Ledger.open(url, clock=clock)
        app = gl.GiftEconomy(book, econ)
        app.open_viewer("vic", region="US")
        for n in range(20):
            clock.advance(timedelta(minutes=1))
            app.update_viewer("vic", region=("DE", "GB", "FR", "US")[n % 4], age=20 + n)
        books.append((book, clock, app))
    (pg_book, pg_clock, _), (mem_book, _, mem) = books
    with pg_book, gl.Ledger.open(postgres_url, clock=pg_clock) as fresh:
        app = gl.GiftEconomy(fresh, econ)  # a process that has not met "vic"
        with fresh.store.read() as r:
            trips[0] = 0
            records = app._party_records(r, "viewer", "vic")
            assert trips[0] == 2
        with mem_book.store.read() as r:
            assert records == mem._party_records(r, "viewer", "vic")
        assert [rec.age for _, rec in records] == [None, *range(20, 40)]
        got = app.buy_coins("vic", pack=70, channel="web", key="b")
        want = mem.buy_coins("vic", pack=70, channel="web", key="b")
        assert (got.postings, dict(got.meta)) == (want.postings, dict(want.meta))
        with fresh.store.write() as w:
            assert w.records_from("gl:party:viewer:vic:", 0) is None  # type: ignore[attr-defined]
        fresh.verify()
