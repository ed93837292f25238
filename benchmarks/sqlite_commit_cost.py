"""Where a SQLite single commit's time goes: the ledger beside raw sqlite3, statement by
statement, and the pages each commit writes.

One file is loaded with ``--entries`` gift entries (``post_many``, not timed); then, in
turn, ``Ledger.post`` commits ``--commits`` gifts one by one and ``stores_sqlite.py``'s
raw sqlite3 writer appends as many to the same file, in the store's own schema and
connection settings (the same rows: the entry, four postings, the segment rows, the unit
totals and the four accounts' totals). For each, per commit: the wall and CPU time of
each kind of statement (``BEGIN IMMEDIATE``, the inserts, ``COMMIT`` …), what is left
(the Python around them: the ledger's checks, records and hash; the raw writer's rows),
and the pages written to the WAL, by table or index (SQLite's ``dbstat``; the WAL is
not checkpointed while a measurement runs).

The statements are timed through a thin wrapper of the connection (a few hundred
nanoseconds a call, on both sides alike).

Run: ``python benchmarks/sqlite_commit_cost.py [--entries N] [--commits K] [--dir DIR]``
(``--transactions N``, as ``run.py`` passes it, is ``--entries``).
Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import collections
import os
import sqlite3
import struct
import tempfile
import time
from typing import Any

from _gifts import register_units
from stores_sqlite import _gift, _open_book, _Raw

_FRAME_HEADER, _WAL_HEADER = 24, 32


class _Timed:
    """A connection whose ``execute`` and ``executemany`` add their time to ``spent``."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.spent: dict[str, list[float]] = collections.defaultdict(lambda: [0, 0.0, 0.0])

    def __getattr__(self, name: str) -> Any:
        return getattr(self.db, name)

    def _timed(self, call: Any, sql: str, *args: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        out = call(sql, *args)
        kept = self.spent[" ".join(sql.split()[:3])[:32]]
        kept[0] += 1
        kept[1] += time.perf_counter() - wall
        kept[2] += time.process_time() - cpu
        return out

    def execute(self, sql: str, *args: Any) -> Any:
        return self._timed(self.db.execute, sql, *args)

    def executemany(self, sql: str, *args: Any) -> Any:
        return self._timed(self.db.executemany, sql, *args)


def _wal_pages(path: str) -> list[int]:
    """The page number of each frame in ``path``'s WAL."""
    with open(path + "-wal", "rb") as f:
        data = f.read()
    page_size = int.from_bytes(data[8:12], "big")
    step = _FRAME_HEADER + page_size
    return [
        struct.unpack(">I", data[at : at + 4])[0]
        for at in range(_WAL_HEADER, len(data) - step + 1, step)
    ]


def _pages_by_table(path: str, pages: list[int]) -> collections.Counter[str]:
    with sqlite3.connect(path) as db:
        owner = dict(db.execute("SELECT pageno, name FROM dbstat"))
    return collections.Counter(owner.get(p, "?") for p in pages)


def _report(name: str, n: int, wall: float, cpu: float, timed: _Timed, pages: Any) -> None:
    sql_wall = sum(w for _, w, _ in timed.spent.values())
    sql_cpu = sum(c for _, _, c in timed.spent.values())
    print(f"\n  {name}: {wall / n * 1e6:6.1f} µs wall, {cpu / n * 1e6:6.1f} µs CPU a commit")
    for what, (_, w, c) in sorted(timed.spent.items(), key=lambda kv: -kv[1][1]):
        print(f"    {what:<34} {w / n * 1e6:6.1f} wall {c / n * 1e6:6.1f} CPU")
    rest_wall, rest_cpu = (wall - sql_wall) / n * 1e6, (cpu - sql_cpu) / n * 1e6
    print(f"    {'(Python around them)':<34} {rest_wall:6.1f} wall {rest_cpu:6.1f} CPU")
    total = sum(pages.values())
    parts = ", ".join(f"{t} {c / n:.2f}" for t, c in pages.most_common())
    print(f"    pages written a commit: {total / n:.2f} ({parts})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--entries", "--transactions", "-n", type=int, default=10_000, metavar="N", dest="entries"
    )
    parser.add_argument("--commits", type=int, default=1_000, metavar="K")
    parser.add_argument("--dir", default=None)
    args = parser.parse_args(argv)
    register_units()
    n, k = args.entries, args.commits
    with tempfile.TemporaryDirectory(dir=args.dir) as directory:
        path = os.path.join(directory, "cost.db")
        book = _open_book(path, n + 2 * k)
        for first in range(0, n, 1_000):
            book.post_many([_gift(i) for i in range(first, min(first + 1_000, n))])
        book.post(_gift(n))  # the accounts' states cached, as a running writer has them
        print(f"SQLite {sqlite3.sqlite_version}: {n:,} entries, then {k:,} single commits each")

        store: Any = book.store
        store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        store._db.execute("PRAGMA wal_autocheckpoint = 0")
        timed = _Timed(store._db)
        store._db = timed
        wall, cpu = time.perf_counter(), time.process_time()
        for i in range(n + 1, n + 1 + k):
            book.post(_gift(i))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        pages = _pages_by_table(path, _wal_pages(path))
        store._db = timed.db
        _report("ledger (Ledger.post)", k, wall, cpu, timed, pages)
        book.close()

        raw = _Raw(path, {"synchronous": 2, "cache_size": -2000, "busy_timeout": 60000})
        raw.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        raw.db.execute("PRAGMA wal_autocheckpoint = 0")
        timed = _Timed(raw.db)
        raw.db = timed  # type: ignore[assignment]
        cpu = time.process_time()
        wall = raw.gifts(n + 1 + k, k)
        cpu = time.process_time() - cpu
        pages = _pages_by_table(path, _wal_pages(path))
        raw.db = timed.db
        for what in [w for w in timed.spent if w.startswith("SELECT")]:
            del timed.spent[what]  # where the file stands, read before its clock starts
        _report("raw sqlite3, the same rows and schema", k, wall, cpu, timed, pages)
        raw.close()


if __name__ == "__main__":
    main()
