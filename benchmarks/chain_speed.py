"""Speed of ``send_gift`` in memory, beside the core posting the very entries it wrote.

The workload runs under the ``tiktok-live`` rules on an in-memory ledger with a
``gl.ManualClock``: 200 viewers, each with enough 1,400-coin packs (several lots) for
their share of the gifts, and 50 creators. Then ``--transactions`` gifts are sent, each
with its own idempotency key (``key="gift-<i>"``), viewer ``i % 200`` to creator
``i % 50``, cycling through Rose (1 coin), Finger Heart (5), Rosa (10), Doughnut (30)
and Hand Heart (100), so gifts cut across lot boundaries. Only the gifts are timed.

The baseline is the core ledger alone posting exactly what those gifts wrote: a fresh
in-memory ledger with the same accounts open gets the setup entries replayed (not
timed), then every entry the gifts wrote is posted again with ``Ledger.post``: the same
postings, key, memo and metadata. Metadata keys starting with ``gl.`` (and ``gl:`` keys)
are renamed ``gx.`` (``gx:``), the same length, since the public ``post`` may refuse the
chain's own namespace: what is measured is the cost of posting an entry of that shape.
The two ledgers must end with the same balances.

The ratio is chain rate / core rate, in gifts per second (target, issue 8 acceptance 8:
at least 0.5). Times are CPU time of this process (``time.process_time``); each
measurement runs ``--repeat`` rounds (3 by default), interleaved, and the best counts,
as in ``ledger_memory.py``.

``--profile`` then runs one more round of the gifts under ``cProfile`` and prints the 25
costliest functions (by cumulative time; ``--sort tottime`` for own time).

Run: ``python benchmarks/chain_speed.py [--transactions N] [--repeat R] [--profile]``.
Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import NamedTuple

import giftledger as gl

ECONOMY = "tiktok-live"
VIEWERS = 200
CREATORS = 50
PACK = 1_400
GIFTS = (("Rose", 1), ("Finger Heart", 5), ("Rosa", 10), ("Doughnut", 30), ("Hand Heart", 100))


def _viewer(i: int) -> str:
    return f"v{i % VIEWERS}"


def _creator(i: int) -> str:
    return f"c{i % CREATORS}"


def _gift(i: int) -> tuple[str, int]:
    return GIFTS[(i // VIEWERS) % len(GIFTS)]


class ChainRun(NamedTuple):
    seconds: float  # CPU seconds of the n gifts
    book: gl.Ledger
    first_gift_entry: int  # the id of the first entry the gifts wrote


def _setup(n: int) -> tuple[gl.Ledger, gl.GiftEconomy]:
    econ = gl.presets.load(ECONOMY)
    clock = gl.ManualClock(econ.latest.effective_from + timedelta(days=1))
    book = gl.Ledger(clock=clock)
    app = gl.GiftEconomy(book, econ)
    need = [0] * VIEWERS
    for i in range(n):
        need[i % VIEWERS] += _gift(i)[1]
    for c in range(CREATORS):
        app.open_creator(_creator(c), region="US")
    for v in range(VIEWERS):
        app.open_viewer(_viewer(v), region="US")
        for p in range(-(-need[v] // PACK)):
            app.buy_coins(_viewer(v), pack=PACK, channel="web", key=f"buy-{v}-{p}")
    return book, app


def _send_gifts(app: gl.GiftEconomy, n: int) -> None:
    for i in range(n):
        app.send_gift(_viewer(i), _creator(i), _gift(i)[0], key=f"gift-{i}")


def run_chain(n: int) -> ChainRun:
    """Set up the parties (not timed), then time ``n`` ``send_gift`` calls."""
    book, app = _setup(n)
    first = book.head[0] + 1
    gc.collect()
    start = time.process_time()
    _send_gifts(app, n)
    return ChainRun(time.process_time() - start, book, first)


# -- the baseline ---------------------------------------------------------------------------


def _plain_meta(meta: Mapping[str, object]) -> dict[str, object]:
    return {("gx." + k[3:] if k.startswith("gl.") else k): v for k, v in meta.items()}


def _plain_key(key: str | None) -> str | None:
    return "gx:" + key[3:] if key is not None and key.startswith("gl:") else key


def _replayable(tx: gl.Transaction) -> bool:
    return tx.kind is gl.EntryKind.POST and len(tx.postings) >= 2


def _post(book: gl.Ledger, tx: gl.Transaction) -> None:
    book.post(
        tx.postings,
        key=_plain_key(tx.key),
        memo=tx.memo,
        metadata=_plain_meta(tx.meta),  # type: ignore[arg-type]
        rates=tx.rates,
    )


class CoreRun(NamedTuple):
    seconds: float  # CPU seconds to post the gifts' entries
    entries: int  # how many entries that was
    skipped: int  # entries of the gifts that are not plain posts (not replayed)


def run_core(chain: ChainRun) -> CoreRun:
    """Post the entries the gifts wrote into a fresh ledger with the same accounts open."""
    source = chain.book
    book = gl.Ledger(clock=gl.ManualClock(source.clock.now()))
    for acct in source.accounts():
        if acct.trading:
            book.open_trading_account(acct.unit, acct.name)
        else:
            book.open_account(
                acct.name,
                acct.unit,
                normal=acct.normal,
                rule=acct.rule,
                metadata=_plain_meta(dict(acct.metadata)),  # type: ignore[arg-type]
            )
    for tx in source.transactions(1, chain.first_gift_entry):
        if _replayable(tx):
            _post(book, tx)
    entries = list(source.transactions(chain.first_gift_entry))
    todo = [tx for tx in entries if _replayable(tx)]
    gc.collect()
    start = time.process_time()
    for tx in todo:
        _post(book, tx)
    seconds = time.process_time() - start
    if book.balances() != source.balances():
        raise SystemExit("wrong: the replayed ledger's balances differ from the chain's")
    return CoreRun(seconds, len(todo), len(entries) - len(todo))


# -- main --------------------------------------------------------------------------------


def profile(n: int, sort: str) -> None:
    _, app = _setup(n)
    gc.collect()
    prof = cProfile.Profile()
    prof.runcall(_send_gifts, app, n)
    print(f"\ncProfile of {n:,} send_gift calls, top 25 by {sort}:")
    pstats.Stats(prof).strip_dirs().sort_stats(sort).print_stats(25)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", "-n", type=int, default=20_000, metavar="N")
    parser.add_argument("--repeat", "-r", type=int, default=3, metavar="R")
    parser.add_argument("--profile", action="store_true", help="then cProfile send_gift")
    parser.add_argument("--sort", default="cumulative", help="cProfile sort key")
    args = parser.parse_args(argv)
    n = args.transactions
    if n < 10:
        parser.error("--transactions must be at least 10")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    print(
        f"{n:,} send_gift calls ({ECONOMY}, {VIEWERS} viewers, {CREATORS} creators, "
        f"a key each), in memory; best of {args.repeat} interleaved round(s)"
    )
    chains: list[float] = []
    cores: list[float] = []
    last: CoreRun | None = None
    for _ in range(args.repeat):  # interleaved: a slow spell hits both alike
        chain = run_chain(n)
        chains.append(chain.seconds)
        last = run_core(chain)
        cores.append(last.seconds)
        del chain
    assert last is not None
    chain_rate = n / min(chains)
    core_rate = n / min(cores)
    per_gift = last.entries / n
    print(
        f"  send_gift                          {chain_rate:>9,.0f} gifts/s  "
        f"{1e6 / chain_rate:6.1f} us/gift"
    )
    print(
        f"  Ledger.post of the same entries    {core_rate:>9,.0f} gifts/s  "
        f"{1e6 / core_rate:6.1f} us/gift  ({per_gift:g} entr{'y' if per_gift == 1 else 'ies'} "
        f"per gift, {last.entries / min(cores):,.0f} entries/s)"
    )
    if last.skipped:
        print(f"  ({last.skipped:,} entries of the gifts are not plain posts; not replayed)")
    print(f"  send_gift / core                   {chain_rate / core_rate:9.2f}   (target >= 0.5)")
    if args.profile:
        profile(n, args.sort)


if __name__ == "__main__":
    main()
