"""Throughput of the SQLite store on the gift workload, beside raw sqlite3.

Each transaction is one gift: a viewer's COIN wallet is debited, the coin supply
credited, the Diamond supply debited and a creator's DIAMOND wallet credited:
four postings over two units; viewer wallets must not go negative. Every
measurement uses a new file in WAL mode with ``synchronous=FULL`` (each commit
waits for its fsync), and it is measured four ways in one run:

- ``raw single``: sqlite3 alone inserting the same rows (one journal row with a
  precomputed hash, four posting rows, the four balance updates) and
  committing each transaction (``BEGIN IMMEDIATE`` … ``COMMIT``): the driver's
  own speed, the baseline;
- ``ledger single``: ``Ledger.post`` on ``SQLiteStore``, one commit each;
- ``raw batched`` and ``ledger batched``: the same, 1,000 transactions per
  commit (``executemany``; ``Ledger.post_many``).

Each measurement runs ``--repeat`` times (default 3), the four interleaved,
and the best rate of each counts: on a shared machine the best run is the one
least disturbed by others. Prints committed transactions per second and the
ratios the issue sets as targets (single >= 80% of raw single, batched >= 50%
of raw batched).

Run: ``python benchmarks/stores_sqlite.py [--transactions N] [--repeat R] [--dir DIR]``
(DIR: where the files go, default a temporary directory; put it on the disk
you care about). Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable
from typing import Any

import giftledger as gl
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


def _open_book(path: str, gifts: int) -> gl.Ledger:
    return open_book(f"sqlite:///{path}", gifts)


# -- the ledger ---------------------------------------------------------------------------


def ledger_single(path: str, n: int) -> float:
    with _open_book(path, n) as book:
        start = time.perf_counter()
        for i in range(n):
            book.post(_gift(i))
        rate = n / (time.perf_counter() - start)
        _check(book, n)
    return rate


def ledger_batched(path: str, n: int) -> float:
    with _open_book(path, n) as book:
        start = time.perf_counter()
        for first in range(0, n, BATCH):
            book.post_many([_gift(i) for i in range(first, min(first + BATCH, n))])
        rate = n / (time.perf_counter() - start)
        _check(book, n)
    return rate


# -- raw sqlite3 ----------------------------------------------------------------------------

_RAW_SCHEMA = """
CREATE TABLE journal (id INTEGER PRIMARY KEY, effective_at INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL) STRICT;
CREATE TABLE postings (tx_id INTEGER NOT NULL, idx INTEGER NOT NULL, account TEXT NOT NULL,
    side TEXT NOT NULL, minor INTEGER NOT NULL, unit TEXT NOT NULL, net_after INTEGER,
    PRIMARY KEY (tx_id, idx)) STRICT, WITHOUT ROWID;
CREATE TABLE balances (name TEXT PRIMARY KEY, net INTEGER NOT NULL) STRICT;
"""


def _raw_connect(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.executescript(_RAW_SCHEMA)
    names = [COIN_SUPPLY, DIAMOND_SUPPLY] + [_wallet(i) for i in range(VIEWERS)]
    names += [_creator(i) for i in range(CREATORS)]
    db.execute("BEGIN")
    db.executemany("INSERT INTO balances VALUES (?, 0)", [(n,) for n in names])
    db.execute("COMMIT")
    return db


def _raw_rows(i: int, prev: str) -> tuple[tuple[Any, ...], list[tuple[Any, ...]], str]:
    now = int(time.time() * 1e6)
    digest = hashlib.sha256(f"{prev}|{i}".encode()).hexdigest()
    postings = [
        (i, k, p.account, p.side.value, p.minor, p.unit, None) for k, p in enumerate(_gift(i))
    ]
    return (i, now, now, prev, digest), postings, digest


_INSERT_TX = "INSERT INTO journal VALUES (?, ?, ?, ?, ?)"
_INSERT_POSTING = "INSERT INTO postings VALUES (?, ?, ?, ?, ?, ?, ?)"
_UPDATE_BALANCE = "UPDATE balances SET net = net + ? WHERE name = ?"


def raw_single(path: str, n: int) -> float:
    db = _raw_connect(path)
    prev = "0" * 64
    start = time.perf_counter()
    for i in range(1, n + 1):
        tx, postings, prev = _raw_rows(i, prev)
        db.execute("BEGIN IMMEDIATE")
        db.execute(_INSERT_TX, tx)
        db.executemany(_INSERT_POSTING, postings)
        db.executemany(
            _UPDATE_BALANCE, [(p[4] if p[3] == "debit" else -p[4], p[2]) for p in postings]
        )
        db.execute("COMMIT")
    rate = n / (time.perf_counter() - start)
    db.close()
    return rate


def raw_batched(path: str, n: int) -> float:
    db = _raw_connect(path)
    prev = "0" * 64
    start = time.perf_counter()
    for first in range(1, n + 1, BATCH):
        txs, postings, deltas = [], [], []
        for i in range(first, min(first + BATCH, n + 1)):
            tx, ps, prev = _raw_rows(i, prev)
            txs.append(tx)
            postings += ps
            deltas += [(p[4] if p[3] == "debit" else -p[4], p[2]) for p in ps]
        db.execute("BEGIN IMMEDIATE")
        db.executemany(_INSERT_TX, txs)
        db.executemany(_INSERT_POSTING, postings)
        db.executemany(_UPDATE_BALANCE, deltas)
        db.execute("COMMIT")
    rate = n / (time.perf_counter() - start)
    db.close()
    return rate


# -- main --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transactions", "-n", type=int, default=3_000, metavar="N")
    parser.add_argument("--repeat", type=int, default=3, metavar="R")
    parser.add_argument("--dir", default=None, help="where the database files go")
    args = parser.parse_args(argv)
    n = args.transactions
    if n < 10:
        parser.error("--transactions must be at least 10")
    _register_units()
    print(f"SQLite {sqlite3.sqlite_version}: WAL, synchronous=FULL, one new file per measurement")
    print(f"{n:,} gift transactions (4 postings, 2 units) per measurement\n")
    results: dict[str, float] = {}
    measurements: tuple[tuple[str, Callable[[str, int], float]], ...] = (
        ("raw single", raw_single),
        ("ledger single", ledger_single),
        ("raw batched", raw_batched),
        ("ledger batched", ledger_batched),
    )
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="gl-bench-") as tmp:
        print(f"  files in {tmp}")
        for run in range(max(args.repeat, 1)):
            rates = []
            for name, fn in measurements:
                rate = fn(os.path.join(tmp, f"{name.replace(' ', '-')}-{run}.db"), n)
                results[name] = max(results.get(name, 0.0), rate)
                rates.append(f"{name} {rate:,.0f}")
            print(f"  run {run + 1}: " + ", ".join(rates))
    print()
    for name, _ in measurements:
        print(f"  {name:<16} {results[name]:>10,.0f} committed tx/s (best)")
    single = results["ledger single"] / results["raw single"]
    batched = results["ledger batched"] / results["raw batched"]
    print()
    print(f"  single / raw single     {single:6.0%}   (target >= 80%)")
    print(f"  batched / raw batched   {batched:6.0%}   (target >= 50%)")


if __name__ == "__main__":
    main()
