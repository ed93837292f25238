"""The ledger's records as JSON values and back: the lines of a JSON Lines export.

Encoding is plain and lossless: amounts are integers of minor units, times ISO
8601 in UTC with microseconds, rates exact fractions as ``"num/den"`` text.
Decoding checks every field's type and refuses any field it does not know, so
an export from a newer format version is refused rather than half read. A
field :class:`~giftledger.Transaction` gains later (such as a hash formula
version) is written and read by its attrs name when its value is JSON-native.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

import attrs

from .._errors import RestoreRefused
from .._ledger.model import (
    Account,
    BalanceRule,
    EntryKind,
    Hold,
    HoldStatus,
    Posting,
    Rate,
    Side,
    Transaction,
    freeze_metadata,
)
from .._ledger.store import IdempotencyRecord
from .._money.units import Unit, UnitKind

__all__ = [
    "account_from_json",
    "account_json",
    "entry_from_json",
    "entry_json",
    "hold_from_json",
    "hold_json",
    "idempotency_from_json",
    "idempotency_json",
    "time_text",
    "unit_json",
]

_HASH = re.compile(r"[0-9a-f]{64}")
_FRACTION = re.compile(r"[1-9][0-9]*/[1-9][0-9]*")
#: Transaction fields written by name with special encodings; any other attrs
#: field of Transaction is written as its JSON-native value.
_ENTRY_FIELDS = (
    "id",
    "kind",
    "effective_at",
    "recorded_at",
    "key",
    "memo",
    "metadata",
    "reverses",
    "hold_id",
    "expires_at",
    "rates",
    "postings",
    "prev_hash",
    "hash",
    "reversed_by",
)


def time_text(when: datetime) -> str:
    """An aware datetime as ISO 8601 in UTC, always with microseconds."""
    return when.astimezone(UTC).isoformat(timespec="microseconds")


def unit_json(unit: Unit) -> dict[str, Any]:
    return {
        "type": "unit",
        "code": unit.code,
        "exponent": unit.exponent,
        "kind": unit.kind.value,
        "singular": unit.singular,
        "plural": unit.plural,
    }


def account_json(account: Account) -> dict[str, Any]:
    return {
        "type": "account",
        "name": account.name,
        "unit": account.unit,
        "normal": account.normal.value,
        "min_balance": account.rule.min_balance,
        "closed": account.closed,
        "trading": account.trading,
        "metadata": dict(account.metadata),
    }


def entry_json(tx: Transaction) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "entry",
        "id": tx.id,
        "kind": tx.kind.value,
        "effective_at": time_text(tx.effective_at),
        "recorded_at": time_text(tx.recorded_at),
        "key": tx.key,
        "memo": tx.memo,
        "metadata": dict(tx.metadata),
        "reverses": tx.reverses,
        "hold_id": tx.hold_id,
        "expires_at": None if tx.expires_at is None else time_text(tx.expires_at),
        "rates": [
            [r.base, r.quote, f"{r.value.numerator}/{r.value.denominator}"] for r in tx.rates
        ],
        "postings": [[p.account, p.side.value, p.minor, p.unit] for p in tx.postings],
    }
    for f in attrs.fields(Transaction):
        if f.name not in _ENTRY_FIELDS:
            value = getattr(tx, f.name)
            if not (value is None or isinstance(value, str | int)):
                raise TypeError(f"Transaction.{f.name} ({value!r}) has no JSON form")
            out[f.name] = value
    out["prev_hash"] = tx.prev_hash
    out["hash"] = tx.hash
    out["reversed_by"] = tx.reversed_by
    return out


def hold_json(hold: Hold) -> dict[str, Any]:
    return {
        "type": "hold",
        "id": hold.id,
        "debit": hold.debit,
        "credit": hold.credit,
        "minor": hold.minor,
        "unit": hold.unit,
        "expires_at": None if hold.expires_at is None else time_text(hold.expires_at),
        "status": hold.status.value,
        "posted_minor": hold.posted_minor,
        "resolved_by": hold.resolved_by,
    }


def idempotency_json(record: IdempotencyRecord) -> dict[str, Any]:
    return {
        "type": "idempotency",
        "key": record.key,
        "fingerprint": record.fingerprint,
        "transaction_id": record.transaction_id,
        "result": record.result,
        "error_type": record.error_type,
        "error_message": record.error_message,
    }


# -- decoding ------------------------------------------------------------------------------


class _Fields:
    """Reads the fields of one JSON object, naming the line and field in every error."""

    def __init__(self, obj: dict[str, Any], line: int, what: str, names: tuple[str, ...]) -> None:
        unknown = sorted(set(obj) - set(names) - {"type"})
        if unknown:
            raise RestoreRefused(f"line {line}: {what} has unknown fields {unknown}", line)
        missing = sorted(set(names) - set(obj))
        if missing:
            raise RestoreRefused(f"line {line}: {what} lacks fields {missing}", line)
        self.obj, self.line, self.what = obj, line, what

    def fail(self, name: str, rule: str) -> RestoreRefused:
        return RestoreRefused(
            f"line {self.line}: {self.what} field {name!r} = {self.obj.get(name)!r} {rule}",
            self.line,
        )

    def integer(self, name: str, optional: bool = False) -> Any:
        v = self.obj[name]
        if (v is None and optional) or (type(v) is int):
            return v
        raise self.fail(name, "must be an integer" + (" or null" if optional else ""))

    def text(self, name: str, optional: bool = False) -> Any:
        v = self.obj[name]
        if (v is None and optional) or type(v) is str:
            return v
        raise self.fail(name, "must be a string" + (" or null" if optional else ""))

    def flag(self, name: str) -> bool:
        v = self.obj[name]
        if type(v) is bool:
            return v
        raise self.fail(name, "must be true or false")

    def time(self, name: str, optional: bool = False) -> Any:
        v = self.obj[name]
        if v is None and optional:
            return None
        try:
            when = datetime.fromisoformat(v) if type(v) is str else None
        except ValueError:
            when = None
        if when is None or when.tzinfo is None:
            raise self.fail(name, "must be an ISO 8601 time with a UTC offset")
        return when.astimezone(UTC)

    def metadata(self, name: str) -> Any:
        v = self.obj[name]
        if type(v) is not dict:
            raise self.fail(name, "must be an object")
        try:
            return freeze_metadata(v)
        except Exception as exc:
            raise self.fail(name, f"is not metadata: {exc}") from None

    def enum(self, name: str, cls: type[Any]) -> Any:
        try:
            return cls(self.obj[name])
        except ValueError:
            choices = ", ".join(repr(m.value) for m in cls)
            raise self.fail(name, f"must be one of {choices}") from None

    def hash(self, name: str) -> str:
        v = self.obj[name]
        if type(v) is str and _HASH.fullmatch(v):
            return v
        raise self.fail(name, "must be 64 lower-case hex digits")


def unit_from_json(obj: dict[str, Any], line: int) -> Unit:
    f = _Fields(obj, line, "unit", ("code", "exponent", "kind", "singular", "plural"))
    return Unit(
        f.text("code"),
        f.integer("exponent"),
        f.enum("kind", UnitKind),
        f.text("singular"),
        f.text("plural"),
    )


def account_from_json(obj: dict[str, Any], line: int) -> Account:
    names = ("name", "unit", "normal", "min_balance", "closed", "trading", "metadata")
    f = _Fields(obj, line, "account", names)
    try:
        rule = BalanceRule(f.integer("min_balance", optional=True))
    except Exception as exc:
        raise f.fail("min_balance", str(exc)) from None
    return Account(
        f.text("name"),
        f.text("unit"),
        f.enum("normal", Side),
        rule,
        f.flag("closed"),
        f.flag("trading"),
        f.metadata("metadata"),
    )


def entry_from_json(obj: dict[str, Any], line: int) -> Transaction:
    extra = tuple(f.name for f in attrs.fields(Transaction) if f.name not in _ENTRY_FIELDS)
    f = _Fields(obj, line, "entry", _ENTRY_FIELDS + extra)
    rates = obj["rates"]
    if type(rates) is not list:
        raise f.fail("rates", "must be a list")
    parsed_rates = []
    for r in rates:
        if not (
            type(r) is list
            and len(r) == 3
            and all(type(x) is str for x in r)
            and _FRACTION.fullmatch(r[2])
        ):
            raise f.fail("rates", "must hold [base, quote, 'num/den'] triples")
        parsed_rates.append(Rate(r[0], r[1], Fraction(r[2])))
    postings = obj["postings"]
    if type(postings) is not list:
        raise f.fail("postings", "must be a list")
    parsed = []
    for p in postings:
        if not (
            type(p) is list
            and len(p) == 4
            and type(p[0]) is str
            and p[1] in ("debit", "credit")
            and type(p[2]) is int
            and type(p[3]) is str
        ):
            raise f.fail("postings", "must hold [account, 'debit'|'credit', minor, unit] lists")
        parsed.append(Posting(p[0], Side(p[1]), p[2], p[3]))
    extras = {}
    for name in extra:
        v = obj[name]
        if not (v is None or type(v) in (str, int)):
            raise f.fail(name, "must be a string, an integer or null")
        extras[name] = v
    return Transaction(
        id=f.integer("id"),
        kind=f.enum("kind", EntryKind),
        postings=tuple(parsed),
        effective_at=f.time("effective_at"),
        recorded_at=f.time("recorded_at"),
        key=f.text("key", optional=True),
        memo=f.text("memo"),
        metadata=f.metadata("metadata"),
        reverses=f.integer("reverses", optional=True),
        hold_id=f.integer("hold_id", optional=True),
        expires_at=f.time("expires_at", optional=True),
        rates=tuple(parsed_rates),
        prev_hash=f.hash("prev_hash"),
        hash=f.hash("hash"),
        reversed_by=f.integer("reversed_by", optional=True),
        **extras,
    )


def hold_from_json(obj: dict[str, Any], line: int) -> Hold:
    names = (
        "id",
        "debit",
        "credit",
        "minor",
        "unit",
        "expires_at",
        "status",
        "posted_minor",
        "resolved_by",
    )
    f = _Fields(obj, line, "hold", names)
    return Hold(
        f.integer("id"),
        f.text("debit"),
        f.text("credit"),
        f.integer("minor"),
        f.text("unit"),
        f.time("expires_at", optional=True),
        f.enum("status", HoldStatus),
        f.integer("posted_minor"),
        f.integer("resolved_by", optional=True),
    )


def idempotency_from_json(obj: dict[str, Any], line: int) -> IdempotencyRecord:
    names = ("key", "fingerprint", "transaction_id", "result", "error_type", "error_message")
    f = _Fields(obj, line, "idempotency record", names)
    return IdempotencyRecord(
        f.text("key"),
        f.text("fingerprint"),
        f.integer("transaction_id", optional=True),
        f.text("result", optional=True),
        f.text("error_type", optional=True),
        f.text("error_message", optional=True),
    )
