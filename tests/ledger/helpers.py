"""Helpers shared by the ledger tests (and the stores' tests, which import them)."""

from __future__ import annotations

from typing import Any

import giftledger as gl


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
