"""NOTE entries: facts under the hash chain that move nothing.

Every test takes ``book``, so tests/stores/test_conformance_ledger.py runs them on
SQLite and PostgreSQL too; tests/stores/test_conformance_notes.py reopens them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import giftledger as gl

from .helpers import snapshot


@pytest.fixture
def funded(book: gl.Ledger) -> gl.Ledger:
    book.open_account("a", "USD", rule=gl.BalanceRule.unrestricted())
    book.open_account("b", "USD", normal="credit")
    book.transfer("a", "b", 5)
    return book


def test_a_note_moves_nothing_and_is_in_the_chain(funded: gl.Ledger) -> None:
    before = {name: funded.account_balance(name) for name in ("a", "b")}
    transfer = funded.head[0]  # after the two accounts' definitions
    assert transfer == 3
    tx = funded.note(memo="terms v2\nsigned", metadata={"doc": "T-2", "pages": 3, "ok": True})
    assert (tx.id, tx.kind, tx.postings) == (transfer + 1, gl.EntryKind.NOTE, ())
    assert tx.meta == {"doc": "T-2", "pages": 3, "ok": True}
    assert tx.memo == "terms v2\nsigned"
    assert tx.recorded_at == tx.effective_at
    assert funded.transaction(tx.id) == tx
    assert funded.head == (tx.id, tx.hash)
    assert {name: funded.account_balance(name) for name in ("a", "b")} == before
    assert [e.transaction.id for e in funded.history("b").items] == [transfer]
    assert funded.trial_balance().is_balanced
    assert funded.verify() == tx.id


def test_a_note_takes_an_effective_time(funded: gl.Ledger, clock: gl.ManualClock) -> None:
    when = datetime(2025, 6, 1, tzinfo=UTC)
    tx = funded.note(memo="back-dated fact", effective_at=when)
    assert (tx.effective_at, tx.recorded_at) == (when, clock.now())
    assert funded.balance("b", at=when) == gl.from_minor(0, "USD")


def test_a_note_under_a_key_replays(funded: gl.Ledger, clock: gl.ManualClock) -> None:
    head = funded.head[0]
    first = funded.note(memo="kyc checked", metadata={"level": 2}, key="kyc-bob")
    clock.advance(timedelta(hours=1))
    assert funded.note(memo="kyc checked", metadata={"level": 2}, key="kyc-bob") == first
    assert funded.find("kyc-bob") == first
    with pytest.raises(gl.DuplicateKeyConflict):
        funded.note(memo="kyc checked", metadata={"level": 3}, key="kyc-bob")
    assert funded.head[0] == first.id == head + 1


def test_a_dry_run_note_writes_nothing(funded: gl.Ledger) -> None:
    before = snapshot(funded)
    tx = funded.note(memo="maybe", key="k", dry_run=True)
    assert (tx.id, tx.kind, tx.prev_hash) == (funded.head[0] + 1, gl.EntryKind.NOTE, funded.head[1])
    assert snapshot(funded) == before
    assert funded.find("k") is None


def test_an_empty_note_is_a_valid_entry(book: gl.Ledger) -> None:
    tx = book.note()
    assert (tx.id, tx.memo, tx.metadata) == (1, "", ())
    assert book.verify() == 1


def test_a_note_cannot_be_reversed(funded: gl.Ledger) -> None:
    tx = funded.note(memo="x")
    with pytest.raises(gl.NotReversible, match="note"):
        funded.reverse(tx)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"memo": 5}, "memo"),
        ({"memo": "nul\x00"}, "memo"),
        ({"metadata": {"amount": 1.5}}, "metadata value"),
        ({"effective_at": datetime(2026, 1, 1)}, "no timezone"),
        ({"key": ""}, "idempotency key"),
    ],
)
def test_bad_note_input_is_refused_and_writes_nothing(
    funded: gl.Ledger, kwargs: dict[str, object], error: str
) -> None:
    head = funded.head
    with pytest.raises(gl.InvalidArgument, match=error):
        funded.note(**kwargs)  # type: ignore[arg-type]
    assert funded.head == head


def test_a_tampered_note_is_caught() -> None:
    book = gl.Ledger()  # the memory store has the tamper hook
    tx = book.note(memo="original")
    book.note(memo="later")
    book.store._tamper(tx.id, memo="forged")  # type: ignore[attr-defined]
    with pytest.raises(gl.ChainBroken) as info:
        book.verify()
    assert info.value.transaction_id == tx.id
