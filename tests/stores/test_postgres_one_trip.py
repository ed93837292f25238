"""``Ledger.post`` on PostgreSQL in one round trip (schema 4).

A store that knows a post's accounts from an earlier write reads nothing before the
commit: ``gl_link`` locks the accounts with a floor, checks their balance rules,
computes every running balance, links and commits. What the ledger must decide
itself (a rule that would break, an account closed or unknown, holds past their
expiry, a balance past 64 bits) is refused by the server (SQLSTATE ``GLRUN``) and run
again reading the accounts, so the caller gets the error the ledger names on every
store, and nothing is written. Each test replays the same requests on the memory
store: same outcome, same message, same balances.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from moneyed import Money

import giftledger as gl
from giftledger._stores import postgres as pgstore

pytestmark = pytest.mark.postgres

START = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def trips() -> Iterator[list[int]]:
    """Counts the round trips every PostgreSQL write sends (one ``_send`` each)."""
    sent = [0]
    real = pgstore._Session._send

    def count(self: Any, *args: Any, **kwargs: Any) -> Any:
        sent[0] += 1
        return real(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pgstore._Session, "_send", count)
        yield sent


def _open(url: str) -> tuple[gl.Ledger, gl.ManualClock]:
    clock = gl.ManualClock(START)
    book = gl.Ledger.open(url, clock=clock)
    book.open_account("supply", "USD", normal="credit", rule=gl.BalanceRule.unrestricted())
    book.open_account("alice", "USD")  # must not go negative
    book.open_account("bob", "USD")
    book.post([gl.debit("alice", "10.00"), gl.credit("supply", "10.00")])
    return book, clock


def _both(url: str) -> list[tuple[gl.Ledger, gl.ManualClock]]:
    return [_open(url), _open("memory:")]


def _balances(book: gl.Ledger, name: str) -> list[Money]:
    """The account's balance after each of its postings, as the store keeps them."""
    return [line.balance_after for line in book.history(name, limit=10_000).items]


def _refusal(book: gl.Ledger, call: Callable[[], object]) -> str:
    head = book.verify()
    with pytest.raises(gl.GiftLedgerError) as caught:
        call()
    assert book.verify() == head  # nothing written
    return f"{type(caught.value).__name__}: {caught.value}"


def test_a_post_to_known_accounts_is_one_round_trip(postgres_url: str, trips: list[int]) -> None:
    book, _ = _open(postgres_url)
    with book:
        trips[0] = 0
        tx = book.post([gl.credit("alice", "1.00"), gl.debit("supply", "1.00")])
        assert trips[0] == 1
        assert book.transaction(tx.id) == tx
        # Its running balances are the real ones, not the zero the client started from.
        assert _balances(book, "alice") == [
            Money("10.00", "USD"),
            Money("9.00", "USD"),
        ]
        assert _balances(book, "supply")[-1] == Money("9.00", "USD")
        assert book.verify() == tx.id


def test_a_broken_floor_is_named_as_on_every_store_and_writes_nothing(
    postgres_url: str, trips: list[int]
) -> None:
    messages = []
    for book, _ in _both(postgres_url):
        with book:
            messages.append(
                _refusal(
                    book,
                    lambda b=book: b.post(
                        [gl.credit("alice", "10.01"), gl.debit("supply", "10.01")]
                    ),
                )
            )
            assert book.balance("alice") == Money("10.00", "USD")
            trips[0] = 0
            book.post([gl.credit("alice", "10.00"), gl.debit("supply", "10.00")])
            # On PostgreSQL the refusal did not stop the next post going in one trip.
            assert trips[0] == (1 if book.store.url.startswith("postgresql") else 0)
            assert book.balance("alice") == Money("0.00", "USD")
    assert "InsufficientFunds" in messages[0]
    assert messages[0] == messages[1]


def test_a_wallet_another_writer_drained_is_checked_by_its_real_balance(
    postgres_url: str,
) -> None:
    book, _ = _open(postgres_url)
    with book, gl.Ledger.open(postgres_url) as other:
        other.post([gl.credit("alice", "8.00"), gl.debit("supply", "8.00")])
        # This store still knows alice from its own post, when she had 10.00.
        message = _refusal(
            book, lambda: book.post([gl.credit("alice", "5.00"), gl.debit("supply", "5.00")])
        )
        assert "InsufficientFunds" in message
        assert "available now 2.00 USD" in message
        tx = book.post([gl.credit("alice", "2.00"), gl.debit("supply", "2.00")])
        assert _balances(book, "alice")[-1] == Money("0.00", "USD")
        assert _balances(book, "supply")[-1] == Money("0.00", "USD")
        assert book.verify() == tx.id


def test_running_balances_stay_exact_when_another_writer_posts_between(
    postgres_url: str,
) -> None:
    book, _ = _open(postgres_url)
    with book, gl.Ledger.open(postgres_url) as other:
        for i in range(1, 6):
            writer = book if i % 2 else other
            writer.post([gl.credit("alice", "1.00"), gl.debit("bob", "1.00")])
            writer.post([gl.debit("alice", "0.50"), gl.credit("supply", "0.50")])
        assert _balances(book, "alice") == [
            Money(x, "USD")
            for x in ("10", "9", "9.5", "8.5", "9", "8", "8.5", "7.5", "8", "7", "7.5")
        ]
        assert _balances(book, "bob")[-1] == Money("5.00", "USD")
        assert _balances(book, "supply")[-1] == Money("12.50", "USD")
        assert book.verify() == other.verify()


