"""Helpers shared by the ledger tests (and the stores' tests, which import them)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

import giftledger as gl
from giftledger._ledger.hashing import entry_hash


def snapshot(book: gl.Ledger) -> dict[str, Any]:
    """Everything observable about ``book``'s state, as plain comparable values.

    Two snapshots are equal exactly when no call in between changed anything a
    user can see: accounts, every balance (posted, pending, available), the
    journal (ids, hashes, links), holds, the head and the trial balance.
    """
    accounts = book.accounts()
    trial = book.trial_balance()
    return {
        "head": book.head,
        "accounts": accounts,
        "balances": book.balances(),
        "account_balances": {a.name: book.account_balance(a.name) for a in accounts},
        "journal": [(tx, tx.reversed_by) for tx in book.transactions()],
        "holds": book.holds(pending_only=False),
        "pending_holds": book.holds(),
        "trial_balance": (dict(trial.debits), dict(trial.credits)),
    }


def only_a_failure_journaled(before: dict[str, Any], after: dict[str, Any], key: str) -> bool:
    """Whether ``after`` is ``before`` plus one ``KEY`` entry journaling a failure under
    ``key``: a failure remembered under a key moves nothing, but its record is hashed."""
    (added,) = after["journal"][len(before["journal"]) :]
    tx = added[0]
    meta = dict(tx.metadata)
    rest = ("head", "journal")
    return (
        tx.kind is gl.EntryKind.KEY
        and not tx.postings
        and meta["gl.key"] == key
        and meta["gl.error"] is not None
        and after["journal"][: len(before["journal"])] == before["journal"]
        and after["head"] == (tx.id, tx.hash)
        and {k: v for k, v in after.items() if k not in rest}
        == {k: v for k, v in before.items() if k not in rest}
    )


#: The entries ``open_books`` writes on a new ledger: one ``ACCOUNT`` entry per account
#: it opens, so the first entry after it is ``OPENED + 1``.
OPENED = 12


def open_books(book: gl.Ledger) -> gl.Ledger:
    """Open the accounts of a small gift economy on ``book`` (no balances yet)."""
    free = gl.BalanceRule.unrestricted()
    book.open_account("platform:coin-supply", "COIN", rule=free)
    book.open_account("platform:diamond-supply", "DIAMOND", rule=free)
    book.open_account("platform:escrow", "COIN", normal="credit")
    book.open_account("viewers:alice:coins", "COIN", normal="credit")
    book.open_account("viewers:carol:coins", "COIN", normal="credit")
    book.open_account("creators:bob:diamonds", "DIAMOND", normal="credit")
    book.open_account("creators:bob:cash", "USD", normal="credit")
    book.open_account("assets:bank", "USD")
    book.open_account("revenue:sales", "USD", normal="credit")
    for unit in ("COIN", "DIAMOND", "USD"):
        book.open_trading_account(unit)
    return book


def fund(book: gl.Ledger, wallet: str, coins: int) -> gl.Transaction:
    """Issue ``coins`` from the coin supply to ``wallet``."""
    return book.transfer("platform:coin-supply", wallet, coins)


def rehashed(
    entries: Iterable[gl.Transaction],
    prev: str,
    records: Mapping[str, tuple[str, str | None]] | None = None,
) -> list[gl.Transaction]:
    """``entries`` linked again after ``prev`` and each hashed anew, as an attacker who
    edited one of them would, so that the chain holds. Formula 3 hashes a keyed entry
    with its idempotency record: ``records`` gives its (fingerprint, result) by key."""
    out = []
    for tx in entries:
        record = records.get(tx.key) if records and tx.key is not None else None
        fingerprint, result = record or (None, None)
        tx = attrs.evolve(tx, prev_hash=prev)
        prev = entry_hash(tx, prev, fingerprint, result)
        out.append(attrs.evolve(tx, hash=prev))
    return out
