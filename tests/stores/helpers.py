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
