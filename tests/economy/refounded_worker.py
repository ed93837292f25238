"""Processes for the re-founded chain's race tests (issue 8).

Run by ``test_refounded_races.py`` and ``test_refounded_mixed_pg.py`` in 8
processes started with the ``spawn`` context, like ``tests/stores/bank_worker.py``:
each process is a fresh interpreter that opens its own :class:`~giftledger.Ledger`
(and its own :class:`~giftledger.GiftEconomy`) on the shared store URL, waits at
a barrier so all start together, and sends what happened back through a queue.

Every call's outcome is sorted into three bins: done, refused by the rules
(:data:`REFUSALS`, the errors a caller is told to expect), and anything else,
which the tests count as a failure, with its type and message.

The processes' clocks run in real time from a fixed instant (:class:`RunningClock`),
so they step forward as a server's clock does and all agree on "today" (noon of a
fixed UTC day plus a few seconds) whatever the date the tests run on.
"""

from __future__ import annotations

import random
import time
import traceback
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from moneyed import Money

import giftledger as gl

#: A day on which tiktok-live's current rules apply (v3: $100 minimum, $1,000 a day).
DAY = datetime(2025, 9, 1, 12, 0, tzinfo=UTC)

#: The errors the rules may answer a well-formed request with.
REFUSALS: tuple[type[gl.GiftLedgerError], ...] = (
    gl.InsufficientFunds,
    gl.LimitExceeded,
    gl.BelowWithdrawalThreshold,
    gl.NotEligible,
)

VIEWERS = tuple(f"v{i}" for i in range(6))
CREATORS = tuple(f"c{i}" for i in range(4))
GIFTS = ("Rose", "Rosa", "Doughnut", "Galaxy", "Interstellar", "Lion")
PACKS = (70, 350, 1400, 3500, 7000, 17500)
CHANNELS = ("web", "ios", "android")


class RunningClock:
    """``start`` plus the wall-clock time elapsed since ``wall0`` (``time.time()``)."""

    def __init__(self, start: datetime, wall0: float) -> None:
        self.start = start
        self.wall0 = wall0

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.time() - self.wall0)


def economy() -> gl.Economy:
    return gl.presets.load("tiktok-live")


def fund_creator(app: gl.GiftEconomy, creator: str, lions: int, viewer: str = "fan") -> None:
    """Give ``creator`` cash: each Lion (29,999 coins) converts to $149.99 under model A."""
    app.open_viewer(viewer, region="US", age=30)
    for _ in range(lions * 2):
        app.buy_coins(viewer, pack=17500, channel="web")
    app.send_gift(viewer, creator, "Lion", lions)
    app.convert_diamonds(creator)


def _describe(exc: BaseException) -> str:
    cls = type(exc)
    return f"{cls.__module__}.{cls.__qualname__}: {exc}"


# -- acceptance 1: racing $100 withdrawals against the daily cap -------------------------


def race(
    url: str,
    me: int,
    attempts: int,
    wall0: float,
    barrier: Any,
    out: Any,
) -> None:
    """Ask ``attempts`` times for $100 for creator ``bob``; put the outcomes on ``out``.

    Puts ``(me, granted, refused, errors)``: ``granted`` lists ``(withdrawal id,
    amount in cents)``, ``refused`` the names of the rules' refusals, ``errors``
    every other failure, described.
    """
    granted: list[tuple[int, int]] = []
    refused: list[str] = []
    errors: list[str] = []
    try:
        book = gl.Ledger.open(url, clock=RunningClock(DAY, wall0))
        try:
            app = gl.GiftEconomy(book, economy())
            barrier.wait(120)
            for i in range(attempts):
                try:
                    w = app.request_withdrawal("bob", Money("100", "USD"), key=f"race-{me}-{i}")
                except REFUSALS as exc:
                    refused.append(type(exc).__name__)
                except Exception as exc:
                    errors.append(f"attempt {i}: {_describe(exc)}")
                else:
                    granted.append((w.id, gl.to_minor(w.amount, "USD")))
        finally:
            book.close()
    except Exception as exc:
        errors.append(f"process {me}: {_describe(exc)}\n{traceback.format_exc()}")
        try:
            barrier.abort()
        except Exception:
            pass
    out.put((me, granted, refused, errors))


