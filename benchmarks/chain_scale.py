"""Cost of the chain for one creator as the journal grows, on memory and SQLite.

One creator, ``target``, has the same entries in every journal (53 of them, under the
``tiktok-live`` rules and a ``gl.ManualClock``):

- day 10: viewer ``regular`` buys 1,400 coins and sends ``target`` 5 Hand Hearts;
- day 30 (*the target day*): viewer ``patron`` buys 7,000 coins, sends ``target`` 40
  Hand Hearts, and ``target`` converts every Diamond to cash;
- day 50: ``regular`` sends 5 more Hand Hearts.

Around them the journal holds N other entries spread over days 0-60 (none on the target
day), two kinds mixed day by day:

- chain traffic (``--chain-share``, 10% by default): other viewers, each buying a 70-coin
  pack and sending 19 Roses to 50 other creators through the same ``GiftEconomy``;
- the rest gift-shaped core entries posted with ``Ledger.post_many`` (4 postings over
  COIN and DIAMOND, a memo and two metadata keys) on ``side:`` accounts the chain knows
  nothing about: the cheapest way to reach 200k entries on SQLite.

For a small and a large N (2,000 and 200,000 by default) it times, best of ``--repeat``
rounds with the two sizes interleaved:

1. ``gl.GiftEconomy(book, econ)`` on an already-open ledger (opening the chain);
2. ``app.explain("target")`` (50 gifts);
3. ``app.statement("target", start=<target day>, end=<the day after>).render()`` (41 lines);

in memory and on SQLite (a temporary file, reopened after building), and on SQLite again
in fresh processes that open the file and do the same (``Ledger.open`` timed apart),
reporting each child's peak RSS (``VmHWM`` on Linux, since ``getrusage``'s
``ru_maxrss`` there carries the parent's size over ``fork``/``exec``; ``ru_maxrss``
elsewhere). In memory it also reports what the chain keeps (``tracemalloc``: bytes still
allocated by ``GiftEconomy`` + ``explain`` + ``statement`` with the ``GiftEconomy``
alive, and the peak during), per journal entry.

Targets (issue 8, acceptance 7): each total at most 1.5x as long at 200k as at 2k; the
fresh process on the 200k file under 150 MB peak RSS; in memory the chain keeps nothing
per journal entry beyond the store's own rows (the marginal bytes per entry about 0).

Times are wall-clock (``time.perf_counter``): SQLite reads are I/O. The answers are
checked (50 gifts explained, 40 gift lines in the day, the same totals at every size), so
a fast-but-wrong chain cannot look good.

Run: ``python benchmarks/chain_scale.py [--transactions N] [--small M] [--repeat R]
[--quick] [--stores memory,sqlite] [--dir DIR]``. ``--transactions`` is the large N
(default 200,000), ``--small`` the small one (default N/100, at least 100); ``--quick``
is ``--transactions 20000``. Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import giftledger as gl

ECONOMY = "tiktok-live"
TARGET = "target"
DAYS = 61  # other traffic on days 0..60 except TARGET_DAY
TARGET_DAY = 30
REGULAR_DAYS = (10, 50)
TARGET_GIFT = "Hand Heart"  # 100 coins
PATRON_GIFTS = 40
REGULAR_GIFTS = 5  # on each of REGULAR_DAYS
CHAIN_GIFTS_PER_VIEWER = 19  # after one 70-coin purchase
CHAIN_CREATORS = 50
SIDE_WALLETS = 1_000
SIDE_CREATORS = 100
BATCH = 1_000
MB = 1024 * 1024


def _start(econ: gl.Economy) -> datetime:
    """Midnight (UTC) of the day after the rules' latest version took effect: day 0."""
    first = econ.latest.effective_from.astimezone(UTC) + timedelta(days=1)
    return first.replace(hour=0, minute=0, second=0, microsecond=0)


# -- building a journal -----------------------------------------------------------------


