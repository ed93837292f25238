"""The canonical form of a journal entry and its place in the hash chain.

Three chain formulas, named by :attr:`Transaction.hash_version`:

- **1** (entries written by earlier releases): SHA-256 over ``prev_hash`` and
  the canonical text of the entry, its id included (:func:`canonical`).
- **2** (entries written by the releases before formula 3): SHA-256 over
  ``prev_hash``, the id and the *content hash*, itself SHA-256 over the
  canonical text without the id (:func:`content_text`). The content hash needs
  nothing from the chain, so it is computed before any lock; only the short
  link step needs the head, and a database can do it itself (PostgreSQL:
  ``sha256()``).
- **3** (every new entry): formula 2's link step, ``prev_hash|id|content
  hash``, over a content hash that also covers the idempotency record of a
  keyed entry: SHA-256 of :func:`record_text` (its fingerprint and result), a
  ``|`` and the content text (:func:`keyed_content_text`). An entry with no key
  has no record, and its content hash is formula 2's. The record is the one
  :meth:`StoreWriter.remember` keeps for the entry's key, known before the
  entry is hashed: its fingerprint (of the request as given, which the entry
  cannot re-derive) and its result (None for every entry written today; a
  result that only the entry's id gives is re-derived from
  ``transaction_id``, which ``verify()`` checks, so it needs no hashing).

Every store computes the same hash for the same entry, so a book moved between
stores verifies identically, and an entry keeps verifying under the formula it
was written with.

The text is injective: strings are length-prefixed (netstring style),
times are integer microseconds since the Unix epoch in UTC, amounts are
integers of minor units and rates exact fractions. Any store that gives back
the same values gives back the same hash, so a reopened ledger verifies.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from .model import Metadata, Side, Transaction

__all__ = [
    "GENESIS_HASH",
    "HASH_VERSION",
    "HASH_VERSIONS",
    "canonical",
    "content_hash",
    "content_text",
    "entry_hash",
    "keyed_content_text",
    "link_hash",
    "link_parts",
    "micros",
    "record_text",
]

#: ``prev_hash`` of the first entry.
GENESIS_HASH = "0" * 64

#: The chain formula of new entries (see the module docstring).
HASH_VERSION = 3

#: The chain formulas this giftledger knows, oldest first; a journal never goes back.
HASH_VERSIONS = (1, 2, 3)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
_DEBIT = Side.DEBIT
_sha256 = hashlib.sha256


def micros(when: datetime) -> int:
    """Microseconds since the Unix epoch of an aware datetime."""
    return (when - _EPOCH) // _MICRO


def _text(value: str | None) -> str:
    return "-" if value is None else f"{len(value)}:{value}"


def _meta(metadata: Metadata) -> str:
    if not metadata:
        return "0"
    out = [str(len(metadata))]
    for k, v in metadata:
        if v is None:
            tv = "n"
        elif v is True or v is False:
            tv = "b1" if v else "b0"
        elif isinstance(v, int):
            tv = f"i{v}"
        else:
            tv = "s" + _text(v)
        out.append(f"{_text(k)}{tv}")
    return ",".join(out)


def _account_text(name: str) -> str:
    # Account names repeat from entry to entry: keep their netstrings (bounded, so
    # a process that sees millions of names does not grow without end).
    text = _ACCOUNT_TEXT.get(name)
    if text is None:
        if len(_ACCOUNT_TEXT) >= _ACCOUNT_TEXT_MAX:
            _ACCOUNT_TEXT.clear()
        text = _ACCOUNT_TEXT[name] = f"{len(name)}:{name}"
    return text


_ACCOUNT_TEXT: dict[str, str] = {}
_ACCOUNT_TEXT_MAX = 100_000


_last_time: tuple[datetime | None, str] = (None, "")  # the last effective_at and its text


def canonical(tx: Transaction) -> str:
    """The canonical text of ``tx`` under formula 1: its id, then :func:`content_text`."""
    return f"{tx.id}|{content_text(tx)}"


def content_text(tx: Transaction) -> str:
    """The canonical text of ``tx``'s content: everything but its id, hashes and links."""
    # The hot path of every write: one pass, no helper calls for the common case.
    # As text once: usually recorded_at is the same object, and every entry of a
    # batch has the same time object (held here, so it cannot be another's id).
    global _last_time
    when = tx.effective_at
    last, eff = _last_time
    if when is not last:
        eff = str(micros(when))
        _last_time = (when, eff)
    rec = eff if tx.recorded_at is when else str(micros(tx.recorded_at))
    texts = _ACCOUNT_TEXT
    parts = []
    for p in tx.postings:
        account = p.account
        head = texts.get(account) or _account_text(account)
        parts.append(f"{head}{'D' if p.side is _DEBIT else 'C'}{p.minor}:{p.unit}")
    tail = ""
    if tx.reverses is not None or tx.hold_id is not None or tx.expires_at is not None or tx.rates:
        exp = "-" if tx.expires_at is None else str(micros(tx.expires_at))
        rates = ",".join(str(r) for r in tx.rates)
        tail = f"|r{tx.reverses}|h{tx.hold_id}|x{exp}|{rates}"
    key, memo, metadata = tx.key, tx.memo, tx.metadata
    key_text = "-" if key is None else f"{len(key)}:{key}"
    memo_text = "-" if memo is None else f"{len(memo)}:{memo}"
    meta_text = _meta(metadata) if metadata else "0"
    return (
        f"{tx.kind._value_}|{eff}|{rec}|{key_text}|{memo_text}|{meta_text}|{';'.join(parts)}{tail}"
    )


