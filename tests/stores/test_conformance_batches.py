"""post_many does what posting the same requests one by one would do, on every store.

Random batches of transfers (some overdrawing, some naming unknown accounts,
some reusing idempotency keys with the same or other content) go through
``post_many`` on the store under test and, one by one, through ``post`` on a
twin memory ledger on the same clock. With ``atomic=False`` each result is the
twin's (the same entry, hash and all, or the same error); with ``atomic=True``
the batch matches the twin when every request succeeds and leaves nothing
when one fails.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

import giftledger as gl

WALLETS = ("w:a", "w:b", "w:c")

request_st = st.builds(
    lambda debit, credit, amount, key, memo: gl.TransactionRequest(
        [gl.debit(debit, amount), gl.credit(credit, amount)], key=key, memo=memo
    ),
    st.sampled_from([*WALLETS, "mint", "nobody"]),
    st.sampled_from([*WALLETS, "mint"]),
    st.integers(1, 60),
    st.none() | st.sampled_from(["k0", "k1", "k2"]),
    st.sampled_from(["", "gift"]),
)
batch_st = st.lists(request_st, min_size=1, max_size=8)
SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _world(book: gl.Ledger) -> gl.Ledger:
    book.open_account("mint", "COIN", rule=gl.BalanceRule.unrestricted())
    for i, name in enumerate(WALLETS):
        book.open_account(name, "COIN")
        book.transfer(name, "mint", 20 * (i + 1))  # debit-normal wallets: 20, 40, 60
    return book


def _outcome(result: gl.Transaction | gl.GiftLedgerError) -> object:
    return result if isinstance(result, gl.Transaction) else type(result)


def _one_by_one(
    requests: list[gl.TransactionRequest], clock: gl.ManualClock
) -> tuple[gl.Ledger, list[object]]:
    """The twin ledger after posting ``requests`` one by one, and each one's outcome."""
    twin = _world(gl.Ledger(clock=clock))
    outcomes: list[object] = []
    for r in requests:
        try:
            outcomes.append(twin.post(list(r.postings), key=r.key, memo=r.memo))
        except gl.GiftLedgerError as exc:
            outcomes.append(type(exc))
    return twin, outcomes


@pytest.fixture
def new_book(store_url: str, tmp_path: Path) -> Callable[[gl.ManualClock], gl.Ledger]:
    """A new, empty ledger on the store under test for each Hypothesis example."""
    if store_url.startswith("postgres"):
        pytest.skip("a schema per example is too slow here; the conformance tests cover it")
    counter = itertools.count()

    def new(clock: gl.ManualClock) -> gl.Ledger:
        if store_url == "memory:":
            return gl.Ledger(clock=clock)
        return gl.Ledger.open(f"sqlite:///{tmp_path / f'b{next(counter)}.db'}", clock=clock)

    return new


@SETTINGS
@given(requests=batch_st)
def test_non_atomic_batch_equals_posting_one_by_one(
    new_book: Callable[[gl.ManualClock], gl.Ledger], requests: list[gl.TransactionRequest]
) -> None:
    clock = gl.ManualClock()
    twin, outcomes = _one_by_one(requests, clock)
    with _world(new_book(clock)) as book:
        results = book.post_many(requests, atomic=False)
        assert [_outcome(r) for r in results] == outcomes
        assert list(book.transactions()) == list(twin.transactions())
        assert book.balances() == twin.balances()
        assert book.verify() == twin.verify()


@SETTINGS
@given(requests=batch_st)
def test_atomic_batch_equals_posting_one_by_one_or_leaves_nothing(
    new_book: Callable[[gl.ManualClock], gl.Ledger], requests: list[gl.TransactionRequest]
) -> None:
    clock = gl.ManualClock()
    twin, outcomes = _one_by_one(requests, clock)
    with _world(new_book(clock)) as book:
        head = book.head
        failures = [i for i, o in enumerate(outcomes) if not isinstance(o, gl.Transaction)]
        if not failures:
            assert book.post_many(requests) == outcomes
            assert book.head == twin.head
        else:
            error = outcomes[failures[0]]
            assert isinstance(error, type)
            with pytest.raises(error) as raised:
                book.post_many(requests)
            assert f"request {failures[0]} of the batch" in raised.value.__notes__[-1]
            # Nothing is written but, if the failing request has a key, the record of
            # its failure: one KEY entry that moves nothing.
            added = list(book.transactions(head[0] + 1))
            assert len(added) <= 1
            if added:
                (journaled,) = added
                assert journaled.kind is gl.EntryKind.KEY
                assert not journaled.postings
                assert journaled.meta["gl.key"] == requests[failures[0]].key is not None
                assert journaled.prev_hash == head[1]
            else:
                assert book.head == head
        assert book.verify() == book.head[0]
