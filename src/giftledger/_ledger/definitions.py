"""What the journal says of accounts and idempotency records: the content of the
``ACCOUNT``, ``KEY`` and ``DEFINITIONS`` entries.

An account's definition and every change to it (opened, closed) is an ``ACCOUNT``
entry: its memo is the definition's canonical text, its metadata the account's
metadata, so the hash chain covers both. An idempotency record that no entry
carries under its own key (a failure remembered under a key, an alias of the
chain) is a ``KEY`` entry. ``verify()`` re-derives accounts and records from
these entries and compares them with what the store holds.

A book written before definitions were journaled holds accounts and records no
entry states. The first write of this release to such a book journals them all
in one go: a ``DEFINITIONS`` entry (under the key :data:`DEFINITIONS_KEY`, which
marks the book as defined), then an ``ACCOUNT`` entry per account and a ``KEY``
entry per record no entry carries. From the first defining entry on, ``verify()``
requires every account and record of the store to be journaled.

Why these are entries of their own, with ids in the one sequence: the chain covers
only entries, and a record hashed anywhere else (folded into the next entry, say)
would leave the newest one uncovered until something else is written, and its
deletion undetectable. So opening or closing an account, a failure remembered under
a key and an alias of the chain each take an entry id (they move nothing; balances,
history and statements skip them). A replay, a dry run, opening an account again
with the same definition or closing a closed one writes nothing.

The idempotency record of an ordinary keyed entry (the entry carries its key,
and the store remembers the key as that entry's) is covered by the entry's own
hash from hash formula 3 on: the record's *fingerprint*, taken over the request as
given and so not re-derivable from the entry, and its *result* (None for every
entry written today) are hashed with the entry's content (see
:mod:`~giftledger._ledger.hashing`). ``verify()`` re-derives each such hash from
the record the store holds, so a changed fingerprint (which would let a retry
with other content replay the entry instead of raising ``DuplicateKeyConflict``),
a changed result or a removed record is reported, naming the entry; that the
record names the entry is checked as before. These records need no ``KEY`` entry:
they are known before their entry is hashed. A result only known after the
entry's id would be re-derived from the record's ``transaction_id`` rather than
hashed. Entries of formulas 1 and 2 (earlier releases) keep their hashes, so their
records' fingerprints stay uncovered: only their keys and entry ids are checked.
"""

from __future__ import annotations

import json

import attrs

from .model import Account, BalanceRule, EntryKind, Metadata, Side, Transaction
from .store import IdempotencyRecord

__all__ = [
    "DEFINING",
    "DEFINITIONS_KEY",
    "account_of",
    "definition_text",
    "follows",
    "record_metadata",
    "record_of",
    "settings",
]

#: The key of the ``DEFINITIONS`` entry: its record says the book is defined.
DEFINITIONS_KEY = "gl:definitions"

#: Entry kinds that exist only in a book whose definitions are journaled.
DEFINING = frozenset({EntryKind.ACCOUNT, EntryKind.KEY, EntryKind.DEFINITIONS})


def definition_text(account: Account) -> str:
    """The canonical text of ``account``'s definition (all but its metadata).

    Example:
        >>> definition_text(Account("a", "USD"))
        '{"closed":false,"min_balance":0,"name":"a","normal":"debit","trading":false,"unit":"USD"}'
    """
    return json.dumps(
        {
            "closed": account.closed,
            "min_balance": account.rule.min_balance,
            "name": account.name,
            "normal": account.normal.value,
            "trading": account.trading,
            "unit": account.unit,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def account_of(tx: Transaction) -> Account | None:
    """The account an ``ACCOUNT`` entry defines, or None if the entry is malformed.

    Example:
        >>> from datetime import UTC, datetime
        >>> at = datetime(2026, 1, 1, tzinfo=UTC)
        >>> a = Account("a", "USD", metadata=(("tier", 2),))
        >>> tx = Transaction(1, EntryKind.ACCOUNT, (), at, at, None, definition_text(a),
        ...                  a.metadata)
        >>> account_of(tx) == a
        True
    """
    if tx.kind is not EntryKind.ACCOUNT or tx.postings or tx.key is not None:
        return None
    try:
        d = json.loads(tx.memo)
        account = Account(
            name=d["name"],
            unit=d["unit"],
            normal=Side(d["normal"]),
            rule=BalanceRule(d["min_balance"]),
            closed=d["closed"],
            trading=d["trading"],
            metadata=tx.metadata,
        )
    except Exception:  # not JSON, a missing field, or a value the record refuses
        return None
    if (
        type(account.name) is not str
        or type(account.unit) is not str
        or type(account.closed) is not bool
        or type(account.trading) is not bool
        or definition_text(account) != tx.memo
    ):
        return None
    return account


def record_metadata(record: IdempotencyRecord) -> tuple[str, Metadata]:
    """The memo and metadata of the ``KEY`` entry that journals ``record``."""
    return record.error_message or "", (
        ("gl.error", record.error_type),
        ("gl.fingerprint", record.fingerprint),
        ("gl.key", record.key),
        ("gl.result", record.result),
        ("gl.transaction", record.transaction_id),
    )


def record_of(tx: Transaction) -> IdempotencyRecord | None:
    """The idempotency record a ``KEY`` entry journals, or None if it is malformed."""
    if tx.kind is not EntryKind.KEY or tx.postings or tx.key is not None:
        return None
    meta = dict(tx.metadata)
    key, fingerprint = meta.get("gl.key"), meta.get("gl.fingerprint")
    error, result, tid = meta.get("gl.error"), meta.get("gl.result"), meta.get("gl.transaction")
    if (
        len(meta) != 5
        or type(key) is not str
        or type(fingerprint) is not str
        or not (error is None or type(error) is str)
        or not (result is None or type(result) is str)
        or not (tid is None or type(tid) is int)
    ):
        return None
    message = tx.memo if error is not None else None
    if error is None and tx.memo:
        return None
    return IdempotencyRecord(key, fingerprint, tid, result, error, message)


def follows(before: Account, account: Account) -> bool:
    """Whether ``account`` may define again an account ``before`` defined: the same
    definition again, or its closing; a closed account is never reopened.

    Example:
        >>> a = Account("a", "USD")
        >>> follows(a, a), follows(a, attrs.evolve(a, closed=True)), follows(a, Account("a", "EUR"))
        (True, True, False)
    """
    return attrs.evolve(before, closed=account.closed) == account and (
        account.closed or not before.closed
    )


def settings(account: Account) -> str:
    """``account``'s definition in words, for a message that compares two of them."""
    return (
        f"{account.unit} {account.normal.value}, min_balance {account.rule.min_balance}, "
        f"trading {account.trading}, closed {account.closed}, metadata {dict(account.metadata)}"
    )
