"""The memory store keeps the books straight under threads."""

from __future__ import annotations

import threading

from moneyed import Money

import giftledger as gl

from .helpers import OPENED, fund, open_books

ALICE = "viewers:alice:coins"


def test_threads_spending_one_wallet_never_overdraw_it(clock: gl.ManualClock) -> None:
    book = open_books(gl.Ledger(gl.MemoryStore(), clock=clock))
    fund(book, ALICE, 500)
    spent: list[int] = []
    refused: list[int] = []
    start = threading.Barrier(8)

    def spend() -> None:
        start.wait()
        for _ in range(100):
            try:
                book.transfer(ALICE, "platform:escrow", 1)
                spent.append(1)
            except gl.InsufficientFunds:
                refused.append(1)

    threads = [threading.Thread(target=spend) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (len(spent), len(refused)) == (500, 300)
    assert book.balance(ALICE) == Money(0, "COIN")
    assert book.balance("platform:escrow") == Money(500, "COIN")
    assert book.verify() == OPENED + 501


def test_threads_replaying_one_key_post_it_once(clock: gl.ManualClock) -> None:
    book = open_books(gl.Ledger(gl.MemoryStore(), clock=clock))
    fund(book, ALICE, 10)
    results: list[gl.Transaction] = []
    start = threading.Barrier(8)

    def pay() -> None:
        start.wait()
        results.append(book.transfer(ALICE, "platform:escrow", 3, key="once"))

    threads = [threading.Thread(target=pay) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({tx.id for tx in results}) == 1
    assert book.balance(ALICE) == Money(7, "COIN")
    assert book.verify() == OPENED + 2
