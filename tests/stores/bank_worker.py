"""One bank-test process: random transfers and holds on a shared ledger.

Run by ``test_bank.py`` in 8 processes started with the ``spawn`` context. Each
process opens its own ledger on the store URL and makes a fixed number of
random operations, each under a key of its own; it sends the key and id of
every transaction the ledger acknowledged back through a queue.
"""

from __future__ import annotations

import random
from typing import Any

import giftledger as gl

USD = [f"bank:usd:{i}" for i in range(12)]
COIN = [f"bank:coin:{i}" for i in range(8)]


def register_units() -> None:
    gl.register_unit("COIN", 0, singular="coin")


def run(url: str, worker: int, operations: int, seed: int, acks: Any) -> None:
    """Make ``operations`` random operations; put ``(key, id)`` of each success on ``acks``."""
    register_units()
    rng = random.Random(seed * 1000 + worker)
    done: list[tuple[str, int]] = []
    pending: list[gl.Hold] = []
    errors = 0
    with gl.Ledger.open(url) as book:
        for op in range(operations):
            key = f"w{worker}:op{op}"
            names = rng.choice((USD, USD, COIN))
            a, b = rng.sample(names, 2)
            amount = rng.randint(1, 3_000)
            choice = rng.random()
            try:
                if pending and choice < 0.3:
                    hold = pending.pop(rng.randrange(len(pending)))
                    if rng.random() < 0.5:
                        part = rng.randint(1, hold.minor)
                        tx = book.post_hold(hold, gl.from_minor(part, hold.unit), key=key)
                    else:
                        tx = book.void_hold(hold, key=key)
                    done.append((key, tx.id))
                elif choice < 0.5:
                    hold = book.hold(a, b, gl.from_minor(amount, book.account(a).unit), key=key)
                    pending.append(hold)
                    done.append((key, hold.id))
                else:
                    unit = book.account(a).unit
                    tx = book.transfer(a, b, gl.from_minor(amount, unit), key=key)
                    done.append((key, tx.id))
                    if rng.random() < 0.1:  # a client retrying: must not post twice
                        assert book.transfer(a, b, gl.from_minor(amount, unit), key=key) == tx
            except gl.InsufficientFunds:
                errors += 1
        # Settle what is left, so the books close with no pending holds.
        for i, hold in enumerate(pending):
            key = f"w{worker}:void{i}"
            done.append((key, book.void_hold(hold, key=key).id))
    acks.put((worker, done, errors))
