"""Throughput of the in-memory ledger on a gift-shaped workload, beside a bare baseline.

Each transaction is one gift: a viewer's COIN wallet is debited, the coin supply
credited, the Diamond supply debited and a creator's DIAMOND wallet credited:
four postings over two units. Viewer wallets carry a "must not go negative"
balance rule; the hash chain is on (it always is).

The baseline is a plain dict of ints that makes the same checks (the accounts
exist, amounts are positive ints, each posting's unit is its account's unit,
debits equal credits per unit, balance rules hold) but keeps no hash chain, no
journal and no records. It is the speed of "just the arithmetic" in Python.

The ledger is measured two ways, as a user would write each:

- ``specs``: ``book.post([gl.debit(...), gl.credit(...), ...])`` with int amounts;
- ``postings``: ``book.post([gl.Posting(name, gl.Side.DEBIT, minor, unit), ...])``,
  pre-resolved minor units (skips amount parsing);
- ``keyed``: as ``specs``, with an idempotency key on every post (``key="gift-<i>"``),
  as the economy's chain operations post;
- ``many``: as ``postings``, 1,000 gifts per ``book.post_many(...)`` call.

In the same rounds it times the floor of ``ledger_floor.py`` (``_floor.py``:
the least any Python ledger keeping giftledger's records must do) and prints
the core ``post`` (the ``postings`` variant) against it (target >= 0.7), and
``post_many`` against ``post`` (target >= 1.1).

Finally it checks that neither writes nor lookups slow down as the history
grows: it compares the write rate of the last 10% of the transactions with that
of the first 10%, and times ``book.balance(name)`` and
``book.balance(name, at=..., recorded_through=...)`` calls after 10% of the
transactions and again after all of them (a ratio about 1.0 means independent
of history length).

Times are CPU time of this process (``time.process_time``), so other work on a
shared machine disturbs the figures less; the baseline is timed the same way.

Each measurement runs ``--repeat`` rounds (3 by default), interleaved, and the
best rate of each counts, as ``timeit`` takes the best of its repeats: on a
shared machine the slowest rounds measure the neighbours, not the code.

Run: ``python benchmarks/ledger_memory.py [--transactions N] [--repeat R]``. Benchmarks never
run in the test suite, and nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable
from typing import NamedTuple

import _floor
import giftledger as gl
from _baseline import Baseline

VIEWERS = 1_000
CREATORS = 100
COINS_PER_GIFT = 10
DIAMONDS_PER_GIFT = 5
LOOKUPS = 10_000
BATCH = 1_000

COIN_SUPPLY = "platform:coin-supply"
DIAMOND_SUPPLY = "platform:diamond-supply"


def _register_units() -> None:
    gl.register_unit("COIN", 0, singular="coin")
    gl.register_unit("DIAMOND", 0, singular="diamond")


def _names() -> tuple[list[str], list[str]]:
    wallets = [f"viewers:v{i}:coins" for i in range(VIEWERS)]
    creators = [f"creators:c{i}:diamonds" for i in range(CREATORS)]
    return wallets, creators


def _funding(n: int) -> int:
    """Coins each viewer starts with: enough for every gift, with a margin."""
    return (n // VIEWERS + 1) * COINS_PER_GIFT * 2


# -- the ledger --------------------------------------------------------------------------


def _open_ledger(n: int) -> gl.Ledger:
    book = gl.Ledger()
    wallets, creators = _names()
    book.open_account(COIN_SUPPLY, "COIN", rule=gl.BalanceRule.unrestricted())
    book.open_account(DIAMOND_SUPPLY, "DIAMOND", rule=gl.BalanceRule.unrestricted())
    for name in wallets:
        book.open_account(name, "COIN", normal="credit")  # non-negative by default
    for name in creators:
        book.open_account(name, "DIAMOND", normal="credit")
    funding = _funding(n)
    for name in wallets:
        book.post([gl.debit(COIN_SUPPLY, funding), gl.credit(name, funding)])
    return book


def _gift_specs(book: gl.Ledger, i: int, wallets: list[str], creators: list[str]) -> None:
    book.post(
        [
            gl.debit(wallets[i % VIEWERS], COINS_PER_GIFT),
            gl.credit(COIN_SUPPLY, COINS_PER_GIFT),
            gl.debit(DIAMOND_SUPPLY, DIAMONDS_PER_GIFT),
            gl.credit(creators[i % CREATORS], DIAMONDS_PER_GIFT),
        ]
    )


def _gift_keyed(book: gl.Ledger, i: int, wallets: list[str], creators: list[str]) -> None:
    book.post(
        [
            gl.debit(wallets[i % VIEWERS], COINS_PER_GIFT),
            gl.credit(COIN_SUPPLY, COINS_PER_GIFT),
            gl.debit(DIAMOND_SUPPLY, DIAMONDS_PER_GIFT),
            gl.credit(creators[i % CREATORS], DIAMONDS_PER_GIFT),
        ],
        key=f"gift-{i}",
    )


_DEBIT, _CREDIT = gl.Side.DEBIT, gl.Side.CREDIT


def _postings(i: int, wallets: list[str], creators: list[str]) -> list[gl.Posting]:
    return [
        gl.Posting(wallets[i % VIEWERS], _DEBIT, COINS_PER_GIFT, "COIN"),
        gl.Posting(COIN_SUPPLY, _CREDIT, COINS_PER_GIFT, "COIN"),
        gl.Posting(DIAMOND_SUPPLY, _DEBIT, DIAMONDS_PER_GIFT, "DIAMOND"),
        gl.Posting(creators[i % CREATORS], _CREDIT, DIAMONDS_PER_GIFT, "DIAMOND"),
    ]


def _gift_postings(book: gl.Ledger, i: int, wallets: list[str], creators: list[str]) -> None:
    book.post(_postings(i, wallets, creators))


Gift = Callable[[gl.Ledger, int, list[str], list[str]], None]


def _each(gift: Gift) -> Callable[[gl.Ledger, int, int, list[str], list[str]], None]:
    """Post gifts ``start .. stop - 1`` one ``gift`` call each."""

    def post(
        book: gl.Ledger, start: int, stop: int, wallets: list[str], creators: list[str]
    ) -> None:
        for i in range(start, stop):
            gift(book, i, wallets, creators)

    return post


def _many(book: gl.Ledger, start: int, stop: int, wallets: list[str], creators: list[str]) -> None:
    """Post gifts ``start .. stop - 1`` with ``post_many``, ``BATCH`` per call."""
    for first in range(start, stop, BATCH):
        book.post_many(
            [_postings(i, wallets, creators) for i in range(first, min(first + BATCH, stop))]
        )


def _time_lookups(book: gl.Ledger, names: list[str]) -> tuple[float, float]:
    """Seconds per ``balance()`` call, now and as of a past time and journal point.

    LOOKUPS calls of each kind spread across ``names``; the past one asks for
    ``balance(name, at=<the latest effective time>, recorded_through=<the head>)``,
    so it counts every posting, as a statement at the end of a period does.
    """
    count = len(names)
    start = time.process_time()
    for i in range(LOOKUPS):
        book.balance(names[i % count])
    now = (time.process_time() - start) / LOOKUPS
    head = book.head[0]
    at = book.transaction(head).effective_at
    start = time.process_time()
    for i in range(LOOKUPS):
        book.balance(names[i % count], at=at, recorded_through=head)
    past = (time.process_time() - start) / LOOKUPS
    return now, past


class Run(NamedTuple):
    rate: float  # tx/s over all posts
    drift: float  # write rate of the last tenth of the posts over that of the first
    lookup_early: float  # seconds per balance() after a tenth of the posts
    lookup_late: float  # ... after all of them
    past_early: float  # seconds per balance(at=, recorded_through=) after a tenth
    past_late: float  # ... after all of them


def run_ledger(n: int, post: Callable[[gl.Ledger, int, int, list[str], list[str]], None]) -> Run:
    """Post ``n`` gifts, timing the writes and balance lookups as the history grows."""
    book = _open_ledger(n)
    wallets, creators = _names()
    lookup_names = [*wallets[:50], *creators[:50], COIN_SUPPLY, DIAMOND_SUPPLY]
    tenth = max(n // 10, 1)
    gc.collect()
    start = time.process_time()
    post(book, 0, tenth, wallets, creators)
    first = time.process_time() - start
    lookup_early, past_early = _time_lookups(book, lookup_names)
    start = time.process_time()
    post(book, tenth, n - tenth, wallets, creators)
    middle = time.process_time() - start
    start = time.process_time()
    post(book, max(n - tenth, tenth), n, wallets, creators)
    last = time.process_time() - start
    lookup_late, past_late = _time_lookups(book, lookup_names)
    _check_ledger(book, n)
    return Run(
        n / (first + middle + last), first / last, lookup_early, lookup_late, past_early, past_late
    )


def _check_ledger(book: gl.Ledger, n: int) -> None:
    """The books must add up, so a fast-but-wrong ledger cannot look good."""
    supply = book.balance(DIAMOND_SUPPLY)
    if int(supply.amount) != n * DIAMONDS_PER_GIFT:
        raise SystemExit(f"ledger is wrong: diamond supply {supply}, expected {n * 5}")
    if not book.trial_balance().is_balanced:
        raise SystemExit("ledger is wrong: trial balance is off")


# -- the baseline ------------------------------------------------------------------------


PlainPosting = tuple[str, bool, int, str]  # account, is debit, minor units, unit


def time_plain_gifts(
    open_account: Callable[[str, str, bool, int | None], object],
    post: Callable[[list[PlainPosting]], object],
    n: int,
) -> float:
    """Open the workload's accounts with ``open_account(name, unit, debit_normal,
    floor)``, fund the wallets, then time ``n`` gifts posted as plain tuples.

    Returns the CPU seconds of the gifts alone. The baseline and the floor ledger
    (``ledger_floor.py``) both run through it, so they post exactly the same way.
    """
    wallets, creators = _names()
    open_account(COIN_SUPPLY, "COIN", True, None)
    open_account(DIAMOND_SUPPLY, "DIAMOND", True, None)
    for name in wallets:
        open_account(name, "COIN", False, 0)
    for name in creators:
        open_account(name, "DIAMOND", False, 0)
    funding = _funding(n)
    for name in wallets:
        post([(COIN_SUPPLY, True, funding, "COIN"), (name, False, funding, "COIN")])
    gc.collect()
    start = time.process_time()
    for i in range(n):
        post(
            [
                (wallets[i % VIEWERS], True, COINS_PER_GIFT, "COIN"),
                (COIN_SUPPLY, False, COINS_PER_GIFT, "COIN"),
                (DIAMOND_SUPPLY, True, DIAMONDS_PER_GIFT, "DIAMOND"),
                (creators[i % CREATORS], False, DIAMONDS_PER_GIFT, "DIAMOND"),
            ]
        )
    return time.process_time() - start


def run_baseline(n: int) -> float:
    base = Baseline()

    def open_account(name: str, unit: str, debit_normal: bool, floor: int | None) -> None:
        base.open(name, unit, 1 if debit_normal else -1, floor)

    elapsed = time_plain_gifts(open_account, base.post, n)
    if base.net[DIAMOND_SUPPLY] != n * DIAMONDS_PER_GIFT:
        raise SystemExit("baseline is wrong")
    return n / elapsed


# -- main --------------------------------------------------------------------------------


def parse_size(description: str, argv: list[str] | None) -> argparse.Namespace:
    """``--transactions N`` (at least 10) and ``--repeat R`` rounds, the best of which counts."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--transactions", "-n", type=int, default=100_000, metavar="N")
    parser.add_argument(
        "--repeat", "-r", type=int, default=3, metavar="R", help="rounds; the best rate counts"
    )
    args = parser.parse_args(argv)
    if args.transactions < 10:
        parser.error("--transactions must be at least 10")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def run_floor(n: int) -> float:
    """Post ``n`` gifts into the floor ledger of ``_floor.py``; return transactions per second."""
    book = _floor.FloorLedger()
    elapsed = time_plain_gifts(book.open, book.post, n)
    if book.states[DIAMOND_SUPPLY].net != n * DIAMONDS_PER_GIFT:
        raise SystemExit("floor ledger is wrong")
    return n / elapsed


