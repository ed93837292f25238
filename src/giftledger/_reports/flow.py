"""Where the money went, as a flow: the data behind a Sankey or waterfall chart.

:func:`money_flow` turns an :class:`~giftledger.Explanation` (a creator's whole
story, or the gifts of one period) or a :class:`~giftledger.GiftTrace` (one
gift) into a :class:`MoneyFlow`: nodes (viewers' spending, the store's fee,
the tax, the platform's cut, the creator's share, the conversion into the
payout currency, the creator's cash, withdrawal fees, the bank, what is still
held) and the links between them, every amount an exact ``Money`` in the
books' currency.

The flow balances at every node: what flows out of a node is exactly what
flows into it, to the minor unit (:class:`MoneyFlow` refuses one that does
not). It reads only the public fields of the report values; it draws nothing
and needs no plotting library (see :mod:`giftledger.charts` for that).

After the conversion the creator's money is in the payout currency. Those
nodes carry what actually happened in ``paid`` (the payout currency) and a
books value in ``amount``: the books value of the creator's cash (what the
conversions cost in the books, plus view pay) split over fees, bank, in flight
and still held in proportion to their payout amounts, with
:func:`~giftledger.allocate` (largest remainder), so the parts sum exactly.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime
from fractions import Fraction

import attrs
from moneyed import Money

from .._errors import InvalidArgument, RateUnavailable
from .._ledger.clock import require_aware
from .._money.allocation import allocate
from .._money.amounts import Rounding, from_minor, round_fraction, to_minor
from .._money.units import get_unit
from .explain import Explanation, GiftTrace

__all__ = ["FlowKind", "FlowLink", "FlowNode", "MoneyFlow", "money_flow"]


class FlowKind(enum.Enum):
    """What a node of a :class:`MoneyFlow` is to the creator.

    ``SOURCE``: money that enters (what viewers paid, a platform top-up, view
    pay). ``CUT``: money taken on the way (store fee, tax, platform, withdrawal
    fee). ``CREATOR``: money that is the creator's (their share, what they are
    still owed, their cash, what reached their bank).
    """

    SOURCE = "source"
    CUT = "cut"
    CREATOR = "creator"


@attrs.frozen(slots=True)
class FlowNode:
    """One place money passes through or ends in.

    Attributes:
        key: a stable identifier (``"viewers"``, ``"store_fees"``, ``"tax"``,
            ``"platform"``, ``"creator_share"``, ``"owed"``, ``"converted"``,
            ``"cash"``, ``"withdrawal_fees"``, ``"bank"``, ``"in_flight"``,
            ``"held"``, ``"top_up"``, ``"adjustment_in"``, ``"adjustment_out"``,
            ``"views"``, ``"clawback"``, ``"purchase:<entry id>"``; with purchases,
            ``"viewers"`` is the gift itself).
        label: the node's name, in English, for a reader.
        kind: a source, a cut or the creator's.
        stage: its step along the chain, from 0 (where money enters).
        amount: the money through (or into, or out of) it, books' currency.
        paid: the same in the creator's payout currency, for the nodes after
            the conversion when that currency is not the books' (else None).
    """

    key: str
    label: str
    kind: FlowKind
    stage: int
    amount: Money
    paid: Money | None = None


@attrs.frozen(slots=True)
class FlowLink:
    """Money moving from one node to the next.

    Attributes:
        source: the key of the node it leaves.
        target: the key of the node it enters.
        amount: how much, books' currency (always more than zero).
        paid: the same in the payout currency, after the conversion (else None).
    """

    source: str
    target: str
    amount: Money
    paid: Money | None = None


@attrs.frozen(slots=True)
class MoneyFlow:
    """Where money went, node by node; every node's outflows sum to its inflows.

    Attributes:
        title: what the flow shows, for a chart's title.
        currency: the books' currency, which every ``amount`` is in.
        nodes: the nodes, in chain order (by stage, then as the chain takes them).
        links: the links, in the same order.
        payout: the creator's payout currency when it differs from the books'.
        creator: whose money (None for a gift traced alone).
        start: the first instant of the period shown (None: from the beginning).
        end: the first instant after it (None: to now).

    Raises:
        InvalidArgument: a link that is not more than zero, is in another currency or
            names an unknown node, or a node whose inflows, outflows and amount
            differ.
    """

    title: str
    currency: str
    nodes: tuple[FlowNode, ...]
    links: tuple[FlowLink, ...]
    payout: str | None = None
    creator: str | None = None
    start: datetime | None = None
    end: datetime | None = None

    def __attrs_post_init__(self) -> None:
        keys = {n.key for n in self.nodes}
        if len(keys) != len(self.nodes):
            raise InvalidArgument("a money flow's node keys must be unique")
        for link in self.links:
            if link.source not in keys or link.target not in keys:
                raise InvalidArgument(f"link {link.source!r} -> {link.target!r} names no node")
            if link.amount.currency.code != self.currency or link.amount.amount <= 0:
                raise InvalidArgument(
                    f"link {link.source!r} -> {link.target!r} moves {_text(link.amount)}; a link "
                    f"moves more than zero {self.currency}"
                )
        for node in self.nodes:
            if node.amount.currency.code != self.currency:
                raise InvalidArgument(f"node {node.key!r} is in {node.amount.currency.code}")
            into, out = self.inflow(node.key), self.outflow(node.key)
            for side, total in (("in", into), ("out", out)):
                if total is not None and total != node.amount:
                    raise InvalidArgument(
                        f"node {node.key!r} holds {_text(node.amount)} but {_text(total)} "
                        f"flows {side}"
                    )

    def node(self, key: str) -> FlowNode:
        """The node named ``key``.

        Raises:
            InvalidArgument: no node has that key.
        """
        for n in self.nodes:
            if n.key == key:
                return n
        raise InvalidArgument(
            f"this flow has no node {key!r}; it has {[n.key for n in self.nodes]}"
        )

    def inflow(self, key: str) -> Money | None:
        """What flows into node ``key`` (None when nothing does: a source)."""
        return _total(link.amount for link in self.links if link.target == key)

    def outflow(self, key: str) -> Money | None:
        """What flows out of node ``key`` (None when nothing does: an end)."""
        return _total(link.amount for link in self.links if link.source == key)

    @property
    def total(self) -> Money:
        """All the money that entered: the sum of the sources."""
        zero = Money(0, self.currency)
        return sum((n.amount for n in self.nodes if self.inflow(n.key) is None), zero)

    def ends(self) -> tuple[FlowNode, ...]:
        """The nodes money ends in (cuts, and what is the creator's), in chain order."""
        return tuple(n for n in self.nodes if self.outflow(n.key) is None and n.amount.amount)


def _text(money: Money) -> str:
    return f"{money.amount} {money.currency.code}"


def _total(amounts: Iterable[Money]) -> Money | None:
    found = list(amounts)
    if not found:
        return None
    return sum(found[1:], found[0])


class _Builder:
    """Collects nodes and links; drops what moves nothing."""

    def __init__(self, books: str) -> None:
        self.books = books
        self.nodes: dict[str, FlowNode] = {}
        self.links: list[FlowLink] = []

    def node(
        self,
        key: str,
        label: str,
        kind: FlowKind,
        stage: int,
        minor: int,
        paid: Money | None = None,
    ) -> None:
        self.nodes[key] = FlowNode(key, label, kind, stage, from_minor(minor, self.books), paid)

    def link(self, source: str, target: str, minor: int, paid: Money | None = None) -> None:
        if minor > 0:
            self.links.append(FlowLink(source, target, from_minor(minor, self.books), paid))

    def build(self, title: str, **kw: object) -> MoneyFlow:
        used = {k for link in self.links for k in (link.source, link.target)}
        nodes = [n for n in self.nodes.values() if n.key in used]
        if not nodes:  # nothing moved yet: keep the first node, so a chart says so
            nodes = list(self.nodes.values())[:1]
        order = {n.key: i for i, n in enumerate(nodes)}
        nodes.sort(key=lambda n: (n.stage, order[n.key]))
        return MoneyFlow(title, self.books, tuple(nodes), tuple(self.links), **kw)  # type: ignore[arg-type]


def _minor(money: Money) -> int:
    return to_minor(money, money.currency.code)


def _gift_side(
    b: _Builder, paid: int, fee: int, tax: int, platform: int, share: int, at: int = 0
) -> None:
    """Viewers' spending (stage ``at``) to the store, the tax, the platform and the
    creator's share (the next stage). A platform part below zero (it paid the
    creator more than the coins released) is a top-up flowing into the share."""
    b.node("viewers", "Viewers paid", FlowKind.SOURCE, at, paid)
    b.node("store_fees", "Store fees", FlowKind.CUT, at + 1, fee)
    b.node("tax", "Tax", FlowKind.CUT, at + 1, tax)
    b.node("platform", "Platform", FlowKind.CUT, at + 1, max(platform, 0))
    b.node("top_up", "Platform top-up", FlowKind.SOURCE, at, max(-platform, 0))
    b.node("creator_share", "Creator's share", FlowKind.CREATOR, at + 1, share)
    b.link("viewers", "store_fees", fee)
    b.link("viewers", "tax", tax)
    b.link("viewers", "platform", max(platform, 0))
    b.link("viewers", "creator_share", paid - fee - tax - max(platform, 0))
    b.link("top_up", "creator_share", max(-platform, 0))


def _when(at: datetime | None) -> str:
    return "" if at is None else at.date().isoformat()


def money_flow(
    source: Explanation | GiftTrace,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    gift: int | None = None,
) -> MoneyFlow:
    """Where the money went, as nodes and links that balance exactly.

    Args:
        source: a creator's :class:`~giftledger.Explanation` (from
            :meth:`GiftEconomy.explain <giftledger.GiftEconomy.explain>`) or one
            :class:`~giftledger.GiftTrace` from its ``gifts``.
        start: with an explanation, show only the gifts sent in ``[start, end)``
            (aware datetimes): from viewers' spending to the creator's share.
            Without ``start`` and ``end``, the creator's whole story, on to the bank.
        end: the end of that period, excluded.
        gift: with an explanation, the entry id of one of its gifts to show alone.

    Returns:
        A :class:`MoneyFlow` in the books' currency.

    Raises:
        InvalidArgument: ``source`` is neither, ``end`` is before ``start``, a
            period or ``gift`` with a gift trace, or no gift of the creator has
            entry id ``gift``.
        RateUnavailable: view pay in a payout currency that no conversion or
            stored rate values in the books' currency.

    Example:
        >>> import giftledger as gl
        >>> app = gl.GiftEconomy(gl.Ledger(), gl.presets.load("tiktok-live"))
        >>> _ = app.open_viewer("ann", region="US", age=30)
        >>> _ = app.open_creator("cat", region="US", age=30)
        >>> _ = app.buy_coins("ann", pack=70, channel="web")
        >>> _ = app.send_gift("ann", "cat", "Rose", quantity=50)
        >>> flow = gl.money_flow(app.explain("cat"))
        >>> [(n.key, str(n.amount.amount)) for n in flow.nodes]
        [('viewers', '0.53'), ('store_fees', '0.01'), ('platform', '0.27'),
         ('creator_share', '0.25'), ('owed', '0.25')]
        >>> flow.outflow("viewers") == flow.node("viewers").amount
        True
    """
    lo = require_aware(start, "start") if start is not None else None
    hi = require_aware(end, "end") if end is not None else None
    if lo is not None and hi is not None and hi < lo:
        raise InvalidArgument(f"end {hi.isoformat()} is before start {lo.isoformat()}")
    if isinstance(source, GiftTrace):
        if lo is not None or hi is not None or gift is not None:
            raise InvalidArgument(
                "a gift trace is one gift: give start, end or gift an Explanation"
            )
        return _gift_flow(source, None)
    if not isinstance(source, Explanation):
        raise InvalidArgument(
            f"money_flow takes an Explanation or a GiftTrace, not {type(source).__name__}"
        )
    if gift is not None:
        for g in source.gifts:
            if g.transaction == gift:
                return _gift_flow(g, source.creator)
        raise InvalidArgument(f"creator {source.creator!r} received no gift in entry {gift}")
    if lo is not None or hi is not None:
        return _period_flow(source, lo, hi)
    return _creator_flow(source)


def _gift_flow(g: GiftTrace, creator: str | None) -> MoneyFlow:
    b = _Builder(g.paid.currency.code)
    at = 0
    slices = g.purchases
    if len(slices) > 1 and all(s.paid_books is not None for s in slices):
        # Each purchase that paid for the gift is a source of its own (a lot met
        # twice adds up).
        at = 1
        by_lot: dict[int, int] = {}
        for s in slices:
            assert s.paid_books is not None
            by_lot[s.purchase] = by_lot.get(s.purchase, 0) + _minor(s.paid_books)
        for s in slices:
            key = f"purchase:{s.purchase}"
            if key not in b.nodes:
                label = f"{s.viewer}'s purchase #{s.purchase} ({s.channel})"
                b.node(key, label, FlowKind.SOURCE, 0, by_lot[s.purchase])
                b.link(key, "viewers", by_lot[s.purchase])
    fee, tax, platform, share = (_minor(m) for m in (g.store_fee, g.tax, g.platform, g.creator))
    _gift_side(b, _minor(g.paid), fee, tax, platform, share, at=at)
    if at:
        gift = b.nodes["viewers"]
        b.nodes["viewers"] = attrs.evolve(gift, label=f"{g.quantity} x {g.gift}")
    to = f" to {creator}" if creator else ""
    title = f"{g.quantity} x {g.gift} from {g.viewer}{to} (entry #{g.transaction})"
    return b.build(title, creator=creator)


def _period_flow(ex: Explanation, lo: datetime | None, hi: datetime | None) -> MoneyFlow:
    books = ex.paid.currency.code
    picked = [g for g in ex.gifts if (lo is None or g.at >= lo) and (hi is None or g.at < hi)]
    tot = {"paid": 0, "fee": 0, "tax": 0, "platform": 0, "share": 0}
    for g in picked:
        tot["paid"] += _minor(g.paid)
        tot["fee"] += _minor(g.store_fee)
        tot["tax"] += _minor(g.tax)
        tot["platform"] += _minor(g.platform)
        tot["share"] += _minor(g.creator)
    b = _Builder(books)
    _gift_side(b, tot["paid"], tot["fee"], tot["tax"], tot["platform"], tot["share"])
    span = f"{_when(lo) or 'the start'} to {_when(hi) or 'now'}"
    n = len(picked)
    title = f"{ex.creator}: {n} gift{'s' if n != 1 else ''}, {span}"
    return b.build(title, creator=ex.creator, start=lo, end=hi)


def _books_value(ex: Explanation, views: int) -> int:
    """View pay (payout minor units) valued in the books' currency: at the rate the
    creator's conversions paid on average, else at the newest rate stored between
    the two currencies; rounded half to even."""
    books, payout = ex.paid.currency.code, ex.cash.currency.code
    if views == 0 or books == payout:
        return views
    scale = Fraction(10 ** get_unit(books).exponent, 10 ** get_unit(payout).exponent)
    conv_paid, conv_value = _minor(ex.cash_from_conversions), _minor(ex.converted + ex.adjustments)
    if conv_paid > 0:
        return round_fraction(Fraction(views * conv_value, conv_paid), Rounding.HALF_EVEN)
    for rate in reversed(ex.rates):
        if (rate.base, rate.quote) == (books, payout):
            return round_fraction(views * scale / rate.value, Rounding.HALF_EVEN)
        if (rate.base, rate.quote) == (payout, books):
            return round_fraction(views * scale * rate.value, Rounding.HALF_EVEN)
    raise RateUnavailable(
        f"creator {ex.creator!r} was paid {_text(ex.views)} for views and no conversion or stored "
        f"rate values {payout} in {books}"
    )


def _creator_flow(ex: Explanation) -> MoneyFlow:
    books, payout = ex.paid.currency.code, ex.cash.currency.code
    other = payout != books
    b = _Builder(books)
    _gift_side(b, *(_minor(m) for m in (ex.paid, ex.store_fees, ex.taxes, ex.platform, ex.earned)))
    share, owed, converted = _minor(ex.earned), _minor(ex.payable), _minor(ex.converted)
    adjust = _minor(ex.adjustments)
    value = converted + adjust  # what the conversions paid, in the books
    # The share splits into what is still owed (Diamonds not converted yet) and
    # what conversions released; owed below zero (gifts reversed after they were
    # converted) is money the creator owes back, taken from the conversions.
    b.node("owed", "Owed, not converted yet", FlowKind.CREATOR, 2, max(owed, 0))
    b.node("clawback", "Owed back by the creator", FlowKind.SOURCE, 1, max(-owed, 0))
    b.link("creator_share", "owed", max(owed, 0))
    b.link("creator_share", "converted", share - max(owed, 0))
    b.link("clawback", "converted", max(-owed, 0))
    label = f"Converted to {payout}" if other else "Converted to cash"
    conv_paid = ex.cash_from_conversions if other else None
    b.node("converted", label, FlowKind.CREATOR, 2, converted + max(adjust, 0), conv_paid)
    b.node("adjustment_in", "Platform adjustment", FlowKind.SOURCE, 1, max(adjust, 0))
    b.node("adjustment_out", "Platform adjustment", FlowKind.CUT, 3, max(-adjust, 0))
    b.link("adjustment_in", "converted", max(adjust, 0))
    b.link("converted", "adjustment_out", max(-adjust, 0))
    b.link("converted", "cash", value, conv_paid)
    # The cash, in the payout currency, and its books value split by allocation.
    views_paid = _minor(ex.views)
    views = _books_value(ex, views_paid)
    cash_total = value + views
    fees = _minor(ex.withdrawal_fees)
    bank = _minor(ex.withdrawn) - fees
    in_flight = _minor(ex.in_flight)
    held = _minor(ex.cash) - in_flight
    parts_paid = (fees, bank, in_flight, held)
    if any(parts_paid):
        parts = allocate(cash_total, list(parts_paid)) if cash_total else (0, 0, 0, 0)
    else:  # no cash in the payout currency at all: its books value (if any) is held
        parts = (0, 0, 0, cash_total)

    def pay(minor: int) -> Money | None:
        return from_minor(minor, payout) if other else None

    b.node("views", "View pay", FlowKind.SOURCE, 2, views, pay(views_paid))
    b.link("views", "cash", views, pay(views_paid))
    b.node("cash", "Creator's cash", FlowKind.CREATOR, 3, cash_total, pay(sum(parts_paid)))
    rows = (
        ("withdrawal_fees", "Withdrawal fees", FlowKind.CUT),
        ("bank", "Paid to bank", FlowKind.CREATOR),
        ("in_flight", "Withdrawal in flight", FlowKind.CREATOR),
        ("held", "Still held", FlowKind.CREATOR),
    )
    for (key, text, kind), minor, native in zip(rows, parts, parts_paid, strict=True):
        b.node(key, text, kind, 4, minor, pay(native))
        b.link("cash", key, minor, pay(native))
    title = f"Where {ex.creator}'s money went"
    return b.build(title, creator=ex.creator, payout=payout if other else None)
