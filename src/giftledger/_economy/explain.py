"""Explanations and statements: where a creator's money came from, read from the journal.

:func:`explain` walks the gifts a creator received back to the coin lots
(purchases) that paid for them, and shows every cut on the way: the store's
fee, the tax, the platform's share, then conversion adjustments, FX and
withdrawal fees. Each gift's parts sum exactly to what its viewers paid for
the coins it spent (in the books' currency), because every part is cut from
the same lot slices that the gift released.

:func:`statement` lists a creator's entries in a period, formatted for a
locale with babel.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

import attrs
from moneyed import Money

from .._errors import InvalidArgument
from .._ledger.clock import require_aware
from .._ledger.model import HoldStatus, Rate, Transaction
from .._money.amounts import from_minor
from .._money.formatting import format_money
from .lots import OP, decode_slices

if TYPE_CHECKING:
    from .chain import GiftEconomy

__all__ = [
    "Explanation",
    "GiftTrace",
    "PurchaseSlice",
    "Statement",
    "StatementLine",
    "explain",
    "statement",
]


@attrs.frozen(slots=True)
class PurchaseSlice:
    """The coins of one purchase (lot) that one gift spent.

    Attributes:
        purchase: the id of the purchase entry (the lot).
        viewer: who bought the coins.
        channel: where (``"ios"``, ``"web"`` …).
        region: the buyer's region.
        bought_at: when.
        coins: coins of this lot the gift spent.
        paid: what the viewer paid for them, in the purchase's currency.
        store_fee: the store's fee in that, purchase currency.
        tax: the tax in that, purchase currency.
        released: deferred revenue they released, books' currency.
    """

    purchase: int
    viewer: str
    channel: str
    region: str
    bought_at: datetime
    coins: int
    paid: Money
    store_fee: Money
    tax: Money
    released: Money


@attrs.frozen(slots=True)
class GiftTrace:
    """One gift a creator received, with every cut, in the books' currency.

    ``paid == store_fee + tax + platform + creator`` exactly.

    Attributes:
        transaction: the gift's entry id.
        at: when it was sent.
        viewer: who sent it.
        gift: its name.
        quantity: how many.
        coins: coins spent.
        units: creator units (Diamonds) received.
        purchases: the lot slices that paid for it, oldest first.
        paid: what the viewers paid for those coins.
        store_fee: what the stores kept of that.
        tax: the tax in it.
        platform: what the platform kept (negative when it paid the creator
            more than the coins released).
        creator: what the creator was owed for it.
    """

    transaction: int
    at: datetime
    viewer: str
    gift: str
    quantity: int
    coins: int
    units: int
    purchases: tuple[PurchaseSlice, ...]
    paid: Money
    store_fee: Money
    tax: Money
    platform: Money
    creator: Money


@attrs.frozen(slots=True)
class Explanation:
    """Where every cent a creator earned came from and where it went.

    Attributes:
        creator: the creator's name.
        gifts: every gift received, traced to its purchases.
        paid: what viewers paid for the coins of those gifts (books' currency).
        store_fees: what stores kept of it.
        taxes: the tax in it.
        platform: what the platform kept.
        earned: what the creator was owed for the gifts (``paid - store_fees -
            taxes - platform``).
        views: view-based pay received, in the creator's payout currency.
        converted: payable released by Diamond conversions (books' currency).
        adjustments: conversion value beyond (or, negative, below) what was
            accrued, paid by the platform.
        cash_from_conversions: the cash those conversions paid, payout currency.
        rates: the FX rates used by conversions and view pay.
        withdrawn: cash taken out by completed withdrawals (fees included).
        withdrawal_fees: the fees in it.
        in_flight: cash held by pending withdrawals.
        payable: what the creator is still owed for unconverted Diamonds.
        cash: the creator's cash balance now.
    """

    creator: str
    gifts: tuple[GiftTrace, ...]
    paid: Money
    store_fees: Money
    taxes: Money
    platform: Money
    earned: Money
    views: Money
    converted: Money
    adjustments: Money
    cash_from_conversions: Money
    rates: tuple[Rate, ...]
    withdrawn: Money
    withdrawal_fees: Money
    in_flight: Money
    payable: Money
    cash: Money

    def __str__(self) -> str:
        rows = [
            f"{self.creator}: {len(self.gifts)} gifts",
            f"  viewers paid        {self.paid.amount} {self.paid.currency.code}",
            f"  store fees         -{self.store_fees.amount}",
            f"  taxes              -{self.taxes.amount}",
            f"  platform           -{self.platform.amount}",
            f"  earned from gifts   {self.earned.amount}",
            f"  converted           {self.converted.amount} (+{self.adjustments.amount} adj.)",
            f"  still payable       {self.payable.amount}",
            f"  cash from Diamonds  {self.cash_from_conversions.amount} "
            f"{self.cash_from_conversions.currency.code}",
            f"  view pay            {self.views.amount}",
            f"  withdrawn           {self.withdrawn.amount} "
            f"(fees {self.withdrawal_fees.amount}, in flight {self.in_flight.amount})",
            f"  cash now            {self.cash.amount}",
        ]
        return "\n".join(rows)


def _creator_entries(app: GiftEconomy, creator: str) -> Iterator[Transaction]:
    """The creator's chain entries, oldest first, found through the creator's own
    accounts (their histories and the holds on their cash), not by reading the
    whole journal."""
    book = app.ledger
    cash = f"creators:{creator}:cash"
    ids: set[int] = set()
    for name in (f"creators:{creator}:diamonds", f"liabilities:creators-payable:{creator}", cash):
        after = None
        while True:
            page = book.history(name, after=after, limit=10_000)
            ids.update(item.transaction.id for item in page.items)
            if page.next_cursor is None:
                break
            after = page.next_cursor
    withdrawals: set[int] = set()
    for hold in book.holds(cash, pending_only=False):
        withdrawals.add(hold.id)
        ids.add(hold.id)
        if hold.resolved_by is not None:
            ids.add(hold.resolved_by)
        settled = book.find(f"gl:withdrawal:{hold.id}:settle")
        if settled is not None:
            ids.add(settled.id)
    for tx_id in sorted(ids):
        tx = book.transaction(tx_id)
        if tx.reversed_by is not None:
            continue  # undone with Ledger.reverse: it neither earned nor cost anything
        meta = tx.meta
        if meta.get("gl.creator") == creator or meta.get("gl.withdrawal") in withdrawals:
            yield tx


def explain(app: GiftEconomy, creator: str) -> Explanation:
    """Trace a creator's earnings; see :class:`Explanation`."""
    currency = app._creator_currency(creator)
    books = app.books
    app.sync()
    gifts = []
    tot = {"paid": 0, "fee": 0, "tax": 0, "platform": 0, "creator": 0}
    converted = adjustments = cash_conv = views = 0
    withdrawn = w_fees = 0
    rates: list[Rate] = []
    for tx in _creator_entries(app, creator):
        meta = tx.meta
        op = meta.get(OP)
        if op == "send_gift":
            slices = decode_slices(meta.get("gl.lots"))
            traced = []
            for s in slices:
                lot = app._lotbook.lot(s.lot)
                assert lot is not None
                traced.append(
                    PurchaseSlice(
                        lot.id,
                        lot.viewer,
                        lot.channel,
                        lot.region,
                        lot.bought_at,
                        s.coins,
                        from_minor(s.paid, lot.currency),
                        from_minor(s.fee, lot.currency),
                        from_minor(s.tax, lot.currency),
                        from_minor(s.released, books),
                    )
                )
            released = sum(s.released for s in slices)
            fee_b = sum(s.fee_books for s in slices)
            tax_b = sum(s.tax_books for s in slices)
            owed = int(meta.get("gl.owed") or 0)
            paid = released + tax_b
            platform = released - fee_b - owed
            for k, v in (
                ("paid", paid),
                ("fee", fee_b),
                ("tax", tax_b),
                ("platform", platform),
                ("creator", owed),
            ):
                tot[k] += v
            gifts.append(
                GiftTrace(
                    tx.id,
                    tx.effective_at,
                    str(meta.get("gl.viewer")),
                    str(meta.get("gl.gift")),
                    int(meta.get("gl.quantity") or 0),
                    int(meta.get("gl.coins") or 0),
                    int(meta.get("gl.units") or 0),
                    tuple(traced),
                    from_minor(paid, books),
                    from_minor(fee_b, books),
                    from_minor(tax_b, books),
                    from_minor(platform, books),
                    from_minor(owed, books),
                )
            )
        elif op == "convert":
            released = int(meta.get("gl.released") or 0)
            value = int(meta.get("gl.value") or 0)
            converted += released
            adjustments += value - released
            cash_conv += int(meta.get("gl.paid") or 0)
            rates.extend(tx.rates)
        elif op == "views":
            views += int(meta.get("gl.paid") or 0)
            rates.extend(tx.rates)
        elif op == "withdraw_settle":
            hold_tx = app.ledger.transaction(int(meta["gl.withdrawal"] or 0))
            withdrawn += hold_tx.postings[0].minor
            w_fees += int(hold_tx.meta.get("gl.fee") or 0)
    in_flight = sum(
        h.minor
        for h in app.ledger.holds(f"creators:{creator}:cash", pending_only=False)
        if h.status is HoldStatus.PENDING
    )
    return Explanation(
        creator,
        tuple(gifts),
        from_minor(tot["paid"], books),
        from_minor(tot["fee"], books),
        from_minor(tot["tax"], books),
        from_minor(tot["platform"], books),
        from_minor(tot["creator"], books),
        from_minor(views, currency),
        from_minor(converted, books),
        from_minor(adjustments, books),
        from_minor(cash_conv, currency),
        tuple(rates),
        from_minor(withdrawn, currency),
        from_minor(w_fees, currency),
        from_minor(in_flight, currency),
        app.ledger.balance(f"liabilities:creators-payable:{creator}"),
        app.ledger.balance(f"creators:{creator}:cash"),
    )


@attrs.frozen(slots=True)
class StatementLine:
    """One line of a statement.

    Attributes:
        at: when.
        transaction: the entry's id.
        kind: ``"gift"``, ``"conversion"``, ``"views"``, ``"withdrawal"``,
            ``"withdrawal paid"``, ``"withdrawal failed"``.
        description: what happened, in words.
        amount: the money it moved for the creator (positive: earned).
        units: creator units it moved, if any.
    """

    at: datetime
    transaction: int
    kind: str
    description: str
    amount: Money | None
    units: Money | None = None


@attrs.frozen(slots=True)
class Statement:
    """A creator's itemised statement for a period, formatted for a locale.

    Attributes:
        creator: the creator.
        start: the first instant included (None: from the beginning).
        end: the first instant excluded (None: to now).
        locale: the babel locale the text is written for.
        lines: the items, oldest first.
    """

    creator: str
    start: datetime | None
    end: datetime | None
    locale: str
    lines: tuple[StatementLine, ...]

    def render(self) -> str:
        """The statement as text, dates and amounts formatted by babel for :attr:`locale`."""
        from babel.dates import format_date

        out = [f"Statement for {self.creator}"]
        for line in self.lines:
            day = str(format_date(line.at.date(), format="short", locale=self.locale))
            parts = [day, f"#{line.transaction}", line.description]
            if line.units is not None:
                parts.append(format_money(line.units, self.locale))
            if line.amount is not None:
                parts.append(format_money(line.amount, self.locale))
            out.append("  ".join(parts))
        return "\n".join(out)

    def __str__(self) -> str:
        return self.render()


def statement(
    app: GiftEconomy,
    creator: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    locale: str = "en_US",
) -> Statement:
    """A creator's itemised statement; see :class:`Statement`."""
    lo = require_aware(start, "start") if start is not None else None
    hi = require_aware(end, "end") if end is not None else None
    if lo is not None and hi is not None and hi < lo:
        raise InvalidArgument(f"end {hi.isoformat()} is before start {lo.isoformat()}")
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(locale)
    except (UnknownLocaleError, ValueError, TypeError):
        raise InvalidArgument(f"unknown locale {locale!r}; use one such as 'en_US'") from None
    currency = app._creator_currency(creator)
    books, unit = app.books, app.unit
    lines = []
    for tx in _creator_entries(app, creator):
        if (lo is not None and tx.effective_at < lo) or (hi is not None and tx.effective_at >= hi):
            continue
        meta = tx.meta
        op = meta.get(OP)
        num = int  # metadata ints
        if op == "send_gift":
            lines.append(
                StatementLine(
                    tx.effective_at,
                    tx.id,
                    "gift",
                    f"{meta.get('gl.quantity')} x {meta.get('gl.gift')} "
                    f"from {meta.get('gl.viewer')}",
                    from_minor(num(meta.get("gl.owed") or 0), books),
                    from_minor(num(meta.get("gl.units") or 0), unit),
                )
            )
        elif op == "convert":
            lines.append(
                StatementLine(
                    tx.effective_at,
                    tx.id,
                    "conversion",
                    "Diamonds converted to cash",
                    from_minor(num(meta.get("gl.paid") or 0), currency),
                    from_minor(-num(meta.get("gl.units") or 0), unit),
                )
            )
        elif op == "views":
            lines.append(
                StatementLine(
                    tx.effective_at,
                    tx.id,
                    "views",
                    f"{meta.get('gl.program')} for {meta.get('gl.period')} "
                    f"({meta.get('gl.views')} views)",
                    from_minor(num(meta.get("gl.paid") or 0), currency),
                )
            )
        elif op == "withdraw":
            lines.append(
                StatementLine(
                    tx.effective_at,
                    tx.id,
                    "withdrawal",
                    "withdrawal requested (fee "
                    f"{from_minor(num(meta.get('gl.fee') or 0), currency).amount})",
                    from_minor(-tx.postings[0].minor, currency),
                )
            )
        elif op == "withdraw_settle":
            lines.append(
                StatementLine(
                    tx.effective_at, tx.id, "withdrawal paid", "withdrawal paid out", None
                )
            )
        elif op == "withdraw_void":
            hold_tx = app.ledger.transaction(num(meta.get("gl.withdrawal") or 0))
            lines.append(
                StatementLine(
                    tx.effective_at,
                    tx.id,
                    "withdrawal failed",
                    "withdrawal failed; cash returned",
                    from_minor(hold_tx.postings[0].minor, currency),
                )
            )
    return Statement(creator, lo, hi, locale, tuple(lines))
