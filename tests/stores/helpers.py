"""Helpers shared by the store tests."""

from __future__ import annotations

import giftledger as gl


def journaled_definitions(book: gl.Ledger, first: int, accounts: int) -> int:
    """The number of entries the first write of this release to a book from an earlier
    release journals before its own: the ``DEFINITIONS`` entry at ``first``, one
    ``ACCOUNT`` entry per account the book held (``accounts``), one ``KEY`` entry per
    idempotency record no entry carried. Checks each of them."""
    head = book.transaction(first)
    assert head.kind is gl.EntryKind.DEFINITIONS
    assert not head.postings
    assert head.meta["gl.accounts"] == accounts
    records = head.meta["gl.records"]
    assert isinstance(records, int)
    follow = [book.transaction(first + 1 + i) for i in range(accounts + records)]
    assert [tx.kind for tx in follow] == [gl.EntryKind.ACCOUNT] * accounts + [
        gl.EntryKind.KEY
    ] * records
    assert all(not tx.postings for tx in follow)
    return 1 + accounts + records


def holds_from_every_account(book: gl.Ledger) -> None:
    """``holds_from`` of each account that has holds answers, from the first entry on, its
    every hold, and from its last hold's id on, that hold alone (a migrated book: the
    fixture's withdrawals, through the new index)."""
    every = book.holds(pending_only=False)
    assert every  # the fixture's withdrawals
    with book.store.read() as r:
        for name in sorted({n for h in every for n in (h.debit, h.credit)}):
            mine = [h for h in every if name in (h.debit, h.credit)]
            assert r.holds_from(name, 1) == mine  # type: ignore[attr-defined]
            assert r.holds_from(name, mine[-1].id) == mine[-1:]  # type: ignore[attr-defined]
