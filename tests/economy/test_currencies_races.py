"""Processes racing paid gifts, conversions and reversals for one creator.

Four processes, each with its own ledger on one store (SQLite and PostgreSQL),
send Super Chats in GBP, USD and EUR to one creator paid in pounds, convert their
Diamonds (all or some) and reverse gifts, in random order. However they
interleave: no caller sees anything but the rules' refusals, the books verify
and balance, and the creator's accounts agree exactly with the records of the
gifts that stand: what they were owed is what conversions released plus what is
still payable, their carries are what conversions settled plus what is still
carried, and their Diamonds are what conversions took plus what they hold.
"""

from __future__ import annotations

import multiprocessing
from fractions import Fraction
from pathlib import Path

import pytest

import giftledger as gl

from ..stores.conftest import postgres_server, postgres_url  # noqa: F401 - fixtures

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 4
STEPS = 30


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def race_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'race.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.mark.slow
def test_racing_paid_gifts_conversions_and_reversals_keep_the_creator_exact(
    race_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(ROOT))
    from tests.economy import currencies_race_worker as worker

    worker.setup(race_url)
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    barrier = ctx.Barrier(PROCESSES)
    procs = [
        ctx.Process(target=worker.race, args=(race_url, seed, STEPS, barrier, out))
        for seed in range(PROCESSES)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    errors = [e for _, errs in results for e in errs]
    assert errors == [], "only the rules' refusals may reach a caller:\n" + "\n".join(errors)

    book, app = worker.chain(race_url)
    app.verify()
    assert book.trial_balance().is_balanced
    live: dict[int, gl.PaidGiftRecord] = {}
    conversions: list[gl.ConversionRecord] = []
    with book.store.read() as r:
        for tx in r.transactions(1):
            rec = gl.record_of(tx)
            if isinstance(rec, gl.PaidGiftRecord):
                live[tx.id] = rec
            elif tx.kind is gl.EntryKind.REVERSAL and tx.reverses in live:
                del live[tx.reverses]
            elif isinstance(rec, gl.ConversionRecord):
                conversions.append(rec)
        settled_later, carried = app._carries(r, worker.CREATOR)
    assert live, "no gift stood"
    payable = book.balance(f"liabilities:creators-payable:{worker.CREATOR}")
    owed = sum(rec.owed for rec in live.values())
    assert owed == sum(c.released for c in conversions) + int(payable.amount * 100)
    carries = sum((rec.carry for rec in live.values()), Fraction(0))
    assert carries == sum(c.settled for c in conversions) + settled_later + carried
    held = int(book.balance(f"creators:{worker.CREATOR}:diamonds").amount)
    assert sum(rec.units for rec in live.values()) == sum(c.units for c in conversions) + held
    ex = app.explain(worker.CREATOR)
    assert len(ex.gifts) == len(live)
    assert ex.paid == ex.store_fees + ex.taxes + ex.platform + ex.earned
    book.close()


@pytest.mark.slow
def test_processes_undoing_the_same_paid_gifts_undo_each_once_and_say_so(
    race_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before: reverse_gift read the gift before its accounts were locked; on PostgreSQL
    # a process that lost the race then failed on the creator's payable ("would take
    # 'liabilities:creators-payable:c' to -3.71 USD": InsufficientFunds) instead of
    # being told the gift was undone already.
    from decimal import Decimal

    from moneyed import Money

    monkeypatch.syspath_prepend(str(ROOT))
    from tests.economy import currencies_race_worker as worker

    worker.setup(race_url)
    book, app = worker.chain(race_url)
    gifts = [
        app.send_gift(
            "vgb", worker.CREATOR, "Super Chat", amount=Money("5.00", "GBP"), channel="web"
        ).id
        for _ in range(40)
    ]
    book.close()
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    barrier = ctx.Barrier(PROCESSES)
    procs = [
        ctx.Process(target=worker.undo, args=(race_url, gifts, barrier, out))
        for _ in range(PROCESSES)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    errors = [e for _, errs in results for e in errs]
    assert errors == [], "a lost race must be AlreadyReversed:\n" + "\n".join(errors)
    assert sum(n for n, _ in results) == len(gifts)
    book, app = worker.chain(race_url)
    app.verify()
    assert book.balance(f"liabilities:creators-payable:{worker.CREATOR}").amount == Decimal(0)
    book.close()
