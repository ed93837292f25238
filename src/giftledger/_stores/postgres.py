"""The PostgreSQL store: for platforms that outgrow one machine.

``postgresql://user:password@host:5432/dbname`` (any libpq URL; psycopg 3 is
needed: ``pip install 'giftledger[postgres]'``). Many application processes
may share one ledger in one database.

``?schema=name`` keeps the ledger in its own PostgreSQL schema (created if
missing and put first on the ``search_path``): several ledgers in one database,
or one fresh schema per test::

    postgresql://postgres@127.0.0.1:5432/test?schema=gl_test_3f2a

Layout, schema version 8 (see ``postgres_schema``; amounts are BIGINT minor
units, never float, unit totals numeric; times are BIGINT microseconds since
the Unix epoch, UTC; rates are exact ``p/q`` text in JSON; metadata is JSON,
which keeps str, int, bool and None apart; names sort in code-point order,
``COLLATE "C"``, as Python sorts them)::

    gl_meta          key → value; holds the schema version
    gl_accounts      the account records and their running totals
    gl_transactions  the journal, one row per entry, with its hash
    gl_postings      one row per posting; net_after is the account's net after
                     a posted posting (NULL for a hold's pending postings)
    gl_holds         one row per hold; only its status fields ever change
    gl_keys          one row per idempotency key (UNIQUE)
    gl_balances      the totals of accounts without a floor, per connection's slot
    gl_totals        posted debit and credit totals per unit (numeric), per slot
    gl_link(...)     the chain's head step, run by the server at commit

Append-only in the database: triggers refuse UPDATE, DELETE and TRUNCATE on
the journal (transactions, postings, keys), refuse deleting accounts or holds,
changing an account's identity or a hold's terms, reopening an account and
settling a hold twice. ``Ledger.verify()`` still catches a change made behind
the triggers' back.

Concurrency. Each ``write()`` is one database transaction (READ COMMITTED with
explicit locks):

- one lock order on every path: the idempotency key (an advisory lock on its
  hash), the hold being settled (``FOR UPDATE``), the accounts with a floor
  (``FOR UPDATE``, in name order), then the chain's head (a transaction-level
  advisory lock), in the round trip that locks the accounts; the account totals
  are read after the head, under which every balance change commits, so they are
  exact;
- accounts without a floor are never locked: their totals are delta rows in
  ``gl_balances``, one per slot, summed on read (no hot rows); each connection
  claims the lowest slot of its ledger no other session holds (``gl_claim_slot()``,
  schema 8), so the rows are as many as the connections open at once, not as many
  as ever connected;
- a lock asked for once the head is held is taken without waiting (NOWAIT,
  ``gl_try_lock``): if it is taken, the write is run again and takes it first;
- serialization failures, deadlocks and the rare lost race (a hold settled or
  a transaction reversed meanwhile) roll the write back and raise
  :class:`~giftledger.WriteConflict` (retryable); the ledger then runs the
  whole write again on fresh state, and raises it only when every attempt lost.

Linking at commit. ``Ledger.post`` (without a guard, not nested in another
write, not a dry run) needs nothing from the chain before it commits, so it
does not hold the head while the client works: its first round trip locks and
reads its accounts (``gl_open``) and reads the head without the lock (a
provisional id for its entry, and the time its clock is clamped to), and the
commit's round trip sends the entry's content text and balance changes to
``gl_link``, which applies the changes (to the rows of accounts with a floor, and to
its connection's slots, 0 to 1023: writes that hold the head use 1024 to 2047, so no
writer waits for a slot row while it holds the head), takes the head's lock, numbers
the entry
after the real head (shifting the ids the write used, in its postings and its
key's record), moves its ``recorded_at`` up to the head's if another writer's
clock read later but linked first (and its default ``effective_at`` with it),
hashes the content and links it (``sha256(prev | id | content hash)``, formula
2), corrects the running balances of its unrestricted accounts by what it reads
under the head, inserts the rows and returns ids, hashes and times, which the
store then sets on the entry the ledger returns. The head is held from
``gl_link`` to the COMMIT in the same query string: server microseconds. Other
writes (holds, reversals, the chain's guarded writes, batches) keep taking the
head with their account locks.

One round trip (schemas 4 and 5). A post whose accounts the store has read before (their
records never change but for closing, never undone) skips ``gl_open``: the client
takes their totals as zero and sends ``gl_link`` with ``blind``, which locks the
accounts with a floor in name order, checks their balance rules, corrects every
running balance, and refuses (SQLSTATE ``GLRUN``) what the ledger must decide (a
rule that would break, an account closed, gone or changed — its unit, its floor, whether
it is a trading account (schema 5) —, holds past their expiry, a key with an outcome;
and a balance past 64 bits fails with 22003): the
ledger then runs the write again reading its accounts and keys, and names the
error as on every store; so does any error the ledger raised from the known
records. A keyed post locks its key in the commit's first statement.

Speed. Within a write, rows the ledger appends are buffered and sent in bulk
(``unnest`` of arrays) together with the COMMIT, or before any query that could see
them; each round trip sends all its statements as one query string, bound on the
client, running statements prepared once per connection. A transaction costs two
round trips (lock the accounts, and the head unless it links at commit; write and
commit), a post to accounts the store knows one, and a batch of ``post_many`` two.
Appending writes are serialised by the chain's head, so when other writers are
queueing, a write commits without waiting for the WAL flush (releasing its locks at
once) and then waits for durability in a second, empty commit: the flushes of
concurrent writers are grouped, nothing is acknowledged before it is durable, and a
crash can only lose an unacknowledged suffix of the chain.
"""

from __future__ import annotations

import json
import re
import threading
import time
import weakref
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

import attrs

from .._boundary import shown
from .._errors import (
    ChainBroken,
    GiftLedgerError,
    InvalidArgument,
    SchemaVersionError,
    StoreError,
    WriteConflict,
)
from .._ledger.hashing import GENESIS_HASH, link_parts, micros
from .._ledger.model import (
    Account,
    BalanceRule,
    EntryKind,
    Hold,
    HoldStatus,
    Posting,
    Side,
    Transaction,
)
from .._ledger.store import AccountState, IdempotencyRecord, PostingRow, take_records
from .._ledger.text import storable
from ._rows import (
    DECODE_ERRORS,
    Dooming,
    block_refused,
    block_rolled_back,
    first_unreadable,
    holds_start,
    totals_of,
    transaction_of,
    unreadable,
)
from ._rows import SIDES as _SIDES
from ._rows import dump_meta as _dump_meta
from ._rows import dump_rates as _dump_rates
from ._rows import from_micros as _from_micros
from ._rows import hold_of as _hold
from ._rows import meta_of as _load_meta
from ._rows import to_micros as _to_micros
from .postgres_schema import MIGRATIONS, SCHEMA_VERSION
from .urls import redacted

if TYPE_CHECKING:
    import psycopg

__all__ = ["SCHEMA_VERSION", "PostgresStore"]

_DEBIT = Side.DEBIT
_POSTED = (EntryKind.POST, EntryKind.POST_HOLD, EntryKind.REVERSAL)
_PAGE = 1000  # entries read per query when iterating the journal
_RECORDS_AT_ONCE = 16  # keys read at once by records_from (a party's profiles, the rules)
_IDLE = 8  # connections kept open for reuse
_SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")

# Advisory lock namespaces (the first int4 of pg_advisory_xact_lock(int4, int4)).
_LOCK_HEAD = 0x676C0001
_LOCK_KEY = 0x676C0002
_LOCK_ACCOUNT = 0x676C0003
_LOCK_MIGRATE = 0x676C0004

# SQLSTATEs after which the whole write is run again.
# serialization_failure, deadlock_detected, lock_not_available (a lock a writer asks for
# after it holds the chain's head is taken without waiting: see _Session).
# gl_link's refusal of a write the ledger must decide (schema 4): run it again,
# reading its accounts first.
_RUN_AGAIN = "GLRUN"
# gl_link's refusal to date an entry at or after the time it must be dated before
# (schema 7, ``link_before``): run it again holding the head.
_DATED_PAST = "GLHED"

_RETRY_STATES = frozenset({"40001", "40P01", "55P03"})
# Unique indexes a concurrent writer can beat us to; a re-run sees its row.
_RETRY_CONSTRAINTS = frozenset(
    {"gl_transactions_pkey", "gl_transactions_reverses", "gl_keys_pkey", "gl_accounts_pkey"}
)


# Serialise the hash chain: wait for the head's lock, then read the head in a new
# statement, whose snapshot (READ COMMITTED) sees what the previous holder
# committed; then note whether other sessions wait for a lock right now (other
# writers queueing for the head or for the same accounts), to choose the commit.
# Advisory locks are the database's: the head's and the keys' lock ids are this
# ledger's, gl_ledger() (its journal table's OID, as the server resolves the name:
# a schema re-created under a running store gets new ids at once).
_HEAD_SELECT = "EXECUTE gl_head"
_HEAD_LOCK: tuple[tuple[str, Sequence[Any] | None], ...] = (
    (f"SELECT pg_advisory_xact_lock({_LOCK_HEAD}, gl_ledger())", None),
    (_HEAD_SELECT, None),
    # Others waiting for a lock now; and this round trip waited itself (its statements
    # took more than a few milliseconds to get here: for the head, or for a row).
    (
        "SELECT EXISTS (SELECT FROM pg_locks WHERE NOT granted), "
        "clock_timestamp() - statement_timestamp() > interval '5 ms'",
        None,
    ),
)
# The lock of an idempotency key (its parameters: _LOCK_KEY and the key).
_KEY_LOCK = "SELECT pg_advisory_xact_lock(%s, hashtext(gl_ledger() || ':' || %s))"
_KEY_TRY_LOCK = "SELECT gl_try_lock(%s, hashtext(gl_ledger() || ':' || %s))"
# How long after a write saw others waiting at the chain's head a gift links at commit
# (see defer_link): long enough to span many gifts, short enough to notice a lone writer.
_CROWDED_FOR = 1.0
# How long a write linking at commit waits for a row it locks late (see _commit): much
# longer than another writer holds it in gl_link, much shorter than deadlock_timeout.
_LATE_WAIT = "100ms"
# A key a write reads (and does not claim) before the head, linking at commit.
_KEY_SHARED_LOCK = "SELECT pg_advisory_xact_lock_shared(%s, hashtext(gl_ledger() || ':' || %s))"


# A writer's look-up of an idempotency key (prepared: gl_key, its argument a one-element
# array): its record, or (none remembered) the first entry that carries the key all the
# same, found through gl_transactions_key.
_KEY_OR_CARRIER = (
    "SELECT k.key, k.fingerprint, k.transaction_id, k.result, k.error_type, "
    "k.error_message, CASE WHEN k.key IS NULL THEN "
    "(SELECT min(t.id) FROM gl_transactions t WHERE t.key = v.key) END "
    "FROM (SELECT (%s::text[])[1] AS key) v LEFT JOIN gl_keys k ON k.key = v.key"
)
# An entry's columns (with the id of the entry reversing it) and its postings'.
_TX_COLUMNS = (
    "t.id, t.kind, t.effective_at, t.recorded_at, t.key, t.memo, t.metadata, t.reverses, "
    "t.hold_id, t.expires_at, t.rates, t.prev_hash, t.hash, r.id, t.hash_version"
)
_TX_FROM = "gl_transactions t LEFT JOIN gl_transactions r ON r.reverses = t.id"
_POSTING_COLUMNS = "tx_id, account, side, minor, unit"

# A page of an account's history (prepared: gl_history; one-element arrays: the
# account, the entry after which, how many rows).
_HISTORY = (
    "SELECT tx_id, idx, account, side, minor, unit, net_after FROM gl_postings "
    "WHERE account = (%s::text[])[1] AND net_after IS NOT NULL AND tx_id > (%s::bigint[])[1] "
    "ORDER BY tx_id, idx LIMIT (%s::bigint[])[1]"
)
# The entries of such pages, each once, and their postings (prepared: gl_page_entries and
# gl_page_postings; the arguments as gl_history's, an element a page): the first pages
# read ahead come with them (see _Session.read_ahead).
_PAGE_IDS = (
    "IN (SELECT p.tx_id FROM unnest(%s::text[], %s::bigint[], %s::bigint[]) "
    "AS w(account, after, lim) CROSS JOIN LATERAL (SELECT tx_id FROM gl_postings "
    "WHERE account = w.account AND net_after IS NOT NULL AND tx_id > w.after "
    "ORDER BY tx_id, idx LIMIT w.lim) p)"
)

