"""A platform's rules as immutable, dated data.

An :class:`Economy` is a frozen value: the units it uses, and one or more
dated :class:`RuleSet` versions (coin packs per channel and region, store
fees, taxes, the gift catalog, how gifts pay the creator, withdrawal, refund
and view-rewards policies). Every number can carry a :class:`Source` saying
where it came from, when, and how sure it is, so a preset can answer "where
did this figure come from?".

Old transactions keep the rules they were made under: the chain asks
``economy.rules_at(when)`` for the version in force at each operation.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date, datetime
from fractions import Fraction

import attrs
from moneyed import Money

from .._money.amounts import Rounding

__all__ = [
    "CoinPack",
    "Confidence",
    "CreatorPay",
    "Economy",
    "Gift",
    "PayoutModel",
    "RefundPolicy",
    "RewardsProgram",
    "RuleSet",
    "Source",
    "SpentCoinPolicy",
    "StoreFee",
    "TaxRule",
    "WithdrawalPolicy",
]


class Confidence(enum.Enum):
    """How sure a figure is, after the fact sheet's tags."""

    OFFICIAL = "official"  # the platform's own page [OFF]
    OFFICIAL_PRESS = "official-press"  # the platform quoted by the press [OFF-press]
    THIRD_PARTY = "third-party"  # a blog, agency or press estimate [3P]
    CODE = "code"  # community code or API data [CODE]
    DERIVED = "derived"  # arithmetic from cited numbers [DER]
    ASSUMPTION = "assumption"  # not published anywhere: the preset's own, documented choice


@attrs.frozen(slots=True)
class Source:
    """Where a figure came from.

    Attributes:
        citation: the source, as a reader could find it again.
        as_of: the date the source itself states, or None when undated.
        confidence: how sure the figure is.
        note: anything a reader must know (conflicts, what was assumed and why).
    """

    citation: str
    as_of: date | None
    confidence: Confidence
    note: str = ""


@attrs.frozen(slots=True)
class CoinPack:
    """A coin package sold on one sales channel in one region.

    Attributes:
        coins: coins credited (bonus included).
        price: what the viewer pays, in local currency, as the store shows it.
        channel: sales channel (``"ios"``, ``"android"``, ``"web"``).
        region: ISO 3166 country code, or ``"*"`` for everywhere else.
    """

    coins: int
    price: Money
    channel: str
    region: str = "*"


@attrs.frozen(slots=True)
class StoreFee:
    """What a sales channel keeps of each purchase.

    Attributes:
        channel: the sales channel.
        rate: the share kept (``Fraction(3, 10)`` for 30%).
        fixed: a fixed part per purchase, in the purchase currency, or None.
        account: the segment naming the store's accounts (``"apple"`` gives
            ``assets:stores:apple`` and ``expenses:store-fees:apple``).
        rounding: how the percentage part is rounded to the minor unit.
    """

    channel: str
    rate: Fraction
    fixed: Money | None = None
    account: str = ""
    rounding: Rounding = Rounding.HALF_UP


@attrs.frozen(slots=True)
class TaxRule:
    """Sales tax or VAT on coin purchases in one region.

    Attributes:
        region: ISO 3166 country code, or ``"*"``.
        rate: the tax rate (``Fraction(19, 100)``).
        inclusive: True when store prices include the tax (EU VAT), False when
            it is added on top (US sales tax).
        rounding: how the tax amount is rounded to the minor unit.
    """

    region: str
    rate: Fraction
    inclusive: bool = True
    rounding: Rounding = Rounding.HALF_UP


@attrs.frozen(slots=True)
class Gift:
    """A gift in the catalog.

    Attributes:
        name: its name as the app shows it (``"Galaxy"``).
        coins: its price in the viewer unit.
    """

    name: str
    coins: int


class PayoutModel(enum.Enum):
    """How a gift becomes the creator's money.

    - ``DIAMOND_VALUE``: each coin of gift gives ``creator_units_per_coin``
      creator units (Diamonds), each worth ``value_per_unit`` of the payout
      currency (TikTok's Model A: 1 Diamond per coin, $0.005 each).
    - ``SHARE_OF_PRICE``: the creator is owed ``share`` of what the spent coins
      were bought for, net of store fees and taxes when ``share_after_fees``
      (YouTube Supers: 70% after tax and the iOS fee).
    """

    DIAMOND_VALUE = "diamond_value"
    SHARE_OF_PRICE = "share_of_price"


@attrs.frozen(slots=True)
class CreatorPay:
    """How gifts pay creators.

    Attributes:
        model: :class:`PayoutModel`.
        creator_units_per_coin: creator units (Diamonds) per coin of gift.
        unit_rounding: how fractional creator units are rounded; the leftover
            stays with the platform (documented in the preset).
        value_per_unit: payout-currency value of one creator unit (DIAMOND_VALUE).
        value_currency: the currency ``value_per_unit`` is in.
        share: the creator's share (SHARE_OF_PRICE).
        share_after_fees: whether ``share`` applies after store fees and taxes.
        cash_rounding: how the creator's cash value is rounded to the minor unit;
            the platform's cut takes the remainder, so the parts sum to the whole.
    """

    model: PayoutModel
    creator_units_per_coin: Fraction = Fraction(1)
    unit_rounding: Rounding = Rounding.FLOOR
    value_per_unit: Fraction = Fraction(0)
    value_currency: str = "USD"
    share: Fraction = Fraction(0)
    share_after_fees: bool = False
    cash_rounding: Rounding = Rounding.FLOOR


