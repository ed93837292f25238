"""A short tour of giftledger: ``python -m giftledger.demo`` (or ``make demo``).

It opens a ledger in a temporary SQLite file when the SQLite store is
available (in memory otherwise), moves money through it and prints balances.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import giftledger as gl


def main(argv: list[str] | None = None) -> int:
    """Run the demo and print what happened."""
    gl.register_unit("COIN", 0, singular="coin")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'demo.db'}"
        try:
            book = gl.Ledger.open(url)
        except gl.InvalidArgument:
            url = "memory:"
            book = gl.Ledger.open(url)
        with book:
            print(f"ledger: {url}")
            book.open_account("assets:stores:apple", "USD")
            book.open_account("liabilities:deferred-revenue", "USD", normal="credit")
            book.open_account("platform:coin-supply", "COIN")
            book.open_account("viewers:alice:coins", "COIN", normal="credit")
            tx = book.post(
                [
                    gl.debit("assets:stores:apple", "19.99"),
                    gl.credit("liabilities:deferred-revenue", "19.99"),
                    gl.debit("platform:coin-supply", 1400),
                    gl.credit("viewers:alice:coins", 1400),
                ],
                key="order-1",
                memo="alice buys 1,400 coins",
            )
            print(f"posted transaction {tx.id}: {tx.memo}")
            for name, amount in book.balances().items():
                print(f"  {name:32} {gl.format_money(amount)}")
            print(f"verified {book.verify()} entries; head {book.head[1][:16]}…")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
