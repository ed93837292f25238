"""Throughput of the PostgreSQL store on the gift workload, beside raw psycopg.

Each transaction is one gift: a viewer's COIN wallet is debited, the coin supply
credited, the Diamond supply debited and a creator's DIAMOND wallet credited:
four postings over two units; viewer wallets must not go negative. It is
measured four ways, all in one run against one server, with the server's
durability as configured (``synchronous_commit`` is checked to be ``on``, so
every commit waits for its WAL flush):

- ``raw single``: psycopg alone inserting the same rows (one journal row with a
  precomputed hash, four posting rows, the four balance updates) and
  committing each transaction: the driver's own speed, the baseline;
- ``ledger single``: ``Ledger.post`` on ``PostgresStore``, one commit each;
- ``raw batched`` and ``ledger batched``: the same, 1,000 transactions per
  commit (``Ledger.post_many``);
- ``raw 1rt Nw shared`` / ``raw 1rt Nw own supply``: N processes (``spawn``)
  with psycopg alone, each gift in one round trip (BEGIN, the inserts, the
  balance updates and COMMIT in one query string), every gift updating the two
  shared supply rows, or each writer its own supply rows (the no-hot-row
  ceiling);
- ``ledger Nw``: ``Ledger.post`` in N processes at once (N = 1, 2, 4, 8), each
  writer on its own viewer wallets. Each process has read the ledger's accounts
  before the clock starts, as a long-running service has: a post to accounts its
  store knows goes in one round trip; ``ledger 8w cold`` leaves that out (each
  writer's first post to a wallet reads it first: two round trips).
  ``ledger single`` posts through the store that opened the accounts (it knows
  them).

``raw 1rt 8w own supply / raw 1rt 1w`` is what eight writers add with no ledger at all:
on a machine whose cores the clients and the server share, the ceiling of ``ledger 8w /
ledger 1w`` is near it.

The measurements run in interleaved rounds (``--rounds``), each in a fresh
schema dropped afterwards; the best and the median of each are printed, with
the ratios the issue sets as targets. The machine may be shared: compare
figures of one run only.

Run: ``python benchmarks/stores_postgres.py [--url URL] [--transactions N] [--rounds R]``
(URL defaults to ``$GIFTLEDGER_TEST_POSTGRES_URL`` or the local test server).
Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import giftledger as gl

try:
    import psycopg
except ImportError:  # pragma: no cover - the postgres extra is not installed
    raise SystemExit(
        "skipped: psycopg is not installed (pip install 'giftledger[postgres]')"
    ) from None

from _gifts import (
    BATCH,
    COIN_SUPPLY,
    CREATORS,
    DIAMOND_SUPPLY,
    VIEWERS,
    open_book,
)
from _gifts import check as _check
from _gifts import creator as _creator
from _gifts import gift as _gift
from _gifts import register_units as _register_units
from _gifts import wallet as _wallet

WRITERS = 8


@contextmanager
def counting_trips() -> Iterator[list[int]]:
    """Count the PostgreSQL store's round trips (``_Session._send`` calls) in the block."""
    from giftledger._stores import postgres as pgstore

    sent = [0]
    real = pgstore._Session._send

    def count(self: Any, *args: Any, **kwargs: Any) -> Any:
        sent[0] += 1
        return real(self, *args, **kwargs)

    pgstore._Session._send = count  # type: ignore[method-assign]
    try:
        yield sent
    finally:
        pgstore._Session._send = real  # type: ignore[method-assign]


@contextmanager
def _schema(url: str) -> Iterator[str]:
    schema = f"gl_bench_{uuid.uuid4().hex[:12]}"
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}schema={schema}"
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


_open_book = open_book


# -- the ledger ---------------------------------------------------------------------------


def ledger_single(url: str, n: int) -> float:
    with _schema(url) as u, _open_book(u, n) as book:
        start = time.perf_counter()
        for i in range(n):
            book.post(_gift(i))
        rate = n / (time.perf_counter() - start)
        _check(book, n)
    return rate


def ledger_batched(url: str, n: int) -> float:
    with _schema(url) as u, _open_book(u, n) as book:
        start = time.perf_counter()
        for first in range(0, n, BATCH):
            book.post_many([_gift(i) for i in range(first, min(first + BATCH, n))])
        rate = n / (time.perf_counter() - start)
        _check(book, n)
    return rate


