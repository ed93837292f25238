"""``Ledger.post`` on PostgreSQL links its entry at commit (``gl_link``, schema 3).

The write reads the chain's head without its lock, numbers its entry after it and
hashes its content; the server takes the head only in the commit's round trip. These
tests make another writer commit in that gap (from inside the first writer's clock,
which the ledger reads once it holds its account locks) and check that the server
renumbers the entry, links it after the other one, moves its time up to the head's
(``recorded_at`` never goes backwards), corrects the running balance of an account
both wrote to, and shifts the id its idempotency key remembers; and that the entry the
caller gets back is the one stored.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from moneyed import Money

import giftledger as gl

pytestmark = pytest.mark.postgres

START = datetime(2026, 1, 1, tzinfo=UTC)


class _Interloper:
    """A clock that lets another ledger post once, the first time it is read."""

    def __init__(self, at: datetime, other: gl.Ledger, postings: list[gl.PostingSpec]) -> None:
        self.at = at
        self.other = other
        self.postings = postings
        self.posted: gl.Transaction | None = None

    def now(self) -> datetime:
        if self.posted is None:
            self.posted = self.other.post(self.postings)
        return self.at


def _books(url: str) -> tuple[gl.Ledger, gl.ManualClock]:
    clock = gl.ManualClock(START)
    book = gl.Ledger.open(url, clock=clock)
    book.open_account("supply", "USD", normal="credit", rule=gl.BalanceRule.unrestricted())
    book.open_account("alice", "USD")
    book.open_account("bob", "USD")
    book.post([gl.debit("alice", "10.00"), gl.credit("supply", "10.00")])
    book.post([gl.debit("bob", "10.00"), gl.credit("supply", "10.00")])
    return book, clock


def test_an_entry_linked_after_another_writer_is_renumbered_and_its_time_moves_up(
    postgres_url: str,
) -> None:
    other, clock = _books(postgres_url)
    clock.set(START + timedelta(seconds=10))
    with other, gl.Ledger.open(postgres_url) as book:
        # The interloper posts at START + 10 s; this writer's clock reads START + 1 s.
        late = _Interloper(
            START + timedelta(seconds=1),
            other,
            [gl.debit("supply", "2.00"), gl.credit("bob", "2.00")],
        )
        book.clock = late
        tx = book.post([gl.debit("supply", "3.00"), gl.credit("alice", "3.00")], key="k-1")
        first = late.posted
        assert first is not None
        assert tx.id == first.id + 1
        assert tx.prev_hash == first.hash
        assert tx.recorded_at == first.recorded_at == START + timedelta(seconds=10)
        assert tx.effective_at == tx.recorded_at  # it followed the recorded time
        stored = book.transaction(tx.id)
        assert stored is not None
        assert (stored.hash, stored.recorded_at, stored.effective_at) == (
            tx.hash,
            tx.recorded_at,
            tx.effective_at,
        )
        # The key remembers the real id: a replay returns the stored entry.
        book.clock = gl.ManualClock(START + timedelta(seconds=20))
        again = book.post([gl.debit("supply", "3.00"), gl.credit("alice", "3.00")], key="k-1")
        assert again.id == tx.id
        assert again.hash == tx.hash
        # supply's running balance counts the interloper's debit: verify() re-derives it.
        assert book.balance("supply") == Money("15.00", "USD")
        history = book.history("supply").items
        assert [row.balance_after for row in history][-2:] == [
            Money("18.00", "USD"),
            Money("15.00", "USD"),
        ]
        assert book.verify() == tx.id


@pytest.mark.parametrize("given", ["back-dated", "the clock's own time"])
def test_a_given_effective_time_stays_when_the_recorded_time_moves_up(
    postgres_url: str, given: str
) -> None:
    other, clock = _books(postgres_url)
    clock.set(START + timedelta(seconds=10))
    with other, gl.Ledger.open(postgres_url) as book:
        late = _Interloper(
            START + timedelta(seconds=1),
            other,
            [gl.debit("supply", "1.00"), gl.credit("bob", "1.00")],
        )
        book.clock = late
        # The very object the clock returns, or a time well before it.
        back = late.at if given != "back-dated" else START - timedelta(days=2)
        tx = book.post([gl.debit("supply", "1.00"), gl.credit("alice", "1.00")], effective_at=back)
        assert tx.recorded_at == START + timedelta(seconds=10)
        assert tx.effective_at == back
        stored = book.transaction(tx.id)
        assert stored is not None
        assert stored.hash == tx.hash
        assert stored.effective_at == back
        assert book.verify() == tx.id


def test_a_lone_post_keeps_its_clock_time_and_chains_on(postgres_url: str) -> None:
    book, clock = _books(postgres_url)
    with book:
        clock.set(START + timedelta(minutes=1))
        tx = book.post([gl.debit("supply", "1.00"), gl.credit("alice", "1.00")])
        assert tx.recorded_at == START + timedelta(minutes=1)
        assert tx.id == book.head[0]
        assert tx.prev_hash == book.transaction(tx.id - 1).hash  # type: ignore[union-attr]
        assert book.verify() == tx.id


class _Closer:
    """A clock that lets another ledger close an account, the first time it is read."""

    def __init__(self, at: datetime, other: gl.Ledger, name: str) -> None:
        self.at = at
        self.other = other
        self.name = name
        self.closed = False

    def now(self) -> datetime:
        if not self.closed:
            self.other.close_account(self.name)
            self.closed = True
        return self.at


def test_an_account_closed_in_the_gap_refuses_the_post_instead_of_taking_its_money(
    postgres_url: str,
) -> None:
    """Only accounts with a floor are locked before the head: an unrestricted one
    closed by another writer in the gap (it had nothing, so the close was allowed)
    must not receive the post, which would leave money in a closed account."""
    other, _ = _books(postgres_url)
    other.open_account("x", "USD", rule=gl.BalanceRule.unrestricted())
    with other, gl.Ledger.open(postgres_url) as book:
        head = other.head
        closer = _Closer(START + timedelta(seconds=1), other, "x")
        book.clock = closer
        with pytest.raises(gl.AccountClosed, match="'x'"):
            book.post([gl.debit("supply", "5.00"), gl.credit("x", "5.00")])
        assert closer.closed
        assert book.account("x").closed
        assert book.balance("x") == Money("0.00", "USD")
        assert book.head[0] == head[0] + 1  # the close only
        assert book.verify() == head[0] + 1


def test_a_post_the_server_cannot_link_runs_again_holding_the_head(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When linking at commit gives up (here: the entry's content cannot be cut for
    the server), the write is run again on the path that holds the head: it posts
    once, and the books verify."""
    from giftledger._stores import postgres as pgstore

    book, _ = _books(postgres_url)
    refused: list[int] = []
    real = pgstore.link_parts

    def once(tx: gl.Transaction, *record: str | None) -> object:
        if not refused:
            refused.append(tx.id)
            return None
        return real(tx, *record)

    monkeypatch.setattr(pgstore, "link_parts", once)
    with book:
        head = book.head[0]
        tx = book.post([gl.debit("supply", "1.00"), gl.credit("alice", "1.00")], key="fb-1")
        assert refused == [head + 1]
        assert tx.id == head + 1
        assert book.transaction(tx.id) == tx
        assert book.find("fb-1") == tx
        assert book.balance("alice") == Money("9.00", "USD")
        assert book.verify() == tx.id
