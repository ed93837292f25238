"""The ledger's records: accounts, postings, transactions, holds and balances.

Every record is a frozen attrs class with slots. Collections on records are
tuples. Amounts are integers of minor units with a unit code; each record
that carries one offers it as ``moneyed.Money`` too.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any, Literal, TypeVar, Union

import attrs
from moneyed import Money

from .._boundary import shown
from .._errors import InvalidArgument
from .._money.amounts import MAX_MINOR, AmountLike, from_minor, to_fraction
from .text import check_text

__all__ = [
    "Account",
    "AccountBalance",
    "BalanceRule",
    "EntryKind",
    "Hold",
    "HoldStatus",
    "MetaValue",
    "Metadata",
    "Page",
    "Posting",
    "PostingSpec",
    "Rate",
    "Side",
    "Transaction",
    "TrialBalance",
    "credit",
    "debit",
    "freeze_metadata",
    "is_encodable",
]

MetaValue = Union[str, int, bool, None]  # noqa: UP007 - a runtime alias
Metadata = tuple[tuple[str, MetaValue], ...]

_C = TypeVar("_C", bound=type)


def _fast_init(cls: _C) -> _C:
    """Give a frozen, slotted attrs class a faster ``__init__`` with the same signature.

    attrs' frozen ``__init__`` sets each field through a bound
    ``object.__setattr__``; setting the slots through their descriptors does the
    same thing in about two thirds of the time (Posting: 1.35 -> 0.93 us here).
    Postings and transactions are built on every write, so it matters. Only for
    classes with plain fields: no validators, converters, factories or hooks.
    """
    fields = attrs.fields(cls)
    namespace: dict[str, Any] = {}
    params = []
    for f in fields:
        if f.validator or f.converter or not f.init or hasattr(f.default, "takes_self"):
            raise TypeError(f"{cls.__name__}.{f.name} needs attrs' own __init__")
        namespace[f"_set_{f.name}"] = cls.__dict__[f.name].__set__
        if f.default is attrs.NOTHING:
            params.append(f.name)
        else:
            namespace[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
    if hasattr(cls, "__attrs_pre_init__") or hasattr(cls, "__attrs_post_init__"):
        raise TypeError(f"{cls.__name__} needs attrs' own __init__")
    lines = [f"def __init__(self, {', '.join(params)}):"]
    lines += [f"    _set_{f.name}(self, {f.name})" for f in fields]
    exec("\n".join(lines), namespace)
    init = namespace["__init__"]
    generated = cls.__dict__["__init__"]
    init.__annotations__ = generated.__annotations__
    init.__qualname__ = generated.__qualname__
    init.__doc__ = generated.__doc__
    cls.__init__ = init  # type: ignore[misc]
    return cls


_NAME = re.compile(r"[^\s:][^:]*(?::[^\s:][^:]*)*")
_UNIT_CODE = re.compile(r"[A-Z0-9_]{2,16}")


class Side(enum.Enum):
    """The side of a posting, and the normal side of an account."""

    DEBIT = "debit"
    CREDIT = "credit"

    @property
    def sign(self) -> int:
        """+1 for debit, -1 for credit: a posting's effect on ``debits - credits``."""
        return 1 if self is Side.DEBIT else -1

    @property
    def opposite(self) -> Side:
        return Side.CREDIT if self is Side.DEBIT else Side.DEBIT


_DEBIT, _CREDIT = Side.DEBIT, Side.CREDIT


def _side(value: object) -> Side:
    if isinstance(value, Side):
        return value
    try:
        return Side(value)
    except ValueError:
        raise InvalidArgument(f"side {value!r} must be 'debit' or 'credit'") from None


