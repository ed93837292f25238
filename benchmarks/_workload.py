"""A seeded gift-economy workload of core transactions, shared by ``compare.py``'s contenders.

``generate(n, seed)`` draws exactly ``n`` transactions of three kinds, the core
of a TikTok LIVE-like economy (the ``tiktok-live`` preset's web ladder, 2024
gift catalog and conversion model A, so the chain can run the same events):

- **purchase**: a viewer buys a web coin pack (5 postings, USD and COIN)::

      USD:  debit  assets:stores:web              price - fee
            debit  expenses:store-fees:web        fee      (3% of the price, floored)
            credit liabilities:deferred-revenue   price
      COIN: debit  platform:coin-supply           coins
            credit viewers:<v>:coins              coins

- **gift**: a viewer spends coins on a gift for a creator, who gets one Diamond
  per coin (4 postings, COIN and DIAMOND)::

      COIN:    debit viewers:<v>:coins, credit platform:coin-supply        coins
      DIAMOND: debit platform:diamond-supply, credit creators:<c>:diamonds coins

- **conversion**: a creator turns an even number of Diamonds into cash at
  US$0.005 each (4 postings, DIAMOND and USD)::

      DIAMOND: debit creators:<c>:diamonds, credit platform:diamond-supply  d
      USD:     debit expenses:creator-pay, credit creators:<c>:cash         d / 2 cents

How it is drawn (``random.Random(seed)``, integer weights only, so a seed gives
the same workload on every machine and Python 3.11+):

- 1,000 viewers, picked uniformly for each gift; 100 creators, picked by a Zipf
  law with exponent 1 (creator ``k`` with weight ``1 / (k + 1)``: the top creator
  gets about 19% of the gifts, the top 10 about 56%);
- gift sizes from the catalog, small ones far more often (``GIFTS`` weights:
  Rose 40%, … Galaxy 0.5%);
- a viewer short of coins for the gift drawn first buys packs (``PACKS`` weights:
  70 coins 50%, … 17,500 coins 1%) until the gift is covered; each pack is a
  transaction of the ``n``;
- before each gift, with probability 2%, the creator drawn for it converts all
  but the odd Diamond of their balance if it is at least 200 Diamonds (US$1).

Wallets never go negative, so every contender accepts every transaction. Events
are kept as four ``array('i')`` columns (16 bytes per transaction), so the workload
itself stays small beside what the contenders keep.

Not a benchmark itself (``run.py`` skips files starting with ``_``). It imports
nothing from giftledger, so a contender's process holds only what it needs.
"""

from __future__ import annotations

import bisect
import random
from array import array
from collections.abc import Iterator
from typing import NamedTuple

VIEWERS = 1_000
CREATORS = 100

PURCHASE, GIFT, CONVERSION = 0, 1, 2
KINDS = ("purchases", "gifts", "conversions")

# name, coins, weight (per 1,000)
GIFTS = (
    ("Rose", 1, 400),
    ("Finger Heart", 5, 200),
    ("Rosa", 10, 150),
    ("Perfume", 20, 80),
    ("Doughnut", 30, 70),
    ("Hand Heart", 100, 50),
    ("Sunglasses", 199, 20),
    ("Corgi", 299, 15),
    ("Money Gun", 500, 10),
    ("Galaxy", 1000, 5),
)
# coins, price in cents (the preset's web ladder), weight (per 100)
PACKS = (
    (70, 74, 50),
    (350, 370, 25),
    (700, 740, 12),
    (1400, 1480, 7),
    (3500, 3700, 4),
    (7000, 7400, 1),
    (17500, 18500, 1),
)
WEB_FEE_PERCENT = 3  # the preset's web store fee, floored to the cent
CONVERT_PER_MILLE = 20  # 2% of gifts are preceded by a conversion check
CONVERT_MIN = 200  # Diamonds a creator holds before converting (US$1)
CENTS_PER_TWO_DIAMONDS = 1  # US$0.005 a Diamond

# Accounts: name, unit, debit-normal, floor (None: unrestricted; 0: never below zero)
STORE = "assets:stores:web"
STORE_FEES = "expenses:store-fees:web"
DEFERRED = "liabilities:deferred-revenue"
COIN_SUPPLY = "platform:coin-supply"
DIAMOND_SUPPLY = "platform:diamond-supply"
CREATOR_PAY = "expenses:creator-pay"

Plain = tuple[str, bool, int, str]  # account, is debit, minor units, unit


def viewer(i: int) -> str:
    return f"v{i}"


def creator(i: int) -> str:
    return f"c{i}"


WALLETS = tuple(f"viewers:{viewer(i)}:coins" for i in range(VIEWERS))
DIAMONDS = tuple(f"creators:{creator(i)}:diamonds" for i in range(CREATORS))
CASH = tuple(f"creators:{creator(i)}:cash" for i in range(CREATORS))


