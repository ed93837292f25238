"""A coin purchase on PostgreSQL links at commit, as a coin gift does: its quote reads no
account, so between its round trips it holds its key and, shared, the keys it read (the
viewer's next profile key, the rules' next key), and neither the head nor any row.

It credits the viewer's wallet and ``liabilities:deferred-revenue`` (accounts with a
floor, which no credit breaks), locked only as it commits. What it prices by that may
change meanwhile is covered: a profile change waits for it (the key), a change of the
rules or the UTC day (a tax rule's period) makes it hold the head when near and refuses
at commit to date it past one, and what it cannot cover so (an account to open, a rate
from a rate source, a profile read past its read-ahead key) makes it run again holding
the head. The stores here are crowded (``crowded``, from the gifts' tests).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

import pytest

import giftledger as gl

from .test_postgres_gifts_at_commit import (
    _advisory_free,
    _app,
    _commits_meanwhile,
    _parties,
    _probe,
    _row_free,
)
from .test_postgres_gifts_at_commit import crowded as crowded  # autouse here too

pytestmark = pytest.mark.postgres


def _watch(
    monkeypatch: pytest.MonkeyPatch, probe: Any, book: gl.Ledger, what: dict[str, Any]
) -> list[dict[str, bool]]:
    """After each round trip of ``book``'s writes: whether each lock in ``what`` (a
    name: an account's row, or (namespace, key) for an advisory lock) is free."""
    from giftledger._stores import postgres as pgstore

    seen: list[dict[str, bool]] = []
    real = pgstore._Session._send

    def send(self: Any, *args: Any, **kwargs: Any) -> Any:
        out = real(self, *args, **kwargs)
        if self._writer and self._store is book.store:
            seen.append(
                {
                    name: (
                        _row_free(probe, name)
                        if lock is None
                        else _advisory_free(probe, lock[0], lock[1])
                    )
                    for name, lock in what.items()
                }
            )
        return out

    monkeypatch.setattr(pgstore._Session, "_send", send)
    return seen


@contextmanager
def _and_another(url: str) -> Iterator[tuple[gl.Ledger, gl.GiftEconomy, gl.GiftEconomy]]:
    """This process's book and economy, its parties opened, and another process's economy
    on the same book."""
    book, app = _app(url)
    other_book, other = _app(url)
    with book, other_book:
        _parties(app)
        yield book, app, other


