"""Explanations: where a creator's money came from, read from the books, as a receipt.

:func:`explain` walks the gifts a creator received back to the coin lots
(purchases) that paid for them, and shows every cut on the way: the store's
fee, the tax, the platform's share, then conversion adjustments, FX and
withdrawal fees. Each gift's parts sum exactly to what its viewers paid for
the coins it spent (in the books' currency), because every part is cut from
the same lot slices that the gift released; each purchase slice shows what it
gave the creator and the platform, and the slices of a gift add up to it.

:meth:`Explanation.receipt` reads the totals as a receipt, from what viewers
paid to what reached the creator's bank, in steps whose lines sum exactly to
the step's total; an exchange of currency starts a new step. The receipt is
written in the explanation's locale (labels from the gettext catalogs, amounts
and dates by babel, the economy's unit names).
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime
from fractions import Fraction
from typing import Any

import attrs
from babel import Locale
from moneyed import Money

from .._economy.records import (
    ConversionRecord,
    GiftRecord,
    PaidGiftRecord,
    PurchaseRecord,
    ViewPayRecord,
    WithdrawalRecord,
    WithdrawalSettleRecord,
    record_of,
)
from .._economy.rules import PayoutModel, fraction_text
from .._errors import GiftLedgerError, InvalidArgument
from .._ledger.model import HoldStatus, Rate, Transaction
from .._money.allocation import Leftover, allocate
from .._money.amounts import from_minor
from .entries import Chain, creator_entries, one_line, unit_names
from .i18n import Reader, locale_code
from .jsonio import (
    SCHEMA_VERSION,
    check_document,
    fraction_from_json,
    fraction_to_json,
    moment_from_json,
    money_from_json,
    money_to_json,
    parse_document,
    units_from_json,
    units_to_json,
)
from .statement import Statement, StatementLine, statement

__all__ = [
    "Explanation",
    "GiftTrace",
    "PaidIn",
    "PurchaseSlice",
    "Receipt",
    "ReceiptLine",
    "ReceiptStep",
    "Statement",
    "StatementLine",
    "explain",
    "statement",
]


@attrs.frozen(slots=True)
class PurchaseSlice:
    """The coins of one purchase (lot) that one gift spent, and what they gave whom.

    In the books' currency ``paid_books == store_fee_books + tax_books + platform +
    creator`` exactly, and the slices of a gift add up to the gift's parts.

    Attributes:
        purchase: the id of the purchase entry (the lot).
        viewer: who bought the coins.
        channel: where (``"ios"``, ``"web"`` …).
        region: the buyer's region.
        bought_at: when.
        coins: coins of this lot the gift spent (0 for a gift paid in money).
        paid: what the viewer paid for them, in the purchase's currency.
        store_fee: the store's fee in that, purchase currency.
        tax: the tax in that, purchase currency.
        released: deferred revenue they released, books' currency.
        paid_books: ``paid`` in the books' currency (``released`` plus the tax's
            books value), as the purchase booked it.
        store_fee_books: the store's fee, books' currency.
        tax_books: the tax, books' currency.
        platform: what the platform kept of these coins (books' currency).
        creator: what the creator was owed for them (books' currency): the gift's
            part split over its slices by the coins each gave (by the value each
            released, net as the rules say, under a share of the price), largest
            remainder first, so the slices add up to the gift exactly.
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
    paid_books: Money
    store_fee_books: Money
    tax_books: Money
    platform: Money
    creator: Money
    rate: Fraction | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "purchase": self.purchase,
            "viewer": self.viewer,
            "channel": self.channel,
            "region": self.region,
            "bought_at": self.bought_at.isoformat(),
            "coins": self.coins,
            "paid": money_to_json(self.paid),
            "store_fee": money_to_json(self.store_fee),
            "tax": money_to_json(self.tax),
            "released": money_to_json(self.released),
            "paid_books": money_to_json(self.paid_books),
            "store_fee_books": money_to_json(self.store_fee_books),
            "tax_books": money_to_json(self.tax_books),
            "platform": money_to_json(self.platform),
            "creator": money_to_json(self.creator),
            "rate": None if self.rate is None else fraction_to_json(self.rate),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "slice") -> PurchaseSlice:
        m = {k: money_from_json(data[k], f"{where}.{k}") for k in _SLICE_MONEY}
        rate = data["rate"]
        return cls(
            int(data["purchase"]),
            str(data["viewer"]),
            str(data["channel"]),
            str(data["region"]),
            moment_from_json(data["bought_at"], f"{where}.bought_at"),
            int(data["coins"]),
            rate=None if rate is None else fraction_from_json(rate, f"{where}.rate"),
            **m,
        )


_SLICE_MONEY = (
    "paid",
    "store_fee",
    "tax",
    "released",
    "paid_books",
    "store_fee_books",
    "tax_books",
    "platform",
    "creator",
)


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

    def describe(self, reader: Reader) -> str:
        """This currency's line of a receipt, in ``reader``'s language."""
        paid = reader.money(self.paid)
        if not self.rates:
            return reader.gettext("Viewers paid in {currency}", currency=self.paid.currency.code)
        if len(self.rates) == 1:
            rate, day = self.rates[0]
            return reader.gettext(
                "Viewers paid {paid} (at {rate} on {date})",
                paid=paid,
                rate=reader.rate(rate),
                date=reader.date(day),
            )
        return reader.ngettext(
            "Viewers paid {paid} (at {n} rate, {first} to {last})",
            "Viewers paid {paid} (at {n} rates, {first} to {last})",
            len(self.rates),
            paid=paid,
            first=reader.date(self.rates[0][1]),
            last=reader.date(self.rates[-1][1]),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "paid": money_to_json(self.paid),
            "paid_books": money_to_json(self.paid_books),
            "rates": [{"rate": fraction_to_json(r), "date": d.isoformat()} for r, d in self.rates],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "paid_in") -> PaidIn:
        rates = []
        for i, item in enumerate(data["rates"]):
            try:
                day = date.fromisoformat(item["date"])
            except (TypeError, ValueError):
                raise InvalidArgument(f"{where}.rates[{i}].date: {item!r} is no date") from None
            rates.append((fraction_from_json(item["rate"], f"{where}.rates[{i}].rate"), day))
        return cls(
            money_from_json(data["paid"], f"{where}.paid"),
            money_from_json(data["paid_books"], f"{where}.paid_books"),
            tuple(rates),
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "transaction": self.transaction,
            "at": self.at.isoformat(),
            "viewer": self.viewer,
            "gift": self.gift,
            "quantity": self.quantity,
            "coins": self.coins,
            "units": self.units,
            "purchases": [s.to_dict() for s in self.purchases],
            "paid": money_to_json(self.paid),
            "store_fee": money_to_json(self.store_fee),
            "tax": money_to_json(self.tax),
            "platform": money_to_json(self.platform),
            "creator": money_to_json(self.creator),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "gift") -> GiftTrace:
        return cls(
            int(data["transaction"]),
            moment_from_json(data["at"], f"{where}.at"),
            str(data["viewer"]),
            str(data["gift"]),
            int(data["quantity"]),
            int(data["coins"]),
            int(data["units"]),
            tuple(
                PurchaseSlice.from_dict(s, f"{where}.purchases[{i}]")
                for i, s in enumerate(data["purchases"])
            ),
            *(
                money_from_json(data[k], f"{where}.{k}")
                for k in ("paid", "store_fee", "tax", "platform", "creator")
            ),
        )


@attrs.frozen(slots=True)
class ReceiptLine:
    """One line of a receipt.

    Attributes:
        key: what the line is, stable across languages (``"store_fees"``,
            ``"paid:GBP"``, ``"bank"`` …).
        label: the line in the reader's language.
        amount: signed: a deduction is negative.
    """

    key: str
    label: str
    amount: Money

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "amount": money_to_json(self.amount)}


