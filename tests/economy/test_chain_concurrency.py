"""Racing writers: gifts from one wallet, lots kept by several processes over one file."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from moneyed import Money

import giftledger as gl

from .chainkit import T0, tiktok, usd


def _lots_consistent(book: gl.Ledger, app: gl.GiftEconomy) -> None:
    lots = app.coin_lots()
    wallet_total = sum(
        int(m.amount) for n, m in book.balances("viewers:").items() if n.endswith(":coins")
    )
    assert wallet_total == sum(lot.unspent for lot in lots)
    deferred = book.balance("liabilities:deferred-revenue")
    assert deferred == Money(sum(lot.deferred - lot.released for lot in lots), "USD") / 100
    assert book.trial_balance().is_balanced
    book.verify()


def test_racing_gifts_from_one_wallet_spend_each_coin_once() -> None:
    book, _, app = tiktok()
    app.open_viewer("alice", region="US")
    app.open_creator("bob", region="US")
    for _ in range(3):
        app.buy_coins("alice", pack=70, channel="ios")  # 210 coins in three lots
    start = threading.Barrier(6)
    sent: list[object] = []

    def go() -> None:
        start.wait()
        for _ in range(10):
            try:
                sent.append(app.send_gift("alice", "bob", "Doughnut"))  # 30 coins
            except gl.InsufficientFunds as exc:
                sent.append(exc)

    threads = [threading.Thread(target=go) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(isinstance(s, gl.Transaction) for s in sent) == 7  # 210 / 30
    assert book.balance("viewers:alice:coins") == Money(0, "COIN")
    assert book.balance("liabilities:deferred-revenue") == usd("0.00")  # every lot fully
    assert all(lot.released == lot.deferred for lot in app.coin_lots())
    _lots_consistent(book, app)


_WORKER = textwrap.dedent(
    """
    import sys, time
    from datetime import datetime
    import giftledger as gl
    url, start, me = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    econ = gl.presets.load("tiktok-live")
    book = gl.Ledger.open(url, clock=gl.ManualClock(datetime.fromisoformat(sys.argv[4])))
    app = gl.GiftEconomy(book, econ)
    while time.time() < start:
        time.sleep(0.001)
    done = 0
    for i in range(12):
        try:
            app.send_gift("alice", "bob", "Rosa", key=f"{me}-{i}")
            done += 1
        except gl.InsufficientFunds:
            pass
        if i % 3 == 0:
            app.buy_coins("alice", pack=70, channel="web", key=f"{me}-buy-{i}")
    print(done)
    """
)


def test_processes_sharing_one_sqlite_file_keep_one_set_of_lots(tmp_path: Path) -> None:
    import time

    url = f"sqlite:///{tmp_path / 'lots.db'}"
    econ = gl.presets.load("tiktok-live")
    with gl.Ledger.open(url, clock=gl.ManualClock(T0)) as book:
        app = gl.GiftEconomy(book, econ)
        app.open_viewer("alice", region="US")
        app.open_creator("bob", region="US")
        app.buy_coins("alice", pack=350, channel="ios")
    worker = tmp_path / "worker.py"
    worker.write_text(_WORKER)
    start = time.time() + 1.5
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [
        subprocess.Popen(
            [sys.executable, str(worker), url, str(start), f"p{i}", T0.isoformat()],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(3)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [e for _, e in outs]
    gifts = sum(int(o.strip()) for o, _ in outs)
    with gl.Ledger.open(url, clock=gl.ManualClock(T0)) as book:
        app = gl.GiftEconomy(book, econ)  # lots rebuilt from the shared journal
        bought = 350 + 3 * 4 * 70
        assert book.balance("viewers:alice:coins") == Money(bought - 10 * gifts, "COIN")
        assert sum(lot.spent for lot in app.coin_lots()) == 10 * gifts
        _lots_consistent(book, app)


def test_a_gift_sees_what_another_writer_spent_since_its_lots_were_read() -> None:
    book, _, first = tiktok()
    first.open_viewer("alice", region="US")
    first.open_creator("bob", region="US")
    a = first.buy_coins("alice", pack=70, channel="ios")
    b = first.buy_coins("alice", pack=70, channel="ios")
    app = gl.GiftEconomy(book, first.economy)
    assert app.coin_lot(a).spent == 0  # app has read alice's lots
    gl.GiftEconomy(book, first.economy).send_gift("alice", "bob", "Doughnut")  # another writer
    tx = app.send_gift("alice", "bob", "Doughnut")
    # The other writer took coins 1-30 of lot a; this gift must take coins 31-60.
    assert app.coin_lot(a).spent == 60
    assert app.coin_lot(b).spent == 0
    # …valued as coins 31-60: round(0.99 x 60/70) - round(0.99 x 30/70) = 85 - 42 cents.
    assert tx.meta["gl.lots"].startswith(f"{a.id}:30:43:")  # type: ignore[union-attr]
    assert app.coin_lot(a).released == 85
    _lots_consistent(book, app)