def test_between_its_round_trips_a_purchase_holds_its_keys_and_no_row_nor_the_head(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from giftledger._stores import postgres as pgstore

    book, app = _app(postgres_url)
    with book, _probe(postgres_url) as probe:
        _parties(app)  # vic bought once: the sale's accounts are open, vic's profile read
        profile_key = f"gl:party:viewer:vic:{len(app._party_cache[('viewer', 'vic')])}"
        rules_key = f"gl:rules:{app._rules_seq + 1}"
        seen = _watch(
            monkeypatch,
            probe,
            book,
            {
                "head": (pgstore._LOCK_HEAD, None),
                "own key": (pgstore._LOCK_KEY, "buy-2"),
                "profile key": (pgstore._LOCK_KEY, profile_key),
                "rules key": (pgstore._LOCK_KEY, rules_key),
                "viewers:vic:coins": None,
                "liabilities:deferred-revenue": None,
                "platform:coin-supply": None,
            },
        )
        tx = app.buy_coins("vic", pack=70, channel="web", key="buy-2")
        monkeypatch.undo()
        assert seen[0] == {
            "head": True,  # taken by gl_link as it commits
            "own key": False,
            "profile key": False,  # held shared: a change of vic's profile waits
            "rules key": False,
            "viewers:vic:coins": True,  # locked as it commits
            "liabilities:deferred-revenue": True,
            "platform:coin-supply": True,
        }
        assert len(seen) == 2  # and the commit's round trip
        assert book.transaction(tx.id) == tx
        assert book.balance("viewers:vic:coins").amount == 350 + 70
        book.verify()
        app.verify()


@pytest.mark.parametrize(
    ("at", "near"),
    [
        (datetime(2026, 3, 4, 23, 59, 30, tzinfo=UTC), True),  # 30 s before midnight UTC
        (datetime(2026, 3, 4, 23, 58, 0, tzinfo=UTC), False),
    ],
)
def test_a_purchase_near_midnight_takes_the_head_before_it_prices(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch, at: datetime, near: bool
) -> None:
    """A tax rule's period ends at a UTC midnight: within a minute of one, a purchase
    runs again taking the head with its accounts, so its time is read under the head and
    it is taxed by the day it is dated in; further, gl_link refuses to date it past it."""
    from giftledger._stores import postgres as pgstore

    econ = gl.presets.load("tiktok-live")
    clock = gl.ManualClock(max(at, econ.latest.effective_from + timedelta(days=1)))
    book, app = _app(postgres_url, clock)
    with book, _probe(postgres_url) as probe:
        _parties(app)
        if clock.now() != at:
            pytest.skip("the preset's latest rules start after the test's day")
        seen = _watch(monkeypatch, probe, book, {"head": (pgstore._LOCK_HEAD, None)})
        tx = app.buy_coins("vic", pack=70, channel="web", key="buy-near")
        monkeypatch.undo()
        assert [not s["head"] for s in seen[:2]] == ([False, True] if near else [False, False])
        assert tx.effective_at == at
        book.verify()


def _asked(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each call of the store's need_head told the write to hold the head."""
    from giftledger._stores import postgres as pgstore

    asked: list[bool] = []
    real = pgstore._Session.need_head

    def need_head(self: Any) -> Any:
        conflict = real(self)
        asked.append(conflict is not None)
        return conflict

    monkeypatch.setattr(pgstore._Session, "need_head", need_head)
    return asked


def test_a_purchase_that_opens_an_account_runs_again_holding_the_head(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first sale through another store opens its accounts: only the head's holder
    # opens one, so the purchase runs again holding it, and is written once.
    book, app = _app(postgres_url)
    with book:
        _parties(app)
        asked = _asked(monkeypatch)
        before = {a.name for a in book.accounts()}
        tx = app.buy_coins("vic", pack=70, channel="ios", key="buy-ios")
        monkeypatch.undo()
        opened = {a.name for a in book.accounts()} - before
        assert opened
        assert all(name in {p.account for p in tx.postings} for name in opened)
        assert asked[0] is True  # linking at commit: told to hold the head
        assert True not in asked[1:]  # the attempt after it held the head
        assert app.buy_coins("vic", pack=70, channel="ios", key="buy-ios") == tx  # replayed
        assert book.balance("viewers:vic:coins").amount == 350 + 70
        book.verify()
        app.verify()


class _Rates:
    """A rate source (not a mapping): its rates may change at any time."""

    def rate(self, base: str, quote: str, at: datetime) -> Fraction:
        return Fraction(5, 4) if (base, quote) == ("GBP", "USD") else Fraction(4, 5)


@pytest.mark.parametrize("source", ["mapping", "rate source"])
def test_a_purchase_priced_by_a_rate_source_holds_the_head(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch, source: str
) -> None:
    # Linking at commit, a purchase may be dated after a rate change it was not priced
    # by: one converted by a rate source's rate runs again holding the head; fixed rates
    # (a mapping) never change.
    from giftledger._stores import postgres as pgstore

    econ = gl.presets.load("tiktok-live")
    clock = gl.ManualClock(econ.latest.effective_from + timedelta(days=1))
    rates = _Rates() if source == "rate source" else {("GBP", "USD"): Fraction(5, 4)}
    book = gl.Ledger.open(postgres_url, clock=clock)
    app = gl.GiftEconomy(book, econ, rates=rates)
    with book, _probe(postgres_url) as probe:
        _parties(app)
        app.open_viewer("gus", region="GB")  # the app sells GB its packs in GBP
        app.buy_coins("gus", pack=65, channel="ios", key="buy-gus-1")  # opens accounts
        first = app.buy_coins("gus", pack=65, channel="ios", key="buy-gus-2")
        assert first.rates
        seen = _watch(monkeypatch, probe, book, {"head": (pgstore._LOCK_HEAD, None)})
        tx = app.buy_coins("gus", pack=65, channel="ios", key="buy-gus-3")
        monkeypatch.undo()
        held = [not s["head"] for s in seen[:2]]
        assert held == ([False, True] if source == "rate source" else [False, False])
        assert tx.rates == first.rates
        book.verify()


def test_a_profile_change_waits_for_a_purchase_in_flight(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The purchase read vic's profile and holds its next key shared: a change of the
    # profile (which claims that key) waits for it to commit, so the purchase is in the
    # chain before the change, priced by the profile before it.
    from giftledger._stores import postgres as pgstore

    with _and_another(postgres_url) as (book, app, other):
        other.viewer("vic")  # the other process knows vic's profile too
        changed: list[gl.Transaction] = []
        changer = threading.Thread(
            target=lambda: changed.append(other.update_viewer("vic", region="DE"))
        )
        real = pgstore._Session._send
        state = {"first": True, "waited": False}

        def send(self: Any, *args: Any, **kwargs: Any) -> Any:
            out = real(self, *args, **kwargs)
            if self._writer and state["first"] and self._store is book.store:
                state["first"] = False
                changer.start()
                changer.join(timeout=0.5)
                state["waited"] = changer.is_alive()  # waiting for the key
            return out

        monkeypatch.setattr(pgstore._Session, "_send", send)
        tx = app.buy_coins("vic", pack=70, channel="web", key="buy-before-change")
        changer.join(timeout=30)
        monkeypatch.undo()
        assert state["waited"]
        assert changed
        assert tx.id < changed[0].id
        assert dict(tx.metadata)["gl.region"] == "US"
        book.verify()
        app.verify()


def test_a_purchase_reading_a_profile_changed_elsewhere_runs_again_holding_the_head(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another process changed vic's profile: the key this process read ahead (and
    # locked shared) is taken, the records after it are read without that lock, so the
    # purchase runs again holding the head, and is priced by the new profile.
    with _and_another(postgres_url) as (book, app, other):
        other.update_viewer("vic", region="GB")
        asked = _asked(monkeypatch)
        tx = app.buy_coins("vic", pack=70, channel="web", key="buy-after-change")
        monkeypatch.undo()
        assert asked[:1] == [True]
        assert dict(tx.metadata)["gl.region"] == "GB"
        again = app.buy_coins("vic", pack=70, channel="web", key="buy-again")
        assert dict(again.metadata)["gl.region"] == "GB"
        book.verify()


def test_a_purchase_is_not_dated_past_a_profile_change_it_was_not_priced_by(
    postgres_url: str,
) -> None:
    # vic moves to DE five minutes from now (a change dated ahead, already in the
    # chain). A purchase priced now (US) links at commit; meanwhile a writer whose clock
    # is six minutes ahead commits: the head would date the purchase after the move.
    # gl_link refuses to (the purchase told it the change's time), and the purchase
    # runs again holding the head, priced and dated as a DE sale. (Before, it was
    # recorded as a US sale dated when vic was in DE.)
    econ = gl.presets.load("tiktok-live")
    start = econ.latest.effective_from + timedelta(days=1, hours=12)
    move = start + timedelta(minutes=5)
    book, app = _app(postgres_url, gl.ManualClock(start))
    ahead_book, ahead = _app(postgres_url, gl.ManualClock(start + timedelta(minutes=6)))
    with book, ahead_book:
        _parties(app)
        app.update_viewer("vic", region="DE", effective_at=move)
        assert app.viewer("vic").region == "US"  # (this process has read both records)
        real = app._check_buyer
        checked: list[int | None] = []

        def check_buyer(rules: Any, viewer: str, age: int | None) -> None:
            if not checked:  # the writer ahead commits while the purchase is priced
                _commits_meanwhile(ahead)
            checked.append(age)
            real(rules, viewer, age)

        app._check_buyer = check_buyer  # type: ignore[method-assign]
        tx = app.buy_coins("vic", pack=70, channel="web", key="buy-across-the-move")
        del app._check_buyer
        assert len(checked) == 2  # refused at commit, run again holding the head
        assert tx.effective_at == tx.recorded_at == start + timedelta(minutes=6)
        assert dict(tx.metadata)["gl.region"] == "DE"
        assert ahead.viewer("vic").region == "DE"  # (its clock is past the move)
        book.verify()
        app.verify()
