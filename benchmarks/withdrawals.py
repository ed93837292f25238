"""A withdrawal request as the book's holds grow, on memory, SQLite and PostgreSQL.

``request_withdrawal`` checks the creator's daily and weekly caps: it adds up the
creator's withdrawals of the last seven days. Its cost should follow those, not the
book's holds nor the creator's older withdrawals.

One creator, ``target``, under the ``tiktok-live`` rules and a ``gl.ManualClock``: 16
Lions converted to cash, then ``--past`` withdrawals of $100, one a day (older than
the week but the last six), and around them ``--holds`` holds between two other
accounts (a payment processor's authorizations, other creators' withdrawals: holds the
target's caps have nothing to do with), spread over the same days. Then it times
``request_withdrawal("target", $100, dry_run=True)`` (every check and read of a real
request, nothing written) ``--requests`` times, for a book with 100 other holds and
for one with ``--holds``, best of ``--repeat`` interleaved rounds, and prints the ratio
(1.0: independent of the book's holds). On PostgreSQL (``--url``, or
``GIFTLEDGER_TEST_POSTGRES_URL``; skipped when unreachable) it also prints the round
trips of one request.

Each request's answer is checked (the amount, the caps' view of the past week), so a
fast-but-wrong request cannot look good.

Run: ``python benchmarks/withdrawals.py [--holds N] [--past P] [--requests R]
[--repeat K] [--stores memory,sqlite,postgres] [--url URL]`` (``--transactions N``, as
``run.py`` passes it, is ``--holds N``). Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from moneyed import Money

import giftledger as gl

ECONOMY = "tiktok-live"
SMALL = 100


def _build(url: str, holds: int, past: int) -> tuple[gl.Ledger, gl.ManualClock, gl.GiftEconomy]:
    econ = gl.presets.load(ECONOMY)
    clock = gl.ManualClock(econ.latest.effective_from + timedelta(days=1))
    book = gl.Ledger.open(url, clock=clock)
    app = gl.GiftEconomy(book, econ)
    app.open_creator("target", region="US", age=30)
    app.open_viewer("fan", region="US")
    for _ in range(32):
        app.buy_coins("fan", pack=17500, channel="web")
    app.send_gift("fan", "target", "Lion", 16)  # about $2,400 once converted
    app.convert_diamonds("target")
    book.open_account("processor:authorized", "USD", rule=gl.BalanceRule.unrestricted())
    book.open_account("processor:settlement", "USD", rule=gl.BalanceRule.unrestricted())
    days = past + 1
    per_day = -(-holds // days)
    placed = 0
    for day in range(days):
        for _ in range(min(per_day, holds - placed)):
            h = book.hold("processor:authorized", "processor:settlement", "1.00")
            if placed % 2:
                book.void_hold(h)
            placed += 1
        if day < past:
            app.request_withdrawal("target", Money("100", "USD"), key=f"past-{day}")
        clock.advance(timedelta(days=1))
    return book, clock, app


def _time(app: gl.GiftEconomy, requests: int) -> float:
    """Seconds per dry-run request (checked)."""
    start = time.perf_counter()
    for _ in range(requests):
        w = app.request_withdrawal("target", Money("100", "USD"), dry_run=True)
        if w.amount != Money("100.00", "USD"):
            raise SystemExit(f"wrong: the request came back as {w}")
    return (time.perf_counter() - start) / requests


@contextmanager
def _counting() -> Iterator[list[int]]:
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


def _stores(args: argparse.Namespace, tmp: str) -> list[tuple[str, Callable[[str], Any]]]:
    out: list[tuple[str, Callable[[str], Any]]] = []
    for name in args.stores.split(","):
        if name == "memory":
            out.append(("memory", lambda tag: _plain("memory:")))
        elif name == "sqlite":
            out.append(("sqlite", lambda tag: _plain(f"sqlite:///{tmp}/{tag}.db")))
        elif name == "postgres":
            url = args.url or os.environ.get("GIFTLEDGER_TEST_POSTGRES_URL")
            if not url:
                print("  postgres: skipped (no --url and no GIFTLEDGER_TEST_POSTGRES_URL)")
                continue
            try:
                from stores_postgres import _schema, reachable
            except SystemExit as exc:  # psycopg missing
                print(f"  postgres: {exc}")
                continue
            if not reachable(url):
                print(f"  postgres: skipped ({url} is unreachable)")
                continue
            out.append(("postgres", lambda tag, u=url: _schema(u)))
        else:
            raise SystemExit(f"unknown store {name!r}: memory, sqlite or postgres")
    return out


@contextmanager
def _plain(url: str) -> Iterator[str]:
    yield url


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--holds", "--transactions", "-n", dest="holds", type=int, default=5_000, metavar="N"
    )
    parser.add_argument("--past", type=int, default=20, metavar="P")
    parser.add_argument("--requests", type=int, default=200, metavar="R")
    parser.add_argument("--repeat", type=int, default=3, metavar="K")
    parser.add_argument("--stores", default="memory,sqlite,postgres")
    parser.add_argument("--url", default=None)
    args = parser.parse_args(argv)
    if args.holds < SMALL or args.past < 1 or args.requests < 1 or args.repeat < 1:
        parser.error(f"--holds must be at least {SMALL}; --past, --requests, --repeat >= 1")
    print(
        f"request_withdrawal (dry run) with {args.past} past withdrawals, the book holding "
        f"{SMALL:,} or {args.holds:,} other holds; best of {args.repeat} round(s), "
        f"{args.requests} requests each"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for store, opener in _stores(args, tmp):
            times: dict[int, list[float]] = {SMALL: [], args.holds: []}
            with opener("small") as small_url, opener("large") as large_url:
                books = {}
                for n, url in ((SMALL, small_url), (args.holds, large_url)):
                    books[n] = _build(url, n, args.past)
                for _ in range(args.repeat):
                    for n in (SMALL, args.holds):
                        times[n].append(_time(books[n][2], args.requests))
                trips = None
                if store == "postgres":
                    with _counting() as sent:
                        books[args.holds][2].request_withdrawal(
                            "target", Money("100", "USD"), dry_run=True
                        )
                    trips = sent[0]
                for book, _, _ in books.values():
                    book.verify()
                    book.close()
            small, large = min(times[SMALL]), min(times[args.holds])
            median = statistics.median(times[args.holds]) / statistics.median(times[SMALL])
            line = (
                f"  {store:<9} {SMALL:,} holds {small * 1e6:9,.0f} us   {args.holds:,} holds "
                f"{large * 1e6:9,.0f} us   ratio {large / small:5.2f} "
                f"(median {median:.2f})"
            )
            if trips is not None:
                line += f"   round trips {trips}"
            print(line)


if __name__ == "__main__":
    main()