def check_account_name(name: object) -> str:
    """Return ``name`` if it is a valid hierarchical account name, else raise.

    A name is one or more segments joined by ``:``; a segment is non-empty and
    does not start with white space. A name holds no character
    :func:`~giftledger.check_text` refuses (control characters, line and
    paragraph separators, bidirectional overrides and isolates). Anything else
    is allowed: quotes, semicolons, unicode, joiners, SQL keywords.
    """
    if not isinstance(name, str):
        raise InvalidArgument(f"account name {name!r} must be a string")
    check_text(name, "account name")
    if (
        not name
        or len(name) > 512
        or name != name.strip()
        or not _NAME.fullmatch(name)
        or not is_encodable(name)
    ):
        raise InvalidArgument(
            f"account name {name!r} must be 1 to 512 characters of ':'-separated, non-empty "
            f"segments with no leading or trailing space and no control characters"
        )
    return name


def is_encodable(text: str) -> bool:
    """Whether ``text`` can be hashed and stored by every store: it must encode to
    UTF-8 (lone surrogates do not) and hold no NUL character (PostgreSQL text and
    JSON cannot store one), so each store accepts exactly what the others do."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


#: Metadata integers are signed 64-bit: from -2^63 to 2^63 - 1.
_META_INT = 2**63


def freeze_metadata(metadata: Mapping[str, MetaValue] | None) -> Metadata:
    """Check metadata and return it as a sorted tuple of pairs (hashable, canonical).

    Keys are strings; values are ``str``, ``int`` (signed 64-bit), ``bool`` or
    ``None``. Floats are refused like everywhere else.
    """
    if not metadata:
        return ()
    if not isinstance(metadata, Mapping):
        raise InvalidArgument(f"metadata {metadata!r} must be a mapping of str to str/int/bool")
    items = []
    for k, v in metadata.items():
        if not isinstance(k, str) or not is_encodable(k):
            raise InvalidArgument(
                f"metadata key {k!r} must be a string of valid unicode with no NUL character"
            )
        if isinstance(v, str) and not is_encodable(v):
            raise InvalidArgument(
                f"metadata value {v!r} for {k!r} is not storable text "
                f"(a lone surrogate or a NUL character)"
            )
        if type(v) is int and not -_META_INT <= v < _META_INT:
            raise InvalidArgument(
                f"metadata value {shown(v)} for {k!r} is out of range: metadata integers are "
                f"signed 64-bit (what every store and JSON reader keeps exactly); write a "
                f"larger number as a decimal string"
            )
        if not (v is None or isinstance(v, str | int)):  # bool is an int
            raise InvalidArgument(
                f"metadata value {v!r} for {k!r} must be str, int, bool or None "
                f"(write amounts and rates as decimal strings)"
            )
        items.append((k, v))
    items.sort(key=lambda kv: kv[0])
    return tuple(items)


@attrs.frozen(slots=True)
class BalanceRule:
    """How low an account's available balance may go, on its normal side.

    Attributes:
        min_balance: the lowest allowed balance in minor units (0 for "must not
            go negative", ``-limit`` for an overdraft), or None for no limit.

    Build one with :meth:`non_negative`, :meth:`overdraft` or :meth:`unrestricted`.
    """

    min_balance: int | None

    def __attrs_post_init__(self) -> None:
        floor = self.min_balance
        if floor is not None and (type(floor) is not int or not -MAX_MINOR <= floor <= MAX_MINOR):
            raise InvalidArgument(
                f"balance rule minimum {shown(floor)} must be None (no limit) or an int of minor "
                f"units within ±{MAX_MINOR}; use non_negative(), overdraft() or unrestricted()"
            )

    @classmethod
    def non_negative(cls) -> BalanceRule:
        """The balance must not go below zero (the default for new accounts)."""
        return cls(0)

    @classmethod
    def unrestricted(cls) -> BalanceRule:
        """No lower limit: for supply, trading, equity and outside-world accounts."""
        return cls(None)

    @classmethod
    def overdraft(cls, limit_minor: int) -> BalanceRule:
        """The balance may go as low as ``-limit_minor`` minor units.

        A rule knows no unit, so the limit is in minor units (5000 is 50.00 USD
        but 5000 JPY); ``Ledger.open_account(..., overdraft="50.00")`` takes it
        in major units of the account's unit.
        """
        if isinstance(limit_minor, bool) or not isinstance(limit_minor, int) or limit_minor < 0:
            raise InvalidArgument(f"overdraft limit {limit_minor!r} must be an int >= 0")
        return cls(-limit_minor)


@attrs.frozen(slots=True)
class Account:
    """An account in the ledger.

    Attributes:
        name: hierarchical name, segments joined by ``:`` (``creators:bob:diamonds``).
        unit: the code of the one unit it holds.
        normal: its normal side: ``DEBIT`` for assets and expenses, ``CREDIT``
            for liabilities, revenue and equity. Balances are reported on it.
        rule: the balance rule checked on every posting and hold.
        closed: a closed account takes no new postings or holds.
        trading: a trading (conversion) account, through which one unit is
            exchanged for another; it is never bound by a balance rule.
        metadata: sorted ``(key, value)`` pairs.
    """

    name: str
    unit: str
    normal: Side = Side.DEBIT
    rule: BalanceRule = BalanceRule(0)
    closed: bool = False
    trading: bool = False
    metadata: Metadata = ()

    @property
    def meta(self) -> dict[str, MetaValue]:
        """The metadata as a new dict."""
        return dict(self.metadata)

    def __repr__(self) -> str:
        """Short: ``<Account 'creators:bob:cash' EUR credit>``, with ``closed`` and
        ``trading`` when they hold (the fields are all still there: ``attrs.asdict``)."""
        flags = "".join(f" {f}" for f in ("closed", "trading") if getattr(self, f))
        return f"<Account {self.name!r} {self.unit} {self.normal.value}{flags}>"


@_fast_init
@attrs.frozen(slots=True)
class Posting:
    """One line of a transaction: an amount debited or credited to one account.

    Attributes:
        account: the account's name.
        side: ``DEBIT`` or ``CREDIT``.
        minor: the amount in minor units, always > 0.
        unit: the unit code, always the account's unit.
    """

    account: str
    side: Side
    minor: int
    unit: str

    @property
    def amount(self) -> Money:
        """The amount as ``Money``."""
        return from_minor(self.minor, self.unit)

    @property
    def signed(self) -> int:
        """The posting's effect on the account's ``debits - credits``, in minor units."""
        return self.minor if self.side is Side.DEBIT else -self.minor


@_fast_init
@attrs.frozen(slots=True)
class PostingSpec:
    """A posting as a caller asks for it, before the ledger resolves its unit.

    Build it with :func:`debit` or :func:`credit`.

    Attributes:
        account: the account's name.
        side: ``DEBIT`` or ``CREDIT``.
        amount: as the caller gave it: ``Money``, or an int, ``Decimal`` or
            decimal string in major units of the account's unit.
    """

    account: str
    side: Side
    amount: AmountLike


def debit(account: str, amount: AmountLike) -> PostingSpec:
    """Ask for ``amount`` to be debited to ``account``.

    ``amount`` is ``Money`` or a bare number in MAJOR units of the account's
    unit, as everywhere in giftledger: ``1`` on a USD account is one dollar
    (on JPY one yen, on KWD 1.000 dinar), ``"19.99"`` is 1999 cents. An amount
    the unit cannot hold (``"0.001"`` USD) or a float is refused when posted.

    Example:
        >>> debit("assets:bank", "19.99")
        PostingSpec(account='assets:bank', side=<Side.DEBIT: 'debit'>, amount='19.99')
    """
    return PostingSpec(account, _DEBIT, amount)


def credit(account: str, amount: AmountLike) -> PostingSpec:
    """Ask for ``amount`` to be credited to ``account``. See :func:`debit`."""
    return PostingSpec(account, _CREDIT, amount)


def _rate_value(value: object) -> Fraction:
    return to_fraction(value, "rate value")


#: The most bits a stored rate's numerator or denominator may have: 1,000 digits.
_RATE_BITS = (10**1000).bit_length()


def _log10(n: int) -> int:
    """About how many decimal digits ``n`` has, without writing it out."""
    return n.bit_length() * 30103 // 100000


@attrs.frozen(slots=True)
class Rate:
    """An exchange rate stored on a conversion: ``1 base = value quote``.

    Attributes:
        base: the unit sold (a unit code: 2 to 16 upper-case ASCII letters, digits
            or ``_``).
        quote: the unit bought.
        value: how many major units of ``quote`` one major unit of ``base`` buys,
            as an exact fraction (``1/210`` for Bigo's 210 beans per dollar); any
            exact ratio is accepted (int, Decimal, ``"0.9"``, ``"1/210"``, Fraction)
            and kept as a Fraction; a float is refused here, and codes that are not
            unit codes or a value <= 0 when the rate is posted (:meth:`check`).

    Example:
        >>> Rate("USD", "EUR", "0.9")
        Rate(base='USD', quote='EUR', value=Fraction(9, 10))
    """

    base: str
    quote: str
    value: Fraction = attrs.field(converter=_rate_value)

    def check(self) -> None:
        """Raise InvalidArgument unless both codes are unit codes and the value is > 0.

        The ledger calls it before it stores a rate, so a rate's text in the hash
        chain reads one way only. Reading a stored rate back does not check it:
        an entry written before this check existed must still read and verify.
        """
        for what, code in (("base", self.base), ("quote", self.quote)):
            if type(code) is not str or not _UNIT_CODE.fullmatch(code):
                raise InvalidArgument(
                    f"rate {what} {code!r} must be a unit code: 2 to 16 upper-case ASCII "
                    f"letters, digits or '_'"
                )
        if self.value <= 0:
            raise InvalidArgument(
                f"rate value {self.value} for {self.base}/{self.quote} must be greater than zero"
            )
        num, den = self.value.numerator, self.value.denominator
        if max(num.bit_length(), den.bit_length()) > _RATE_BITS:
            # Its text is in the hash chain and the stores; Python will not even write
            # an int of more than 4,300 digits, and no exchange rate needs a thousand.
            raise InvalidArgument(
                f"rate value for {self.base}/{self.quote} (about 10^{_log10(num) - _log10(den)}) "
                f"has a numerator or denominator of more than 1,000 digits; round it first"
            )

    def __str__(self) -> str:
        return f"{self.base}/{self.quote}={self.value}"


class EntryKind(enum.Enum):
    """What a journal entry does.

    - ``POST``: posted postings (including conversions).
    - ``HOLD``: a pending transfer that reserves funds; posted balances do not move.
    - ``POST_HOLD``: settles a hold, fully or partly; the rest is released.
    - ``VOID_HOLD``: releases a hold; nothing moves.
    - ``EXPIRE_HOLD``: records that a hold ran past its expiry; nothing moves.
    - ``REVERSAL``: mirrors a posted transaction's postings.
    - ``NOTE``: moves nothing (no postings): a memo and metadata recorded in the
      hash chain, under a key and an effective time like any entry
      (:meth:`Ledger.note <giftledger.Ledger.note>`).
    - ``ACCOUNT``: an account's definition as it is opened or closed: its memo is
      the definition's canonical text (name, unit, normal side, rule, trading,
      closed) and its metadata the account's metadata; nothing moves.
    - ``KEY``: an idempotency record that no other entry carries (a failure
      remembered under a key, or an alias of the chain); nothing moves.
    - ``DEFINITIONS``: written once, by the first write of a release that journals
      definitions to a book written before it; the same write journals every
      account and record the book held (``ACCOUNT`` and ``KEY`` entries after it).
    """

    POST = "post"
    HOLD = "hold"
    POST_HOLD = "post_hold"
    VOID_HOLD = "void_hold"
    EXPIRE_HOLD = "expire_hold"
    REVERSAL = "reversal"
    NOTE = "note"
    ACCOUNT = "account"
    KEY = "key"
    DEFINITIONS = "definitions"


@_fast_init
@attrs.frozen(slots=True)
class Transaction:
    """One immutable journal entry.

    Attributes:
        id: its position in the journal, from 1; ids have no gaps.
        kind: what the entry does (:class:`EntryKind`).
        postings: its postings, balanced per unit. For a ``HOLD`` they are the
            pending transfer; for ``VOID_HOLD``, ``EXPIRE_HOLD`` and ``NOTE`` there
            are none.
        effective_at: when the money moved, for the books (may be back-dated).
        recorded_at: when the ledger recorded it: the ledger's clock, read once the
            write holds its locks, and never earlier than the entry before (a clock
            that stepped back is clamped to the previous entry's ``recorded_at``).
        key: the caller's idempotency key, if any.
        memo: free text.
        metadata: sorted ``(key, value)`` pairs.
        reverses: for a ``REVERSAL``, the id it reverses.
        hold_id: for ``POST_HOLD``/``VOID_HOLD``/``EXPIRE_HOLD``, the hold's id.
        expires_at: for a ``HOLD``, when it expires (None: never).
        rates: the exchange rates of a conversion.
        prev_hash: the hash of the entry before (64 zeros for the first).
        hash: SHA-256 over this entry's canonical content and ``prev_hash``,
            by the formula ``hash_version`` names.
        reversed_by: the id of the reversal of this entry, if any. It is a link
            kept beside the entry, not part of its hashed content.
        hash_version: the chain formula ``hash`` was computed with: 1 (entries
            written by earlier releases: SHA-256 of ``prev_hash`` and the
            canonical text, id included), 2 (SHA-256 of ``prev_hash``, the id
            and the SHA-256 of the content without its id) or 3 (as 2, with the
            fingerprint and result of a keyed entry's idempotency record hashed
            with its content). New entries use 3.
    """

    id: int
    kind: EntryKind
    postings: tuple[Posting, ...]
    effective_at: datetime
    recorded_at: datetime
    key: str | None = None
    memo: str = ""
    metadata: Metadata = ()
    reverses: int | None = None
    hold_id: int | None = None
    expires_at: datetime | None = None
    rates: tuple[Rate, ...] = ()
    prev_hash: str = ""
    hash: str = ""
    reversed_by: int | None = attrs.field(default=None, eq=False)
    hash_version: int = attrs.field(default=3, kw_only=True)

    @property
    def meta(self) -> dict[str, MetaValue]:
        """The metadata as a new dict."""
        return dict(self.metadata)

    def amounts(self, account: str) -> Money | None:
        """The net effect of this entry on ``account`` as ``debits - credits``, or None."""
        net = None
        for p in self.postings:
            if p.account == account:
                net = (net or 0) + p.signed
                unit = p.unit
        return None if net is None else from_minor(net, unit)

    def __repr__(self) -> str:
        """Short, without hashes or metadata:
        ``<Transaction #12 post 2026-01-05T10:00:00Z key='g-1' 3 postings memo='…'>``.

        The time is ``effective_at`` in UTC; a memo longer than 40 characters is cut.
        """
        at = _utc_text(self.effective_at)
        parts = [f"<Transaction #{self.id} {self.kind.value} {at}"]
        if self.key is not None:
            parts.append(f"key={self.key!r}")
        if self.reverses is not None:
            parts.append(f"reverses=#{self.reverses}")
        if self.hold_id is not None:
            parts.append(f"hold=#{self.hold_id}")
        n = len(self.postings)
        parts.append(f"{n} posting{'' if n == 1 else 's'}")
        if self.memo:
            memo = self.memo if len(self.memo) <= 40 else self.memo[:39] + "…"
            parts.append(f"memo={memo!r}")
        if self.reversed_by is not None:
            parts.append(f"reversed by #{self.reversed_by}")
        return " ".join(parts) + ">"


class HoldStatus(enum.Enum):
    """Where a hold stands."""

    PENDING = "pending"
    POSTED = "posted"
    VOIDED = "voided"
    EXPIRED = "expired"


@attrs.frozen(slots=True)
class Hold:
    """A two-phase transfer: reserved now, posted, voided or expired later.

    Attributes:
        id: the id of the ``HOLD`` entry that placed it.
        debit: the account to be debited.
        credit: the account to be credited.
        minor: the amount reserved, in minor units.
        unit: its unit.
        expires_at: when it lapses (None: never).
        status: pending, posted, voided or expired. A pending hold whose expiry
            has passed reports ``EXPIRED`` even before ``expire_holds()`` records it.
        posted_minor: for a posted hold, how much was posted.
        resolved_by: the id of the entry that posted, voided or expired it.
    """

    id: int
    debit: str
    credit: str
    minor: int
    unit: str
    expires_at: datetime | None
    status: HoldStatus = HoldStatus.PENDING
    posted_minor: int = 0
    resolved_by: int | None = None

    @property
    def amount(self) -> Money:
        return from_minor(self.minor, self.unit)

    def __repr__(self) -> str:
        """Short: ``<Hold #7 pending 100.00 EUR 'creators:bob:cash' -> 'payouts'>``."""
        amount = self.amount
        text = f"<Hold #{self.id} {self.status.value} {amount.amount} {amount.currency.code}"
        text += f" {self.debit!r} -> {self.credit!r}"
        if self.status is HoldStatus.POSTED:
            posted = from_minor(self.posted_minor, self.unit).amount
            text += f" posted {posted}"
        if self.resolved_by is not None:
            text += f" by #{self.resolved_by}"
        if self.expires_at is not None and self.status is HoldStatus.PENDING:
            text += f" expires {_utc_text(self.expires_at)}"
        return text + ">"


def _utc_text(at: datetime) -> str:
    """``2026-01-05T10:00:00Z``: an aware time in UTC, to the second (or finer when it has it)."""
    text = at.astimezone(UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


@attrs.frozen(slots=True)
class AccountBalance:
    """An account's balances, on its normal side.

    Attributes:
        account: the account's name.
        posted: the posted balance.
        pending_debits: debits reserved by pending holds.
        pending_credits: credits promised by pending holds.
        available: posted minus pending amounts that would lower it; what the
            balance rule checks.
    """

    account: str
    posted: Money
    pending_debits: Money
    pending_credits: Money
    available: Money


@attrs.frozen(slots=True)
class HistoryEntry:
    """One posting in an account's history, with the posted balance after it."""

    transaction: Transaction
    posting: Posting
    balance_after: Money


@attrs.frozen(slots=True)
class Page:
    """A page of history. Pass ``next_cursor`` as ``after`` to get the next one."""

    items: tuple[HistoryEntry, ...]
    next_cursor: int | None


def _by_unit(totals: Mapping[str, int]) -> Mapping[str, int]:
    """Totals in unit order: the same on every store, whatever order it keeps them in."""
    return dict(sorted(totals.items()))


@attrs.frozen(slots=True)
class TrialBalance:
    """Posted debit and credit totals per unit, in minor units.

    A ledger is in balance when every unit's debits equal its credits. Both mappings
    are in unit order, as :attr:`units` is.

    Example:
        >>> tb = TrialBalance({"USD": 5, "EUR": 2}, {"EUR": 2, "USD": 5})
        >>> list(tb.debits), tb.units, tb.is_balanced
        (['EUR', 'USD'], ('EUR', 'USD'), True)
    """

    debits: Mapping[str, int] = attrs.field(converter=_by_unit)
    credits: Mapping[str, int] = attrs.field(converter=_by_unit)

    @property
    def is_balanced(self) -> bool:
        return all(self.debits.get(u, 0) == self.credits.get(u, 0) for u in self.units)

    @property
    def units(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.debits) | set(self.credits)))

    def difference(self, unit: str) -> int:
        """Debits minus credits for ``unit``, in minor units (0 when balanced)."""
        return self.debits.get(unit, 0) - self.credits.get(unit, 0)


Normal = Literal["debit", "credit"]
