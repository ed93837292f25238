"""Reports as JSON: amounts as decimal strings with their unit, never floats.

Every report document carries ``"schema_version"`` (:data:`SCHEMA_VERSION`) and
``"kind"``; its JSON Schema ships in ``giftledger/_reports/schemas`` and is
returned by :func:`report_schema`. An amount is ``{"amount": "12.34",
"currency": "USD"}`` with exactly the unit's fraction digits; a rate is an exact
fraction as text (``"127/100"``); a moment is ISO 8601 with its offset. A
document names the virtual units it uses (code, fraction digits, display names),
so a reader in another process can rebuild the amounts.
"""

from __future__ import annotations

import functools
import json
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from moneyed import Money

from .._errors import InvalidArgument
from .._money.amounts import from_minor, to_minor
from .._money.units import UnitKind, get_unit, register_unit

__all__ = [
    "SCHEMA_VERSION",
    "check_document",
    "fraction_from_json",
    "fraction_to_json",
    "moment_from_json",
    "money_from_json",
    "money_to_json",
    "parse_document",
    "report_schema",
    "units_from_json",
    "units_to_json",
]

SCHEMA_VERSION = 1
"""The version of the report JSON format; a change that is not backwards
compatible raises it, and readers refuse a version they do not know."""

_SCHEMAS = Path(__file__).resolve().parent / "schemas"


@functools.cache
def _schema_text(kind: str) -> str:
    path = _SCHEMAS / f"{kind}.schema.json"
    if kind not in ("statement", "explanation") or not path.is_file():
        raise InvalidArgument(f"no report schema {kind!r}; use 'statement' or 'explanation'")
    return path.read_text(encoding="utf-8")


def report_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a ``"statement"`` or an ``"explanation"``.

    Example:
        >>> report_schema("statement")["properties"]["schema_version"]["const"]
        1
    """
    schema: dict[str, Any] = json.loads(_schema_text(kind))
    return schema


def parse_document(text: str, kind: str) -> Any:
    """The JSON value of ``text``, a ``kind`` document (``"statement"``, ``"explanation"``).

    Raises:
        InvalidArgument: ``text`` is not JSON.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidArgument(f"{kind} JSON does not parse: {exc}") from None


def money_to_json(amount: Money) -> dict[str, str]:
    """``{"amount": "5.00", "currency": "USD"}``: exactly the unit's fraction digits.

    Example:
        >>> money_to_json(Money("5", "USD"))
        {'amount': '5.00', 'currency': 'USD'}
    """
    unit = get_unit(amount.currency.code)
    value = from_minor(to_minor(amount, unit), unit).amount
    return {"amount": f"{value:f}", "currency": unit.code}


def money_from_json(value: Any, where: str) -> Money:
    """The Money written by :func:`money_to_json`; exact, or InvalidArgument naming ``where``."""
    if not isinstance(value, dict) or set(value) != {"amount", "currency"}:
        raise InvalidArgument(f"{where}: {value!r} is not {{'amount': ..., 'currency': ...}}")
    amount, code = value["amount"], value["currency"]
    if not isinstance(amount, str) or not isinstance(code, str):
        raise InvalidArgument(f"{where}: amount and currency must be strings, got {value!r}")
    try:
        unit = get_unit(code)
        return from_minor(to_minor(Decimal(amount), unit), unit)
    except Exception as exc:  # every failure here is bad input, named with its place
        raise InvalidArgument(f"{where}: {value!r} is not an exact amount ({exc})") from None


def fraction_to_json(value: Fraction) -> str:
    """An exact rate as text: ``"127/100"``, ``"2"``."""
    return str(value)


def fraction_from_json(value: Any, where: str) -> Fraction:
    if not isinstance(value, str):
        raise InvalidArgument(f"{where}: {value!r} must be a fraction written as text")
    try:
        return Fraction(value)
    except (ValueError, ZeroDivisionError):
        raise InvalidArgument(f"{where}: {value!r} is not an exact fraction") from None


def moment_from_json(value: Any, where: str) -> datetime:
    if not isinstance(value, str):
        raise InvalidArgument(f"{where}: {value!r} must be an ISO 8601 time")
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidArgument(f"{where}: {value!r} is not an ISO 8601 time") from None
    if at.utcoffset() is None:
        raise InvalidArgument(f"{where}: {value!r} has no UTC offset")
    return at


def units_to_json(names: tuple[tuple[str, str, str], ...]) -> list[dict[str, Any]]:
    """The virtual units a document uses: code, fraction digits, display names."""
    return [
        {"code": code, "exponent": get_unit(code).exponent, "singular": s, "plural": p}
        for code, s, p in names
    ]


def units_from_json(value: Any, where: str) -> tuple[tuple[str, str, str], ...]:
    """Register (idempotently) the units a document names; return their names."""
    if not isinstance(value, list):
        raise InvalidArgument(f"{where}: {value!r} must be a list of units")
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, dict) or set(item) != {"code", "exponent", "singular", "plural"}:
            raise InvalidArgument(f"{where}[{i}]: {item!r} is not a unit")
        code = item["code"]
        known = None
        try:
            known = get_unit(code)
        except Exception:
            known = None
        if known is None or known.kind is UnitKind.VIRTUAL:
            register_unit(code, item["exponent"], singular=item["singular"], plural=item["plural"])
        out.append((code, str(item["singular"]), str(item["plural"])))
    return tuple(out)


def check_document(data: Any, kind: str) -> dict[str, Any]:
    """``data`` if it is a report document of ``kind`` in a version this library reads.

    Raises:
        InvalidArgument: not an object of that kind.
        InvalidArgument: another ``schema_version`` (named).
    """
    if not isinstance(data, dict) or data.get("kind") != kind:
        raise InvalidArgument(f"not a {kind} document: kind is {_kind(data)!r}")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise InvalidArgument(
            f"{kind} document has schema_version {version!r}; this library reads {SCHEMA_VERSION}"
        )
    return data


def _kind(data: Any) -> Any:
    return data.get("kind") if isinstance(data, dict) else type(data).__name__
