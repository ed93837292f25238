"""A caller's own ``store.write()`` block, the same on every store.

The ``Store`` protocol: a write block commits on a normal exit and rolls back on an
error or a dry run, and a write opened inside it joins it. The memory store kept every
write made in a block that then raised, or that was a dry run (only its batches rolled
back), where SQLite and PostgreSQL kept nothing: code tested on memory:, then run on a
database, behaved otherwise.

And on every store, a batch (``post_many``, a chain call writing several entries) that
failed inside a block after writing some of its entries, its error caught there, left
those entries to commit with the block: an atomic ``post_many`` half posted. Now such a
failure leaves the block unable to commit: later writes in it are refused, and its end
rolls everything back and says why.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from fractions import Fraction

import pytest

import giftledger as gl

from ..economy.chainkit import simple_economy
from .conftest import OpenBook


class Boom(Exception):
    pass


def _open(open_book: OpenBook, clock: gl.ManualClock) -> gl.Ledger:
    book = open_book(clock)
    book.open_account("cash", "USD", rule=gl.BalanceRule.unrestricted())
    book.open_account("wallet", "USD", normal="credit")
    book.post([gl.debit("cash", 10), gl.credit("wallet", 10)], key="funding")
    return book


def _state(book: gl.Ledger) -> tuple[object, ...]:
    return (
        book.head,
        [a.name for a in book.accounts()],
        book.balance("wallet"),
        book.balance("cash"),
        [h.id for h in book.holds(pending_only=False)],
        book.verify(),
    )


def _block(book: gl.Ledger, *calls: Callable[[], object]) -> BaseException | None:
    """Run ``calls`` in one ``store.write()`` block; what the block raised, or None."""
    try:
        with book.store.write():
            for call in calls:
                call()
    except (Boom, gl.GiftLedgerError) as exc:
        return exc
    return None


def _boom() -> None:
    raise Boom


def _refused(call: Callable[[], object], error: type[Exception], match: str) -> Callable[[], None]:
    """A call that must raise ``error`` (caught: the block goes on)."""

    def run() -> None:
        with pytest.raises(error, match=match):
            call()

    return run


def _usd(units: int) -> object:
    return gl.from_minor(units * 100, "USD")


def _pay(amount: int, account: str = "wallet") -> list[gl.PostingSpec]:
    return [gl.debit("cash", amount), gl.credit(account, amount)]


def _overdraw() -> list[gl.PostingSpec]:
    """More than the wallet holds: its balance rule refuses it."""
    return [gl.debit("wallet", 100), gl.credit("cash", 100)]


def test_a_block_that_raises_keeps_none_of_its_writes(
    open_book: OpenBook, clock: gl.ManualClock
) -> None:
    book = _open(open_book, clock)
    before = _state(book)
    seen = []
    raised = _block(
        book,
        lambda: book.post(_pay(5), key="k1"),
        lambda: book.open_account("savings", "USD", normal="credit"),
        lambda: book.post(_pay(2, "savings")),
        lambda: book.hold("wallet", "cash", 3, key="h1"),
        lambda: book.post_many([_pay(1), _pay(1)]),
        lambda: seen.append(book.balance("wallet")),
        _boom,
    )
    assert isinstance(raised, Boom)
    assert seen == [_usd(17)]  # seen inside the block
    assert _state(book) == before
    # The key was never remembered: it is free for other content.
    tx = book.post(_pay(7), key="k1")
    assert tx.id == before[0][0] + 1  # type: ignore[index]
    assert book.balance("wallet") == _usd(17)


def test_a_dry_run_block_returns_its_entries_and_keeps_none(
    open_book: OpenBook, clock: gl.ManualClock
) -> None:
    book = _open(open_book, clock)
    before = _state(book)
    with book.store.write(dry_run=True):
        first = book.post(_pay(5), key="k1")
        second = book.post(_pay(4))
    assert (first.id, second.id) == (before[0][0] + 1, before[0][0] + 2)  # type: ignore[index]
    assert _state(book) == before
    assert book.post(_pay(1), key="k1").id == first.id


def test_a_dry_run_inside_a_block_is_refused_and_the_block_goes_on(
    open_book: OpenBook, clock: gl.ManualClock
) -> None:
    book = _open(open_book, clock)
    with book.store.write():
        book.post(_pay(5))
        with pytest.raises(gl.StoreError, match="a dry run cannot be nested inside a write"):
            book.post(_pay(1), dry_run=True)
        with pytest.raises(gl.StoreError, match="a dry run cannot be nested inside a write"):
            book.post_many([_pay(1)], dry_run=True)
        book.post(_pay(2))
    assert book.balance("wallet") == _usd(17)
    assert book.verify() == 5


def test_a_failed_single_post_caught_in_a_block_leaves_it_free_to_commit(
    open_book: OpenBook, clock: gl.ManualClock
) -> None:
    book = _open(open_book, clock)
    with book.store.write():
        book.post(_pay(5))
        with pytest.raises(gl.InsufficientFunds):
            book.post(_overdraw())
        book.post(_pay(1))
    assert book.balance("wallet") == _usd(16)
    assert book.verify() == 5


def test_a_batch_that_failed_after_writing_cannot_commit_with_its_block(
    open_book: OpenBook, clock: gl.ManualClock
) -> None:
    book = _open(open_book, clock)
    before = _state(book)
    ended = _block(
        book,
        lambda: book.post(_pay(5)),
        # The first request is written before the second fails.
        _refused(
            lambda: book.post_many([_pay(1), _overdraw()]),
            gl.InsufficientFunds,
            "must not go negative",
        ),
        _refused(lambda: book.post(_pay(2)), gl.StoreError, r"can no longer commit.*Insufficient"),
    )
    assert isinstance(ended, gl.StoreError)
    assert "rolled back, nothing in it kept" in str(ended)
    assert "InsufficientFunds" in str(ended)
    assert _state(book) == before
    # The store is fine after it: a new block commits.
    with book.store.write():
        book.post(_pay(3))
    assert book.balance("wallet") == _usd(13)


def test_a_batch_that_failed_before_writing_leaves_its_block_free_to_commit(
    open_book: OpenBook, clock: gl.ManualClock
) -> None:
    book = _open(open_book, clock)
    ended = _block(
        book,
        lambda: book.post(_pay(5)),
        # The first request fails: the batch wrote nothing.
        _refused(
            lambda: book.post_many([_overdraw(), _pay(1)]),
            gl.InsufficientFunds,
            "must not go negative",
        ),
        lambda: book.post(_pay(2)),
    )
    assert ended is None
    assert book.balance("wallet") == _usd(17)
    assert book.verify() == 5


def test_a_failed_batch_left_to_propagate_raises_its_own_error(
    open_book: OpenBook, clock: gl.ManualClock
) -> None:
    book = _open(open_book, clock)
    before = _state(book)
    raised = _block(
        book,
        lambda: book.post(_pay(5)),
        lambda: book.post_many([_pay(1), _overdraw()]),
    )
    assert isinstance(raised, gl.InsufficientFunds)
    assert _state(book) == before


def test_a_block_with_no_joined_write_fails_alone(
    open_book: OpenBook, clock: gl.ManualClock
) -> None:
    """A batch that is the outermost write: its failure rolls it back, as before, and the
    next write is not refused."""
    book = _open(open_book, clock)
    before = _state(book)
    with pytest.raises(gl.InsufficientFunds):
        book.post_many([_pay(1), _overdraw()])
    assert _state(book) == before
    assert book.post(_pay(1)).id == before[0][0] + 1  # type: ignore[index]


def _economy(url: str) -> tuple[gl.Ledger, gl.GiftEconomy]:
    econ = simple_economy(
        creator_pay=gl.CreatorPay(gl.PayoutModel.SHARE_OF_PRICE, share=Fraction(1, 3))
    )
    clock = gl.ManualClock(econ.latest.effective_from + timedelta(days=1))
    book = gl.Ledger.open(url, clock=clock)
    return book, gl.GiftEconomy(book, econ)


def test_chain_calls_in_a_rolled_back_memory_block_leave_nothing_behind() -> None:
    """What the chain kept of a rolled-back block (lots, carries, profiles) is dropped:
    every later call writes what a store that never saw the block writes."""
    book, app = _economy("memory:")
    _, clean = _economy("memory:")
    for a in (app, clean):
        a.open_creator("cara")
        a.open_viewer("vic")
        a.buy_coins("vic", pack=100, channel="web", key="b1")
        a.send_gift("vic", "cara", "Rose", key="g0")
    joined = book.store.joined_writes  # type: ignore[attr-defined]
    raised = _block(
        book,
        lambda: app.buy_coins("vic", pack=1400, channel="ios", key="gone-buy"),
        lambda: app.update_viewer("vic", age=40),
        lambda: app.send_gift("vic", "cara", "Rose", 30, key="gone-gift"),
        lambda: app.convert_diamonds("cara", key="gone-convert"),
        _boom,
    )
    assert isinstance(raised, Boom)
    assert book.store.joined_writes == joined + 1  # type: ignore[attr-defined]
    for call, args, kw in [
        ("send_gift", ("vic", "cara", "Rose", 3), {"key": "g1"}),
        ("buy_coins", ("vic",), {"pack": 1400, "channel": "ios", "key": "gone-buy"}),
        ("send_gift", ("vic", "cara", "Rose", 30), {"key": "gone-gift"}),
        ("convert_diamonds", ("cara",), {"key": "c1"}),
    ]:
        got, want = getattr(app, call)(*args, **kw), getattr(clean, call)(*args, **kw)
        assert (got.id, got.postings, dict(got.meta)) == (want.id, want.postings, dict(want.meta))
    assert app.viewer("vic") == clean.viewer("vic")


def test_a_gift_refused_in_a_block_leaves_it_free_to_commit(store_url: str) -> None:
    """A gift the viewer cannot afford writes nothing: the block goes on; a batch of
    gifts can skip the ones refused."""
    book, app = _economy(store_url)
    with book:
        app.open_creator("cara")
        app.open_viewer("vic")
        app.buy_coins("vic", pack=100, channel="web", key="b1")
        before = app.coins("vic")
        sent = []

        def gifts() -> None:
            for i, quantity in enumerate((1, 10_000, 2)):
                try:
                    sent.append(app.send_gift("vic", "cara", "Rose", quantity, key=f"g{i}"))
                except gl.InsufficientFunds:
                    pass

        assert _block(book, gifts) is None
        assert [tx.meta["gl.quantity"] for tx in sent] == [1, 2]
        assert app.coins("vic").amount == before.amount - 3
        assert book.verify() == sent[-1].id


def test_waiting_for_entries_inside_a_memory_write_block_lets_no_writer_in() -> None:
    """A wait on the store's condition would release its lock: another thread's write
    would join the open block and be rolled back with it. Inside its own block a
    thread waits holding the lock, as SQLite's other writers wait for its write lock."""
    book = gl.Ledger.open("memory:")
    book.open_account("cash", "USD", rule=gl.BalanceRule.unrestricted())
    book.open_account("wallet", "USD", normal="credit")
    head = book.head[0]
    other: list[object] = []
    started = threading.Event()

    def post() -> None:
        started.set()
        other.append(book.post(_pay(7), key="other").id)

    thread = threading.Thread(target=post)
    raised = _block(
        book,
        lambda: book.post(_pay(1)),
        thread.start,
        started.wait,
        lambda: book.store.wait_for_entries(head + 1, 0.2),  # type: ignore[attr-defined]
        _boom,
    )
    thread.join()
    assert isinstance(raised, Boom)
    assert other == [head + 1]  # it waited for the block, and its entry was kept
    assert book.balance("wallet") == _usd(7)
    with book.store.write(), pytest.raises(gl.StoreError, match="would never end"):
        book.store.wait_for_entries(head, None)  # type: ignore[attr-defined]