def _writer(
    url: str, worker: int, n: int, k: int, warm: bool, ready: Any, go: Any, done: Any
) -> None:
    _register_units()
    with gl.Ledger.open(url) as book:
        book.head  # noqa: B018 - connect before the clock starts
        if warm:
            book.accounts()  # a long-running service has read its accounts before
        ready.put(worker)
        go.wait()
        start = time.perf_counter()
        for i in range(worker, n * k, k):
            book.post(_gift(i))
        done.put((start, time.perf_counter()))


def run_writers(
    target: Callable[..., None],
    args: Callable[[int], tuple[Any, ...]],
    k: int,
    at_go: Callable[[], None] | None = None,
    ready_timeout: float = 120,
) -> list[Any]:
    """Run ``target(*args(w), ready, go, done)`` in ``k`` processes (``spawn``: a fresh
    interpreter each) and return what each put on ``done``, in the order they finished.

    Each writer puts something on ``ready`` once it is set up, waits for ``go``, works,
    and puts its span on ``done``; ``at_go`` runs just before ``go`` and again once every
    span is in (to sample the machine around the run). A writer that fails stops the run.
    """
    ctx = multiprocessing.get_context("spawn")
    ready, done, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=target, args=(*args(w), ready, go, done)) for w in range(k)]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=ready_timeout)
    if at_go is not None:
        at_go()
    go.set()
    spans = [done.get(timeout=900) for _ in procs]
    if at_go is not None:
        at_go()
    for p in procs:
        p.join()
        if p.exitcode:
            raise SystemExit(f"wrong: a writer failed (exit code {p.exitcode})")
    return spans


