"""The summary of a simulation: exact money, ratios as fractions, reconciled.

Amounts are exact :class:`moneyed.Money` in the books' currency. A figure that is
a total is a whole number of minor units. A figure that divides money (a median
of two middles, pay per gift, per live hour, per 1,000 views) is computed exactly
as a fraction of minor units, then shown with two more decimals than the
currency has, rounded half to even (:data:`PER_UNIT_ROUNDING`; 0.005 USD per
Rose stays 0.0050 USD). Ratios (shares, the Gini coefficient) are
:class:`~fractions.Fraction` values, exact.

The identity every run satisfies, in the books' currency::

    fiat in + viewer debt = store fees + taxes + platform + creators + still deferred

- *fiat in*: what viewers paid for coins, net of refunds, each purchase at its
  books value: its record's ``tax_books + deferred`` (the deferred revenue a
  purchase credits is the whole tax-exclusive price, the store's fee included;
  for a pack priced in the books' currency this is its price);
- *store fees*, *taxes*: the purchases' ``fee_books`` and ``tax_books``, net of
  refunds (a fee the store keeps on a refund stays a fee);
- *platform*: the ledger's ``revenue:*`` less its ``expenses:*`` (the stores'
  fee accounts aside, as the fees are counted above), less the store fees, less
  what the rewards pool paid creators;
- *creators*: what creators are owed, hold in cash, have in flight and have been
  paid (the ledger's payables, cash, payouts in flight and bank);
- *still deferred*: ``liabilities:deferred-revenue``: coins bought, not yet spent.

Only *fiat in*, *store fees* and *taxes* come from the run's own tally; the rest
is read from the ledger's balances, so the identity is a real check.
"""

from __future__ import annotations

import decimal
from fractions import Fraction
from typing import Any

import attrs
from moneyed import Money

from .._economy.chain import GiftEconomy
from .._economy.records import PurchaseRecord
from .._money.amounts import Rounding, from_minor, to_minor
from .._money.units import get_unit

__all__ = ["PER_UNIT_ROUNDING", "Figures", "Tally", "figures_of", "gini"]

#: How a figure that divides money is shown: two more decimals than the
#: currency's, half to even.
PER_UNIT_ROUNDING = Rounding.HALF_EVEN


@attrs.define(slots=True)
class Tally:
    """What a run counts as it goes (the parts the ledger cannot tell apart)."""

    currency: str
    viewers: int
    creators: int
    live_hours: Fraction  # per day, all creators
    days: int = 0
    purchases: int = 0
    gifts: int = 0
    gift_units: int = 0
    refunds: int = 0
    withdrawals: int = 0
    completed: int = 0
    in_flight: int = 0
    fiat_in: int = 0
    store_fees: int = 0
    taxes: int = 0
    by_channel: dict[str, int] = attrs.field(factory=dict)
    by_region: dict[str, int] = attrs.field(factory=dict)
    viewer_debt: int = 0
    view_pay: int = 0
    view_paid_creators: int = 0
    views: int = 0
    has_view_program: bool = False
    blocked: int = 0
    completed_by_creator: tuple[int, ...] = ()
    threshold_refused: bytes = b""
    requested: bytes = b""

    def purchase(self, rec: PurchaseRecord, sign: int) -> None:
        """Count a purchase (``sign=1``) or take a refunded one back (``sign=-1``)."""
        value = rec.tax_books + rec.deferred
        self.purchases += 1 if sign > 0 else 0
        self.fiat_in += sign * value
        self.store_fees += sign * rec.fee_books
        self.taxes += sign * rec.tax_books
        self.by_channel[rec.channel] = self.by_channel.get(rec.channel, 0) + sign * value
        self.by_region[rec.region] = self.by_region.get(rec.region, 0) + sign * value


def _show(value: Fraction, currency: str) -> Money:
    """A fraction of minor units as Money with two more decimals (half to even)."""
    exp = get_unit(currency).exponent
    ctx = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_EVEN)
    exact = ctx.divide(decimal.Decimal(value.numerator), decimal.Decimal(value.denominator))
    amount = ctx.scaleb(exact, -exp).quantize(decimal.Decimal(1).scaleb(-(exp + 2)), context=ctx)
    return Money(amount, currency)


def gini(values: list[int]) -> Fraction:
    """The Gini coefficient of ``values`` (>= 0), exactly; 0 when all are 0.

    ``G = 2·Σ i·x_(i) / (n·Σx) − (n + 1)/n`` over the values sorted ascending
    (``i`` from 1): 0 when everyone earns the same, ``(n − 1)/n`` when one earns all.

    Example:
        >>> gini([0, 0, 0, 10])
        Fraction(3, 4)
        >>> gini([5, 5])
        Fraction(0, 1)
    """
    xs = sorted(values)
    n, total = len(xs), sum(xs)
    if n == 0 or total == 0:
        return Fraction(0)
    ranked = sum(i * x for i, x in enumerate(xs, start=1))
    return Fraction(2 * ranked, n * total) - Fraction(n + 1, n)