# The first entry recorded at or after a time: a binary search over the ids, each probe
# an index lookup (an entry missing counts as at or after it, as in the client's search).
_FIRST_ID_AT = (
    "WITH RECURSIVE s(lo, hi) AS ("
    "SELECT 1::bigint, coalesce(max(id), 0) + 1 FROM gl_transactions "
    "UNION ALL SELECT CASE WHEN p.at < %s THEN p.mid + 1 ELSE s.lo END, "
    "CASE WHEN p.at < %s THEN s.hi ELSE p.mid END "
    "FROM s CROSS JOIN LATERAL (SELECT (s.lo + s.hi) / 2 AS mid, "
    "(SELECT t.recorded_at FROM gl_transactions t WHERE t.id = (s.lo + s.hi) / 2) AS at) p "
    "WHERE s.lo < s.hi) "
    "SELECT lo FROM s WHERE lo >= hi"
)

# What _account names when a row fails: the first of these columns that fails alone.
_ACCOUNT_DECODERS: tuple[tuple[str, int, Callable[[Any], object]], ...] = (
    ("min_balance", 3, BalanceRule),
    ("normal", 2, _SIDES.__getitem__),
    ("metadata", 6, lambda text: _load_meta(json.loads(text))),
)

_ACCOUNT_COLUMNS = (
    "name, unit, normal, min_balance, closed, trading, metadata::text, "
    "net, pending_debits, pending_credits, next_expiry"
)
# Accounts whose balance rule a debit can break: the only rows a writer locks.
_FLOOR = "min_balance IS NOT NULL AND NOT trading"
# The slot of this session's delta rows in gl_balances and gl_totals: the one its
# connection claimed (gl_slot(); see postgres_schema, version 8). Slots 1024 to 2047:
# of the writes that hold the head while they change slots; gl_link, which changes its
# slots before it takes the head, uses 0 to 1023 (a writer there never waits for a row
# of one holding the head).
_SLOT = "1024 + gl_slot()"

# The statements of every write, prepared once per connection (sent with the
# parameters bound on the client, ``EXECUTE name(literals)`` still skips parsing
# and planning on the server).
_PREPARED: dict[str, str] = {
    "gl_head": "SELECT id, hash, recorded_at FROM gl_transactions ORDER BY id DESC LIMIT 1",
    "gl_lock": f"SELECT name FROM gl_accounts WHERE name = ANY(%s::text[]) AND {_FLOOR} "
    f"ORDER BY name FOR UPDATE",
    "gl_lock_nowait": f"SELECT name FROM gl_accounts WHERE name = ANY(%s::text[]) "
    f"AND {_FLOOR} ORDER BY name FOR UPDATE NOWAIT",
    "gl_states": f"SELECT {_ACCOUNT_COLUMNS} FROM gl_account_states WHERE name = ANY(%s::text[])",
    "gl_key": _KEY_OR_CARRIER,
    "gl_history": _HISTORY,
    "gl_page_entries": f"SELECT {_TX_COLUMNS} FROM {_TX_FROM} WHERE t.id {_PAGE_IDS} ORDER BY t.id",
    "gl_page_postings": f"SELECT {_POSTING_COLUMNS} FROM gl_postings WHERE tx_id {_PAGE_IDS} "
    f"ORDER BY tx_id, idx",
    "gl_insert_transactions": "INSERT INTO gl_transactions (id, kind, effective_at, "
    "recorded_at, key, memo, metadata, reverses, hold_id, expires_at, rates, prev_hash, hash, "
    "hash_version) "
    "SELECT * FROM unnest(%s::bigint[], %s::text[], %s::bigint[], %s::bigint[], %s::text[], "
    "%s::text[], %s::json[], %s::bigint[], %s::bigint[], %s::bigint[], %s::json[], "
    "%s::text[], %s::text[], %s::smallint[])",
    "gl_insert_postings": "INSERT INTO gl_postings (tx_id, idx, account, side, minor, unit, "
    "net_after) SELECT * FROM unnest(%s::bigint[], %s::int[], %s::text[], %s::text[], "
    "%s::bigint[], %s::text[], %s::bigint[])",
    # Accounts with a floor: on their (locked) row.
    "gl_update_totals": f"UPDATE gl_accounts a SET net = a.net + d.net, "
    f"pending_debits = a.pending_debits + d.pd, pending_credits = a.pending_credits + d.pc "
    f"FROM unnest(%s::text[], %s::bigint[], %s::bigint[], %s::bigint[]) "
    f"AS d(name, net, pd, pc) WHERE a.name = d.name AND a.{_FLOOR}",
    # The others: on this connection's slot (no hot row: see gl_slot()).
    "gl_update_slots": f"INSERT INTO gl_balances AS b (account, slot, net, pending_debits, "
    f"pending_credits) SELECT d.name, {_SLOT}, d.net, d.pd, d.pc "
    f"FROM unnest(%s::text[], %s::bigint[], %s::bigint[], %s::bigint[]) "
    f"AS d(name, net, pd, pc) JOIN gl_accounts a ON a.name = d.name "
    f"WHERE NOT (a.{_FLOOR}) ORDER BY d.name "
    f"ON CONFLICT (account, slot) DO UPDATE SET net = b.net + excluded.net, "
    f"pending_debits = b.pending_debits + excluded.pending_debits, "
    f"pending_credits = b.pending_credits + excluded.pending_credits",
    # The round trips of a write that links its entries at commit (schema 4).
    "gl_open": "SELECT * FROM gl_open(%s::text[])",
    "gl_link": "SELECT * FROM gl_link((%s::bigint[])[1], %s::text[], %s::bigint[], "
    "%s::bigint[], %s::text[], %s::text[], %s::json[], %s::bigint[], %s::bigint[], "
    "%s::bigint[], %s::json[], %s::text[], %s::text[], %s::boolean[], %s::smallint[], "
    "%s::bigint[], %s::int[], %s::text[], %s::text[], %s::bigint[], %s::text[], "
    "%s::bigint[], %s::text[], %s::bigint[], %s::text[], %s::text[], %s::bigint[], "
    "%s::text[], %s::text[], %s::bigint[], %s::bigint[], %s::bigint[], %s::text[], "
    "%s::bigint[], %s::bigint[], %s::bigint[], %s::text[], %s::numeric[], %s::numeric[], "
    "(%s::boolean[])[1], %s::text[], (%s::bigint[])[1])",
    "gl_add_unit_totals": f"INSERT INTO gl_totals AS t (unit, slot, debits, credits) "
    f"SELECT u, {_SLOT}, d, c FROM unnest(%s::text[], %s::numeric[], %s::numeric[]) "
    f"AS x(u, d, c) ON CONFLICT (unit, slot) DO UPDATE SET debits = t.debits + excluded.debits, "
    f"credits = t.credits + excluded.credits",
}


def _prepare_sql(name: str, sql: str) -> str:
    parts = sql.split("%s")
    numbered = parts[0] + "".join(f"${i}{part}" for i, part in enumerate(parts[1:], 1))
    return f"PREPARE {name} AS {numbered}"


# Run on each connection once the schema is current, outside any transaction: the
# statements of every write prepared, and the claim of the lowest slot of the ledger
# no other session holds (gl_claim_slot(), kept for the session's life).
_SESSION = "; ".join(
    [*(_prepare_sql(name, sql) for name, sql in _PREPARED.items()), "SELECT gl_claim_slot()"]
)

# The attribute of a connection holding its sessions' cursor and escaper.
_TOOLS = "_giftledger_tools"

_COMMIT_EARLY_RELEASE: tuple[tuple[str, Sequence[Any] | None], ...] = (
    ("SET LOCAL synchronous_commit = off", None),
    ("COMMIT", None),
    # A transaction that writes no WAL does not wait for the flush: write a
    # (transactional, empty) logical message so it does. After a COMMIT, the rest
    # of a query string runs in an implicit transaction of its own, committed at
    # the end of the string under the server's synchronous_commit.
    ("SELECT pg_logical_emit_message(true, 'giftledger', '')", None),
)


# The commit after gl_link: it chose synchronous_commit (off when it waited for the
# head, others being at it); gl_flush then waits for the flush only if it was off.
# It runs in the implicit transaction after the COMMIT (see above): no BEGIN and
# COMMIT of its own to send and answer.
#: libpq's PQTRANS_ACTIVE: a command is still running. Between a writer's round trips,
#: only an exception that cut a wait short leaves it so (psycopg cancels the command for
#: KeyboardInterrupt only): the connection takes no other command until it ends.
_ACTIVE = 1
#: libpq's PQTRANS_INERROR (``psycopg.pq.TransactionStatus.INERROR``): a statement of the
#: connection's open transaction failed, and the transaction can only roll back.
_IN_ERROR = 3
#: libpq's PQTRANS_UNKNOWN: the connection is lost (its transaction went with it).
_LOST = 4

_COMMIT_LINKED: tuple[tuple[str, Sequence[Any] | None], ...] = (
    ("COMMIT", None),
    ("SELECT gl_flush()", None),
)


# -- schema: see postgres_schema.py ----------------------------------------------------


