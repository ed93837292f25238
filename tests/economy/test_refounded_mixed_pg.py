"""Issue 8, acceptance 6: eight processes of mixed chain operations on one PostgreSQL schema.

Each of 8 processes (``spawn``: a fresh interpreter, its own connection and its own
:class:`~giftledger.GiftEconomy`, as separate application servers) makes 250 random
chain operations on shared viewers and creators: opening parties (again, and new
ones), buying coins, sending gifts, converting Diamonds, requesting, completing and
failing withdrawals. No caller may see anything but the rules' refusals
(``InsufficientFunds``, ``LimitExceeded``, ``BelowWithdrawalThreshold``,
``NotEligible``) — a deadlock, a serialization failure or a private error class
reaching a caller fails the test. Afterwards every unit sums to zero over all
accounts and ``verify()`` passes.

``GIFTLEDGER_MIXED_OPS`` sets the operations per process (default 250).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

import pytest

import giftledger as gl

from ..stores.conftest import postgres_server, postgres_url  # noqa: F401 - fixtures
from . import refounded_worker as worker

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 8
OPERATIONS = int(os.environ.get("GIFTLEDGER_MIXED_OPS", "250"))


@pytest.mark.postgres
@pytest.mark.slow
def test_eight_processes_of_mixed_chain_operations_keep_the_books(
    postgres_url: str,  # noqa: F811 - the fixture
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.syspath_prepend(str(ROOT))
    from tests.economy import refounded_worker

    with gl.Ledger.open(postgres_url, clock=gl.ManualClock(worker.DAY - timedelta(hours=1))) as b:
        worker.setup_mixed(gl.GiftEconomy(b, worker.economy()))

    started = time.perf_counter()
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    barrier = ctx.Barrier(PROCESSES)
    wall0 = time.time()
    procs = [
        ctx.Process(
            target=refounded_worker.mixed,
            args=(postgres_url, i, OPERATIONS, 8, wall0, barrier, out),
        )
        for i in range(PROCESSES)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=900) for _ in procs]
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    elapsed = time.perf_counter() - started

    outcomes: Counter[str] = Counter()
    for _, counts, _ in results:
        outcomes.update(counts)
    errors = [e for _, _, errs in results for e in errs]
    print(f"\n{PROCESSES} x {OPERATIONS} mixed operations in {elapsed:.1f} s: {dict(outcomes)}")
    assert errors == [], (
        f"{len(errors)} call(s) failed with something other than the rules' refusals:\n"
        + "\n".join(errors[:40])
    )
    assert sum(outcomes.values()) == PROCESSES * OPERATIONS
    assert outcomes["send_gift:ok"]
    assert outcomes["buy_coins:ok"]

    with gl.Ledger.open(postgres_url, clock=gl.ManualClock(worker.DAY + timedelta(hours=1))) as b:
        # Money conserved: per unit, every account's signed balance sums to zero.
        sums: dict[str, int] = defaultdict(int)
        balances = b.balances()
        for account in b.accounts():
            minor = gl.to_minor(balances[account.name], account.unit)
            sums[account.unit] += minor if account.normal is gl.Side.DEBIT else -minor
        assert {u: s for u, s in sums.items() if s} == {}
        assert b.trial_balance().is_balanced
        b.verify()
