"""Throughput of the SQLite store on the gift workload, beside raw sqlite3.

Each transaction is one gift: a viewer's COIN wallet is debited, the coin supply
credited, the Diamond supply debited and a creator's DIAMOND wallet credited:
four postings over two units; viewer wallets must not go negative. Files are in
WAL mode with ``synchronous=FULL`` (each commit waits for its fsync).

Two modes.

**New files** (the default, ``--transactions N``), measured four ways, each on a
new file, interleaved over ``--repeat`` rounds (default 3):

- ``raw single``: sqlite3 alone inserting the same rows (one journal row with a
  precomputed hash, four posting rows, the four balance updates) and
  committing each transaction (``BEGIN IMMEDIATE`` … ``COMMIT``): the driver's
  own speed, the baseline;
- ``ledger single``: ``Ledger.post`` on ``SQLiteStore``, one commit each;
- ``raw batched`` and ``ledger batched``: the same, 1,000 transactions per
  commit (``executemany``; ``Ledger.post_many``).

**A long journal** (``--entries N``, e.g. 1,000,000): one file is loaded with N
gifts by ``post_many`` (1,000 per call), timing every call; then, at N entries:

- the write rate of the last 10% of the load against the first 10% (median and
  best call of each tenth, in wall and in CPU time; target >= 0.85). The first
  tenth ran a minute or more before the last, under other neighbours, so the
  last tenth's calls are also interleaved one by one with the first tenth of a
  new file, loaded the same way: that pair meets the same machine;
- ``balance(wallet, at=)`` (about N/1,000 postings), ``balance(coin supply,
  at=)`` (about N postings), ``balance(coin supply, recorded_through=)`` and
  ``trial_balance()``, 200 calls each at cuts spread over the history, every
  answer checked by arithmetic; best and median, and the median against the
  same calls after the first 10% (target < 5 ms);
- single commits on that file: ``--repeat`` rounds of ``--commits`` posts each,
  ten at a time in turn with raw sqlite3 appending the same gift rows to the
  same file in the store's own schema and connection settings (target >= 0.8
  of raw); ten at a time, as a shared disk's fsync time swings fivefold within
  seconds.

Prints best and median: on a shared machine the best run is the one least
disturbed by others, the median the typical one; the ratios compare figures of
the same run.

Run: ``python benchmarks/stores_sqlite.py [--transactions N] [--repeat R] [--dir DIR]``
or ``python benchmarks/stores_sqlite.py --entries N [--repeat R] [--commits K] [--dir DIR]``
(DIR: where the files go, default a temporary directory; put it on the disk you
care about). Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

import giftledger as gl
from _gifts import (
    BATCH,
    COIN_SUPPLY,
    COINS,
    CREATORS,
    DIAMOND_SUPPLY,
    VIEWERS,
    open_book,
)
from _gifts import check as _check
from _gifts import creator as _creator
from _gifts import gift as _gift
from _gifts import register_units as _register_units
from _gifts import wallet as _wallet


def _open_book(path: str, gifts: int) -> gl.Ledger:
    return open_book(f"sqlite:///{path}", gifts)


# -- the ledger ---------------------------------------------------------------------------


def ledger_single(path: str, n: int) -> float:
    with _open_book(path, n) as book:
        start = time.perf_counter()
        for i in range(n):
            book.post(_gift(i))
        rate = n / (time.perf_counter() - start)
        _check(book, n)
    return rate


def ledger_batched(path: str, n: int) -> float:
    with _open_book(path, n) as book:
        start = time.perf_counter()
        for first in range(0, n, BATCH):
            book.post_many([_gift(i) for i in range(first, min(first + BATCH, n))])
        rate = n / (time.perf_counter() - start)
        _check(book, n)
    return rate


# -- raw sqlite3 ----------------------------------------------------------------------------

_RAW_SCHEMA = """
CREATE TABLE journal (id INTEGER PRIMARY KEY, effective_at INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL) STRICT;
CREATE TABLE postings (tx_id INTEGER NOT NULL, idx INTEGER NOT NULL, account TEXT NOT NULL,
    side TEXT NOT NULL, minor INTEGER NOT NULL, unit TEXT NOT NULL, net_after INTEGER,
    PRIMARY KEY (tx_id, idx)) STRICT, WITHOUT ROWID;
