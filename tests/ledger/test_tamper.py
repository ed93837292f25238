"""Acceptance 8: changing any stored field of any past transaction makes verify() name it.

Tampering needs a back door into the store: these tests use the memory store's
``_tamper``; a store's own suite can tamper with its rows the same way.
"""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

import attrs
import pytest

import giftledger as gl

from .helpers import fund, open_books

ALICE = "viewers:alice:coins"


def _journal(clock: gl.ManualClock) -> tuple[gl.Ledger, gl.MemoryStore]:
    """A ledger holding one entry of every kind, with later entries after each."""
    store = gl.MemoryStore()
    book = open_books(gl.Ledger(store, clock=clock))
    fund(book, ALICE, 1000)  # 1
    book.transfer(  # 2: key, memo, metadata
        ALICE, "platform:escrow", 10, key="gift-1", memo="a rose", metadata={"gift": "rose"}
    )
    book.transfer("platform:diamond-supply", "creators:bob:diamonds", 1000)  # 3
    book.convert("creators:bob:diamonds", "creators:bob:cash", 500, rate="0.005")  # 4: rates
    clock.advance(timedelta(minutes=1))
    book.hold(ALICE, "platform:escrow", 100, timeout=timedelta(hours=1))  # 5: expires_at
    book.post_hold(5, 60)  # 6: hold_id
    book.reverse(4)  # 7: reverses; 4.reversed_by = 7
    book.hold(ALICE, "platform:escrow", 5)  # 8
    book.void_hold(8)  # 9
    book.transfer(ALICE, "platform:escrow", 1)  # 10
    assert book.verify() == 10
    return book, store


def _other_postings(tx: gl.Transaction) -> tuple[gl.Posting, ...]:
    first, *rest = tx.postings
    return (attrs.evolve(first, minor=first.minor + 1), *rest)


# field -> (the entry to change, how to change it)
TAMPERING = {
    "id": (2, lambda tx: {"id": 99}),
    "kind": (2, lambda tx: {"kind": gl.EntryKind.REVERSAL}),
    "postings": (2, lambda tx: {"postings": _other_postings(tx)}),
    "effective_at": (2, lambda tx: {"effective_at": tx.effective_at - timedelta(days=1)}),
    "recorded_at": (2, lambda tx: {"recorded_at": tx.recorded_at + timedelta(microseconds=1)}),
    "key": (2, lambda tx: {"key": "gift-2"}),
    "memo": (2, lambda tx: {"memo": "a tulip"}),
    "metadata": (2, lambda tx: {"metadata": (("gift", "tulip"),)}),
    "reverses": (7, lambda tx: {"reverses": 3}),
    "hold_id": (6, lambda tx: {"hold_id": 8}),
    "expires_at": (5, lambda tx: {"expires_at": tx.expires_at + timedelta(days=365)}),
    "rates": (4, lambda tx: {"rates": (gl.Rate("DIAMOND", "USD", Fraction(1, 100)),)}),
    "prev_hash": (3, lambda tx: {"prev_hash": "f" * 64}),
    "hash": (3, lambda tx: {"hash": "0" * 64}),
    "reversed_by": (2, lambda tx: {"reversed_by": 10}),
    "hash_version": (3, lambda tx: {"hash_version": 1}),
}


def test_every_stored_field_is_covered() -> None:
    assert set(TAMPERING) == set(attrs.fields_dict(gl.Transaction))


@pytest.mark.parametrize("field", sorted(TAMPERING))
def test_changing_a_stored_field_makes_verify_name_that_transaction(
    clock: gl.ManualClock, field: str
) -> None:
    book, store = _journal(clock)
    target, change = TAMPERING[field]
    original = book.transaction(target)
    store._tamper(target, **change(original))
    with pytest.raises(gl.ChainBroken) as info:
        book.verify()
    assert info.value.transaction_id == target
    assert f"transaction {target} " in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("target", range(1, 11))
def test_changing_the_memo_of_any_entry_is_found(clock: gl.ManualClock, target: int) -> None:
    book, store = _journal(clock)
    store._tamper(target, memo="rewritten")
    with pytest.raises(gl.ChainBroken) as info:
        book.verify()
    assert info.value.transaction_id == target


def test_verify_names_the_first_break(clock: gl.ManualClock) -> None:
    book, store = _journal(clock)
    store._tamper(8, memo="later")
    store._tamper(3, memo="earlier")
    with pytest.raises(gl.ChainBroken) as info:
        book.verify()
    assert info.value.transaction_id == 3


def test_a_rehashed_entry_still_breaks_the_link_of_the_next(clock: gl.ManualClock) -> None:
    from giftledger._ledger.hashing import entry_hash

    book, store = _journal(clock)
    forged = attrs.evolve(book.transaction(2), memo="forged")
    store._tamper(2, memo="forged", hash=entry_hash(forged, forged.prev_hash))
    with pytest.raises(gl.ChainBroken) as info:
        book.verify()
    assert info.value.transaction_id == 3
