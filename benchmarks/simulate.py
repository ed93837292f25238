"""Wall time and peak RSS of ``gl.simulate`` at 10k and 100k gifts (1M on request).

Each size runs in a fresh process (so its peak RSS is its own): the simulation of
the default population on the ``tiktok-live`` preset sized to about N gifts
(7 days; viewers = N / 12.6 since a viewer sends about 1.8 gifts a day; creators
= viewers / 50, at least 10), then, in another fresh process, the baseline: the
same number of ledger entries the simulation wrote, posted with raw
``Ledger.post`` (gift-shaped: four postings over COIN and DIAMOND) on the same
store. The ratio simulation / baseline says what the chain (lots, records, rules,
the population's plan) costs above the core; RSS per entry says whether memory
grows with the entries alone.

Run: ``python benchmarks/simulate.py [--transactions N …] [--store memory|sqlite]``
(``--transactions 1000000`` for the 1M figure). Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time

import giftledger as gl


def _sizes(gifts: int) -> tuple[int, int]:
    viewers = max(10, round(gifts / 12.6))
    return viewers, max(10, viewers // 50)


def _store(kind: str, folder: str) -> str:
    return "memory:" if kind == "memory" else f"sqlite:///{folder}/bench.db"


def _rss_mib() -> float:
    # ru_maxrss is KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one_simulation(gifts: int, kind: str) -> dict[str, float]:
    viewers, creators = _sizes(gifts)
    with tempfile.TemporaryDirectory() as folder:
        t0 = time.perf_counter()
        res = gl.simulate(
            "tiktok-live",
            viewers=viewers,
            creators=creators,
            days=7,
            seed=1,
            store=_store(kind, folder),
        )
        wall = time.perf_counter() - t0
        entries = res.ledger.head[0]
        out = {
            "gifts": res.figures.gifts,
            "entries": entries,
            "accounts": len(res.ledger.accounts()),
            "wall": wall,
            "rss": _rss_mib(),
        }
        res.ledger.close()
    return out


def one_baseline(entries: int, kind: str) -> dict[str, float]:
    econ = gl.presets.load("tiktok-live")  # registers COIN and DIAMOND
    with tempfile.TemporaryDirectory() as folder:
        book = gl.Ledger.open(
            _store(kind, folder), clock=gl.ManualClock(econ.latest.effective_from)
        )
        viewers, creators = 1_000, 100
        for v in range(viewers):
            book.open_account(f"v{v}", "COIN", normal="credit")
        for c in range(creators):
            book.open_account(f"c{c}", econ.creator_unit, normal="credit")
        book.open_account("coin-supply", "COIN")
        book.open_account("diamond-supply", econ.creator_unit)
        t0 = time.perf_counter()
        for i in range(entries):
            v, c = f"v{i % viewers}", f"c{i % creators}"
            book.post(
                [
                    gl.Posting("coin-supply", gl.Side.DEBIT, 10, "COIN"),
                    gl.Posting(v, gl.Side.CREDIT, 10, "COIN"),
                    gl.Posting("diamond-supply", gl.Side.DEBIT, 10, econ.creator_unit),
                    gl.Posting(c, gl.Side.CREDIT, 10, econ.creator_unit),
                ]
            )
        wall = time.perf_counter() - t0
        book.close()
    return {"entries": entries, "wall": wall, "rss": _rss_mib()}


def _child(*args: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", "-n", type=int, action="append", metavar="GIFTS")
    parser.add_argument("--store", choices=("memory", "sqlite"), default="memory")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        what, n, kind = args.child
        fn = one_simulation if what == "sim" else one_baseline
        print(json.dumps(fn(int(n), kind)))
        return 0
    sizes = args.transactions or [10_000, 100_000]
    print(
        f"gl.simulate on {args.store} (tiktok-live, 7 days) vs raw Ledger.post of as many entries"
    )
    header = (
        f"{'gifts':>9} {'entries':>9} {'accounts':>9} {'sim s':>8} {'base s':>8} "
        f"{'ratio':>6} {'sim MiB':>8} {'base MiB':>9} {'KiB/entry':>10}"
    )
    print(header)
    for n in sizes:
        sim = _child("--child", "sim", str(n), args.store)
        base = _child("--child", "base", str(int(sim["entries"])), args.store)
        per_entry = (sim["rss"] - base["rss"]) * 1024 / sim["entries"]
        print(
            f"{int(sim['gifts']):>9,} {int(sim['entries']):>9,} {int(sim['accounts']):>9,} "
            f"{sim['wall']:>8.1f} {base['wall']:>8.1f} {sim['wall'] / base['wall']:>6.2f} "
            f"{sim['rss']:>8.0f} {base['rss']:>9.0f} {per_entry:>10.2f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