def test_a_keyed_write_that_wrote_then_failed_raises_its_own_error_in_a_block(
    open_book: OpenBook, clock: gl.ManualClock
) -> None:
    """The failure is remembered under its key in another write, which the block it
    doomed refuses: the caller still gets the request's own error, noted."""
    from giftledger._ledger.quoted import Quote

    book = _open(open_book, clock)
    before = _state(book)
    opened = gl.Account("savings", "USD", normal=gl.Side.CREDIT)

    def quote(w: object, now: object) -> Quote:  # opens an account, then overdraws
        return Quote(
            gl.EntryKind.POST,
            (
                gl.Posting("wallet", gl.Side.DEBIT, 100_000, "USD"),
                gl.Posting("savings", gl.Side.CREDIT, 100_000, "USD"),
            ),
            opens=(opened,),
        )

    caught: list[BaseException] = []

    def overdraw() -> None:
        try:
            book._write_quoted("q1", ("q1",), ["wallet", "savings"], quote)
        except gl.GiftLedgerError as exc:
            caught.append(exc)

    ended = _block(book, lambda: book.post(_pay(5)), overdraw)
    assert [type(e) for e in caught] == [gl.InsufficientFunds]
    assert "not remembered under key 'q1'" in "".join(caught[0].__notes__)
    assert isinstance(ended, gl.StoreError)
    assert "rolled back, nothing in it kept" in str(ended)
    assert _state(book) == before