class Built(NamedTuple):
    entries: int  # journal length
    chain_ops: int  # chain operations of other parties
    bulk: int  # core entries on side: accounts
    seconds: float  # to build it


def _open_side_accounts(book: gl.Ledger) -> None:
    free = gl.BalanceRule.unrestricted()
    book.open_account("side:coin-supply", "COIN", rule=free)
    book.open_account("side:diamond-supply", "DIAMOND", rule=free)
    for i in range(SIDE_WALLETS):
        book.open_account(f"side:wallets:w{i}", "COIN", normal="credit", rule=free)
    for i in range(SIDE_CREATORS):
        book.open_account(f"side:creators:c{i}", "DIAMOND", normal="credit")


_DEBIT, _CREDIT = gl.Side.DEBIT, gl.Side.CREDIT


def _side_gift(i: int) -> gl.TransactionRequest:
    w, c = i % SIDE_WALLETS, (i * 7) % SIDE_CREATORS
    return gl.TransactionRequest(
        [
            gl.Posting(f"side:wallets:w{w}", _DEBIT, 10, "COIN"),
            gl.Posting("side:coin-supply", _CREDIT, 10, "COIN"),
            gl.Posting("side:diamond-supply", _DEBIT, 5, "DIAMOND"),
            gl.Posting(f"side:creators:c{c}", _CREDIT, 5, "DIAMOND"),
        ],
        memo=f"w{w} sends 1 x Rosa to c{c}",
        metadata={"side.gift": "Rosa", "side.seq": i},
    )


