"""Chain writers beside core writers on PostgreSQL: no deadlock, no failed call.

Two processes send gifts through the chain (``GiftEconomy.send_gift``) while two
post the same movement with ``Ledger.post``, all sharing the coin and Diamond
supplies, and a fifth buys coins for the two chain viewers meanwhile (a purchase
locks deferred revenue and then the wallet; a gift, linking at commit, holds the
wallet and locks deferred revenue as it commits, waiting a short while only). The
ledger keeps one lock order on every write path (key, holds, accounts with a floor in
name order, then the chain's head; a lock asked for later is taken without waiting, or
a short while only), so the server counts no deadlock
(``pg_stat_database.deadlocks`` of a database made for the test), no call
fails, every coin and Diamond is accounted for and ``verify()`` passes.
"""

from __future__ import annotations

import multiprocessing
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

import giftledger as gl

ROOT = Path(__file__).resolve().parents[2]
WORKERS = (("chain", 0), ("chain", 1), ("core", 0), ("core", 1), ("buyer", 0))
SPENDERS = WORKERS[:4]
OPERATIONS = 200  # per process
PACK = 1400  # coins each viewer buys (more than OPERATIONS)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def own_database(postgres_server: tuple[str, list[str]]) -> Iterator[str]:
    """A database made for this test (its deadlock counter is this test's alone)."""
    import psycopg

    admin, _ = postgres_server
    name = f"gl_writers_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(admin)
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _deadlocks(url: str) -> int:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_chain_and_core_writers_share_the_supplies_without_deadlock(
    own_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(ROOT))
    from tests.stores import writers_worker as worker

    with gl.Ledger.open(own_database) as book:
        app = gl.GiftEconomy(book, gl.presets.load("tiktok-live"))
        for kind, i in SPENDERS:
            app.open_viewer(worker.viewer(kind, i))
            app.open_creator(worker.creator(kind, i), region="US")
            app.buy_coins(worker.viewer(kind, i), pack=PACK, channel="web")
        supply = book.balance("platform:coin-supply")
        setup = book.head[0]
    before = _deadlocks(own_database)

    ctx = multiprocessing.get_context("spawn")
    ready, go, out = ctx.Queue(), ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(target=worker.run, args=(own_database, kind, i, OPERATIONS, ready, go, out))
        for kind, i in WORKERS
    ]
    for p in procs:
        p.start()
    for _ in procs:  # all at once: every process connected and loaded
        ready.get(timeout=120)
    go.set()
    results = [out.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(30)
        assert p.exitcode == 0

    assert _deadlocks(own_database) - before == 0
    assert [f for *_, failures in results for f in failures] == []
    assert all(done == OPERATIONS for _, _, done, _ in results)
    with gl.Ledger.open(own_database) as book:
        gl.GiftEconomy.from_ledger(book)
        gifts = OPERATIONS * len(SPENDERS)
        assert book.head[0] == setup + gifts + OPERATIONS
        # Money conserved: every coin a viewer spent is back in the supply, and every
        # Diamond a creator got came out of the Diamond supply.
        for kind, i in SPENDERS:
            wallet = book.balance(f"viewers:{worker.viewer(kind, i)}:coins")
            bought = OPERATIONS // 2 * worker.BUY if kind == "chain" else 0
            assert wallet == gl.from_minor(PACK - OPERATIONS + bought, "COIN")
            made = book.balance(f"creators:{worker.creator(kind, i)}:diamonds")
            assert made.amount > 0
        sold = gl.from_minor(OPERATIONS * worker.BUY, "COIN")
        spent = gl.from_minor(gifts, "COIN")
        assert book.balance("platform:coin-supply") == supply - spent + sold  # debit-normal
        assert book.trial_balance().is_balanced
        assert book.verify() == setup + gifts + OPERATIONS
