"""Typed chain records: one attrs class per kind of chain entry.

Every entry the chain writes carries exactly one record, stored in the entry's
metadata under keys in the chain's own ``gl.`` namespace (which the ledger
refuses from its public API, so no caller can forge one). The ``gl.op`` key
names the kind; the other keys are the record's fields. The layout is the one
the previous release wrote as untyped metadata, so books written by it read as
typed records with no migration; fields added since then have defaults.

Code reads records with :func:`record_of`, never metadata strings. A chain
entry whose metadata does not parse is a :class:`~giftledger.ChainBroken`
from :func:`parse`; :func:`record_of` (used on read paths) returns None for an
entry that carries no chain record at all.

Example:
    >>> import giftledger as gl
    >>> rec = gl.GiftRecord("alice", "bob", "Rose", 1, 1, 1, 1, 0)
    >>> gl.GiftRecord.from_meta(rec.to_meta()) == rec
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any, ClassVar, TypeVar, Union, get_args

import attrs

from .._boundary import boundary, shown
from .._errors import ChainBroken, InvalidArgument
from .._ledger.model import MetaValue, Transaction
from .lots import LotSlice, decode_slices, encode_slices

__all__ = [
    "OP",
    "ChainRecord",
    "ConversionRecord",
    "GiftRecord",
    "PaidGiftRecord",
    "PartyRecord",
    "PurchaseRecord",
    "RefundRecord",
    "RulesRecord",
    "ViewPayRecord",
    "WithdrawalFailRecord",
    "WithdrawalPostRecord",
    "WithdrawalRecord",
    "WithdrawalSettleRecord",
    "parse",
    "record_of",
]

#: The metadata key that names a chain record's kind.
OP = "gl.op"

R = TypeVar("R", bound="_Record")


def _fraction_text(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}"


def _fraction(value: object) -> Fraction:
    if isinstance(value, int) and not isinstance(value, bool):
        return Fraction(value)
    if not isinstance(value, str):
        raise TypeError(f"{value!r} is not a fraction")
    num, _, den = value.partition("/")
    return Fraction(int(num), int(den or 1))


_KEYS: dict[type, tuple[tuple[str, str], ...]] = {}


def _keys(cls: type) -> tuple[tuple[str, str], ...]:
    """``(field, metadata key)`` pairs of a record class, computed once."""
    found = _KEYS.get(cls)
    if found is None:
        fields = attrs.fields(cls)
        found = _KEYS[cls] = tuple((f.name, f"gl.{f.name}") for f in fields)
    return found


class _Record:
    """The encoding shared by every record: ``gl.op`` plus one ``gl.<field>`` per field.

    A field's stored form is its value (str, int, bool or None); tuples of lot
    slices and fractions have a text form. ``_defaults`` names the fields a book
    of the previous release may lack.
    """

    __slots__ = ()
    op: ClassVar[str]
    _ops: ClassVar[tuple[str, ...]] = ()  # other spellings of op this class reads
    _defaults: ClassVar[Mapping[str, Any]] = {}

    def to_meta(self) -> dict[str, MetaValue]:
        """The record as entry metadata."""
        out: dict[str, MetaValue] = {OP: self.op}
        for name, key in _keys(type(self)):
            value: Any = getattr(self, name)
            cls = type(value)
            if cls is Fraction:
                value = _fraction_text(value)
            elif cls is tuple:
                value = encode_slices(value)
            out[key] = value
        return out

    @classmethod
    def from_meta(cls: type[R], meta: Mapping[str, MetaValue]) -> R:
        """Parse a record; raise ``ValueError``/``TypeError`` naming what is wrong."""
        kwargs: dict[str, Any] = {}
        for field in attrs.fields(cls):  # type: ignore[arg-type]
            key = f"gl.{field.name}"
            if key not in meta:
                if field.name in cls._defaults:
                    kwargs[field.name] = cls._defaults[field.name]
                    continue
                raise ValueError(f"missing {key}")
            value: Any = meta[key]
            kind = field.type
            if kind in ("int", int):
                if type(value) is not int:
                    raise TypeError(f"{key} is {value!r}, not an int")
            elif kind in ("str", str):
                if not isinstance(value, str):
                    raise TypeError(f"{key} is {value!r}, not a str")
            elif kind in ("bool", bool):
                if not isinstance(value, bool):
                    raise TypeError(f"{key} is {value!r}, not a bool")
            elif kind in ("int | None",):
                if value is not None and type(value) is not int:
                    raise TypeError(f"{key} is {value!r}, not an int or None")
            elif kind in ("str | None",):
                if value is not None and not isinstance(value, str):
                    raise TypeError(f"{key} is {value!r}, not a str or None")
            elif kind in ("bool | None",):
                if value is not None and not isinstance(value, bool):
                    raise TypeError(f"{key} is {value!r}, not a bool or None")
            elif kind == "Fraction":
                value = _fraction(value)
            elif kind == "tuple[LotSlice, ...]":
                value = decode_slices(value)
            kwargs[field.name] = value
        return cls(**kwargs)


@attrs.frozen(slots=True)
class PurchaseRecord(_Record):
    """A coin purchase: the lot it makes.

    Attributes:
        viewer: who bought.
        coins: coins credited to the wallet.
        currency: the currency paid in.
        gross: what the viewer paid, minor units of ``currency``.
        fee: the store's fee in it.
        tax: the tax in it.
        deferred: deferred revenue, minor units of the books' currency.
        fee_books: the fee in the books' currency.
        tax_books: the tax in the books' currency.
        channel: the sales channel.
        region: the buyer's region (``"*"``: none declared).
        store: the store's account suffix.
    """

    op: ClassVar[str] = "buy_coins"
    viewer: str
    coins: int
    currency: str
    gross: int
    fee: int
    tax: int
    deferred: int
    fee_books: int
    tax_books: int
    channel: str
    region: str
    store: str


@attrs.frozen(slots=True)
class GiftRecord(_Record):
    """A gift: coins spent, deferred revenue released, Diamonds and pay owed.

    Attributes:
        viewer: who sent it.
        creator: who received it.
        gift: the gift's name in the catalog.
        quantity: how many.
        coins: coins spent.
        units: creator units (Diamonds) credited.
        released: deferred revenue released, books minor units.
        owed: what the creator is owed for it, books minor units (rounded down
            under ``SHARE_OF_PRICE``; see ``carry``).
        lots: the lot slices the coins came from, oldest first.
        carry: the exact part of a minor unit ``owed`` left out (0 <= carry < 1);
            the creator's next conversion pays the whole units that carries add up to.
    """

    op: ClassVar[str] = "send_gift"
    _defaults: ClassVar[Mapping[str, Any]] = {"lots": (), "carry": Fraction(0)}
    viewer: str
    creator: str
    gift: str
    quantity: int
    coins: int
    units: int
    released: int
    owed: int
    lots: tuple[LotSlice, ...] = ()
    carry: Fraction = Fraction(0)


@attrs.frozen(slots=True)
class PaidGiftRecord(_Record):
    """A gift priced in money (a Super Chat, a tip): bought and sent in one entry.

    No coins change hands: what the viewer paid is split at once between the
    store, the tax, the creator and the platform.

    Attributes:
        viewer: who paid.
        creator: who received it.
        gift: the gift's name in the catalog.
        currency: the currency paid in.
        gross: what the viewer paid, minor units of ``currency``.
        fee: the store's fee in it.
        tax: the tax in it.
        net: ``gross - tax`` in the books' currency, minor units (what a coin
            purchase would have deferred).
        fee_books: the fee in the books' currency.
        tax_books: the tax in the books' currency.
        channel: the sales channel.
        region: the buyer's region (``"*"``: none declared).
        store: the store's account suffix.
        units: creator units (Diamonds) credited.
        owed: what the creator is owed, books minor units (rounded down; see ``carry``).
        carry: the exact part of a minor unit ``owed`` left out (0 <= carry < 1).
    """

    op: ClassVar[str] = "paid_gift"
    viewer: str
    creator: str
    gift: str
    currency: str
    gross: int
    fee: int
    tax: int
    net: int
    fee_books: int
    tax_books: int
    channel: str
    region: str
    store: str
    units: int
    owed: int
    carry: Fraction = Fraction(0)


@attrs.frozen(slots=True)
class ConversionRecord(_Record):
    """Diamonds converted to cash.

    Attributes:
        creator: whose.
        units: Diamonds converted.
        released: creator payable released, books minor units.
        value: their value at conversion, books minor units (``value - released``
            is the platform's adjustment; it includes ``settled``).
        paid: cash credited, minor units of ``currency``.
        currency: the creator's payout currency.
        settled: whole minor units of earlier gifts' carries paid now.
        carry: the carries' fraction still owed after this conversion (negative
            when gifts reversed since took back more than this conversion paid:
            what the creator owes back, taken from later conversions).
    """

    op: ClassVar[str] = "convert"
    _defaults: ClassVar[Mapping[str, Any]] = {"settled": 0, "carry": Fraction(0)}
    creator: str
    units: int
    released: int
    value: int
    paid: int
    currency: str
    settled: int = 0
    carry: Fraction = Fraction(0)


@attrs.frozen(slots=True)
class WithdrawalRecord(_Record):
    """A withdrawal request: the hold on the creator's cash.

    Attributes:
        creator: whose.
        currency: the cash account's currency.
        fee: the withdrawal fee in the amount, minor units.
        due_days: review plus holding days.
    """

    op: ClassVar[str] = "withdraw"
    creator: str
    currency: str
    fee: int
    due_days: int


@attrs.frozen(slots=True)
class WithdrawalPostRecord(_Record):
    """The hold of withdrawal ``withdrawal`` posted (the payout is going out)."""

    op: ClassVar[str] = "withdraw_post"
    withdrawal: int


@attrs.frozen(slots=True)
class WithdrawalSettleRecord(_Record):
    """Withdrawal ``withdrawal`` settled to the bank, for ``creator``."""

    op: ClassVar[str] = "withdraw_settle"
    _defaults: ClassVar[Mapping[str, Any]] = {"creator": None}
    withdrawal: int
    creator: str | None = None


@attrs.frozen(slots=True)
class WithdrawalFailRecord(_Record):
    """Withdrawal ``withdrawal`` failed; its hold was voided."""

    op: ClassVar[str] = "withdraw_void"
    withdrawal: int


@attrs.frozen(slots=True)
class RefundRecord(_Record):
    """A refund or chargeback of a coin purchase.

    Attributes:
        lot: the purchase's entry id.
        viewer: the buyer.
        coins: unspent coins taken back.
        spent_value: what the lot's spent coins had released (books minor units),
            booked by ``policy``.
        policy: the spent-coin policy applied.
        store_keeps_fee: whether the store kept its fee.
        chargeback: a chargeback rather than a refund.
        key: the caller's idempotency key, if any (the entry's own key is
            ``gl:refund:<lot>``: a purchase is refunded once).
    """

    op: ClassVar[str] = "refund"
    _defaults: ClassVar[Mapping[str, Any]] = {"key": None, "chargeback": False}
    _ops: ClassVar[tuple[str, ...]] = ("chargeback",)
    lot: int
    viewer: str
    coins: int
    spent_value: int
    policy: str
    store_keeps_fee: bool
    chargeback: bool = False
    key: str | None = None

    def to_meta(self) -> dict[str, MetaValue]:
        meta = _Record.to_meta(self)
        del meta["gl.chargeback"]
        meta[OP] = "chargeback" if self.chargeback else "refund"
        return meta


@attrs.frozen(slots=True)
class ViewPayRecord(_Record):
    """View-based pay for a period.

    Attributes:
        creator: who was paid.
        period: the period's label.
        program: the rewards program.
        views: qualified views counted.
        earned: the amount earned, minor units of ``earned_currency``.
        earned_currency: the pool's currency.
        paid: cash credited, minor units of the payout currency.
    """

    op: ClassVar[str] = "views"
    creator: str
    period: str
    program: str
    views: int
    earned: int
    earned_currency: str
    paid: int


@attrs.frozen(slots=True)
class PartyRecord(_Record):
    """A party opened (``seq == 0``) or changed, as of the entry's effective time.

    Attributes:
        role: ``"viewer"`` or ``"creator"``.
        name: the party's name.
        seq: 0 when opened, then 1, 2 … per change.
        region: ISO 3166 code, or None.
        age: the declared age, or None.
        verified: identity verified (creators).
        payout_currency: the creator's payout currency (None for viewers).
        key: the caller's idempotency key of a change, if any.
        changed: the fields a change sets, comma-separated ("" when opened: all).
            The profile in force at a time takes each field from the latest
            record effective by then that set it, so a change effective later
            and another recorded meanwhile both hold.
    """

    op: ClassVar[str] = "party"
    _defaults: ClassVar[Mapping[str, Any]] = {"key": None, "changed": ""}
    role: str
    name: str
    seq: int
    region: str | None
    age: int | None
    verified: bool
    payout_currency: str | None
    key: str | None = None
    changed: str = ""


@attrs.frozen(slots=True)
class RulesRecord(_Record):
    """The economy a chain runs under, recorded when it is first used or changed.

    Attributes:
        name: the economy's name.
        seq: 0 for the first, then 1, 2 … per change.
        fingerprint: SHA-256 of the economy's TOML text.
        toml: that text (so a tool holding only the ledger can load the rules).
        variant: the economy's variant, as text.
    """

    op: ClassVar[str] = "rules"
    name: str
    seq: int
    fingerprint: str
    toml: str
    variant: str = ""


ChainRecord = Union[  # noqa: UP007 - a runtime alias
    PurchaseRecord,
    GiftRecord,
    PaidGiftRecord,
    ConversionRecord,
    WithdrawalRecord,
    WithdrawalPostRecord,
    WithdrawalSettleRecord,
    WithdrawalFailRecord,
    RefundRecord,
    ViewPayRecord,
    PartyRecord,
    RulesRecord,
]

_KINDS: dict[str, type[_Record]] = {}
for _cls in get_args(ChainRecord):
    _KINDS[_cls.op] = _cls
    for _alias in _cls._ops:
        _KINDS[_alias] = _cls


def parse(tx: Transaction) -> ChainRecord | None:
    """The chain record of ``tx``, or None if it carries none.

    Raises:
        ChainBroken: ``tx`` claims a chain record (a ``gl.op`` key) that does not parse.
    """
    meta = dict(tx.metadata)
    op = meta.get(OP)
    if op is None:
        return None
    cls = _KINDS.get(op) if isinstance(op, str) else None
    if cls is None:
        raise ChainBroken(f"entry {tx.id}: unknown chain record kind {op!r}", tx.id)
    try:
        record = cls.from_meta(meta)
        if cls is RefundRecord:
            record = attrs.evolve(record, chargeback=op == "chargeback")  # type: ignore[misc]
    except (ValueError, TypeError, ZeroDivisionError) as exc:
        raise ChainBroken(
            f"entry {tx.id}: its {op!r} record does not parse: {exc}", tx.id
        ) from None
    return record  # type: ignore[return-value]


@boundary
def record_of(tx: Transaction) -> ChainRecord | None:
    """The chain record of ``tx``; None if it has none or it does not parse.

    Read paths use this, so one malformed entry never breaks a report;
    :meth:`GiftEconomy.verify` names such entries.

    Raises:
        InvalidArgument: ``tx`` is not a :class:`~giftledger.Transaction`.
    """
    if not isinstance(tx, Transaction):
        raise InvalidArgument(f"{shown(tx)} is not a giftledger.Transaction")
    try:
        return parse(tx)
    except ChainBroken:
        return None
