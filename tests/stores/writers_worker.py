"""One process of ``test_postgres_writers.py``: chain gifts or core posts on a shared book.

A ``chain`` worker sends gifts with ``GiftEconomy.send_gift`` (the chain's quoted
write: its guards, lots and aliases); a ``core`` worker posts the same money
movement with ``Ledger.post``: coins from its viewer's wallet to the coin
supply, Diamonds from the Diamond supply to its creator. All share the supplies.
A ``buyer`` buys coin packs for the chain workers' viewers, in turn, while they
send gifts (a purchase locks deferred revenue, then the wallet a gift holds).
Every call is counted: a call that raises is a failed call.
"""

from __future__ import annotations

from typing import Any

import giftledger as gl

GIFT = "Rose"  # 1 coin
BUY = 70  # coins a buyer's pack holds


def viewer(kind: str, worker: int) -> str:
    return f"{kind}{worker}"


def creator(kind: str, worker: int) -> str:
    return f"maker{kind}{worker}"


def run(url: str, kind: str, worker: int, operations: int, ready: Any, go: Any, out: Any) -> None:
    """Make ``operations`` gifts once ``go`` is set (after putting ``worker`` on
    ``ready``); put ``(kind, worker, done, failures)`` on ``out``."""
    done = 0
    failures: list[str] = []
    with gl.Ledger.open(url) as book:
        app = gl.GiftEconomy.from_ledger(book)
        v, c = viewer(kind, worker), creator(kind, worker)
        wallet = f"viewers:{v}:coins"
        diamonds = f"creators:{c}:diamonds"
        book.head  # noqa: B018 - connected and loaded before the start
        ready.put(worker)
        go.wait()
        for op in range(operations):
            try:
                if kind == "chain":
                    app.send_gift(v, c, GIFT, key=f"{kind}{worker}:{op}")
                elif kind == "buyer":
                    app.buy_coins(viewer("chain", op % 2), pack=BUY, channel="web")
                else:
                    book.post(
                        [
                            gl.debit(wallet, gl.from_minor(1, "COIN")),
                            gl.credit("platform:coin-supply", gl.from_minor(1, "COIN")),
                            gl.debit("platform:diamond-supply", gl.from_minor(1, "DIAMOND")),
                            gl.credit(diamonds, gl.from_minor(1, "DIAMOND")),
                        ],
                        key=f"{kind}{worker}:{op}",
                    )
                done += 1
            except Exception as exc:  # every failed call is counted, whatever it is
                failures.append(f"{type(exc).__name__}: {exc}")
    out.put((kind, worker, done, failures))
