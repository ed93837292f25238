"""Explanations and statements: where a creator's money came from, read from the books.

Reports are a layer of their own: they read typed chain records through the
ledger's public reads (a creator's account histories, the holds on their
cash, entries by id and by key) and never write. Nothing here reads the
journal from its start: an explanation costs O(the creator's entries), and a
statement for a period reads only the entries recorded in it (found by a
binary search on ``recorded_at``, which never goes backwards).

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
from datetime import date, datetime
from fractions import Fraction
from typing import TYPE_CHECKING, Protocol

import attrs
from moneyed import Money

from .._economy.index import first_id_at, history_ids
from .._economy.records import (
    ConversionRecord,
    GiftRecord,
    PaidGiftRecord,
    PartyRecord,
    PurchaseRecord,
    ViewPayRecord,
    WithdrawalFailRecord,
    WithdrawalRecord,
    WithdrawalSettleRecord,
    record_of,
)
from .._economy.rules import fraction_text
from .._errors import InvalidArgument
from .._ledger.clock import require_aware
from .._ledger.model import EntryKind, HoldStatus, Rate, Transaction
from .._ledger.text import _HOSTILE
from .._money.amounts import from_minor
from .._money.formatting import format_money

if TYPE_CHECKING:
    from .._ledger.ledger import Ledger


class Chain(Protocol):
    """What a report reads of a :class:`~giftledger.GiftEconomy`: its ledger, its
    units and its parties' profiles (all public), nothing private."""

    @property
    def ledger(self) -> Ledger: ...

    @property
    def books(self) -> str: ...

    @property
    def unit(self) -> str: ...

    def creator(self, name: str, at: datetime | None = None) -> PartyRecord: ...

    def party_history(self, role: str, name: str) -> tuple[tuple[datetime, PartyRecord], ...]: ...