@attrs.frozen(slots=True)
class WithdrawalPolicy:
    """When and how a creator may withdraw cash.

    Attributes:
        minimum: the smallest withdrawal (None: no minimum).
        daily_cap: the most per calendar day, UTC (None: no cap).
        fee_fixed: a fixed fee per withdrawal (None: none).
        fee_rate: a share of the amount charged as a fee.
        min_age: the youngest creator allowed to withdraw.
        requires_verification: whether identity verification (KYC) is required.
        regions: regions allowed to withdraw (empty: all).
        review_days: days a request may wait for review.
        holding_days: extra days a payment processor may hold the money.
        methods: payout methods offered (``"paypal"``, ``"bank"``).
    """

    minimum: Money | None = None
    daily_cap: Money | None = None
    fee_fixed: Money | None = None
    fee_rate: Fraction = Fraction(0)
    min_age: int = 18
    requires_verification: bool = False
    regions: frozenset[str] = frozenset()
    review_days: int = 0
    holding_days: int = 0
    methods: tuple[str, ...] = ()


class SpentCoinPolicy(enum.Enum):
    """What a refund or chargeback does about coins already spent on gifts."""

    VIEWER_DEBT = "viewer_debt"  # the viewer owes the platform; booked as a receivable
    PLATFORM_LOSS = "platform_loss"  # the platform absorbs it as an expense


@attrs.frozen(slots=True)
class RefundPolicy:
    """Refunds and chargebacks of coin purchases.

    Attributes:
        spent_coins: what happens to the value of coins already spent.
        refund_store_fee: whether the store returns its fee on a refund.
    """

    spent_coins: SpentCoinPolicy = SpentCoinPolicy.PLATFORM_LOSS
    refund_store_fee: bool = True


@attrs.frozen(slots=True)
class RewardsProgram:
    """View-based pay: a pool paid per 1,000 qualified views.

    Attributes:
        name: the program's name.
        rpm: payout per 1,000 qualified views, per region (``"*"`` for the rest).
        engagement_weights: multipliers by engagement tier (``"low"``, ``"high"``).
        min_followers: followers needed to qualify.
        min_views_30d: views in the last 30 days needed to qualify.
        min_video_seconds: shortest video that earns.
        min_qualified_views_per_video: views a video needs before it earns.
        currency: the currency of ``rpm``.
    """

    name: str
    rpm: Mapping[str, Money]
    engagement_weights: Mapping[str, Fraction] = attrs.field(factory=dict)
    min_followers: int = 0
    min_views_30d: int = 0
    min_video_seconds: int = 0
    min_qualified_views_per_video: int = 0
    currency: str = "USD"


@attrs.frozen(slots=True)
class RuleSet:
    """One version of an economy's rules, in force from ``effective_from``.

    Attributes:
        effective_from: when this version takes effect (aware datetime, UTC).
        coin_packs: every pack on sale.
        store_fees: one per sales channel.
        taxes: tax rules per region.
        gifts: the gift catalog.
        creator_pay: how gifts pay creators.
        withdrawal: the withdrawal policy.
        refunds: the refund and chargeback policy.
        rewards: view-based programs.
        min_buyer_age: the youngest viewer allowed to buy coins.
        payout_currencies: currencies creators may be paid in.
    """

    effective_from: datetime
    coin_packs: tuple[CoinPack, ...]
    store_fees: tuple[StoreFee, ...]
    gifts: tuple[Gift, ...]
    creator_pay: CreatorPay
    withdrawal: WithdrawalPolicy = WithdrawalPolicy()
    refunds: RefundPolicy = RefundPolicy()
    taxes: tuple[TaxRule, ...] = ()
    rewards: tuple[RewardsProgram, ...] = ()
    min_buyer_age: int = 18
    payout_currencies: tuple[str, ...] = ("USD",)


@attrs.frozen(slots=True)
class Economy:
    """A platform's rules over time.

    Attributes:
        name: a short id (``"tiktok-live"``).
        title: a human title.
        books_currency: the currency the platform keeps its books in.
        coin_unit: the viewer-side virtual unit (``"COIN"``, ``"BIT"``, ``"STAR"``).
        creator_unit: the creator-side unit (``"DIAMOND"``, ``"BEAN"``).
        versions: rule sets, sorted by ``effective_from``; the first is the oldest.
        sources: provenance per figure, keyed by a dotted path
            (``"versions.0.creator_pay.value_per_unit"``).
        assumptions: plain-language notes on every figure the platform never published.
    """

    name: str
    title: str
    books_currency: str
    coin_unit: str
    creator_unit: str
    versions: tuple[RuleSet, ...]
    sources: Mapping[str, Source] = attrs.field(factory=dict)
    assumptions: tuple[str, ...] = ()
