"""The change feed's cost to PostgreSQL writers: 8 writer processes with and without a follower.

Each round runs 8 writer processes posting single transfers for ``--seconds`` (own accounts,
no floor, an idempotency key each), once alone and once with a follower process attached
(``Ledger.changes(follow=True)``: a poll by id with back-off, and a durability barrier before
each delivered batch), interleaved over ``--repeat`` rounds on one fresh schema each. Prints
the writers' rate in both cases and the ratio (aim: >= 0.9), and what the follower delivered.
``--transactions N`` (as ``run.py`` passes it) sets rounds of N / 2,000 seconds.

    .venv/bin/python benchmarks/feed_postgres.py [--url URL]

(``--url`` defaults to ``$GIFTLEDGER_TEST_POSTGRES_URL``, else the local test server, as in
the other PostgreSQL benchmarks.)
"""

from __future__ import annotations

import multiprocessing as mp
import os
import statistics
import time
import uuid
from typing import Any

import psycopg

import giftledger as gl
from stores_postgres import postgres_parser, reachable

WRITERS = 8


def _writer(url: str, me: int, start: Any, seconds: float, out: Any) -> None:
    book = gl.Ledger.open(url)
    start.wait()
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        book.transfer(f"w:{me}:a", f"w:{me}:b", "0.01", key=f"{me}-{n}")
        n += 1
    out.put(n)
    book.close()


def _follower(url: str, start: Any, stop: Any, out: Any) -> None:
    book = gl.Ledger.open(url)
    cursor = gl.FeedCursor.of(book.transaction(book.head[0])) if book.head[0] else None
    start.wait()
    seen = 0
    for _ in book.changes(after=cursor, follow=True, max_delay=0.05):
        seen += 1
        if stop.is_set():
            break
    out.put(seen)
    book.close()


def _round(admin: str, seconds: float, follow: bool) -> tuple[float, int]:
    schema = f"gl_bench_{uuid.uuid4().hex[:12]}"
    url = f"{admin}{'&' if '?' in admin else '?'}schema={schema}"
    book = gl.Ledger.open(url)
    for me in range(WRITERS):
        for side in ("a", "b"):
            book.open_account(f"w:{me}:{side}", "USD", rule=gl.BalanceRule.unrestricted())
    book.close()
    ctx = mp.get_context("spawn")
    start, stop, out, seen_q = (
        ctx.Barrier(WRITERS + 1 + follow),
        ctx.Event(),
        ctx.Queue(),
        ctx.Queue(),
    )
    procs = [
        ctx.Process(target=_writer, args=(url, me, start, seconds, out)) for me in range(WRITERS)
    ]
    if follow:
        procs.append(ctx.Process(target=_follower, args=(url, start, stop, seen_q)))
    for p in procs:
        p.start()
    start.wait()
    began = time.monotonic()
    total = sum(out.get() for _ in range(WRITERS))
    elapsed = time.monotonic() - began
    seen = 0
    if follow:
        time.sleep(0.5)  # let it catch up, then stop it at the next entry
        stop.set()
        with gl.Ledger.open(url) as b:
            b.open_account("nudge:a", "USD", rule=gl.BalanceRule.unrestricted())
            b.open_account("nudge:b", "USD", rule=gl.BalanceRule.unrestricted())
            b.transfer("nudge:a", "nudge:b", "0.01")
        seen = seen_q.get(timeout=60)
    for p in procs:
        p.join()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    return total / max(elapsed, seconds), seen


def main() -> None:
    parser = postgres_parser(__doc__)  # --url: $GIFTLEDGER_TEST_POSTGRES_URL or the local server
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--transactions",
        type=int,
        default=None,
        metavar="N",
        help="a run's size as run.py gives it: rounds of N / 2,000 seconds (0.5 at least)",
    )
    args = parser.parse_args()
    if args.transactions is not None:
        args.seconds = max(args.transactions / 2000, 0.5)
    admin = args.url
    if not reachable(admin):  # says the run is skipped
        return
    alone, followed, seen = [], [], []
    for _ in range(args.repeat):
        rate, _ = _round(admin, args.seconds, follow=False)
        alone.append(rate)
        rate, got = _round(admin, args.seconds, follow=True)
        followed.append(rate)
        seen.append(got)
    load = os.getloadavg()
    print(f"8 writers, {args.seconds:g} s per round, {args.repeat} interleaved rounds")
    print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    for name, rates in (("without a follower", alone), ("with a follower   ", followed)):
        best, med = max(rates), statistics.median(rates)
        each = ", ".join(f"{r:.0f}" for r in rates)
        print(f"{name}: best {best:8.0f} tx/s  median {med:8.0f} tx/s  ({each})")
    print(
        f"ratio with/without: best {max(followed) / max(alone):.3f}  median "
        f"{statistics.median(followed) / statistics.median(alone):.3f}"
    )
    print(f"the follower delivered per round: {seen} entries (the writers' posts, +1 nudge)")


if __name__ == "__main__":
    main()
