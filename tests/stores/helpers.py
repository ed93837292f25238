"""Helpers shared by the store tests."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from typing import Any

import pytest

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


class Alarm(Exception):
    """What a signal handler (a timeout) raises."""


def interrupted_at(code: Any, text: str) -> Callable[[], Any]:
    """A tracer raising KeyboardInterrupt, as a signal handler would, the first time
    ``code`` reaches its line holding ``text`` (which must be there). Calling the result
    installs it (``sys.settrace``; the caller removes it) and returns a list that holds
    the line once it fired."""
    lines, start = inspect.getsourcelines(code)
    line = start + next(i for i, source in enumerate(lines) if text in source)
    fired: list[int] = []

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        if frame.f_code is not code.__code__:
            return None

        def local(frame: Any, event: str, arg: Any) -> Any:
            if event == "line" and frame.f_lineno == line and not fired:
                fired.append(line)
                raise KeyboardInterrupt("injected")
            return local

        return local

    def arm() -> Any:
        sys.settrace(tracer)
        return fired

    return arm


def a_torn_write_is_not_read(
    book: gl.Ledger, arm: Callable[[], Any], torn: Callable[[], object]
) -> None:
    """In a caller's block, after a post: ``torn`` (a write) interrupted by ``arm``'s
    tracer (see ``interrupted_at``) while it buffers its rows dooms the block; a read
    that would send them is refused naming the interrupt, and so is the block's end."""

    def block_goes_on() -> None:
        with book.store.write():
            book.post([gl.debit("cash", 5), gl.credit("wallet", 5)], key="g1")
            fired = arm()
            try:
                with pytest.raises(KeyboardInterrupt):
                    torn()
            finally:
                sys.settrace(None)
            assert fired
            with pytest.raises(gl.WriteBlockFailed, match=r"can no longer commit.*injected"):
                book.trial_balance()

    with pytest.raises(gl.WriteBlockFailed, match=r"nothing in it kept.*injected"):
        block_goes_on()
