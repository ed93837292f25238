"""``send_gift`` on PostgreSQL at 1, 2, 4 and 8 writer processes, beside the core post.

Under the ``tiktok-live`` rules, 64 viewers (each with enough 1,400-coin packs) and 16
creators are opened; then N processes (``spawn``: a fresh interpreter each, its own
connection and its own :class:`~giftledger.GiftEconomy`, as application servers are)
send ``--transactions`` gifts in all, each with its own idempotency key, Roses and
Finger Hearts in turn. Writer ``w`` sends gifts ``w, w + N, ...``, gift ``i`` from
viewer ``i % 64`` to creator ``i % 16``: each writer its own viewers and creators (a
viewer's wallet and a creator's Diamonds are locked by each gift to them). Each
writer has sent one gift from each of its viewers before the clock starts, as a
long-running service has (its lots are folded).

Once a round, 3 writers send gifts beside a fourth buying coin packs for the same
viewers (``chain 3w + buyer``, ``buyer beside 3w``: each over its own span), and the
8 writers also send every gift to one creator, as viewers do to the
creator of a live stream (``chain 8w, 1 creator``): under ``tiktok-live``'s
Diamond-value pay each gift reads the creator's Diamonds under its lock, so these gifts
take turns on that row. And 1 and 8 writers send their gifts cold (``chain 1w, cold``):
each from a viewer the process's lots index has dropped, as a service meeting more than
its 4,096 viewers does, so every gift folds the viewer's lots from the wallet's first
history page (read ahead with its entries, in the round trip that takes the locks).

The baseline, in the same rounds: ``Ledger.post`` of the core gift (four postings,
``stores_postgres.py``'s ``ledger Nw``) at the same numbers of writers. A chain gift
writes more (seven postings, its record in the metadata, a key) and reads more under
its locks (the viewer's lots, the creator's Diamonds, the rules' key); the ratio
``chain / post`` is what all that costs.

It also counts the round trips of one gift (the writers' ``_send`` calls over their
gifts) and, after each run, checks that every unit sums to zero and ``verify()``
passes. Interleaved rounds (``--rounds``), each in a fresh schema; best and median.

First it prints the round trips of each kind of chain call, one process on a fresh
schema (``_send`` calls, each one query string; a reader's snapshot ends in one more):
a purchase, the gift right after it (its lots fold the purchase in), a gift, its replay,
a gift without a key, a conversion and a withdrawal request (refused below the minimum:
it has read its caps' window by then), a conversion and a request again after more
gifts, a new viewer, and a purchase and a gift through a ``GiftEconomy`` that has not met
the viewer yet (as in another process: it reads the viewer's profile first, and folds the
viewer's lots from the wallet's first history page).

Run: ``python benchmarks/chain_postgres.py [--url URL] [--transactions N] [--rounds R]``.
Nothing here asserts on time.
"""

from __future__ import annotations

import statistics
import time
from datetime import timedelta
from typing import Any

import giftledger as gl

try:
    import psycopg  # noqa: F401 - the postgres extra
except ImportError:  # pragma: no cover - the postgres extra is not installed
    raise SystemExit(
        "skipped: psycopg is not installed (pip install 'giftledger[postgres]')"
    ) from None

from _gifts import register_units
from stores_postgres import (
    _schema,
    counting_trips,
    ledger_writers,
    postgres_parser,
    reachable,
    run_writers,
)

ECONOMY = "tiktok-live"
VIEWERS = 64
CREATORS = 16
PACK = 1_400
GIFTS = (("Rose", 1), ("Finger Heart", 5))
WRITERS = (1, 2, 4, 8)


