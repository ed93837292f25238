"""``GiftEconomy.verify(since=checkpoint)``: the chain's check proves the books only grew."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import giftledger as gl


def _app() -> gl.GiftEconomy:
    clock = gl.ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))  # the same hashes each time
    app = gl.GiftEconomy(gl.Ledger(clock=clock), gl.presets.load("tiktok-live"))
    app.open_viewer("ann", region="US", age=30)
    app.open_creator("cat", region="US", age=30)
    app.buy_coins("ann", pack=70, channel="web", key="order-1")
    return app


def test_books_that_grew_pass_and_others_are_named() -> None:
    app = _app()
    before = app.ledger.checkpoint()
    app.send_gift("ann", "cat", "Rose", quantity=5, key="gift-1")
    assert app.verify(since=before) == before.size + 1
    later = app.ledger.checkpoint()
    other = _app()  # the same first entries, then another one
    other.send_gift("ann", "cat", "Rose", quantity=6, key="gift-1")
    with pytest.raises(gl.ChainBroken):
        other.verify(since=later)
    assert other.verify(since=before) == later.size
    with pytest.raises(gl.ChainBroken, match="fewer"):
        _app().verify(since=later)
    with pytest.raises(gl.InvalidArgument):
        app.verify(since=later.to_json())  # type: ignore[arg-type]
