"""A process for the paid-gift race test (``test_currencies_races.py``).

Started with the ``spawn`` context: a fresh interpreter opens its own
:class:`~giftledger.Ledger` and :class:`~giftledger.GiftEconomy` on the shared
store URL and, for one creator paid in pounds, sends Super Chats in three
currencies, converts the creator's Diamonds (all or some) and reverses its own
gifts, in a random order, then reports what it sent and every error the rules
do not explain.
"""

from __future__ import annotations

import random
import traceback
from decimal import Decimal
from typing import Any

from moneyed import Money

import giftledger as gl

RATES = {("GBP", "USD"): Decimal("1.2713"), ("EUR", "USD"): Decimal("1.0837")}
VIEWERS = {"vgb": "GB", "vus": "US", "vde": "DE"}
CREATOR = "c"


def chain(url: str) -> tuple[gl.Ledger, gl.GiftEconomy]:
    book = gl.Ledger.open(url)
    return book, gl.GiftEconomy(book, gl.presets.load("youtube-super-chat"), rates=RATES)


def setup(url: str) -> None:
    book, app = chain(url)
    for name, region in VIEWERS.items():
        app.open_viewer(name, region=region, age=30)
    app.open_creator(CREATOR, region="GB", age=30, payout_currency="GBP")
    book.close()


def race(url: str, seed: int, steps: int, barrier: Any, out: Any) -> None:
    rnd = random.Random(seed)
    errors: list[str] = []
    sent: list[int] = []
    try:
        book, app = chain(url)
        barrier.wait(60)
        for i in range(steps):
            op = rnd.random()
            try:
                if op < 0.6:
                    ccy = rnd.choice(["GBP", "USD", "EUR"])
                    amount = Money(Decimal(rnd.randint(100, 50000)) / 100, ccy)
                    tx = app.send_gift(
                        rnd.choice(sorted(VIEWERS)),
                        CREATOR,
                        "Super Chat",
                        amount=amount,
                        channel=rnd.choice(["web", "ios", "android"]),
                        key=f"chat-{seed}-{i}",
                    )
                    sent.append(tx.id)
                elif op < 0.85:
                    some = None if rnd.random() < 0.5 else rnd.randint(1, 3000)
                    app.convert_diamonds(CREATOR, some)
                elif sent:
                    app.reverse_gift(rnd.choice(sent))
            except (gl.InsufficientFunds, gl.AlreadyReversed):
                pass  # the rules' answers: nothing left to convert, or undone already
            except Exception as exc:  # reported to the test
                errors.append(f"{type(exc).__name__}: {exc}")
        book.close()
    except Exception:  # reported to the test
        errors.append(traceback.format_exc())
    out.put((seed, errors))


def undo(url: str, gifts: list[int], barrier: Any, out: Any) -> None:
    """Reverse every one of ``gifts`` (the other processes try the same ones)."""
    errors: list[str] = []
    undone = 0
    try:
        book, app = chain(url)
        barrier.wait(60)
        for gift in gifts:
            try:
                app.reverse_gift(gift)
                undone += 1
            except gl.AlreadyReversed:
                pass  # another process undid it first: the one answer expected
            except Exception as exc:  # reported to the test
                errors.append(f"{type(exc).__name__}: {exc}")
        book.close()
    except Exception:  # reported to the test
        errors.append(traceback.format_exc())
    out.put((undone, errors))