def ledger_writers(url: str, n: int, k: int = WRITERS, warm: bool = True) -> float:
    """``n`` gifts in total, posted by ``k`` processes at once (worker ``w`` posts gifts
    ``w, w + k, …``: its own viewer wallets)."""
    per = max(n // k, 1)
    with _schema(url) as u, _open_book(u, per * k) as book:
        spans = run_writers(_writer, lambda w: (u, w, per, k, warm), k)
        elapsed = max(e for _, e in spans) - min(s for s, _ in spans)
        _check(book, per * k)
    return per * k / elapsed


# -- raw psycopg --------------------------------------------------------------------------

_RAW_SCHEMA = """
CREATE TABLE journal (id bigint PRIMARY KEY, effective_at bigint NOT NULL,
                      recorded_at bigint NOT NULL, prev_hash text NOT NULL, hash text NOT NULL);
CREATE TABLE postings (tx_id bigint NOT NULL, idx int NOT NULL, account text NOT NULL,
                       side text NOT NULL, minor bigint NOT NULL, unit text NOT NULL,
                       net_after bigint, PRIMARY KEY (tx_id, idx));
CREATE TABLE balances (name text PRIMARY KEY, net bigint NOT NULL);
"""


def _raw_setup(conn: psycopg.Connection[Any]) -> None:
    conn.execute(_RAW_SCHEMA)
    names = [COIN_SUPPLY, DIAMOND_SUPPLY] + [_wallet(i) for i in range(VIEWERS)]
    names += [_creator(i) for i in range(CREATORS)]
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO balances VALUES (%s, 0)", [(n,) for n in names])
    conn.commit()


def _raw_rows(i: int, prev: str) -> tuple[tuple[Any, ...], list[tuple[Any, ...]], str]:
    now = int(time.time() * 1e6)
    digest = hashlib.sha256(f"{prev}|{i}".encode()).hexdigest()
    postings = [
        (i, k, p.account, p.side.value, p.minor, p.unit, None) for k, p in enumerate(_gift(i))
    ]
    return (i, now, now, prev, digest), postings, digest


_INSERT_TX = "INSERT INTO journal VALUES (%s, %s, %s, %s, %s)"
_INSERT_POSTING = "INSERT INTO postings VALUES (%s, %s, %s, %s, %s, %s, %s)"
_UPDATE_BALANCE = "UPDATE balances SET net = net + %s WHERE name = %s"


def _raw_gift(cur: psycopg.Cursor[Any], i: int, prev: str) -> str:
    tx, postings, digest = _raw_rows(i, prev)
    cur.execute(_INSERT_TX, tx)
    cur.executemany(_INSERT_POSTING, postings)
    cur.executemany(
        _UPDATE_BALANCE,
        [(p[4] if p[3] == "debit" else -p[4], p[2]) for p in postings],
    )
    return digest


def raw_single(url: str, n: int) -> float:
    with _schema(url) as u:
        schema = u.rsplit("schema=", 1)[1]
        with psycopg.connect(url) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
            conn.execute(f'SET search_path = "{schema}"')
            _raw_setup(conn)
            prev = "0" * 64
            start = time.perf_counter()
            with conn.cursor() as cur:
                for i in range(1, n + 1):
                    prev = _raw_gift(cur, i, prev)
                    conn.commit()
            return n / (time.perf_counter() - start)


def raw_batched(url: str, n: int) -> float:
    with _schema(url) as u:
        schema = u.rsplit("schema=", 1)[1]
        with psycopg.connect(url) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
            conn.execute(f'SET search_path = "{schema}"')
            _raw_setup(conn)
            prev = "0" * 64
            start = time.perf_counter()
            with conn.cursor() as cur:
                for first in range(1, n + 1, BATCH):
                    txs, postings, deltas = [], [], []
                    for i in range(first, min(first + BATCH, n + 1)):
                        tx, ps, prev = _raw_rows(i, prev)
                        txs.append(tx)
                        postings += ps
                        deltas += [(p[4] if p[3] == "debit" else -p[4], p[2]) for p in ps]
                    cur.executemany(_INSERT_TX, txs)
                    cur.executemany(_INSERT_POSTING, postings)
                    cur.executemany(_UPDATE_BALANCE, deltas)
                    conn.commit()
            return n / (time.perf_counter() - start)


def _q(v: Any) -> str:
    return "NULL" if v is None else (str(v) if isinstance(v, int) else f"'{v}'")


def _raw_one_trip(i: int, prev: str, supply: str) -> tuple[str, str]:
    """One gift as one query string: BEGIN, inserts, balance updates, COMMIT."""
    tx, postings, digest = _raw_rows(i, prev)
    rows = []
    deltas = []
    for p in postings:
        account = p[2]
        if account in (COIN_SUPPLY, DIAMOND_SUPPLY):
            account += supply
        rows.append("(" + ", ".join(_q(v) for v in (p[0], p[1], account, *p[3:])) + ")")
        deltas.append((account, p[4] if p[3] == "debit" else -p[4]))
    # The balance rows in name order, one statement each: writers sharing the supply
    # rows do not deadlock.
    updates = "; ".join(
        f"UPDATE balances SET net = net + {d} WHERE name = {_q(a)}" for a, d in sorted(deltas)
    )
    sql = (
        f"BEGIN; INSERT INTO journal VALUES ({', '.join(_q(v) for v in tx)}); "
        f"INSERT INTO postings VALUES {', '.join(rows)}; {updates}; COMMIT"
    )
    return sql, digest


def _raw_writer(
    url: str, worker: int, n: int, k: int, own: bool, ready: Any, go: Any, done: Any
) -> None:
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cur:
        ready.put(worker)
        go.wait()
        start = time.perf_counter()
        prev = "0" * 64
        supply = f":{worker}" if own else ""
        for i in range(worker + 1, n * k + 1, k):
            sql, prev = _raw_one_trip(i, prev, supply)
            cur.execute(sql.encode())
        done.put((start, time.perf_counter()))


def raw_writers(url: str, n: int, k: int = WRITERS, own: bool = False) -> float:
    """``n`` gifts in total by ``k`` processes with psycopg alone, one round trip each (no
    chain, no checks); ``own``: each writer its own supply rows."""
    per = max(n // k, 1)
    with _schema(url) as u:
        schema = u.rsplit("schema=", 1)[1]
        with psycopg.connect(url) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
            conn.execute(f'SET search_path = "{schema}"')
            _raw_setup(conn)
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO balances VALUES (%s, 0)",
                    [(f"{s}:{w}",) for s in (COIN_SUPPLY, DIAMOND_SUPPLY) for w in range(k)],
                )
            conn.commit()
        target = f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
        spans = run_writers(_raw_writer, lambda w: (target, w, per, k, own), k)
    return per * k / (max(e for _, e in spans) - min(s for s, _ in spans))


def postgres_parser(doc: str) -> argparse.ArgumentParser:
    """The argument parser of a PostgreSQL benchmark: its description (the first
    paragraph of ``doc``) and ``--url`` (default ``$GIFTLEDGER_TEST_POSTGRES_URL`` or the
    local test server)."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument(
        "--url",
        default=os.environ.get(
            "GIFTLEDGER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    return parser


def reachable(url: str) -> bool:
    """Whether a PostgreSQL server answers at ``url``; if not, say the run is skipped."""
    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        print(
            f"skipped: no PostgreSQL server at {url} ({exc}); "
            f"set --url or $GIFTLEDGER_TEST_POSTGRES_URL"
        )
        return False
    return True


def main() -> None:
    parser = postgres_parser(__doc__)
    parser.add_argument("--transactions", type=int, default=1_000, metavar="N")
    parser.add_argument("--rounds", type=int, default=3, metavar="R")
    args = parser.parse_args()
    _register_units()
    url, n = args.url, args.transactions
    if not reachable(url):
        return
    with psycopg.connect(url) as conn:
        row = conn.execute("SHOW synchronous_commit").fetchone()
        fsync = conn.execute("SHOW fsync").fetchone()
    print(f"PostgreSQL at {url}: synchronous_commit={row and row[0]}, fsync={fsync and fsync[0]}")
    print(f"{n:,} gift transactions (4 postings, 2 units) per measurement\n")
    measures: list[tuple[str, Any]] = [
        ("raw single", raw_single),
        ("ledger single", ledger_single),
        ("raw batched", raw_batched),
        ("ledger batched", ledger_batched),
        ("raw 1rt 1w", lambda u, n: raw_writers(u, n, 1)),
        (f"raw 1rt {WRITERS}w shared", lambda u, n: raw_writers(u, n, WRITERS)),
        (f"raw 1rt {WRITERS}w own supply", lambda u, n: raw_writers(u, n, WRITERS, True)),
        *((f"ledger {k}w", lambda u, n, k=k: ledger_writers(u, n, k)) for k in (1, 2, 4, 8)),
        (f"ledger {WRITERS}w cold", lambda u, n: ledger_writers(u, n, WRITERS, warm=False)),
    ]
    runs: dict[str, list[float]] = {name: [] for name, _ in measures}
    for r in range(args.rounds):
        for name, fn in measures:  # interleaved: every measurement once per round
            runs[name].append(fn(url, n))
        print(f"  round {r + 1}/{args.rounds} done")
    print(f"\n  {'':<24} {'best':>10} {'median':>10}  committed tx/s")
    for name, rates in runs.items():
        print(f"  {name:<24} {max(rates):>10,.0f} {statistics.median(rates):>10,.0f}")

    def ratio(a: str, b: str) -> str:
        best = max(runs[a]) / max(runs[b])
        median = statistics.median(runs[a]) / statistics.median(runs[b])
        return f"{best:5.2f} (median {median:4.2f})"

    print()
    print(
        f"  ledger single / raw single                 {ratio('ledger single', 'raw single')}"
        f"   target >= 0.8"
    )
    print(f"  ledger single / raw 1rt 1w                 {ratio('ledger single', 'raw 1rt 1w')}")
    print(
        f"  ledger batched / raw batched               "
        f"{ratio('ledger batched', 'raw batched')}   target >= 0.8"
    )
    print(
        f"  ledger 8w / ledger 1w                      {ratio('ledger 8w', 'ledger 1w')}"
        f"   target >= 1.5"
    )
    # The same multiplier without giftledger: what eight writers add on this machine
    # (its cores; the Python clients and the server backends share them).
    print(
        f"  raw 1rt 8w own supply / raw 1rt 1w         "
        f"{ratio(f'raw 1rt {WRITERS}w own supply', 'raw 1rt 1w')}   "
        f"(the machine's own, {os.cpu_count()} CPUs)"
    )
    print(
        f"  ledger 8w / raw 1rt 8w own supply          "
        f"{ratio('ledger 8w', f'raw 1rt {WRITERS}w own supply')}   target >= 0.7"
    )
    print(
        f"  ledger 8w / raw 1rt 8w shared              "
        f"{ratio('ledger 8w', f'raw 1rt {WRITERS}w shared')}"
    )
    print(
        f"  ledger 8w cold / raw 1rt 8w own supply     "
        f"{ratio(f'ledger {WRITERS}w cold', f'raw 1rt {WRITERS}w own supply')}"
    )


if __name__ == "__main__":
    main()