# -- acceptance 6: mixed chain operations ------------------------------------------------


def setup_mixed(app: gl.GiftEconomy) -> None:
    """The parties every mixed worker shares, with some coins to spend."""
    for v in VIEWERS:
        app.open_viewer(v, region="US", age=30)
        app.buy_coins(v, pack=17500, channel="web")
    for c in CREATORS:
        app.open_creator(c, region="US", age=30, verified=True)


def mixed(
    url: str,
    me: int,
    operations: int,
    seed: int,
    wall0: float,
    barrier: Any,
    out: Any,
) -> None:
    """Make ``operations`` random chain operations; put ``(me, outcomes, errors)`` on ``out``.

    ``outcomes`` counts each operation's result (``"send_gift:ok"``,
    ``"send_gift:InsufficientFunds"``…); ``errors`` describes every failure that
    is not one of the rules' refusals.
    """
    rng = random.Random(seed * 1000 + me)
    outcomes: Counter[str] = Counter()
    errors: list[str] = []
    pending: list[gl.Withdrawal] = []
    try:
        book = gl.Ledger.open(url, clock=RunningClock(DAY, wall0))
        try:
            app = gl.GiftEconomy(book, economy())
            barrier.wait(120)
            for op in range(operations):
                key = f"mixed-{seed}-{me}-{op}"
                viewer, creator = rng.choice(VIEWERS), rng.choice(CREATORS)
                roll = rng.random()
                name = "?"
                try:
                    if roll < 0.04:
                        name = "open_viewer"
                        if rng.random() < 0.5:
                            app.open_viewer(viewer, region="US", age=30)  # again: the same
                        else:
                            app.open_viewer(f"w{me}v{op}", region="US", age=rng.randint(18, 60))
                    elif roll < 0.08:
                        name = "open_creator"
                        if rng.random() < 0.5:
                            app.open_creator(creator, region="US", age=30, verified=True)
                        else:
                            app.open_creator(f"w{me}c{op}", region="US", age=30)
                    elif roll < 0.33:
                        name = "buy_coins"
                        app.buy_coins(
                            viewer, pack=rng.choice(PACKS), channel=rng.choice(CHANNELS), key=key
                        )
                    elif roll < 0.63:
                        name = "send_gift"
                        app.send_gift(
                            viewer, creator, rng.choice(GIFTS), rng.randint(1, 2), key=key
                        )
                    elif roll < 0.73:
                        name = "convert_diamonds"
                        app.convert_diamonds(creator, key=key)
                    elif roll < 0.86 or not pending:
                        name = "request_withdrawal"
                        amount = rng.choice((Money("100", "USD"), Money("150", "USD"), "all"))
                        pending.append(app.request_withdrawal(creator, amount, key=key))
                    else:
                        w = pending.pop(rng.randrange(len(pending)))
                        if rng.random() < 0.7:
                            name = "complete_withdrawal"
                            app.complete_withdrawal(w)
                        else:
                            name = "fail_withdrawal"
                            app.fail_withdrawal(w)
                except REFUSALS as exc:
                    outcomes[f"{name}:{type(exc).__name__}"] += 1
                except Exception as exc:
                    outcomes[f"{name}:error"] += 1
                    errors.append(f"op {op} {name}: {_describe(exc)}")
                else:
                    outcomes[f"{name}:ok"] += 1
        finally:
            book.close()
    except Exception as exc:
        errors.append(f"process {me}: {_describe(exc)}\n{traceback.format_exc()}")
        try:
            barrier.abort()
        except Exception:
            pass
    out.put((me, dict(outcomes), errors))
