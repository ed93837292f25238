"""One write gate, on every store: every write (opening and closing accounts and
recording expiries included) is run again after the store rolled it back for a lost
race and lands exactly once; when every attempt loses, the caller gets the public
``WriteConflict``; a replayed failure is marked by ``replayed_key``, not by its text.

The lost races are injected by a store wrapper: at the start of a write (every store),
or at its end, after the body ran, with the store rolling the write back (the durable
stores: a single write to the memory store is never rolled back, as the ledger checks
everything before it writes).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from types import TracebackType
from typing import Any

import pytest

import giftledger as gl
from giftledger._ledger import writes

from .conftest import OpenBook


class FlakyStore:
    """A store whose next writes lose a race: ``fail_at_start`` of them before they
    begin, then ``fail_at_end`` of them after their body ran (rolled back)."""

    def __init__(self, inner: gl.Store) -> None:
        self.inner = inner
        self.url = inner.url
        self.fail_at_start = 0
        self.fail_at_end = 0
        self.lost = 0

    def write(self, dry_run: bool = False) -> _FlakyBlock:
        return _FlakyBlock(self, self.inner.write(dry_run))

    def read(self) -> Any:
        return self.inner.read()

    def close(self) -> None:
        self.inner.close()


class _FlakyBlock:
    def __init__(self, store: FlakyStore, block: Any) -> None:
        self.store = store
        self.block = block

    def __enter__(self) -> gl.StoreWriter:
        if self.store.fail_at_start:
            self.store.fail_at_start -= 1
            self.store.lost += 1
            raise gl.WriteConflict("injected: a lock wait ended in a deadlock")
        return self.block.__enter__()  # type: ignore[no-any-return]

    def __exit__(
        self, typ: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if typ is None and self.store.fail_at_end:
            self.store.fail_at_end -= 1
            self.store.lost += 1
            lost = gl.WriteConflict("injected: could not serialize access")
            self.block.__exit__(type(lost), lost, None)  # the store rolls back
            raise lost
        self.block.__exit__(typ, exc, tb)


@pytest.fixture
def flaky(open_book: OpenBook, clock: gl.ManualClock) -> tuple[gl.Ledger, FlakyStore]:
    book = open_book(clock)
    store = FlakyStore(book.store)
    book.store = store  # type: ignore[assignment]
    book.open_account("a", "USD", rule=gl.BalanceRule.unrestricted())
    book.open_account("b", "USD", normal="credit")
    return book, store


def _lose(store: FlakyStore, where: str) -> None:
    if where == "end" and isinstance(store.inner, gl.MemoryStore):
        pytest.skip("a single write to the memory store is never rolled back")
    if where == "start":
        store.fail_at_start = 1
    else:
        store.fail_at_end = 1


WHERE = pytest.mark.parametrize("where", ["start", "end"])


@WHERE
def test_opening_an_account_is_run_again_and_lands_once(
    flaky: tuple[gl.Ledger, FlakyStore], where: str
) -> None:
    book, store = flaky
    _lose(store, where)
    account = book.open_account("c", "USD", metadata={"m": 1})
    assert store.lost == 1
    assert book.account("c") == account
    assert [a.name for a in book.accounts()] == ["a", "b", "c"]


@WHERE
def test_closing_an_account_is_run_again(flaky: tuple[gl.Ledger, FlakyStore], where: str) -> None:
    book, store = flaky
    _lose(store, where)
    assert book.close_account("b").closed
    assert store.lost == 1
    assert book.account("b").closed


@WHERE
def test_recording_expiries_is_run_again_and_records_each_once(
    flaky: tuple[gl.Ledger, FlakyStore], clock: gl.ManualClock, where: str
) -> None:
    book, store = flaky
    first = book.transfer("a", "b", 5)
    holds = [book.hold("b", "a", 1, timeout=timedelta(minutes=m)) for m in (1, 2)]
    clock.advance(timedelta(minutes=5))
    _lose(store, where)
    expired = book.expire_holds()
    assert store.lost == 1
    assert [tx.hold_id for tx in expired] == [h.id for h in holds]
    assert [tx.kind for tx in book.transactions()].count(gl.EntryKind.EXPIRE_HOLD) == 2
    assert book.verify() == expired[-1].id == first.id + 4


@WHERE
@pytest.mark.parametrize(
    "write",
    [
        lambda b: b.post([gl.debit("a", 1), gl.credit("b", 1)], key="k"),
        lambda b: b.note(memo="fact", key="k"),
        lambda b: b.post_many([gl.TransactionRequest([gl.debit("a", 1), gl.credit("b", 1)])])[0],
        lambda b: b.transaction(b.hold("b", "a", 1, key="k").id),
    ],
    ids=["post", "note", "post_many", "hold"],
)
def test_every_write_is_run_again_and_lands_once(
    flaky: tuple[gl.Ledger, FlakyStore], where: str, write: Callable[[gl.Ledger], gl.Transaction]
) -> None:
    book, store = flaky
    first = book.transfer("a", "b", 5)
    _lose(store, where)
    tx = write(book)
    assert store.lost == 1
    assert book.head == (first.id + 1, tx.hash)
    assert book.verify() == first.id + 1


def test_a_write_that_always_loses_raises_the_public_write_conflict(
    flaky: tuple[gl.Ledger, FlakyStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    book, store = flaky
    monkeypatch.setattr(writes, "_RETRIES", 3)
    monkeypatch.setattr(writes.time, "sleep", lambda _: None)
    head = book.head
    for write in (
        lambda: book.open_account("c", "USD"),
        lambda: book.close_account("b"),
        lambda: book.expire_holds(),
        lambda: book.transfer("a", "b", 1, key="k"),
    ):
        store.fail_at_start = 100
        with pytest.raises(gl.WriteConflict) as info:
            write()
        assert type(info.value) is gl.WriteConflict  # a public class, never a store's own
        assert isinstance(info.value, gl.StoreError)
        assert "gave up after 4 attempts" in str(info.value)
        assert store.fail_at_start == 96
    store.fail_at_start = 0
    assert book.head == head
    assert [a.name for a in book.accounts()] == ["a", "b"]
    assert not book.account("b").closed
    assert book.find("k") is None  # a store failure is never remembered as the outcome
    assert book.transfer("a", "b", 1, key="k").id == head[0] + 1


def test_a_store_failure_that_is_not_a_lost_race_is_not_run_again(
    flaky: tuple[gl.Ledger, FlakyStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    book, store = flaky

    def broken(dry_run: bool = False) -> Any:
        raise gl.StoreError("injected: the disk is full")

    monkeypatch.setattr(store, "write", broken)
    with pytest.raises(gl.StoreError, match="disk is full") as info:
        book.open_account("c", "USD")
    assert not info.value.retryable


def test_a_replayed_failure_is_marked_by_its_key_not_its_text(open_book: OpenBook) -> None:
    book = open_book()
    book.open_account("a", "USD", rule=gl.BalanceRule.unrestricted())
    # An account whose name reads like the replay marker: its first failure must still
    # be remembered (the ledger used to search the message for the marker).
    sly = "b (replayed for idempotency key 'x')"
    with pytest.raises(gl.UnknownAccount) as first:
        book.transfer("a", sly, 1, key="k")
    assert first.value.replayed_key is None
    book.open_account(sly, "USD", normal="credit")
    with pytest.raises(gl.UnknownAccount) as again:
        book.transfer("a", sly, 1, key="k")
    assert again.value.replayed_key == "k"
    assert str(again.value) == f"{first.value} (replayed for idempotency key 'k')"
    # The accounts' two definitions, and the record of the failure under k between them.
    assert [tx.kind for tx in book.transactions()] == [
        gl.EntryKind.ACCOUNT,
        gl.EntryKind.KEY,
        gl.EntryKind.ACCOUNT,
    ]
    results = book.post_many(
        [gl.TransactionRequest([gl.debit("a", 1), gl.credit(sly, 1)], key="k")], atomic=False
    )
    assert isinstance(results[0], gl.UnknownAccount)
    assert results[0].replayed_key == "k"
