"""Where eight PostgreSQL writers' time goes: ``gl_link``'s sections, and CPU per post.

``stores_postgres.py`` prints how much eight writers add over one (``ledger 8w /
ledger 1w``). This script says why, at 1 and 8 writers (``--writers``), in one run:

- **CPU per post**: the writers' own CPU (``time.process_time()`` of each writer
  process over its posts) and the whole machine's busy time (``/proc/stat``) over the
  same window, per post. Once the machine is saturated, throughput is its cores divided
  by the machine's CPU per post: what more writers cannot go past.
- **``gl_link``'s sections**, wall time per call inside the server: before the head
  (keys, accounts with a floor, slots and totals), waiting for the head, the account
  check, reading the head and hashing, the journal insert, the postings and keys
  inserts. A copy of ``gl_link`` with a ``clock_timestamp()`` between its sections is
  installed in the benchmark's throwaway schema (this measures the current ``gl_link``:
  the script stops, saying so, if its sections are no longer where it looks for them).
  The timing itself costs a few microseconds per call.

Each measurement runs in a fresh schema, dropped afterwards; ``--rounds`` interleaved
rounds, the median printed. The machine's CPU counts every process on it: it means
something only when the PostgreSQL server runs here and nothing else is busy.

Run: ``python benchmarks/postgres_writers_cpu.py [--url URL] [--transactions N]
[--writers 1,8] [--rounds R]``. Nothing here asserts on time.
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Any

try:
    import psycopg
except ImportError:  # pragma: no cover - the postgres extra is not installed
    raise SystemExit(
        "skipped: psycopg is not installed (pip install 'giftledger[postgres]')"
    ) from None

import giftledger as gl
from _gifts import gift, open_book, register_units
from giftledger._stores import postgres_schema
from stores_postgres import _schema, postgres_parser, reachable, run_writers

SECTIONS = ("before head", "head wait", "account check", "head + hash", "journal", "postings, keys")

# (where, what to put before it): a timestamp before each section of gl_link.
_MARKS = (
    ("    -- A client that read nothing did not look", "t[1] := clock_timestamp();"),
    ("    IF pg_try_advisory_xact_lock(", "t[2] := clock_timestamp();"),
    ("    -- Only accounts with a floor were locked", "t[3] := clock_timestamp();"),
    ("    SELECT t.id, t.hash, t.recorded_at INTO", "t[4] := clock_timestamp();"),
    ("    INSERT INTO gl_transactions (id,", "t[5] := clock_timestamp();"),
    ("    -- Each posting's running balance", "t[6] := clock_timestamp();"),
    (
        "    RETURN QUERY SELECT d,",
        "t[7] := clock_timestamp(); INSERT INTO gl_bench_sections SELECT "
        "array_agg(extract(epoch FROM t[i + 1] - t[i]) * 1e6) FROM generate_series(1, 6) i;",
    ),
)


def _timed_link() -> str:
    """The current ``gl_link`` with a timestamp before each section."""
    sql = postgres_schema._GL_LINK.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)
    sql = sql.replace("DECLARE\n", "DECLARE\n    t timestamptz[] := '{}';\n", 1)
    for where, mark in _MARKS:
        if sql.count(where) != 1:
            raise SystemExit(f"gl_link changed: no single {where.strip()!r} to time; update _MARKS")
        sql = sql.replace(where, f"    {mark}\n{where}")
    return sql


def _writer(url: str, worker: int, n: int, k: int, ready: Any, go: Any, done: Any) -> None:
    register_units()
    with gl.Ledger.open(url) as book:
        book.accounts()  # a long-running service knows its accounts: one round trip a post
        ready.put(worker)
        go.wait()
        cpu, start = time.process_time(), time.perf_counter()
        for i in range(worker, n * k, k):
            book.post(gift(i))
        done.put((start, time.perf_counter(), time.process_time() - cpu))


def _busy() -> tuple[int, int]:
    with open("/proc/stat") as f:
        ticks = [int(v) for v in f.readline().split()[1:]]
    return sum(ticks) - ticks[3] - ticks[4], sum(ticks)  # less idle and iowait


def run(url: str, n: int, k: int) -> dict[str, float]:
    """``n`` gifts by ``k`` writer processes (worker ``w`` posts gifts ``w, w + k, …``)."""
    per = max(n // k, 1)
    with _schema(url) as u, open_book(u, per * k) as book:
        schema = u.rsplit("schema=", 1)[1]
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'SET search_path = "{schema}"')
            conn.execute("CREATE UNLOGGED TABLE gl_bench_sections (us float8[])")
            conn.execute(_timed_link())
        samples: list[tuple[int, int]] = []
        spans = run_writers(
            _writer, lambda w: (u, w, per, k), k, at_go=lambda: samples.append(_busy())
        )
        busy0, busy1 = samples
        posts = per * k
        elapsed = max(s[1] for s in spans) - min(s[0] for s in spans)
        busy = (busy1[0] - busy0[0]) / max(busy1[1] - busy0[1], 1)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'SET search_path = "{schema}"')
            row = conn.execute(
                "SELECT " + ", ".join(f"avg(us[{i}])" for i in range(1, 7)) + " FROM "
                "gl_bench_sections"
            ).fetchone()
        if book.head[0] < posts or row is None or row[0] is None:
            raise SystemExit("wrong: the posts did not all go through gl_link")
    rate = posts / elapsed
    out = {
        "tx/s": rate,
        "writers' CPU": 1e6 * sum(s[2] for s in spans) / posts,
        "machine CPU": 1e6 * busy * (os.cpu_count() or 1) / rate,
        "machine busy": busy,
    }
    out.update(zip(SECTIONS, (float(v) for v in row), strict=True))
    return out


def main() -> None:
    parser = postgres_parser(__doc__)
    parser.add_argument("--transactions", type=int, default=4_000, metavar="N")
    parser.add_argument("--writers", default="1,8", metavar="K,K")
    parser.add_argument("--rounds", type=int, default=2, metavar="R")
    args = parser.parse_args()
    register_units()
    if not reachable(args.url):
        return
    counts = [int(k) for k in args.writers.split(",")]
    runs: dict[int, list[dict[str, float]]] = {k: [] for k in counts}
    for r in range(args.rounds):
        for k in counts:
            runs[k].append(run(args.url, args.transactions, k))
        print(f"  round {r + 1}/{args.rounds} done")
    print(
        f"\n{args.transactions:,} gifts per measurement, {os.cpu_count()} CPUs; "
        f"medians of {args.rounds} round(s); CPU and times in µs per post"
    )
    names = list(runs[counts[0]][0])
    print(f"  {'':<16}" + "".join(f"{f'{k} writer(s)':>14}" for k in counts))
    for name in names:
        cells = []
        for k in counts:
            value = statistics.median(run[name] for run in runs[k])
            cells.append(f"{value:>14.2f}" if name == "machine busy" else f"{value:>14,.0f}")
        print(f"  {name:<16}" + "".join(cells))


if __name__ == "__main__":
    main()
