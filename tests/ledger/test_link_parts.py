"""``link_parts``: the content text a store links itself (PostgreSQL's ``gl_link``).

The server rebuilds the content text as ``before``, the effective time, ``|``, the
recorded time and ``after``, hashes it and links it; for every kind of entry the
memory store writes, that must give back the entry's own formula 2 hash, and the
times must be the ones the entry carries.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import giftledger as gl
from giftledger._ledger.hashing import HASH_VERSION, content_hash, link_hash, link_parts, micros

from .helpers import fund, open_books


def _books() -> tuple[gl.Ledger, gl.ManualClock]:
    clock = gl.ManualClock()
    book = gl.Ledger(clock=clock)
    open_books(book)
    return book, clock


def _rebuilt(tx: gl.Transaction, fingerprint: str | None = None, result: str | None = None) -> str:
    parts = link_parts(tx, fingerprint, result)
    assert parts is not None
    before, after, follows = parts
    rec = micros(tx.recorded_at)
    eff = rec if follows else micros(tx.effective_at)
    text = f"{before}{eff}|{rec}{after}"
    return hashlib.sha256(text.encode()).hexdigest()


def test_every_entry_of_a_journal_rebuilds_its_hash_from_its_parts() -> None:
    book, clock = _books()
    fund(book, "viewers:alice:coins", 100)
    hold = book.hold("viewers:alice:coins", "platform:escrow", 10, key="h-1")
    book.post_hold(hold)
    tx = book.transfer("viewers:alice:coins", "platform:escrow", 5, memo="a 'memo' | with bars")
    book.reverse(tx.id)
    book.note(memo="n", metadata={"k": "v|w", "n": 3}, effective_at=clock.now())
    checked = 0
    keyed = 0
    for entry in book.transactions():
        if entry.hash_version != HASH_VERSION:
            continue
        record = None
        if entry.key is not None:  # formula 3 hashes a keyed entry with its record
            with book.store.read() as r:
                record = r.idempotency(entry.key)
            assert record is not None
            assert link_parts(entry) is None  # no record, no parts
            keyed += 1
        fingerprint, result = (
            (None, None) if record is None else (record.fingerprint, record.result)
        )
        rebuilt = _rebuilt(entry, fingerprint, result)
        assert rebuilt == content_hash(entry, fingerprint, result)
        assert link_hash(entry.prev_hash, entry.id, rebuilt) == entry.hash
        checked += 1
    assert checked >= 6
    assert keyed == 1


def test_the_effective_time_follows_only_when_the_caller_gave_none() -> None:
    book, clock = _books()
    fund(book, "viewers:alice:coins", 100)
    given = book.note(memo="given", effective_at=clock.now() - timedelta(seconds=1))
    default = book.note(memo="default")
    assert link_parts(given) is not None
    assert link_parts(given)[2] is False  # type: ignore[index]
    assert link_parts(default)[2] is True  # type: ignore[index]


def test_a_formula_1_entry_has_no_parts() -> None:
    book, _ = _books()
    fund(book, "viewers:alice:coins", 1)
    entry = next(iter(book.transactions()))
    old = gl.Transaction(
        entry.id,
        entry.kind,
        entry.postings,
        entry.effective_at,
        entry.recorded_at,
        entry.key,
        entry.memo,
        entry.metadata,
        entry.reverses,
        entry.hold_id,
        entry.expires_at,
        entry.rates,
        entry.prev_hash,
        entry.hash,
        hash_version=1,
    )
    assert link_parts(old) is None
