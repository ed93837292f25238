"""Statements: a creator's entries in a period, written in the reader's language.

Each line says what happened in words from the gettext catalogs, with amounts
formatted by babel for the locale and units named as the economy names them;
the amounts themselves stay exact ``Money`` on the line, and :meth:`Statement.to_json`
writes them as decimal strings.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs
from babel import Locale
from moneyed import Money

from .._economy.records import (
    ConversionRecord,
    GiftRecord,
    PaidGiftRecord,
    PartyRecord,
    ViewPayRecord,
    WithdrawalFailRecord,
    WithdrawalRecord,
    WithdrawalSettleRecord,
    record_of,
)
from .._errors import GiftLedgerError, InvalidArgument
from .._ledger.clock import require_aware
from .._money.amounts import from_minor
from .entries import Chain, creator_entries, one_line, unit_names
from .i18n import Reader, locale_code
from .jsonio import (
    SCHEMA_VERSION,
    check_document,
    moment_from_json,
    money_from_json,
    money_to_json,
    parse_document,
    units_from_json,
    units_to_json,
)

__all__ = ["KINDS", "Statement", "StatementLine", "statement"]

KINDS = (
    "gift",
    "conversion",
    "views",
    "withdrawal",
    "withdrawal paid",
    "withdrawal failed",
    "profile",
)
"""Every :attr:`StatementLine.kind`; stable across languages and versions."""


@attrs.frozen(slots=True)
class StatementLine:
    """One line of a statement.

    Attributes:
        at: when.
        transaction: the entry's id.
        kind: one of :data:`KINDS`: ``"gift"``, ``"conversion"``, ``"views"``,
            ``"withdrawal"``, ``"withdrawal paid"``, ``"withdrawal failed"``,
            ``"profile"`` (a recorded change of the creator's profile; its
            ``transaction`` is 0).
        description: what happened, in the statement's language.
        amount: the money it moved for the creator (positive: earned; a
            withdrawal request takes the whole amount, fee included).
        units: creator units it moved, if any.
        fee: a withdrawal's fee (on ``"withdrawal"`` and ``"withdrawal paid"``).
        paid_out: what reached the bank (on ``"withdrawal paid"``: the amount
            less the fee).
    """

    at: datetime
    transaction: int
    kind: str
    description: str
    amount: Money | None
    units: Money | None = None
    fee: Money | None = None
    paid_out: Money | None = None

    def to_dict(self) -> dict[str, Any]:
        def opt(m: Money | None) -> dict[str, str] | None:
            return None if m is None else money_to_json(m)

        return {
            "at": self.at.isoformat(),
            "transaction": self.transaction,
            "kind": self.kind,
            "description": self.description,
            "amount": opt(self.amount),
            "units": opt(self.units),
            "fee": opt(self.fee),
            "paid_out": opt(self.paid_out),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "line") -> StatementLine:
        kind = data["kind"]
        if kind not in KINDS:
            raise InvalidArgument(f"{where}.kind: {kind!r} is not one of {', '.join(KINDS)}")

        def opt(key: str) -> Money | None:
            value = data[key]
            return None if value is None else money_from_json(value, f"{where}.{key}")

        return cls(
            moment_from_json(data["at"], f"{where}.at"),
            int(data["transaction"]),
            kind,
            str(data["description"]),
            opt("amount"),
            opt("units"),
            opt("fee"),
            opt("paid_out"),
        )


@attrs.frozen(slots=True)
class Statement:
    """A creator's itemised statement for a period, written for a locale.

    Attributes:
        creator: the creator.
        start: the first instant included (None: from the beginning).
        end: the first instant excluded (None: to now).
        locale: the babel locale the text is written for (``"de_DE"``).
        lines: the items, oldest first.
        unit_names: ``(code, singular, plural)`` of the economy's units, as the
            economy names them.

    Example:
        >>> import giftledger as gl
        >>> econ = gl.presets.load("tiktok-live")
        >>> app = gl.GiftEconomy(gl.Ledger(clock=gl.ManualClock(econ.latest.effective_from)),
        ...                      econ)
        >>> _ = app.open_viewer("ann", region="US"), app.open_creator("bob", region="US")
        >>> _ = app.buy_coins("ann", pack=1400, channel="ios")
        >>> _ = app.send_gift("ann", "bob", "Galaxy")
        >>> print(app.statement("bob"))
        Statement for bob (1 entry)
        Aug 15, 2025  #20  1 × Galaxy from ann  1,000 diamonds  $5.00
        >>> app.statement("bob", locale="fr_FR").lines[0].description
        '1 × Galaxy de ann'
        >>> st = app.statement("bob", locale="ja_JP")
        >>> st.lines[0].description
        'ann さんから Galaxy × 1'
        >>> st.to_dict()["lines"][0]["amount"]
        {'amount': '5.00', 'currency': 'USD'}
    """

    creator: str
    start: datetime | None
    end: datetime | None
    locale: str
    lines: tuple[StatementLine, ...]
    unit_names: tuple[tuple[str, str, str], ...] = ()

    def render(self, locale: str | Locale | None = None) -> str:
        """The statement as text: dates and amounts formatted by babel for
        :attr:`locale` (or ``locale``: only the formatting changes, the
        descriptions stay in the language they were written in)."""
        r = Reader(
            self.locale if locale is None else locale,
            {code: (s, p) for code, s, p in self.unit_names},
        )
        n = len(self.lines)
        who = one_line(self.creator)
        if self.start is not None and self.end is not None:
            out = [
                r.ngettext(
                    "Statement for {creator}, {start} to {end} ({n} entry)",
                    "Statement for {creator}, {start} to {end} ({n} entries)",
                    n,
                    creator=who,
                    start=r.date(self.start),
                    end=r.date(self.end),
                )
            ]
        elif self.start is not None:
            out = [
                r.ngettext(
                    "Statement for {creator}, from {start} ({n} entry)",
                    "Statement for {creator}, from {start} ({n} entries)",
                    n,
                    creator=who,
                    start=r.date(self.start),
                )
            ]
        elif self.end is not None:
            out = [
                r.ngettext(
                    "Statement for {creator}, until {end} ({n} entry)",
                    "Statement for {creator}, until {end} ({n} entries)",
                    n,
                    creator=who,
                    end=r.date(self.end),
                )
            ]
        else:
            out = [
                r.ngettext(
                    "Statement for {creator} ({n} entry)",
                    "Statement for {creator} ({n} entries)",
                    n,
                    creator=who,
                )
            ]
        for line in self.lines:
            parts = [r.date(line.at), f"#{line.transaction}", one_line(line.description)]
            if line.units is not None:
                parts.append(r.money(line.units))
            if line.amount is not None:
                parts.append(r.money(line.amount))
            out.append("  ".join(parts))
        return "\n".join(out)

    def __str__(self) -> str:
        return self.render()

    def to_dict(self) -> dict[str, Any]:
        """The statement as a JSON-ready dict (schema: ``report_schema("statement")``):
        amounts as ``{"amount": "5.00", "currency": "USD"}``, never floats."""
        return {
            "schema_version": SCHEMA_VERSION,
            "kind": "statement",
            "creator": self.creator,
            "start": None if self.start is None else self.start.isoformat(),
            "end": None if self.end is None else self.end.isoformat(),
            "locale": self.locale,
            "units": units_to_json(self.unit_names),
            "lines": [line.to_dict() for line in self.lines],
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    @classmethod
    def from_dict(cls, data: Any) -> Statement:
        """Read back what :meth:`to_dict` wrote (registering its virtual units).

        Raises:
            InvalidArgument: not a statement document of this schema version, or
                a malformed value (named by its path).
        """
        doc = check_document(data, "statement")
        try:
            names = units_from_json(doc["units"], "units")
            start, end = doc["start"], doc["end"]
            return cls(
                str(doc["creator"]),
                None if start is None else moment_from_json(start, "start"),
                None if end is None else moment_from_json(end, "end"),
                locale_code(doc["locale"]),
                tuple(
                    StatementLine.from_dict(x, f"lines[{i}]") for i, x in enumerate(doc["lines"])
                ),
                names,
            )
        except GiftLedgerError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidArgument(f"statement document: missing or malformed {exc}") from None

    @classmethod
    def from_json(cls, text: str) -> Statement:
        """Read back what :meth:`to_json` wrote."""
        return cls.from_dict(parse_document(text, "statement"))


def statement(
    app: Chain,
    creator: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    locale: str | Locale = "en_US",
) -> Statement:
    """A creator's itemised statement; see :class:`Statement`.

    Raises:
        UnknownLocale: babel does not know ``locale``.
        InvalidArgument: ``start`` or ``end`` is naive, or ``end`` is before ``start``.
    """
    lo = require_aware(start, "start") if start is not None else None
    hi = require_aware(end, "end") if end is not None else None
    if lo is not None and hi is not None and hi < lo:
        raise InvalidArgument(f"end {hi.isoformat()} is before start {lo.isoformat()}")
    names = unit_names(app)
    r = Reader(locale, {code: (s, p) for code, s, p in names})
    currency = app.creator(creator).payout_currency or app.books
    books, unit = app.books, app.unit
    book = app.ledger
    lines = []
    for effective, party in app.party_history("creator", creator):
        if party.seq <= 0:
            continue
        if (lo is not None and effective < lo) or (hi is not None and effective >= hi):
            continue
        lines.append(StatementLine(effective, 0, "profile", _profile(r, party), None))
    for tx, rec in creator_entries(app, creator, lo, hi):
        if (lo is not None and tx.effective_at < lo) or (hi is not None and tx.effective_at >= hi):
            continue
        at = tx.effective_at
        if isinstance(rec, PaidGiftRecord) and rec.creator == creator:
            text = r.gettext(
                "{gift} of {amount} from {viewer}",
                gift=rec.gift,
                amount=r.money(from_minor(rec.gross, rec.currency)),
                viewer=rec.viewer,
            )
            owed, units = from_minor(rec.owed, books), from_minor(rec.units, unit)
            lines.append(StatementLine(at, tx.id, "gift", text, owed, units))
        elif isinstance(rec, GiftRecord) and rec.creator == creator:
            text = r.gettext(
                "{quantity} × {gift} from {viewer}",
                quantity=r.number(rec.quantity),
                gift=rec.gift,
                viewer=rec.viewer,
            )
            owed, units = from_minor(rec.owed, books), from_minor(rec.units, unit)
            lines.append(StatementLine(at, tx.id, "gift", text, owed, units))
        elif isinstance(rec, ConversionRecord) and rec.creator == creator:
            units = from_minor(rec.units, unit)
            text = r.gettext("{units} converted to cash", units=r.money(units))
            lines.append(
                StatementLine(at, tx.id, "conversion", text, from_minor(rec.paid, currency), -units)
            )
        elif isinstance(rec, ViewPayRecord) and rec.creator == creator:
            text = r.ngettext(
                "{program} for {period} ({n} view)",
                "{program} for {period} ({n} views)",
                rec.views,
                program=rec.program,
                period=rec.period,
            )
            lines.append(StatementLine(at, tx.id, "views", text, from_minor(rec.paid, currency)))
        elif isinstance(rec, WithdrawalRecord) and rec.creator == creator:
            ccy = rec.currency
            amount, fee = from_minor(tx.postings[0].minor, ccy), from_minor(rec.fee, ccy)
            if rec.fee:
                text = r.gettext(
                    "Withdrawal of {amount} requested, fee {fee} included",
                    amount=r.money(amount),
                    fee=r.money(fee),
                )
            else:
                text = r.gettext("Withdrawal of {amount} requested", amount=r.money(amount))
            lines.append(StatementLine(at, tx.id, "withdrawal", text, -amount, None, fee))
        elif isinstance(rec, WithdrawalSettleRecord):
            hold_tx = book.transaction(rec.withdrawal)
            hold_rec = record_of(hold_tx)
            if not isinstance(hold_rec, WithdrawalRecord) or hold_rec.creator != creator:
                continue
            ccy = hold_rec.currency
            amount, fee = from_minor(hold_tx.postings[0].minor, ccy), from_minor(hold_rec.fee, ccy)
            paid = amount - fee
            if hold_rec.fee:
                text = r.gettext(
                    "Withdrawal #{id} paid out: {paid} to the bank after a fee of {fee}",
                    id=hold_tx.id,
                    paid=r.money(paid),
                    fee=r.money(fee),
                )
            else:
                text = r.gettext(
                    "Withdrawal #{id} paid out: {paid} to the bank",
                    id=hold_tx.id,
                    paid=r.money(paid),
                )
            lines.append(StatementLine(at, tx.id, "withdrawal paid", text, None, None, fee, paid))
        elif isinstance(rec, WithdrawalFailRecord):
            hold_tx = book.transaction(rec.withdrawal)
            hold_rec = record_of(hold_tx)
            ccy = hold_rec.currency if isinstance(hold_rec, WithdrawalRecord) else currency
            back = from_minor(hold_tx.postings[0].minor, ccy)
            text = r.gettext(
                "Withdrawal #{id} failed; {amount} returned to the cash account",
                id=hold_tx.id,
                amount=r.money(back),
            )
            lines.append(StatementLine(at, tx.id, "withdrawal failed", text, back))
    lines.sort(key=lambda line: (line.at, line.transaction))
    return Statement(creator, lo, hi, r.code, tuple(lines), names)


def _profile(r: Reader, rec: PartyRecord) -> str:
    verified = r.gettext("verified") if rec.verified else r.gettext("not verified")
    return r.gettext(
        "Profile changed: region {region}, age {age}, {verified}",
        region=rec.region or "-",
        age="-" if rec.age is None else r.number(rec.age),
        verified=verified,
    )