def test_an_account_closed_by_another_writer_refuses_the_post(postgres_url: str) -> None:
    book, _ = _open(postgres_url)
    with book, gl.Ledger.open(postgres_url) as other:
        book.post([gl.debit("bob", "1.00"), gl.credit("supply", "1.00")])
        other.post([gl.credit("bob", "1.00"), gl.debit("supply", "1.00")])
        other.close_account("bob")
        message = _refusal(
            book, lambda: book.post([gl.debit("bob", "1.00"), gl.credit("supply", "1.00")])
        )
        assert message.startswith("AccountClosed: ")
        assert "'bob' is closed" in message


def test_holds_count_as_the_ledger_counts_them_pending_and_past_their_expiry(
    postgres_url: str,
) -> None:
    outcomes = []
    for book, clock in _both(postgres_url):
        with book:
            book.post([gl.credit("alice", "1.00"), gl.debit("supply", "1.00")])  # known
            book.hold("supply", "alice", "6.00", timeout=timedelta(minutes=1))
            # 9.00 posted, 6.00 held: 3.00 available.
            refused = _refusal(
                book, lambda b=book: b.post([gl.credit("alice", "4.00"), gl.debit("bob", "4.00")])
            )
            book.post([gl.credit("alice", "3.00"), gl.debit("bob", "3.00")])
            # Past its expiry the hold no longer counts (the server leaves that to the
            # ledger: the write runs again reading the holds).
            clock.advance(timedelta(minutes=2))
            tx = book.post([gl.credit("alice", "6.00"), gl.debit("bob", "6.00")])
            outcomes.append((refused, book.balance("alice"), book.balance("bob"), tx.id))
            assert book.verify() == tx.id
    assert "InsufficientFunds" in outcomes[0][0]
    assert outcomes[0] == outcomes[1]


def test_a_balance_past_64_bits_is_refused_as_on_every_store(postgres_url: str) -> None:
    top = 10**18  # the most one amount may hold, in minor units (cents here)
    messages = []
    for book, _ in _both(postgres_url):
        with book:
            book.open_account("sink", "USD", normal="credit", rule=gl.BalanceRule.unrestricted())
            book.post([gl.debit("bob", 1), gl.credit("sink", 1)])  # both known
            postings = [gl.debit("bob", top // 100), gl.credit("sink", top // 100)] * 9
            book.post(postings)  # 9 * 10**18 cents: near the top of a signed 64-bit int
            messages.append(_refusal(book, lambda b=book, p=postings: b.post(p)))
            assert book.balance("bob") == Money(9 * top // 100 + 1, "USD")
    assert messages[0].startswith("AmountOutOfRange: ")
    assert messages[0] == messages[1]


def test_an_unknown_account_is_named_even_if_the_store_knew_it(postgres_url: str) -> None:
    # The store's knowledge of an account is only a guess: one that is gone (removed
    # behind the triggers' back) is refused by the server and named by the ledger.
    book, _ = _open(postgres_url)
    with book:
        book.post([gl.debit("bob", "1.00"), gl.credit("supply", "1.00")])
        known = book.store._defs["bob"]  # type: ignore[attr-defined]
        book.store._defs["carol"] = type(known)(  # type: ignore[attr-defined]
            "carol", "USD", gl.Side.DEBIT, gl.BalanceRule(0), False, False, ()
        )
        message = _refusal(
            book, lambda: book.post([gl.debit("carol", "1.00"), gl.credit("supply", "1.00")])
        )
        assert message.startswith("UnknownAccount: ")
        assert "'carol'" in message


@pytest.mark.parametrize(
    "guess",
    [
        pytest.param({"rule": gl.BalanceRule.unrestricted()}, id="floor-unknown"),
        pytest.param({"unit": "EUR"}, id="other-unit"),
    ],
)
def test_an_account_the_store_knew_otherwise_is_read_before_it_is_written(
    postgres_url: str, guess: dict[str, Any]
) -> None:
    # A database restored behind a running store may hold other accounts under the
    # same names: the server checks each account is the one the client knew (its
    # unit, and a floor where the client wrote to slots), else the write runs again
    # reading the accounts, and the rules of the real ones hold.
    book, _ = _open(postgres_url)
    with book:
        book.post([gl.credit("alice", "1.00"), gl.debit("supply", "1.00")])
        known = book.store._defs["alice"]  # type: ignore[attr-defined]
        fields = {"rule": known.rule, "unit": known.unit, **guess}
        book.store._defs["alice"] = type(known)(  # type: ignore[attr-defined]
            "alice", fields["unit"], known.normal, fields["rule"], False, False, ()
        )
        message = _refusal(
            book, lambda: book.post([gl.credit("alice", "9.01"), gl.debit("supply", "9.01")])
        )
        assert message.startswith("InsufficientFunds: ")
        assert "available now 9.00 USD" in message
        book.post([gl.credit("alice", "9.00"), gl.debit("supply", "9.00")])
        assert _balances(book, "alice")[-1] == Money("0.00", "USD")
        assert book.store._defs["alice"] == known  # type: ignore[attr-defined]
        assert book.verify() == book.head[0]
