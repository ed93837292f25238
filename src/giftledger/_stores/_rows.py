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

from .._boundary import shown
from .._errors import ChainBroken, WriteBlockFailed
from .._ledger.hashing import micros
from .._ledger.model import EntryKind, Hold, HoldStatus, Metadata, Posting, Rate, Side, Transaction

__all__ = [
    "DECODE_ERRORS",
    "EPOCH",
    "KINDS",
    "SIDES",
    "Dooming",
    "block_refused",
    "block_rolled_back",
    "doomed_by",
    "dump_json",
    "dump_meta",
    "dump_rates",
    "first_unreadable",
    "from_micros",
    "hold_of",
    "holds_start",
    "meta_of",
    "rates_of",
    "to_micros",
    "totals_of",
    "transaction_of",
    "unreadable",
]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
KINDS = {kind.value: kind for kind in EntryKind}
SIDES = {side.value: side for side in Side}

#: What turning a stored value the ledger did not write into a record raises: an
#: unknown kind or status, text that is not JSON or not of the expected shape, a
#: number that is not one, a time out of range, JSON nested past the recursion limit.
DECODE_ERRORS = (KeyError, IndexError, ValueError, TypeError, OverflowError, RecursionError)


# -- a write block that can no longer commit (see the Store protocol: doom) ----------


def doomed_by(error: BaseException) -> str:
    """Why a write block can no longer commit: a write joined to it wrote, then failed."""
    return f"a write inside it failed: {type(error).__name__}: {error}"


class Dooming:
    """A SQL store's writer's side of the Store protocol's ``doom``: it counts the calls
    that changed something in ``_changes``, pushes ``_changes`` onto ``_marks`` as each
    write joined to it begins (``_join_write``; the store pops it as the write ends), and
    keeps why it must roll back in ``_doomed``.

    It can no longer commit either once the database ended or aborted its transaction
    itself (``_transaction_failed``, the store's: SQLite may roll one back on a full
    disk, an I/O error or an interrupt; PostgreSQL aborts one at any statement that
    fails). A caller that caught that failure inside its ``store.write()`` block and
    went on would otherwise have later statements kept alone (SQLite) or the block's
    COMMIT answered with a rollback and no error (PostgreSQL): the block's calls would
    have returned as written what was not kept.
    """

    _changes: int
    _marks: list[int]
    _doomed: str | None
    _joined: bool
    #: Why a write whose transaction the database ended can no longer commit (the store's).
    _ENDED = "the database ended its transaction"
    #: Why this write lost track of what the database holds of it, if it did (see
    #: _lose_track).
    _lost: str | None = None

    def _transaction_failed(self) -> bool:
        """Whether the database ended or aborted this write's transaction itself."""
        return False

    def _lose_track(self, why: str) -> None:
        """This write no longer knows what the database holds of it: a statement that
        failed kept part of its rows, or an exception (a signal handler's) landed while
        they went out or its answer came in. It can no longer commit, nor send anything
        more; ``why`` says so, unless something said why first."""
        self._lost = why
        if self._doomed is None:
            self._doomed = why

    def _note(self, cause: BaseException) -> None:
        """A statement of this write failed with ``cause``: if the transaction ended
        with it, this write can no longer commit, and says why."""
        if self._doomed is None and self._transaction_failed():
            self._doomed = f"{self._ENDED}: {type(cause).__name__}: {cause}"

    def _doom_if_ended(self) -> None:
        """If the database ended the transaction, or this write lost track of it (and
        nothing said why yet), this write can no longer commit: as it ends, or before it
        sends anything more."""
        if self._doomed is None:
            if self._lost is not None:
                self._doomed = self._lost
            elif self._transaction_failed():
                self._doomed = self._ENDED

    def _still_open(self) -> None:
        """Refuse to go on once the database ended this write's transaction, or this
        write lost track of it."""
        if self._lost is not None or self._transaction_failed():
            self._doom_if_ended()
            assert self._doomed is not None
            raise block_refused(self._doomed)

    def _join_write(self) -> None:
        """A write opens inside this one: refused if this one can no longer commit, else
        it joins it, and where it begins is marked."""
        self._still_open()
        if self._doomed is not None:
            raise block_refused(self._doomed)
        self._joined = True
        self._marks.append(self._changes)

    def doom(self, error: BaseException) -> None:
        """A write joined to this one failed: if it wrote anything, this write can no
        longer commit (see the Store protocol). A no-op for the outermost write, which
        the error rolls back anyway."""
        if self._marks and self._changes != self._marks[-1] and self._doomed is None:
            self._doomed = doomed_by(error)


def block_refused(doomed: str) -> WriteBlockFailed:
    """The error for a write opened inside a block that can no longer commit."""
    return WriteBlockFailed(f"this write block can no longer commit: {doomed}")


