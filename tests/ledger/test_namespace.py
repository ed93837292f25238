"""The chain's namespace: ``gl.`` metadata keys and ``gl:`` idempotency keys are refused
by every public writing method, and still written by the private twins the chain calls.

Every test takes ``book``, so tests/stores/test_conformance_ledger.py runs them on
SQLite and PostgreSQL too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import giftledger as gl

from .helpers import OPENED, fund, open_books, snapshot

ALICE = "viewers:alice:coins"
ESCROW = "platform:escrow"
HOLD = OPENED + 3  # the id of the hold _prepare() places

Call = Callable[[gl.Ledger, dict[str, Any]], object]


def _prepare(book: gl.Ledger) -> gl.Ledger:
    open_books(book)
    fund(book, ALICE, 1000)
    book.transfer("platform:diamond-supply", "creators:bob:diamonds", 1000)
    assert book.hold(ALICE, ESCROW, 10).id == HOLD
    return book


# Every public writing method, called with extra keyword arguments (a key or metadata).
WRITES: list[tuple[str, Call]] = [
    ("post", lambda b, kw: b.post([gl.debit(ALICE, 1), gl.credit(ESCROW, 1)], **kw)),
    ("transfer", lambda b, kw: b.transfer(ALICE, ESCROW, 1, **kw)),
    (
        "convert",
        lambda b, kw: b.convert(
            "creators:bob:diamonds", "creators:bob:cash", 100, rate="0.005", **kw
        ),
    ),
    ("hold", lambda b, kw: b.hold(ALICE, ESCROW, 1, **kw)),
    ("post_hold", lambda b, kw: b.post_hold(HOLD, **kw)),
    ("void_hold", lambda b, kw: b.void_hold(HOLD, **kw)),
    ("reverse", lambda b, kw: b.reverse(OPENED + 2, **kw)),  # the diamonds
    ("note", lambda b, kw: b.note(memo="a fact", **kw)),
    (
        "post_many",
        lambda b, kw: b.post_many(
            [gl.TransactionRequest([gl.debit(ALICE, 1), gl.credit(ESCROW, 1)], **kw)]
        ),
    ),
]


@pytest.mark.parametrize(("name", "call"), WRITES, ids=[w[0] for w in WRITES])
@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"key": "gl:withdrawal:8:settle"}, "'gl:withdrawal:8:settle'"),
        ({"metadata": {"gl.op": "buy_coins"}}, "'gl.op'"),
        ({"metadata": {"ok": 1, "gl.creator": "bob"}}, "'gl.creator'"),
    ],
    ids=["key", "metadata", "metadata-among-others"],
)
def test_every_public_write_refuses_the_chains_namespace(
    book: gl.Ledger, name: str, call: Call, kwargs: dict[str, object], named: str
) -> None:
    _prepare(book)
    before = snapshot(book)
    with pytest.raises(gl.InvalidArgument) as info:
        call(book, kwargs)
    message = str(info.value)
    assert named in message
    assert "reserved for giftledger's chain" in message
    assert snapshot(book) == before


@pytest.mark.parametrize(("name", "call"), WRITES, ids=[w[0] for w in WRITES])
def test_keys_and_metadata_near_the_namespace_are_the_callers(
    book: gl.Ledger, name: str, call: Call
) -> None:
    _prepare(book)
    call(book, {"key": "gl-order-1", "metadata": {"gl": 1, "glx.op": "x", "GL.op": "y"}})


def test_a_refused_key_in_a_batch_of_its_own_is_that_requests_result(book: gl.Ledger) -> None:
    _prepare(book)
    ok = gl.TransactionRequest([gl.debit(ALICE, 1), gl.credit(ESCROW, 1)])
    forged = gl.TransactionRequest(
        [gl.debit(ALICE, 1), gl.credit(ESCROW, 1)], metadata={"gl.op": "gift"}
    )
    results = book.post_many([ok, forged, ok], atomic=False)
    assert [type(r).__name__ for r in results] == ["Transaction", "InvalidArgument", "Transaction"]
    assert "'gl.op'" in str(results[1])
    head = book.head
    with pytest.raises(gl.InvalidArgument, match="reserved for giftledger's chain") as info:
        book.post_many([ok, forged])
    assert any("request 1 of the batch" in note for note in info.value.__notes__)
    assert book.head == head


def test_account_metadata_in_the_namespace_is_refused(book: gl.Ledger) -> None:
    with pytest.raises(gl.InvalidArgument, match=r"'gl\.verified'.*reserved"):
        book.open_account("creators:bob:diamonds", "DIAMOND", metadata={"gl.verified": True})
    assert book.accounts() == ()


def test_a_forged_chain_entry_is_refused_and_the_books_keep_working(book: gl.Ledger) -> None:
    # The attack: a core entry dressed as a chain operation.
    book.open_account("ops:a", "USD", rule=gl.BalanceRule.unrestricted())
    book.open_account("ops:b", "USD", normal="credit")
    with pytest.raises(gl.InvalidArgument, match=r"metadata key 'gl\.op'"):
        book.transfer("ops:a", "ops:b", "1.00", metadata={"gl.op": "buy_coins"})
    assert book.head[0] == 2  # the two accounts' definitions
    assert book.transfer("ops:a", "ops:b", "1.00", metadata={"op": "buy_coins"}).id == 3
    assert book.verify() == 3


def test_the_private_twins_write_the_namespace(book: gl.Ledger) -> None:
    # What giftledger's chain does: the same calls, without the namespace check.
    free = gl.BalanceRule.unrestricted()
    meta = {"gl.op": "test"}
    book._open_account("mint", "USD", rule=free, metadata=meta)
    book._open_account("alice", "USD", normal="credit", metadata=meta)
    book._open_account("bob:diamonds", "DIAMOND", normal="credit")
    book._open_account("bob:cash", "USD", normal="credit")
    book._open_account("diamonds", "DIAMOND", rule=free)
    book._open_trading_account("DIAMOND")
    book._open_trading_account("USD")
    one = book._post([gl.debit("mint", 5), gl.credit("alice", 5)], key="gl:1", metadata=meta)
    assert (
        book._post([gl.debit("mint", 5), gl.credit("alice", 5)], key="gl:1", metadata=meta) == one
    )
    book._transfer("diamonds", "bob:diamonds", 200, key="gl:2", metadata=meta)
    book._convert("bob:diamonds", "bob:cash", 200, rate="0.005", key="gl:3", metadata=meta)
    hold = book._hold("alice", "mint", 2, key="gl:4", metadata=meta)
    book._post_hold(hold, 1, key="gl:5", metadata=meta)
    other = book._hold("alice", "mint", 1, key="gl:6", metadata=meta)
    book._void_hold(other, key="gl:7", metadata=meta)
    book._reverse(one, key="gl:8", metadata=meta, force=True)
    book._note(memo="a fact", key="gl:9", metadata=meta)
    (batched,) = book._post_many(
        [gl.TransactionRequest([gl.debit("mint", 1), gl.credit("alice", 1)], key="gl:10")]
    )
    assert isinstance(batched, gl.Transaction)
    assert book.account("alice").meta == meta
    opened = [tx for tx in book.transactions() if tx.kind is gl.EntryKind.ACCOUNT]
    assert [tx.id for tx in opened] == list(range(1, 8))  # 5 accounts, 2 trading accounts
    assert all(tx.key is None for tx in opened)
    keys = [tx.key for tx in book.transactions() if tx.kind is not gl.EntryKind.ACCOUNT]
    assert keys == [f"gl:{i}" for i in range(1, 11)]
    assert all(tx.meta == meta for tx in book.transactions() if tx.key not in (None, "gl:10"))
    # An ACCOUNT entry carries its account's metadata: mint's and alice's only.
    assert [tx.meta for tx in opened] == [meta, meta, {}, {}, {}, {}, {}]
    assert book.find("gl:9") is not None  # reading a chain key is not refused
    assert book.verify() == len(opened) + 10
