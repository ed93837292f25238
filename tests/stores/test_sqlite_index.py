"""SQLite answers past balances, history and the trial balance from stored totals and an
index; the answers must be those of the memory store and of a scan of the journal.

The files here are built with two entries per index segment, so every history
crosses many segments; the histories include back-dated and post-dated entries,
holds and reversals, which is where the shortcuts could go wrong.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import giftledger as gl
from giftledger._stores import sqlite as glsqlite

ACCOUNTS = ("a", "b", "c", "d")
START = datetime(2026, 1, 1, tzinfo=UTC)
_POSTED = {gl.EntryKind.POST, gl.EntryKind.POST_HOLD, gl.EntryKind.REVERSAL}

# One step of a history: a transfer (with an effective time that may lie before or
# after the clock's), a hold posted in part or voided, or the reversal of an entry.
_when = st.one_of(st.none(), st.integers(-600, 120).map(lambda m: timedelta(minutes=m)))
_transfer = st.tuples(
    st.just("transfer"), st.sampled_from(ACCOUNTS), st.sampled_from(ACCOUNTS), st.integers(1, 999)
).filter(lambda t: t[1] != t[2])
_step = st.one_of(
    st.tuples(_transfer, _when),
    st.tuples(st.tuples(st.just("hold"), st.booleans(), st.integers(1, 999)), st.none()),
    st.tuples(st.tuples(st.just("reverse"), st.integers(0, 10_000)), _when),
)


@contextmanager
def _ledgers(bits: int = 1) -> Iterator[tuple[gl.Ledger, gl.Ledger, gl.ManualClock]]:
    """A SQLite ledger with ``2**bits`` entries per index segment, and a memory one."""
    clock = gl.ManualClock(START)
    with tempfile.TemporaryDirectory() as tmp:
        with mock.patch.object(glsqlite, "SEGMENT_BITS", bits):
            sql = gl.Ledger.open(f"sqlite:///{os.path.join(tmp, 'book.db')}", clock=clock)
        with sql:
            mem = gl.Ledger(clock=clock)
            for book in (sql, mem):
                for name in ACCOUNTS:
                    book.open_account(name, "USD", rule=gl.BalanceRule.unrestricted())
            yield sql, mem, clock


def _apply(books: tuple[gl.Ledger, ...], clock: gl.ManualClock, steps: list) -> None:  # type: ignore[type-arg]
    for step, when in steps:
        clock.advance(timedelta(minutes=1))
        effective = None if when is None else clock.now() + when
        for book in books:
            kind = step[0]
            if kind == "transfer":
                _, debit, credit, cents = step
                book.transfer(debit, credit, gl.from_minor(cents, "USD"), effective_at=effective)
            elif kind == "hold":
                _, post, cents = step
                hold = book.hold("a", "b", gl.from_minor(cents, "USD"))
                if post:
                    book.post_hold(hold, gl.from_minor((cents + 1) // 2, "USD"))
                else:
                    book.void_hold(hold)
            else:
                head = book.head[0]
                if not head:
                    continue
                target = book.transaction(step[1] % head + 1)
                if target.kind is gl.EntryKind.POST and target.reversed_by is None:
                    book.reverse(target, effective_at=effective)


def _scan(book: gl.Ledger, name: str, at: datetime | None, through: int | None) -> gl.Money:
    net = 0
    for tx in book.transactions():
        if tx.kind not in _POSTED or (through is not None and tx.id > through):
            continue
        if at is not None and tx.effective_at > at:
            continue
        net += sum(p.signed for p in tx.postings if p.account == name)
    return gl.from_minor(net, "USD")


def _cuts(book: gl.Ledger) -> tuple[list[datetime | None], list[int | None]]:
    times: set[datetime] = set()
    for tx in book.transactions():
        times |= {tx.effective_at, tx.effective_at - timedelta(microseconds=1)}
    head = book.head[0]
    return [None, START, *sorted(times)], [None, 0, *range(1, head + 1)]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(_step, max_size=24))
def test_past_balances_equal_the_memory_store_and_a_scan(steps: list) -> None:  # type: ignore[type-arg]
    with _ledgers() as (sql, mem, clock):
        _apply((sql, mem), clock, steps)
        times, throughs = _cuts(mem)
        for name in ACCOUNTS:
            for at in times:
                for through in throughs:
                    expected = _scan(mem, name, at, through)
                    assert sql.balance(name, at=at, recorded_through=through) == expected, (
                        name,
                        at,
                        through,
                    )
                    assert mem.balance(name, at=at, recorded_through=through) == expected
        assert sql.trial_balance() == mem.trial_balance()
        assert sql.verify() == mem.verify()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_step, max_size=24), st.integers(1, 4))
def test_history_pages_cross_segments_as_the_memory_store_gives_them(
    steps: list,  # type: ignore[type-arg]
    limit: int,
) -> None:
    with _ledgers() as (sql, mem, clock):
        _apply((sql, mem), clock, steps)
        for name in ACCOUNTS:
            after: int | None = None
            while True:
                page, expected = (
                    sql.history(name, after=after, limit=limit),
                    mem.history(name, after=after, limit=limit),
                )
                assert page == expected
                after = page.next_cursor
                if after is None:
                    break


def test_a_posting_back_dated_before_its_account_s_latest_is_kept_apart() -> None:
    with _ledgers() as (sql, _, clock):
        sql.transfer("a", "b", 5)
        clock.advance(timedelta(hours=1))
        late = sql.transfer("a", "b", 7, effective_at=START - timedelta(days=1))
        sql.transfer("c", "a", 1, effective_at=START - timedelta(days=2))  # c's first: in order
        store = sql.store
        assert isinstance(store, glsqlite.SQLiteStore)
        with store.read() as r:
            rows = r._db.execute(  # type: ignore[attr-defined]
                "SELECT a.name, b.tx_id, b.idx, b.amount FROM backdated b "
                "JOIN accounts a ON a.id = b.account_id ORDER BY a.name"
            ).fetchall()
        assert rows == [
            ("a", late.id, 0, 700),
            ("a", late.id + 1, 1, -100),
            ("b", late.id, 1, -700),
        ]
        assert sql.balance("a", at=START - timedelta(hours=1)) == gl.from_minor(600, "USD")


def test_a_rolled_back_batch_leaves_the_index_as_it_found_it() -> None:
    bad = [[gl.debit("d", 1), gl.credit("c", 1)], [gl.debit("nobody", 1), gl.credit("c", 1)]]
    with _ledgers() as (sql, mem, clock):
        for book in (sql, mem):
            book.transfer("a", "b", 1)
            with pytest.raises(gl.UnknownAccount):
                book.post_many(bad)  # d's first posting, in a new segment, then a failure
            book.post_many([[gl.debit("d", 2), gl.credit("c", 2)]], dry_run=True)
        clock.advance(timedelta(hours=1))
        for book in (sql, mem):
            book.transfer("d", "c", 3, effective_at=START)  # in the rolled-back's segment
            book.transfer("d", "c", 4, effective_at=START - timedelta(days=1))
        for name in ACCOUNTS:
            assert sql.history(name) == mem.history(name)
            for at in (None, START - timedelta(days=1), START, clock.now()):
                assert sql.balance(name, at=at) == _scan(mem, name, at, None)


def test_two_connections_writing_in_turn_keep_the_index_whole() -> None:
    # Each ledger caches its accounts' latest effective time and the segments it has
    # indexed; a write by the other connection must make it read them again.
    with _ledgers() as (sql, mem, clock):
        store = sql.store
        assert isinstance(store, glsqlite.SQLiteStore)
        with gl.Ledger.open(store.url, clock=clock) as other:
            for n in range(12):
                clock.advance(timedelta(minutes=1))
                back = START - timedelta(hours=n % 3) if n % 4 == 3 else None
                for book in (sql if n % 2 else other, mem):
                    book.transfer(ACCOUNTS[n % 4], ACCOUNTS[(n + 1) % 4], n + 1, effective_at=back)
            times, throughs = _cuts(mem)
            for name in ACCOUNTS:
                assert sql.history(name) == mem.history(name)
                assert other.history(name) == mem.history(name)
                for at in times:
                    for through in throughs[::3]:
                        expected = _scan(mem, name, at, through)
                        assert sql.balance(name, at=at, recorded_through=through) == expected
                        assert other.balance(name, at=at, recorded_through=through) == expected
            assert other.verify() == mem.verify()


def test_an_account_pending_holds_are_read_by_the_pending_indexes(tmp_path: Path) -> None:
    """Schema 5 indexes every hold by (account, id); SQLite keeps no statistics, and
    without being told would walk an account's every hold ever placed to find its
    pending ones (a settle's next expiry, ``holds(account)``: nine times slower on an
    account with a million settled holds). The pending holds are read through the
    pending-only indexes, named."""
    from giftledger._stores.sqlite import _PENDING_OF

    book = gl.Ledger.open(f"sqlite:///{tmp_path / 'holds.db'}")
    book.open_account("a", "USD", rule=gl.BalanceRule.unrestricted())
    book.open_account("b", "USD", rule=gl.BalanceRule.unrestricted())
    placed = [book.hold("a", "b", "1.00") for _ in range(6)]
    for hold in placed[:4]:
        book.void_hold(hold)
    assert [h.id for h in book.holds("a")] == [h.id for h in placed[4:]]
    assert [h.id for h in book.holds("b")] == [h.id for h in placed[4:]]
    book.close()
    query = f"EXPLAIN QUERY PLAN SELECT * FROM {_PENDING_OF}"
    with sqlite3.connect(tmp_path / "holds.db") as db:
        plan = " ".join(str(row[3]) for row in db.execute(query, (1, 1)))
    assert "holds_pending_debit" in plan
    assert "holds_pending_credit" in plan
    assert "holds_debit_id" not in plan