def block_rolled_back(doomed: str) -> WriteBlockFailed:
    """The error for a block that ended without one and rolled back, doomed."""
    return WriteBlockFailed(f"the write block was rolled back, nothing in it kept: {doomed}")


def unreadable(
    what: str,
    column: str,
    value: object,
    exc: BaseException,
    transaction_id: int | None = None,
) -> ChainBroken:
    """The error for a stored value no record can be read from.

    Args:
        what: the row, as a message names it ("transaction 6", "account 'bob'").
        column: ``table.column`` as the store names them.
        value: the value found there.
        exc: what decoding it raised.
        transaction_id: the entry the row belongs to, if it is one entry's.
    """
    text = shown(value)
    if len(text) > 200:
        text = text[:200] + "…"
    return ChainBroken(
        f"{what}: the store holds {text} in {column}, which giftledger never writes "
        f"({type(exc).__name__}: {str(exc)[:200]}); the database was changed behind the "
        f"ledger's back: restore it from a backup",
        transaction_id,
    )


def first_unreadable(
    what: str,
    table: str,
    row: Sequence[Any],
    decoders: Sequence[tuple[str, int, Callable[[Any], object]]],
    exc: BaseException,
    transaction_id: int | None = None,
) -> ChainBroken:
    """``unreadable`` for the first column of ``row`` its decoder fails on (run only
    once a whole row failed, to name the column)."""
    for column, i, decode in decoders:
        try:
            decode(row[i])
        except DECODE_ERRORS as failed:
            return unreadable(what, f"{table}.{column}", row[i], failed, transaction_id)
    return unreadable(what, f"a column of {table}", tuple(row), exc, transaction_id)


def _id_of(value: object) -> int | None:
    return value if type(value) is int else None


def totals_of(unit: object, debits: Any, credits: Any, table: str) -> tuple[int, int]:
    """A unit's stored debit and credit totals (decimal text or integers) as ints.

    Raises:
        ChainBroken: a total that is not a whole number, naming the unit and column.
    """
    try:
        return int(debits), int(credits)
    except DECODE_ERRORS as exc:
        raise first_unreadable(
            f"the totals of unit {shown(unit)}", table, (debits, credits), _TOTALS_DECODERS, exc
        ) from None


_TOTALS_DECODERS: tuple[tuple[str, int, Callable[[Any], object]], ...] = (
    ("debits", 0, int),
    ("credits", 1, int),
)


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


def holds_start(account: object, first_id: object) -> int | None:
    """Where a store's ``holds_from(account, first_id)`` starts: ``first_id``, at least
    1; None when no hold can match (a name that is not a string, an id past 64 bits).

    >>> holds_start("a", -5), holds_start("a", 7), holds_start("a", 2**63), holds_start(None, 1)
    (1, 7, None, None)

    Raises:
        TypeError: ``first_id`` is not an int (a bool is not one).
    """
    if type(first_id) is not int:
        raise TypeError(f"first_id {shown(first_id)} must be an entry id (an int)")
    if not isinstance(account, str) or first_id >= 1 << 63:
        return None
    return max(first_id, 1)


def hold_of(row: Sequence[Any], table: str = "holds") -> Hold:
    """A hold from ``id, debit, credit, minor, unit, expires_at, status, posted_minor,
    resolved_by``, read from ``table``.

    Raises:
        ChainBroken: a value the ledger never writes, naming the hold and column.
    """
    try:
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
    except DECODE_ERRORS as exc:
        raise first_unreadable(
            f"hold {shown(row[0])}",
            table,
            row,
            (("expires_at", 5, from_micros), ("status", 6, HoldStatus)),
            exc,
            _id_of(row[0]),
        ) from None


def transaction_of(
    row: Sequence[Any],
    postings: tuple[Posting, ...],
    reversed_by: int | None,
    load_meta: Callable[[Any], Metadata] = meta_of,
    load_rates: Callable[[Any], tuple[Rate, ...]] = rates_of,
    hash_version: int = 3,
    table: str = "transactions",
) -> Transaction:
    """An entry from ``id, kind, effective_at, recorded_at, key, memo, metadata,
    reverses, hold_id, expires_at, rates, prev_hash, hash``; ``load_meta`` and
    ``load_rates`` read the two JSON columns as the driver returns them (decoded
    by psycopg, text from sqlite3); ``hash_version`` is the entry's chain formula.

    Raises:
        ChainBroken: a value the ledger never writes (in ``table``), naming the entry
            and the column.
    """
    try:
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
    except DECODE_ERRORS as exc:
        raise first_unreadable(
            f"transaction {shown(row[0])}",
            table,
            row,
            (
                ("kind", 1, KINDS.__getitem__),
                ("effective_at", 2, _time),
                ("recorded_at", 3, _time),
                ("metadata", 6, load_meta),
                ("expires_at", 9, from_micros),
                ("rates", 10, load_rates),
            ),
            exc,
            _id_of(row[0]),
        ) from None


def _time(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)
