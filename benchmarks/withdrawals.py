"""A withdrawal request as the book's holds grow, on memory, SQLite and PostgreSQL.

``request_withdrawal`` checks the creator's daily and weekly caps: it adds up the
creator's withdrawals of the last seven days. Its cost should follow those, not the
book's holds nor the creator's older withdrawals.

One creator, ``target``, under the ``tiktok-live`` rules and a ``gl.ManualClock``:
enough Lions converted to cash, then ``--past`` withdrawals of $100, one a day, the last
one today (older than the week but the last seven), and around them ``--holds`` holds
between two other accounts (a payment processor's authorizations, other creators'
withdrawals: holds the target's caps have nothing to do with), spread over the same
days. Then it times ``request_withdrawal("target", $100, dry_run=True)`` (every check
and read of a real request, nothing written) ``--requests`` times, for a book with 100
other holds and for one with ``--holds``, best of ``--repeat`` interleaved rounds, and
prints the ratio (1.0: independent of the book's holds). On PostgreSQL (``--url``, or
``GIFTLEDGER_TEST_POSTGRES_URL``; skipped when unreachable) it also prints the round
trips of one request.

Each request's amount is checked, and so is what the caps add up (today's amount, the
week's amount and count) against the creator's holds read every one, so a
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
    lions = (past + 2) * 100 // 149 + 1  # $149.99 each once converted: enough for all
    for _ in range(2 * lions):
        app.buy_coins("fan", pack=17500, channel="web")
    app.send_gift("fan", "target", "Lion", lions)
    app.convert_diamonds("target")
    book.open_account("processor:authorized", "USD", rule=gl.BalanceRule.unrestricted())
    book.open_account("processor:settlement", "USD", rule=gl.BalanceRule.unrestricted())
    per_day = -(-holds // past)
    placed = 0
    for day in range(past):  # a withdrawal a day; the last one today
        if day:
            clock.advance(timedelta(days=1))
        for _ in range(min(per_day, holds - placed)):
            h = book.hold("processor:authorized", "processor:settlement", "1.00")
            if placed % 2:
                book.void_hold(h)
            placed += 1
        app.request_withdrawal("target", Money("100", "USD"), key=f"past-{day}")
    return book, clock, app


def _check_caps(book: gl.Ledger, app: gl.GiftEconomy) -> None:
    """What the caps add up (today's amount, the week's amount and count) must be what
    the creator's withdrawal holds say, read every one and filtered here."""
    cash = "creators:target:cash"
    now = book.clock.now()
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    week = now - timedelta(days=7)
    today = total = count = 0
    for h in book.holds(cash, pending_only=False):  # only withdrawals hold this account
        if h.debit != cash or h.status in (gl.HoldStatus.VOIDED, gl.HoldStatus.EXPIRED):
            continue
        at = book.transaction(h.id).recorded_at
        amount = h.posted_minor if h.status is gl.HoldStatus.POSTED else h.minor
        if at >= week:
            total, count = total + amount, count + 1
        if at >= day:
            today += amount
    with book.store.read() as r:
        withdrawn = getattr(app, "_withdrawn", None)
        if withdrawn is not None:
            got = withdrawn(r, cash, day, week)
        else:  # the code before it (c94a09e): one call per window
            today_, _ = app._withdrawn_since(r, cash, day, now)  # type: ignore[attr-defined]
            got = (today_, *app._withdrawn_since(r, cash, week, now))  # type: ignore[attr-defined]
    if got != (today, total, count) or not today or not count:
        raise SystemExit(f"wrong: the caps add up {got}, the holds say {(today, total, count)}")


def _time(app: gl.GiftEconomy, requests: int) -> float:
    """Seconds per dry-run request (checked)."""
    start = time.perf_counter()
    for _ in range(requests):
        w = app.request_withdrawal("target", Money("100", "USD"), dry_run=True)
        if w.amount != Money("100.00", "USD"):
            raise SystemExit(f"wrong: the request came back as {w}")
    return (time.perf_counter() - start) / requests


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
                    from stores_postgres import counting_trips

                    with counting_trips() as sent:
                        books[args.holds][2].request_withdrawal(
                            "target", Money("100", "USD"), dry_run=True
                        )
                    trips = sent[0]
                for book, _, app in books.values():
                    _check_caps(book, app)
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
