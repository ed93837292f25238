"""The time of a write: the clock read under the write's locks, clamped so that
``recorded_at`` never goes backwards, and used for every check of that write.

Every test takes ``book``, so tests/stores/test_conformance_ledger.py runs them on
SQLite and PostgreSQL too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import giftledger as gl

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


class SteppingClock:
    """A clock that goes wherever it is told, backwards included (unlike ManualClock):
    a wall clock corrected by NTP, or another machine's clock behind this one's."""

    def __init__(self, now: datetime = T0) -> None:
        self.now_ = now
        self.reads = 0

    def now(self) -> datetime:
        self.reads += 1
        return self.now_


@pytest.fixture
def stepping(book: gl.Ledger) -> SteppingClock:
    clock = SteppingClock()
    book.clock = clock
    book.open_account("a", "USD", rule=gl.BalanceRule.unrestricted())
    book.open_account("b", "USD", normal="credit")
    return clock


def test_a_clock_stepping_back_records_the_heads_time(
    book: gl.Ledger, stepping: SteppingClock
) -> None:
    first = book.transfer("a", "b", 1)
    stepping.now_ = T0 - MINUTE
    second = book.transfer("a", "b", 1)
    assert first.recorded_at == second.recorded_at == T0
    assert second.effective_at == T0  # the default effective time is the clamped one
    stepping.now_ = T0 + MINUTE
    third = book.transfer("a", "b", 1)
    assert third.recorded_at == T0 + MINUTE
    times = [tx.recorded_at for tx in book.transactions()]
    assert times == sorted(times)
    assert book.verify() == third.id == first.id + 2


def test_a_back_dated_entry_keeps_its_effective_time(
    book: gl.Ledger, stepping: SteppingClock
) -> None:
    book.transfer("a", "b", 1)
    stepping.now_ = T0 - MINUTE
    tx = book.transfer("a", "b", 1, effective_at=T0 - timedelta(days=2))
    assert (tx.effective_at, tx.recorded_at) == (T0 - timedelta(days=2), T0)


@pytest.mark.parametrize("write", ["note", "hold", "post_hold", "void_hold", "post_many"])
def test_every_kind_of_write_is_clamped(
    book: gl.Ledger, stepping: SteppingClock, write: str
) -> None:
    book.transfer("a", "b", 5)
    hold = book.hold("b", "a", 1)
    stepping.now_ = T0 + MINUTE
    book.note(memo="the head moves on")
    stepping.now_ = T0 - timedelta(hours=1)
    tx = {
        "note": lambda: book.note(memo="late"),
        "hold": lambda: book.transaction(book.hold("b", "a", 1).id),
        "post_hold": lambda: book.post_hold(hold),
        "void_hold": lambda: book.void_hold(hold),
        "post_many": lambda: book.post_many([[gl.debit("a", 1), gl.credit("b", 1)]])[0],
    }[write]()
    assert tx.recorded_at == T0 + MINUTE


def test_a_hold_timeout_runs_from_the_clamped_time(
    book: gl.Ledger, stepping: SteppingClock
) -> None:
    stepping.now_ = T0 + timedelta(hours=2)
    book.transfer("a", "b", 5)
    stepping.now_ = T0
    hold = book.hold("b", "a", 1, timeout=timedelta(hours=1))
    assert hold.expires_at == T0 + timedelta(hours=3)
    # An expiry the clock has not reached but the head has is in the past.
    with pytest.raises(gl.InvalidArgument, match="is not after now"):
        book.hold("b", "a", 1, expires_at=T0 + timedelta(hours=1))


def test_a_hold_the_head_has_outlived_has_expired(book: gl.Ledger, stepping: SteppingClock) -> None:
    book.transfer("a", "b", 5)
    hold = book.hold("b", "a", 5, timeout=timedelta(hours=1))
    stepping.now_ = T0 + timedelta(hours=2)
    book.note(memo="two hours later")
    stepping.now_ = T0 + timedelta(minutes=30)  # the clock steps back before the expiry
    with pytest.raises(gl.HoldExpired):
        book.post_hold(hold)
    with pytest.raises(gl.HoldExpired):
        book.void_hold(hold)
    # and the balance check of a new write no longer counts it as pending
    assert book.transfer("b", "a", 5).recorded_at == T0 + timedelta(hours=2)
    (expired,) = book.expire_holds()
    assert (expired.kind, expired.hold_id) == (gl.EntryKind.EXPIRE_HOLD, hold.id)


def test_expire_holds_records_with_the_write_time(book: gl.Ledger, stepping: SteppingClock) -> None:
    book.transfer("a", "b", 5)
    hold = book.hold("b", "a", 5, timeout=timedelta(hours=1))
    stepping.now_ = T0 + timedelta(hours=1)
    (expired,) = book.expire_holds()
    assert (expired.hold_id, expired.recorded_at) == (hold.id, T0 + timedelta(hours=1))
    assert book.expire_holds() == ()


def test_the_clock_is_read_inside_the_write(book: gl.Ledger, stepping: SteppingClock) -> None:
    # A guard runs under the write's locks, before the time is read: a clock that
    # moves during the guard shows in the entry.
    def guard(r: gl.StoreReader) -> None:
        stepping.now_ = T0 + timedelta(hours=5)

    tx = book.post([gl.debit("a", 1), gl.credit("b", 1)], guard=guard)
    assert tx.recorded_at == T0 + timedelta(hours=5)
