"""How close any Python ledger can come to the dict-of-int baseline on the gift workload.

``ledger_memory.py`` compares giftledger with a dict of ints that makes the
same checks but keeps nothing. This script times, in the same run, the least a
ledger with giftledger's contract must add to that: a timestamp, a SHA-256
hash chain over a canonical text, an immutable record per entry, a journal, a
history row per posting and per-unit totals (``_floor.py`` says exactly what
it does and leaves out). Its ratio to the baseline is a ceiling for any
pure-Python ledger keeping those records, giftledger included: giftledger also
checks idempotency keys, holds and reversals, locks its store and names every
error.

It prints the baseline, the floor and their ratio, and whether ``_floor.py``
ran interpreted or compiled (``cd benchmarks && mypyc _floor.py`` builds a
compiled one beside it; delete the ``.so`` to go back).

Like ``ledger_memory.py`` it takes the best of ``--repeat`` interleaved rounds.

Run: ``python benchmarks/ledger_floor.py [--transactions N] [--repeat R]``. Nothing here
asserts on time.
"""

from __future__ import annotations

import _floor
from ledger_memory import parse_size, run_baseline, run_floor


def main(argv: list[str] | None = None) -> None:
    args = parse_size(__doc__.splitlines()[0], argv)
    n = args.transactions
    how = "compiled" if not _floor.__file__.endswith(".py") else "interpreted"
    print(
        f"gift workload: {n:,} transactions of 4 postings over 2 units, in memory; "
        f"best of {args.repeat} interleaved round(s)"
    )
    baselines, floors = [], []
    for _ in range(args.repeat):
        baselines.append(run_baseline(n))
        floors.append(run_floor(n))
    baseline, floor = max(baselines), max(floors)
    print(f"  baseline (dict of int, same checks)   {baseline:>10,.0f} tx/s")
    print(
        f"  {'floor ledger, ' + how:<37} {floor:>10,.0f} tx/s  "
        f"{1e6 / floor:6.1f} us/tx  floor/baseline {floor / baseline:.2f}"
    )


if __name__ == "__main__":
    main()
