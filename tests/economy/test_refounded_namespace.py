"""Issue 8, acceptance 2: the chain's namespace is its own.

``gl.``-prefixed metadata keys and ``gl:``-prefixed idempotency keys belong to the
chain: every public write of the core refuses them with ``InvalidArgument`` and
writes nothing, so a forged entry cannot pose as a chain operation (today one
forged ``gl.op`` breaks every later ``GiftEconomy`` call with ``KeyError``) and a
caller's key cannot take the key of an internal step (today ``key="gl:withdrawal:
<id>:settle"`` makes that withdrawal's completion fail for good).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress

import pytest
from moneyed import Money

import giftledger as gl

from .chainkit import snapshot, tiktok, usd

Write = Callable[[gl.Ledger], object]


def _book_with_ops() -> tuple[gl.Ledger, gl.ManualClock, gl.GiftEconomy]:
    book, clock, app = tiktok()
    book.open_account("ops:a", "USD", rule=gl.BalanceRule.unrestricted())
    book.open_account("ops:b", "USD", normal="credit", rule=gl.BalanceRule.unrestricted())
    return book, clock, app


def _hold_then(action: str) -> Write:
    def write(book: gl.Ledger) -> object:
        hold = book.hold("ops:a", "ops:b", "1.00")
        if action == "post":
            return book.post_hold(hold, metadata={"gl.op": "withdraw_post"})
        return book.void_hold(hold, metadata={"gl.op": "withdraw_void"})

    return write


def _reverse(book: gl.Ledger) -> object:
    tx = book.transfer("ops:a", "ops:b", "1.00")
    return book.reverse(tx, metadata={"gl.op": "refund", "gl.lot": tx.id})


def _note(book: gl.Ledger) -> object:
    note = getattr(book, "note", None)
    if note is None:
        pytest.skip("this Ledger has no note()")
    return note(memo="a remark", metadata={"gl.op": "party", "gl.creator": "bob"})


FORGED_METADATA: dict[str, Write] = {
    "transfer": lambda b: b.transfer("ops:a", "ops:b", "1.00", metadata={"gl.op": "buy_coins"}),
    "post": lambda b: b.post(
        [gl.debit("ops:a", "50000.00"), gl.credit("ops:b", "50000.00")],
        metadata={"gl.op": "send_gift", "gl.creator": "bob", "gl.owed": 5_000_000},
    ),
    "post-with-one-gl-key-among-others": lambda b: b.post(
        [gl.debit("ops:a", "1.00"), gl.credit("ops:b", "1.00")],
        metadata={"order": "A-1", "gl.viewer": "alice"},
    ),
    "post_many": lambda b: b.post_many(
        [
            gl.TransactionRequest([gl.debit("ops:a", 1), gl.credit("ops:b", 1)]),
            gl.TransactionRequest(
                [gl.debit("ops:a", 1), gl.credit("ops:b", 1)], metadata={"gl.op": "convert"}
            ),
        ]
    ),
    "hold": lambda b: b.hold("ops:a", "ops:b", "1.00", metadata={"gl.op": "withdraw"}),
    "post_hold": _hold_then("post"),
    "void_hold": _hold_then("void"),
    "reverse": _reverse,
    "open_account": lambda b: b.open_account(
        "creators:mallory:diamonds",
        "DIAMOND",
        normal="credit",
        metadata={"gl.role": "creator", "gl.verified": True, "gl.region": "US"},
    ),
    "note": _note,
}


@pytest.mark.parametrize("write", sorted(FORGED_METADATA))
def test_a_gl_metadata_key_is_refused_by_every_core_write(write: str) -> None:
    book, _, _ = _book_with_ops()
    before = book.head
    with pytest.raises(gl.InvalidArgument, match=r"gl\."):
        FORGED_METADATA[write](book)
    # Nothing from the refused call is in the journal (a hold placed first may be).
    assert all(
        not any(k.startswith("gl.") for k, _ in tx.metadata)
        for tx in book.transactions(before[0] + 1)
    )


def test_the_issues_forged_transfer_is_refused_and_writes_nothing() -> None:
    book, _, _ = _book_with_ops()
    before = snapshot(book)
    with pytest.raises(gl.InvalidArgument):
        book.transfer("ops:a", "ops:b", "1.00", metadata={"gl.op": "buy_coins"})
    assert snapshot(book) == before


def test_a_gl_metadata_key_in_a_non_atomic_batch_is_that_requests_error() -> None:
    book, _, _ = _book_with_ops()
    try:
        results = book.post_many(
            [
                gl.TransactionRequest(
                    [gl.debit("ops:a", 1), gl.credit("ops:b", 1)], metadata={"gl.op": "x"}
                )
            ],
            atomic=False,
        )
    except gl.InvalidArgument:
        return
    assert isinstance(results[0], gl.InvalidArgument)
    # Only the chain's own entries (its rules and parties) carry gl.* metadata, besides
    # giftledger's own: an ACCOUNT entry carries its account's metadata (the chain's
    # gl.* party fields), a KEY entry the record of a key.
    own = (gl.EntryKind.ACCOUNT, gl.EntryKind.KEY, gl.EntryKind.DEFINITIONS)
    assert all(
        gl.record_of(tx) is not None
        for tx in book.transactions()
        if tx.kind not in own and any(k.startswith("gl.") for k, _ in tx.metadata)
    )


FORGED_KEYS: dict[str, Write] = {
    "transfer": lambda b: b.transfer("ops:a", "ops:b", "1.00", key="gl:withdrawal:1:settle"),
    "post": lambda b: b.post([gl.debit("ops:a", 1), gl.credit("ops:b", 1)], key="gl:x"),
    "post_many": lambda b: b.post_many(
        [gl.TransactionRequest([gl.debit("ops:a", 1), gl.credit("ops:b", 1)], key="gl:x")]
    ),
    "hold": lambda b: b.hold("ops:a", "ops:b", "1.00", key="gl:withdrawal:1:post"),
    "post_hold": lambda b: b.post_hold(b.hold("ops:a", "ops:b", "1.00"), key="gl:x"),
    "void_hold": lambda b: b.void_hold(b.hold("ops:a", "ops:b", "1.00"), key="gl:x"),
    "reverse": lambda b: b.reverse(b.transfer("ops:a", "ops:b", "1.00"), key="gl:x"),
}


@pytest.mark.parametrize("write", sorted(FORGED_KEYS))
def test_a_gl_colon_key_is_refused_by_every_core_write(write: str) -> None:
    book, _, _ = _book_with_ops()
    with pytest.raises(gl.InvalidArgument, match="gl:"):
        FORGED_KEYS[write](book)


def test_the_chain_keeps_working_after_forgery_attempts() -> None:
    book, _, app = _book_with_ops()
    app.open_viewer("alice", region="US", age=30)
    app.open_creator("bob", region="US", age=30)
    app.buy_coins("alice", pack=1400, channel="ios")
    for write in FORGED_METADATA.values():
        with suppress(gl.GiftLedgerError, pytest.skip.Exception):
            write(book)
    for write in FORGED_KEYS.values():
        with suppress(gl.GiftLedgerError):
            write(book)

    for chain in (app, gl.GiftEconomy(book, app.economy)):  # this one, and a new one
        chain.open_viewer("carol", region="US", age=30)
        chain.open_creator("dave", region="US", age=30)
        chain.buy_coins("carol", pack=70, channel="web")
        chain.send_gift("alice", "bob", "Doughnut")
        chain.send_gift("carol", "dave", "Rose")
        explained = chain.explain("bob")
        assert explained is not None
        text = str(chain.statement("bob"))
        assert "50,000" not in text
        assert "50000" not in text
    assert book.balance("creators:bob:diamonds") == Money(60, "DIAMOND")
    assert book.trial_balance().is_balanced
    book.verify()


def test_a_chain_key_with_the_gl_prefix_is_refused_and_completion_still_works() -> None:
    book, _, app = tiktok()
    app.open_creator("bob", region="US", age=30)
    app.open_viewer("fan", region="US", age=30)
    for _ in range(2):
        app.buy_coins("fan", pack=17500, channel="web")
    app.send_gift("fan", "bob", "Lion")
    app.convert_diamonds("bob")  # $149.99
    w = app.request_withdrawal("bob", usd("100"))
    before = snapshot(book)
    for key in (f"gl:withdrawal:{w.id}:settle", f"gl:withdrawal:{w.id}:post", "gl:anything"):
        with pytest.raises(gl.InvalidArgument, match="gl:"):
            app.buy_coins("fan", pack=70, channel="web", key=key)
    assert snapshot(book) == before
    with pytest.raises(gl.InvalidArgument, match="gl:"):
        app.send_gift("fan", "bob", "Rose", key=f"gl:withdrawal:{w.id}:void")
    app.complete_withdrawal(w)
    assert book.balance("creators:bob:cash") == usd("49.99")
    assert book.balance("liabilities:payouts-in-flight") == usd("0.00")
    assert book.balance("assets:bank") == usd("-100.00")
    assert app.withdrawal(w.id).status is gl.HoldStatus.POSTED
    book.verify()
