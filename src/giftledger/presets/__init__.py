"""Dated, sourced rules of real platforms, shipped as TOML data files.

Each preset is a ``<name>.toml`` file beside this module, in the format
:func:`giftledger.load_economy` reads. Every number in it carries its source,
the date the source states and how sure it is (:class:`giftledger.Confidence`);
where a platform never published a figure, the preset names its assumption in
``Economy.assumptions``. ``docs/presets.md`` lists them all.

Example:
    >>> import giftledger as gl
    >>> [p.name for p in gl.presets.list()]
    ['bigo-live', 'facebook-stars', 'tiktok-live', 'twitch-bits', 'youtube-super-chat']
    >>> econ = gl.presets.load("tiktok-live", model="B", ladder="65-coin-2023")
    >>> econ.variant
    {'ladder': '65-coin-2023', 'model': 'B', 'web_fee': '3pct', 'withdrawal': 'kb-2019'}
    >>> econ.latest.creator_pay.creator_units_per_coin
    Fraction(1, 2)

Shared tax tables live in ``taxes/<name>.toml``: dated VAT and GST rules with a
source per row, which a preset version names (``tax_table = "digital-vat"``)::

    >>> gl.presets.tax_tables()
    ('digital-vat',)
    >>> from datetime import date
    >>> gl.presets.tax_table("digital-vat").rule("JP", date(2019, 10, 1)).rate
    Fraction(1, 10)
"""

from __future__ import annotations

import builtins
import functools
import tomllib
from collections.abc import Iterable, Mapping
from datetime import date
from importlib import resources
from typing import Any

import attrs

from .._boundary import boundary
from .._economy.loading import economy_from_dict, shipped_tax_table, shipped_tax_tables
from .._economy.rules import Economy
from .._economy.taxes import TaxTable
from .._errors import UnknownRule

__all__ = ["PresetInfo", "list", "load", "tax_table", "tax_tables"]


@attrs.frozen(slots=True)
class PresetInfo:
    """What a preset is, without loading it.

    Attributes:
        name: the name :func:`load` takes (``"tiktok-live"``).
        title: a human title.
        as_of: when its figures were last checked against their sources.
        description: one paragraph on what it models.
        variants: per variant axis, its options; the first is the default.
        option_descriptions: per axis, each option's one-line description.
    """

    name: str
    title: str
    as_of: date | None
    description: str
    variants: Mapping[str, tuple[str, ...]]
    option_descriptions: Mapping[str, Mapping[str, str]] = attrs.field(factory=dict)


def _names() -> builtins.list[str]:
    folder = resources.files(__name__)
    return sorted(
        item.name.removesuffix(".toml")
        for item in folder.iterdir()
        if item.name.endswith(".toml") and item.is_file()
    )


@functools.cache
def _raw(name: str) -> Mapping[str, Any]:
    if name not in _names():
        raise UnknownRule(f"unknown preset {name!r}; presets: {', '.join(_names())}")
    text = resources.files(__name__).joinpath(f"{name}.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


@boundary
def load(name: str, **variant: str) -> Economy:
    """Load the preset ``name``, with options for its variants.

    Args:
        name: a preset name from :func:`list`.
        **variant: an option per variant axis (``model="B"``); axes left out take
            their default.

    Returns:
        A validated :class:`~giftledger.Economy`; its ``variant`` records the options.

    Raises:
        UnknownRule: no such preset, variant axis or option (the message lists them).

    Example:
        >>> import giftledger as gl
        >>> gl.presets.load("tiktok-live").coin_unit
        'COIN'
    """
    _check_name(name, "preset", _names())
    for axis, option in variant.items():
        if not isinstance(option, str):
            raise UnknownRule(f"variant {axis}={option!r}: an option is a name (a string)")
    return _load(name, tuple(sorted(variant.items())))


@functools.lru_cache(maxsize=64)
def _load(name: str, variant: tuple[tuple[str, str], ...]) -> Economy:
    # An Economy is immutable all the way down (tuples, frozensets, FrozenMap), so one
    # loaded value can be shared by every caller.
    return economy_from_dict(_raw(name), **dict(variant))


def list() -> tuple[PresetInfo, ...]:
    """Every shipped preset, sorted by name, with its title, date and variants."""
    infos = []
    for name in _names():
        raw = _raw(name)
        variants = {}
        descriptions = {}
        for axis, spec in raw.get("variants", {}).items():
            descriptions[axis] = {
                option: str(table.get("description", ""))
                for option, table in spec.get("options", {}).items()
            }
            options = builtins.list(spec.get("options", {}))
            default = spec.get("default")
            if default in options:
                options.remove(default)
                options.insert(0, default)
            variants[axis] = tuple(options)
        infos.append(
            PresetInfo(
                name=name,
                title=raw.get("title", name),
                as_of=raw.get("as_of"),
                description=raw.get("description", ""),
                variants=variants,
                option_descriptions=descriptions,
            )
        )
    return tuple(infos)


def tax_tables() -> tuple[str, ...]:
    """The names of the shipped tax tables, sorted (``("digital-vat",)``)."""
    return shipped_tax_tables()


@boundary
def tax_table(name: str) -> TaxTable:
    """The shipped tax table ``name``: dated rules, each with its source.

    Args:
        name: a name from :func:`tax_tables`.

    Returns:
        A :class:`~giftledger.TaxTable`. Build your own economy's taxes from it
        with :meth:`~giftledger.TaxTable.with_overrides`, or name it in a TOML
        version (``tax_table = "digital-vat"``).

    Raises:
        UnknownRule: no such table (the message lists them).

    Example:
        >>> import giftledger as gl
        >>> vat = gl.presets.tax_table("digital-vat")
        >>> rule = vat.rule("GB")
        >>> rule.rate, rule.inclusive, vat.source_for(rule).confidence.value
        (Fraction(1, 5), True, 'third-party')
    """
    _check_name(name, "tax table", tax_tables())
    return shipped_tax_table(name)


def _check_name(name: object, what: str, names: Iterable[str]) -> None:
    # Before the caches: a list or a dict would reach them as a bare TypeError.
    if not isinstance(name, str):
        raise UnknownRule(f"unknown {what} {name!r}; {what}s: {', '.join(names) or 'none'}")
