"""The SQLite store: the embedded default, one durable file.

``sqlite:///path/to/file.db`` (a relative path after the third slash, an
absolute one after the fourth: ``sqlite:////var/lib/book.db``). The file is in
WAL mode with ``synchronous=FULL``, so a committed write survives a crash or a
power cut and readers never block the writer. Every write runs inside
``BEGIN IMMEDIATE``, which takes the database's one write lock up front: the
ledger's checks and its writes see the same state, even with several
processes writing one file (each waits up to the busy timeout for its turn).

Layout (STRICT tables; amounts are INTEGER minor units, never REAL; times are
INTEGER microseconds since the Unix epoch, UTC; rates are exact ``p/q`` text;
metadata is JSON, which keeps str, int, bool and None apart)::

    meta              key → value; the schema version and the index's segment size
    accounts          the account records, their running totals and the latest
                      effective time among their posted postings
    transactions      the journal, one row per entry, with its hash
    postings          one row per posting; net_after is the account's net after
                      a posted posting (NULL for a hold's pending postings)
    holds             one row per hold; only its status fields ever change
    idempotency       one row per key
    totals            posted debits and credits per unit: the trial balance
    backdated         the posted postings effective before an earlier posting
                      of their account (by entry id)
    account_segments  which index segments hold postings of each account

Answers come from these running totals and indexes, not from scans, so they
cost the same beside a million entries as beside ten: a balance now reads the
account's row; a balance at a journal point is the ``net_after`` of the
account's last posting up to it (one index lookup); a balance at a past
effective time is a binary search over the account's postings, which are in
effective order but for the few in ``backdated`` (added apart, so the cost
also grows with those); the trial balance reads ``totals``.

An account's postings are indexed by ``(entry id >> 14, account, entry id)``:
by segment of 16,384 entries first. Appends then land in the newest segment's
part of the index, whose size does not grow with the journal; indexed by
account first, each batch touched one page per account anywhere in a growing
file, and the write rate fell as the journal grew (to 0.3–0.5 of the first
10% over a million entries).

Triggers make the journal append-only in the database itself: UPDATE and
DELETE on transactions, postings, idempotency keys, ``backdated`` and
``account_segments`` are refused, and so are changes to an account's identity
or a hold's terms. ``Ledger.verify()`` still catches a change made behind the
triggers' back (by dropping them) to anything it can re-derive from the
journal: the chain, the accounts' totals and ``totals``, and (through this
store's ``check_derived``) each posting's ``net_after``, ``backdated``,
``account_segments``, the accounts' ``last_effective`` and the ``holds`` rows,
and that no posting belongs to no entry (one planted beyond the head would be
read as history, and taken into the next entry).

A file written in an older schema is migrated when it is opened, in one
write (``MIGRATIONS``); one written by a newer giftledger raises
:class:`~giftledger.SchemaVersionError`.

Within one write the store keeps the accounts it touched and the rows it
appended in memory and sends them to SQLite in bulk (``executemany``) before
any query that could see them and at commit, so a batch of a thousand
transactions costs a handful of statements per table rather than thousands.
Between writes it keeps the account states and the chain's head it last
wrote, for as long as ``PRAGMA data_version`` shows that no other connection
committed. Reads run on a second connection, each ``read()`` block in one
snapshot, so a write may begin while a read is still open.

Amounts and account totals must fit SQLite's signed 64-bit integers; a write
that would overflow one fails with :class:`~giftledger.StoreError` and changes
nothing. A unit's debit and credit totals in ``totals`` are decimal text: they
only grow, and pass 2^63 - 1 once a unit has moved that much in all. Every
SQLite failure surfaces as a ``StoreError``.
"""

from __future__ import annotations

import bisect
import json
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from .._boundary import shown
from .._errors import ChainBroken, InvalidArgument, SchemaVersionError, StoreError
from .._ledger.hashing import GENESIS_HASH, micros
from .._ledger.model import (
    Account,
    BalanceRule,
    EntryKind,
    Hold,
    HoldStatus,
    Metadata,
    Posting,
    Rate,
    Side,
    Transaction,
)
from .._ledger.store import AccountState, IdempotencyRecord, PostingRow
from .._ledger.text import storable
from ._rows import (
    DECODE_ERRORS,
    Dooming,
    block_refused,
    block_rolled_back,
    first_unreadable,
    holds_start,
    meta_of,
    rates_of,
    totals_of,
    transaction_of,
    unreadable,
)
from ._rows import EPOCH as _EPOCH
from ._rows import SIDES as _SIDES
from ._rows import dump_meta as _dump_meta
from ._rows import dump_rates as _dump_rates
from ._rows import from_micros as _from_micros
from ._rows import hold_of as _hold
from ._rows import to_micros as _to_micros

__all__ = ["SCHEMA_VERSION", "SQLiteStore"]

_MICRO = timedelta(microseconds=1)
_DEBIT = Side.DEBIT
_POSTED = (EntryKind.POST, EntryKind.POST_HOLD, EntryKind.REVERSAL)
_PAGE = 512  # entries read per query when iterating the journal
_BUSY_TIMEOUT = 60.0  # seconds a writer waits for another process's write lock
_CACHED_ACCOUNTS = 100_000  # account states kept between writes, at most
_CHUNK = 500  # names per "IN (...)" query
_MAX_ID = 2**63 - 1  # SQLite's largest integer: no entry has an id beyond it
_MIN_INT = -(2**63)  # SQLite's smallest integer
#: What a write block failed at when its rows went out part-way (see _Writer._flush).
_PART_WAY = "sending this block's rows to SQLite failed part-way"
_MAY_HAVE_KEPT = f"{_PART_WAY}, and SQLite may have kept some of them"


# -- schema ------------------------------------------------------------------------------


def _v0_to_v1(db: sqlite3.Connection) -> None:
    """Create the first schema."""
    for statement in _SCHEMA_V1:
        db.execute(statement)


_SCHEMA_V1 = (
    """
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) STRICT
    """,
    """
    CREATE TABLE accounts (
        id              INTEGER PRIMARY KEY,
        name            TEXT NOT NULL UNIQUE,
        unit            TEXT NOT NULL,
        normal          TEXT NOT NULL CHECK (normal IN ('debit', 'credit')),
        min_balance     INTEGER,
        closed          INTEGER NOT NULL CHECK (closed IN (0, 1)),
        trading         INTEGER NOT NULL CHECK (trading IN (0, 1)),
        metadata        TEXT NOT NULL,
        net             INTEGER NOT NULL DEFAULT 0,
        pending_debits  INTEGER NOT NULL DEFAULT 0,
        pending_credits INTEGER NOT NULL DEFAULT 0,
        next_expiry     INTEGER
    ) STRICT
    """,
    """
    CREATE TABLE transactions (
        id           INTEGER PRIMARY KEY,
        kind         TEXT NOT NULL,
        effective_at INTEGER NOT NULL,
        recorded_at  INTEGER NOT NULL,
        key          TEXT,
        memo         TEXT NOT NULL,
        metadata     TEXT NOT NULL,
        reverses     INTEGER,
        hold_id      INTEGER,
        expires_at   INTEGER,
        rates        TEXT NOT NULL,
        prev_hash    TEXT NOT NULL,
        hash         TEXT NOT NULL
    ) STRICT
    """,
    "CREATE UNIQUE INDEX transactions_reverses ON transactions (reverses) "
    "WHERE reverses IS NOT NULL",
    """
    CREATE TABLE postings (
        tx_id      INTEGER NOT NULL,
        idx        INTEGER NOT NULL,
        account_id INTEGER NOT NULL,
        side       TEXT NOT NULL CHECK (side IN ('debit', 'credit')),
        minor      INTEGER NOT NULL CHECK (minor > 0),
        unit       TEXT NOT NULL,
        net_after  INTEGER,
        PRIMARY KEY (tx_id, idx)
    ) STRICT, WITHOUT ROWID
    """,
    "CREATE INDEX postings_account ON postings (account_id, tx_id, idx)",
    """
    CREATE TABLE holds (
        id           INTEGER PRIMARY KEY,
        debit_id     INTEGER NOT NULL,
        credit_id    INTEGER NOT NULL,
        minor        INTEGER NOT NULL CHECK (minor > 0),
        unit         TEXT NOT NULL,
        expires_at   INTEGER,
        status       TEXT NOT NULL,
        posted_minor INTEGER NOT NULL,
        resolved_by  INTEGER
    ) STRICT
    """,
    "CREATE INDEX holds_pending_debit ON holds (debit_id) WHERE status = 'pending'",
    "CREATE INDEX holds_pending_credit ON holds (credit_id) WHERE status = 'pending'",
    """
    CREATE TABLE idempotency (
        key            TEXT PRIMARY KEY,
        fingerprint    TEXT NOT NULL,
        transaction_id INTEGER,
        result         TEXT,
        error_type     TEXT,
        error_message  TEXT
    ) STRICT
    """,
    # Append-only, enforced by the database. Totals and a hold's status change by
    # design; everything a hash or a reference depends on does not.
    *(
        f"""
        CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table}
        BEGIN SELECT RAISE(ABORT, 'giftledger: {table} are append-only'); END
        """
        for table in ("transactions", "postings", "idempotency")
        for action in ("UPDATE", "DELETE")
    ),
    """
    CREATE TRIGGER accounts_no_delete BEFORE DELETE ON accounts
    BEGIN SELECT RAISE(ABORT, 'giftledger: accounts are never deleted'); END
    """,
    """
    CREATE TRIGGER accounts_fixed BEFORE UPDATE OF id, name, unit, normal, min_balance,
        trading, metadata ON accounts
    BEGIN SELECT RAISE(ABORT, 'giftledger: an account''s identity and rule never change'); END
    """,
    """
    CREATE TRIGGER accounts_stay_closed BEFORE UPDATE OF closed ON accounts
    WHEN OLD.closed = 1 AND NEW.closed = 0
    BEGIN SELECT RAISE(ABORT, 'giftledger: a closed account stays closed'); END
    """,
    """
    CREATE TRIGGER holds_no_delete BEFORE DELETE ON holds
    BEGIN SELECT RAISE(ABORT, 'giftledger: holds are never deleted'); END
    """,
    """
    CREATE TRIGGER holds_fixed BEFORE UPDATE OF id, debit_id, credit_id, minor, unit,
        expires_at ON holds
    BEGIN SELECT RAISE(ABORT, 'giftledger: a hold''s terms never change'); END
    """,
    """
    CREATE TRIGGER holds_settle_once BEFORE UPDATE OF status ON holds
    WHEN OLD.status <> 'pending'
    BEGIN SELECT RAISE(ABORT, 'giftledger: a settled hold stays settled'); END
    """,
)

