"""What checkpoints and proofs cost: µs per entry, proof sizes at a million entries.

Two parts, each beside a baseline measured in the same run:

1. A synthetic tree of ``--leaves`` entry hashes (default 1,000,000; random 32-byte
   values, so no ledger is needed): the RFC 6962 root streamed through a
   ``CompactRange`` (O(log n) memory), against plain SHA-256 of the same leaves once
   each; and the size of an inclusion proof, a consistency proof and a checkpoint
   at that size (in hashes and JSON bytes).
2. A memory ledger of ``--entries`` transfers (default 100,000): the first
   ``checkpoint()`` (hashes every entry), a later one after 1,000 more entries
   (hashes only those: the cache), ``inclusion_proof`` / ``consistency_proof`` and
   their standalone checks, and ``verify(since=...)`` against ``verify()``. The
   baseline is reading every entry's hash from the store and SHA-256-ing it once.

Run: ``python benchmarks/checkpoints.py [--leaves N] [--entries M]``. Nothing here
asserts on time.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time
from collections.abc import Callable
from datetime import timedelta

import giftledger as gl
from giftledger._ledger.merkle import CompactRange, consistency_path, inclusion_path, leaf_hash


def _best(fn: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def synthetic(n: int) -> None:
    leaves = [os.urandom(32) for _ in range(n)]
    sha = hashlib.sha256

    def plain() -> None:
        for data in leaves:
            sha(data).digest()

    def streamed() -> bytes:
        r = CompactRange()
        append = r.append
        for data in leaves:
            append(leaf_hash(data))
        return r.root()

    base, tree = _best(plain, 2), _best(streamed, 2)
    print(f"synthetic tree of {n:,} entry hashes")
    print(f"  baseline: SHA-256 of each leaf once     {base / n * 1e6:8.3f} µs/entry")
    print(
        f"  RFC 6962 root, streamed (CompactRange)   {tree / n * 1e6:8.3f} µs/entry  "
        f"ratio {tree / base:.2f}"
    )
    hashed = [leaf_hash(d) for d in leaves]
    nodes: dict[tuple[int, int], bytes] = {}

    def subtree(a: int, b: int) -> bytes:
        key = (a, b)
        if key not in nodes:
            r = CompactRange()
            r.extend(hashed[a:b])
            nodes[key] = r.root()
        return nodes[key]

    for m in (0, n // 2, n - 1):
        path = inclusion_path(m, n, subtree)
        proof = gl.InclusionProof(m + 1, n, leaves[m].hex(), tuple(p.hex() for p in path))
        print(
            f"  inclusion proof of entry {m + 1:>9,}: {len(path)} hashes, "
            f"{len(proof.to_json()):,} bytes of JSON"
        )
    cpath = consistency_path(n // 2 + 1, n, subtree)
    cproof = gl.ConsistencyProof(n // 2 + 1, n, tuple(p.hex() for p in cpath))
    print(
        f"  consistency proof {n // 2 + 1:,} -> {n:,}: {len(cpath)} hashes, "
        f"{len(cproof.to_json()):,} bytes of JSON"
    )
    head_path = inclusion_path(n - 1, n, subtree)
    size = len(
        gl.Checkpoint(
            n, leaves[-1].hex(), streamed().hex(), tuple(p.hex() for p in head_path)
        ).to_json()
    )
    print(f"  checkpoint (with the head's path): {size:,} bytes of JSON, unsigned")


def ledger(m: int) -> None:
    clock = gl.ManualClock()
    book = gl.Ledger(clock=clock)
    book.open_account("a", "USD")
    book.open_account("b", "USD", normal="credit")
    requests = [gl.TransactionRequest((gl.debit("a", 1), gl.credit("b", 1)))] * 1000
    for _ in range(m // 1000):
        clock.advance(timedelta(seconds=1))
        book.post_many(requests)
    n = book.head[0]

    def plain() -> None:
        sha = hashlib.sha256
        with book.store.read() as r:
            for tx in r.transactions():
                sha(bytes.fromhex(tx.hash)).digest()

    base = _best(plain, 2)
    start = time.perf_counter()
    first = book.checkpoint()
    full = time.perf_counter() - start
    book.post_many(requests)
    start = time.perf_counter()
    later = book.checkpoint()
    incremental = time.perf_counter() - start
    print(f"memory ledger of {n:,} entries")
    print(f"  baseline: read each entry's hash, SHA-256 once  {base / n * 1e6:8.3f} µs/entry")
    print(
        f"  first checkpoint() (every entry)                {full / n * 1e6:8.3f} µs/entry  "
        f"ratio {full / base:.2f}"
    )
    print(
        f"  next checkpoint() after 1,000 more entries      {incremental / 1000 * 1e6:8.3f} "
        f"µs/new entry ({incremental * 1e3:.1f} ms in all; cached subtree roots: "
        f"{len(book._merkle().nodes):,})"
    )
    ids = [1 + (i * 7919) % later.size for i in range(200)]
    start = time.perf_counter()
    proofs = [book.inclusion_proof(i, later) for i in ids]
    prove = (time.perf_counter() - start) / len(ids)
    start = time.perf_counter()
    for p in proofs:
        gl.verify_inclusion(p, later)
    check = (time.perf_counter() - start) / len(ids)
    print(
        f"  inclusion_proof (cache warm)  {prove * 1e6:8.0f} µs/proof;  "
        f"verify_inclusion {check * 1e6:6.0f} µs"
    )
    start = time.perf_counter()
    cproof = book.consistency_proof(first, later)
    cons = time.perf_counter() - start
    start = time.perf_counter()
    gl.verify_consistency(cproof, first, later)
    ccheck = time.perf_counter() - start
    print(
        f"  consistency_proof {first.size:,} -> {later.size:,}  {cons * 1e6:8.0f} µs;  "
        f"verify_consistency {ccheck * 1e6:6.0f} µs"
    )
    v = _best(book.verify, 1)
    vs = _best(lambda: book.verify(since=first), 1)
    print(
        f"  verify() {v / n * 1e6:.2f} µs/entry; verify(since=) {vs / n * 1e6:.2f} µs/entry: "
        f"ratio {vs / v:.2f}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaves", type=int, default=None, help="default 1,000,000")
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--transactions", type=int, default=None, help="as --entries (run.py)")
    args = parser.parse_args(argv)
    # run.py passes --transactions N for a quick run: scale the synthetic tree with it.
    synthetic(args.leaves or (args.transactions * 10 if args.transactions else 1_000_000))
    ledger(args.transactions or args.entries)


if __name__ == "__main__":
    main()