def test_an_atomic_batch_of_keyed_requests_that_failed_in_a_block_raises_its_own_error(
    open_book: OpenBook, clock: gl.ManualClock
) -> None:
    """Its keys' failures cannot be recorded in the block it doomed (a reviewer: the
    refusal of that record replaced the batch's own error)."""
    book = _open(open_book, clock)
    before = _state(book)
    caught: list[BaseException] = []

    def batch() -> None:
        try:
            book.post_many(
                [
                    gl.TransactionRequest(_pay(1), key="a1"),
                    gl.TransactionRequest(_overdraw(), key="a2"),
                ]
            )
        except gl.GiftLedgerError as exc:
            caught.append(exc)

    ended = _block(book, lambda: book.post(_pay(5)), batch)
    assert [type(e) for e in caught] == [gl.InsufficientFunds]
    assert "not remembered under key" in "".join(caught[0].__notes__)
    assert isinstance(ended, gl.WriteBlockFailed)
    assert _state(book) == before
    assert book.post_many([gl.TransactionRequest(_pay(1), key="a2")])[0].key == "a2"


def test_a_store_failure_recording_a_failed_key_still_surfaces(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only a doomed block's refusal of the record is set aside: any other store failure
    while a failure is remembered reaches the caller, as before."""
    book = gl.Ledger.open("memory:")
    book.open_account("cash", "USD", rule=gl.BalanceRule.unrestricted())
    book.open_account("wallet", "USD", normal="credit")
    real = gl.MemoryStore.remember

    def failing(self: gl.MemoryStore, record: object) -> None:
        if getattr(record, "error_type", None) is not None:
            raise gl.StoreError("injected: the disk is full")
        real(self, record)  # type: ignore[arg-type]

    monkeypatch.setattr(gl.MemoryStore, "remember", failing)
    with pytest.raises(gl.StoreError, match="the disk is full"):
        book.post(_overdraw(), key="k")
