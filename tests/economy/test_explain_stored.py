"""A GiftEconomy over a reopened SQLite ledger knows exactly what the first one knew."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import pytest

import giftledger as gl

from .chainkit import T0


def _play(app: gl.GiftEconomy, clock: gl.ManualClock, seed: int) -> None:
    rng = random.Random(seed)
    for v in ("ann", "ben"):
        app.open_viewer(v, region="US")
    app.open_creator("bob", region="US", age=30)
    app.open_creator("dee", region="US", age=30)
    gifts = [g.name for g in app.economy.latest.gifts if g.coins <= 1100]
    bought = []
    for _ in range(40):
        v = rng.choice(["ann", "ben"])
        roll = rng.random()
        try:
            if roll < 0.3:
                bought.append(app.buy_coins(v, pack=rng.choice([70, 1400]), channel="ios"))
            elif roll < 0.85:
                app.send_gift(v, rng.choice(["bob", "dee"]), rng.choice(gifts), rng.randint(1, 4))
            elif roll < 0.95:
                app.convert_diamonds(rng.choice(["bob", "dee"]))
            elif bought:
                app.refund_purchase(rng.choice(bought))
        except (gl.InsufficientFunds, gl.AlreadyReversed):
            pass
        clock.advance(timedelta(minutes=rng.randint(1, 90)))


@pytest.mark.parametrize("seed", range(3))
def test_a_reopened_ledger_rebuilds_the_same_lots_and_explanations(
    tmp_path: Path, seed: int
) -> None:
    url = f"sqlite:///{tmp_path / 'book.db'}"
    econ = gl.presets.load("tiktok-live")
    clock = gl.ManualClock(T0)
    with gl.Ledger.open(url, clock=clock) as book:
        app = gl.GiftEconomy(book, econ)
        _play(app, clock, seed)
        lots = app.coin_lots()
        explained = {c: app.explain(c) for c in ("bob", "dee")}
        statements = {c: app.statement(c, locale="fr_FR").render() for c in ("bob", "dee")}
        head = book.head
    with gl.Ledger.open(url, clock=clock) as book:
        again = gl.GiftEconomy(book, econ)
        assert book.head == head
        assert again.coin_lots() == lots
        for c in ("bob", "dee"):
            assert again.explain(c) == explained[c]
            assert again.statement(c, locale="fr_FR").render() == statements[c]
        assert book.verify() == head[0]
