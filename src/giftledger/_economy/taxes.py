"""Shared tax tables: dated, sourced VAT and GST rules that many economies use.

A :class:`TaxTable` is the rates of many regions over time, each row with its
:class:`~giftledger.Source`. Presets name a shipped table in a version
(``tax_table = "digital-vat"``) and list only what they do differently (US
sales tax on top, a ``"*"`` fallback); :meth:`TaxTable.with_overrides` is the
one place that merges the two.

Example:
    >>> import giftledger as gl
    >>> from datetime import date
    >>> vat = gl.presets.tax_table("digital-vat")
    >>> [str(vat.rule("DE", date(2020, d, 1)).rate * 100) for d in (6, 7)]
    ['19', '16']
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import attrs

from .._boundary import boundary_methods
from .._errors import InvalidEconomy, UnknownRule
from .rules import Source, TaxRule, _tuple_of, check_tax_periods, pick_tax, tax_day

__all__ = ["TaxTable"]


@boundary_methods
@attrs.frozen(slots=True, repr=False)
class TaxTable:
    """A named, dated list of tax rules, one source per rule.

    Attributes:
        name: the id a preset version names (``"digital-vat"``).
        title: a human title.
        rules: the rules; one region may have several whose periods do not overlap.
        sources: where each rule came from, in the order of ``rules``.
        as_of: when the table was last checked against its sources.
        description: what the table covers.
        assumptions: plain-language notes on what the table leaves out or assumes;
            an economy that uses the table adds them to its own.

    Example:
        >>> from datetime import date
        >>> from fractions import Fraction
        >>> from giftledger import Confidence, Source, TaxRule
        >>> src = Source("my tax office", date(2024, 1, 1), Confidence.OFFICIAL)
        >>> table = TaxTable("mine", "Mine", (TaxRule("GB", Fraction(1, 5)),), (src,))
        >>> table.rule("GB").rate, table.source_for(table.rules[0]).citation
        (Fraction(1, 5), 'my tax office')
    """

    name: str
    title: str
    rules: tuple[TaxRule, ...]
    sources: tuple[Source, ...]
    as_of: date | None = None
    description: str = ""
    assumptions: tuple[str, ...] = ()

    def __attrs_post_init__(self) -> None:
        for field in ("name", "title", "description"):
            value = getattr(self, field)
            if not isinstance(value, str):
                raise InvalidEconomy(f"{field}: {value!r} must be a string")
        if not self.name.strip():
            raise InvalidEconomy(f"name: {self.name!r} must not be empty")
        rules = _tuple_of(self, "rules", TaxRule)
        sources = _tuple_of(self, "sources", Source)
        if len(sources) != len(rules):
            raise InvalidEconomy(
                f"sources: {len(sources)} sources for {len(rules)} rules; every rule "
                f"needs its own source"
            )
        for i, rule in enumerate(rules):
            if rule.region == "*":
                raise InvalidEconomy(
                    f"rules[{i}].region: '*' has no place in a shared table; each economy "
                    f"names its own fallback"
                )
        check_tax_periods(rules, "rules")
        if self.as_of is not None and (
            isinstance(self.as_of, datetime) or not isinstance(self.as_of, date)
        ):
            raise InvalidEconomy(f"as_of: {self.as_of!r} must be a date or None")
        for i, text in enumerate(_tuple_of(self, "assumptions", str)):
            if not text.strip():
                raise InvalidEconomy(f"assumptions[{i}]: {text!r} must not be empty")

    def __repr__(self) -> str:
        return f"TaxTable(name={self.name!r}, rules={len(self.rules)}, regions={len(self.regions)})"

    @property
    def regions(self) -> tuple[str, ...]:
        """The regions with rules, sorted."""
        return tuple(sorted({rule.region for rule in self.rules}))

    def rule(self, region: str, at: datetime | date | None = None) -> TaxRule:
        """The rule of ``region`` in force at ``at`` (see :meth:`RuleSet.tax`; no fallback).

        Raises:
            UnknownRule: the table has no rule for ``region`` in force then.
        """
        day = tax_day(at)
        found = pick_tax(self.rules, region, day)
        if found is None:
            when = "" if day is None else f" in force on {day.isoformat()}"
            raise UnknownRule(
                f"the {self.name!r} tax table has no rule for region {region!r}{when}; "
                f"regions: {', '.join(self.regions)}"
            )
        return found

    def source_for(self, rule: TaxRule) -> Source:
        """Where ``rule`` (one of :attr:`rules`) came from.

        Raises:
            UnknownRule: ``rule`` is not in this table.
        """
        for own, source in zip(self.rules, self.sources, strict=True):
            if own == rule:
                return source
        raise UnknownRule(f"{rule!r} is not a rule of the {self.name!r} tax table")

    def with_overrides(self, own: Iterable[TaxRule]) -> tuple[TaxRule, ...]:
        """``own`` rules first, then this table's rules for every region ``own`` leaves out.

        A region in ``own`` (with any period) replaces all of the table's rules
        for that region: an override is the whole story for its region. Keeping
        ``own`` first keeps its indexes, so sources keyed by them stay put.
        (Whether ``own``'s periods overlap is checked where the rules are used,
        by :class:`~giftledger.RuleSet`.)

        Raises:
            InvalidEconomy: ``own`` is not a sequence of :class:`~giftledger.TaxRule`.

        Example:
            >>> import giftledger as gl
            >>> vat = gl.presets.tax_table("digital-vat")
            >>> merged = vat.with_overrides([gl.TaxRule("DE", 0), gl.TaxRule("*", 0)])
            >>> [r.rate for r in merged if r.region == "DE"]
            [Fraction(0, 1)]
        """
        if isinstance(own, str | bytes) or not isinstance(own, Iterable):
            raise InvalidEconomy(f"own: {own!r} must be a sequence of TaxRule")
        mine = tuple(own)
        for i, rule in enumerate(mine):
            if not isinstance(rule, TaxRule):
                raise InvalidEconomy(
                    f"own[{i}]: {rule!r} of type {type(rule).__name__} must be a TaxRule"
                )
        taken = {rule.region for rule in mine}
        return mine + tuple(rule for rule in self.rules if rule.region not in taken)
