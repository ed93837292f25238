"""``holds_from(account, first_id)``: an account's holds from an entry on, on every store.

A withdrawal's caps add up the creator's withdrawal holds of the last week. Each store
answers "the holds touching this account placed by entry ``first_id`` or later,
whatever their status" from its own index (memory: the account's hold ids; SQLite and
PostgreSQL: a range of the holds' key), not by reading every hold the account or the
book ever had. The answer must be the account's holds, filtered, on every store, after
holds are posted, voided, expired and rolled back.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from moneyed import Money

import giftledger as gl
from giftledger._economy.index import holds_from

from .conftest import OpenBook

NAMES = ("a", "b", "c", "x'); DROP TABLE holds; --")


def _holds(book: gl.Ledger, clock: gl.ManualClock) -> None:
    """Holds between four accounts, in every status."""
    for name in NAMES:
        book.open_account(name, "USD", rule=gl.BalanceRule.unrestricted())
    for i in range(24):
        debit, credit = NAMES[i % 4], NAMES[(i // 4 + i + 1) % 4]
        if debit == credit:
            credit = NAMES[(i + 2) % 4]
        timeout = timedelta(hours=1) if i % 5 == 0 else None
        hold = book.hold(debit, credit, f"{i + 1}.00", timeout=timeout)
        if i % 3 == 1:
            book.post_hold(hold, f"{min(i % 7 + 1, i + 1)}.00")
        elif i % 3 == 2:
            book.void_hold(hold)
        if i == 12:
            clock.advance(timedelta(hours=2))
            book.expire_holds()


def _expected(book: gl.Ledger, name: str, first_id: int) -> list[gl.Hold]:
    """The holds touching ``name`` (every hold for "") from ``first_id`` on."""
    return [
        h
        for h in book.holds(pending_only=False)
        if (not name or name in (h.debit, h.credit)) and h.id >= first_id
    ]


def test_holds_from_is_the_account_holds_placed_from_an_entry_on(
    open_book: OpenBook, clock: gl.ManualClock
) -> None:
    book = open_book(clock)
    _holds(book, clock)
    head = book.head[0]
    statuses = {h.status for h in book.holds(pending_only=False)}
    assert statuses == set(gl.HoldStatus)  # every status is there to be found
    with book.store.read() as r:
        for name in NAMES:
            assert r.holds(name, False) == _expected(book, name, 1)
            for first in range(0, head + 3):
                got = r.holds_from(name, first)  # type: ignore[attr-defined]
                assert got == _expected(book, name, first), (name, first)
                assert holds_from(r, name, first) == got
        assert r.holds_from("no such account", 1) == []  # type: ignore[attr-defined]
        pending = [h for h in _expected(book, "", 1) if h.status is gl.HoldStatus.PENDING]
        assert r.holds(None, True) == pending  # the book's pending holds, by id
        assert pending
    with book.store.write() as w:  # a writer answers alike
        assert w.holds_from("a", 1) == _expected(book, "a", 1)  # type: ignore[attr-defined]


def test_a_store_without_holds_from_is_asked_for_every_hold_and_filtered(
    clock: gl.ManualClock,
) -> None:
    """A third-party store need not have the hook: the account's holds, filtered."""
    book = gl.Ledger(clock=clock)
    _holds(book, clock)

    class Bare:
        def __init__(self, r: object) -> None:
            self._r = r

        def holds(self, account: str, pending_only: bool) -> list[gl.Hold]:
            return self._r.holds(account, pending_only)  # type: ignore[attr-defined,no-any-return]

    with book.store.read() as r:
        for first in (1, 10, 40):
            assert holds_from(Bare(r), "b", first) == _expected(book, "b", first)  # type: ignore[arg-type]


class Boom(Exception):
    pass