@attrs.frozen(slots=True)
class ReceiptStep:
    """Lines in one currency and their total: ``sum(lines) == total`` exactly.

    Attributes:
        lines: what adds up, signed.
        total: the step's result; the next step starts from it (or, across an
            exchange of currency, from what the exchange gave).
    """

    lines: tuple[ReceiptLine, ...]
    total: ReceiptLine

    def to_dict(self) -> dict[str, Any]:
        return {"lines": [x.to_dict() for x in self.lines], "total": self.total.to_dict()}


@attrs.frozen(slots=True)
class Receipt:
    """An explanation as a receipt: from what viewers paid to the creator's bank.

    Step 1 (books' currency): what viewers paid (per currency they paid in, at
    the rates it was booked at), less store fees, taxes and the platform's cut,
    is what the gifts earned. Step 2: that, less what is still owed for
    unconverted units, plus the platform's conversion adjustment, is the value
    of the converted units. Step 3 (payout currency): the cash they paid (at the
    FX rates used), plus view pay, less what is still in the cash account and
    the withdrawal fees, is what reached the bank.

    Attributes:
        creator: whose.
        locale: the language it is written in.
        title: its first line.
        steps: the steps, in order.
    """

    creator: str
    locale: str
    title: str
    steps: tuple[ReceiptStep, ...]

    def render(self) -> str:
        """The receipt as aligned text."""
        reader = Reader(self.locale)
        rows: list[tuple[str, str]] = []
        for i, step in enumerate(self.steps):
            for line in step.lines:
                if i and line is step.lines[0] and line.key == self.steps[i - 1].total.key:
                    continue  # the previous total, carried
                rows.append(("  " + line.label, reader.signed(line.amount)))
            rows.append(("= " + step.total.label, reader.money(step.total.amount)))
        width = max((_width(label) for label, _ in rows), default=0)
        amount_width = max((_width(a) for _, a in rows), default=0)
        out = [self.title]
        for label, amount in rows:
            gap = " " * (width - _width(label) + 2 + amount_width - _width(amount))
            out.append(f"{label}{gap}{amount}")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.render()

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "steps": [s.to_dict() for s in self.steps]}


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
        locale: the locale the text is written for (``str(ex)``, :meth:`receipt`).
        unit_names: ``(code, singular, plural)`` of the economy's units, as the
            economy names them.

    ``str(explanation)`` is :meth:`receipt` as text; :meth:`render` with
    ``gifts=True`` adds every gift and purchase slice.

    Example:
        >>> import giftledger as gl
        >>> econ = gl.presets.load("tiktok-live")
        >>> app = gl.GiftEconomy(gl.Ledger(clock=gl.ManualClock(econ.latest.effective_from)),
        ...                      econ)
        >>> _ = app.open_viewer("ann", region="US"), app.open_creator("bob", region="US")
        >>> _ = app.buy_coins("ann", pack=1400, channel="ios")
        >>> _ = app.send_gift("ann", "bob", "Galaxy")
        >>> print(app.explain("bob"))
        bob: 1 gift
          Viewers paid                         +$14.28
          Store fees                            -$4.29
          Taxes                                  $0.00
          Platform's cut                        -$4.99
        = Earned from gifts                      $5.00
          Still owed for unconverted diamonds   -$5.00
        = Value of converted diamonds            $0.00
          Cash from converted diamonds           $0.00
          Still in the cash account              $0.00
          Withdrawal fees                        $0.00
        = Paid out to the bank                   $0.00
        >>> app.explain("bob", locale="de_DE").receipt().steps[0].lines[1].label
        'Store-Gebühren'
        >>> ex = app.explain("bob")
        >>> ex.gifts[0].purchases[0].creator, ex.gifts[0].purchases[0].platform
        (Money('5.00', 'USD'), Money('4.99', 'USD'))
        >>> gl.Explanation.from_json(ex.to_json()) == ex
        True
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
    locale: str = "en_US"
    unit_names: tuple[tuple[str, str, str], ...] = ()

    @property
    def paid_out(self) -> Money:
        """What reached the creator's bank: completed withdrawals less their fees."""
        return self.withdrawn - self.withdrawal_fees

    def reader(self, locale: str | Locale | None = None) -> Reader:
        """A :class:`~giftledger._reports.i18n.Reader` for ``locale`` (default: this
        explanation's) with the economy's unit names."""
        names = {code: (s, p) for code, s, p in self.unit_names}
        return Reader(self.locale if locale is None else locale, names)

    def receipt(self, locale: str | Locale | None = None) -> Receipt:
        """The explanation as a :class:`Receipt`, in ``locale`` (default: its own).

        Raises:
            UnknownLocale: babel does not know ``locale``.
        """
        r = self.reader(locale)
        books = self.paid.currency.code
        payout = self.cash.currency.code
        units = (
            r.unit_name(self.unit_names[1][0], 2)
            if len(self.unit_names) > 1
            else r.gettext("units")
        )

        def line(key: str, label: str, amount: Money) -> ReceiptLine:
            return ReceiptLine(key, label, amount)

        if any(p.paid.currency.code != books for p in self.paid_in):
            paid = [
                line(f"paid:{p.paid.currency.code}", p.describe(r), p.paid_books)
                for p in self.paid_in
            ]
        else:
            paid = [line("paid", r.gettext("Viewers paid"), self.paid)]
        earned = line("earned", r.gettext("Earned from gifts"), self.earned)
        gifts = ReceiptStep(
            (
                *paid,
                line("store_fees", r.gettext("Store fees"), -self.store_fees),
                line("taxes", r.gettext("Taxes"), -self.taxes),
                line("platform", r.gettext("Platform's cut"), -self.platform),
            ),
            earned,
        )
        value = self.converted + self.adjustments
        lines = [
            earned,
            line(
                "payable",
                r.gettext("Still owed for unconverted {units}", units=units),
                -self.payable,
            ),
        ]
        if self.adjustments.amount:
            lines.append(
                line(
                    "adjustments",
                    r.gettext("Conversion adjustment paid by the platform"),
                    self.adjustments,
                )
            )
        converted = line("converted", r.gettext("Value of converted {units}", units=units), value)
        conversions = ReceiptStep(tuple(lines), converted)
        if payout == books and self.cash_from_conversions == value:
            cash_line = line(
                "cash_from_conversions",
                r.gettext("Cash from converted {units}", units=units),
                self.cash_from_conversions,
            )
        else:
            seen: list[Rate] = []
            for rate in self.rates:
                if rate not in seen:
                    seen.append(rate)
            rates = ", ".join(f"{x.base} → {x.quote} {r.rate(x.value)}" for x in seen[:3])
            if len(seen) > 3:
                rates += ", …"
            cash_line = line(
                "fx",
                r.gettext(
                    "Exchanged {value} into {currency} ({rates})",
                    value=r.money(value),
                    currency=payout,
                    rates=rates or "-",
                ),
                self.cash_from_conversions,
            )
        lines = [cash_line]
        if self.views.amount:
            lines.append(line("views", r.gettext("View pay"), self.views))
        if self.in_flight.amount:
            held = r.gettext(
                "Still in the cash account ({held} held for pending withdrawals)",
                held=r.money(self.in_flight),
            )
        else:
            held = r.gettext("Still in the cash account")
        lines.append(line("cash", held, -self.cash))
        lines.append(line("withdrawal_fees", r.gettext("Withdrawal fees"), -self.withdrawal_fees))
        bank = ReceiptStep(
            tuple(lines), line("bank", r.gettext("Paid out to the bank"), self.paid_out)
        )
        title = r.ngettext(
            "{creator}: {n} gift",
            "{creator}: {n} gifts",
            len(self.gifts),
            creator=one_line(self.creator),
        )
        return Receipt(self.creator, r.code, title, (gifts, conversions, bank))

    def render(self, *, gifts: bool = False, locale: str | Locale | None = None) -> str:
        """The receipt as text; with ``gifts``, every gift and its purchase slices after it.

        Raises:
            UnknownLocale: babel does not know ``locale``.
        """
        text = self.receipt(locale).render()
        if not gifts:
            return text
        r = self.reader(locale)
        out = [text]

        def coins(n: int) -> str:
            if self.unit_names:
                return r.money(Money(n, self.unit_names[0][0]))
            return r.ngettext("{n} coin", "{n} coins", n)

        for g in self.gifts:
            out.append(
                r.gettext(
                    "Gift #{id} on {date}: {quantity} × {gift} from {viewer}",
                    id=g.transaction,
                    date=r.date(g.at),
                    quantity=r.number(g.quantity),
                    gift=one_line(g.gift),
                    viewer=one_line(g.viewer),
                )
            )
            out.append(
                "  "
                + r.gettext(
                    "paid {paid}: store fee {fee}, tax {tax}, platform {platform}, "
                    "creator {creator}",
                    paid=r.money(g.paid),
                    fee=r.money(g.store_fee),
                    tax=r.money(g.tax),
                    platform=r.money(g.platform),
                    creator=r.money(g.creator),
                )
            )
            for s in g.purchases:
                paid = r.money(s.paid)
                if s.paid.currency != s.paid_books.currency:
                    paid = f"{paid} = {r.money(s.paid_books)}"
                out.append(
                    "    "
                    + r.gettext(
                        "purchase #{id} on {date} ({channel}, {region}): {coins}, paid "
                        "{paid}; to the creator {creator}, to the platform {platform}",
                        id=s.purchase,
                        date=r.date(s.bought_at),
                        channel=one_line(s.channel),
                        region=one_line(s.region),
                        coins=coins(s.coins),
                        paid=paid,
                        creator=r.money(s.creator),
                        platform=r.money(s.platform),
                    )
                )
        return "\n".join(out)

    def __str__(self) -> str:
        return self.render()

    # ------------------------------------------------------------------ JSON

    def to_dict(self) -> dict[str, Any]:
        """The explanation as a JSON-ready dict (schema: ``report_schema("explanation")``):
        amounts as ``{"amount": "5.00", "currency": "USD"}``, never floats; the
        receipt (in :attr:`locale`) is included for readers, and ignored by
        :meth:`from_dict`, which rebuilds it."""
        money = {k: money_to_json(getattr(self, k)) for k in _EXPLANATION_MONEY}
        return {
            "schema_version": SCHEMA_VERSION,
            "kind": "explanation",
            "creator": self.creator,
            "locale": self.locale,
            "units": units_to_json(self.unit_names),
            **money,
            "paid_out": money_to_json(self.paid_out),
            "rates": [
                {"base": x.base, "quote": x.quote, "value": fraction_to_json(x.value)}
                for x in self.rates
            ],
            "paid_in": [p.to_dict() for p in self.paid_in],
            "gifts": [g.to_dict() for g in self.gifts],
            "receipt": self.receipt().to_dict(),
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    @classmethod
    def from_dict(cls, data: Any) -> Explanation:
        """Read back what :meth:`to_dict` wrote (registering its virtual units).

        Raises:
            InvalidArgument: not an explanation document of this schema version,
                or a malformed value (named by its path).
        """
        doc = check_document(data, "explanation")
        try:
            names = units_from_json(doc["units"], "units")
            money = {k: money_from_json(doc[k], k) for k in _EXPLANATION_MONEY}
            rates = tuple(
                Rate(x["base"], x["quote"], fraction_from_json(x["value"], f"rates[{i}]"))
                for i, x in enumerate(doc["rates"])
            )
            return cls(
                creator=str(doc["creator"]),
                gifts=tuple(
                    GiftTrace.from_dict(g, f"gifts[{i}]") for i, g in enumerate(doc["gifts"])
                ),
                rates=rates,
                paid_in=tuple(
                    PaidIn.from_dict(p, f"paid_in[{i}]") for i, p in enumerate(doc["paid_in"])
                ),
                locale=locale_code(doc["locale"]),
                unit_names=names,
                **money,
            )
        except GiftLedgerError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidArgument(f"explanation document: missing or malformed {exc}") from None

    @classmethod
    def from_json(cls, text: str) -> Explanation:
        """Read back what :meth:`to_json` wrote."""
        return cls.from_dict(parse_document(text, "explanation"))


_EXPLANATION_MONEY = (
    "paid",
    "store_fees",
    "taxes",
    "platform",
    "earned",
    "views",
    "converted",
    "adjustments",
    "cash_from_conversions",
    "withdrawn",
    "withdrawal_fees",
    "in_flight",
    "payable",
    "cash",
)


def _width(text: str) -> int:
    """Columns ``text`` takes in a terminal: East Asian wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _split_owed(owed: int, weights: list[int]) -> tuple[int, ...]:
    """``owed`` split over a gift's slices by ``weights``, largest remainder first;
    equal parts when no weight is positive."""
    if not weights:
        return ()
    if len(weights) == 1:
        return (owed,)
    use = [max(0, w) for w in weights]
    if not any(use):
        use = [1] * len(weights)
    return allocate(owed, use, Leftover.LARGEST_REMAINDER)


def explain(app: Chain, creator: str, *, locale: str | Locale = "en_US") -> Explanation:
    """Trace a creator's earnings; see :class:`Explanation`.

    Raises:
        UnknownLocale: babel does not know ``locale`` (nothing is read).
    """
    code = locale_code(locale)
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

    def by_share(at: datetime) -> bool | None:
        """None: the creator is paid per coin (units); else whether a share of the
        price is taken after fees."""
        try:
            pay = app.economy.rules_at(at).creator_pay
        except GiftLedgerError:
            return None
        if pay.model is PayoutModel.SHARE_OF_PRICE:
            return bool(pay.share_after_fees)
        return None

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
        quantity = rec.quantity if isinstance(rec, GiftRecord) else 1
        coins = rec.coins if isinstance(rec, GiftRecord) else 0
        gifts.append(
            GiftTrace(
                tx.id,
                tx.effective_at,
                rec.viewer,
                rec.gift,
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

    def slice_of(
        lot: int,
        viewer: str,
        channel: str,
        region: str,
        at: datetime,
        coins: int,
        ccy: str,
        parts: tuple[int, int, int, int, int, int, int],
        owed: int,
        rate: Fraction | None,
    ) -> PurchaseSlice:
        paid, fee, tax, released, fee_b, tax_b, paid_b = parts
        return PurchaseSlice(
            lot,
            viewer,
            channel,
            region,
            at,
            coins,
            from_minor(paid, ccy),
            from_minor(fee, ccy),
            from_minor(tax, ccy),
            from_minor(released, books),
            from_minor(paid_b, books),
            from_minor(fee_b, books),
            from_minor(tax_b, books),
            from_minor(released - fee_b - owed, books),
            from_minor(owed, books),
            rate,
        )

    for tx, rec in creator_entries(app, creator):
        if isinstance(rec, PaidGiftRecord):
            if rec.creator != creator:
                continue
            ccy = rec.currency
            paid_b = rec.net + rec.tax_books
            count(ccy, rec.gross, paid_b, tx)
            one = slice_of(
                tx.id,
                rec.viewer,
                rec.channel,
                rec.region,
                tx.effective_at,
                0,
                ccy,
                (rec.gross, rec.fee, rec.tax, rec.net, rec.fee_books, rec.tax_books, paid_b),
                rec.owed,
                rate_of(tx, ccy),
            )
            trace(tx, rec, [one], rec.fee_books, rec.tax_books, rec.net)
        elif isinstance(rec, GiftRecord):
            if rec.creator != creator:
                continue
            after_fees = by_share(tx.effective_at)
            if after_fees is None:
                weights = [s.coins for s in rec.lots]
            elif after_fees:
                weights = [s.released - s.fee_books for s in rec.lots]
            else:
                weights = [s.released + s.tax_books for s in rec.lots]
            shares = _split_owed(rec.owed, weights)
            traced = []
            for s, owed in zip(rec.lots, shares, strict=True):
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
                    slice_of(
                        lot_tx.id,
                        lot_rec.viewer,
                        lot_rec.channel,
                        lot_rec.region,
                        lot_tx.effective_at,
                        s.coins,
                        ccy,
                        (s.paid, s.fee, s.tax, s.released, s.fee_books, s.tax_books, paid_b),
                        owed,
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
        code,
        unit_names(app),
    )