#: How many entries share one segment of the account index, as a power of two: an
#: account's postings are indexed by ``(entry id >> SEGMENT_BITS, account, entry id)``.
#: A new file records the value it was built with (``meta.segment_bits``) and keeps it.
SEGMENT_BITS = 14


# The back-dated postings, derived from the journal: a posted posting is back-dated
# when it is effective before an earlier posted posting of its account (by entry id,
# then posting index). The migration fills ``backdated`` with it; verify() compares.
_BACKDATED = """
    SELECT account_id, tx_id, idx, effective_at, amount FROM (
        SELECT p.account_id, p.tx_id, p.idx, t.effective_at,
            CASE p.side WHEN 'debit' THEN p.minor ELSE -p.minor END AS amount,
            MAX(t.effective_at) OVER (
                PARTITION BY p.account_id ORDER BY p.tx_id, p.idx
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
            ) AS latest_before
        FROM postings p JOIN transactions t ON t.id = p.tx_id
        WHERE p.net_after IS NOT NULL
    ) WHERE effective_at < latest_before
"""


def _v1_to_v2(db: sqlite3.Connection) -> None:
    """Answer past balances and the trial balance from stored totals; keep writes flat.

    - ``totals``: posted debits and credits per unit, kept as entries are appended,
      so the trial balance reads one row per unit instead of summing every posting.
    - ``accounts.last_effective`` and ``backdated``: the latest effective time
      among an account's posted postings, and the postings effective before it
      when they were appended. Without them an account's postings are in
      effective order, so a past balance is the ``net_after`` of one posting,
      found by binary search; the back-dated ones are added or taken off apart.
    - The account index by segment: ``(entry id >> SEGMENT_BITS, account_id,
      entry id, idx)`` instead of ``(account_id, entry id, idx)``, with
      ``account_segments`` listing the segments each account has postings in.
      Appends then land in the newest segment's part of the index, a region
      whose size does not grow with the journal, where with one index ordered
      by account every batch touched a page per account anywhere in the file,
      and wrote more pages the longer the journal grew.
    """
    bits = SEGMENT_BITS
    for statement in (
        # Decimal text, not INTEGER: a unit's debits only ever grow, and ten of the
        # largest amounts (10^18 minor units) already pass 2^63 - 1. An account's
        # net is a balance and stays in range; the turnover of a unit need not.
        "CREATE TABLE totals (unit TEXT PRIMARY KEY, debits TEXT NOT NULL, "
        "credits TEXT NOT NULL) STRICT",
        "ALTER TABLE accounts ADD COLUMN last_effective INTEGER",
        "UPDATE accounts SET last_effective = (SELECT MAX(t.effective_at) FROM postings p "
        "JOIN transactions t ON t.id = p.tx_id "
        "WHERE p.account_id = accounts.id AND p.net_after IS NOT NULL)",
        """
        CREATE TABLE backdated (
            account_id   INTEGER NOT NULL,
            tx_id        INTEGER NOT NULL,
            idx          INTEGER NOT NULL,
            effective_at INTEGER NOT NULL,
            amount       INTEGER NOT NULL,
            PRIMARY KEY (account_id, tx_id, idx)
        ) STRICT, WITHOUT ROWID
        """,
        # A posted posting is back-dated when it is effective before an earlier
        # posted posting of its account (by entry id, then posting index).
        "INSERT INTO backdated (account_id, tx_id, idx, effective_at, amount) " + _BACKDATED,
        "DROP INDEX postings_account",
        f"CREATE INDEX postings_segment ON postings ((tx_id >> {bits}), account_id, tx_id, idx)",
        """
        CREATE TABLE account_segments (
            account_id INTEGER NOT NULL,
            segment    INTEGER NOT NULL,
            PRIMARY KEY (account_id, segment)
        ) STRICT, WITHOUT ROWID
        """,
        f"INSERT INTO account_segments (account_id, segment) "
        f"SELECT DISTINCT account_id, tx_id >> {bits} FROM postings",
        *(
            f"""
            CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table}
            BEGIN SELECT RAISE(ABORT, 'giftledger: {table} are append-only'); END
            """
            for table in ("backdated", "account_segments")
            for action in ("UPDATE", "DELETE")
        ),
        """
        CREATE TRIGGER totals_no_delete BEFORE DELETE ON totals
        BEGIN SELECT RAISE(ABORT, 'giftledger: totals are never deleted'); END
        """,
    ):
        db.execute(statement)
    # Each unit's totals, as exact integer sums of each amount's high and low 32 bits
    # (SQLite's SUM raises past 2^63 - 1, which a unit's turnover may well pass; the
    # halves stay far below it), joined in Python.
    db.executemany(
        "INSERT INTO totals (unit, debits, credits) VALUES (?, ?, ?)",
        [
            (unit, str((dh << 32) + dl), str((ch << 32) + cl))
            for unit, dh, dl, ch, cl in db.execute(
                "SELECT unit, "
                "SUM(CASE side WHEN 'debit' THEN minor >> 32 ELSE 0 END), "
                "SUM(CASE side WHEN 'debit' THEN minor & 4294967295 ELSE 0 END), "
                "SUM(CASE side WHEN 'credit' THEN minor >> 32 ELSE 0 END), "
                "SUM(CASE side WHEN 'credit' THEN minor & 4294967295 ELSE 0 END) "
                "FROM postings WHERE net_after IS NOT NULL GROUP BY unit"
            ).fetchall()
        ],
    )
    db.execute("INSERT INTO meta (key, value) VALUES ('segment_bits', ?)", (str(bits),))


def _v2_to_v3(db: sqlite3.Connection) -> None:
    """Record each entry's chain formula: the entries there are keep formula 1, new ones
    are written with formula 2 (see ``giftledger._ledger.hashing``). Adding a column
    with a default rewrites nothing."""
    db.execute("ALTER TABLE transactions ADD COLUMN hash_version INTEGER NOT NULL DEFAULT 1")


def _v3_to_v4(db: sqlite3.Connection) -> None:
    """Index the entries by the idempotency key they carry (the keyed ones only), so a
    write can tell, in one lookup, that an entry carries a key whose record is gone;
    and mark hash formula 3 (a keyed entry hashed with its idempotency record): an
    earlier giftledger, which would chain formula 2 entries after formula 3 ones (a
    journal ``verify()`` refuses), does not open the file."""
    db.execute("CREATE INDEX transactions_key ON transactions (key) WHERE key IS NOT NULL")


def _v4_to_v5(db: sqlite3.Connection) -> None:
    """Index the holds by account and id, so an account's holds from an entry on
    (``holds_from``: a withdrawal's caps over a week) are an index range, not a range of
    every account's holds."""
    db.execute("CREATE INDEX holds_debit_id ON holds (debit_id, id)")
    db.execute("CREATE INDEX holds_credit_id ON holds (credit_id, id)")