def _gift(i: int, creators: int = CREATORS) -> tuple[str, str, str]:
    return f"v{i % VIEWERS}", f"c{i % creators}", GIFTS[(i // VIEWERS) % len(GIFTS)][0]


def _clock() -> gl.ManualClock:
    econ = gl.presets.load(ECONOMY)
    return gl.ManualClock(econ.latest.effective_from + timedelta(days=1))


def _setup(url: str, n: int) -> None:
    with gl.Ledger.open(url, clock=_clock()) as book:
        app = gl.GiftEconomy(book, gl.presets.load(ECONOMY))
        for c in range(CREATORS):
            app.open_creator(f"c{c}", region="US")
        need = 5 * (n // VIEWERS + 2)  # the timed gifts and the warm-up, at most 5 coins each
        for v in range(VIEWERS):
            app.open_viewer(f"v{v}", region="US")
            for p in range(-(-need // PACK)):
                app.buy_coins(f"v{v}", pack=PACK, channel="web", key=f"buy-{v}-{p}")


def _writer(
    url: str,
    w: int,
    per: int,
    k: int,
    creators: int,
    mode: str,
    ready: Any,
    go: Any,
    done: Any,
) -> None:
    """Writer ``w`` sends its ``per`` gifts; in ``mode`` ``"buyer"``, writer 0 buys
    ``per`` coin packs instead; in ``"cold"``, each gift is from a viewer this process's
    lots index has dropped (as after 4,096 other viewers): its lots are folded from the
    wallet's first history page. Puts ``(w, start, end, round trips)`` on ``done``."""
    buying = mode == "buyer" and w == 0
    with counting_trips() as sent, gl.Ledger.open(url, clock=_clock()) as book:
        app = gl.GiftEconomy(book, gl.presets.load(ECONOMY))
        book.accounts()
        if buying:
            for v in range(VIEWERS):  # their profiles read, as a running service has
                app.viewer(f"v{v}")
        else:
            for v in range(w % k, VIEWERS, k):  # a gift from each of its viewers: lots folded
                app.send_gift(f"v{v}", f"c{v % CREATORS}", "Rose", key=f"warm-{v}")
        ready.put(w)
        go.wait()
        sent[0] = 0
        start = time.perf_counter()
        for j in range(per):
            if buying:
                app.buy_coins(f"v{j % VIEWERS}", pack=PACK, channel="web", key=f"mix-buy-{j}")
            else:
                viewer, creator, gift = _gift(w + j * k, creators)
                if mode == "cold":
                    app._lots.clear()  # the index dropped the viewer (internals: a benchmark)
                app.send_gift(viewer, creator, gift, key=f"gift-{w + j * k}")
        done.put((w, start, time.perf_counter(), sent[0]))


def mixed_writers(url: str, n: int, k: int = 4) -> tuple[float, float]:
    """``k - 1`` processes sending gifts beside one buying coin packs, ``n // k`` calls
    each: (gifts per second, purchases per second), each over its own writers' span."""
    per = max(n // k, 1)
    with _schema(url) as u:
        _setup(u, per * k)
        spans = run_writers(
            _writer, lambda w: (u, w, per, k, CREATORS, "buyer"), k, ready_timeout=300
        )
        gifts = [(s, e) for w, s, e, _ in spans if w]
        (buyer,) = [(s, e) for w, s, e, _ in spans if not w]
        with gl.Ledger.open(u) as book:
            if not book.trial_balance().is_balanced:
                raise SystemExit("wrong: the books do not balance after the gifts")
            book.verify()
    gift_rate = per * (k - 1) / (max(e for _, e in gifts) - min(s for s, _ in gifts))
    return gift_rate, per / (buyer[1] - buyer[0])


def operation_trips(url: str) -> list[tuple[str, int]]:
    """The round trips of each kind of chain call, in one process on a fresh schema."""
    out: list[tuple[str, int]] = []
    clock = _clock()
    with _schema(url) as u, gl.Ledger.open(u, clock=clock) as book, counting_trips() as sent:

        def trips(name: str, call: Any, refused: type[Exception] | None = None) -> None:
            sent[0] = 0
            if refused is None:
                call()
            else:
                try:
                    call()
                except refused:
                    pass  # refused after the reads the call makes (see the docstring)
                else:
                    raise SystemExit(f"wrong: {name} was expected to be refused")
            out.append((name, sent[0]))

        app = gl.GiftEconomy(book, gl.presets.load(ECONOMY))
        app.open_creator("c", region="US")
        app.open_viewer("v", region="US")
        app.buy_coins("v", pack=PACK, channel="web", key="b0")
        app.send_gift("v", "c", "Rose", key="g0")
        trips("buy_coins", lambda: app.buy_coins("v", pack=PACK, channel="web", key="b1"))
        trips("send_gift after it", lambda: app.send_gift("v", "c", "Rose", key="g1"))
        trips("send_gift", lambda: app.send_gift("v", "c", "Hand Heart", 10, key="g2"))
        trips("send_gift, replayed", lambda: app.send_gift("v", "c", "Hand Heart", 10, key="g2"))
        trips("send_gift, no key", lambda: app.send_gift("v", "c", "Rose"))
        clock.advance(timedelta(days=2))
        below = gl.BelowWithdrawalThreshold
        trips("convert_diamonds", lambda: app.convert_diamonds("c", key="cv"))
        trips("request_withdrawal", lambda: app.request_withdrawal("c", key="w1"), below)
        for i in range(3):  # more Diamonds to convert
            app.send_gift("v", "c", "Hand Heart", 5, key=f"g3-{i}")
        trips("convert_diamonds again", lambda: app.convert_diamonds("c", key="cv2"))
        trips("request_withdrawal again", lambda: app.request_withdrawal("c", key="w2"), below)
        trips("open_viewer", lambda: app.open_viewer("v2", region="US"))
        other = gl.GiftEconomy(book, gl.presets.load(ECONOMY))  # as another process would
        trips(
            "buy_coins, new to process",
            lambda: other.buy_coins("v", pack=PACK, channel="web", key="b2"),
        )
        third = gl.GiftEconomy(book, gl.presets.load(ECONOMY))  # its lots index is empty
        trips("send_gift, new to process", lambda: third.send_gift("v", "c", "Rose", key="g4"))
    return out


def chain_writers(
    url: str, n: int, k: int, creators: int = CREATORS, mode: str = "warm"
) -> tuple[float, float]:
    """``n`` gifts sent by ``k`` processes at once to ``creators`` creators (``mode``:
    see ``_writer``): (gifts per second, round trips per gift)."""
    per = max(n // k, 1)
    with _schema(url) as u:
        _setup(u, per * k)
        spans = run_writers(_writer, lambda w: (u, w, per, k, creators, mode), k, ready_timeout=300)
        elapsed = max(e for _, _, e, _ in spans) - min(s for _, s, _, _ in spans)
        with gl.Ledger.open(u) as book:
            if not book.trial_balance().is_balanced:
                raise SystemExit("wrong: the books do not balance after the gifts")
            book.verify()
    return per * k / elapsed, sum(t for _, _, _, t in spans) / (per * k)


def main() -> None:
    parser = postgres_parser(__doc__)
    parser.add_argument("--transactions", type=int, default=1_600, metavar="N")
    parser.add_argument("--rounds", type=int, default=3, metavar="R")
    args = parser.parse_args()
    register_units()
    url, n = args.url, args.transactions
    if not reachable(url):
        return
    print(f"{n:,} send_gift calls ({ECONOMY}, {VIEWERS} viewers, {CREATORS} creators, a key each)")
    print(f"beside {n:,} core posts (4 postings) per measurement; {args.rounds} round(s)\n")
    print("  round trips of one call, one process:")
    for name, count in operation_trips(url):
        print(f"    {name:<26} {count:>3}")
    print()
    chain: dict[int, list[float]] = {k: [] for k in WRITERS}
    post: dict[int, list[float]] = {k: [] for k in WRITERS}
    trips: list[float] = []
    storm: list[float] = []  # 8 writers, every gift to one creator
    cold: dict[int, list[float]] = {1: [], 8: []}  # every gift's viewer new to the process
    cold_trips: list[float] = []
    mixed: list[tuple[float, float]] = []  # 3 gift writers beside a buyer
    for r in range(args.rounds):
        for k in WRITERS:  # interleaved: every measurement once per round
            rate, per_gift = chain_writers(url, n, k)
            chain[k].append(rate)
            trips.append(per_gift)
            post[k].append(ledger_writers(url, n, k))
        storm.append(chain_writers(url, n, 8, creators=1)[0])
        for k in cold:
            rate, per_gift = chain_writers(url, n, k, mode="cold")
            cold[k].append(rate)
            cold_trips.append(per_gift)
        mixed.append(mixed_writers(url, n))
        print(f"  round {r + 1}/{args.rounds} done")

    def line(name: str, rates: list[float]) -> str:
        return f"  {name:<20} {max(rates):>10,.0f} {statistics.median(rates):>10,.0f}"

    print(f"\n  {'':<20} {'best':>10} {'median':>10}  per second")
    for k in WRITERS:
        print(line(f"chain {k}w", chain[k]) + "  gifts")
        print(line(f"post {k}w", post[k]) + "  core posts")
    print(line("chain 8w, 1 creator", storm) + "  gifts, all to one creator")
    for k in cold:
        print(line(f"chain {k}w, cold", cold[k]) + "  gifts, each viewer's lots folded anew")
    print(line("chain 3w + buyer", [g for g, _ in mixed]) + "  gifts, beside a buyer")
    print(line("buyer beside 3w", [b for _, b in mixed]) + "  purchases")
    print(f"\n  round trips per gift: {min(trips):.2f} to {max(trips):.2f}", end="")
    print(f"; cold: {min(cold_trips):.2f} to {max(cold_trips):.2f}\n")

    def ratio(a: list[float], b: list[float]) -> str:
        return f"{max(a) / max(b):5.2f} (median {statistics.median(a) / statistics.median(b):4.2f})"

    for k in WRITERS:
        print(f"  chain {k}w / post {k}w        {ratio(chain[k], post[k])}")
    print(f"  chain 8w / chain 1w        {ratio(chain[8], chain[1])}")
    print(f"  chain 8w, 1 creator / 1w   {ratio(storm, chain[1])}")
    print(f"  chain 1w, cold / 1w        {ratio(cold[1], chain[1])}")
    print(f"  post 8w / post 1w          {ratio(post[8], post[1])}")


if __name__ == "__main__":
    main()