__all__ = [
    "Explanation",
    "GiftTrace",
    "PaidIn",
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
        paid_books: ``paid`` in the books' currency (``released`` plus the tax's
            books value), as the purchase booked it.
        rate: books' currency per unit of the purchase currency, as stored on
            the purchase entry (None when the purchase was in the books' currency).
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
    paid_books: Money | None = None
    rate: Fraction | None = None


@attrs.frozen(slots=True)
class PaidIn:
    """What viewers paid in one currency for a creator's gifts.

    Attributes:
        paid: the amount, in that currency.
        paid_books: the same in the books' currency, at the rates the purchases
            were booked at.
        rates: each distinct ``(rate, date)`` those purchases used, oldest first
            (empty for the books' own currency).

    Example:
        >>> from fractions import Fraction
        >>> from datetime import date
        >>> str(PaidIn(Money("10.00", "GBP"), Money("12.70", "USD"),
        ...            ((Fraction(127, 100), date(2026, 1, 5)),)))
        '10.00 GBP (= 12.70 USD at 1.27 on 2026-01-05)'
    """

    paid: Money
    paid_books: Money
    rates: tuple[tuple[Fraction, date], ...] = ()

    def __str__(self) -> str:
        text = f"{self.paid.amount} {self.paid.currency.code}"
        if not self.rates:
            return text
        books = f"{self.paid_books.amount} {self.paid_books.currency.code}"
        if len(self.rates) == 1:
            rate, day = self.rates[0]
            return f"{text} (= {books} at {fraction_text(rate)} on {day.isoformat()})"
        first, last = self.rates[0][1], self.rates[-1][1]
        return (
            f"{text} (= {books} at {len(self.rates)} rates, {first.isoformat()} to "
            f"{last.isoformat()})"
        )


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
        paid_in: what viewers paid per purchase currency (books' currency
            first), each with its books value and the rates it was booked at.
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
    paid_in: tuple[PaidIn, ...] = ()

    def __str__(self) -> str:
        rows = [
            f"{self.creator}: {len(self.gifts)} gifts",
            f"  viewers paid        {self.paid.amount} {self.paid.currency.code}",
        ]
        if any(p.rates for p in self.paid_in):
            rows += [f"    in {p}" for p in self.paid_in]
        rows += [
            f"  store fees         {_less(self.store_fees)}",
            f"  taxes              {_less(self.taxes)}",
            f"  platform           {_less(self.platform)}",
            f"  earned from gifts   {self.earned.amount}",
            f"  converted           {self.converted.amount} ({_more(self.adjustments)} adj.)",
            f"  still payable       {self.payable.amount}",
            f"  cash from Diamonds  {self.cash_from_conversions.amount} "
            f"{self.cash_from_conversions.currency.code}",
            f"  view pay            {self.views.amount}",
            f"  withdrawn           {self.withdrawn.amount} "
            f"(fees {self.withdrawal_fees.amount}, in flight {self.in_flight.amount})",
            f"  cash now            {self.cash.amount}",
        ]
        return "\n".join(rows)


def _less(money: Money) -> str:
    """A deduction: ``-1.00``; one that is negative (the platform paid the creator
    more than the gifts released) adds: ``+1.00``, never ``--1.00``."""
    return f"-{money.amount}" if money.amount >= 0 else f"+{-money.amount}"


def _more(money: Money) -> str:
    """An addition: ``+1.00``; a negative one takes away: ``-1.00``, never ``+-1.00``."""
    return f"+{money.amount}" if money.amount >= 0 else f"-{-money.amount}"


def one_line(text: str) -> str:
    """``text`` with every character :func:`~giftledger.check_text` refuses escaped as
    ``\\uXXXX``, so a name or a memo can never add or reorder a line of a report.

    Example:
        >>> one_line("a\\nb")
        'a\\\\u000ab'
    """
    if text.isprintable():
        return text
    return _HOSTILE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _creator_entries(
    app: Chain, creator: str, start: datetime | None = None, end: datetime | None = None
) -> Iterator[tuple[Transaction, object]]:
    """The creator's chain entries with their records, oldest first, found through
    the creator's own accounts (their histories and the holds on their cash), not
    by reading the journal; those recorded in ``[start, end)`` when given."""
    book = app.ledger
    cash = f"creators:{creator}:cash"
    ids: set[int] = set()
    with book.store.read() as r:
        after = None if start is None else first_id_at(r, start) - 1
        stop = None if end is None else first_id_at(r, end)
        for name in (
            f"creators:{creator}:diamonds",
            f"liabilities:creators-payable:{creator}",
            cash,
        ):
            ids.update(history_ids(r, name, after, stop))
    floor, ceiling = after or 0, stop if stop is not None else 1 << 62
    for hold in book.holds(cash, pending_only=False):
        if floor < hold.id < ceiling:
            ids.add(hold.id)
        if hold.resolved_by is not None and floor < hold.resolved_by < ceiling:
            ids.add(hold.resolved_by)
        settled = book.find(f"gl:withdrawal:{hold.id}:settle")
        if settled is not None and floor < settled.id < ceiling:
            ids.add(settled.id)
    for tx_id in sorted(ids):
        tx = book.transaction(tx_id)
        if tx.reversed_by is not None or tx.kind is EntryKind.REVERSAL:
            continue  # undone with Ledger.reverse: it neither earned nor cost anything
        rec = record_of(tx)
        if rec is not None:
            yield tx, rec


def explain(app: Chain, creator: str) -> Explanation:
    """Trace a creator's earnings; see :class:`Explanation`."""
    book = app.ledger
    currency = app.creator(creator).payout_currency or app.books
    books = app.books
    gifts = []
    tot = {"paid": 0, "fee": 0, "tax": 0, "platform": 0, "creator": 0}
    converted = adjustments = cash_conv = views = 0
    withdrawn = w_fees = 0
    rates: list[Rate] = []
    purchases: dict[int, tuple[Transaction, PurchaseRecord]] = {}
    # per purchase currency: [paid, paid in books, {(rate, date)}]
    by_ccy: dict[str, tuple[int, int, set[tuple[Fraction, date]]]] = {}

    def rate_of(tx: Transaction, ccy: str) -> Fraction | None:
        for r in tx.rates:
            if r.base == ccy and r.quote == books:
                return r.value
        return None

    def count(ccy: str, paid: int, paid_books: int, tx: Transaction) -> None:
        total, total_b, seen = by_ccy.get(ccy, (0, 0, set()))
        rate = rate_of(tx, ccy)
        if rate is not None:
            seen.add((rate, tx.effective_at.date()))
        by_ccy[ccy] = (total + paid, total_b + paid_books, seen)

    def trace(
        tx: Transaction,
        rec: GiftRecord | PaidGiftRecord,
        traced: list[PurchaseSlice],
        fee_b: int,
        tax_b: int,
        released: int,
    ) -> None:
        owed = rec.owed
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
        gift = rec.gift
        quantity = rec.quantity if isinstance(rec, GiftRecord) else 1
        coins = rec.coins if isinstance(rec, GiftRecord) else 0
        gifts.append(
            GiftTrace(
                tx.id,
                tx.effective_at,
                rec.viewer,
                gift,
                quantity,
                coins,
                rec.units,
                tuple(traced),
                from_minor(paid, books),
                from_minor(fee_b, books),
                from_minor(tax_b, books),
                from_minor(platform, books),
                from_minor(owed, books),
            )
        )

    for tx, rec in _creator_entries(app, creator):
        if isinstance(rec, PaidGiftRecord):
            if rec.creator != creator:
                continue
            ccy = rec.currency
            paid_b = rec.net + rec.tax_books
            count(ccy, rec.gross, paid_b, tx)
            one = PurchaseSlice(
                tx.id,
                rec.viewer,
                rec.channel,
                rec.region,
                tx.effective_at,
                0,
                from_minor(rec.gross, ccy),
                from_minor(rec.fee, ccy),
                from_minor(rec.tax, ccy),
                from_minor(rec.net, books),
                from_minor(paid_b, books),
                rate_of(tx, ccy),
            )
            trace(tx, rec, [one], rec.fee_books, rec.tax_books, rec.net)
        elif isinstance(rec, GiftRecord):
            if rec.creator != creator:
                continue
            traced = []
            for s in rec.lots:
                found = purchases.get(s.lot)
                if found is None:
                    lot_tx = book.transaction(s.lot)
                    lot_rec = record_of(lot_tx)
                    if not isinstance(lot_rec, PurchaseRecord):
                        continue
                    found = purchases[s.lot] = (lot_tx, lot_rec)
                lot_tx, lot_rec = found
                ccy = lot_rec.currency
                paid_b = s.released + s.tax_books
                count(ccy, s.paid, paid_b, lot_tx)
                traced.append(
                    PurchaseSlice(
                        lot_tx.id,
                        lot_rec.viewer,
                        lot_rec.channel,
                        lot_rec.region,
                        lot_tx.effective_at,
                        s.coins,
                        from_minor(s.paid, ccy),
                        from_minor(s.fee, ccy),
                        from_minor(s.tax, ccy),
                        from_minor(s.released, books),
                        from_minor(paid_b, books),
                        rate_of(lot_tx, ccy),
                    )
                )
            released = sum(s.released for s in rec.lots)
            fee_b = sum(s.fee_books for s in rec.lots)
            tax_b = sum(s.tax_books for s in rec.lots)
            trace(tx, rec, traced, fee_b, tax_b, released)
        elif isinstance(rec, ConversionRecord) and rec.creator == creator:
            converted += rec.released
            adjustments += rec.value - rec.released
            cash_conv += rec.paid
            rates.extend(tx.rates)
        elif isinstance(rec, ViewPayRecord) and rec.creator == creator:
            views += rec.paid
            rates.extend(tx.rates)
        elif isinstance(rec, WithdrawalSettleRecord):
            hold_tx = book.transaction(rec.withdrawal)
            hold_rec = record_of(hold_tx)
            if isinstance(hold_rec, WithdrawalRecord) and hold_rec.creator == creator:
                withdrawn += hold_tx.postings[0].minor
                w_fees += hold_rec.fee
    in_flight = sum(
        h.minor
        for h in book.holds(f"creators:{creator}:cash", pending_only=False)
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
        book.balance(f"liabilities:creators-payable:{creator}"),
        book.balance(f"creators:{creator}:cash"),
        tuple(
            PaidIn(
                from_minor(paid, ccy),
                from_minor(paid_b, books),
                tuple(sorted(seen, key=lambda pair: (pair[1], pair[0]))),
            )
            for ccy, (paid, paid_b, seen) in sorted(
                by_ccy.items(), key=lambda item: (item[0] != books, item[0])
            )
        ),
    )


@attrs.frozen(slots=True)
class StatementLine:
    """One line of a statement.

    Attributes:
        at: when.
        transaction: the entry's id.
        kind: ``"gift"``, ``"conversion"``, ``"views"``, ``"withdrawal"``,
            ``"withdrawal paid"``, ``"withdrawal failed"``, ``"profile"`` (a
            recorded change of the creator's profile; its ``transaction`` is 0).
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

        out = [f"Statement for {one_line(self.creator)}"]
        for line in self.lines:
            day = str(format_date(line.at.date(), format="short", locale=self.locale))
            parts = [day, f"#{line.transaction}", one_line(line.description)]
            if line.units is not None:
                parts.append(format_money(line.units, self.locale))
            if line.amount is not None:
                parts.append(format_money(line.amount, self.locale))
            out.append("  ".join(parts))
        return "\n".join(out)

    def __str__(self) -> str:
        return self.render()


def statement(
    app: Chain,
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
    currency = app.creator(creator).payout_currency or app.books
    books, unit = app.books, app.unit
    book = app.ledger
    lines = []
    for effective, party in app.party_history("creator", creator):
        if party.seq <= 0:
            continue
        if (lo is not None and effective < lo) or (hi is not None and effective >= hi):
            continue
        lines.append(
            StatementLine(effective, 0, "profile", f"profile changed: {_profile(party)}", None)
        )
    for tx, rec in _creator_entries(app, creator, lo, hi):
        if (lo is not None and tx.effective_at < lo) or (hi is not None and tx.effective_at >= hi):
            continue
        at = tx.effective_at
        if isinstance(rec, PaidGiftRecord) and rec.creator == creator:
            lines.append(
                StatementLine(
                    at,
                    tx.id,
                    "gift",
                    f"{rec.gift} of {from_minor(rec.gross, rec.currency).amount} "
                    f"{rec.currency} from {rec.viewer}",
                    from_minor(rec.owed, books),
                    from_minor(rec.units, unit),
                )
            )
        elif isinstance(rec, GiftRecord) and rec.creator == creator:
            lines.append(
                StatementLine(
                    at,
                    tx.id,
                    "gift",
                    f"{rec.quantity} x {rec.gift} from {rec.viewer}",
                    from_minor(rec.owed, books),
                    from_minor(rec.units, unit),
                )
            )
        elif isinstance(rec, ConversionRecord) and rec.creator == creator:
            lines.append(
                StatementLine(
                    at,
                    tx.id,
                    "conversion",
                    "Diamonds converted to cash",
                    from_minor(rec.paid, currency),
                    from_minor(-rec.units, unit),
                )
            )
        elif isinstance(rec, ViewPayRecord) and rec.creator == creator:
            lines.append(
                StatementLine(
                    at,
                    tx.id,
                    "views",
                    f"{rec.program} for {rec.period} ({rec.views} views)",
                    from_minor(rec.paid, currency),
                )
            )
        elif isinstance(rec, WithdrawalRecord) and rec.creator == creator:
            lines.append(
                StatementLine(
                    at,
                    tx.id,
                    "withdrawal",
                    f"withdrawal requested (fee {from_minor(rec.fee, currency).amount})",
                    from_minor(-tx.postings[0].minor, currency),
                )
            )
        elif isinstance(rec, WithdrawalSettleRecord):
            lines.append(StatementLine(at, tx.id, "withdrawal paid", "withdrawal paid out", None))
        elif isinstance(rec, WithdrawalFailRecord):
            hold_tx = book.transaction(rec.withdrawal)
            lines.append(
                StatementLine(
                    at,
                    tx.id,
                    "withdrawal failed",
                    "withdrawal failed; cash returned",
                    from_minor(hold_tx.postings[0].minor, currency),
                )
            )
    lines.sort(key=lambda line: (line.at, line.transaction))
    return Statement(creator, lo, hi, locale, tuple(lines))


def _profile(rec: PartyRecord) -> str:
    return (
        f"region {rec.region or '-'}, age {rec.age if rec.age is not None else '-'}, "
        f"{'verified' if rec.verified else 'not verified'}"
    )