#: One function per step, from version ``i`` to ``i + 1``; the schema version this
#: library writes is the number of steps.
MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (
    _v0_to_v1,
    _v1_to_v2,
    _v2_to_v3,
    _v3_to_v4,
    _v4_to_v5,
)
SCHEMA_VERSION = len(MIGRATIONS)


def _schema_version(db: sqlite3.Connection) -> int:
    has_meta = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
    ).fetchone()
    if has_meta is None:
        others = db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).fetchall()
        if others:
            raise StoreError(
                f"the database holds tables ({', '.join(sorted(r[0] for r in others))}) but is "
                f"not a giftledger ledger; give a new or a giftledger file"
            )
        return 0
    row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is None or not str(row[0]).isdigit():
        raise SchemaVersionError(f"the database's schema version {row!r} is unreadable")
    return int(row[0])


def migrate(
    db: sqlite3.Connection, migrations: Sequence[Callable[[sqlite3.Connection], None]]
) -> int:
    """Bring the schema of ``db`` up to ``len(migrations)``, inside one write; return it.

    Raises:
        SchemaVersionError: the database is newer than ``migrations`` know.
    """
    target = len(migrations)
    db.execute("BEGIN")  # a read first: opening a current file needs no write lock
    try:
        version = _schema_version(db)
    finally:
        db.execute("COMMIT")
    if version == target:
        return target
    db.execute("BEGIN IMMEDIATE")
    try:
        version = _schema_version(db)
        if version > target:
            raise SchemaVersionError(
                f"the database has schema version {version}, newer than the {target} this "
                f"giftledger supports; upgrade giftledger to open it"
            )
        for step in migrations[version:]:
            step(db)
        if version < target:
            db.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(target),),
            )
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return target


# -- values ------------------------------------------------------------------------------


def _load_meta(text: str) -> Metadata:
    return () if text == "[]" else meta_of(json.loads(text))


def _load_rates(text: str) -> tuple[Rate, ...]:
    return () if text == "[]" else rates_of(json.loads(text))


def _account(row: Sequence[Any]) -> Account:
    # row: name, unit, normal, min_balance, closed, trading, metadata
    try:
        return Account(
            row[0],
            row[1],
            Side(row[2]),
            BalanceRule(row[3]),
            bool(row[4]),
            bool(row[5]),
            _load_meta(row[6]),
        )
    except DECODE_ERRORS as exc:
        raise first_unreadable(
            f"account {shown(row[0])}", "accounts", row, _ACCOUNT_DECODERS, exc
        ) from None


_ACCOUNT_DECODERS: tuple[tuple[str, int, Callable[[Any], object]], ...] = (
    ("normal", 2, Side),
    ("min_balance", 3, BalanceRule),
    ("metadata", 6, _load_meta),
)


_ACCOUNT_COLUMNS = (
    "name, unit, normal, min_balance, closed, trading, metadata, "
    "net, pending_debits, pending_credits, next_expiry, id, last_effective"
)


def _state(row: Sequence[Any]) -> AccountState:
    try:
        next_expiry = _from_micros(row[10])
    except DECODE_ERRORS as exc:
        raise unreadable(f"account {shown(row[0])}", "accounts.next_expiry", row[10], exc) from None
    return AccountState(_account(row), row[7], row[8], row[9], next_expiry)


_TX_COLUMNS = (
    "id, kind, effective_at, recorded_at, key, memo, metadata, reverses, hold_id, "
    "expires_at, rates, prev_hash, hash, hash_version"
)