def _spread(count: int, days: list[int]) -> dict[int, range]:
    """Split ``range(count)`` into consecutive runs, one per day, as evenly as it goes."""
    out = {}
    for k, day in enumerate(days):
        out[day] = range(count * k // len(days), count * (k + 1) // len(days))
    return out


def build(book: gl.Ledger, econ: gl.Economy, clock: gl.ManualClock, n: int, share: float) -> Built:
    """Write the target's fixed entries and ``n`` others, day by day (see the module doc)."""
    started = time.perf_counter()
    start = _start(econ)
    app = gl.GiftEconomy(book, econ)
    _open_side_accounts(book)
    app.open_creator(TARGET, region="US")
    app.open_viewer("patron", region="US")
    app.open_viewer("regular", region="US")
    chain_ops = min(n, round(n * share))
    bulk = n - chain_ops
    other_days = [d for d in range(DAYS) if d != TARGET_DAY]
    bulk_by_day = _spread(bulk, other_days)
    chain_by_day = _spread(chain_ops, other_days)
    creators: set[str] = set()
    tick = timedelta(seconds=1)
    for day in range(DAYS):
        clock.set(start + timedelta(days=day, hours=1))
        if day == REGULAR_DAYS[0]:
            app.buy_coins("regular", pack=1400, channel="web", key="regular-buy")
        if day in REGULAR_DAYS:
            for g in range(REGULAR_GIFTS):
                clock.advance(tick)
                app.send_gift("regular", TARGET, TARGET_GIFT, key=f"regular-{day}-{g}")
        if day == TARGET_DAY:
            app.buy_coins("patron", pack=7000, channel="web", key="patron-buy")
            for g in range(PATRON_GIFTS):
                clock.advance(tick)
                app.send_gift("patron", TARGET, TARGET_GIFT, key=f"patron-{g}")
            clock.advance(tick)
            app.convert_diamonds(TARGET, key="target-convert")
            continue
        clock.set(start + timedelta(days=day, hours=2))
        todo = bulk_by_day[day]
        for first in range(todo.start, todo.stop, BATCH):
            clock.advance(tick)
            book.post_many([_side_gift(i) for i in range(first, min(first + BATCH, todo.stop))])
        for j in chain_by_day[day]:
            clock.advance(tick)
            viewer = f"fan{j // (CHAIN_GIFTS_PER_VIEWER + 1)}"
            if j % (CHAIN_GIFTS_PER_VIEWER + 1) == 0:
                app.open_viewer(viewer, region="US")
                app.buy_coins(viewer, pack=70, channel="web", key=f"op-{j}")
                continue
            creator = f"star{j % CHAIN_CREATORS}"
            if creator not in creators:
                app.open_creator(creator, region="US")
                creators.add(creator)
            app.send_gift(viewer, creator, "Rose", key=f"op-{j}")
    clock.set(start + timedelta(days=DAYS))
    return Built(book.head[0], chain_ops, bulk, time.perf_counter() - started)


# -- what is timed -------------------------------------------------------------------------


class Times(NamedTuple):
    chain: float  # GiftEconomy(book, econ)
    explain: float
    statement: float  # one day, rendered

    @property
    def total(self) -> float:
        return self.chain + self.explain + self.statement


def _day(econ: gl.Economy) -> tuple[datetime, datetime]:
    lo = _start(econ) + timedelta(days=TARGET_DAY)
    return lo, lo + timedelta(days=1)


def _answer(explanation: Any, statement: Any) -> tuple[str, ...]:
    """Check the two reports and return what must be the same at every size."""
    gifts = len(explanation.gifts)
    lines = statement.lines
    in_day = sum(1 for line in lines if line.kind == "gift")
    if gifts != PATRON_GIFTS + REGULAR_GIFTS * len(REGULAR_DAYS) or in_day != PATRON_GIFTS:
        raise SystemExit(
            f"wrong: explain found {gifts} gifts, the one-day statement {in_day} gift lines"
        )
    return (str(explanation), *(f"{line.kind} {line.description} {line.amount}" for line in lines))


def run_chain(book: gl.Ledger, econ: gl.Economy) -> tuple[Times, tuple[str, ...]]:
    """Open the chain on ``book``, explain the target, render its one-day statement."""
    lo, hi = _day(econ)
    t0 = time.perf_counter()
    app = gl.GiftEconomy(book, econ)
    t1 = time.perf_counter()
    explanation = app.explain(TARGET)
    t2 = time.perf_counter()
    statement = app.statement(TARGET, start=lo, end=hi)
    statement.render()
    t3 = time.perf_counter()
    return Times(t1 - t0, t2 - t1, t3 - t2), _answer(explanation, statement)


class Footprint(NamedTuple):
    retained: int  # bytes still allocated after, with the GiftEconomy alive
    peak: int  # bytes at the peak, during


def chain_footprint(book: gl.Ledger, econ: gl.Economy) -> Footprint:
    """What ``GiftEconomy`` + ``explain`` + ``statement`` allocate and keep (tracemalloc)."""
    lo, hi = _day(econ)
    gc.collect()
    tracemalloc.start()
    try:
        app = gl.GiftEconomy(book, econ)
        app.explain(TARGET)
        app.statement(TARGET, start=lo, end=hi).render()
        gc.collect()
        retained, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del app
    return Footprint(retained, peak)


# -- the fresh process -------------------------------------------------------------------------


def _rss_now() -> int | None:
    """This process's resident set now, in bytes (Linux), else None."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _peak_rss() -> int:
    """This process's peak resident set, in bytes.

    On Linux ``VmHWM`` from ``/proc/self/status``: ``getrusage``'s ``ru_maxrss`` survives
    ``fork`` and ``exec`` there, so a child started by a big parent would report the
    parent's size. Elsewhere ``ru_maxrss``.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB on Linux


def child(url: str) -> None:
    """In a fresh process: open the ledger at ``url``, then the chain, explain, statement."""
    econ = gl.presets.load(ECONOMY)
    clock = gl.ManualClock(_start(econ) + timedelta(days=DAYS))
    rss_base = _rss_now()
    t0 = time.perf_counter()
    book = gl.Ledger.open(url, clock=clock)
    opened = time.perf_counter() - t0
    times, answer = run_chain(book, econ)
    book.close()
    out = {
        "open": opened,
        "times": list(times),
        "answer": list(answer),
        "rss_base": rss_base,
        "peak_rss": _peak_rss(),
    }
    print(json.dumps(out))


def run_child(url: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--child", url],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode:
        raise SystemExit(f"the fresh process failed:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


# -- reporting -------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.1f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def _row(label: str, small: float, large: float, target: str = "", fmt: Any = _ms) -> None:
    ratio = large / small if small else float("inf")
    print(f"  {label:<34} {fmt(small):>12} {fmt(large):>12} {ratio:>9.2f}x  {target}")


def _header(title: str, built: dict[int, Built]) -> None:
    small, large = sorted(built)
    print(f"\n{title}")
    print(
        f"  {'':<34} {built[small].entries:>12,} {built[large].entries:>12,} "
        f"{'large/small':>10}  target"
    )


def _best(runs: list[Times]) -> Times:
    return Times(*(min(getattr(r, f) for r in runs) for f in Times._fields))


def _report_times(small: Times, large: Times) -> None:
    _row("GiftEconomy(book, econ)", small.chain, large.chain)
    _row("explain(target)", small.explain, large.explain)
    _row("statement(target, one day)", small.statement, large.statement)
    _row("total", small.total, large.total, "<= 1.50x")


def _check_same(answers: dict[int, tuple[str, ...]], where: str) -> None:
    if len(set(answers.values())) != 1:
        raise SystemExit(f"wrong: {where}: the target's reports differ between sizes")


# -- the stores -------------------------------------------------------------------------------


def bench_memory(econ: gl.Economy, sizes: tuple[int, int], share: float, rounds: int) -> None:
    books: dict[int, gl.Ledger] = {}
    built: dict[int, Built] = {}
    for n in sizes:
        clock = gl.ManualClock(_start(econ))
        books[n] = gl.Ledger(clock=clock)
        built[n] = build(books[n], econ, clock, n, share)
        gc.collect()
    _report_build("memory", built)
    runs: dict[int, list[Times]] = {n: [] for n in sizes}
    answers: dict[int, tuple[str, ...]] = {}
    for _ in range(rounds):
        for n in sizes:
            gc.collect()
            times, answers[n] = run_chain(books[n], econ)
            runs[n].append(times)
    _check_same(answers, "memory")
    feet = {n: chain_footprint(books[n], econ) for n in sizes}
    small, large = sizes
    _header(f"memory, in process (best of {rounds})", built)
    _report_times(_best(runs[small]), _best(runs[large]))
    print("  what the chain allocates (tracemalloc), the GiftEconomy alive:")

    def mb(b: float) -> str:
        return f"{b / MB:,.2f} MB"

    _row("kept", feet[small].retained, feet[large].retained, fmt=mb)
    _row("peak, during", feet[small].peak, feet[large].peak, fmt=mb)

    def per(b: float) -> str:
        return f"{b:,.1f} B"

    _row(
        "kept per journal entry",
        feet[small].retained / built[small].entries,
        feet[large].retained / built[large].entries,
        fmt=per,
    )
    grown = (feet[large].retained - feet[small].retained) / (
        built[large].entries - built[small].entries
    )
    print(f"  {'kept per added entry (marginal)':<34} {grown:>25,.1f} B {'':>10}  about 0")


def _report_build(store: str, built: dict[int, Built]) -> None:
    for b in built.values():
        print(
            f"  built {store:<6} {b.entries:>9,} entries ({b.chain_ops:,} other chain operations, "
            f"{b.bulk:,} core entries) in {b.seconds:,.1f} s",
            flush=True,
        )


def bench_sqlite(
    econ: gl.Economy,
    sizes: tuple[int, int],
    share: float,
    rounds: int,
    directory: str | None,
) -> None:
    with tempfile.TemporaryDirectory(dir=directory, prefix="gl-chain-") as tmp:
        urls = {n: f"sqlite:///{os.path.join(tmp, f'chain-{n}.db')}" for n in sizes}
        built: dict[int, Built] = {}
        for n in sizes:
            clock = gl.ManualClock(_start(econ))
            with gl.Ledger.open(urls[n], clock=clock) as book:
                built[n] = build(book, econ, clock, n, share)
        _report_build("sqlite", built)
        end = gl.ManualClock(_start(econ) + timedelta(days=DAYS))
        books = {n: gl.Ledger.open(urls[n], clock=end) for n in sizes}
        runs: dict[int, list[Times]] = {n: [] for n in sizes}
        answers: dict[int, tuple[str, ...]] = {}
        for _ in range(rounds):
            for n in sizes:
                gc.collect()
                times, answers[n] = run_chain(books[n], econ)
                runs[n].append(times)
        for book in books.values():
            book.close()
        _check_same(answers, "sqlite")
        fresh: dict[int, list[dict[str, Any]]] = {n: [] for n in sizes}
        for _ in range(rounds):
            for n in sizes:
                result = run_child(urls[n])
                answers[n] = tuple(result["answer"])
                fresh[n].append(result)
        _check_same(answers, "sqlite, fresh process")
        sizes_mb = {n: os.path.getsize(urls[n].removeprefix("sqlite:///")) for n in sizes}
    small, large = sizes
    _header(f"sqlite, in process, the ledger already open (best of {rounds})", built)
    _report_times(_best(runs[small]), _best(runs[large]))
    _header(f"sqlite, fresh process (best of {rounds}; peak RSS: the highest)", built)

    def best(n: int) -> Times:
        return _best([Times(*r["times"]) for r in fresh[n]])

    def lowest(n: int, field: str) -> float:
        return float(min(r[field] for r in fresh[n]))

    _row("Ledger.open(url) (not in total)", lowest(small, "open"), lowest(large, "open"))
    _report_times(best(small), best(large))

    def mb(b: float) -> str:
        return f"{b / MB:,.1f} MB"

    peak = {n: max(r["peak_rss"] for r in fresh[n]) for n in sizes}
    if all(r["rss_base"] for n in sizes for r in fresh[n]):
        _row("RSS after imports", lowest(small, "rss_base"), lowest(large, "rss_base"), fmt=mb)
    _row("peak RSS", peak[small], peak[large], "< 150 MB at the large size", fmt=mb)
    _row("file size", sizes_mb[small], sizes_mb[large], fmt=mb)


# -- main -------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", "-n", type=int, default=200_000, metavar="N")
    parser.add_argument("--small", type=int, default=None, metavar="M")
    parser.add_argument("--quick", action="store_true", help="--transactions 20000")
    parser.add_argument("--repeat", "-r", type=int, default=3, metavar="R")
    parser.add_argument("--chain-share", type=float, default=0.1, metavar="F")
    parser.add_argument("--stores", default="memory,sqlite", help="memory, sqlite or both")
    parser.add_argument("--dir", default=None, help="where the SQLite files go")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child)
        return
    large = 20_000 if args.quick else args.transactions
    small = args.small if args.small is not None else max(large // 100, min(100, large // 2))
    if not 0 < small < large:
        parser.error("need 0 < --small < --transactions")
    if not 0.0 <= args.chain_share <= 1.0:
        parser.error("--chain-share is a fraction from 0 to 1")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    if not stores or set(stores) - {"memory", "sqlite"}:
        parser.error("--stores: memory, sqlite or memory,sqlite")
    econ = gl.presets.load(ECONOMY)
    print(
        f"one creator's {PATRON_GIFTS + 2 * REGULAR_GIFTS} gifts fixed ({ECONOMY}); "
        f"{small:,} vs {large:,} other entries, {args.chain_share:.0%} of them chain "
        f"operations of other parties; one-day statement of day {TARGET_DAY}"
    )
    sizes = (small, large)
    if "memory" in stores:
        bench_memory(econ, sizes, args.chain_share, args.repeat)
    if "sqlite" in stores:
        print()
        bench_sqlite(econ, sizes, args.chain_share, args.repeat, args.dir)


if __name__ == "__main__":
    main()