CREATE TABLE balances (name TEXT PRIMARY KEY, net INTEGER NOT NULL) STRICT;
"""


def _raw_connect(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.executescript(_RAW_SCHEMA)
    names = [COIN_SUPPLY, DIAMOND_SUPPLY] + [_wallet(i) for i in range(VIEWERS)]
    names += [_creator(i) for i in range(CREATORS)]
    db.execute("BEGIN")
    db.executemany("INSERT INTO balances VALUES (?, 0)", [(n,) for n in names])
    db.execute("COMMIT")
    return db


def _raw_rows(i: int, prev: str) -> tuple[tuple[Any, ...], list[tuple[Any, ...]], str]:
    now = int(time.time() * 1e6)
    digest = hashlib.sha256(f"{prev}|{i}".encode()).hexdigest()
    postings = [
        (i, k, p.account, p.side.value, p.minor, p.unit, None) for k, p in enumerate(_gift(i))
    ]
    return (i, now, now, prev, digest), postings, digest


_INSERT_TX = "INSERT INTO journal VALUES (?, ?, ?, ?, ?)"
_INSERT_POSTING = "INSERT INTO postings VALUES (?, ?, ?, ?, ?, ?, ?)"
_UPDATE_BALANCE = "UPDATE balances SET net = net + ? WHERE name = ?"


def raw_single(path: str, n: int) -> float:
    db = _raw_connect(path)
    prev = "0" * 64
    start = time.perf_counter()
    for i in range(1, n + 1):
        tx, postings, prev = _raw_rows(i, prev)
        db.execute("BEGIN IMMEDIATE")
        db.execute(_INSERT_TX, tx)
        db.executemany(_INSERT_POSTING, postings)
        db.executemany(
            _UPDATE_BALANCE, [(p[4] if p[3] == "debit" else -p[4], p[2]) for p in postings]
        )
        db.execute("COMMIT")
    rate = n / (time.perf_counter() - start)
    db.close()
    return rate


def raw_batched(path: str, n: int) -> float:
    db = _raw_connect(path)
    prev = "0" * 64
    start = time.perf_counter()
    for first in range(1, n + 1, BATCH):
        txs, postings, deltas = [], [], []
        for i in range(first, min(first + BATCH, n + 1)):
            tx, ps, prev = _raw_rows(i, prev)
            txs.append(tx)
            postings += ps
            deltas += [(p[4] if p[3] == "debit" else -p[4], p[2]) for p in ps]
        db.execute("BEGIN IMMEDIATE")
        db.executemany(_INSERT_TX, txs)
        db.executemany(_INSERT_POSTING, postings)
        db.executemany(_UPDATE_BALANCE, deltas)
        db.execute("COMMIT")
    rate = n / (time.perf_counter() - start)
    db.close()
    return rate


# -- a long journal: --entries N ---------------------------------------------------------

WALLET_INDEX = 7
WALLET = _wallet(WALLET_INDEX)  # about N / 1,000 postings
LOOKUPS = 200  # calls of each kind, at cuts spread over the history


def _summary(values: list[float]) -> tuple[float, float]:
    """Best (highest) and median of rates."""
    return max(values), statistics.median(values)


def _expected(name: str, through: int, funding: int, base: int) -> int:
    """The gift workload's balance of ``name`` after entry ``through``, by arithmetic.

    Entries ``base`` + 1 .. ``base`` + VIEWERS fund the wallets (one each; the entries
    before them open the accounts); gift ``i`` (0-based) is entry ``base`` + VIEWERS + 1
    + i. A wrong fast answer cannot pass for a right one.
    """
    through -= base
    gifts = max(0, through - VIEWERS)
    if name == COIN_SUPPLY:
        return funding * min(through, VIEWERS) - COINS * gifts
    assert name == WALLET
    funded = funding if through > WALLET_INDEX else 0  # funded by entry WALLET_INDEX + 1
    spent = max(0, (gifts - WALLET_INDEX + VIEWERS - 1) // VIEWERS)  # gifts i = 7 (mod V)
    return funded - COINS * spent


def _time_lookups(
    book: gl.Ledger, marks: list[tuple[int, Any]], funding: int, base: int
) -> dict[str, list[float]]:
    """Seconds per call of each past-balance query and of ``trial_balance()``.

    ``marks``: ``(last entry id, its effective time)`` of each batch so far; the
    cuts are spread over them, and every answer is checked (``base``: see
    :func:`_expected`).
    """
    step = max(len(marks) // LOOKUPS, 1)
    cuts = marks[::step][:LOOKUPS]
    out: dict[str, list[float]] = {}
    for label, name, by_time in (
        (f"balance(wallet, at=)  [{WALLET}]", WALLET, True),
        (f"balance(supply, at=)  [{COIN_SUPPLY}]", COIN_SUPPLY, True),
        ("balance(supply, recorded_through=)", COIN_SUPPLY, False),
    ):
        times = out[label] = []
        for last, when in cuts:
            start = time.perf_counter()
            if by_time:
                got = book.balance(name, at=when)
            else:
                got = book.balance(name, recorded_through=last)
            times.append(time.perf_counter() - start)
            if int(got.amount) != _expected(name, last, funding, base):
                raise SystemExit(f"wrong: {label} at entry {last}: {got}")
    times = out["trial_balance()"] = []
    for _ in cuts:
        start = time.perf_counter()
        tb = book.trial_balance()
        times.append(time.perf_counter() - start)
        if not tb.is_balanced:
            raise SystemExit("wrong: the trial balance is off")
    return out


class _Raw:
    """sqlite3 alone appending gifts to the ledger's own file, in its schema.

    Per gift it sends what the store sends for one ``post``: one journal row,
    four posting rows (with net_after), the account-segment rows the entry opens,
    the four accounts' totals and the two units' trial-balance totals, inside
    ``BEGIN IMMEDIATE`` … ``COMMIT``, with the connection settings the store
    uses. It keeps the file consistent (ids, nets, totals), so the ledger goes
    on writing after it; only the hashes are not the ledger's.
    """

    def __init__(self, path: str, pragmas: dict[str, Any]) -> None:
        self.db = db = sqlite3.connect(path, isolation_level=None, timeout=60)
        for name, value in pragmas.items():
            db.execute(f"PRAGMA {name} = {value}")
        self.bits = int(
            db.execute("SELECT value FROM meta WHERE key = 'segment_bits'").fetchone()[0]
        )

    def close(self) -> None:
        self.db.close()

    def gifts(self, first: int, count: int) -> float:
        """Commit gifts ``first .. first + count - 1`` one by one; return the seconds
        they took (reading where the file stands is not counted)."""
        db = self.db
        accounts = {
            name: [id, net, pd, pc, exp, eff]
            for id, name, net, pd, pc, exp, eff in db.execute(
                "SELECT id, name, net, pending_debits, pending_credits, next_expiry, "
                "last_effective FROM accounts"
            )
        }
        last_id, prev, last_time = db.execute(
            "SELECT id, hash, recorded_at FROM transactions ORDER BY id DESC LIMIT 1"
        ).fetchone()
        segments: set[tuple[int, int]] = set()
        start = time.perf_counter()
        for i in range(first, first + count):
            id = last_id = last_id + 1
            now = last_time = max(int(time.time() * 1e6), last_time)
            digest = hashlib.sha256(f"{prev}|{id}|{now}".encode()).hexdigest()
            postings, updates, new = [], [], []
            totals: dict[str, list[int]] = {}
            for k, p in enumerate(_gift(i)):
                acc = accounts[p.account]
                signed = p.minor if p.side is gl.Side.DEBIT else -p.minor
                acc[1] += signed
                acc[5] = now
                postings.append((id, k, acc[0], p.side.value, p.minor, p.unit, acc[1]))
                updates.append((acc[1], acc[2], acc[3], acc[4], acc[5], acc[0]))
                pair = (acc[0], id >> self.bits)
                if pair not in segments:
                    segments.add(pair)
                    new.append(pair)
                sums = totals.setdefault(p.unit, [0, 0])
                sums[0 if signed > 0 else 1] += p.minor
            db.execute("BEGIN IMMEDIATE")
            db.execute(
                "INSERT INTO transactions (id, kind, effective_at, recorded_at, key, memo, "
                "metadata, reverses, hold_id, expires_at, rates, prev_hash, hash) "
                "VALUES (?, 'post', ?, ?, NULL, '', '[]', NULL, NULL, NULL, '[]', ?, ?)",
                (id, now, now, prev, digest),
            )
            db.executemany(
                "INSERT INTO postings (tx_id, idx, account_id, side, minor, unit, net_after) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                postings,
            )
            db.executemany(
                "INSERT OR IGNORE INTO account_segments (account_id, segment) VALUES (?, ?)", new
            )
            db.executemany(
                "INSERT INTO totals (unit, debits, credits) VALUES (?, ?, ?) "
                "ON CONFLICT (unit) DO UPDATE SET debits = debits + excluded.debits, "
                "credits = credits + excluded.credits",
                [(unit, d, c) for unit, (d, c) in totals.items()],
            )
            db.executemany(
                "UPDATE accounts SET net = ?, pending_debits = ?, pending_credits = ?, "
                "next_expiry = ?, last_effective = ? WHERE id = ?",
                updates,
            )
            db.execute("COMMIT")
            prev = digest
        return time.perf_counter() - start


def _post_many_timed(
    book: gl.Ledger, first: int, stop: int
) -> tuple[float, float, list[gl.Transaction]]:
    """Post gifts ``first .. stop - 1`` in one ``post_many``: wall and CPU seconds, entries."""
    requests = [_gift(i) for i in range(first, stop)]
    wall, cpu = time.perf_counter(), time.process_time()
    txs = book.post_many(requests)
    return time.perf_counter() - wall, time.process_time() - cpu, txs


def _timed(book: gl.Ledger, first: int, stop: int) -> tuple[float, float]:
    wall, cpu, _ = _post_many_timed(book, first, stop)
    return wall, cpu


def scale(n: int, rounds: int, commits: int, directory: str | None) -> None:
    """Load ``n`` gifts with ``post_many``, then measure reads and single commits at ``n``."""
    print(f"SQLite {sqlite3.sqlite_version}: WAL, synchronous=FULL")
    with tempfile.TemporaryDirectory(dir=directory, prefix="gl-bench-") as tmp:
        path = os.path.join(tmp, "long.db")
        print(f"  the file: {path}")
        book = _open_book(path, n)
        base = book.head[0] - VIEWERS  # the entries that opened the accounts
        fresh = _open_book(os.path.join(tmp, "fresh.db"), n)
        funding = (n // VIEWERS + 1) * COINS * 2
        batches = [(first, min(first + BATCH, n)) for first in range(0, n, BATCH)]
        tenth = max(len(batches) // 10, 1)
        walls: list[float] = []  # per call, this load
        cpus: list[float] = []
        side: list[tuple[float, float]] = []  # per call, the fresh file's first tenth
        marks: list[tuple[int, Any]] = []
        early: dict[str, list[float]] = {}
        print(f"\nloading {n:,} gifts with post_many, {BATCH:,} per call (one commit each)")
        load_start = time.perf_counter()
        for b, (first, stop) in enumerate(batches):
            if b >= len(batches) - tenth:
                # The last tenth, interleaved call by call with the first tenth of a new
                # file: both then meet the same neighbours on a shared machine.
                k = b - (len(batches) - tenth)
                side.append(_timed(fresh, k * BATCH, (k + 1) * BATCH))
            wall, cpu, txs = _post_many_timed(book, first, stop)
            walls.append(wall)
            cpus.append(cpu)
            marks.append((txs[-1].id, txs[-1].effective_at))
            if b + 1 == tenth:
                early = _time_lookups(book, marks, funding, base)
            if (b + 1) % tenth == 0:
                seg = walls[-tenth:]
                median, best = BATCH / statistics.median(seg), BATCH / min(seg)
                print(
                    f"  {(b + 1) * BATCH:>10,} gifts: this tenth {median:>8,.0f} tx/s median, "
                    f"{best:>8,.0f} best",
                    flush=True,
                )
        print(f"  loaded in {time.perf_counter() - load_start:.0f} s")
        for what, first_s, last_s in (
            ("wall time, first 10% then last 10%", walls[:tenth], walls[-tenth:]),
            ("CPU time,  first 10% then last 10%", cpus[:tenth], cpus[-tenth:]),
            ("wall time, interleaved with a new file", [w for w, _ in side], walls[-tenth:]),
            ("CPU time,  interleaved with a new file", [c for _, c in side], cpus[-tenth:]),
        ):
            (fb, fm) = _summary([BATCH / x for x in first_s])
            (lb, lm) = _summary([BATCH / x for x in last_s])
            print(
                f"  last 10% / first 10%, {what:<38} median {lm:>7,.0f} / {fm:>7,.0f} = "
                f"{lm / fm:.2f}, best {lb:>7,.0f} / {fb:>7,.0f} = {lb / fb:.2f}   (target >= 0.85)"
            )
        fresh.close()

        late = _time_lookups(book, marks, funding, base)
        print(
            f"\npast balances and the trial balance, {len(late['trial_balance()'])} calls each "
            f"(ms: best / median; median at {n:,} over median at {marks[tenth - 1][0]:,} entries)"
        )
        for label, values in late.items():
            best, median = min(values) * 1e3, statistics.median(values) * 1e3
            ratio = statistics.median(values) / statistics.median(early[label])
            print(f"  {label:<56} {best:7.3f} / {median:7.3f} ms   {ratio:5.2f}x  (target < 5 ms)")

        store = book.store
        assert isinstance(store, gl.SQLiteStore)
        pragmas = {
            name: store._db.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("synchronous", "cache_size", "busy_timeout")
        }
        raw = _Raw(path, pragmas)
        print(
            f"\nsingle commits on the {n:,}-entry file, {commits} per round, {rounds} rounds, "
            f"10 at a time in turn with raw sqlite3 writing the same rows ({pragmas})"
        )
        ledger_rates, raw_rates = [], []
        i = n
        block = 10  # commits each side takes in turn: the disk's fsync time swings by 5x
        for r in range(rounds):
            raw_time = ledger_time = 0.0
            for _ in range(max(commits // block, 1)):
                raw_time += raw.gifts(i, block)
                i += block
                start = time.perf_counter()
                for k in range(i, i + block):
                    book.post(_gift(k))
                ledger_time += time.perf_counter() - start
                i += block
            done = max(commits // block, 1) * block
            raw_rates.append(done / raw_time)
            ledger_rates.append(done / ledger_time)
            print(f"  round {r + 1}: raw {raw_rates[-1]:,.0f}, ledger {ledger_rates[-1]:,.0f} tx/s")
        raw.close()
        (rb, rm), (gb, gm) = _summary(raw_rates), _summary(ledger_rates)
        print(
            f"  ledger / raw: best {gb:,.0f} / {rb:,.0f} = {gb / rb:.2f}, "
            f"median {gm:,.0f} / {rm:,.0f} = {gm / rm:.2f}   (target >= 0.8)"
        )
        _check(book, i)
        book.close()


# -- main --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transactions", "-n", type=int, default=3_000, metavar="N")
    parser.add_argument("--repeat", type=int, default=3, metavar="R")
    parser.add_argument("--dir", default=None, help="where the database files go")
    parser.add_argument(
        "--entries",
        type=int,
        default=None,
        metavar="N",
        help="instead: load N entries into one file and measure at that length",
    )
    parser.add_argument(
        "--commits", type=int, default=300, metavar="K", help="single commits per round (--entries)"
    )
    args = parser.parse_args(argv)
    _register_units()
    if args.entries is not None:
        if args.entries < 10 * BATCH:
            parser.error(f"--entries must be at least {10 * BATCH}")
        scale(args.entries, max(args.repeat, 1), args.commits, args.dir)
        return
    n = args.transactions
    if n < 10:
        parser.error("--transactions must be at least 10")
    print(f"SQLite {sqlite3.sqlite_version}: WAL, synchronous=FULL, one new file per measurement")
    print(f"{n:,} gift transactions (4 postings, 2 units) per measurement\n")
    results: dict[str, list[float]] = {}
    measurements: tuple[tuple[str, Callable[[str, int], float]], ...] = (
        ("raw single", raw_single),
        ("ledger single", ledger_single),
        ("raw batched", raw_batched),
        ("ledger batched", ledger_batched),
    )
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="gl-bench-") as tmp:
        print(f"  files in {tmp}")
        for run in range(max(args.repeat, 1)):
            rates = []
            for name, fn in measurements:
                rate = fn(os.path.join(tmp, f"{name.replace(' ', '-')}-{run}.db"), n)
                results.setdefault(name, []).append(rate)
                rates.append(f"{name} {rate:,.0f}")
            print(f"  run {run + 1}: " + ", ".join(rates))
    print()
    for name, _ in measurements:
        best, median = _summary(results[name])
        print(f"  {name:<16} {best:>10,.0f} best, {median:>10,.0f} median committed tx/s")
    print()
    for what, target in (("single", 0.8), ("batched", 0.5)):
        (gb, gm), (rb, rm) = _summary(results[f"ledger {what}"]), _summary(results[f"raw {what}"])
        print(
            f"  {what} / raw {what}: best {gb / rb:6.0%}, median {gm / rm:6.0%}"
            f"   (target >= {target:.0%})"
        )


if __name__ == "__main__":
    main()