def test_a_rolled_back_batch_takes_its_holds_out_of_the_memory_index(
    clock: gl.ManualClock,
) -> None:
    """Holds placed in a memory batch that then fails are rolled back: out of the
    account's hold ids and the book's pending holds, and their ids go to later holds."""
    book = gl.Ledger(clock=clock)
    _holds(book, clock)
    store = book.store
    assert isinstance(store, gl.MemoryStore)
    head = book.head[0]
    before = {name: _expected(book, name, 1) for name in (*NAMES, "")}
    pending = book.holds()
    try:
        with store.write(batch=True):  # the holds below join the batch
            book.hold("a", "b", "1.00")
            book.hold("c", "a", "2.00", timeout=timedelta(hours=1))
            raise Boom
    except Boom:
        pass
    assert book.head[0] == head
    with store.read() as r:
        for name in NAMES:
            assert r.holds_from(name, 1) == before[name]
            assert r.holds(name, False) == before[name]
        assert r.holds(None, False) == before[""]
        assert r.holds(None, True) == list(pending)
    again = book.hold("a", "c", "3.00")  # the first rolled-back hold's id, reused
    assert again.id == head + 1
    with store.read() as r:
        assert [h.id for h in r.holds_from("a", head + 1)] == [again.id]
        assert [h.id for h in r.holds_from("b", head + 1)] == []


def test_a_withdrawal_dry_run_leaves_no_hold_and_the_caps_count_the_real_ones() -> None:
    """A withdrawal's dry run (which opens the payouts account and places its hold only
    in the entry it returns: a memory dry run writes nothing) leaves no hold behind, and
    the daily cap counts the holds written since, not the dry run's."""
    econ = gl.presets.load("tiktok-live")
    clock = gl.ManualClock(econ.latest.effective_from + timedelta(days=1))
    book = gl.Ledger(clock=clock)
    app = gl.GiftEconomy(book, econ)
    app.open_creator("bob", region="US", age=30)
    app.open_viewer("fan", region="US")
    for _ in range(16):
        app.buy_coins("fan", pack=17500, channel="web")
    app.send_gift("fan", "bob", "Lion", 8)  # 8 x 29,999 coins: $1,199.92 once converted
    app.convert_diamonds("bob")
    cash = "creators:bob:cash"
    head = book.head[0]
    dry = app.request_withdrawal("bob", Money("400", "USD"), dry_run=True)
    assert dry.id > head  # it opened an account, then held
    assert book.head[0] == head
    with book.store.read() as r:
        assert r.holds_from(cash, 1) == []  # type: ignore[attr-defined]
        assert r.holds(None, True) == []  # nor among the book's pending holds
    first = app.request_withdrawal("bob", Money("400", "USD"))
    dry = app.request_withdrawal("bob", Money("400", "USD"), dry_run=True)
    second = app.request_withdrawal("bob", Money("400", "USD"))
    with book.store.read() as r:
        assert [h.id for h in r.holds_from(cash, 1)] == [first.id, second.id]  # type: ignore[attr-defined]
        assert [h.id for h in r.holds_from(cash, first.id + 1)] == [second.id]  # type: ignore[attr-defined]
        assert r.holds(cash, False) == _expected(book, cash, 1)
    # The daily cap ($1,000) counts both holds, not the dry run's.
    with pytest.raises(gl.LimitExceeded, match=r"today's withdrawals to 1100\.00 USD"):
        app.request_withdrawal("bob", Money("300", "USD"))
    assert app.request_withdrawal("bob", "all").amount == Money("200.00", "USD")


def test_every_store_answers_odd_arguments_alike(
    open_book: OpenBook, clock: gl.ManualClock
) -> None:
    """An id below 1 is 1; one past 64 bits, or a name that is not a string, has no
    holds (SQLite raised OverflowError, and a None name read every hold of the book);
    an id that is not an int (a bool is not one) is a TypeError on every store."""
    book = open_book(clock)
    _holds(book, clock)
    every = _expected(book, "a", 1)
    assert every
    with book.store.read() as r:
        find = r.holds_from  # type: ignore[attr-defined]
        for first in (0, -1, -(2**70)):
            assert find("a", first) == every
        for first in (2**63, 2**64, 10**30):
            assert find("a", first) == []
        for name in (None, 7, ["a"]):
            assert find(name, 1) == []

        class Name(str):
            pass

        assert find(Name("a"), 1) == every  # a str subclass is a name, as holds() takes it
        assert r.holds(Name("a"), False) == every
        for first in (True, False, None, "3", 3.0):
            with pytest.raises(TypeError, match=r"first_id .* must be an entry id"):
                find("a", first)
        if isinstance(book.store, gl.MemoryStore):  # as before this hook: no such name
            assert r.holds(["a"], False) == []  # type: ignore[arg-type]
