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

from .helpers import OPENED, fund, open_books

ALICE = "viewers:alice:coins"


#: The entries of :func:`_journal`, by name: ids count from the last account it opens.
E = {
    name: OPENED + n
    for n, name in enumerate(
        ("fund", "gift", "diamonds", "convert", "hold", "post_hold", "reverse", "hold2", "void"),
        start=1,
    )
}
LAST = OPENED + 10


def _journal(clock: gl.ManualClock) -> tuple[gl.Ledger, gl.MemoryStore]:
    """A ledger holding one entry of every kind, with later entries after each."""
    store = gl.MemoryStore()
    book = open_books(gl.Ledger(store, clock=clock))
    assert book.head[0] == OPENED  # one ACCOUNT entry per account opened
    assert fund(book, ALICE, 1000).id == E["fund"]
    gift = book.transfer(  # key, memo, metadata
        ALICE, "platform:escrow", 10, key="gift-1", memo="a rose", metadata={"gift": "rose"}
    )
    assert gift.id == E["gift"]
    assert (
        book.transfer("platform:diamond-supply", "creators:bob:diamonds", 1000).id == E["diamonds"]
    )
    converted = book.convert("creators:bob:diamonds", "creators:bob:cash", 500, rate="0.005")
    assert converted.id == E["convert"]  # rates
    clock.advance(timedelta(minutes=1))
    hold = book.hold(ALICE, "platform:escrow", 100, timeout=timedelta(hours=1))  # expires_at
    assert hold.id == E["hold"]
    assert book.post_hold(hold.id, 60).id == E["post_hold"]  # hold_id
    assert book.reverse(converted.id).id == E["reverse"]  # reverses; convert.reversed_by
    hold2 = book.hold(ALICE, "platform:escrow", 5)
    assert hold2.id == E["hold2"]
    assert book.void_hold(hold2.id).id == E["void"]
    assert book.transfer(ALICE, "platform:escrow", 1).id == LAST
    assert book.verify() == LAST
    return book, store


def _other_postings(tx: gl.Transaction) -> tuple[gl.Posting, ...]:
    first, *rest = tx.postings
    return (attrs.evolve(first, minor=first.minor + 1), *rest)


# field -> (the entry to change, how to change it)
TAMPERING = {
    "id": (E["gift"], lambda tx: {"id": 99}),
    "kind": (E["gift"], lambda tx: {"kind": gl.EntryKind.REVERSAL}),
    "postings": (E["gift"], lambda tx: {"postings": _other_postings(tx)}),
    "effective_at": (E["gift"], lambda tx: {"effective_at": tx.effective_at - timedelta(days=1)}),
    "recorded_at": (
        E["gift"],
        lambda tx: {"recorded_at": tx.recorded_at + timedelta(microseconds=1)},
    ),
    "key": (E["gift"], lambda tx: {"key": "gift-2"}),
    "memo": (E["gift"], lambda tx: {"memo": "a tulip"}),
    "metadata": (E["gift"], lambda tx: {"metadata": (("gift", "tulip"),)}),
    "reverses": (E["reverse"], lambda tx: {"reverses": E["diamonds"]}),
    "hold_id": (E["post_hold"], lambda tx: {"hold_id": E["hold2"]}),
    "expires_at": (E["hold"], lambda tx: {"expires_at": tx.expires_at + timedelta(days=365)}),
    "rates": (E["convert"], lambda tx: {"rates": (gl.Rate("DIAMOND", "USD", Fraction(1, 100)),)}),
    "prev_hash": (E["diamonds"], lambda tx: {"prev_hash": "f" * 64}),
    "hash": (E["diamonds"], lambda tx: {"hash": "0" * 64}),
    "reversed_by": (E["gift"], lambda tx: {"reversed_by": LAST}),
    "hash_version": (E["diamonds"], lambda tx: {"hash_version": 1}),
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


@pytest.mark.parametrize("target", range(1, LAST + 1))  # the ACCOUNT entries too
def test_changing_the_memo_of_any_entry_is_found(clock: gl.ManualClock, target: int) -> None:
    book, store = _journal(clock)
    store._tamper(target, memo="rewritten")
    with pytest.raises(gl.ChainBroken) as info:
        book.verify()
    assert info.value.transaction_id == target


def test_verify_names_the_first_break(clock: gl.ManualClock) -> None:
    book, store = _journal(clock)
    store._tamper(E["hold2"], memo="later")
    store._tamper(E["diamonds"], memo="earlier")
    with pytest.raises(gl.ChainBroken) as info:
        book.verify()
    assert info.value.transaction_id == E["diamonds"]


def test_a_rehashed_entry_still_breaks_the_link_of_the_next(clock: gl.ManualClock) -> None:
    from giftledger._ledger.hashing import entry_hash

    book, store = _journal(clock)
    forged = attrs.evolve(book.transaction(E["gift"]), memo="forged")
    with store.read() as r:  # a keyed entry: formula 3 hashes its record too
        record = r.idempotency("gift-1")
    assert record is not None
    rehashed = entry_hash(forged, forged.prev_hash, record.fingerprint, record.result)
    store._tamper(E["gift"], memo="forged", hash=rehashed)
    with pytest.raises(gl.ChainBroken) as info:
        book.verify()
    assert info.value.transaction_id == E["gift"] + 1


def test_a_posting_to_an_account_after_its_closing_is_named(
    clock: gl.ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that read an account before another closed it (a race the stores must
    prevent) would leave money in a closed account: verify() names the entry."""
    book = open_books(gl.Ledger(gl.MemoryStore(), clock=clock))
    book.open_account("x", "COIN", normal="credit")
    closing = book.close_account("x")
    closed_by = book.head[0]
    real = gl.MemoryStore.lock_accounts

    def stale(self: gl.MemoryStore, names: object) -> dict[str, object]:
        # the account as a writer read it before the close
        return {
            n: attrs.evolve(st, account=attrs.evolve(st.account, closed=False))
            for n, st in real(self, names).items()  # type: ignore[arg-type]
        }

    monkeypatch.setattr(gl.MemoryStore, "lock_accounts", stale)
    forged = book.transfer("platform:coin-supply", "x", 5)
    monkeypatch.setattr(gl.MemoryStore, "lock_accounts", real)
    assert closing.closed
    with pytest.raises(
        gl.ChainBroken, match=f"posts to account 'x', which transaction {closed_by}"
    ):
        book.verify()
    with pytest.raises(gl.ChainBroken) as info:
        book.verify()
    assert info.value.transaction_id == forged.id
