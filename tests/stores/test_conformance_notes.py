"""What every store keeps of notes and of the journal's time: a NOTE entry reopens
exactly as written and verifies, and a ledger reopened with a clock behind the
stored head still records no earlier than the head."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import giftledger as gl

from .conftest import OpenBook

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class SteppingClock:
    def __init__(self, now: datetime) -> None:
        self.now_ = now

    def now(self) -> datetime:
        return self.now_


def test_notes_reopen_exactly_and_verify(open_book: OpenBook) -> None:
    book = open_book(SteppingClock(T0))
    book.open_account("a", "USD", rule=gl.BalanceRule.unrestricted())
    book.open_account("b", "USD", normal="credit")
    book.transfer("a", "b", 5)
    notes = [
        book.note(),
        book.note(
            memo="terms v2\nsigned ✓ 'quoted'",
            metadata={"doc": "T-2", "pages": 2**40, "ok": False, "none": None},
            key="terms-2",
            effective_at=T0 - timedelta(days=30),
        ),
    ]
    book.transfer("a", "b", 1)
    journal = list(book.transactions())
    head = book.head
    book.close()

    again = open_book(SteppingClock(T0))
    assert list(again.transactions()) == journal
    assert [again.transaction(tx.id) for tx in notes] == notes
    assert again.find("terms-2") == notes[1]
    assert again.head == head
    assert again.balance("b") == gl.from_minor(600, "USD")
    assert again.verify() == head[0] == 2 + 4  # two accounts' definitions, then 4 entries
    # A replay after the reopen returns the stored note.
    assert (
        again.note(
            memo="terms v2\nsigned ✓ 'quoted'",
            metadata={"doc": "T-2", "pages": 2**40, "ok": False, "none": None},
            key="terms-2",
            effective_at=T0 - timedelta(days=30),
        )
        == notes[1]
    )


def test_a_reopened_ledger_with_a_clock_behind_the_head_records_at_the_head(
    open_book: OpenBook,
) -> None:
    book = open_book(SteppingClock(T0 + timedelta(hours=1)))
    book.open_account("a", "USD", rule=gl.BalanceRule.unrestricted())
    book.open_account("b", "USD", normal="credit")
    first = book.transfer("a", "b", 5)
    book.close()
    # Another process whose clock is an hour behind.
    behind = open_book(SteppingClock(T0))
    second = behind.transfer("a", "b", 5)
    note = behind.note(memo="still no earlier")
    assert first.recorded_at == second.recorded_at == note.recorded_at == T0 + timedelta(hours=1)
    assert behind.verify() == note.id == first.id + 2
