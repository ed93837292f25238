"""Economies in TOML: load a file into an :class:`Economy`, and write one back.

The format (read with the standard library's :mod:`tomllib`)::

    format = 1
    name = "my-app"
    title = "My streaming app"
    as_of = 2025-01-31                      # optional: when the figures were checked
    books_currency = "USD"
    coin_unit = { code = "COIN", singular = "coin", plural = "coins" }
    creator_unit = "DIAMOND"                # a bare code works too
    assumptions = ["The web fee is a guess: ..."]

    [[versions]]
    effective_from = 2025-01-01T00:00:00Z   # an offset datetime, or a date (midnight UTC)
    min_buyer_age = 18
    payout_currencies = ["USD", "EUR"]
    tax_table = "digital-vat"               # optional: a shipped, sourced VAT/GST table
    sources = { min_buyer_age = { citation = "Terms §3", confidence = "official" } }

    [[versions.store_fees]]
    channel = "ios"
    rate = "30%"                            # or "3/10" or "0.3"; never a TOML float
    account = "apple"
    source = { citation = "Apple", as_of = 2024-01-01, confidence = "official" }

    [versions.ladders.app]                  # a compact price list ...
    channels = ["ios"]
    currency = "USD"
    packs = { 70 = "0.99", 350 = "4.99" }

    [[versions.coin_packs]]                 # ... or one pack at a time
    coins = 1400
    price = "19.99 USD"                     # money is always "<amount> <currency>"
    channel = "ios"

    [[versions.taxes]]                      # a region listed here replaces the
    region = "US"                           # tax table's rules for that region
    rate = "0%"
    inclusive = false                       # added on top of the price
    valid_from = 2024-01-01                 # optional: first day in force
    valid_to = 2025-01-01                   # optional: first day no longer in force

    [versions.gifts]                        # name = coins (or an array of tables)
    Rose = 1
    Galaxy = 1000

    [versions.creator_pay]
    model = "diamond_value"
    creator_units_per_coin = 1
    value_per_unit = "0.005 USD"            # sets value_currency too

    [versions.withdrawal]
    minimum = "100 USD"

A later ``[[versions]]`` lists only what changes: every field it leaves out
is the previous version's, sources included. Its taxes are ``taxes`` and
``tax_table`` together: a version that sets either states its taxes in full.

Every table may carry ``source = {citation, as_of, confidence, note}`` (for
everything in it) and ``sources = {<relative path> = {...}}`` (for one
figure). A top-level ``[sources]`` table takes full paths
(``"versions[0].withdrawal.minimum"``); :func:`economy_to_toml` writes that form.

A file may offer ``[variants.<axis>]`` with a ``default`` and
``[variants.<axis>.options.<name>]``: each option's ``all_versions`` table
replaces whole fields of the first version and of every version that sets
them (``ladders`` and ``sources`` merge by name instead), and its
``assumptions`` are added. ``load_economy(path, model="B")`` picks an option.

Every error is an :class:`~giftledger.InvalidEconomy` whose message starts
with the path of the offending value.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import tomllib
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal
from fractions import Fraction
from importlib import resources
from pathlib import Path, PurePath
from typing import Any, TypeVar

import attrs
from moneyed import Money

from .._boundary import boundary, shown
from .._errors import (
    FloatNotAllowed,
    GiftLedgerError,
    InvalidArgument,
    InvalidEconomy,
    UnknownRule,
)
from .._money.amounts import Rounding
from .._money.units import get_unit
from .fx import DatedRate, RateTable
from .rules import (
    AmountRange,
    CoinPack,
    Confidence,
    CreatorPay,
    Economy,
    FloatInEconomy,
    Gift,
    PayoutModel,
    RefundPolicy,
    RewardsProgram,
    RuleSet,
    Source,
    StoreFee,
    TaxRule,
    WithdrawalPolicy,
    _prefixed,
    fraction_text,
    normalize_path,
)
from .taxes import TaxTable

__all__ = [
    "economy_from_toml",
    "economy_to_toml",
    "load_economy",
    "rate_table_from_toml",
    "rate_table_to_toml",
    "shipped_tax_table",
    "shipped_tax_tables",
    "tax_table_from_toml",
    "tax_table_to_toml",
]

FORMAT = 1

_TOP = {
    "format",
    "name",
    "title",
    "description",
    "as_of",
    "books_currency",
    "coin_unit",
    "creator_unit",
    "assumptions",
    "versions",
    "sources",
    "variants",
    "variant",
}
_RULESET_FIELDS = [f.name for f in attrs.fields(RuleSet)]
_VERSION_KEYS = {*_RULESET_FIELDS, "ladders", "source", "sources", "tax_table"}
_TAX_KEYS = {"region", "rate", "inclusive", "rounding", "valid_from", "valid_to"}
_T = TypeVar("_T")
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


# --------------------------------------------------------------------------- reading


@boundary
def load_economy(path: str | Path, **variant: str) -> Economy:
    """Load an economy from a TOML file.

    Args:
        path: the file.
        **variant: options for the file's ``[variants]`` (``model="B"``).

    Returns:
        The validated :class:`~giftledger.Economy`; its virtual units are registered.

    Raises:
        InvalidEconomy: the file is not valid TOML, or a field is missing or wrong
            (the message names its path).
        UnknownRule: an unknown variant axis or option.

    Example:
        >>> import giftledger as gl
        >>> econ = gl.load_economy("my-app.toml", fee="small")  # doctest: +SKIP
        >>> econ.rules_at(now).store_fee("ios").rate  # doctest: +SKIP
        Fraction(3, 20)
    """
    if not isinstance(path, str | PurePath):
        raise InvalidEconomy(
            f"economy file {shown(path)} of type {type(path).__name__} is not a path; "
            f"pass a str or a pathlib.Path"
        )
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, ValueError) as exc:  # ValueError: a NUL or a lone surrogate in the path
        raise InvalidEconomy(f"cannot read economy file {str(file)!r}: {exc}") from None
    return economy_from_toml(text, **variant)


@boundary
def economy_from_toml(text_or_path: str | Path, **variant: str) -> Economy:
    """Load an economy from TOML text, or from a file given as a ``Path`` or a
    one-line string ending in ``.toml``. See the module docstring for the format.
    """
    if isinstance(text_or_path, Path) or (
        isinstance(text_or_path, str)
        and "\n" not in text_or_path
        and text_or_path.strip().endswith(".toml")
    ):
        return load_economy(text_or_path, **variant)
    if not isinstance(text_or_path, str):
        raise InvalidEconomy(f"expected TOML text or a Path, got {type(text_or_path).__name__}")
    raw = _read_toml(text_or_path, InvalidEconomy)
    return economy_from_dict(raw, **variant)


def _read_toml(text: str, error: type[GiftLedgerError]) -> dict[str, Any]:
    """Parse TOML text, every failure as ``error`` (never a bare ``ValueError`` or
    ``RecursionError``), naming the line of a number too long or a nesting too deep."""
    try:
        parsed = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"not valid TOML: {exc}") from None
    except ValueError:  # tomllib's int() refused an integer of more than 4,300 digits
        raise error(
            f"not valid TOML: {_long_number(text)}: an integer of more than "
            f"{_MAX_INT_DIGITS} digits; no figure of an economy needs one"
        ) from None
    except RecursionError:
        raise error(
            f"not valid TOML: arrays or inline tables nested more than {_MAX_DEPTH} deep "
            f"({_deep_line(text)}); Python cannot read them, and no economy needs them"
        ) from None
    _check_depth(parsed, error)
    return parsed


#: The most digits of a TOML integer (Python's own limit for turning text into an int).
_MAX_INT_DIGITS = 4300
#: How deep tables and arrays may nest (an economy needs about 6 levels).
_MAX_DEPTH = 32
_LONG_NUMBER = re.compile(rf"[+-]?[0-9](?:_?[0-9]){{{_MAX_INT_DIGITS},}}")


def _long_number(text: str) -> str:
    """Where the first integer of more than 4,300 digits is, for the message."""
    found = _LONG_NUMBER.search(text)
    if found is None:
        return "an integer too long to read"
    line = text.count("\n", 0, found.start()) + 1
    digits = found.group().lstrip("+-")
    return f"line {line}: {digits[:12]}… ({len(digits.replace('_', '')):,} digits)"


def _deep_line(text: str) -> str:
    """The line where ``[`` and ``{`` (outside strings and comments) first nest more
    than ``_MAX_DEPTH`` deep; a rough scan, only to name the place in a message."""
    depth, line, quote, i = 0, 1, "", 0
    while i < len(text):
        c = text[i]
        if c == "\n":
            line += 1
        elif quote:
            if c == "\\" and quote == '"':
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == "#":
            end = text.find("\n", i)
            i = len(text) if end < 0 else end - 1
        elif c in "[{":
            depth += 1
            if depth > _MAX_DEPTH:
                return f"at line {line}"
        elif c in "]}":
            depth = max(0, depth - 1)
        i += 1
    return "somewhere in the text"


def _check_depth(parsed: dict[str, Any], error: type[GiftLedgerError]) -> None:
    """Refuse tables and arrays nested more than ``_MAX_DEPTH`` deep (dotted keys and
    table headers nest without recursion in tomllib; copying and reading the result
    would not), naming the path of the first too deep."""
    stack: list[tuple[object, str, int]] = [(parsed, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > _MAX_DEPTH:
            raise error(
                f"{path[:80]}…: tables and arrays nest more than {_MAX_DEPTH} deep here; "
                f"no economy needs that"
            )
        if isinstance(value, dict):
            stack.extend((v, _join(path, str(k)), depth + 1) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, f"{path}[{i}]", depth + 1) for i, v in enumerate(value))


def economy_from_dict(parsed: Mapping[str, Any], **variant: str) -> Economy:
    """Build an economy from the parsed TOML structure (a ``tomllib`` result)."""
    raw: dict[str, Any] = copy.deepcopy(dict(parsed))
    _no_unknown(raw, _TOP, "")
    fmt = raw.get("format", FORMAT)
    if fmt != FORMAT:
        raise InvalidEconomy(f"format: {fmt!r} is not a format this library reads ({FORMAT})")
    chosen, extra_assumptions = _apply_variants(raw, variant)
    reader = _Reader()
    name = _req(raw, "name", "", str)
    coin_unit, coin_names = _unit(raw, "coin_unit")
    creator_unit, creator_names = _unit(raw, "creator_unit")
    unit_names = {}
    if coin_names:
        unit_names[coin_unit] = coin_names
    if creator_names:
        unit_names[creator_unit] = creator_names
    # Full-path sources first, so later versions that inherit a field inherit them too.
    for key, value in _opt(raw, "sources", "", dict, {}).items():
        reader.sources[normalize_path(key)] = _source(value, f"sources.{key}")
    raw_versions = _req(raw, "versions", "", list)
    versions: list[RuleSet] = []
    for i, table in enumerate(raw_versions):
        path = f"versions[{i}]"
        if not isinstance(table, dict):
            raise InvalidEconomy(f"{path}: must be a table")
        versions.append(reader.version(table, path, versions[-1] if versions else None, i))
    assumptions = [
        *_str_list(raw.get("assumptions", []), "assumptions"),
        *extra_assumptions,
    ]
    # A shared tax table's assumptions are the economy's too, once each.
    assumptions += [a for a in dict.fromkeys(reader.assumptions) if a not in assumptions]
    recorded = _opt(raw, "variant", "", dict, {})
    try:
        return Economy(
            name=name,
            title=_opt(raw, "title", "", str, ""),
            books_currency=_req(raw, "books_currency", "", str),
            coin_unit=coin_unit,
            creator_unit=creator_unit,
            versions=tuple(versions),
            sources=reader.sources,
            assumptions=tuple(assumptions),
            unit_names=unit_names,
            as_of=_date(raw["as_of"], "as_of") if "as_of" in raw else None,
            variant=chosen or {str(k): str(v) for k, v in recorded.items()},
        )
    except InvalidEconomy as exc:
        raise _prefixed("", exc) from None


def _apply_variants(
    raw: dict[str, Any], chosen_in: Mapping[str, str]
) -> tuple[dict[str, str], list[str]]:
    variants = _opt(raw, "variants", "", dict, {})
    for axis in chosen_in:
        if axis not in variants:
            raise UnknownRule(
                f"unknown variant {axis!r} for {raw.get('name', 'this economy')!r}; "
                f"variants: {', '.join(sorted(variants)) or 'none'}"
            )
    chosen: dict[str, str] = {}
    assumptions: list[str] = []
    versions = raw.get("versions")
    for axis, spec in variants.items():
        path = f"variants.{axis}"
        if not isinstance(spec, dict):
            raise InvalidEconomy(f"{path}: must be a table")
        _no_unknown(spec, {"default", "title", "description", "options"}, path)
        options = _req(spec, "options", path, dict)
        pick = chosen_in.get(axis, _req(spec, "default", path, str))
        if pick not in options:
            raise UnknownRule(
                f"unknown option {pick!r} for variant {axis!r}; options: {', '.join(options)}"
            )
        option = options[pick]
        opath = f"{path}.options.{pick}"
        if not isinstance(option, dict):
            raise InvalidEconomy(f"{opath}: must be a table")
        _no_unknown(option, {"title", "description", "all_versions", "assumptions"}, opath)
        chosen[axis] = pick
        assumptions.extend(_str_list(option.get("assumptions", []), f"{opath}.assumptions"))
        patch = _opt(option, "all_versions", opath, dict, {})
        if not isinstance(versions, list) or not versions:
            continue
        for field, value in patch.items():
            if field not in _VERSION_KEYS:
                raise InvalidEconomy(f"{opath}.all_versions.{field}: not a version field")
            for i, table in enumerate(versions):
                if not isinstance(table, dict) or (i > 0 and field not in table):
                    continue
                if field in ("ladders", "sources") and isinstance(table.get(field), dict):
                    table[field] = {**table[field], **copy.deepcopy(value)}
                else:
                    table[field] = copy.deepcopy(value)
    return chosen, assumptions


@attrs.define
class _Reader:
    sources: dict[str, Source] = attrs.field(factory=dict)
    assumptions: list[str] = attrs.field(factory=list)

    def note_sources(self, table: Mapping[str, Any], path: str) -> None:
        if "source" in table:
            self.sources[path] = _source(table["source"], f"{path}.source")
        for rel, value in _opt(table, "sources", path, dict, {}).items():
            self.sources[normalize_path(f"{path}.{rel}")] = _source(value, f"{path}.sources.{rel}")

    def version(
        self, table: dict[str, Any], path: str, previous: RuleSet | None, index: int
    ) -> RuleSet:
        _no_unknown(table, _VERSION_KEYS, path)
        values: dict[str, Any] = {
            "effective_from": _datetime(
                _req(table, "effective_from", path, object), f"{path}.effective_from"
            )
        }
        builders = {
            "store_fees": self.store_fees,
            "gifts": self.gifts,
            "creator_pay": self.creator_pay,
            "withdrawal": self.withdrawal,
            "refunds": self.refunds,
            "rewards": self.rewards,
        }
        if "coin_packs" in table or "ladders" in table:
            values["coin_packs"] = self.coin_packs(table, path)
        for field, build in builders.items():
            if field in table:
                values[field] = build(table[field], f"{path}.{field}")
        if "taxes" in table or "tax_table" in table:
            values["taxes"] = self.version_taxes(table, path)
        if "min_buyer_age" in table:
            values["min_buyer_age"] = _int_value(table["min_buyer_age"], f"{path}.min_buyer_age")
        if "payout_currencies" in table:
            values["payout_currencies"] = tuple(
                _str_list(table["payout_currencies"], f"{path}.payout_currencies")
            )
        if previous is not None:
            # A later version lists only what changes; the rest, and its sources, carry over.
            before = f"versions[{index - 1}]"
            for field in _RULESET_FIELDS:
                if field in values:
                    continue
                values[field] = getattr(previous, field)
                for key, source in list(self.sources.items()):
                    if key == f"{before}.{field}" or key.startswith(
                        (f"{before}.{field}.", f"{before}.{field}[")
                    ):
                        self.sources.setdefault(path + key[len(before) :], source)
        else:
            for field in ("coin_packs", "store_fees", "gifts", "creator_pay"):
                if field not in values:
                    hint = " (or ladders)" if field == "coin_packs" else ""
                    raise InvalidEconomy(f"{path}.{field}: missing (required){hint}")
        self.note_sources(table, path)
        try:
            return RuleSet(**values)
        except InvalidEconomy as exc:
            raise _prefixed(f"{path}.", exc) from None

    def coin_packs(self, table: Mapping[str, Any], path: str) -> tuple[CoinPack, ...]:
        packs: list[CoinPack] = []
        for i, item in enumerate(_opt(table, "coin_packs", path, list, [])):
            ipath = f"{path}.coin_packs[{i}]"
            item = _as_table(item, ipath)
            _no_unknown(item, {"coins", "price", "channel", "region", "source", "sources"}, ipath)
            packs.append(
                _build(
                    CoinPack,
                    ipath,
                    coins=_int_value(_req(item, "coins", ipath, object), f"{ipath}.coins"),
                    price=_money_text(_req(item, "price", ipath, object), f"{ipath}.price"),
                    channel=_req(item, "channel", ipath, str),
                    region=_opt(item, "region", ipath, str, "*"),
                )
            )
            self.note_sources(item, f"{path}.coin_packs[{len(packs) - 1}]")
        for name, ladder in _opt(table, "ladders", path, dict, {}).items():
            lpath = f"{path}.ladders.{name}"
            ladder = _as_table(ladder, lpath)
            _no_unknown(
                ladder,
                {"channels", "region", "currency", "packs", "source", "sources", "title"},
                lpath,
            )
            channels = _str_list(_req(ladder, "channels", lpath, list), f"{lpath}.channels")
            region = _opt(ladder, "region", lpath, str, "*")
            currency = _req(ladder, "currency", lpath, str)
            prices = _req(ladder, "packs", lpath, dict)
            per_pack = _opt(ladder, "sources", lpath, dict, {})
            for key in per_pack:
                if key not in prices:
                    raise InvalidEconomy(f"{lpath}.sources.{key}: no {key}-coin pack in packs")
            for channel in channels:
                for coins_text, price in prices.items():
                    ppath = f"{lpath}.packs.{coins_text}"
                    if not coins_text.isdigit():
                        raise InvalidEconomy(f"{ppath}: the key must be a whole coin count")
                    if isinstance(price, str) and " " not in price.strip():
                        price = f"{price} {currency}"
                    money = _money_text(price, ppath)
                    if money.currency.code != currency:
                        raise InvalidEconomy(
                            f"{ppath}: {price!r} is not in the ladder's currency {currency}"
                        )
                    packs.append(_build(CoinPack, ppath, int(coins_text), money, channel, region))
                    where = f"{path}.coin_packs[{len(packs) - 1}]"
                    if "source" in ladder:
                        self.sources[where] = _source(ladder["source"], f"{lpath}.source")
                    if coins_text in per_pack:
                        self.sources[where] = _source(
                            per_pack[coins_text], f"{lpath}.sources.{coins_text}"
                        )
        return tuple(packs)

    def store_fees(self, items: object, path: str) -> tuple[StoreFee, ...]:
        fees = []
        for i, item in enumerate(_list(items, path)):
            ipath = f"{path}[{i}]"
            item = _as_table(item, ipath)
            _no_unknown(
                item,
                {"channel", "rate", "fixed", "account", "rounding", "source", "sources"},
                ipath,
            )
            fees.append(
                _build(
                    StoreFee,
                    ipath,
                    channel=_req(item, "channel", ipath, str),
                    rate=_rate(_req(item, "rate", ipath, object), f"{ipath}.rate"),
                    fixed=_money_text(item["fixed"], f"{ipath}.fixed") if "fixed" in item else None,
                    account=_opt(item, "account", ipath, str, ""),
                    rounding=_rounding(item, ipath, Rounding.HALF_UP),
                )
            )
            self.note_sources(item, ipath)
        return tuple(fees)

    def version_taxes(self, table: Mapping[str, Any], path: str) -> tuple[TaxRule, ...]:
        """A version's taxes: its own ``taxes`` first, then its ``tax_table``'s rules
        for every region it does not list, each with the table's source."""
        own = self.taxes(table.get("taxes", []), f"{path}.taxes")
        if "tax_table" not in table:
            return own
        name = _req(table, "tax_table", path, str)
        try:
            shared = shipped_tax_table(name)
        except UnknownRule as exc:
            raise InvalidEconomy(f"{path}.tax_table: {exc}") from None
        merged = shared.with_overrides(own)
        for k in range(len(own), len(merged)):
            self.sources[f"{path}.taxes[{k}]"] = shared.source_for(merged[k])
        self.assumptions.extend(shared.assumptions)
        return merged

    def taxes(self, items: object, path: str) -> tuple[TaxRule, ...]:
        rules = []
        for i, item in enumerate(_list(items, path)):
            ipath = f"{path}[{i}]"
            item = _as_table(item, ipath)
            _no_unknown(item, _TAX_KEYS | {"source", "sources"}, ipath)
            rules.append(_tax_rule(item, ipath))
            self.note_sources(item, ipath)
        return tuple(rules)

    def gifts(self, items: object, path: str) -> tuple[Gift, ...]:
        gifts = []
        if isinstance(items, dict):
            for name, price in items.items():
                gpath = f"{path}.{name}"
                if isinstance(price, dict):
                    _no_unknown(price, {"coins", "amounts"}, gpath)
                    gifts.append(self.gift(name, price, gpath))
                else:
                    gifts.append(_build(Gift, gpath, name, _int_value(price, gpath)))
            return tuple(gifts)
        for i, item in enumerate(_list(items, path)):
            ipath = f"{path}[{i}]"
            item = _as_table(item, ipath)
            _no_unknown(item, {"name", "coins", "amounts", "source", "sources"}, ipath)
            gifts.append(self.gift(_req(item, "name", ipath, str), item, ipath))
            self.note_sources(item, ipath)
        return tuple(gifts)

    def gift(self, name: str, item: Mapping[str, Any], path: str) -> Gift:
        """One gift: ``coins = N``, or ``amounts = {USD = ["1.00", "500.00"], ...}``."""
        if "amounts" not in item:
            coins = _int_value(_req(item, "coins", path, object), f"{path}.coins")
            return _build(Gift, path, name, coins)
        ranges = []
        for code, pair in _req(item, "amounts", path, dict).items():
            apath = f"{path}.amounts.{code}"
            if not isinstance(pair, list) or len(pair) != 2:
                raise InvalidEconomy(f'{apath}: {pair!r} must be ["<minimum>", "<maximum>"]')
            # A bare amount (a string, or a TOML integer) is in the key's currency; a
            # TOML float is refused, never read through str().
            low, high = (
                _money_text(
                    f"{v} {code}"
                    if (isinstance(v, str) and " " not in v.strip())
                    or (isinstance(v, int) and not isinstance(v, bool))
                    else v,
                    apath,
                )
                for v in pair
            )
            if low.currency.code != code:
                raise InvalidEconomy(
                    f"{apath}: {low.amount} {low.currency.code} is not in {code!r}, the "
                    f"currency this range is listed under"
                )
            ranges.append(_build(AmountRange, apath, low, high))
        coins = _int_value(item["coins"], f"{path}.coins") if "coins" in item else 0
        return _build(Gift, path, name, coins, tuple(ranges))

    def creator_pay(self, item: object, path: str) -> CreatorPay:
        table = _as_table(item, path)
        keys = {f.name for f in attrs.fields(CreatorPay)}
        _no_unknown(table, keys | {"source", "sources"}, path)
        values: dict[str, Any] = {"model": _enum_value(table, "model", path, PayoutModel)}
        for field in ("creator_units_per_coin", "share"):
            if field in table:
                values[field] = _rate(table[field], f"{path}.{field}")
        if "value_per_unit" in table:
            value, currency = _ratio_with_currency(table["value_per_unit"], path)
            values["value_per_unit"] = value
            if currency is not None:
                values["value_currency"] = currency
        if "value_currency" in table:
            values["value_currency"] = _req(table, "value_currency", path, str)
        if "share_after_fees" in table:
            values["share_after_fees"] = _req(table, "share_after_fees", path, bool)
        for field in ("unit_rounding", "cash_rounding"):
            if field in table:
                values[field] = _enum_value(table, field, path, Rounding)
        self.note_sources(table, path)
        return _build(CreatorPay, path, **values)

    def withdrawal(self, item: object, path: str) -> WithdrawalPolicy:
        table = _as_table(item, path)
        keys = {f.name for f in attrs.fields(WithdrawalPolicy)}
        _no_unknown(table, keys | {"source", "sources"}, path)
        values: dict[str, Any] = {}
        for field in ("minimum", "daily_cap", "fee_fixed", "weekly_cap"):
            if field in table:
                values[field] = _money_text(table[field], f"{path}.{field}")
        if "fee_rate" in table:
            values["fee_rate"] = _rate(table["fee_rate"], f"{path}.fee_rate")
        for field in (
            "min_age",
            "review_days",
            "holding_days",
            "withdrawals_per_week",
            "minimum_units",
        ):
            if field in table:
                values[field] = _int_value(table[field], f"{path}.{field}")
        if "requires_verification" in table:
            values["requires_verification"] = _req(table, "requires_verification", path, bool)
        if "regions" in table:
            values["regions"] = frozenset(_str_list(table["regions"], f"{path}.regions"))
        if "methods" in table:
            values["methods"] = tuple(_str_list(table["methods"], f"{path}.methods"))
        self.note_sources(table, path)
        return _build(WithdrawalPolicy, path, **values)

    def refunds(self, item: object, path: str) -> RefundPolicy:
        table = _as_table(item, path)
        _no_unknown(table, {"spent_coins", "refund_store_fee", "source", "sources"}, path)
        values: dict[str, Any] = {}
        if "spent_coins" in table:
            from .rules import SpentCoinPolicy

            values["spent_coins"] = _enum_value(table, "spent_coins", path, SpentCoinPolicy)
        if "refund_store_fee" in table:
            values["refund_store_fee"] = _req(table, "refund_store_fee", path, bool)
        self.note_sources(table, path)
        return _build(RefundPolicy, path, **values)

    def rewards(self, items: object, path: str) -> tuple[RewardsProgram, ...]:
        programs = []
        for i, item in enumerate(_list(items, path)):
            ipath = f"{path}[{i}]"
            table = _as_table(item, ipath)
            keys = {f.name for f in attrs.fields(RewardsProgram)}
            _no_unknown(table, keys | {"source", "sources"}, ipath)
            currency = _opt(table, "currency", ipath, str, "USD")
            values: dict[str, Any] = {
                "name": _req(table, "name", ipath, str),
                "currency": currency,
                "rpm": _money_table(_req(table, "rpm", ipath, dict), f"{ipath}.rpm", currency),
                "engagement_weights": {
                    str(k): _rate(v, f"{ipath}.engagement_weights.{k}")
                    for k, v in _opt(table, "engagement_weights", ipath, dict, {}).items()
                },
            }
            for field in ("rpm_high", "rpm_typical"):
                values[field] = _money_table(
                    _opt(table, field, ipath, dict, {}), f"{ipath}.{field}", currency
                )
            for field in (
                "min_followers",
                "min_views_30d",
                "min_video_seconds",
                "min_qualified_views_per_video",
                "min_age",
                "payout_day",
            ):
                if field in table:
                    values[field] = _int_value(table[field], f"{ipath}.{field}")
            for field in ("min_followers_by_region", "min_age_by_region"):
                values[field] = {
                    str(k): _int_value(v, f"{ipath}.{field}.{k}")
                    for k, v in _opt(table, field, ipath, dict, {}).items()
                }
            values["region_tiers"] = {
                str(k): frozenset(_str_list(v, f"{ipath}.region_tiers.{k}"))
                for k, v in _opt(table, "region_tiers", ipath, dict, {}).items()
            }
            if "regions" in table:
                values["regions"] = frozenset(_str_list(table["regions"], f"{ipath}.regions"))
            values["ends"] = {
                str(k): _date(v, f"{ipath}.ends.{k}")
                for k, v in _opt(table, "ends", ipath, dict, {}).items()
            }
            if "min_video_seconds_exclusive" in table:
                values["min_video_seconds_exclusive"] = _req(
                    table, "min_video_seconds_exclusive", ipath, bool
                )
            if "payout_minimum" in table:
                values["payout_minimum"] = _money_text(
                    table["payout_minimum"], f"{ipath}.payout_minimum"
                )
            programs.append(_build(RewardsProgram, ipath, **values))
            self.note_sources(table, ipath)
        return tuple(programs)


# --------------------------------------------------------------------------- scalars


def _tax_rule(item: Mapping[str, Any], path: str) -> TaxRule:
    """One tax rule from its table (the keys in ``_TAX_KEYS``)."""
    days = {
        field: _date(item[field], f"{path}.{field}") if field in item else None
        for field in ("valid_from", "valid_to")
    }
    return _build(
        TaxRule,
        path,
        region=_req(item, "region", path, str),
        rate=_rate(_req(item, "rate", path, object), f"{path}.rate"),
        inclusive=_opt(item, "inclusive", path, bool, True),
        rounding=_rounding(item, path, Rounding.HALF_UP),
        **days,
    )


def _build(kind: type[_T], path: str, *args: Any, **kwargs: Any) -> _T:
    try:
        return kind(*args, **kwargs)
    except InvalidEconomy as exc:
        raise _prefixed(f"{path}.", exc) from None


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {
        str: "a string",
        int: "an integer",
        list: "an array",
        dict: "a table",
        bool: "true or false",
        object: "a value",
    }
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _check_type(value: object, path: str, kind: type) -> Any:
    if isinstance(value, float):
        raise FloatInEconomy(
            f"{path}: {value!r} is a TOML float; write exact numbers as strings "
            f"('0.3', '3/10', '30%') or integers"
        )
    if kind is object:
        return value
    if (kind is int and isinstance(value, bool)) or not isinstance(value, kind):
        raise InvalidEconomy(
            f"{path}: {value!r} is {_toml_type(value)}; expected {_kind_name(kind)}"
        )
    return value


def _toml_type(value: object) -> str:
    return {
        str: "a string",
        int: "an integer",
        bool: "a boolean",
        list: "an array",
        dict: "a table",
        date: "a date",
        datetime: "a datetime",
        time: "a time",
    }.get(type(value), type(value).__name__)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _req(table: Mapping[str, Any], key: str, path: str, kind: type) -> Any:
    if key not in table:
        raise InvalidEconomy(f"{_join(path, key)}: missing (required)")
    return _check_type(table[key], _join(path, key), kind)


def _opt(table: Mapping[str, Any], key: str, path: str, kind: type, default: Any) -> Any:
    if key not in table:
        return default
    return _check_type(table[key], _join(path, key), kind)


def _no_unknown(table: Mapping[str, Any], allowed: set[str], path: str) -> None:
    for key in table:
        if key not in allowed:
            raise InvalidEconomy(
                f"{_join(path, key)}: unknown field; fields here: {', '.join(sorted(allowed))}"
            )


def _as_table(value: object, path: str) -> dict[str, Any]:
    result: dict[str, Any] = _check_type(value, path, dict)
    return result


def _list(value: object, path: str) -> list[Any]:
    result: list[Any] = _check_type(value, path, list)
    return result


def _str_list(value: object, path: str) -> list[str]:
    items = _list(value, path)
    for i, item in enumerate(items):
        _check_type(item, f"{path}[{i}]", str)
    return items


def _int_value(value: object, path: str) -> int:
    result: int = _check_type(value, path, int)
    return result


def _rate(value: object, path: str) -> Fraction:
    """A ratio: an integer, or a string "30%", "3/10", "0.3"."""
    _check_type(value, path, object)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidEconomy(
            f"{path}: {value!r} is {_toml_type(value)}; write a rate as a string such as "
            f"'30%', '3/10' or '0.3'"
        )
    from .._money.amounts import to_fraction

    try:
        return to_fraction(value, path)
    except GiftLedgerError:
        raise InvalidEconomy(
            f"{path}: {value!r} is not a rate; write '30%', '3/10' or '0.3'"
        ) from None


def _ratio_with_currency(value: object, path: str) -> tuple[Fraction, str | None]:
    field = f"{path}.value_per_unit"
    if isinstance(value, str) and " " in value.strip():
        amount, _, currency = value.strip().rpartition(" ")
        return _rate(amount.strip(), field), currency
    return _rate(value, field), None


def _money_text(value: object, path: str) -> Money:
    """Money written as "<amount> <currency>" ("19.99 USD")."""
    _check_type(value, path, object)
    if not isinstance(value, str):
        raise InvalidEconomy(
            f"{path}: {value!r} is {_toml_type(value)}; write money as a string such as '19.99 USD'"
        )
    parts = value.split()
    if len(parts) != 2 or not _DECIMAL.fullmatch(parts[0]):
        raise InvalidEconomy(f"{path}: {value!r} is not money; write it as '19.99 USD'")
    try:
        get_unit(parts[1])
    except GiftLedgerError:
        raise InvalidEconomy(f"{path}: {parts[1]!r} is not a known currency") from None
    return Money(Decimal(parts[0]), parts[1])


def _money_table(table: Mapping[str, Any], path: str, currency: str) -> dict[str, Money]:
    result = {}
    for region, value in table.items():
        rpath = f"{path}.{region}"
        if isinstance(value, str) and " " not in value.strip():
            value = f"{value} {currency}"
        result[str(region)] = _money_text(value, rpath)
    return result


def _rounding(table: Mapping[str, Any], path: str, default: Rounding) -> Rounding:
    if "rounding" not in table:
        return default
    result: Rounding = _enum_value(table, "rounding", path, Rounding)
    return result


def _enum_value(table: Mapping[str, Any], key: str, path: str, kind: type[Any]) -> Any:
    value = _req(table, key, path, str)
    try:
        return kind(value)
    except ValueError:
        options = ", ".join(repr(m.value) for m in kind)
        raise InvalidEconomy(f"{path}.{key}: {value!r} must be one of {options}") from None


def _date(value: object, path: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidEconomy(f"{path}: {value!r} must be a TOML date such as 2024-07-23")
    return value


def _datetime(value: object, path: str) -> datetime:
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            raise InvalidEconomy(
                f"{path}: {value.isoformat()} has no UTC offset; write e.g. {value.isoformat()}Z"
            )
        return value
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=UTC)
    raise InvalidEconomy(
        f"{path}: {value!r} is {_toml_type(value)}; write a date (2024-07-23) or an "
        f"offset datetime (2024-07-23T00:00:00Z)"
    )


def _source(value: object, path: str) -> Source:
    table = _as_table(value, path)
    _no_unknown(table, {"citation", "as_of", "confidence", "note"}, path)
    as_of = _date(table["as_of"], f"{path}.as_of") if "as_of" in table else None
    confidence = _req(table, "confidence", path, str)
    kind = Confidence.__members__.get(confidence.upper().replace("-", "_"))
    if kind is None:
        options = ", ".join(repr(c.value) for c in Confidence)
        raise InvalidEconomy(f"{path}.confidence: {confidence!r} must be one of {options}")
    citation = _req(table, "citation", path, str)
    note = _opt(table, "note", path, str, "")
    return _build(Source, path, citation=citation, as_of=as_of, confidence=kind, note=note)


def _unit(raw: Mapping[str, Any], key: str) -> tuple[str, tuple[str, str] | None]:
    value = raw.get(key)
    if value is None:
        raise InvalidEconomy(f"{key}: missing (required)")
    if isinstance(value, str):
        return value, None
    table = _as_table(value, key)
    _no_unknown(table, {"code", "singular", "plural"}, key)
    code = _req(table, "code", key, str)
    if "singular" not in table:
        return code, None
    singular = _req(table, "singular", key, str)
    plural = _opt(table, "plural", key, str, singular + "s")
    return code, (singular, plural)


# --------------------------------------------------------------------------- writing


def _q(text: str) -> str:
    # JSON string escapes are valid TOML basic-string escapes; TOML also forbids a raw
    # DEL, which JSON leaves alone.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _money_out(money: Money) -> str:
    return _q(f"{money.amount} {money.currency.code}")


def _frac_out(value: Fraction) -> str:
    return _q(fraction_text(value))


def _inline(pairs: list[tuple[str, str]]) -> str:
    return "{ " + ", ".join(f"{_key(k)} = {v}" for k, v in pairs) + " }"


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _q(key)


def _source_out(source: Source) -> str:
    pairs = [("citation", _q(source.citation))]
    if source.as_of is not None:
        pairs.append(("as_of", source.as_of.isoformat()))
    pairs.append(("confidence", _q(source.confidence.value)))
    if source.note:
        pairs.append(("note", _q(source.note)))
    return _inline(pairs)


def _tax_pairs(rule: TaxRule) -> list[tuple[str, str]]:
    pairs = [("region", _q(rule.region)), ("rate", _frac_out(rule.rate))]
    pairs += [("inclusive", str(rule.inclusive).lower()), ("rounding", _q(rule.rounding.value))]
    if rule.valid_from is not None:
        pairs.append(("valid_from", rule.valid_from.isoformat()))
    if rule.valid_to is not None:
        pairs.append(("valid_to", rule.valid_to.isoformat()))
    return pairs


def economy_to_toml(economy: Economy) -> str:
    """Write ``economy`` as TOML; :func:`economy_from_toml` reads it back to an equal value.

    Every version is written in full, and every source under ``[sources]`` by path.
    """
    out = [f"format = {FORMAT}", f"name = {_q(economy.name)}", f"title = {_q(economy.title)}"]
    if economy.as_of is not None:
        out.append(f"as_of = {economy.as_of.isoformat()}")
    out.append(f"books_currency = {_q(economy.books_currency)}")
    for key in ("coin_unit", "creator_unit"):
        code = getattr(economy, key)
        names = economy.unit_names.get(code)
        if names:
            pairs = [("code", _q(code)), ("singular", _q(names[0])), ("plural", _q(names[1]))]
            out.append(f"{key} = {_inline(pairs)}")
        else:
            out.append(f"{key} = {_q(code)}")
    if economy.variant:
        out.append("variant = " + _inline([(k, _q(v)) for k, v in economy.variant.items()]))
    out.append("assumptions = [")
    out.extend(f"    {_q(text)}," for text in economy.assumptions)
    out.append("]")
    for rules in economy.versions:
        out += ["", "[[versions]]", f"effective_from = {rules.effective_from.isoformat()}"]
        out.append(f"min_buyer_age = {rules.min_buyer_age}")
        out.append(f"payout_currencies = [{', '.join(map(_q, rules.payout_currencies))}]")
        out.append("coin_packs = [")
        for p in rules.coin_packs:
            pairs = [("coins", str(p.coins)), ("price", _money_out(p.price))]
            pairs += [("channel", _q(p.channel)), ("region", _q(p.region))]
            out.append(f"    {_inline(pairs)},")
        out.append("]")
        out.append("store_fees = [")
        for f in rules.store_fees:
            pairs = [("channel", _q(f.channel)), ("rate", _frac_out(f.rate))]
            if f.fixed is not None:
                pairs.append(("fixed", _money_out(f.fixed)))
            pairs += [("account", _q(f.account)), ("rounding", _q(f.rounding.value))]
            out.append(f"    {_inline(pairs)},")
        out.append("]")
        out.append("taxes = [")
        out.extend(f"    {_inline(_tax_pairs(t))}," for t in rules.taxes)
        out.append("]")
        out.append("gifts = [")
        for g in rules.gifts:
            pairs = [("name", _q(g.name))]
            if g.priced_in_money:
                ranges = [
                    (r.currency, f"[{_q(str(r.minimum.amount))}, {_q(str(r.maximum.amount))}]")
                    for r in g.amounts
                ]
                pairs.append(("amounts", _inline(ranges)))
            else:
                pairs.append(("coins", str(g.coins)))
            out.append(f"    {_inline(pairs)},")
        out.append("]")
        out.append("rewards = [")
        for r in rules.rewards:
            pairs = [("name", _q(r.name)), ("currency", _q(r.currency))]
            pairs.append(("rpm", _inline([(k, _money_out(v)) for k, v in r.rpm.items()])))
            if r.rpm_high:
                pairs.append(
                    ("rpm_high", _inline([(k, _money_out(v)) for k, v in r.rpm_high.items()]))
                )
            if r.rpm_typical:
                pairs.append(
                    ("rpm_typical", _inline([(k, _money_out(v)) for k, v in r.rpm_typical.items()]))
                )
            if r.region_tiers:
                tiers = [
                    (k, f"[{', '.join(map(_q, sorted(v)))}]") for k, v in r.region_tiers.items()
                ]
                pairs.append(("region_tiers", _inline(tiers)))
            if r.engagement_weights:
                pairs.append(
                    (
                        "engagement_weights",
                        _inline([(k, _frac_out(v)) for k, v in r.engagement_weights.items()]),
                    )
                )
            for field in (
                "min_followers",
                "min_views_30d",
                "min_video_seconds",
                "min_qualified_views_per_video",
            ):
                pairs.append((field, str(getattr(r, field))))
            # Fields added later are written only when set, so an economy without them
            # keeps its TOML text, and so its fingerprint in ledgers written before.
            if r.min_age:
                pairs.append(("min_age", str(r.min_age)))
            if r.min_video_seconds_exclusive:
                pairs.append(("min_video_seconds_exclusive", "true"))
            for field in ("min_followers_by_region", "min_age_by_region"):
                numbers = getattr(r, field)
                if numbers:
                    pairs.append((field, _inline([(k, str(v)) for k, v in numbers.items()])))
            if r.regions:
                pairs.append(("regions", f"[{', '.join(map(_q, sorted(r.regions)))}]"))
            if r.ends:
                pairs.append(("ends", _inline([(k, v.isoformat()) for k, v in r.ends.items()])))
            if r.payout_minimum is not None:
                pairs.append(("payout_minimum", _money_out(r.payout_minimum)))
            if r.payout_day is not None:
                pairs.append(("payout_day", str(r.payout_day)))
            out.append(f"    {_inline(pairs)},")
        out.append("]")
        pay = rules.creator_pay
        out += [
            "",
            "[versions.creator_pay]",
            f"model = {_q(pay.model.value)}",
            f"creator_units_per_coin = {_frac_out(pay.creator_units_per_coin)}",
            f"unit_rounding = {_q(pay.unit_rounding.value)}",
            f"value_per_unit = {_frac_out(pay.value_per_unit)}",
            f"value_currency = {_q(pay.value_currency)}",
            f"share = {_frac_out(pay.share)}",
            f"share_after_fees = {str(pay.share_after_fees).lower()}",
            f"cash_rounding = {_q(pay.cash_rounding.value)}",
        ]
        w = rules.withdrawal
        out += ["", "[versions.withdrawal]"]
        for field in ("minimum", "daily_cap", "weekly_cap", "fee_fixed"):
            value = getattr(w, field)
            if value is not None:
                out.append(f"{field} = {_money_out(value)}")
        out.append(f"fee_rate = {_frac_out(w.fee_rate)}")
        for field in (
            "min_age",
            "review_days",
            "holding_days",
            "withdrawals_per_week",
            "minimum_units",
        ):
            value = getattr(w, field)
            if value is not None:
                out.append(f"{field} = {value}")
        out.append(f"requires_verification = {str(w.requires_verification).lower()}")
        out.append(f"regions = [{', '.join(map(_q, sorted(w.regions)))}]")
        out.append(f"methods = [{', '.join(map(_q, w.methods))}]")
        out += [
            "",
            "[versions.refunds]",
            f"spent_coins = {_q(rules.refunds.spent_coins.value)}",
            f"refund_store_fee = {str(rules.refunds.refund_store_fee).lower()}",
        ]
    if economy.sources:
        out += ["", "[sources]"]
        out.extend(f"{_q(path)} = {_source_out(s)}" for path, s in economy.sources.items())
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- rate tables


def rate_table_from_toml(text_or_path: str | Path) -> RateTable:
    """Load a :class:`RateTable` from TOML text or a file::

        [[rates]]
        base = "USD"
        quote = "EUR"
        rate = "0.92"                 # or "23/25"; never a TOML float
        valid_from = 2025-01-01       # a date (midnight UTC) or an offset datetime
        valid_to = 2025-02-01         # optional: open-ended when left out
        source = { citation = "ECB reference rate", as_of = 2025-01-02, confidence = "official" }

    Raises:
        InvalidArgument: a missing or wrong field, or rows that overlap (the message
            names the row, as ``rates[1].rate``).
        FloatNotAllowed: a TOML float.
    """
    if isinstance(text_or_path, Path) or (
        isinstance(text_or_path, str)
        and "\n" not in text_or_path
        and text_or_path.strip().endswith(".toml")
    ):
        try:
            text_or_path = Path(text_or_path).read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidArgument(f"cannot read rate file: {exc}") from None
    raw = _read_toml(text_or_path, InvalidArgument)
    try:
        _no_unknown(raw, {"rates"}, "")
        rows = []
        for i, item in enumerate(_list(raw.get("rates", []), "rates")):
            path = f"rates[{i}]"
            table = _as_table(item, path)
            _no_unknown(table, {"base", "quote", "rate", "valid_from", "valid_to", "source"}, path)
            rate = _rate(_req(table, "rate", path, object), f"{path}.rate")
            start = _datetime(_req(table, "valid_from", path, object), f"{path}.valid_from")
            end = _datetime(table["valid_to"], f"{path}.valid_to") if "valid_to" in table else None
            source = _source(table["source"], f"{path}.source") if "source" in table else None
            base = _req(table, "base", path, str)
            quote = _req(table, "quote", path, str)
            try:
                rows.append(DatedRate(base, quote, rate, start, end, source))
            except GiftLedgerError as exc:
                raise InvalidArgument(f"{path}: {exc}") from None
        return RateTable(tuple(rows))
    except FloatNotAllowed as exc:
        raise FloatNotAllowed(str(exc)) from None
    except InvalidEconomy as exc:
        raise InvalidArgument(str(exc)) from None


def rate_table_to_toml(table: RateTable) -> str:
    """Write ``table`` as TOML that :func:`rate_table_from_toml` reads back equal."""
    out: list[str] = []
    for row in table.rates:
        out += [
            "[[rates]]",
            f"base = {_q(row.base)}",
            f"quote = {_q(row.quote)}",
            f"rate = {_frac_out(row.rate)}",
            f"valid_from = {row.valid_from.isoformat()}",
        ]
        if row.valid_to is not None:
            out.append(f"valid_to = {row.valid_to.isoformat()}")
        if row.source is not None:
            out.append(f"source = {_source_out(row.source)}")
        out.append("")
    return "\n".join(out)


# --------------------------------------------------------------------------- tax tables

_TABLES = "giftledger.presets"  # shipped tables live in its taxes/ folder
_TABLE_TOP = {"format", "name", "title", "as_of", "description", "assumptions", "sources", "taxes"}


def tax_table_from_toml(text_or_path: str | Path) -> TaxTable:
    """Load a :class:`~giftledger.TaxTable` from TOML text or a file::

        format = 1
        name = "my-vat"
        title = "My VAT table"
        as_of = 2025-01-31
        assumptions = ["Reduced rates are left out."]

        [sources.eu]                    # named sources, for rows that share one
        citation = "European Commission, VAT rates applied in the Member States"
        confidence = "official"

        [[taxes]]
        region = "DE"
        rate = "16%"                    # never a TOML float
        valid_from = 2020-07-01         # optional: first day in force
        valid_to = 2021-01-01           # optional: first day no longer in force
        inclusive = true                # optional (default true)
        source = "eu"                   # a name from [sources], or an inline table

    Every row needs a source.

    Raises:
        InvalidEconomy: a missing or wrong field, an unknown source name, or two
            rows of one region whose periods overlap (the message names the path,
            as ``taxes[3].valid_to``).
        FloatNotAllowed: a TOML float (also an ``InvalidEconomy``).
    """
    if isinstance(text_or_path, Path) or (
        isinstance(text_or_path, str)
        and "\n" not in text_or_path
        and text_or_path.strip().endswith(".toml")
    ):
        try:
            text_or_path = Path(text_or_path).read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidEconomy(f"cannot read tax table: {exc}") from None
    raw = _read_toml(text_or_path, InvalidEconomy)
    _no_unknown(raw, _TABLE_TOP, "")
    fmt = raw.get("format", FORMAT)
    if fmt != FORMAT:
        raise InvalidEconomy(f"format: {fmt!r} is not a format this library reads ({FORMAT})")
    named = {
        str(key): _source(value, f"sources.{key}")
        for key, value in _opt(raw, "sources", "", dict, {}).items()
    }
    rules: list[TaxRule] = []
    sources: list[Source] = []
    for i, item in enumerate(_list(raw.get("taxes", []), "taxes")):
        path = f"taxes[{i}]"
        item = _as_table(item, path)
        _no_unknown(item, _TAX_KEYS | {"source"}, path)
        rules.append(_tax_rule(item, path))
        ref = _req(item, "source", path, object)
        if isinstance(ref, str):
            if ref not in named:
                raise InvalidEconomy(
                    f"{path}.source: {ref!r} is not in [sources]; names: "
                    f"{', '.join(sorted(named)) or 'none'}"
                )
            sources.append(named[ref])
        else:
            sources.append(_source(ref, f"{path}.source"))
    as_of = _date(raw["as_of"], "as_of") if "as_of" in raw else None
    try:
        return TaxTable(
            name=_req(raw, "name", "", str),
            title=_opt(raw, "title", "", str, ""),
            rules=tuple(rules),
            sources=tuple(sources),
            as_of=as_of,
            description=_opt(raw, "description", "", str, ""),
            assumptions=tuple(_str_list(raw.get("assumptions", []), "assumptions")),
        )
    except InvalidEconomy as exc:
        raise _prefixed("", exc) from None


def tax_table_to_toml(table: TaxTable) -> str:
    """Write ``table`` as TOML that :func:`tax_table_from_toml` reads back equal.

    Every row carries its source inline.
    """
    out = [f"format = {FORMAT}", f"name = {_q(table.name)}", f"title = {_q(table.title)}"]
    if table.as_of is not None:
        out.append(f"as_of = {table.as_of.isoformat()}")
    out.append(f"description = {_q(table.description)}")
    out.append("assumptions = [")
    out.extend(f"    {_q(text)}," for text in table.assumptions)
    out.append("]")
    for rule, source in zip(table.rules, table.sources, strict=True):
        out += ["", "[[taxes]]"]
        out.extend(f"{key} = {value}" for key, value in _tax_pairs(rule))
        out.append(f"source = {_source_out(source)}")
    return "\n".join(out) + "\n"


def shipped_tax_tables() -> tuple[str, ...]:
    """The names of the tax tables shipped with giftledger, sorted."""
    folder = resources.files(_TABLES).joinpath("taxes")
    return tuple(
        sorted(
            item.name.removesuffix(".toml")
            for item in folder.iterdir()
            if item.name.endswith(".toml") and item.is_file()
        )
    )


@functools.cache
def shipped_tax_table(name: str) -> TaxTable:
    """The shipped tax table ``name`` (a frozen value, loaded once).

    Raises:
        UnknownRule: no such table; the message lists the tables.
    """
    names = shipped_tax_tables()
    if name not in names:
        raise UnknownRule(f"unknown tax table {name!r}; tables: {', '.join(names) or 'none'}")
    file = resources.files(_TABLES).joinpath("taxes").joinpath(f"{name}.toml")
    text = file.read_text(encoding="utf-8")
    try:
        return tax_table_from_toml(text)
    except InvalidEconomy as exc:
        raise type(exc)(f"tax table {name!r}: {exc}") from None
