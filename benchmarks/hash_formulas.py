"""What hash formula 3 (a keyed entry hashed with its idempotency record) costs beside
formula 2, on the same machine in the same run.

Three figures, each formula 3 against formula 2 (the formula of new entries pinned
with ``giftledger._ledger.writes.HASH_VERSION``):

- ``entry_hash``: µs to hash one keyed four-posting entry (``entry_hash``), and one
  with no key;
- ``keyed post``: keyed gift-shaped posts per second on the memory store;
- ``verify``: µs per entry of ``verify()`` over a book of keyed posts (formula 3
  reads the store's records once, then hashes each keyed entry with its record).

Rounds are interleaved (2, 3, 2, 3 …); the best and the median of each count. Times
are CPU time of this process (``time.process_time``). Nothing here asserts on time.

Run: ``python benchmarks/hash_formulas.py [--transactions N] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import attrs

import giftledger as gl
from giftledger._ledger import writes
from giftledger._ledger.hashing import entry_hash


def _book(n: int, version: int) -> tuple[gl.Ledger, float]:
    """A book of ``n`` keyed posts written under ``version``, and its posts per second."""
    writes.HASH_VERSION = version
    try:
        book = gl.Ledger()
        book.open_account("viewer", "COIN", rule=gl.BalanceRule.unrestricted())
        book.open_account("supply", "COIN", normal="credit")
        book.open_account("diamonds", "DIAMOND", rule=gl.BalanceRule.unrestricted())
        book.open_account("creator", "DIAMOND", normal="credit")
        start = time.process_time()
        for i in range(n):
            book.post(
                [
                    gl.debit("viewer", 10),
                    gl.credit("supply", 10),
                    gl.debit("diamonds", 5),
                    gl.credit("creator", 5),
                ],
                key=f"gift-{i}",
            )
        return book, n / (time.process_time() - start)
    finally:
        writes.HASH_VERSION = 3


def _hash_us(tx: gl.Transaction, fp: str | None, loops: int) -> float:
    prev = tx.prev_hash
    start = time.process_time()
    for _ in range(loops):
        entry_hash(tx, prev, fp, None)
    return (time.process_time() - start) / loops * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--transactions", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    gl.register_unit("COIN", 0)
    gl.register_unit("DIAMOND", 0)
    n = args.transactions
    figures: dict[tuple[str, int], list[float]] = {}
    for _ in range(args.repeat):
        for version in (2, 3):
            book, rate = _book(n, version)
            figures.setdefault(("keyed post /s", version), []).append(rate)
            start = time.process_time()
            count = book.verify()
            figures.setdefault(("verify us/entry", version), []).append(
                (time.process_time() - start) / count * 1e6
            )
            tx = book.transaction(count)
            assert tx is not None
            assert tx.hash_version == version
            with book.store.read() as r:
                record = r.idempotency(tx.key or "")
            assert record is not None
            figures.setdefault(("entry_hash keyed us", version), []).append(
                _hash_us(tx, record.fingerprint, 20_000)
            )
            unkeyed = attrs.evolve(tx, key=None)
            figures.setdefault(("entry_hash no key us", version), []).append(
                _hash_us(unkeyed, None, 20_000)
            )
    print(f"{n} keyed posts per book, {args.repeat} interleaved rounds")
    print(f"{'figure':24} {'f2 best':>10} {'f3 best':>10} {'f2 median':>10} {'f3 median':>10}")
    for name in ("entry_hash keyed us", "entry_hash no key us", "keyed post /s", "verify us/entry"):
        two, three = figures[(name, 2)], figures[(name, 3)]
        pick = max if name.endswith("/s") else min
        print(
            f"{name:24} {pick(two):10.2f} {pick(three):10.2f} "
            f"{statistics.median(two):10.2f} {statistics.median(three):10.2f}"
        )


if __name__ == "__main__":
    main()