def main(argv: list[str] | None = None) -> None:
    args = parse_size(__doc__.splitlines()[0], argv)
    n = args.transactions
    _register_units()

    rounds = args.repeat
    print(
        f"gift workload: {n:,} transactions of 4 postings over 2 units, in memory; "
        f"best and median of {rounds} interleaved round(s)"
    )
    variants = (
        ("specs", "debit()/credit()", _each(_gift_specs)),
        ("postings", "gl.Posting", _each(_gift_postings)),
        ("keyed", "debit() + key", _each(_gift_keyed)),
        ("many", f"post_many({BATCH:,})", _many),
    )
    baselines: list[float] = []
    floors: list[float] = []
    runs: dict[str, list[Run]] = {label: [] for label, *_ in variants}
    for _ in range(rounds):  # interleaved, so a slow spell on a shared machine hits all alike
        baselines.append(run_baseline(n))
        floors.append(run_floor(n))
        for label, _, post in variants:
            runs[label].append(run_ledger(n, post))
    baseline, floor = max(baselines), max(floors)
    how = "compiled" if not _floor.__file__.endswith(".py") else "interpreted"
    print(
        f"  baseline (dict of int, same checks) {baseline:>10,.0f} tx/s best, "
        f"{statistics.median(baselines):>10,.0f} median"
    )
    print(
        f"  floor ({how} _floor.py)       {floor:>10,.0f} tx/s best, "
        f"{statistics.median(floors):>10,.0f} median  {1e6 / floor:6.1f} us/tx"
    )
    rates = {label: [r.rate for r in runs[label]] for label, *_ in variants}
    for label, how, _ in variants:
        rate = max(rates[label])
        print(
            f"  ledger, {label:<8} {how:>17} {rate:>10,.0f} tx/s best, "
            f"{statistics.median(rates[label]):>10,.0f} median  {1e6 / rate:6.1f} us/tx  "
            f"ledger/baseline {rate / baseline:.2f}"
        )
    post, many = rates["postings"], rates["many"]
    print(
        f"  core post / floor:  best {max(post) / floor:.2f}, "
        f"median {statistics.median(post) / statistics.median(floors):.2f}   (target >= 0.7)"
    )
    print(
        f"  post_many / post:   best {max(many) / max(post):.2f}, "
        f"median {statistics.median(many) / statistics.median(post):.2f}   (target >= 1.1)"
    )
    tenth = max(n // 10, 1)
    print(
        f"history length (1.0 = independent of it; medians), "
        f"first {tenth:,} vs last {tenth:,} posts:"
    )
    for label, *_ in variants:
        med = {f: statistics.median(getattr(r, f) for r in runs[label]) for f in Run._fields}
        print(
            f"  {label:<8} write rate, last/first {med['drift']:.2f};  "
            f"balance() {med['lookup_early'] * 1e6:5.2f} -> {med['lookup_late'] * 1e6:5.2f} us, "
            f"{med['lookup_late'] / med['lookup_early']:.2f};  "
            f"balance(at=, recorded_through=) {med['past_early'] * 1e6:5.2f} -> "
            f"{med['past_late'] * 1e6:5.2f} us, {med['past_late'] / med['past_early']:.2f}"
        )


if __name__ == "__main__":
    main()