@attrs.frozen(slots=True)
class Figures:
    """The summary of one simulation, in the books' currency.

    Attributes:
        currency: the books' currency.
        viewers: viewers in the population; creators, days likewise.
        purchases: coin purchases; gifts: gift entries (a gift of quantity
            5 is one), refunds, withdrawals requested and completed.
        fiat_in: what viewers paid, net of refunds (see the module's identity).
        revenue_by_channel: ``fiat_in`` per sales channel, sorted by channel.
        revenue_by_region: ``fiat_in`` per buyer's region, sorted by region.
        store_fees, taxes, platform, to_creators, deferred: the identity's parts
            (``to_creators`` is its *creators*).
        viewer_debt: refunded coins already spent, owed by viewers (VIEWER_DEBT).
        view_pay: what the rewards program paid creators (in ``creators``).
        views: views the population gave (0 without a rewards program).
        live_hours: hours streamed: creators × days × hours per day.
        earners: creators who earned anything.
        creator_median: the median creator's earnings (all creators).
        creator_top1: what the top 1% of creators (at least one) earned.
        creator_top1_share: their share of all creators' earnings.
        gini: the Gini coefficient of creators' earnings.
        blocked: earners who never withdrew because the minimum refused them.
        blocked_share: ``blocked / earners``.
        creator_share: creators' gift earnings / ``fiat_in``.
        pay_per_gift: creators' gift earnings per gift entry.
        pay_per_live_hour: creators' earnings (gifts and views) per live hour.
        pay_per_1000_views: view pay per 1,000 views; None without a program.
        creator_earnings: every creator's earnings, creator 0 first, in minor units.
    """

    currency: str
    viewers: int
    creators: int
    days: int
    purchases: int
    gifts: int
    refunds: int
    withdrawals: int
    withdrawals_completed: int
    fiat_in: Money
    revenue_by_channel: tuple[tuple[str, Money], ...]
    revenue_by_region: tuple[tuple[str, Money], ...]
    store_fees: Money
    taxes: Money
    platform: Money
    to_creators: Money
    deferred: Money
    viewer_debt: Money
    view_pay: Money
    views: int
    live_hours: Fraction
    earners: int
    creator_median: Money
    creator_top1: Money
    creator_top1_share: Fraction
    gini: Fraction
    blocked: int
    blocked_share: Fraction
    creator_share: Fraction
    pay_per_gift: Money
    pay_per_live_hour: Money
    pay_per_1000_views: Money | None
    creator_earnings: tuple[int, ...] = attrs.field(repr=False)

    @property
    def reconciles(self) -> bool:
        """``fiat in + viewer debt == store fees + taxes + platform + creators + deferred``."""
        right = self.store_fees + self.taxes + self.platform + self.to_creators + self.deferred
        return bool(self.fiat_in + self.viewer_debt == right)

    def rows(self) -> list[tuple[str, str]]:
        """``(figure, value)`` pairs for a table, in a fixed order."""
        return [(label, _text(value, label)) for label, value in self.items()]

    def items(self) -> list[tuple[str, Any]]:
        """``(figure, value)`` pairs, values as they are (Money, Fraction, int)."""
        out: list[tuple[str, Any]] = [
            ("viewers", self.viewers),
            ("creators", self.creators),
            ("days", self.days),
            ("purchases", self.purchases),
            ("gifts", self.gifts),
            ("refunds", self.refunds),
            ("withdrawals requested", self.withdrawals),
            ("withdrawals completed", self.withdrawals_completed),
            ("fiat in", self.fiat_in),
        ]
        out += [(f"  via {ch}", m) for ch, m in self.revenue_by_channel]
        out += [(f"  from {r}", m) for r, m in self.revenue_by_region]
        out += [
            ("store fees", self.store_fees),
            ("taxes", self.taxes),
            ("platform", self.platform),
            ("to creators", self.to_creators),
            ("still deferred", self.deferred),
            ("viewer debt", self.viewer_debt),
            ("reconciles", self.reconciles),
            ("view pay", self.view_pay),
            ("views", self.views),
            ("live hours", self.live_hours),
            ("creators who earned", self.earners),
            ("median creator earnings", self.creator_median),
            ("top 1% of creators earned", self.creator_top1),
            ("top 1% share", self.creator_top1_share),
            ("Gini of earnings", self.gini),
            ("blocked by the minimum", self.blocked),
            ("blocked share", self.blocked_share),
            ("creator share of fiat in", self.creator_share),
            ("pay per gift", self.pay_per_gift),
            ("pay per live hour", self.pay_per_live_hour),
            ("pay per 1,000 views", self.pay_per_1000_views),
        ]
        return out

    def as_json(self) -> dict[str, Any]:
        """The figures as JSON-ready values: money as ``{"amount", "currency"}``
        strings, ratios as ``"n/d"`` fractions and as decimal strings."""
        out: dict[str, Any] = {}
        for f in attrs.fields(Figures):
            if f.name == "creator_earnings":
                continue
            out[f.name] = _json(getattr(self, f.name))
        out["reconciles"] = self.reconciles
        return out