def _split_url(url: str) -> tuple[str, str | None]:
    """The libpq URL without giftledger's own ``schema`` parameter, and that schema."""
    parts = urlsplit(url)
    shown = redacted(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise InvalidArgument(f"PostgreSQL URL {shown!r} must start with 'postgresql://'")
    query = parse_qsl(parts.query, keep_blank_values=True)
    schemas = [v for k, v in query if k == "schema"]
    if len(schemas) > 1:
        raise InvalidArgument(f"PostgreSQL URL {shown!r} names more than one schema")
    schema = schemas[0] if schemas else None
    if schema is not None and not _SCHEMA_NAME.fullmatch(schema):
        raise InvalidArgument(
            f"schema {schema!r} in {shown!r} must be 1 to 63 letters, digits or '_', "
            f"not starting with a digit"
        )
    if "#" in url:  # libpq would read it as part of the last name before it
        raise InvalidArgument(f"PostgreSQL URL {shown!r} must not have a '#' fragment")
    # The URL as written but for the schema parameter: libpq decodes %XX only (a '+' is
    # a '+'), so decoding and encoding the others again would turn
    # "options=-c%20x%3Dy" into "-c+x=y", and rebuilding the URL from its parts drops
    # the "//" of one with no host ("postgresql:///db?host=/var/run/postgresql").
    base = url.partition("?")[0]
    rest = "&".join(
        p for p in parts.query.split("&") if p and unquote(p.split("=", 1)[0]) != "schema"
    )
    return (f"{base}?{rest}" if rest else base), schema


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise StoreError(
            "the PostgreSQL store needs psycopg 3: pip install 'giftledger[postgres]'"
        ) from exc
    return psycopg


# -- values ------------------------------------------------------------------------------


#: An idempotency record's columns, in IdempotencyRecord's order.
_KEY_COLUMNS = "key, fingerprint, transaction_id, result, error_type, error_message"
_HOLD_COLUMNS = "id, debit, credit, minor, unit, expires_at, status, posted_minor, resolved_by"


def _tx_row(tx: Transaction) -> tuple[Any, ...]:
    """The columns of ``tx`` as ``gl_insert_transactions`` takes them."""
    return (
        tx.id,
        tx.kind.value,
        micros(tx.effective_at),
        micros(tx.recorded_at),
        tx.key,
        tx.memo,
        _dump_meta(tx.metadata),
        tx.reverses,
        tx.hold_id,
        _to_micros(tx.expires_at),
        _dump_rates(tx.rates),
        tx.prev_hash,
        tx.hash,
        tx.hash_version,
    )


def _transaction(row: Sequence[Any], postings: tuple[Posting, ...]) -> Transaction:
    # psycopg decodes the JSON columns; the reversal's id is the joined 14th column.
    return transaction_of(row, postings, row[13], hash_version=row[14], table="gl_transactions")


# -- the store ---------------------------------------------------------------------------


class PostgresStore:
    """A store in a PostgreSQL database, shared safely by many processes.

    Args:
        url: a libpq URL, ``postgresql://user@host:5432/dbname``, optionally
            with ``?schema=name`` to keep the ledger in its own schema.

    Raises:
        StoreError: psycopg is not installed, the server cannot be reached, or
            the database holds something this library cannot read.
        SchemaVersionError: the database was written by a newer giftledger.

    Example (with a server at hand)::

        book = gl.Ledger.open("postgresql://app@db.internal/books?schema=gifts")
    """

    def __init__(self, url: str) -> None:
        if not isinstance(url, str):
            raise InvalidArgument(f"store URL {url!r} must be a string")
        self._conninfo, self.schema = _split_url(url)
        self.url = redacted(url)  # shown in messages: never the password
        self._pg = _psycopg()
        self._lock = threading.Lock()
        self._idle: list[psycopg.Connection[Any]] = []
        self._local = threading.local()  # the write open in this thread, if any
        #: Writes another write joined, counted as they end (see the Store protocol).
        self.joined_writes = 0
        self._accounts: dict[tuple[Any, ...], Account] = {}
        # The account records by name, as committed reads found them: a post whose
        # accounts are all here reads nothing before its commit (see defer_link). A
        # record never changes but for closing, which is never undone (a reader's
        # older snapshot does not reopen one; a writer's read does: a restored
        # database); one closed, gone or changed since is refused by the server, and
        # the write runs again, reading it.
        self._defs: dict[str, Account] = {}
        self._next_id = 1  # a guess at the next entry's id, for one-round-trip posts
        # Until when (time.monotonic()) a write that may link at commit reading first
        # (a gift) does: a write of this store saw others waiting as it took the
        # chain's head (see defer_link). Alone, holding the head costs less.
        self._crowded_until = 0.0
        self._closed = False
        # Connections left open when the store is dropped are closed quietly.
        self._finalizer = weakref.finalize(self, _close_all, self._idle)
        self._ready = False  # the schema is current: connections prepare statements
        conn = self._connect()
        try:
            self._migrate(conn)
            conn.execute(_SESSION)
        except BaseException:
            conn.close()
            raise
        self._ready = True
        self._idle.append(conn)

    def __repr__(self) -> str:
        return f"<PostgresStore {self.url!r}>"

    def known_account(self, name: str) -> Account | None:
        """The record of account ``name`` as this store last read or committed it, or
        None; no query.

        A post, transfer or convert whose accounts the store knows goes in one round
        trip; the server checks that each is still as known (open, its unit, its
        floor, whether it is a trading account) and the ledger runs the write again,
        reading them, when one is not
        (an account closed meanwhile, or a database restored with other accounts).

        Args:
            name: the account's name.

        Returns:
            The :class:`~giftledger.Account` record, or None when the store has not
            seen the account (or has seen it missing since).

        Example (with a server at hand)::

            book = gl.Ledger.open("postgresql://app@db.internal/books")
            book.balance("viewers:alice:coins")  # reads the account
            book.store.known_account("viewers:alice:coins")  # <Account ...>, no query
        """
        return self._defs.get(name)

    # -- connections ---------------------------------------------------------------------

    def _connect(self) -> psycopg.Connection[Any]:
        pg = self._pg
        try:
            conn: psycopg.Connection[Any] = pg.connect(self._conninfo, autocommit=True)
            # Statements are prepared by the store itself (_PREPARED); psycopg's own
            # cache would only count (hash and keep) every distinct query string.
            conn.prepare_threshold = None
        except pg.Error as exc:
            raise StoreError(f"cannot connect to PostgreSQL at {self.url!r}: {exc}") from exc
        try:
            # Literals are escaped by libpq for UTF-8 (see _Session._execute).
            conn.execute("SET client_encoding TO 'UTF8'")
            if self.schema is not None:
                conn.execute("SELECT set_config('search_path', %s, false)", (f'"{self.schema}"',))
            if self._ready:
                conn.execute(_SESSION)
            # The cursor and literal escaper of every session on this connection,
            # made once (a cursor per write costs as much as its encoding).
            tools = (pg.ClientCursor(conn), pg.pq.Escaping(conn.pgconn).escape_literal)
            setattr(conn, _TOOLS, tools)
        except BaseException:
            conn.close()
            raise
        return conn

    def _acquire(self) -> psycopg.Connection[Any]:
        if self._closed:
            raise StoreError(f"the store {self.url!r} is closed")
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return self._connect()

    def _release(self, conn: psycopg.Connection[Any]) -> None:
        if conn.closed or conn.broken or conn.info.transaction_status != 0:  # 0: IDLE
            _close_busy(conn)
            return
        with self._lock:
            if not self._closed and len(self._idle) < _IDLE:
                self._idle.append(conn)
                return
        conn.close()

    def _migrate(self, conn: psycopg.Connection[Any]) -> None:
        pg = self._pg
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", (_LOCK_MIGRATE,))
                if self.schema is not None:
                    conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
                version = self._schema_version(conn)
                if version > SCHEMA_VERSION:
                    raise SchemaVersionError(
                        f"the database at {self.url!r} has giftledger schema version {version}, "
                        f"newer than the {SCHEMA_VERSION} this giftledger supports; upgrade "
                        f"giftledger to open it"
                    )
                for step in MIGRATIONS[version:]:
                    for statement in step:
                        conn.execute(statement)
                if version < SCHEMA_VERSION:
                    conn.execute(
                        "UPDATE gl_meta SET value = %s WHERE key = 'schema_version'",
                        (str(SCHEMA_VERSION),),
                    )
        except pg.Error as exc:
            raise StoreError(f"cannot prepare the ledger schema at {self.url!r}: {exc}") from exc

    def _schema_version(self, conn: psycopg.Connection[Any]) -> int:
        row = conn.execute("SELECT to_regclass('gl_meta') IS NOT NULL").fetchone()
        if row is None or not row[0]:
            return 0
        got = conn.execute("SELECT value FROM gl_meta WHERE key = 'schema_version'").fetchone()
        if got is None or not str(got[0]).isdigit():
            raise SchemaVersionError(
                f"the database at {self.url!r} holds an unreadable giftledger schema version "
                f"{got!r}"
            )
        return int(got[0])

    # -- Store ---------------------------------------------------------------------------

    def write(self, dry_run: bool = False) -> _Block:
        """A writer in one database transaction; commits on success, else rolls back."""
        return _Block(self, writer=True, dry_run=dry_run)

    def read(self) -> _Block:
        """A reader over one snapshot (a REPEATABLE READ, READ ONLY transaction)."""
        return _Block(self, writer=False, dry_run=False)

    def durable_barrier(self) -> None:
        """Return once every commit visible before the call is durable.

        A writer that others queue behind commits without waiting for the WAL
        flush (see the module notes), so a reader can see its entry before it is
        durable. The change feed calls this after each read and before it
        delivers what it read. Every commit the read could see has its commit
        record below the WAL insert position read now; writers flush all the
        time, so this usually only waits until the flush position passes it (a
        read, no write). If it does not within a few milliseconds, a commit that
        writes an empty transactional message waits for the flush under the
        server's ``synchronous_commit``, as the writers' own acknowledgement does.
        """
        conn = self._acquire()
        try:
            row = conn.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()
            assert row is not None
            for pause in (0.0, 0.002, 0.005):
                if pause:
                    time.sleep(pause)
                done = conn.execute(
                    "SELECT pg_current_wal_flush_lsn() >= %s::pg_lsn", (row[0],)
                ).fetchone()
                if done is not None and done[0]:
                    return
            conn.execute(
                "BEGIN; SELECT pg_logical_emit_message(true, 'giftledger-feed', ''); COMMIT"
            )
        except self._pg.Error as exc:
            raise _translate(self._pg, exc) from exc
        finally:
            self._release(conn)

    def close(self) -> None:
        """Close every idle connection; the store cannot be used afterwards."""
        with self._lock:
            self._closed = True
            idle, self._idle[:] = list(self._idle), []
        for conn in idle:
            conn.close()

    def _account(self, row: Sequence[Any]) -> Account:
        # Account records repeat on every write: build each once per distinct row.
        key = tuple(row[:7])
        account = self._accounts.get(key)
        if account is None:
            try:
                account = Account(
                    row[0],
                    row[1],
                    _SIDES[row[2]],
                    BalanceRule(row[3]),
                    row[4],
                    row[5],
                    _load_meta(json.loads(row[6])),
                )
            except DECODE_ERRORS as exc:
                raise first_unreadable(
                    f"account {shown(row[0])}", "gl_accounts", row, _ACCOUNT_DECODERS, exc
                ) from None
            if len(self._accounts) > 100_000:
                self._accounts.clear()
            self._accounts[key] = account
        return account

    def _state(self, row: Sequence[Any], current: bool | None = False) -> AccountState:
        """The state a row of ``gl_account_states`` holds; the store keeps its record
        (``_know``) unless ``current`` is None (a write's own uncommitted change)."""
        try:
            next_expiry = _from_micros(row[10])
        except DECODE_ERRORS as exc:
            raise unreadable(
                f"account {shown(row[0])}", "gl_account_states.next_expiry", row[10], exc
            ) from None
        account = self._account(row)
        if current is not None:
            self._know(account, current)
        return AccountState(account, row[7], row[8], row[9], next_expiry)

    def _know(self, account: Account, current: bool = True) -> None:
        """Keep ``account`` as the record of its name (see ``_defs``). A read that is not
        ``current`` (a reader's snapshot, which may be older than the close of an
        account) does not replace a closed record with the same record open; a
        writer's read and a commit do (a database restored with the account open)."""
        defs = self._defs
        old = defs.get(account.name)
        if old is account:
            return
        if (
            not current
            and old is not None
            and old.closed
            and not account.closed
            and attrs.evolve(old, closed=False) == account
        ):
            return
        if len(defs) > 100_000:
            defs.clear()
        defs[account.name] = account


def _close_all(conns: list[psycopg.Connection[Any]]) -> None:
    for conn in conns:
        conn.close()
    conns.clear()


def _close_busy(conn: psycopg.Connection[Any]) -> None:
    """Close a connection, cancelling the command it still runs (a wait an exception cut
    short; psycopg cancels it for KeyboardInterrupt only). Closed alone, its server
    process would go on waiting, holding the transaction's locks (the chain's head
    among them) until the command ended."""
    if not conn.closed and conn.pgconn.transaction_status == _ACTIVE:
        cancel = getattr(conn, "cancel_safe", None) or conn.cancel  # cancel_safe: 3.2+
        try:
            cancel()
        except Exception:  # the server is gone: nothing runs there to cancel
            pass
    conn.close()


class _Block:
    """The context manager behind ``write()`` and ``read()``.

    A write opened while this thread already has one open joins it (it commits
    or rolls back with the outer one); a read opened inside a write reads what
    that write has done so far.
    """

    def __init__(self, store: PostgresStore, *, writer: bool, dry_run: bool) -> None:
        self._store = store
        self._writer = writer
        self._dry_run = dry_run
        self._session: _Session | None = None
        self._outer: _Session | None = None

    def __enter__(self) -> _Session:
        store = self._store
        outer: _Session | None = getattr(store._local, "session", None)
        if outer is not None:
            if self._writer:
                if self._dry_run:
                    raise StoreError("a dry run cannot be nested inside a write")
                outer._join_write()
            outer._nested += 1  # its caller may use an entry's id before the commit
            self._outer = outer
            return outer
        conn = store._acquire()
        try:
            session = self._session = _Session(store, conn, self._writer)
            if self._writer:
                store._local.session = session
            return session
        except BaseException:
            # This block never opens (an exception, a signal handler's say, landed): no
            # session is left for the next write of this thread to join.
            if getattr(store._local, "session", None) is self._session is not None:
                store._local.session = None
            self._session = None
            store._release(conn)
            raise

    def __exit__(
        self, typ: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        session = self._session
        if session is None:
            if self._outer is not None:
                self._outer._nested -= 1
                if self._writer:
                    self._outer._marks.pop()
            # Nested: the outer block decides; a failure of the server's reaches the
            # caller inside it as a StoreError, as it would at the block's end.
            if exc is not None and isinstance(exc, self._store._pg.Error):
                raise _translate(self._store._pg, exc, "write" if self._writer else "read") from exc
            return
        store = self._store
        pg = store._pg
        conn = session._conn
        what = "write" if self._writer else "read"  # what a refusal names
        try:
            if self._writer:
                store._local.session = None
            if session._joined:  # before it ends: what it locked is not released yet
                with store._lock:
                    store.joined_writes += 1
            if typ is None and self._writer:
                session._doom_if_ended()  # a statement failed, and the caller went on
            if typ is None and self._writer and not self._dry_run and session._doomed is None:
                session._commit()
                session._learn()
            else:
                session._end()
        except pg.Error as error:
            session._abandon()
            translated = _translate(pg, error, what)
            if translated.retryable:
                session._keep_late()
            raise translated from error
        except BaseException:
            session._abandon()
            raise
        finally:
            # Whatever landed (a signal handler's exception, say), no session is left for
            # the next write of this thread to join, and the connection goes back (one
            # still in a transaction is closed: the server rolls it back).
            if self._writer and store._local.__dict__.get("session") is not None:
                store._local.session = None  # this thread's only session was this one
            store._release(conn)
        if (
            session._blind
            and isinstance(exc, Exception)
            and not isinstance(exc, StoreError)
            # it was given account states not read (and the ledger refused the post),
            # or told of no key's record (any failure: other stores look a key up,
            # and replay it, before they run the request)
            and (
                session._blind_keys
                or (session._first is not None and isinstance(exc, GiftLedgerError))
            )
        ):
            # Run it again reading them, so every error a caller gets was decided on
            # the accounts and the key as they are.
            raise session._unblind(f"the write runs again, reading what it used: {exc}") from exc
        if exc is not None and isinstance(exc, pg.Error):
            translated = _translate(pg, exc, what)
            if translated.retryable:
                session._keep_late()
            raise translated from exc
        if isinstance(exc, StoreError) and exc.retryable:
            session._keep_late()
        if typ is None and session._doomed is not None:
            raise block_rolled_back(session._doomed)


def _translate(pg: Any, error: BaseException, what: str = "write") -> StoreError:
    """The StoreError to raise for a psycopg error: retryable for a lost race.
    ``what``: what was refused, for the message (a "write" or a "read")."""
    if isinstance(error, StoreError):
        return error
    state = getattr(error, "sqlstate", None)
    diag = getattr(error, "diag", None)
    constraint = getattr(diag, "constraint_name", None)
    if state in _RETRY_STATES or (state == "23505" and constraint in _RETRY_CONSTRAINTS):
        return WriteConflict(f"the write lost a race with another writer ({error}); run it again")
    if state == "22003":  # numeric_value_out_of_range: a running balance past bigint
        return StoreError(
            "the write would take an account's balance past what PostgreSQL keeps (a signed "
            "64-bit integer of minor units; another writer's commit got there first): "
            "nothing was written"
        )
    if isinstance(error, pg.OperationalError):
        return StoreError(f"PostgreSQL is unreachable or failed: {error}")
    return StoreError(f"PostgreSQL refused the {what}: {error}")


class _Session(Dooming):
    """A reader or writer on one connection, inside one database transaction.

    The transaction starts lazily with the first query (in the same round trip)
    and, for a writer, rows to append are buffered until the next query or the
    commit.
    """

    _ENDED = "PostgreSQL aborted its transaction at a statement that failed"

    def __init__(self, store: PostgresStore, conn: psycopg.Connection[Any], writer: bool) -> None:
        self._store = store
        self._conn = conn
        self._cur, self._escape = getattr(conn, _TOOLS)
        self._writer = writer
        self._begun = False
        self._head: tuple[int, str] | None = None  # once this writer holds the head lock
        self._head_time: datetime | None = None  # the head's recorded_at, with _head
        # Buffered writes, flushed in this order.
        self._new_accounts: list[tuple[Any, ...]] = []
        self._tx_rows: list[tuple[Any, ...]] = []
        self._postings: tuple[list[Any], ...] = ([], [], [], [], [], [], [])
        self._hold_ops: list[tuple[str, tuple[Any, ...], bool]] = []
        self._expiry_names: set[str] = set()
        self._deltas: dict[str, list[int]] = {}
        self._totals: dict[str, list[int]] = {}
        self._keys: list[tuple[Any, ...]] = []
        self._closes: list[str] = []
        self._dirty = False
        self._wrote = False  # anything sent to the database yet
        self._contended = False  # others waited for locks when this writer took the head
        # A writer's view of what it locked and wrote, so a batch does not flush its
        # writes before every request: the states of the accounts it locked (kept
        # up to date as it appends; row locks keep other writers out), the keys it
        # remembered, and names whose rows have buffered changes it cannot mirror.
        self._locked: dict[str, AccountState] = {}
        self._remembered: dict[str, IdempotencyRecord] = {}
        # For a key the writer found no record of: the first entry carrying it, read
        # in the same query (see idempotency and keyed_entry).
        self._carriers: dict[str, int | None] = {}
        self._stale: set[str] = set()
        # Locks asked for after the head (without waiting): if the write is run again,
        # its next attempt takes them first, in the one lock order.
        self._late_keys: set[str] = set()
        self._late_holds: set[int] = set()
        self._late_names: set[str] = set()
        # Linking at commit (see defer_link): the head this write read without its
        # lock, its entries numbered provisionally from _first, linked by gl_link.
        self._nested = 0  # blocks joined to this write (they may use ids before commit)
        self._joined = False  # a write joined this one (it may have used its entries)
        self._doomed: str | None = None  # why this write must roll back (see doom)
        self._changes = 0  # calls that changed something (see doom)
        self._marks: list[int] = []  # per write joined to this one, open now: _changes then
        self._defer = False
        self._held = False  # told not to link at commit: an attempt before it had to hold the head
        self._blind = False  # linking at commit, having read no account (see lock_accounts)
        # Linking at commit, reading accounts first: the accounts whose states the write
        # uses (their rows locked, read exactly), or None (every account it locks). The
        # others are read without a lock (_unlocked): gl_link checks their rules.
        self._exact: frozenset[str] | None = None
        self._unlocked: set[str] = set()
        self._learned: list[Account] = []  # accounts this write opens or closes
        self._blind_keys: set[str] = set()  # keys not looked up: gl_link checks them
        self._effective_given = False
        self._before: int | None = None  # linked entries are recorded before (link_before)
        self._first: int | None = None  # provisional id of the first deferred entry
        self._linked: list[Transaction] = []
        self._follows: list[bool] = []  # per linked entry: effective_at moves with recorded_at
        self._link_postings: tuple[list[Any], ...] = ([], [], [], [], [], [], [])
        # Reads the write asked for ahead (see read_ahead): sent with the round trip
        # that takes the head, each answer kept for its first use.
        self._ahead: list[tuple[str, Any]] = []
        self._lock_ahead: list[str] = []  # accounts to lock with the key (read_ahead)
        self._absent: set[str] = set()  # names locked holding the head: no such account
        self._rollback_first = False  # a replay released its locks: see _release
        self._ahead_keys: dict[str, tuple[Any, ...]] = {}  # a key's row (see _key_answer)
        self._ahead_history: dict[tuple[str, int, int], list[PostingRow]] = {}
        # The entries of a first history page read ahead (see read_ahead), by id.
        self._ahead_entries: dict[int, Transaction] = {}

    # -- plumbing ------------------------------------------------------------------------

    def _begin_sql(self) -> str:
        return (
            "BEGIN ISOLATION LEVEL READ COMMITTED"
            if self._writer
            else "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
        )

    def _rows(
        self,
        sql: str,
        params: Sequence[Any] | None = None,
        *,
        before: Sequence[tuple[str, Sequence[Any] | None]] = (),
        flush: bool = True,
        head: bool = False,
        after: tuple[str, Sequence[Any] | None] | None = None,
        lead: Sequence[tuple[str, Sequence[Any] | None]] = (),
        also: tuple[str, Sequence[Any] | None] | None = None,
    ) -> list[tuple[Any, ...]]:
        """Run ``before`` statements and then ``sql``, in one round trip; ``sql``'s rows
        (see ``_ask``). A writer's round trip that fails is cut short (``_cut_short``)."""
        try:
            return self._ask(sql, params, before, flush, head, after, lead, also)
        except BaseException as exc:
            self._cut_short(exc)
            raise

    def _cut_short(self, exc: BaseException) -> None:
        """A writer's round trip failed with ``exc``: it may have taken its buffered
        writes out to send, marked its transaction begun before its BEGIN went, or taken
        in part of what came back, and an exception a signal handler raises (a timeout,
        ``KeyboardInterrupt``) may land anywhere in it. Unless the server aborted the
        transaction (a statement failed: ``_note`` names it), what the server holds is
        no longer what this write believes: it can no longer commit."""
        if self._writer and self._conn.pgconn.transaction_status not in (_IN_ERROR, _LOST):
            self._lose_track(
                f"a round trip of this write block to PostgreSQL did not complete, so what "
                f"the server holds is not known: {type(exc).__name__}: {exc}"
            )

    def _ask(
        self,
        sql: str,
        params: Sequence[Any] | None,
        before: Sequence[tuple[str, Sequence[Any] | None]],
        flush: bool,
        head: bool,
        after: tuple[str, Sequence[Any] | None] | None,
        lead: Sequence[tuple[str, Sequence[Any] | None]],
        also: tuple[str, Sequence[Any] | None] | None,
    ) -> list[tuple[Any, ...]]:
        """Run ``before`` statements and then ``sql``, in one round trip; ``sql``'s rows.

        The transaction's BEGIN and the buffered writes go first, unless ``flush``
        is false (the query cannot see them). ``head``: then take the chain's head
        (and read it), then run ``after`` and return its rows instead. ``lead``: the
        first locks (a key's), before those a failed attempt took late. ``also``: linking
        at commit, a query run after ``sql`` whose rows are returned with its rows.
        """
        statements, checks = self._opening(flush)
        statements.extend(lead)
        ahead = self._ahead if head else []
        if head and self._defer and ahead:
            # Linking at commit, the keys read ahead are read before the head: lock
            # each (shared) first, so a write claiming one (which locks it alone)
            # waits for this one to commit, or this one for it, as under the head.
            mine = {p[1] for q, p in lead if q == _KEY_LOCK and p is not None}
            shared = sorted({what for kind, what in ahead if kind == "key"} - mine)
            statements.extend((_KEY_SHARED_LOCK, (_LOCK_KEY, k)) for k in shared)
        if head:
            statements.extend(self._take_late())
        statements.extend(before)
        statements.append((sql, params))
        if not head:
            return self._send(statements, checks)[-1]
        if self._defer:
            # Linking at commit: read the head without its lock (the provisional
            # numbering, and the time the clock is clamped to); gl_link takes it.
            # The reads asked for ahead follow: those of the rows this write locked
            # are exact until it commits, as are the keys it locked.
            start = len(statements) - 1
            if also is not None:
                statements.append(also)
            statements.append((_HEAD_SELECT, None))
            if after is not None:
                statements.append(after)
            self._ahead = []
            statements.extend(self._read_statement(kind, what) for kind, what in ahead)
            out = self._send(statements, checks, keep=len(statements) - start)
            rows = out[0]
            at = 1
            if also is not None:
                rows = rows + out[1]
                at = 2
            head_rows = out[at]
            if after is not None:
                at += 1
                rows = out[at]
            self._took_head(head_rows, [(False, False)])
            self._keep_ahead(ahead, out[at + 1 :])
            assert self._head is not None
            self._first = self._head[0] + 1
            return rows
        statements.extend(_HEAD_LOCK)
        if after is not None:
            statements.append(after)
        if ahead:
            # The reads asked for ahead, after the head: exact until this write commits.
            self._ahead = []
            statements.extend(self._read_statement(kind, what) for kind, what in ahead)
        out = self._send(statements, checks, keep=4 + len(ahead))
        if after is None:
            rows, _, head_rows, waiters = out[:4]
        else:
            _, head_rows, waiters, rows = out[:4]
        self._took_head(head_rows, waiters)
        self._keep_ahead(ahead, out[4:])
        return rows

    def _keep_ahead(
        self, ahead: Sequence[tuple[str, Any]], answers: Sequence[list[tuple[Any, ...]]]
    ) -> None:
        """Keep the answers of the reads asked for ahead, each for its first use."""
        entry_rows: list[tuple[Any, ...]] = []
        for (kind, what), answer in zip(ahead, answers, strict=True):
            if kind == "key":
                self._ahead_keys[what] = answer[0]
            elif kind == "history":
                self._ahead_history[what] = _posting_rows(answer)
            elif kind == "entries":
                entry_rows = answer
            else:  # "entry postings": the postings of the "entries" just before
                for tx in _entries_of(entry_rows, answer):
                    self._ahead_entries[tx.id] = tx

    def _opening(self, flush: bool) -> tuple[list[tuple[str, Sequence[Any] | None]], list[int]]:
        """What goes before a query: BEGIN if the transaction has not begun, and the
        buffered writes if ``flush`` (with the positions that must hit a row)."""
        statements: list[tuple[str, Sequence[Any] | None]] = []
        checks: list[int] = []
        if flush and self._dirty and self._doomed is not None:
            # A write of this block failed after it changed something, perhaps halfway
            # through buffering its rows (an exception a signal handler raised): what
            # it buffered is not sent, and a read that needs it is refused.
            raise block_refused(self._doomed)
        if self._rollback_first:  # a replay's locks (see _release)
            self._rollback_first = False
            statements.append(("ROLLBACK", None))
            self._begun = False
        if not self._begun:
            statements.append((self._begin_sql(), None))
            self._begun = True
        if flush and self._dirty:
            checks = self._writes(statements)
        return statements, checks

    def _take_late(self) -> list[tuple[str, Sequence[Any] | None]]:
        """Locks the last attempt of this write (in this thread) asked for after the head
        and lost: take them now, before the head, in the one lock order."""
        local = self._store._local
        late: tuple[list[str], list[int], list[str]] | None = getattr(local, "late", None)
        if late is None:
            return []
        local.late = None
        keys, holds, names = late
        out: list[tuple[str, Sequence[Any] | None]] = [(_KEY_LOCK, (_LOCK_KEY, k)) for k in keys]
        if holds:
            out.append(
                ("SELECT id FROM gl_holds WHERE id = ANY(%s) ORDER BY id FOR UPDATE", (holds,))
            )
        if names:
            out.append(self._execute("gl_lock", (names,)))
        return out

    def _keep_late(self) -> None:
        """After a failed attempt that runs again: remember the locks it took after the
        head, and that it held the head because an attempt before it had to (see
        ``_undefer``): a request told to hold the head holds it until it lands (linking
        at commit again, it would be told again, and the two could alternate until the
        retries ran out)."""
        if self._held:
            self._store._local.no_defer = True
        if self._late_keys or self._late_holds or self._late_names:
            self._store._local.late = (
                sorted(self._late_keys),
                sorted(self._late_holds),
                sorted(self._late_names),
            )

    def _took_head(self, rows: list[tuple[Any, ...]], waiters: list[tuple[Any, ...]]) -> None:
        others, waited = waiters[0]
        self._contended = bool(others)
        if others or waited:
            self._store._crowded_until = time.monotonic() + _CROWDED_FOR
        if rows:
            self._head = (rows[0][0], rows[0][1])
            self._head_time = _from_micros(rows[0][2])
        else:
            self._head = (0, GENESIS_HASH)

    def _send(
        self,
        statements: Sequence[tuple[str, Sequence[Any] | None]],
        checks: Sequence[int] = (),
        keep: int = 1,
    ) -> list[list[tuple[Any, ...]]]:
        """Send ``statements`` as one query string (one round trip).

        Returns the rows of the last ``keep`` statements.

        Parameters are bound on the client (psycopg's ClientCursor quotes them), so
        several statements travel together: a write costs one to three round trips, not
        one per statement. ``checks`` are statements that must change one row.

        A writer whose transaction the server aborted sends nothing more, and the
        failure that aborted it is kept, to be named (see ``Dooming``).
        """
        if self._writer:
            self._still_open()
        try:
            return self._send_now(statements, checks, keep)
        except self._store._pg.Error as error:
            if self._writer:
                self._note(error)
            raise

    def _transaction_failed(self) -> bool:
        return self._begun and self._conn.pgconn.transaction_status in (_IN_ERROR, _LOST)

    def _send_now(
        self,
        statements: Sequence[tuple[str, Sequence[Any] | None]],
        checks: Sequence[int],
        keep: int,
    ) -> list[list[tuple[Any, ...]]]:
        cur = self._cur
        n = len(statements)
        if n == 1:
            query, params = statements[0]
            cur.execute(query, params or None)
            return [_fetch(cur)]
        args: list[Any] = []
        for _, params in statements:
            if params:
                args.extend(params)
        if args:
            # Statements written out in full must not look like placeholders.
            sql = "; ".join([q if p else q.replace("%", "%%") for q, p in statements])
        else:
            sql = "; ".join([q for q, _ in statements])
        cur.execute(sql, args or None)
        out = []
        for i in range(n):
            if i in checks and cur.rowcount != 1:
                raise WriteConflict(
                    "a hold was settled by another writer meanwhile; run the write again"
                )
            if i >= n - keep:
                out.append(_fetch(cur))
            if i < n - 1:
                cur.nextset()
        return out

    def _execute(
        self, name: str, arrays: Iterable[Sequence[Any]]
    ) -> tuple[str, Sequence[Any] | None]:
        """``EXECUTE name(...)`` of a prepared statement, its array arguments written here.

        The hot path of every write: psycopg's generic adaptation costs more than the
        rest of a post, so the array literals are built directly. Elements are ints,
        bools, None or strings; each string is double-quoted and escaped for the array
        syntax, and a literal holding a string is escaped whole by libpq
        (PQescapeLiteral; the others hold nothing that needs it).
        """
        escape = self._escape
        args = []
        for values in arrays:
            if not values:  # most of gl_link's arrays, for a plain post
                args.append("'{}'")
                continue
            parts = []
            plain = True  # digits, signs, commas and NULL need no escaping
            for v in values:
                if v is None:
                    parts.append("NULL")
                elif type(v) is int:
                    parts.append(str(v))
                elif type(v) is str or isinstance(v, str):
                    if type(v) is not str:
                        v = str.__str__(v)  # a subclass of str (a caller's key type): its text
                    plain = False
                    parts.append('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"')
                elif type(v) is bool:
                    parts.append("t" if v else "f")
                else:  # pragma: no cover - the store only sends ints, bools, None and strings
                    raise TypeError(f"cannot send {v!r} in an array")
            text = "{" + ",".join(parts) + "}"
            if not plain and "\x00" in text:
                # libpq would cut the query string there: refuse it whole, sending nothing.
                bad = next(v for v in values if _nul(v))
                raise InvalidArgument(
                    f"{shown(bad)} holds a NUL character, which PostgreSQL text cannot hold"
                )
            args.append(f"'{text}'" if plain else escape(text.encode()).decode())
        return f"EXECUTE {name}({', '.join(args)})", None

    def _read_statement(self, kind: str, what: Any) -> tuple[str, Sequence[Any] | None]:
        """The query of a read (asked for ahead, or now): a key's record (or its
        carrier), or a page of an account's history (``what``: the account, after which
        entry, how many rows)."""
        if kind == "key":
            return self._execute("gl_key", ([what],))
        if kind == "history":
            return self._execute("gl_history", tuple([part] for part in what))
        # The entries of the pages ``what`` (each once), or their postings.
        statement = "gl_page_entries" if kind == "entries" else "gl_page_postings"
        return self._execute(statement, tuple(list(part) for part in zip(*what, strict=True)))

    def _writes(self, out: list[tuple[str, Sequence[Any] | None]]) -> list[int]:
        """Append the buffered writes to ``out``; return the positions that must hit a row."""
        checks = []
        if self._new_accounts:
            out.append(
                (
                    "INSERT INTO gl_accounts (name, unit, normal, min_balance, closed, trading, "
                    "metadata) SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], "
                    "%s::bigint[], %s::boolean[], %s::boolean[], %s::json[])",
                    [list(c) for c in zip(*self._new_accounts, strict=True)],
                )
            )
            self._new_accounts = []
        if self._tx_rows:
            out.append(self._execute("gl_insert_transactions", zip(*self._tx_rows, strict=True)))
            self._tx_rows = []
        if self._postings[0]:
            out.append(self._execute("gl_insert_postings", self._postings))
            self._postings = ([], [], [], [], [], [], [])
        for stmt, args, must_hit in self._hold_ops:
            if must_hit:
                checks.append(len(out))
            out.append((stmt, args))
        self._hold_ops = []
        if self._deltas:
            names = list(self._deltas)
            values = list(self._deltas.values())
            arrays = (
                names,
                [v[0] for v in values],
                [v[1] for v in values],
                [v[2] for v in values],
            )
            out.append(self._execute("gl_update_totals", arrays))
            out.append(self._execute("gl_update_slots", arrays))
            self._deltas = {}
        if self._expiry_names:
            out.append(
                (
                    "UPDATE gl_accounts a SET next_expiry = (SELECT min(h.expires_at) "
                    "FROM gl_holds h WHERE h.status = 'pending' "
                    "AND (h.debit = a.name OR h.credit = a.name)) "
                    "WHERE a.name = ANY(%s::text[])",
                    (sorted(self._expiry_names),),
                )
            )
            self._expiry_names = set()
        if self._totals:
            units = sorted(self._totals)
            out.append(
                self._execute(
                    "gl_add_unit_totals",
                    (
                        units,
                        [self._totals[u][0] for u in units],
                        [self._totals[u][1] for u in units],
                    ),
                )
            )
            self._totals = {}
        if self._keys:
            out.append(
                (
                    "INSERT INTO gl_keys (key, fingerprint, transaction_id, result, error_type, "
                    "error_message) SELECT * FROM unnest(%s::text[], %s::text[], %s::bigint[], "
                    "%s::text[], %s::text[], %s::text[])",
                    [list(c) for c in zip(*self._keys, strict=True)],
                )
            )
            self._keys = []
        if self._closes:
            out.append(
                (
                    "UPDATE gl_accounts SET closed = true WHERE name = ANY(%s::text[])",
                    (self._closes,),
                )
            )
            self._closes = []
        self._dirty = False
        self._wrote = True
        self._stale.clear()
        return checks

    def _commit(self) -> None:
        if self._rollback_first and not self._dirty:  # a replay read nothing more
            self._rollback_first = False
            self._end()
            return
        if not self._begun and not self._dirty:
            return
        statements: list[tuple[str, Sequence[Any] | None]] = []
        if not self._begun:
            statements.append((self._begin_sql(), None))
        link = self._link() if self._linked else None
        checks = self._writes(statements) if self._dirty else []
        if link is not None:
            # gl_link applies the balance changes (the rows of accounts with a floor,
            # and its own slots, before the head), links, and the commit follows in
            # this one round trip: the head is held for the server's head step and
            # COMMIT alone.
            # gl_link makes the commit asynchronous when it had to wait for the
            # head (others are at it), and gl_flush then waits for the flush in an
            # empty transaction, as below; a lone writer commits plainly.
            # Keys the write did not look up are locked first (the one lock order: keys,
            # accounts, head), so a writer that looks one up meanwhile waits for this
            # commit and replays it rather than deciding on what it read before.
            for key in sorted(self._blind_keys):
                statements.append((_KEY_LOCK, (_LOCK_KEY, key)))
            late = self._late_rows()
            if late:
                # Rows with a floor this write posts to and did not lock first (a gift:
                # deferred revenue): taken now, after rows later in the name order. Another
                # gift holds one for server microseconds; a write holding one while it
                # waits for a row of this one (a purchase for the same viewer) would be a
                # deadlock: waiting a short while only, this write then runs again, taking
                # its locks in order with the head, before the server looks for one.
                statements.append((f"SET LOCAL lock_timeout = '{_LATE_WAIT}'", None))
                statements.append(self._execute("gl_lock", (late,)))
                statements.append(("SET LOCAL lock_timeout TO DEFAULT", None))
            at = len(statements)
            statements.append(link)
            statements += _COMMIT_LINKED
            self._begun = False
            try:
                rows = self._send(statements, checks, keep=len(statements) - at)[0]
            except self._store._pg.Error as error:
                state = getattr(error, "sqlstate", None)
                if state in ("55P03", "40P01", "57014") and late:
                    # Past the short wait, or a deadlock the server found first (its
                    # deadlock_timeout under _LATE_WAIT): not the same race again. (A lock
                    # timeout that fires as the lock is granted is reported as a cancel
                    # "due to user request", 57014: the server's timeout flag was reset
                    # first. An operator's cancel in that wait runs the write again too.)
                    raise self._undefer(
                        f"an account this write posts to is locked by another; it runs "
                        f"again, taking its locks in order: {error}"
                    ) from error
                if state == _DATED_PAST:
                    raise self._undefer(
                        f"this write would be dated past what it was priced before; it runs "
                        f"again, reading its time under the head: {error}"
                    ) from error
                checked = self._blind or self._exact is not None
                if state == _RUN_AGAIN or (checked and state in ("22003", "23505")):
                    # Refused by gl_link for the ledger to decide: run the write
                    # again, reading its accounts first.
                    raise self._unblind(f"the write runs again: {error}") from error
                raise
            self._relink(rows[0])
            return
        if self._head is None or not self._wrote or not self._contended:
            statements.append(("COMMIT", None))
        else:
            # Early lock release, when other writers wait for the chain's head:
            # each appending write holds the head until it commits, so waiting for
            # the WAL flush under that lock would serialise every writer's flush.
            # Commit without waiting (the head is released at once), then wait
            # for the flush in a second, empty transaction with the server's own
            # synchronous_commit: its commit record follows ours in the WAL, so
            # when it is durable ours is too, and the flushes of concurrent
            # writers are grouped. Nothing is acknowledged before that, and a
            # crash can lose only an unacknowledged suffix of the chain, never an
            # entry in the middle. A lone writer commits plainly: one flush.
            statements += _COMMIT_EARLY_RELEASE
        self._begun = False
        self._send(statements, checks)

    def _link(self) -> tuple[str, Sequence[Any] | None]:
        """The ``gl_link`` call of the entries this write numbered provisionally, with
        the keys they carry (the rest of the buffered writes go as usual)."""
        first = self._first
        assert first is not None
        keys: list[tuple[Any, ...]] = []
        rest: list[tuple[Any, ...]] = []
        for k in self._keys:
            (keys if k[4] is None and k[5] is None else rest).append(k)
        self._keys = rest
        # The unrestricted accounts the entries post to (and those with a floor read
        # without a lock: a gift's), with the net the client expects after this write:
        # gl_link corrects their running balances by what it reads under the head.
        names = sorted(set(self._link_postings[2]))
        base_names: list[str] = []
        base_nets: list[int] = []
        trading: list[str] = []  # the accounts it knows as trading accounts (schema 5)
        for name in names:
            st = self._locked.get(name)
            if st is None:
                raise self._undefer(f"account {name!r} was not read by this write; run it again")
            rule = st.account
            if self._blind or not _row_locked(rule) or name in self._unlocked:
                base_names.append(name)
                base_nets.append(st.net)
            if rule.trading:
                trading.append(name)
        # Each entry's content text, cut around its times (a formula 3 keyed entry's
        # text starts with its key's record, remembered by now).
        rows = []
        for tx in self._linked:
            record = None if tx.key is None else self._remembered.get(tx.key)
            parts = link_parts(tx, *(() if record is None else (record.fingerprint, record.result)))
            if parts is None:
                raise self._undefer(f"entry {tx.id} cannot be linked by the server; run it again")
            before, after, follows = parts
            follows = follows and not self._effective_given
            self._follows.append(follows)
            # Its columns but the id and the hashes, the server's to give.
            row = _tx_row(tx)
            rows.append((*row[1:11], before, after, follows, row[13]))
        columns: list[Sequence[Any]] = [[first]]
        columns += [list(c) for c in zip(*rows, strict=True)]
        columns += list(self._link_postings)
        columns += [base_names, base_nets]
        columns += [[k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys]]
        columns.append([k[3] for k in keys])
        # The balance changes go with it (in name order: the rows locked first).
        floored: tuple[list[Any], ...] = ([], [], [], [])
        slotted: tuple[list[Any], ...] = ([], [], [], [])
        for name in sorted(self._deltas):
            st = self._locked.get(name)
            if st is None:
                continue  # not read by this write: sent as usual
            dnet, dpd, dpc = self._deltas.pop(name)
            account = st.account
            out = floored if _row_locked(account) else slotted
            for column, value in zip(out, (name, dnet, dpd, dpc), strict=True):
                column.append(value)
        columns += [*floored, *slotted]
        units = sorted(self._totals)
        totals = self._totals
        columns += [units, [totals[u][0] for u in units], [totals[u][1] for u in units]]
        # Blind, or reading some accounts only: gl_link checks the rows with a floor.
        columns += [[self._blind or self._exact is not None], trading, [self._before]]
        self._totals = {}
        return self._execute("gl_link", columns)

    def _late_rows(self) -> list[str]:
        """The accounts with a floor this write posts to and read without a lock (see
        ``_open``), in name order."""
        unlocked = self._unlocked
        if not unlocked:
            return []
        locked = self._locked
        out = []
        for name in sorted(unlocked.intersection(self._link_postings[2])):
            st = locked.get(name)
            if st is not None and _row_locked(st.account):
                out.append(name)
        return out

    def _relink(self, row: Sequence[Any]) -> None:
        """Give the entries linked at commit their ids and hashes, as the server did."""
        shift, prev, hashes, times = row
        for tx, digest, at, follows in zip(self._linked, hashes, times, self._follows, strict=True):
            set_ = object.__setattr__
            set_(tx, "id", tx.id + shift)
            set_(tx, "prev_hash", prev)
            set_(tx, "hash", digest)
            if at != micros(tx.recorded_at):  # moved forward to the head's time
                when = _from_micros(at)
                if follows:
                    set_(tx, "effective_at", when)
                set_(tx, "recorded_at", when)
            prev = digest
        self._store._next_id = self._linked[-1].id + 1

    def _seen(self, row: Sequence[Any]) -> AccountState:
        """The state in ``row``, read by this session: a reader's snapshot may be older
        than a close; a writer reads what is committed, and its own changes, which the
        store learns only once they are (``_learn``)."""
        if not self._writer:
            return self._store._state(row, False)
        mine = any(account.name == row[0] for account in self._learned)
        return self._store._state(row, None if mine else True)

    def _learn(self) -> None:
        """After the commit: the store knows the accounts this write opened or closed."""
        if self._learned:
            know = self._store._know
            for account in self._learned:
                know(account)
            self._learned = []

    def _unblind(self, message: str) -> WriteConflict:
        """The conflict that runs a write linking at commit again, reading its accounts
        first: the next ``defer_link`` in this thread does not link blind."""
        self._store._local.no_blind = True
        conflict = WriteConflict(message)
        conflict.at_once = True  # type: ignore[attr-defined]  # no race lost: no wait
        return conflict

    def _undefer(self, message: str) -> WriteConflict:
        """The conflict that runs a write linking at commit again, holding the head: the
        next ``defer_link`` in this thread is ignored."""
        self._store._local.no_defer = True
        return WriteConflict(message)

    def need_head(self) -> WriteConflict | None:
        """For a write linking at commit whose time must not move (see the Store
        protocol): the retryable conflict that runs it again holding the head, its time
        read under it; None if it does not link at commit (it holds the head, or will
        before it reads anything), or has already buffered an entry to link."""
        if not self._defer or self._linked:
            return None
        return self._undefer("this write must be dated as it reads its time; it runs again")

    def link_before(self, when: datetime) -> None:
        """For a write linking at commit whose entry must be dated before ``when`` (see
        the Store protocol): ``gl_link`` refuses to date it at or after ``when`` (a
        writer whose clock runs ahead committed meanwhile), and it runs again holding
        the head."""
        if self._defer:
            at = micros(when)
            self._before = at if self._before is None else min(self._before, at)

    @property
    def joined(self) -> bool:
        """Whether a write joined this one (see the Store protocol): what it reads
        may be that write's, which other threads do not see until this one ends."""
        return self._joined

    def defer_link(
        self, effective_given: bool = False, reads: Collection[str] | None = None
    ) -> None:
        """Link this write's entries at commit, in the server (``gl_link``).

        The ledger calls this for a write that needs nothing from the chain
        before it commits (``Ledger.post`` without a guard): its entries are then
        numbered from the head read without its lock, and the head is locked only
        by ``gl_link``, in the commit's round trip, which renumbers them if the
        head moved and links them after it; the returned entries get their real
        ids and hashes after the commit. Ignored inside another write (its caller
        may use the ids before the commit), once the head is held, and for the
        attempt after one that lost the head to a writer whose clock read later
        (it holds the head while it reads the time).

        When the store knows the write's accounts (``known_account``), the write
        goes in one round trip ("blind"): nothing is read before the commit, which
        checks what the ledger would have (see ``gl_link``); an attempt ``gl_link``
        refused runs again reading its accounts (the thread's ``no_blind``).

        Args:
            effective_given: the caller gave the entry's ``effective_at``: it stays
                if the server moves ``recorded_at`` up (else it moves with it).
            reads: the accounts whose states the write uses (a gift's wallet and
                Diamonds), or None (a post: it may go blind). Given, the write links
                at commit only while other writers were seen at the chain's head in
                the last second (a write of this store that took the head found
                others waiting: ``_crowded_until``); alone, it takes the head with
                its accounts, which costs less. Linking at commit, it reads
                its accounts first, and locks only these (those with a floor); the
                others it posts to are read without a lock, their rows locked as it
                commits (waiting a short while only: see ``_commit``) and their
                rules checked by ``gl_link``. After a refusal (``no_blind``), it
                locks them all first.
        """
        local = self._store._local
        # A rerun's request to read first is this write's, whether it links at
        # commit or not: it never outlives it.
        blind = not getattr(local, "no_blind", False)
        local.no_blind = False
        if getattr(local, "no_defer", False) and self._writer and self._nested == 0:
            local.no_defer = False  # (a write joined to another leaves it for its own)
            self._held = True
            return
        if reads is not None and time.monotonic() >= self._store._crowded_until:
            return  # no other writer seen at the head lately: hold it, as alone it is cheaper
        if (
            self._writer
            and self._nested == 0
            and self._head is None
            and not self._wrote
            and not self._tx_rows
        ):
            self._defer = True
            self._effective_given = effective_given
            self._blind = blind and reads is None
            if reads is not None and blind:
                self._exact = frozenset(reads)

    @property
    def checks_at_commit(self) -> bool:
        """Whether the balance rules of this write's accounts are checked by the server
        at commit (a post in one round trip: the ledger read no totals to check)."""
        return self._blind or self._exact is not None

    def _end(self) -> None:
        """Roll back a writer (or end a reader's snapshot)."""
        if self._begun:
            self._begun = False
            # Lost, nothing to roll back; still running a command (a wait cut short),
            # the connection takes no ROLLBACK: the store cancels and closes it as it
            # takes it back (_close_busy), and the server rolls the transaction back.
            if self._conn.pgconn.transaction_status not in (_ACTIVE, _LOST):
                self._conn.execute("ROLLBACK")

    def _abandon(self) -> None:
        """After an error: roll back if the connection still works (one still running a
        command is left to the store, which cancels and closes it: see _end)."""
        self._begun = False
        conn = self._conn
        if conn.closed or conn.broken:
            return
        try:
            if conn.info.transaction_status not in (0, _ACTIVE):
                conn.execute("ROLLBACK")
        except Exception:
            conn.close()

    # -- reads ---------------------------------------------------------------------------

    def head(self) -> tuple[int, str]:
        if self._head is not None:
            return self._head
        if not self._writer:
            rows = self._rows(_HEAD_SELECT)
            return (rows[0][0], rows[0][1]) if rows else (0, GENESIS_HASH)
        self._rows("SELECT 1", head=True)
        assert self._head is not None
        return self._head

    def head_time(self) -> datetime | None:
        # A writer reads the head's time with the head itself, under the head's lock
        # (usually in the round trip that locks the accounts): no extra round trip.
        if self._head is not None:
            return self._head_time
        if not self._writer:
            rows = self._rows(_HEAD_SELECT)
            return _from_micros(rows[0][2]) if rows else None
        self._rows("SELECT 1", head=True)
        return self._head_time

    def first_id_at(self, at: datetime) -> int:
        """The id of the first entry recorded at or after ``at`` (the head's id + 1 if
        none): the binary search of ``giftledger._economy.index.first_id_at`` (``recorded_at``
        never goes backwards), run by the server in one round trip, not one per probe."""
        micros = _to_micros(at)
        rows = self._rows(_FIRST_ID_AT, (micros, micros))
        return int(rows[0][0])

    def account_state(self, name: str) -> AccountState | None:
        if _nul(name):
            return None  # no account's name holds one (PostgreSQL text cannot)
        if self._head is not None:
            # Holding the head: the state of an account this write locked is its own
            # (read after the head, kept up to date as it appends). Linking at commit
            # (reading first), so is that of an account with a floor, whose row
            # gl_open locked: no other write changes it until this one ends.
            st = self._locked.get(name)
            if (
                st is not None
                and name not in self._stale
                and (
                    not self._defer
                    or (not self._blind and name not in self._unlocked and _row_locked(st.account))
                )
            ):
                return st
        rows = self._rows(
            f"SELECT {_ACCOUNT_COLUMNS} FROM gl_account_states WHERE name = %s", (name,)
        )
        return self._seen(rows[0]) if rows else None

    def account_states(self, prefix: str = "") -> list[AccountState]:
        if _nul(prefix):
            return []  # no account's name holds one (PostgreSQL text cannot)
        if prefix:
            pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            rows = self._rows(
                f"SELECT {_ACCOUNT_COLUMNS} FROM gl_account_states WHERE name LIKE %s "
                f"ORDER BY name",
                (pattern,),
            )
        else:
            rows = self._rows(f"SELECT {_ACCOUNT_COLUMNS} FROM gl_account_states ORDER BY name")
        return [self._seen(row) for row in rows]

    def _entries(self, start: int, stop: int) -> list[Transaction]:
        """The entries ``start`` to ``stop - 1`` there are, with their postings: one
        round trip (the postings' query runs right after the entries' one)."""
        return self._entries_where("{} >= %s AND {} < %s", (start, stop))

    def _entries_where(self, where: str, params: Sequence[Any]) -> list[Transaction]:
        """The entries whose id meets ``where`` (``{}`` for the id column), in id order,
        with their postings: both queries in one round trip."""
        return self._with_entries(None, where, params)[1]

    def _with_entries(
        self, first: tuple[str, Sequence[Any]] | None, where: str, params: Sequence[Any]
    ) -> tuple[list[tuple[Any, ...]], list[Transaction]]:
        """The rows of the query ``first`` (none without it), then the entries whose id
        meets ``where`` (``{}`` for the id column), in id order, with their postings:
        every query in one round trip."""
        try:
            return self._ask_entries(first, where, params)
        except BaseException as exc:
            self._cut_short(exc)
            raise

    def _ask_entries(
        self, first: tuple[str, Sequence[Any]] | None, where: str, params: Sequence[Any]
    ) -> tuple[list[tuple[Any, ...]], list[Transaction]]:
        """``_with_entries``, which cuts a writer's failed round trip short."""
        before, checks = self._opening(True)
        lead = [] if first is None else [first]
        *answer, rows, posting_rows = self._send(
            [
                *before,
                *lead,
                (
                    f"SELECT {_TX_COLUMNS} FROM {_TX_FROM} WHERE {where.format('t.id', 't.id')} "
                    f"ORDER BY t.id",
                    params,
                ),
                (
                    f"SELECT {_POSTING_COLUMNS} FROM gl_postings "
                    f"WHERE {where.format('tx_id', 'tx_id')} ORDER BY tx_id, idx",
                    params,
                ),
            ],
            checks,
            keep=2 + len(lead),
        )
        return (answer[0] if answer else []), _entries_of(rows, posting_rows)

    def transactions_of(self, ids: Iterable[int]) -> list[Transaction]:
        """The entries with these ids there are, in id order: one round trip per
        thousand ids, where ``transaction()`` takes one each."""
        wanted = sorted(
            {i for i in ids if type(i) is int and 0 < i < 1 << 63}  # no bool, none past 64 bits
        )
        out: list[Transaction] = []
        known = self._ahead_entries  # read ahead with a first history page
        if known:
            out = [known[i] for i in wanted if i in known]
            wanted = [i for i in wanted if i not in known]
        for at in range(0, len(wanted), _PAGE):
            out += self._entries_where("{} = ANY(%s::bigint[])", (wanted[at : at + _PAGE],))
        if known and wanted:
            out.sort(key=lambda tx: tx.id)
        return out

    def transaction(self, id: int) -> Transaction | None:
        if isinstance(id, bool) or not isinstance(id, int) or not 0 < id < 1 << 63:
            return None
        found = self._entries(id, id + 1)
        return found[0] if found else None

    def transactions(self, start: int = 1, stop: int | None = None) -> Iterator[Transaction]:
        start = max(start, 1)
        # Never page past the head: stop may be far beyond the journal's end.
        last = self.head()[0] + 1
        end = last if stop is None else min(stop, last)
        while start < end:
            upto = min(start + _PAGE, end)
            yield from self._entries(start, upto)
            start = upto

    def hold(self, id: int) -> Hold | None:
        if isinstance(id, bool) or not isinstance(id, int) or not 0 < id < 1 << 63:
            return None
        # A writer locks the hold it may settle, before its accounts (after the head:
        # without waiting).
        lock = ""
        if self._writer:
            lock = " FOR UPDATE"
            if self._head is not None:
                lock = " FOR UPDATE NOWAIT"
                self._late_holds.add(id)
        rows = self._rows(f"SELECT {_HOLD_COLUMNS} FROM gl_holds WHERE id = %s{lock}", (id,))
        return _hold(rows[0], "gl_holds") if rows else None

    def holds(self, account: str | None = None, pending_only: bool = True) -> list[Hold]:
        if _nul(account):
            return []
        return self._holds(account, pending_only, None)

    def holds_from(self, account: str, first_id: int) -> list[Hold]:
        """The holds touching ``account`` placed by entry ``first_id`` or later, by id,
        whatever their status: a range of the holds' index by account and id.
        A name that is not a string, or an id past 64 bits, has none."""
        start = holds_start(account, first_id)
        return [] if start is None or _nul(account) else self._holds(account, False, start)

    def _holds(self, account: str | None, pending_only: bool, first_id: int | None) -> list[Hold]:
        where = []
        params: list[Any] = []
        if pending_only:
            where.append("status = 'pending'")
        if first_id is not None:
            where.append("id >= %s")
            params.append(first_id)
        if account is not None:
            where.append("(debit = %s OR credit = %s)")
            params += [account, account]
        sql = f"SELECT {_HOLD_COLUMNS} FROM gl_holds"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id"
        if self._writer and account is None and pending_only:
            # expire_holds(): lock the holds it will settle, in id order, first.
            sql += " FOR UPDATE" if self._head is None else " FOR UPDATE NOWAIT"
        return [_hold(row, "gl_holds") for row in self._rows(sql, params)]

    def idempotency_records(self) -> Iterator[IdempotencyRecord]:
        sql = f"SELECT {_KEY_COLUMNS} FROM gl_keys ORDER BY key"
        for row in self._rows(sql):
            yield IdempotencyRecord(*row)

    def idempotency(self, key: str) -> IdempotencyRecord | None:
        sql = f"SELECT {_KEY_COLUMNS} FROM gl_keys WHERE key = %s"
        if not self._writer:
            if _nul(key):
                return None
            rows = self._rows(sql, (key,))
            return IdempotencyRecord(*rows[0]) if rows else None
        record = self._remembered.get(key)
        if record is not None:
            return record
        row = self._ahead_keys.pop(key, None)
        if row is not None:
            return self._key_answer(key, row)
        if self._blind and self._first is None:
            # A post in one round trip: gl_link refuses it (GLRUN) if the key has a
            # record or an entry carries it, and the unique key refuses a concurrent
            # one; the write then runs again looking the key up here, and replays.
            self._blind_keys.add(key)
            return None
        # One request per key at a time: a concurrent one waits here, then sees the
        # first one's record and replays it. Buffered rows hold other keys only.
        if self._head is None and self._lock_ahead:
            # The accounts this write locks next (read_ahead): with the key, in the
            # one lock order (key, accounts, head) and one round trip; the key is
            # read after the head (a replay then releases them: see _release).
            self._ahead.insert(0, ("key", key))
            self._lock(self._lock_ahead, lead=((_KEY_LOCK, (_LOCK_KEY, key)),))
            record = self._key_answer(key, self._ahead_keys.pop(key))
            if record is not None:
                self._release()
            return record
        if self._head is None:
            lock = ((_KEY_LOCK, (_LOCK_KEY, key)),)
        else:  # out of the lock order: do not wait
            self._late_keys.add(key)
            lock = ((_KEY_TRY_LOCK, (_LOCK_KEY, key)),)
        # With no record of the key, the same query finds the entry that carries it
        # (an index probe): the write path asks keyed_entry() next, in no round trip.
        rows = self._rows(*self._read_statement("key", key), before=lock, flush=False)
        return self._key_answer(key, rows[0])

    def records_from(
        self, prefix: str, seq: int = 0
    ) -> list[tuple[IdempotencyRecord, Transaction]] | None:
        """The records under keys ``<prefix><seq>``, ``<prefix><seq + 1>`` …, each with
        its entry, up to the first key not taken (or taken by a failure, or naming no
        entry): the records of sixteen keys at a time and their entries with their
        postings, in one round trip (key by key, a record takes two). None in a writer,
        which locks each key it reads (see ``idempotency``): it is asked key by key."""
        if self._writer:
            return None
        if _nul(prefix):
            return []
        out: list[tuple[IdempotencyRecord, Transaction]] = []
        while True:
            keys = [f"{prefix}{n}" for n in range(seq, seq + _RECORDS_AT_ONCE)]
            key_rows, found = self._with_entries(
                (f"SELECT {_KEY_COLUMNS} FROM gl_keys WHERE key = ANY(%s::text[])", (keys,)),
                "{} IN (SELECT transaction_id FROM gl_keys WHERE key = ANY(%s::text[]))",
                (keys,),
            )
            records = {row[0]: IdempotencyRecord(*row) for row in key_rows}
            entries = {tx.id: tx for tx in found}
            if not take_records(keys, records.get, entries.get, out):
                return out
            seq += _RECORDS_AT_ONCE

    def _release(self) -> None:
        """The key has a record: the write replays it and writes nothing, so the locks
        it took with the key (its accounts, the chain's head) are released by a ROLLBACK
        sent first in its next round trip (reading its entry), not held until it ends.
        Not inside another write, nor once this one has written anything."""
        if self._nested or self._dirty or self._wrote or self._tx_rows or self._linked:
            return
        self._rollback_first = True
        self._head = None
        self._head_time = None
        self._contended = False
        self._locked.clear()
        self._absent.clear()
        self._ahead_keys.clear()
        self._ahead_history.clear()
        self._ahead_entries.clear()

    def _key_answer(self, key: str, row: tuple[Any, ...]) -> IdempotencyRecord | None:
        """The record in a row of ``gl_key``; with none, the entry that carries the key
        (or None) is kept for ``keyed_entry``."""
        if row[0] is None:
            self._carriers[key] = row[6]
            return None
        return IdempotencyRecord(*row[:6])

    def keyed_entry(self, key: str) -> int | None:
        if key in self._blind_keys:
            return None  # checked by gl_link (see idempotency)
        if key in self._carriers:
            return self._carriers.pop(key)
        if _nul(key):
            return None
        rows = self._rows("SELECT min(id) FROM gl_transactions WHERE key = %s", (key,), flush=False)
        return rows[0][0]  # type: ignore[no-any-return]

    def history(self, name: str, after: int | None, limit: int) -> list[PostingRow]:
        if _nul(name):
            return []
        what = (name, 0 if after is None else after, limit)
        if self._ahead_history:
            rows = self._ahead_history.pop(what, None)
            if rows is not None:
                return rows
        return _posting_rows(self._rows(*self._read_statement("history", what)))

    def read_ahead(
        self,
        lock: Sequence[str] = (),
        keys: Sequence[str] = (),
        histories: Sequence[tuple[str, int | None, int]] = (),
    ) -> None:
        """Ask for what this write will lock and read once it holds the chain's head:
        the accounts ``lock`` (``lock_accounts``), the records of ``keys``
        (``idempotency``: keys it checks, not keys it claims) and the
        ``history(name, after, limit)`` of accounts. The accounts are locked with the
        write's key, if it looks one up next, and the reads go in the round trip that
        takes the head, after it, so their answers are exact until the write commits;
        each answers its first call, and a write that appends first forgets them. A
        first page (``after`` 0) comes with its entries, which ``transactions_of``
        answers from until the write appends (an entry it writes may reverse one).
        Ignored unless the head is still to take.
        """
        if not self._writer or self._blind or self._head is not None:
            return
        self._lock_ahead = sorted(set(lock))
        self._ahead = [("key", k) for k in keys]
        pages = [(n, 0 if a is None else a, limit) for n, a, limit in histories]
        self._ahead += [("history", what) for what in pages]
        first = tuple(what for what in pages if what[1] == 0)
        if first:
            # First pages (an account new to the caller, whose entries it reads next: a
            # viewer's lots, a creator's carries): their entries too, each once, saving
            # that round trip.
            self._ahead += [("entries", first), ("entry postings", first)]

    def net_at(self, name: str, effective_at: datetime | None, through_id: int | None) -> int:
        if _nul(name):
            return 0
        rows = self._rows(
            "SELECT coalesce(sum(CASE p.side WHEN 'debit' THEN p.minor ELSE -p.minor END), 0)"
            "::bigint FROM gl_postings p JOIN gl_transactions t ON t.id = p.tx_id "
            "WHERE p.account = %s AND p.net_after IS NOT NULL "
            "AND (%s::bigint IS NULL OR t.effective_at <= %s::bigint) "
            "AND (%s::bigint IS NULL OR p.tx_id <= %s::bigint)",
            (name, *([_to_micros(effective_at)] * 2), *([through_id] * 2)),
        )
        return int(rows[0][0])

    def totals(self) -> tuple[dict[str, int], dict[str, int]]:
        # Summed over the slots as numeric, sent as text: exact past 2^63.
        rows = self._rows(
            "SELECT unit, sum(debits)::text, sum(credits)::text FROM gl_totals "
            "GROUP BY unit ORDER BY unit"
        )
        pairs = {u: totals_of(u, d, c, "gl_totals") for u, d, c in rows}
        return {u: d for u, (d, _) in pairs.items()}, {u: c for u, (_, c) in pairs.items()}

    def check_derived(self) -> None:
        """Check each posted posting's stored ``net_after`` against its account's
        running sum, and that no totals row belongs to no account and no posting to
        no entry (``verify()`` calls it).

        Raises:
            ChainBroken: names the first entry whose ``net_after`` is off, the
                account of a totals row the journal never opened, or the entry of
                a posting beyond the journal.
        """
        # Rows of no account and of no entry: summed into an account's totals once it
        # is opened, or read as its history and taken into the next write's entry
        # (the journal reads postings by entry id up to its head only).
        rows = self._rows(
            "SELECT b.account, b.slot, b.net, b.pending_debits, b.pending_credits "
            "FROM gl_balances b WHERE NOT EXISTS "
            "(SELECT FROM gl_accounts a WHERE a.name = b.account) "
            "ORDER BY b.account, b.slot LIMIT 1"
        )
        if rows:
            account, slot, net, pd, pc = rows[0]
            raise ChainBroken(
                f"the store holds totals of account {account!r} (slot {slot}: net {net}, "
                f"pending {pd}/{pc}), which the journal never opened",
                None,
            )
        rows = self._rows(
            "SELECT tx_id, idx, account FROM ("
            "(SELECT tx_id, idx, account FROM gl_postings WHERE tx_id > "
            "(SELECT coalesce(max(id), 0) FROM gl_transactions) ORDER BY tx_id, idx LIMIT 1) "
            "UNION ALL (SELECT tx_id, idx, account FROM gl_postings WHERE tx_id < 1 "
            "ORDER BY tx_id, idx LIMIT 1)) p ORDER BY tx_id, idx LIMIT 1"
        )
        if rows:
            tx_id, idx, account = rows[0]
            raise ChainBroken(
                f"the store holds posting {idx} of transaction {tx_id} (to {account!r}), "
                f"but the journal has no such entry",
                tx_id,
            )
        rows = self._rows(
            "SELECT tx_id, account FROM (SELECT tx_id, idx, account, net_after, "
            "sum(CASE side WHEN 'debit' THEN minor ELSE -minor END) OVER "
            "(PARTITION BY account ORDER BY tx_id, idx) AS running FROM gl_postings "
            "WHERE net_after IS NOT NULL) p WHERE net_after <> running ORDER BY tx_id LIMIT 1"
        )
        if rows:
            tx_id, account = rows[0]
            raise ChainBroken(
                f"transaction {tx_id} stores a running balance of {account!r} that differs "
                f"from its journal",
                tx_id,
            )

    # -- writes --------------------------------------------------------------------------

    def lock_accounts(self, names: Iterable[str]) -> dict[str, AccountState]:
        # A name no store can hold, or not a string, is no account here (PostgreSQL could
        # not even be sent it): the ledger names it, as it does for a name the other
        # stores do not find.
        wanted = sorted({n for n in names if isinstance(n, str) and storable(n)})
        if not wanted:
            return {}
        locked = self._locked
        absent = self._absent
        todo = [n for n in wanted if n not in locked and n not in absent]
        if todo and self._blind:
            # One round trip: the records known from earlier writes stand for the
            # accounts, their totals taken as zero (gl_link locks, checks and
            # corrects); numbered from a guess at the head (gl_link renumbers).
            defs = self._store._defs
            known = [defs.get(n) for n in todo]
            if None not in known:
                for n, account in zip(todo, known, strict=True):
                    assert account is not None
                    locked[n] = AccountState(account)
                if self._first is None:
                    guess = self._store._next_id
                    self._head = (guess - 1, GENESIS_HASH)
                    self._first = guess
                return {n: locked[n] for n in wanted}
            if self._first is not None or self._blind_keys:
                raise self._unblind("this write needs its accounts read first; run it again")
            self._blind = False
        if todo:
            flush = not self._stale.isdisjoint(todo)
            if self._head is None and self._defer:
                rows = self._open(todo)
            elif self._head is None:
                self._lock(todo)
                return {n: locked[n] for n in wanted if n in locked}
            else:
                # Already holding the head: a row lock now is out of the order, so it
                # must not wait (NOWAIT; a taken row makes the write run again, with
                # these accounts locked before the head: see _late).
                self._late_names.update(todo)
                rows = self._rows(
                    *self._execute("gl_states", (todo,)),
                    before=(self._execute("gl_lock_nowait", (todo,)),),
                    flush=flush,
                )
            self._took(todo, rows)
        return {n: locked[n] for n in wanted if n in locked}

    def _lock(
        self,
        names: list[str],
        lead: Sequence[tuple[str, Sequence[Any] | None]] = (),
    ) -> None:
        """Lock ``names`` (in name order) and then the chain's head, and read them."""
        self._lock_ahead = []  # the head is taken now: nothing more goes before it
        if self._defer:
            self._took(names, self._open(names, lead))
            return
        # The one lock order: (key,) (holds,) the accounts with a floor in name
        # order, then the chain's head, in this round trip; then read the
        # states of all of them. Every balance changes only under the head, so
        # the totals of unlocked (unrestricted) accounts read after it are
        # exact until this write commits.
        rows = self._rows(
            *self._execute("gl_lock", (names,)),
            flush=not self._stale.isdisjoint(names),
            head=True,
            after=self._execute("gl_states", (names,)),
            lead=lead,
        )
        self._took(names, rows)

    def _open(
        self, names: list[str], lead: Sequence[tuple[str, Sequence[Any] | None]] = ()
    ) -> list[tuple[Any, ...]]:
        """Linking at commit: lock the accounts with a floor among ``names`` and read
        them all (``gl_open``), then the head without its lock (see ``_rows``); their
        rows. A write that uses the states of some accounts only (``_exact``) locks
        those, and reads the others without a lock: ``gl_link`` checks their rules,
        under the head, and corrects their running balances."""
        exact = self._exact
        locking = names if exact is None else [n for n in names if n in exact]
        other = [] if exact is None else [n for n in names if n not in exact]
        self._unlocked.update(other)
        return self._rows(
            *self._execute("gl_open", (locking,)),
            flush=not self._stale.isdisjoint(names),
            head=True,
            lead=lead,
            also=self._execute("gl_states", (other,)) if other else None,
        )

    def _took(self, names: list[str], rows: list[tuple[Any, ...]]) -> None:
        """Keep the states of the accounts just locked (``rows``; ``names``: all asked)."""
        locked = self._locked
        for row in rows:
            locked[row[0]] = self._seen(row)
        # A name not there is not being opened by another writer either: opening
        # an account reads it under the head too, which this writer holds (so it is
        # not looked for again in this write). Linking at commit, it stays missing
        # for this write all the same: the ledger opens an account only holding the
        # head (a quote that must runs again so: need_head), and one another writer
        # opens meanwhile is one this write comes before. Nor is it an account the
        # store may go on knowing (one restored away, or seen in a write that rolled
        # back).
        defs = self._store._defs
        for name in names:
            if name not in locked:
                defs.pop(name, None)
                self._absent.add(name)

    def add_account(self, account: Account) -> None:
        self._new_accounts.append(
            (
                account.name,
                account.unit,
                account.normal.value,
                account.rule.min_balance,
                account.closed,
                account.trading,
                _dump_meta(account.metadata),
            )
        )
        self._locked[account.name] = AccountState(account)
        self._absent.discard(account.name)  # found missing by this write, which opens it
        self._learned.append(account)
        self._dirty = True
        self._changes += 1

    def replace_account(self, account: Account) -> None:
        # The ledger replaces an account only to close it; the triggers refuse
        # any other change.
        if account.closed:
            self._closes.append(account.name)
            st = self._locked.get(account.name)
            if st is not None:
                st.account = account
            self._learned.append(account)
            self._dirty = True
            self._changes += 1

    def append(
        self,
        tx: Transaction,
        deltas: Mapping[str, tuple[int, int, int]],
        net_after: Sequence[int],
        hold: Hold | None = None,
    ) -> None:
        id = tx.id
        self._changes += 1
        if self._ahead_keys or self._ahead_history or self._ahead_entries:
            # Answers read before this entry (which may reverse one of the entries).
            self._ahead_keys.clear()
            self._ahead_history.clear()
            self._ahead_entries.clear()
        if self._first is None:
            self._tx_rows.append(_tx_row(tx))
            postings = self._postings
        else:
            self._link_row(tx, hold)
            postings = self._link_postings
        ids, idxs, accounts, sides, minors, units, nets = postings
        posted = tx.kind in _POSTED
        totals = self._totals
        for i, p in enumerate(tx.postings):
            ids.append(id)
            idxs.append(i)
            accounts.append(p.account)
            sides.append(p.side.value)
            minors.append(p.minor)
            units.append(p.unit)
            nets.append(net_after[i] if posted else None)
            if posted:
                t = totals.get(p.unit)
                if t is None:
                    t = totals[p.unit] = [0, 0]
                t[0 if p.side is _DEBIT else 1] += p.minor
        mine = self._deltas
        locked = self._locked
        for name, (dnet, dpd, dpc) in deltas.items():
            d = mine.get(name)
            if d is None:
                mine[name] = [dnet, dpd, dpc]
            else:
                d[0] += dnet
                d[1] += dpd
                d[2] += dpc
            st = locked.get(name)
            if st is None:
                self._stale.add(name)
            else:
                st.net += dnet
                st.pending_debits += dpd
                st.pending_credits += dpc
        if hold is not None:
            if hold.status is HoldStatus.PENDING:
                self._hold_ops.append(
                    (
                        f"INSERT INTO gl_holds ({_HOLD_COLUMNS}) "
                        f"VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                        (
                            hold.id,
                            hold.debit,
                            hold.credit,
                            hold.minor,
                            hold.unit,
                            _to_micros(hold.expires_at),
                            hold.status.value,
                            hold.posted_minor,
                            hold.resolved_by,
                        ),
                        False,
                    )
                )
            else:
                # Settle only a hold still pending: if another writer settled it
                # meanwhile, the write is run again and the ledger sees that.
                self._hold_ops.append(
                    (
                        "UPDATE gl_holds SET status = %s, posted_minor = %s, resolved_by = %s "
                        "WHERE id = %s AND status = 'pending'",
                        (hold.status.value, hold.posted_minor, hold.resolved_by, hold.id),
                        True,
                    )
                )
            if hold.expires_at is not None:
                # Their next expiry is recomputed in the database: read them again.
                for name in (hold.debit, hold.credit):
                    self._expiry_names.add(name)
                    self._stale.add(name)
                    locked.pop(name, None)
        self._head = (id, tx.hash)
        self._head_time = tx.recorded_at
        self._dirty = True

    def _link_row(self, tx: Transaction, hold: Hold | None) -> None:
        """Buffer ``tx`` for ``gl_link`` (its content text goes in place of its hash: see
        ``_link``)."""
        if hold is not None or tx.id < (self._first or 0):
            # Not a write gl_link can number: run it again, holding the head.
            raise self._undefer("this write needs the chain's head before it commits; run it again")
        self._linked.append(tx)

    def remember(self, record: IdempotencyRecord) -> None:
        self._changes += 1
        self._remembered[record.key] = record
        self._keys.append(
            (
                record.key,
                record.fingerprint,
                record.transaction_id,
                record.result,
                record.error_type,
                record.error_message,
            )
        )
        self._dirty = True


def _entries_of(
    rows: list[tuple[Any, ...]], posting_rows: list[tuple[Any, ...]]
) -> list[Transaction]:
    """The entries of ``rows`` (of ``_TX_COLUMNS``), each with its postings among
    ``posting_rows`` (of ``_POSTING_COLUMNS``)."""
    postings = _postings_of(posting_rows)
    return [_transaction(row, tuple(postings.get(row[0], ()))) for row in rows]


def _postings_of(rows: list[tuple[Any, ...]]) -> dict[int, list[Posting]]:
    """Postings rows (``_POSTING_COLUMNS``, in order) by entry id."""
    out: dict[int, list[Posting]] = {}
    tx_id = side = None
    try:
        for tx_id, account, side, minor, unit in rows:
            posting = Posting(account, _SIDES[side], minor, unit)
            got = out.get(tx_id)
            if got is None:
                out[tx_id] = [posting]
            else:
                got.append(posting)
    except KeyError as exc:
        raise unreadable(
            f"a posting of transaction {tx_id}", "gl_postings.side", side, exc, tx_id
        ) from None
    return out


def _posting_rows(rows: list[tuple[Any, ...]]) -> list[PostingRow]:
    return [
        PostingRow(tx_id, idx, Posting(account, _SIDES[side], minor, unit), net)
        for tx_id, idx, account, side, minor, unit, net in rows
    ]


def _row_locked(account: Account) -> bool:
    """Whether a write locks ``account``'s row (``gl_open``, ``gl_lock``): an account
    with a floor that is not a trading account. The others' totals are slot rows
    nobody locks."""
    return account.rule.min_balance is not None and not account.trading


def _nul(text: object) -> bool:
    """Whether ``text`` is a string holding a NUL: PostgreSQL text cannot, so no name or
    key here does (a lookup of one finds nothing, as on the other stores)."""
    return isinstance(text, str) and "\x00" in text


def _fetch(cur: Any) -> list[tuple[Any, ...]]:
    """The rows of the current result; psycopg decodes ``json`` columns as it fetches,
    so a stored value giftledger never writes (nested thousands deep, an integer of
    thousands of digits) fails here, before any decoder of the store can name it."""
    if not _has_rows(cur):
        return []
    try:
        rows: list[tuple[Any, ...]] = cur.fetchall()
    except (RecursionError, ValueError) as exc:
        raise ChainBroken(
            f"the store holds a JSON value (an entry's or account's metadata or rates) that "
            f"giftledger never writes and cannot read ({type(exc).__name__}: "
            f"{shown(str(exc))}); it was changed behind the ledger's back: run verify() "
            f"on a copy restored from a backup"
        ) from None
    return rows


def _has_rows(cur: Any) -> bool:
    """Whether the cursor's current result returns rows (cheaper than ``description``,
    which builds a column object per field)."""
    result = cur.pgresult
    return result is not None and result.nfields > 0
