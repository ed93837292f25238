"""The gift workload the store benchmarks share: one gift is four postings over two
units (a viewer's COIN wallet debited, the coin supply credited, the Diamond supply
debited, a creator's DIAMOND wallet credited); viewer wallets must not go negative.

Not a benchmark itself (``run.py`` skips files starting with ``_``).
"""

from __future__ import annotations

import giftledger as gl

VIEWERS = 1_000
CREATORS = 100
COINS, DIAMONDS = 10, 5
BATCH = 1_000
COIN_SUPPLY = "platform:coin-supply"
DIAMOND_SUPPLY = "platform:diamond-supply"
_DEBIT, _CREDIT = gl.Side.DEBIT, gl.Side.CREDIT


def register_units() -> None:
    gl.register_unit("COIN", 0, singular="coin")
    gl.register_unit("DIAMOND", 0, singular="diamond")


def wallet(i: int) -> str:
    return f"viewers:v{i % VIEWERS}:coins"


def creator(i: int) -> str:
    return f"creators:c{i % CREATORS}:diamonds"


def gift(i: int) -> list[gl.Posting]:
    return [
        gl.Posting(wallet(i), _DEBIT, COINS, "COIN"),
        gl.Posting(COIN_SUPPLY, _CREDIT, COINS, "COIN"),
        gl.Posting(DIAMOND_SUPPLY, _DEBIT, DIAMONDS, "DIAMOND"),
        gl.Posting(creator(i), _CREDIT, DIAMONDS, "DIAMOND"),
    ]


def open_book(url: str, gifts: int) -> gl.Ledger:
    """A ledger at ``url`` with the wallets funded for ``gifts`` gifts (not timed)."""
    book = gl.Ledger.open(url)
    book.open_account(COIN_SUPPLY, "COIN", rule=gl.BalanceRule.unrestricted())
    book.open_account(DIAMOND_SUPPLY, "DIAMOND", rule=gl.BalanceRule.unrestricted())
    for i in range(VIEWERS):
        book.open_account(wallet(i), "COIN", normal="credit")
    for i in range(CREATORS):
        book.open_account(creator(i), "DIAMOND", normal="credit")
    funding = (gifts // VIEWERS + 1) * COINS * 2
    book.post_many(
        [[gl.debit(COIN_SUPPLY, funding), gl.credit(wallet(i), funding)] for i in range(VIEWERS)]
    )
    return book


def check(book: gl.Ledger, gifts: int) -> None:
    """The books must add up, so a fast-but-wrong run cannot look good."""
    supply = int(book.balance(DIAMOND_SUPPLY).amount)
    if supply != gifts * DIAMONDS:
        raise SystemExit(f"wrong: diamond supply {supply}, expected {gifts * DIAMONDS}")
    if not book.trial_balance().is_balanced:
        raise SystemExit("wrong: the trial balance is off")