def _text(value: Any, label: str = "") -> str:
    """A figure as table text: a share as a percentage, other ratios as decimals."""
    if value is None:
        return "—"
    if isinstance(value, Money):
        return f"{value.amount} {value.currency.code}"
    if isinstance(value, Fraction):
        return _percent(value) if "share" in label else _decimal(value)
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _decimal(value: Fraction, places: int = 4) -> str:
    ctx = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_EVEN)
    exact = ctx.divide(decimal.Decimal(value.numerator), decimal.Decimal(value.denominator))
    shown = exact.quantize(decimal.Decimal(1).scaleb(-places), context=ctx).normalize(ctx)
    return f"{shown:f}"


def _percent(value: Fraction) -> str:
    ctx = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_EVEN)
    pct = ctx.divide(decimal.Decimal(value.numerator * 100), decimal.Decimal(value.denominator))
    return f"{pct.quantize(decimal.Decimal('0.01'), context=ctx)}%"


def _json(value: Any) -> Any:
    if isinstance(value, Money):
        return {"amount": str(value.amount), "currency": value.currency.code}
    if isinstance(value, Fraction):
        return {"fraction": f"{value.numerator}/{value.denominator}", "decimal": _decimal(value, 6)}
    if isinstance(value, tuple):
        return {k: _json(v) for k, v in value}
    return value


_CREATORS = ("liabilities:creators-payable:", "liabilities:payouts-in-flight")


def figures_of(app: GiftEconomy, t: Tally) -> Figures:
    """Read the ledger's balances and put the summary together."""
    ccy = t.currency
    book = app.ledger
    deferred = platform = creators_term = 0
    for name, money in book.balances().items():
        if money.currency.code != ccy:
            continue
        m = to_minor(money, ccy)
        if name == "liabilities:deferred-revenue":
            deferred += m
        elif name.startswith(_CREATORS) or (
            name.startswith("creators:") and name.endswith(":cash")
        ):
            creators_term += m
        elif name.startswith("assets:bank"):
            creators_term -= m  # paid out: the bank account is credited
        elif name.startswith("expenses:store-fees:"):
            continue  # in store_fees, from the purchases' records
        elif name.startswith("revenue:"):
            platform += m
        elif name.startswith("expenses:") or name.startswith("platform:rewards-pool"):
            platform -= m
    platform -= t.store_fees
    earnings = []
    for c in range(t.creators):
        name = f"creator-{c}"
        owed = to_minor(book.balance(f"liabilities:creators-payable:{name}"), ccy)
        cash = to_minor(book.balance(f"creators:{name}:cash"), ccy)
        earnings.append(owed + cash + t.completed_by_creator[c])
    total = sum(earnings)
    ranked = sorted(earnings)
    n = len(ranked)
    median = Fraction(ranked[n // 2]) if n % 2 else Fraction(ranked[n // 2 - 1] + ranked[n // 2], 2)
    top_n = max(1, -(-n // 100))
    top = sum(ranked[-top_n:])
    earners = sum(1 for e in earnings if e > 0)
    from_gifts = total - t.view_pay
    hours = t.live_hours * t.days

    def in_books(minor: int) -> Money:
        return from_minor(minor, ccy)

    return Figures(
        currency=ccy,
        viewers=t.viewers,
        creators=t.creators,
        days=t.days,
        purchases=t.purchases,
        gifts=t.gifts,
        refunds=t.refunds,
        withdrawals=t.withdrawals,
        withdrawals_completed=t.completed,
        fiat_in=in_books(t.fiat_in),
        revenue_by_channel=tuple((k, in_books(v)) for k, v in sorted(t.by_channel.items())),
        revenue_by_region=tuple((k, in_books(v)) for k, v in sorted(t.by_region.items())),
        store_fees=in_books(t.store_fees),
        taxes=in_books(t.taxes),
        platform=in_books(platform),
        to_creators=in_books(creators_term),
        deferred=in_books(deferred),
        viewer_debt=in_books(t.viewer_debt),
        view_pay=in_books(t.view_pay),
        views=t.views,
        live_hours=hours,
        earners=earners,
        creator_median=_show(median, ccy),
        creator_top1=in_books(top),
        creator_top1_share=Fraction(top, total) if total else Fraction(0),
        gini=gini(earnings),
        blocked=t.blocked,
        blocked_share=Fraction(t.blocked, earners) if earners else Fraction(0),
        creator_share=Fraction(from_gifts, t.fiat_in) if t.fiat_in else Fraction(0),
        pay_per_gift=_show(Fraction(from_gifts, t.gifts) if t.gifts else Fraction(0), ccy),
        pay_per_live_hour=_show(Fraction(total) / hours if hours else Fraction(0), ccy),
        pay_per_1000_views=(
            _show(Fraction(t.view_pay * 1000, t.views) if t.views else Fraction(0), ccy)
            if t.has_view_program
            else None
        ),
        creator_earnings=tuple(earnings),
    )
