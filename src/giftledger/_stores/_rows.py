"""How the SQL stores write records as column values and read them back.

SQLite and PostgreSQL keep the same values in the same forms: times as integer
microseconds since the Unix epoch (UTC), metadata as a JSON list of
``[key, value]`` pairs (so str, int, bool and None stay apart), rates as a JSON
list of ``[base, quote, "p/q"]``. What a store reads back must equal what the
ledger wrote, to the last field, or the hash chain would not verify.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

from .._ledger.hashing import micros
from .._ledger.model import EntryKind, Hold, HoldStatus, Metadata, Posting, Rate, Side, Transaction

__all__ = [
    "EPOCH",
    "KINDS",
    "SIDES",
    "dump_json",
    "dump_meta",
    "dump_rates",
    "from_micros",
    "hold_of",
    "meta_of",
    "rates_of",
    "to_micros",
    "transaction_of",
]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
KINDS = {kind.value: kind for kind in EntryKind}
SIDES = {side.value: side for side in Side}


def to_micros(when: datetime | None) -> int | None:
    """Microseconds since the epoch, or None."""
    return None if when is None else micros(when)


def from_micros(value: int | None) -> datetime | None:
    """An aware UTC datetime from microseconds since the epoch, or None."""
    return None if value is None else EPOCH + timedelta(microseconds=value)


def dump_json(value: Any) -> str:
    """Compact JSON that keeps non-ASCII text as it is."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def dump_meta(metadata: Metadata) -> str:
    """Metadata as a JSON list of ``[key, value]`` pairs."""
    return dump_json([list(kv) for kv in metadata]) if metadata else "[]"


def meta_of(pairs: Iterable[Sequence[Any]] | None) -> Metadata:
    """Metadata from decoded JSON pairs."""
    return tuple((k, v) for k, v in pairs) if pairs else ()


def dump_rates(rates: tuple[Rate, ...]) -> str:
    """Rates as a JSON list of ``[base, quote, "p/q"]``."""
    if not rates:
        return "[]"
    return dump_json(
        [[r.base, r.quote, f"{r.value.numerator}/{r.value.denominator}"] for r in rates]
    )


def rates_of(triples: Iterable[Sequence[Any]] | None) -> tuple[Rate, ...]:
    """Rates from decoded JSON triples."""
    return tuple(Rate(b, q, Fraction(v)) for b, q, v in triples) if triples else ()


def hold_of(row: Sequence[Any]) -> Hold:
    """A hold from ``id, debit, credit, minor, unit, expires_at, status, posted_minor,
    resolved_by``."""
    return Hold(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        from_micros(row[5]),
        HoldStatus(row[6]),
        row[7],
        row[8],
    )


def transaction_of(
    row: Sequence[Any],
    postings: tuple[Posting, ...],
    reversed_by: int | None,
    load_meta: Callable[[Any], Metadata] = meta_of,
    load_rates: Callable[[Any], tuple[Rate, ...]] = rates_of,
    hash_version: int = 3,
) -> Transaction:
    """An entry from ``id, kind, effective_at, recorded_at, key, memo, metadata,
    reverses, hold_id, expires_at, rates, prev_hash, hash``; ``load_meta`` and
    ``load_rates`` read the two JSON columns as the driver returns them (decoded
    by psycopg, text from sqlite3); ``hash_version`` is the entry's chain formula."""
    return Transaction(
        row[0],
        KINDS[row[1]],
        postings,
        EPOCH + timedelta(microseconds=row[2]),
        EPOCH + timedelta(microseconds=row[3]),
        row[4],
        row[5],
        load_meta(row[6]),
        row[7],
        row[8],
        from_micros(row[9]),
        load_rates(row[10]),
        row[11],
        row[12],
        reversed_by,
        hash_version=hash_version,
    )