_INSERT_TX = (
    f"INSERT INTO transactions ({_TX_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_POSTING = (
    "INSERT INTO postings (tx_id, idx, account_id, side, minor, unit, net_after) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)

_HOLD_COLUMNS = (
    "h.id, d.name, c.name, h.minor, h.unit, h.expires_at, h.status, h.posted_minor, h.resolved_by"
)
# An account's pending holds (its id bound twice), through the pending-only indexes by
# name: with no statistics (SQLite keeps none unless told to ANALYZE), the planner would
# take the indexes by (account, id) of schema 5 and walk every hold the account ever had.
_PENDING_OF = (
    "(SELECT * FROM holds INDEXED BY holds_pending_debit WHERE status = 'pending' "
    "AND debit_id = ? UNION ALL SELECT * FROM holds INDEXED BY holds_pending_credit "
    "WHERE status = 'pending' AND credit_id = ?)"
)


class _Queries:
    """The statements that read the account index, for a file's segment size.

    The segment is written into each statement as a constant, ``(tx_id >> bits)``,
    the very expression the index is built on: SQLite uses an index on an
    expression only for a term with the same expression, not for a parameter.
    """

    def __init__(self, bits: int) -> None:
        seg = f"(p.tx_id >> {int(bits)})"
        last = (
            "SELECT p.tx_id, p.idx, p.net_after, t.effective_at FROM postings p "
            "JOIN transactions t ON t.id = p.tx_id "
            f"WHERE {seg} = ? AND p.account_id = ? AND p.tx_id <= ? AND p.net_after IS NOT NULL"
        )
        order = " ORDER BY p.tx_id DESC, p.idx DESC LIMIT 1"
        #: The last posted posting of an account in a segment, up to an entry id.
        self.last = last + order
        #: The same, passing over the account's back-dated postings.
        self.last_in_order = (
            last + " AND NOT EXISTS (SELECT 1 FROM backdated b WHERE b.account_id = "
            "p.account_id AND b.tx_id = p.tx_id AND b.idx = p.idx)" + order
        )
        #: An account's posted postings in a segment after an entry id, in order.
        self.history = (
            "SELECT p.tx_id, p.idx, p.side, p.minor, p.unit, p.net_after FROM postings p "
            f"WHERE {seg} = ? AND p.account_id = ? AND p.tx_id > ? AND p.net_after IS NOT NULL "
            "ORDER BY p.tx_id, p.idx LIMIT ?"
        )


def _segment_bits(row: Sequence[Any] | None) -> int:
    """The file's segment size, from its ``meta`` row (None: the row is missing)."""
    value = None if row is None else row[0]
    if isinstance(value, str) and value.isascii() and value.isdigit() and int(value) < 63:
        return int(value)
    raise ChainBroken(
        f"the store holds {shown(value)} in meta.segment_bits (the account index's segment "
        f"size), which giftledger never writes; the database was changed behind the "
        f"ledger's back: restore it from a backup",
        None,
    )


def _successor(prefix: str) -> str | None:
    """The least string above every string that starts with ``prefix``, if easy to name."""
    if not prefix:
        return None
    last = ord(prefix[-1]) + 1
    if 0xD800 <= last <= 0xDFFF:  # no surrogates in UTF-8: skip past them
        last = 0xE000
    return None if last > 0x10FFFF else prefix[:-1] + chr(last)


# -- the store ---------------------------------------------------------------------------


def _path_from_url(url: str) -> str:
    if not url.startswith("sqlite://"):
        raise InvalidArgument(f"SQLite URL {url!r} must start with 'sqlite:///'")
    rest = url[len("sqlite://") :]
    if not rest.startswith("/") or len(rest) < 2:
        raise InvalidArgument(
            f"SQLite URL {url!r} names no file; use 'sqlite:///relative/path.db' or "
            f"'sqlite:////absolute/path.db'"
        )
    path = rest[1:]
    if path == ":memory:":
        raise InvalidArgument(
            "an in-memory SQLite database would forget everything; use 'memory:' instead"
        )
    return path


class SQLiteStore:
    """A store in one SQLite file: durable, and shared safely by several processes.

    Args:
        url: ``sqlite:///path/to/file.db``; the file is created if missing.
        timeout: seconds a writer waits for another writer before giving up.

    Raises:
        SchemaVersionError: the file was written by a newer giftledger.
        StoreError: the file is not a giftledger database.

    Example:
        >>> import giftledger as gl, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "book.db")
        >>> with gl.Ledger.open(f"sqlite:///{path}") as book:
        ...     _ = book.open_account("assets:bank", "USD")
        ...     _ = book.open_account("equity", "USD", normal="credit")
        ...     _ = book.transfer("assets:bank", "equity", "5.00")
        >>> with gl.Ledger.open(f"sqlite:///{path}") as book:
        ...     book.balance("assets:bank"), book.verify()
        (Money('5.00', 'USD'), 3)
    """

    def __init__(self, url: str, *, timeout: float = _BUSY_TIMEOUT) -> None:
        self.url = url
        self.path = _path_from_url(url)
        directory = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(directory):
            raise InvalidArgument(f"SQLite URL {url!r}: the directory {directory!r} does not exist")
        self._timeout = timeout
        # Two connections: writes on one, snapshot reads on the other, so a write may
        # start while a read is open (iterating the journal and posting as it goes).
        db = self._db = self._connect()
        self._rdb: sqlite3.Connection | None = None  # opened on first read
        self._lock = threading.RLock()
        self._writer: _Writer | None = None  # the open write, if any
        #: Writes another write joined, counted as they end (see the Store protocol).
        self.joined_writes = 0
        # Names and ids of accounts never change, so they are safe to cache across
        # writes even with other processes writing the same file.
        self._ids: dict[str, int] = {}
        self._names: dict[int, str] = {}
        # The accounts and the head as this connection last wrote them. They stay
        # valid while no other connection commits, which ``PRAGMA data_version``
        # tells at the start of each write; a rolled-back write drops them.
        self._states: dict[str, AccountState] = {}
        self._head: tuple[int, str] | None = None
        self._head_time: datetime | None = None  # the head's recorded_at, with _head
        self._data_version: int | None = None
        # With _states: each cached account's latest effective time among its posted
        # postings (micros, None before its first), and the newest index segment each
        # account id is known to have a row in account_segments for.
        self._effective: dict[str, int | None] = {}
        self._segments: dict[int, int] = {}
        # With _states too: each unit's debit and credit totals as this connection last
        # wrote them, so a write adds to them without reading them back first.
        self._unit_totals: dict[str, tuple[int, int]] = {}
        self._bits = SEGMENT_BITS  # the file's own, read once it is migrated
        try:
            self._use_wal(db)
            migrate(db, MIGRATIONS)
            self._bits = _segment_bits(
                db.execute("SELECT value FROM meta WHERE key = 'segment_bits'").fetchone()
            )
            self._sql = _Queries(self._bits)
        except sqlite3.Error as exc:
            db.close()
            raise StoreError(f"cannot use SQLite database {self.path!r}: {exc}") from exc
        except BaseException:
            db.close()
            raise

    def _use_wal(self, db: sqlite3.Connection) -> None:
        """Put the file in WAL mode (once: the mode is kept in the file).

        Switching a new file to WAL needs it to itself, and SQLite answers
        "database is locked" at once, without waiting the busy timeout, when
        another process opens the same new file at that moment. So read the mode
        first (a file already in WAL needs no switch) and, while another process
        holds the file, try again until the busy timeout is spent.
        """
        deadline = time.monotonic() + self._timeout
        pause = 0.001
        while True:
            try:
                if db.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                    return
                db.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
            time.sleep(pause * (1 + random.random()))
            pause = min(pause * 2, 0.05)

    def _connect(self) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(
                self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
            )
            db.execute("PRAGMA synchronous = FULL")
            db.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open SQLite database {self.path!r}: {exc}") from exc
        return db

    def _reader_db(self) -> sqlite3.Connection:
        if self._rdb is None:
            self._rdb = self._connect()
        return self._rdb

    def __repr__(self) -> str:
        return f"<SQLiteStore {self.path!r}>"

    def _forget(self, ids: bool = False) -> None:
        """Drop the cached accounts and head: another connection may have changed them.

        With ``ids``, drop the name-to-id map too: a rolled-back write may have
        given an id to an account that now does not exist (and SQLite may give
        that id to another).
        """
        self._states = {}
        self._effective = {}
        self._segments = {}
        self._unit_totals = {}
        self._head = None
        if ids:
            self._ids = {}
            self._names = {}

    def write(self, dry_run: bool = False) -> _WriteBlock:
        """A writer inside ``BEGIN IMMEDIATE``; commits on success, else rolls back."""
        return _WriteBlock(self, dry_run)

    def read(self) -> _ReadBlock:
        """A reader over one snapshot (a read transaction) of committed state."""
        return _ReadBlock(self)

    def close(self) -> None:
        """Close the connections."""
        with self._lock:
            self._db.close()
            if self._rdb is not None:
                self._rdb.close()

    # -- account ids ---------------------------------------------------------------------

    def _id(self, name: str, db: sqlite3.Connection) -> int | None:
        id = self._ids.get(name)
        if id is None:
            row = db.execute("SELECT id FROM accounts WHERE name = ?", (name,)).fetchone()
            if row is None:
                return None
            id = self._ids[name] = row[0]
            self._names[id] = name
        return id

    def _name(self, id: int, db: sqlite3.Connection) -> str:
        name = self._names.get(id)
        if name is None:
            name = db.execute("SELECT name FROM accounts WHERE id = ?", (id,)).fetchone()[0]
            self._names[id] = name
            self._ids[name] = id
        return name


class _ReadBlock:
    def __init__(self, store: SQLiteStore) -> None:
        self._store = store
        self._outer = False

    def __enter__(self) -> _Reader:
        store = self._store
        store._lock.acquire()
        try:
            writer = store._writer
            if writer is not None:
                # Inside this store's own write: read what it wrote so far.
                try:
                    writer._flush()
                except sqlite3.Error as exc:
                    writer._note(exc)
                    raise _sqlite_error(exc, store) from exc
                return _Reader(store, store._db)
            db = store._reader_db()
            if not db.in_transaction:  # else a read inside a read: the same snapshot
                db.execute("BEGIN")
                self._outer = True
            return _Reader(store, db)
        except BaseException:
            store._lock.release()
            raise

    def __exit__(
        self, typ: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        store = self._store
        try:
            if self._outer:
                store._reader_db().execute("COMMIT")
            elif isinstance(exc, sqlite3.Error) and store._writer is not None:
                store._writer._note(exc)  # a read inside a write
            error = None if exc is None else _store_error(exc, store)
            if error is not None:
                raise error from exc
        finally:
            store._lock.release()


class _WriteBlock:
    def __init__(self, store: SQLiteStore, dry_run: bool) -> None:
        self._store = store
        self._dry_run = dry_run
        self._writer: _Writer | None = None

    def __enter__(self) -> _Writer:
        store = self._store
        store._lock.acquire()
        try:
            outer = store._writer
            if outer is not None:
                if self._dry_run:
                    raise StoreError("a dry run cannot be nested inside a write")
                outer._join_write()  # it commits or rolls back with the outer one
                return outer
            db = store._db
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise StoreError(
                    f"could not take the write lock of {store.path!r}: {exc}; another "
                    f"process held it for longer than the busy timeout"
                ) from exc
            version = db.execute("PRAGMA data_version").fetchone()[0]
            if version != store._data_version or len(store._states) > _CACHED_ACCOUNTS:
                store._forget()
                store._data_version = version
            self._writer = store._writer = _Writer(store)
            return self._writer
        except BaseException:
            try:
                if store._writer is None or store._writer is self._writer:
                    # Not joined to a block of this thread's: this block never opens (an
                    # exception, a signal handler's say, landed after its BEGIN), and
                    # leaves no transaction, nor a writer for the next write to join.
                    self._writer = store._writer = None
                    if store._db.in_transaction:
                        store._db.execute("ROLLBACK")
            finally:
                store._lock.release()
            raise

    def __exit__(
        self, typ: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        store = self._store
        writer = self._writer
        try:
            if writer is None:  # nested: the outer block, still open, decides
                outer = store._writer
                assert outer is not None
                outer._marks.pop()
                if isinstance(exc, sqlite3.Error):
                    outer._note(exc)
                    raise _sqlite_error(exc, store) from exc
                return
            if writer._joined:  # before it ends: no other thread writes until it has
                store.joined_writes += 1
            db = store._db
            store._writer = None
            if typ is None:
                writer._doom_if_ended()  # a caller caught SQLite's failure and went on
            try:
                if typ is None and not self._dry_run and writer._doomed is None:
                    writer._flush()
                    db.execute("COMMIT")
                else:
                    # SQLite may have rolled back itself (a full disk, an I/O error):
                    # then the failure is that error, not this ROLLBACK's.
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    if writer._changes:
                        store._forget(ids=writer._added)
            except BaseException as failure:
                store._forget(ids=True)
                if db.in_transaction:
                    db.execute("ROLLBACK")
                error = _store_error(failure, store)
                if error is None:
                    raise
                raise error from failure
            error = None if exc is None else _store_error(exc, store)
            if error is not None:
                raise error from exc
            if typ is None and writer._doomed is not None:
                raise block_rolled_back(writer._doomed)
        finally:
            try:
                if writer is not None:
                    # Ended without its COMMIT or ROLLBACK (an exception, a signal
                    # handler's say, landed before them): rolled back, and no writer
                    # left for the next write to join.
                    if store._writer is writer:
                        store._writer = None
                    if store._db.in_transaction:
                        store._forget(ids=True)
                        store._db.execute("ROLLBACK")
            finally:
                store._lock.release()


def _overflow(tx: Transaction, account: str, what: str, value: int, store: SQLiteStore) -> None:
    raise StoreError(
        f"transaction {tx.id} would take the {what} of {account!r} to {value} minor units, "
        f"outside the signed 64-bit integers SQLite stores it in ({_MIN_INT} to {_MAX_ID}) "
        f"on {store.path!r}; nothing was written"
    )


def _sqlite_error(exc: sqlite3.Error, store: SQLiteStore) -> StoreError:
    """A failure of SQLite's own as a StoreError (a GiftLedgerError)."""
    return StoreError(f"SQLite failed on {store.path!r}: {exc}")


def _store_error(exc: BaseException, store: SQLiteStore) -> StoreError | None:
    """SQLite's own failures as a StoreError (a GiftLedgerError); None for anything else."""
    if isinstance(exc, sqlite3.Error):
        return _sqlite_error(exc, store)
    if isinstance(exc, OverflowError):
        return StoreError(f"a value does not fit SQLite's 64-bit integers on {store.path!r}: {exc}")
    return None


class _Reader:
    """Answers from the connection's current transaction."""

    def __init__(self, store: SQLiteStore, db: sqlite3.Connection) -> None:
        self._store = store
        self._db = db

    def _flush(self) -> None:
        """Send buffered writes to SQLite (a writer's); a reader has none."""

    def head(self) -> tuple[int, str]:
        id, hash, _ = self._head_row()
        return id, hash

    def head_time(self) -> datetime | None:
        return self._head_row()[2]

    def _head_row(self) -> tuple[int, str, datetime | None]:
        self._flush()
        row = self._db.execute(
            "SELECT id, hash, recorded_at FROM transactions ORDER BY id DESC LIMIT 1"
        ).fetchone()
        return (0, GENESIS_HASH, None) if row is None else (row[0], row[1], _from_micros(row[2]))

    def account_state(self, name: str) -> AccountState | None:
        self._flush()
        row = self._db.execute(
            f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE name = ?", (name,)
        ).fetchone()
        return None if row is None else _state(row)

    def account_states(self, prefix: str = "") -> list[AccountState]:
        self._flush()
        # A range on the name index, not LIKE: names may hold '%' and '_'. UTF-8
        # byte order (SQLite's BINARY collation) is code point order, as str sorts.
        # substr() keeps the answer exact where the upper bound is only approximate.
        sql = f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE name >= ?"
        args: list[object] = [prefix]
        upper = _successor(prefix)
        if upper is not None:
            sql += " AND name < ?"
            args.append(upper)
        sql += " AND substr(name, 1, ?) = ? ORDER BY name"
        args += [len(prefix), prefix]
        return [_state(row) for row in self._db.execute(sql, args)]

    def transaction(self, id: int) -> Transaction | None:
        if isinstance(id, bool) or not isinstance(id, int) or not 1 <= id < _MAX_ID:
            return None
        txs = self._page(id, id + 1)
        return txs[0] if txs else None

    def transactions(self, start: int = 1, stop: int | None = None) -> Iterator[Transaction]:
        lo = max(start, 1)
        end = self.head()[0] + 1  # the journal has no gaps: nothing lies past its head
        hi = end if stop is None else min(stop, end)
        while lo < hi:
            page = self._page(lo, min(hi, lo + _PAGE))
            yield from page
            lo += _PAGE

    def _page(self, lo: int, hi: int) -> list[Transaction]:
        self._flush()
        db = self._db
        store = self._store
        names = store._names
        postings: dict[int, list[Posting]] = {}
        tx_id = account_id = side = None
        try:
            for tx_id, account_id, side, minor, unit in db.execute(
                "SELECT tx_id, account_id, side, minor, unit FROM postings "
                "WHERE tx_id >= ? AND tx_id < ? ORDER BY tx_id, idx",
                (lo, hi),
            ).fetchall():
                name = names.get(account_id) or store._name(account_id, db)
                posting = Posting(name, _SIDES[side], minor, unit)
                found = postings.get(tx_id)
                if found is None:
                    postings[tx_id] = [posting]
                else:
                    found.append(posting)
        except DECODE_ERRORS as exc:  # an account id no account has, or a side
            column, value = ("side", side) if side not in _SIDES else ("account_id", account_id)
            raise unreadable(
                f"a posting of transaction {shown(tx_id)}",
                f"postings.{column}",
                value,
                exc,
                tx_id if type(tx_id) is int else None,
            ) from None
        reversed_by = dict(
            db.execute(
                "SELECT reverses, id FROM transactions WHERE reverses >= ? AND reverses < ?",
                (lo, hi),
            ).fetchall()
        )
        out = []
        for row in db.execute(
            f"SELECT {_TX_COLUMNS} FROM transactions WHERE id >= ? AND id < ? ORDER BY id",
            (lo, hi),
        ):
            id = row[0]
            out.append(
                transaction_of(
                    row,
                    tuple(postings.get(id, ())),
                    reversed_by.get(id),
                    _load_meta,
                    _load_rates,
                    row[13],
                )
            )
        return out

    def hold(self, id: int) -> Hold | None:
        self._flush()
        if isinstance(id, bool) or not isinstance(id, int) or not 1 <= id < _MAX_ID:
            return None
        row = self._db.execute(
            f"SELECT {_HOLD_COLUMNS} FROM holds h JOIN accounts d ON d.id = h.debit_id "
            f"JOIN accounts c ON c.id = h.credit_id WHERE h.id = ?",
            (id,),
        ).fetchone()
        return None if row is None else _hold(row)

    def holds(self, account: str | None = None, pending_only: bool = True) -> list[Hold]:
        return self._holds(account, pending_only, None)

    def holds_from(self, account: str, first_id: int) -> list[Hold]:
        """The holds touching ``account`` placed by entry ``first_id`` or later, by id,
        whatever their status: a range of the holds' index by account and id.
        A name that is not a string, or an id past 64 bits, has none."""
        start = holds_start(account, first_id)
        return [] if start is None else self._holds(account, False, start)

    def _holds(self, account: str | None, pending_only: bool, first_id: int | None) -> list[Hold]:
        self._flush()
        where: list[str] = []
        args: list[object] = []
        source = "holds"
        if account is not None:
            id = self._store._id(account, self._db)
            if id is None:
                return []
            args += [id, id]
            if pending_only:
                # The pending holds by their own indexes, named: SQLite keeps no
                # statistics, and would walk the account's every hold by (account, id).
                source = _PENDING_OF
            else:
                where.append("(h.debit_id = ? OR h.credit_id = ?)")
        elif pending_only:
            where.append("h.status = 'pending'")
        if first_id is not None:
            where.append("h.id >= ?")
            args.append(first_id)
        sql = (
            f"SELECT {_HOLD_COLUMNS} FROM {source} h JOIN accounts d ON d.id = h.debit_id "
            f"JOIN accounts c ON c.id = h.credit_id"
        )
        if where:
            sql += " WHERE " + " AND ".join(where)
        return [_hold(row) for row in self._db.execute(sql + " ORDER BY h.id", args)]

    def idempotency_records(self) -> Iterator[IdempotencyRecord]:
        # Read only (an export): a writer's buffered keys are not included.
        for row in self._db.execute(
            "SELECT key, fingerprint, transaction_id, result, error_type, error_message "
            "FROM idempotency ORDER BY key"
        ):
            yield IdempotencyRecord(*row)

    def idempotency(self, key: str) -> IdempotencyRecord | None:
        row = self._db.execute(
            "SELECT key, fingerprint, transaction_id, result, error_type, error_message "
            "FROM idempotency WHERE key = ?",
            (key,),
        ).fetchone()
        return None if row is None else IdempotencyRecord(*row)

    def keyed_entry(self, key: str) -> int | None:
        # No flush: an entry this writer buffered that carries a key is remembered too.
        row = self._db.execute(
            "SELECT min(id) FROM transactions WHERE key = ? AND key IS NOT NULL", (key,)
        ).fetchone()
        return None if row is None else row[0]

    def _segments(self, account_id: int, start: int, stop: int) -> list[int]:
        """The index segments ``start <= s <= stop`` holding postings of the account, in
        order."""
        return [
            row[0]
            for row in self._db.execute(
                "SELECT segment FROM account_segments WHERE account_id = ? "
                "AND segment >= ? AND segment <= ? ORDER BY segment",
                (account_id, start, stop),
            )
        ]

    def history(self, name: str, after: int | None, limit: int) -> list[PostingRow]:
        self._flush()
        store = self._store
        id = store._id(name, self._db)
        if id is None:
            return []
        after = -1 if after is None else after
        out: list[PostingRow] = []
        # Segment by segment, from the one after ``after`` falls in: within one, the
        # index gives the account's postings in order.
        for segment in self._segments(id, (after + 1) >> store._bits, _MAX_ID):
            for tx_id, idx, side, minor, unit, net_after in self._db.execute(
                store._sql.history, (segment, id, after, limit - len(out))
            ):
                out.append(
                    PostingRow(tx_id, idx, Posting(name, Side(side), minor, unit), net_after)
                )
            if len(out) >= limit:
                break
        return out

    def _last(
        self, account_id: int, through: int, in_order: bool, segments: list[int]
    ) -> tuple[int, int, int, int] | None:
        """The account's last posted posting with entry id <= ``through``, as
        ``(entry id, index, net_after, effective_at)``; with ``in_order``, the last
        one that is not back-dated. ``segments``: the account's, in order."""
        sql = self._store._sql.last_in_order if in_order else self._store._sql.last
        db = self._db
        top = through >> self._store._bits
        for segment in reversed(segments[: bisect.bisect_right(segments, top)]):
            row = db.execute(sql, (segment, account_id, through)).fetchone()
            if row is not None:
                return row  # type: ignore[no-any-return]
        return None

    def net_at(self, name: str, effective_at: datetime | None, through_id: int | None) -> int:
        # Each posted posting stores its account's net after it (net_after), so a cut
        # by entry id is one index lookup: the last posting at or before the cut. A
        # cut by effective time is a binary search, a lookup per step, over the
        # account's postings that are not back-dated (those are in effective order),
        # for the last one effective by then. Its net_after counts every posting
        # before it, back-dated ones too, and rightly: a back-dated posting is
        # effective before an earlier one, so before this one. Back-dated postings
        # after it are added if effective by then: the cost grows with the log of
        # the account's postings and with its back-dated ones.
        self._flush()
        id = self._store._id(name, self._db)
        if id is None:
            return 0
        through = _MAX_ID if through_id is None else through_id
        if through < 1:
            return 0
        db = self._db
        segments = self._segments(id, 0, through >> self._store._bits)
        if effective_at is None:
            found = self._last(id, through, False, segments)
            return 0 if found is None else found[2]
        when = micros(effective_at)
        backdated = (
            db.execute("SELECT 1 FROM backdated WHERE account_id = ? LIMIT 1", (id,)).fetchone()
            is not None
        )
        found = self._last(id, through, backdated, segments)
        if found is not None and found[3] > when:
            # Invariant: the last in-order posting up to entry ``lo`` is effective by
            # ``when`` (``found``; none for lo = 0), the one up to ``hi`` is not.
            lo, hi = 0, found[0]
            found = None
            while hi - lo > 1:
                mid = (lo + hi) // 2
                row = self._last(id, mid, backdated, segments)
                if row is None or row[3] <= when:
                    lo, found = mid, row
                else:
                    hi = row[0]
        net = 0 if found is None else found[2]
        if backdated:
            tx_id, idx = (0, 0) if found is None else (found[0], found[1])
            row = db.execute(
                "SELECT SUM(amount) FROM backdated WHERE account_id = ? AND effective_at <= ? "
                "AND (tx_id > ? OR (tx_id = ? AND idx > ?)) AND tx_id <= ?",
                (id, when, tx_id, tx_id, idx, through),
            ).fetchone()
            net += row[0] or 0
        return net

    #: ``check_derived`` checks each posting's ``net_after`` and the holds table, so
    #: ``verify()`` need not page through every account's history to do it.
    checks_derived_history = True

    def check_derived(self) -> None:
        """Check what this store derives from the journal and ``verify()`` does not see.

        Each posted posting's ``net_after``, ``backdated``, ``account_segments`` and
        each account's ``last_effective`` answer past balances and history without a
        scan, and ``holds`` answers which holds are pending; a change made to them
        behind the triggers' back (or to a pending hold's status, which no trigger
        stops) would change those answers while the chain still verifies. Called
        by ``Ledger.verify()`` once the journal itself checked out.

        Raises:
            ChainBroken: naming the first row that differs from the journal.
        """
        self._flush()
        db = self._db
        # Rows of no entry: the journal reads postings by entry id up to its head only,
        # so postings planted beyond it (for the next entry) would be seen by history
        # and taken into the next write's entry; an entry id below 1 is read by none.
        row = db.execute(
            """
            SELECT tx_id, idx, (SELECT name FROM accounts WHERE id = account_id) FROM (
                SELECT tx_id, idx, account_id FROM postings
                WHERE tx_id > (SELECT coalesce(max(id), 0) FROM transactions)
                UNION ALL SELECT tx_id, idx, account_id FROM postings WHERE tx_id < 1
            ) ORDER BY tx_id, idx LIMIT 1
            """
        ).fetchone()
        if row is not None:
            raise ChainBroken(
                f"the store holds posting {row[1]} of transaction {row[0]} (to "
                f"{row[2]!r}), but the journal has no such entry",
                row[0],
            )
        row = db.execute("SELECT min(id) FROM transactions WHERE id < 1").fetchone()
        if row[0] is not None:
            raise ChainBroken(f"the store holds an entry with id {row[0]}, below 1", None)
        posted = ", ".join(f"'{kind.value}'" for kind in _POSTED)
        row = db.execute(
            f"""
            SELECT tx_id, idx, account_id, net_after, running, posted FROM (
                SELECT p.tx_id, p.idx, p.account_id, p.net_after,
                    t.kind IN ({posted}) AS posted,
                    SUM(CASE WHEN t.kind NOT IN ({posted}) THEN 0
                        WHEN p.side = 'debit' THEN p.minor ELSE -p.minor END)
                    OVER (PARTITION BY p.account_id ORDER BY p.tx_id, p.idx) AS running
                FROM postings p JOIN transactions t ON t.id = p.tx_id
            ) WHERE CASE WHEN posted THEN net_after IS NOT running
                ELSE net_after IS NOT NULL END
            ORDER BY tx_id, idx LIMIT 1
            """
        ).fetchone()
        if row is not None:
            tx_id, idx, account_id, stored, running, is_posted = row
            name = self._store._name(account_id, db)
            should = running if is_posted else None
            raise ChainBroken(
                f"transaction {tx_id}'s posting {idx} to {name!r} stores the account's net "
                f"after it as {stored}, but the journal makes it {should}",
                tx_id,
            )
        for stored_side, sql in (
            ("holds", f"SELECT * FROM backdated EXCEPT {_BACKDATED}"),
            ("lacks", f"{_BACKDATED} EXCEPT SELECT * FROM backdated"),
        ):
            row = db.execute(sql + " ORDER BY tx_id, idx LIMIT 1").fetchone()
            if row is not None:
                name = self._store._name(row[0], db)
                raise ChainBroken(
                    f"the back-dated index {stored_side} transaction {row[1]}'s posting "
                    f"{row[2]} to {name!r} (effective {row[3]}, amount {row[4]}), unlike the "
                    f"journal",
                    row[1],
                )
        derived = f"SELECT DISTINCT account_id, tx_id >> {self._store._bits} FROM postings"
        for stored_side, sql in (
            ("holds", f"SELECT account_id, segment FROM account_segments EXCEPT {derived}"),
            ("lacks", f"{derived} EXCEPT SELECT account_id, segment FROM account_segments"),
        ):
            row = db.execute(sql + " ORDER BY 1, 2 LIMIT 1").fetchone()
            if row is not None:
                name = self._store._name(row[0], db)
                raise ChainBroken(
                    f"the account index {stored_side} segment {row[1]} for {name!r}, unlike "
                    f"the journal",
                    None,
                )
        # The holds table answers holds() and which holds a settlement may take:
        # its rows must be the journal's holds, with the terms and status it gives.
        row = db.execute(
            """
            SELECT t.id, 2 FROM transactions t
            LEFT JOIN holds h ON h.id = t.id
            LEFT JOIN postings d ON d.tx_id = t.id AND d.idx = 0
            LEFT JOIN postings c ON c.tx_id = t.id AND c.idx = 1
            LEFT JOIN transactions s ON s.hold_id = t.id
                AND s.kind IN ('post_hold', 'void_hold', 'expire_hold')
            LEFT JOIN postings sp ON sp.tx_id = s.id AND sp.idx = 0 AND s.kind = 'post_hold'
            WHERE t.kind = 'hold' AND (
                h.id IS NULL OR h.debit_id IS NOT d.account_id
                OR h.credit_id IS NOT c.account_id OR h.minor IS NOT d.minor
                OR h.unit IS NOT d.unit OR h.expires_at IS NOT t.expires_at
                OR h.resolved_by IS NOT s.id OR h.posted_minor IS NOT coalesce(sp.minor, 0)
                OR h.status IS NOT CASE s.kind WHEN 'post_hold' THEN 'posted'
                    WHEN 'void_hold' THEN 'voided' WHEN 'expire_hold' THEN 'expired'
                    ELSE 'pending' END
            )
            UNION ALL
            SELECT h.id, EXISTS (SELECT 1 FROM transactions x WHERE x.id = h.id) FROM holds h
            LEFT JOIN transactions t ON t.id = h.id AND t.kind = 'hold' WHERE t.id IS NULL
            ORDER BY 1 LIMIT 1
            """
        ).fetchone()
        if row is not None:
            id, entry = row  # 2: a hold entry, 1: an entry of another kind, 0: none
            if entry == 2:
                raise ChainBroken(
                    f"the stored hold {id} differs from the hold entry {id} of the journal "
                    f"and its settlement (terms, status, amount posted or settling entry)",
                    id,
                )
            raise ChainBroken(
                f"the store holds hold {id}, but the journal has no such entry"
                if entry == 0
                else f"the store holds hold {id}, but entry {id} of the journal is no hold",
                id,
            )
        row = db.execute(
            f"""
            SELECT a.name, a.last_effective, d.latest FROM accounts a LEFT JOIN (
                SELECT p.account_id, MAX(t.effective_at) AS latest FROM postings p
                JOIN transactions t ON t.id = p.tx_id
                WHERE t.kind IN ({posted}) GROUP BY p.account_id
            ) d ON d.account_id = a.id
            WHERE a.last_effective IS NOT d.latest ORDER BY a.name LIMIT 1
            """
        ).fetchone()
        if row is not None:
            raise ChainBroken(
                f"account {row[0]!r} stores its latest effective time as {row[1]} "
                f"(microseconds), but the journal makes it {row[2]}",
                None,
            )

    def totals(self) -> tuple[dict[str, int], dict[str, int]]:
        self._flush()
        debits: dict[str, int] = {}
        credits: dict[str, int] = {}
        for unit, debit_text, credit_text in self._db.execute(
            "SELECT unit, debits, credits FROM totals"
        ):
            debit, credit = totals_of(unit, debit_text, credit_text, "totals")  # no 2^63 cap
            if debit:
                debits[unit] = debit
            if credit:
                credits[unit] = credit
        return debits, credits


class _Writer(_Reader, Dooming):
    """A writer inside ``BEGIN IMMEDIATE``.

    It hands the ledger live account states from the store's cache (as the
    memory store does) and buffers appended rows until a query needs them or
    the write commits, then sends each table's rows in one ``executemany``.
    """

    # The ledger checks the balance rules, and nothing is linked at commit (see the
    # PostgreSQL store); class attributes: the write path asks for them.
    checks_at_commit = False
    _ENDED = "SQLite ended its transaction"
    defer_link = None
    read_ahead = None  # reads are in this process: no round trip to save

    def __init__(self, store: SQLiteStore) -> None:
        super().__init__(store, store._db)
        self._states = store._states
        self._dirty: set[str] = set()
        self._added = False  # opened an account
        self._joined = False  # a write nested in this one ran (it may have used its entries)
        self._changes = 0  # calls that changed something (see doom; none: nothing to forget)
        self._marks: list[int] = []  # per write joined to this one, open now: _changes then
        self._doomed: str | None = None  # why this write must roll back (see doom)
        self._txs: list[tuple[object, ...]] = []
        self._postings: list[tuple[object, ...]] = []
        self._keys: dict[str, IdempotencyRecord] = {}
        self._backdated: list[tuple[int, int, int, int, int]] = []
        self._new_segments: list[tuple[int, int]] = []
        self._totals: dict[str, list[int]] = {}  # unit -> [debits, credits] to add

    def _transaction_failed(self) -> bool:
        return not self._db.in_transaction

    def _flush(self) -> None:
        self._still_open()
        if self._doomed is not None and (
            self._txs or self._postings or self._totals or self._dirty or self._keys
        ):
            # A write of this block failed after it changed something, perhaps halfway
            # through buffering its rows (an exception a signal handler raised): what
            # it buffered is not sent, and a read that needs it is refused.
            raise block_refused(self._doomed)
        # Lost track until every row is sent, or the failure is known to have kept none:
        # an exception landing anywhere in between (a signal handler's) leaves the block
        # refused, never free to send again rows SQLite may have kept.
        self._lost = _MAY_HAVE_KEPT
        try:
            self._send()
        except BaseException as exc:
            failure = f"{type(exc).__name__}: {exc}"
            self._lost = f"{_MAY_HAVE_KEPT}: {failure}"
            if not self._db.in_transaction:
                self._note(exc)  # SQLite ended it: that is why
            elif not isinstance(exc, sqlite3.Error):
                # Raised between two of _send's steps (a signal handler's timeout,
                # KeyboardInterrupt): where, and so what SQLite holds, is not known.
                self._lose_track(self._lost)
            elif self._kept_part():
                self._lose_track(f"{_PART_WAY}, and SQLite kept some of them: {failure}")
            else:  # nothing kept: sent again as it is
                self._lost = None
            raise
        self._lost = None

    def _kept_part(self) -> bool:
        """Whether SQLite kept rows of the statement of ``_send`` that failed.

        A buffer is emptied once its statement succeeded, so the first one left is the
        one that failed (``_send`` sends them in this order). Totals and balances are
        whole values and segments are inserted or ignored: sent again, they set the
        same. But SQLite keeps the rows an ``executemany`` inserted, in order,
        before the one that failed (an interrupted insert may keep its own) while the
        buffer still holds them all: sent again, they would fail on their keys, naming a
        constraint instead of the failure, so then the block can no longer commit.
        Whether the buffer's first row is in the file tells. A lookup that fails counts
        as kept.
        """
        sql: str
        row: tuple[object, ...]
        if self._txs:
            sql, row = "transactions WHERE id = ?", self._txs[0][:1]
        elif self._postings:
            sql, row = "postings WHERE tx_id = ? AND idx = ?", self._postings[0][:2]
        elif self._new_segments:
            return False
        elif self._backdated:
            sql = "backdated WHERE account_id = ? AND tx_id = ? AND idx = ?"  # its key
            row = self._backdated[0][:3]
        elif self._totals or self._dirty or not self._keys:
            return False
        else:
            sql, row = "idempotency WHERE key = ?", (next(iter(self._keys)),)
        try:
            return self._db.execute(f"SELECT 1 FROM {sql}", row).fetchone() is not None
        except sqlite3.Error:
            return True

    def _send(self) -> None:
        """Send the buffered rows to SQLite (``_flush``, which checks first), emptying
        each buffer once its statement succeeded, in the order ``_kept_part`` reads."""
        db = self._db
        txs = self._txs
        if txs:
            # One entry (every single write): execute, which costs SQLite less than a
            # one-row executemany.
            if len(txs) == 1:
                db.execute(_INSERT_TX, txs[0])
            else:
                db.executemany(_INSERT_TX, txs)
            self._txs = []
        if self._postings:
            db.executemany(_INSERT_POSTING, self._postings)
            self._postings = []
        if self._new_segments:
            db.executemany(
                "INSERT OR IGNORE INTO account_segments (account_id, segment) VALUES (?, ?)",
                self._new_segments,
            )
            self._new_segments = []
        if self._backdated:
            db.executemany(
                "INSERT INTO backdated (account_id, tx_id, idx, effective_at, amount) "
                "VALUES (?, ?, ?, ?, ?)",
                self._backdated,
            )
            self._backdated = []
        if self._totals:
            # Added in Python: the sums are decimal text, which may pass 2^63 - 1. The
            # units this connection has not written since another one did are read.
            added = self._totals
            units = sorted(added)
            stored = self._store._unit_totals
            unread = [unit for unit in units if unit not in stored]
            for i in range(0, len(unread), _CHUNK):
                chunk = unread[i : i + _CHUNK]
                for unit, debits, credits in db.execute(
                    f"SELECT unit, debits, credits FROM totals WHERE unit IN "
                    f"({', '.join('?' * len(chunk))})",
                    chunk,
                ):
                    stored[unit] = totals_of(unit, debits, credits, "totals")
            for unit in unread:
                # A unit with no row yet has none before this write: noted, so that a
                # statement failing after it set this unit's row, sent again, adds to
                # the total before it and not to the one it set.
                stored.setdefault(unit, (0, 0))
            sums = {}
            for unit in units:
                debits, credits = stored[unit]
                sums[unit] = (debits + added[unit][0], credits + added[unit][1])
            db.executemany(
                "INSERT INTO totals (unit, debits, credits) VALUES (?, ?, ?) "
                "ON CONFLICT (unit) DO UPDATE SET debits = excluded.debits, "
                "credits = excluded.credits",
                [(unit, str(debits), str(credits)) for unit, (debits, credits) in sums.items()],
            )
            stored.update(sums)
            self._totals = {}
        if self._dirty:
            states, ids, effective = self._states, self._store._ids, self._store._effective
            db.executemany(
                "UPDATE accounts SET net = ?, pending_debits = ?, pending_credits = ?, "
                "next_expiry = ?, last_effective = ? WHERE id = ?",
                [
                    (
                        st.net,
                        st.pending_debits,
                        st.pending_credits,
                        None if st.next_expiry is None else micros(st.next_expiry),
                        effective[name],
                        ids[name],
                    )
                    for name in self._dirty
                    for st in (states[name],)
                ],
            )
            self._dirty = set()
        if self._keys:
            db.executemany(
                "INSERT INTO idempotency "
                "(key, fingerprint, transaction_id, result, error_type, error_message) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        r.key,
                        r.fingerprint,
                        r.transaction_id,
                        r.result,
                        r.error_type,
                        r.error_message,
                    )
                    for r in self._keys.values()
                ],
            )
            self._keys = {}

    # -- reads that the buffers can answer ------------------------------------------------

    def head(self) -> tuple[int, str]:
        store = self._store
        head = store._head
        if head is None:
            id, hash, store._head_time = self._head_row()
            head = store._head = (id, hash)
        return head

    def head_time(self) -> datetime | None:
        store = self._store
        if store._head is None:
            self.head()
        return store._head_time

    def account_state(self, name: str) -> AccountState | None:
        st = self._states.get(name)
        if st is not None:
            return AccountState(
                st.account, st.net, st.pending_debits, st.pending_credits, st.next_expiry
            )
        return super().account_state(name)

    def idempotency(self, key: str) -> IdempotencyRecord | None:
        record = self._keys.get(key)
        return record if record is not None else super().idempotency(key)

    # -- writes ----------------------------------------------------------------------------

    def lock_accounts(self, names: Iterable[str]) -> dict[str, AccountState]:
        states = self._states
        out: dict[str, AccountState] = {}
        missing: list[str] = []
        for name in names:
            st = states.get(name)
            if st is None:
                if storable(name):  # else no account: SQLite could not even be sent it
                    missing.append(name)
            else:
                out[name] = st
        # The write lock is already held (BEGIN IMMEDIATE): these rows cannot change
        # under us, so reading them is locking them. In chunks: SQLite caps how many
        # parameters one statement takes.
        store = self._store
        if missing:
            self._still_open()
        for i in range(0, len(missing), _CHUNK):
            chunk = missing[i : i + _CHUNK]
            rows = self._db.execute(
                f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE name IN "
                f"({', '.join('?' * len(chunk))})",
                chunk,
            ).fetchall()
            for row in rows:
                st = states[row[0]] = out[row[0]] = _state(row)
                store._ids[row[0]] = row[11]
                store._names[row[11]] = row[0]
                store._effective[row[0]] = row[12]
        return out

    def add_account(self, account: Account) -> None:
        self._still_open()
        self._added = True
        self._changes += 1
        cur = self._db.execute(
            "INSERT INTO accounts (name, unit, normal, min_balance, closed, trading, metadata) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                account.name,
                account.unit,
                account.normal.value,
                account.rule.min_balance,
                int(account.closed),
                int(account.trading),
                _dump_meta(account.metadata),
            ),
        )
        id = cur.lastrowid
        assert id is not None
        self._store._ids[account.name] = id
        self._store._names[id] = account.name
        self._store._effective[account.name] = None
        self._states[account.name] = AccountState(account)

    def replace_account(self, account: Account) -> None:
        self._still_open()
        self._changes += 1
        self._db.execute(
            "UPDATE accounts SET closed = ? WHERE name = ?", (int(account.closed), account.name)
        )
        st = self._states.get(account.name)
        if st is not None:
            st.account = account

    def append(
        self,
        tx: Transaction,
        deltas: Mapping[str, tuple[int, int, int]],
        net_after: Sequence[int],
        hold: Hold | None = None,
    ) -> None:
        states = self._states
        # Refuse a total SQLite cannot store before changing anything, naming it (a
        # bound parameter past 2^63 - 1 would fail only at commit, naming nothing).
        for name, (dnet, dpd, dpc) in deltas.items():
            st = states[name]
            net, pd, pc = st.net + dnet, st.pending_debits + dpd, st.pending_credits + dpc
            if not (  # the common case in one test, the culprit named below
                _MIN_INT <= net <= _MAX_ID
                and _MIN_INT <= pd <= _MAX_ID
                and _MIN_INT <= pc <= _MAX_ID
            ):
                for what, value in (("net", net), ("pending debits", pd), ("pending credits", pc)):
                    if not _MIN_INT <= value <= _MAX_ID:
                        _overflow(tx, name, what, value, self._store)
        for i, value in enumerate(net_after):
            if not _MIN_INT <= value <= _MAX_ID:
                _overflow(tx, tx.postings[i].account, "net", value, self._store)
        self._changes += 1
        dirty = self._dirty
        for name, (dnet, dpd, dpc) in deltas.items():
            st = states[name]
            st.net += dnet
            st.pending_debits += dpd
            st.pending_credits += dpc
            dirty.add(name)
        eff = tx.effective_at
        rec = tx.recorded_at
        eff_us = (eff - _EPOCH) // _MICRO
        id = tx.id
        self._txs.append(
            (
                id,
                tx.kind._value_,
                eff_us,
                eff_us if rec is eff else (rec - _EPOCH) // _MICRO,
                tx.key,
                tx.memo,
                _dump_meta(tx.metadata) if tx.metadata else "[]",
                tx.reverses,
                tx.hold_id,
                None if tx.expires_at is None else micros(tx.expires_at),
                _dump_rates(tx.rates) if tx.rates else "[]",
                tx.prev_hash,
                tx.hash,
                tx.hash_version,
            )
        )
        store = self._store
        ids = store._ids
        rows = self._postings
        segment = id >> store._bits
        known = store._segments
        if net_after:
            effective = store._effective
            totals = self._totals
            for i, p in enumerate(tx.postings):
                name, minor, unit = p.account, p.minor, p.unit
                account_id = ids[name]
                debit = p.side is _DEBIT
                rows.append(
                    (id, i, account_id, "debit" if debit else "credit", minor, unit, net_after[i])
                )
                if known.get(account_id) != segment:
                    known[account_id] = segment
                    self._new_segments.append((account_id, segment))
                # Keep each account's postings in effective order, but for the ones
                # effective before its latest: those go to ``backdated`` (see net_at).
                latest = effective[name]
                if latest is None or eff_us >= latest:
                    effective[name] = eff_us
                else:
                    self._backdated.append((account_id, id, i, eff_us, minor if debit else -minor))
                sums = totals.get(unit)
                if sums is None:
                    sums = totals[unit] = [0, 0]
                sums[0 if debit else 1] += minor
        else:
            for i, p in enumerate(tx.postings):
                account_id = ids[p.account]
                rows.append((id, i, account_id, p.side._value_, p.minor, p.unit, None))
                if known.get(account_id) != segment:
                    known[account_id] = segment
                    self._new_segments.append((account_id, segment))
        store._head = (id, tx.hash)
        store._head_time = rec
        if hold is not None:
            self._put_hold(hold)

    def _put_hold(self, hold: Hold) -> None:
        self._flush()
        db = self._db
        store = self._store
        if hold.status is HoldStatus.PENDING:
            debit_id, credit_id = store._id(hold.debit, db), store._id(hold.credit, db)
            db.execute(
                "INSERT INTO holds (id, debit_id, credit_id, minor, unit, expires_at, status, "
                "posted_minor, resolved_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    hold.id,
                    debit_id,
                    credit_id,
                    hold.minor,
                    hold.unit,
                    _to_micros(hold.expires_at),
                    hold.status.value,
                    hold.posted_minor,
                    hold.resolved_by,
                ),
            )
        else:
            db.execute(
                "UPDATE holds SET status = ?, posted_minor = ?, resolved_by = ? WHERE id = ?",
                (hold.status.value, hold.posted_minor, hold.resolved_by, hold.id),
            )
        for name in (hold.debit, hold.credit):
            id = store._id(name, db)
            row = db.execute(f"SELECT MIN(expires_at) FROM {_PENDING_OF}", (id, id)).fetchone()
            st = self.lock_accounts([name])[name]
            st.next_expiry = _from_micros(row[0])
            self._dirty.add(name)

    def remember(self, record: IdempotencyRecord) -> None:
        self._changes += 1
        self._keys[record.key] = record