def record_text(fingerprint: str, result: str | None) -> str:
    """The text of a keyed entry's idempotency record that formula 3 hashes with it:
    its fingerprint and result as netstrings (``-`` for no result).

    >>> record_text("ab", None), record_text("ab", "7")
    ('2:ab-', '2:ab1:7')
    """
    return f"{len(fingerprint)}:{fingerprint}{_text(result)}"


def keyed_content_text(tx: Transaction, fingerprint: str | None, result: str | None) -> str:
    """Formula 3's content text: :func:`content_text`, after :func:`record_text` and a
    ``|`` for a keyed entry (``fingerprint`` given), alone for an entry with no key.

    A record text starts with a digit and a content text with its kind's name, so
    the two forms never read alike.
    """
    if fingerprint is None:
        return content_text(tx)
    return f"{record_text(fingerprint, result)}|{content_text(tx)}"


def content_hash(tx: Transaction, fingerprint: str | None = None, result: str | None = None) -> str:
    """SHA-256 (hex) of the entry's content: what :func:`link_hash` links.

    Formula 2: of :func:`content_text`. Formula 3: of :func:`keyed_content_text`, with
    the fingerprint and result of the record of ``tx.key`` (ignored for an entry with
    no key).

    Raises:
        ValueError: ``tx`` is not of formula 2 or 3, or is a keyed formula 3 entry
            and ``fingerprint`` is None.
    """
    version = tx.hash_version
    if version == 2 or (version == 3 and tx.key is None):
        return _sha256(content_text(tx).encode()).hexdigest()
    if version == 3:
        if fingerprint is None:
            raise ValueError(
                f"transaction {tx.id} carries idempotency key {tx.key!r}: its formula 3 hash "
                f"needs the fingerprint of the key's record"
            )
        return _sha256(keyed_content_text(tx, fingerprint, result).encode()).hexdigest()
    raise ValueError(f"hash version {version!r} of transaction {tx.id} has no content hash")


def link_hash(prev_hash: str, id: int, content: str) -> str:
    """Formulas 2 and 3's chain step: SHA-256 (hex) of ``prev_hash|id|content``.

    PostgreSQL computes the same as
    ``encode(sha256(convert_to(prev || '|' || id || '|' || content, 'UTF8')), 'hex')``.

    >>> link_hash(GENESIS_HASH, 1, "ab")[:12]
    '11f4e3b2e75a'
    """
    return _sha256(f"{prev_hash}|{id}|{content}".encode()).hexdigest()


def entry_hash(
    tx: Transaction,
    prev_hash: str,
    fingerprint: str | None = None,
    result: str | None = None,
) -> str:
    """The hash of ``tx`` after ``prev_hash``, under the formula ``tx.hash_version`` names.

    ``fingerprint`` and ``result`` are those of the idempotency record of ``tx.key``:
    formula 3 hashes them with a keyed entry (and needs the fingerprint); formulas 1
    and 2 do not, and an entry with no key has no record.

    Raises:
        ValueError: a hash version this giftledger does not know, or a keyed
            formula 3 entry with no fingerprint.
    """
    # Every write's path: what content_hash does, without the call and its checks.
    version = tx.hash_version
    if version == 3 and tx.key is not None:
        if fingerprint is None:
            content = content_hash(tx)  # raises, naming the entry
        else:
            text = keyed_content_text(tx, fingerprint, result)
            content = _sha256(text.encode()).hexdigest()
    elif version == 3 or version == 2:
        content = _sha256(content_text(tx).encode()).hexdigest()
    elif version == 1:
        return _sha256(f"{prev_hash}|{canonical(tx)}".encode()).hexdigest()
    else:
        raise ValueError(f"unknown hash version {version!r} of transaction {tx.id}")
    return _sha256(f"{prev_hash}|{tx.id}|{content}".encode()).hexdigest()


def link_parts(
    tx: Transaction, fingerprint: str | None = None, result: str | None = None
) -> tuple[str, str, bool] | None:
    """``tx``'s content text cut around its two times, for a store that links entries
    itself and may move their time forward (PostgreSQL's ``gl_link``), or None.

    Returns ``(before, after, follows)``: the content text is ``before``, the
    effective time, ``|``, the recorded time and ``after``, in microseconds;
    ``follows`` says the effective time is the recorded time (the caller gave
    none), so it moves with it. The content hash is SHA-256 of that text and the
    link ``sha256(prev_hash | id | content hash)``: formula 2, and formula 3,
    whose keyed entry's text starts with its key's record (``fingerprint`` and
    ``result``, netstrings, then ``|``). None for formula 1, whose hash needs the
    id in the content, and for a keyed formula 3 entry without its fingerprint.

    >>> from datetime import UTC, datetime
    >>> from giftledger import EntryKind, Transaction
    >>> at = datetime(2026, 1, 1, tzinfo=UTC)
    >>> no = None
    >>> tx = Transaction(1, EntryKind.NOTE, (), at, at, no, "hi", (), no, no, no, (), "", "")
    >>> link_parts(tx)
    ('note|', '|-|2:hi|0|', True)
    """
    version = tx.hash_version
    if version == 2 or (version == 3 and tx.key is None):
        prefix = ""
    elif version == 3 and fingerprint is not None:
        prefix = f"{record_text(fingerprint, result)}|"
    else:
        return None
    kind, _, _, rest = content_text(tx).split("|", 3)
    return f"{prefix}{kind}|", f"|{rest}", tx.effective_at is tx.recorded_at
