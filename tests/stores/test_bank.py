"""The bank test: 8 processes make random transfers and holds on one store at once.

Afterwards the total per unit is unchanged, no account bound by a balance rule
is below it, every acknowledged transaction is in the journal exactly once (and
nothing unacknowledged is), and ``verify()`` passes: on SQLite and on
PostgreSQL. The processes are started with the ``spawn`` context, so each is a
fresh interpreter with its own connection, as separate application servers are.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter
from pathlib import Path

import pytest

import giftledger as gl

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 8
OPERATIONS = 40  # per process
FUNDS = 100_000  # minor units each bank account starts with


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def bank_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bank.db'}"
    return str(request.getfixturevalue("postgres_url"))


def _import_worker(monkeypatch: pytest.MonkeyPatch) -> object:
    # The spawned processes import the worker by module name: put the checkout on
    # the path they inherit.
    monkeypatch.syspath_prepend(str(ROOT))
    from tests.stores import bank_worker

    return bank_worker


@pytest.mark.slow
def test_eight_processes_keep_the_books(bank_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    worker = _import_worker(monkeypatch)
    usd: list[str] = worker.USD  # type: ignore[attr-defined]
    coin: list[str] = worker.COIN  # type: ignore[attr-defined]
    worker.register_units()  # type: ignore[attr-defined]
    with gl.Ledger.open(bank_url) as book:
        book.open_account("equity:usd", "USD", normal="credit", rule=gl.BalanceRule.unrestricted())
        book.open_account(
            "equity:coin", "COIN", normal="credit", rule=gl.BalanceRule.unrestricted()
        )
        for name in usd:
            book.open_account(name, "USD")
            book.transfer(name, "equity:usd", gl.from_minor(FUNDS, "USD"))
        for name in coin:
            book.open_account(name, "COIN")
            book.transfer(name, "equity:coin", gl.from_minor(FUNDS, "COIN"))
        setup = book.head[0]

    ctx = multiprocessing.get_context("spawn")
    acks = ctx.Queue()
    procs = [
        ctx.Process(
            target=worker.run,  # type: ignore[attr-defined]
            args=(bank_url, i, OPERATIONS, 7, acks),
        )
        for i in range(PROCESSES)
    ]
    for p in procs:
        p.start()
    results = [acks.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(30)
        assert p.exitcode == 0

    acked = {key: id for _, done, _ in results for key, id in done}
    assert len(acked) == sum(len(done) for _, done, _ in results)
    with gl.Ledger.open(bank_url) as book:
        entries = list(book.transactions(setup + 1))
        # Every acknowledged transaction is there exactly once, under its id; no other.
        keys = Counter(tx.key for tx in entries)
        assert keys == Counter(list(acked))
        assert {tx.key: tx.id for tx in entries} == acked
        # The total per unit is unchanged and no rule-bound account is below zero.
        for names, unit in ((usd, "USD"), (coin, "COIN")):
            balances = [book.account_balance(name) for name in names]
            assert sum(b.posted for b in balances) == gl.from_minor(FUNDS * len(names), unit)
            assert all(b.posted.amount >= 0 and b.available.amount >= 0 for b in balances)
            assert all(b.pending_debits.amount == 0 for b in balances)
        assert book.holds() == ()
        assert book.trial_balance().is_balanced
        assert book.verify() == setup + len(acked)
