"""A PostgreSQL book that many connections wrote over time, beside a new one.

The totals of accounts without a floor (the supplies) and of each unit are delta rows,
one per slot, summed under the head by every post and by every read of such an
account. This script opens the gift book (``_gifts.py``) and lets ``--connections``
connections write to it one after another, as a pool that recycles its connections,
or a service restarting, does over weeks: each opens the ledger, posts one gift
linked at commit and one in a batch (which holds the head), and closes. Then, in
interleaved rounds, on that aged book and on a new one (the baseline, same run):

- ``--transactions`` single ``Ledger.post`` gifts, one commit each (wall and client CPU
  per gift);
- 200 ``balance()`` reads of the coin supply and a ``trial_balance()``.

It prints the slot rows each book holds, the figures and the ratio aged/new (1.0: the
history of connections costs nothing). Before schema 8 a connection's slot was its
backend's pid modulo 1024, so each connection added a row to every account and unit
it wrote, up to 2,048; since, a connection claims the lowest slot no other holds.

Run: ``python benchmarks/postgres_slots.py [--url URL] [--connections K]
[--transactions N] [--rounds R]``. Nothing here asserts on time.
"""

from __future__ import annotations

import statistics
import time

import giftledger as gl

try:
    import psycopg
except ImportError:  # pragma: no cover - the postgres extra is not installed
    raise SystemExit(
        "skipped: psycopg is not installed (pip install 'giftledger[postgres]')"
    ) from None

from _gifts import COIN_SUPPLY, VIEWERS, check, gift, open_book, register_units
from stores_postgres import _schema, postgres_parser, reachable


def _age(url: str, connections: int) -> None:
    """``connections`` connections, one after another, each writing two gifts."""
    for i in range(connections):
        with gl.Ledger.open(url) as book:
            book.post(gift(i))
            book.post_many([gift(connections + i)])


def _rows(url: str, schema: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            f'SELECT (SELECT count(*) FROM "{schema}".gl_balances) + '
            f'(SELECT count(*) FROM "{schema}".gl_totals)'
        ).fetchone()
    assert row is not None
    return int(row[0])


def _measure(book: gl.Ledger, first: int, n: int) -> tuple[float, float, float, float]:
    """Wall and client CPU µs per single-commit gift; µs per balance() and per
    trial_balance()."""
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(first, first + n):
        book.post(gift(i))
    per_gift = (time.perf_counter() - wall) / n * 1e6, (time.process_time() - cpu) / n * 1e6
    start = time.perf_counter()
    for _ in range(200):
        book.balance(COIN_SUPPLY)
    balance = (time.perf_counter() - start) / 200 * 1e6
    start = time.perf_counter()
    book.trial_balance()
    trial = (time.perf_counter() - start) * 1e6
    return (*per_gift, balance, trial)


def main(argv: list[str] | None = None) -> None:
    parser = postgres_parser(__doc__)
    parser.add_argument("--connections", type=int, default=1024, metavar="K")
    parser.add_argument("--transactions", "-n", type=int, default=1000, metavar="N")
    parser.add_argument("--rounds", type=int, default=3, metavar="R")
    args = parser.parse_args(argv)
    if not reachable(args.url):
        return
    register_units()
    k, n = args.connections, args.transactions
    gifts = 2 * k + VIEWERS + args.rounds * n
    print(f"PostgreSQL at {args.url}: {k:,} connections aged one book; {n:,} gifts a round")
    with _schema(args.url) as aged_url, _schema(args.url) as new_url:
        with open_book(aged_url, gifts):
            pass
        start = time.perf_counter()
        _age(aged_url, k)
        print(f"  aged in {time.perf_counter() - start:.0f} s")
        with open_book(new_url, gifts) as new:
            new.post_many([gift(i) for i in range(2 * k)])  # the same entries, one writer
        with gl.Ledger.open(new_url) as new, gl.Ledger.open(aged_url) as aged:
            for book in (new, aged):  # each knows every account, as a running service does
                book.post_many([gift(2 * k + i) for i in range(VIEWERS)])
            schemas = {"aged": aged_url.rsplit("=", 1)[1], "new": new_url.rsplit("=", 1)[1]}
            print(
                "  slot rows (gl_balances + gl_totals): "
                + ", ".join(f"{name} {_rows(args.url, s):,}" for name, s in schemas.items())
            )
            runs: dict[str, list[tuple[float, float, float, float]]] = {"aged": [], "new": []}
            for r in range(args.rounds):
                first = 2 * k + VIEWERS + r * n
                for name, book in (("new", new), ("aged", aged)):
                    runs[name].append(_measure(book, first, n))
            for book in (new, aged):
                check(book, 2 * k + VIEWERS + args.rounds * n)
                book.verify()
    labels = ("post wall µs", "post client CPU µs", "balance(supply) µs", "trial_balance µs")
    print(f"\n  {'':22}{'new best':>10}{'median':>9}{'aged best':>11}{'median':>9}  aged/new")
    for i, label in enumerate(labels):
        new_v = [run[i] for run in runs["new"]]
        aged_v = [run[i] for run in runs["aged"]]
        ratio = statistics.median(aged_v) / statistics.median(new_v)
        print(
            f"  {label:22}{min(new_v):>10,.0f}{statistics.median(new_v):>9,.0f}"
            f"{min(aged_v):>11,.0f}{statistics.median(aged_v):>9,.0f}  {ratio:.2f} (medians)"
        )


if __name__ == "__main__":
    main()
