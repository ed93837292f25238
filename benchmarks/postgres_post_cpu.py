"""CPU a PostgreSQL post costs, client and server, beside raw psycopg's one-trip gift.

One writer posts gifts (the workload of ``stores_postgres.py``) through ``Ledger.post``
on ``PostgresStore``, its accounts known to the store (one round trip each); raw
psycopg sends the same rows as one query string per gift (``raw 1rt`` there). For
each, per gift: the client's CPU (``time.process_time()``), the server backend's CPU
(from ``/proc/<pid>/stat``: only when the server runs on this machine, else ``-``)
and the wall time. Interleaved rounds; the best and the median are printed, with the
ratios raw / ledger (1.0 = as cheap as raw psycopg). Throughput under many writers is
bound by the sum of the two CPU figures (see ``stores_postgres.py``). ``convert`` is
``Ledger.convert`` of USD into EUR through the trading accounts (four postings, as a
gift), its accounts known to the store: one round trip since schema 5 (three before).

Run: ``python benchmarks/postgres_post_cpu.py [--url URL] [--transactions N] [--rounds R]``
Nothing here asserts on time.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable

try:
    import psycopg
except ImportError:  # pragma: no cover - the postgres extra is not installed
    raise SystemExit(
        "skipped: psycopg is not installed (pip install 'giftledger[postgres]')"
    ) from None

import giftledger as gl
from _gifts import gift, open_book, register_units
from stores_postgres import _raw_one_trip, _raw_setup, _schema, postgres_parser, reachable

_TICK = os.sysconf("SC_CLK_TCK")


def _server_cpu(pid: int) -> float | None:
    """The backend's user + system CPU seconds, or None when it is not on this machine."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK


def _measure(pid: int, n: int, step: Callable[[int], None]) -> tuple[float, float | None, float]:
    """Client CPU, server CPU (or None) and wall time per call of ``step``, in µs."""
    s0, c0, w0 = _server_cpu(pid), time.process_time(), time.perf_counter()
    for i in range(n):
        step(i)
    s1, c1, w1 = _server_cpu(pid), time.process_time(), time.perf_counter()
    server = None if s0 is None or s1 is None else 1e6 * (s1 - s0) / n
    return 1e6 * (c1 - c0) / n, server, 1e6 * (w1 - w0) / n


def ledger_post(url: str, n: int) -> tuple[float, float | None, float]:
    with _schema(url) as u, open_book(u, n + 100) as book:
        book.accounts()  # the store knows them: one round trip per post
        for i in range(100):  # warm: connection, prepared statements, plans
            book.post(gift(i))
        pid = book.store._idle[-1].info.backend_pid  # type: ignore[attr-defined]
        return _measure(pid, n, lambda i: book.post(gift(100 + i)))


def ledger_convert(url: str, n: int) -> tuple[float, float | None, float]:
    """``Ledger.convert`` of USD into EUR through the trading accounts (four postings, as
    a gift), its accounts known to the store (one round trip each since schema 5)."""
    with _schema(url) as u, open_book(u, 100) as book:
        book.open_account("bench:usd", "USD", rule=gl.BalanceRule.unrestricted())
        book.open_account("bench:eur", "EUR", normal="credit")
        book.open_trading_account("USD")
        book.open_trading_account("EUR")

        def step(i: int) -> None:
            book.convert("bench:usd", "bench:eur", "1.00", rate="0.9")

        for i in range(100):
            step(i)
        pid = book.store._idle[-1].info.backend_pid  # type: ignore[attr-defined]
        return _measure(pid, n, step)


def raw_post(url: str, n: int) -> tuple[float, float | None, float]:
    with _schema(url) as u:
        schema = u.rsplit("schema=", 1)[1]
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
            conn.execute(f'SET search_path = "{schema}"')
            _raw_setup(conn)
            prev = ["0" * 64]
            with conn.cursor() as cur:

                def step(i: int) -> None:
                    sql, prev[0] = _raw_one_trip(i + 1, prev[0], "")
                    cur.execute(sql.encode())

                for i in range(100):
                    step(-1000 - i)
                return _measure(conn.info.backend_pid, n, step)


def main() -> None:
    parser = postgres_parser(__doc__)
    parser.add_argument("--transactions", type=int, default=2_000, metavar="N")
    parser.add_argument("--rounds", type=int, default=3, metavar="R")
    args = parser.parse_args()
    register_units()
    if not reachable(args.url):
        return
    runs: dict[str, list[tuple[float, float | None, float]]] = {
        "raw": [],
        "ledger": [],
        "convert": [],
    }
    for r in range(args.rounds):
        runs["raw"].append(raw_post(args.url, args.transactions))
        runs["ledger"].append(ledger_post(args.url, args.transactions))
        runs["convert"].append(ledger_convert(args.url, args.transactions))
        print(f"  round {r + 1}/{args.rounds} done")

    def pick(name: str, k: int, how: Callable[[list[float]], float]) -> float | None:
        values = [run[k] for run in runs[name]]
        return None if any(v is None for v in values) else how([v for v in values if v])

    print(f"\n{args.transactions:,} gifts (converts) per round, µs per call (best / median)")
    print(f"  {'':<8} {'client CPU':>16} {'server CPU':>16} {'wall':>16}")
    for name in runs:
        cells = []
        for k in range(3):
            best, median = pick(name, k, min), pick(name, k, statistics.median)
            cells.append("-" if best is None else f"{best:,.0f} / {median:,.0f}")
        print(f"  {name:<8} {cells[0]:>16} {cells[1]:>16} {cells[2]:>16}")
    print("  raw / ledger (1.0 = as cheap as raw psycopg; median):")
    for k, label in enumerate(("client CPU", "server CPU", "wall")):
        raw, ledger = pick("raw", k, statistics.median), pick("ledger", k, statistics.median)
        shown = "-" if raw is None or ledger is None else f"{raw / ledger:4.2f}"
        print(f"    {label:<12} {shown}")


if __name__ == "__main__":
    main()