def accounts() -> list[tuple[str, str, bool, int | None]]:
    """Every account of the workload: (name, unit, debit-normal, floor)."""
    rows: list[tuple[str, str, bool, int | None]] = [
        (STORE, "USD", True, None),
        (STORE_FEES, "USD", True, None),
        (DEFERRED, "USD", False, None),
        (COIN_SUPPLY, "COIN", True, None),
        (DIAMOND_SUPPLY, "DIAMOND", True, None),
        (CREATOR_PAY, "USD", True, None),
    ]
    rows += [(name, "COIN", False, 0) for name in WALLETS]
    rows += [(name, "DIAMOND", False, 0) for name in DIAMONDS]
    rows += [(name, "USD", False, 0) for name in CASH]
    return rows


def web_fee(cents: int) -> int:
    return cents * WEB_FEE_PERCENT // 100


class Workload(NamedTuple):
    """``n`` transactions as columns: kind, party, other, size (see ``postings``)."""

    seed: int
    kind: array[int]
    party: array[int]  # the viewer (purchase, gift) or the creator (conversion)
    other: array[int]  # the creator of a gift; the pack index of a purchase
    size: array[int]  # a gift's index in GIFTS; the Diamonds of a conversion

    def __len__(self) -> int:
        return len(self.kind)

    def counts(self) -> dict[str, int]:
        return {name: self.kind.count(k) for k, name in enumerate(KINDS)}


def _chooser(rng: random.Random, weights: list[int]) -> Iterator[int]:
    cumulative, total = [], 0
    for w in weights:
        total += w
        cumulative.append(total)
    randrange, right = rng.randrange, bisect.bisect_right
    while True:
        yield right(cumulative, randrange(total))


def generate(n: int, seed: int = 1) -> Workload:
    """Exactly ``n`` transactions drawn from ``seed`` (see the module's docstring)."""
    if n < 1:
        raise ValueError(f"n {n!r} must be at least 1")
    rng = random.Random(seed)
    gift_of = _chooser(rng, [w for _, _, w in GIFTS])
    pack_of = _chooser(rng, [w for _, _, w in PACKS])
    creator_of = _chooser(rng, [1_000_000 // (k + 1) for k in range(CREATORS)])
    coins = [0] * VIEWERS
    diamonds = [0] * CREATORS
    w = Workload(seed, array("i"), array("i"), array("i"), array("i"))

    def add(kind: int, party: int, other: int, size: int) -> None:
        w.kind.append(kind)
        w.party.append(party)
        w.other.append(other)
        w.size.append(size)

    while len(w.kind) < n:
        v = rng.randrange(VIEWERS)
        c = next(creator_of)
        g = next(gift_of)
        if rng.randrange(1000) < CONVERT_PER_MILLE and diamonds[c] >= CONVERT_MIN:
            d = diamonds[c] - diamonds[c] % 2
            diamonds[c] -= d
            add(CONVERSION, c, 0, d)
            continue
        price = GIFTS[g][1]
        while coins[v] < price and len(w.kind) < n:
            p = next(pack_of)
            coins[v] += PACKS[p][0]
            add(PURCHASE, v, p, 0)
        if len(w.kind) == n:
            break  # n reached while buying
        coins[v] -= price
        diamonds[c] += price
        add(GIFT, v, c, g)
    return w


def postings(kind: int, party: int, other: int, size: int) -> list[Plain]:
    """The plain postings of one transaction (debits before credits in each unit)."""
    if kind == GIFT:
        coins = GIFTS[size][1]
        return [
            (WALLETS[party], True, coins, "COIN"),
            (COIN_SUPPLY, False, coins, "COIN"),
            (DIAMOND_SUPPLY, True, coins, "DIAMOND"),
            (DIAMONDS[other], False, coins, "DIAMOND"),
        ]
    if kind == PURCHASE:
        coins, cents, _ = PACKS[other]
        fee = web_fee(cents)
        return [
            (STORE, True, cents - fee, "USD"),
            (STORE_FEES, True, fee, "USD"),
            (DEFERRED, False, cents, "USD"),
            (COIN_SUPPLY, True, coins, "COIN"),
            (WALLETS[party], False, coins, "COIN"),
        ]
    cents = size // 2 * CENTS_PER_TWO_DIAMONDS
    return [
        (DIAMONDS[party], True, size, "DIAMOND"),
        (DIAMOND_SUPPLY, False, size, "DIAMOND"),
        (CREATOR_PAY, True, cents, "USD"),
        (CASH[party], False, cents, "USD"),
    ]


def each(w: Workload, start: int = 0, stop: int | None = None) -> Iterator[list[Plain]]:
    """The plain postings of transactions ``start .. stop - 1``."""
    kind, party, other, size = w.kind, w.party, w.other, w.size
    for i in range(start, len(kind) if stop is None else stop):
        yield postings(kind[i], party[i], other[i], size[i])


def expected(w: Workload) -> dict[str, int]:
    """Final balances (debit-positive minor units) summed straight from the postings."""
    net = {name: 0 for name, *_ in accounts()}
    for ps in each(w):
        for name, debit, minor, _ in ps:
            net[name] += minor if debit else -minor
    return net
