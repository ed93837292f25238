"""View-based pay: "how much does a platform pay per stream?".

A rewards program pays per 1,000 qualified views, at a rate per region of the
audience (the region's own, its tier's, else ``"*"``), times a weight for the
engagement tier. Sources rarely agree on one rate, so
:func:`estimate_view_range` answers with a range — low, typical and high, each
with the sources behind it, and per region — together with the eligibility
that applies to the creator and the program's own payout terms.
:func:`estimate_view_earnings` gives the low end alone, as one ``Money``.

Amounts are computed exactly (fractions of the rates as written) and rounded
once, down (:data:`VIEW_ROUNDING`), so the platform never pays a fraction of a
cent it did not owe.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from fractions import Fraction

import attrs
from moneyed import Money

from .._boundary import boundary
from .._errors import InvalidArgument, NotEligible, UnknownRule
from .._money.amounts import Rounding, from_minor, round_fraction
from .base import _scale, check_region
from .rules import Economy, FrozenMap, RewardsProgram, Source, fraction_text

__all__ = [
    "VIEW_ROUNDING",
    "RegionViewPay",
    "ViewEligibility",
    "ViewPayFigure",
    "ViewPayRange",
    "estimate_view_earnings",
    "estimate_view_range",
]

#: How view-based pay is rounded to the minor unit: down, once, on the exact total.
VIEW_ROUNDING = Rounding.FLOOR

#: How a figure was found (:attr:`ViewPayFigure.basis`).
_LOW, _TYPICAL, _HIGH = "low end", "typical figure", "high end"
#: No source gives a typical rate: halfway between the low and high ends.
_MIDPOINT = "midpoint of low and high (derived)"
#: The program states one rate, no range.
_ONLY = "the one rate stated"


@attrs.frozen(slots=True)
class ViewPayFigure:
    """One figure of a view-pay range (the low end, a typical figure, or the high end).

    Attributes:
        amount: the pay, rounded down to the minor unit (:data:`VIEW_ROUNDING`)
            once, on the exact value.
        exact: the pay before rounding, in the currency's major unit.
        rpm: the pay per 1,000 of these views, exactly (engagement weight included).
        basis: how the rate was found: ``"low end"``, ``"typical figure"`` or
            ``"high end"`` of a stated range, ``"midpoint of low and high
            (derived)"`` where no typical figure is stated, or ``"the one rate
            stated"`` where there is no range; a total over regions found in
            several ways lists each.
        sources: the sources of every rate and weight behind it, each once.
    """

    amount: Money
    exact: Fraction
    rpm: Fraction
    basis: str
    sources: tuple[Source, ...]

    def __str__(self) -> str:
        return f"{self.amount.amount} {self.amount.currency.code}"


@attrs.frozen(slots=True)
class RegionViewPay:
    """What the views of one region earn.

    Attributes:
        region: the region as given (``"ID"``).
        rate_key: whose rates they earn: the region's own, a tier of the
            program's ``region_tiers`` (``"southeast-asia"``) or ``"*"``.
        views: the qualified views.
        low, typical, high: the range for these views, each rounded on its
            own (so regions may add up to a cent or so less than the total,
            which is rounded once on the exact sum).
    """

    region: str
    rate_key: str
    views: int
    low: ViewPayFigure
    typical: ViewPayFigure
    high: ViewPayFigure


@attrs.frozen(slots=True)
class ViewEligibility:
    """The program's thresholds for one creator, and where they come from.

    Attributes:
        region: the creator's country (None: not given; the general thresholds).
        min_followers: followers needed there.
        min_views_30d: views in the last 30 days needed.
        min_age: the youngest creator who qualifies there.
        min_video_seconds: the shortest video that earns, in seconds.
        video_must_be_longer: True when a video must be longer than
            ``min_video_seconds`` ("over 1 minute"), not merely as long.
        min_qualified_views_per_video: views a video needs before it earns.
        runs_in: the countries where the program runs (empty: anywhere).
        ends: the day the program closed in a country.
        sources: the source of each threshold, by field name (``"min_followers"``).
    """

    region: str | None
    min_followers: int
    min_views_30d: int
    min_age: int
    min_video_seconds: int
    video_must_be_longer: bool
    min_qualified_views_per_video: int
    runs_in: frozenset[str]
    ends: Mapping[str, date]
    sources: Mapping[str, Source]


@attrs.frozen(slots=True)
class ViewPayRange:
    """What views earn under a rewards program: a range with its sources.

    Attributes:
        program: the program's rules.
        at: the time whose rules were used (None: the latest).
        views: the qualified views, all regions together.
        currency: the currency of the pay.
        engagement: the engagement tier (None: weight 1).
        weight: the engagement weight applied.
        low, typical, high: the range for all views.
        regions: the range per region, in the order given.
        eligibility: the thresholds for the creator.
        payout_minimum: the program's smallest payout (None: none stated).
        payout_day: the day of the month it pays, roughly (None: not stated).
        payout_sources: the sources of the payout terms, by field name.
        notes: what a reader must know about these numbers (a figure that is
            derived, views under the per-video threshold, …).
        rounding: how each amount was rounded (:data:`VIEW_ROUNDING`).
    """

    program: RewardsProgram
    at: datetime | None
    views: int
    currency: str
    engagement: str | None
    weight: Fraction
    low: ViewPayFigure
    typical: ViewPayFigure
    high: ViewPayFigure
    regions: tuple[RegionViewPay, ...]
    eligibility: ViewEligibility
    payout_minimum: Money | None
    payout_day: int | None
    payout_sources: Mapping[str, Source]
    notes: tuple[str, ...]
    rounding: Rounding = VIEW_ROUNDING

    def region(self, code: str) -> RegionViewPay:
        """The figures of region ``code``.

        Raises:
            UnknownRule: no views from that region were given.
        """
        for row in self.regions:
            if row.region == code:
                return row
        raise UnknownRule(
            f"no views from {code!r} in this estimate; regions: "
            f"{', '.join(r.region for r in self.regions) or 'none'}"
        )

    @property
    def reaches_payout_minimum(self) -> bool | None:
        """Whether the low end reaches the program's payout minimum (None: none stated)."""
        if self.payout_minimum is None:
            return None
        return self.low.amount >= self.payout_minimum

    def __str__(self) -> str:
        lines = [
            f"{self.program.name}: {self.views:,} views earn {self.low} … {self.high} "
            f"(typical {self.typical}; {self.typical.basis})"
        ]
        for row in self.regions:
            lines.append(
                f"  {row.region} ({row.rate_key}): {row.views:,} views, {row.low} … {row.high} "
                f"(typical {row.typical})"
            )
        if self.payout_minimum is not None or self.payout_day is not None:
            terms = []
            if self.payout_minimum is not None:
                terms.append(f"{self.payout_minimum.amount} {self.currency} minimum")
            if self.payout_day is not None:
                terms.append(f"paid monthly around day {self.payout_day}")
            lines.append(f"  payout: {', '.join(terms)}")
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)


# --------------------------------------------------------------------------- checks


#: The largest count (views, followers, seconds, an age) an estimate reads: more
#: views than were ever watched, and far fewer digits than Python refuses to print.
MAX_COUNT = 10**18


def _count(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidArgument(f"{what} {value!r} must be an int >= 0")
    if value > MAX_COUNT:
        digits = value.bit_length() * 30103 // 100000 + 1  # without writing it out
        raise InvalidArgument(f"{what} (about {digits} digits) must be at most 10^18")
    return value


def _check_thresholds(
    prog: RewardsProgram,
    region: str | None,
    followers: int | None,
    views_30d: int | None,
    video_seconds: int | None,
    strict: bool,
) -> None:
    seconds = prog.min_video_seconds
    longer = prog.min_video_seconds_exclusive  # "over 1 minute": as long is not enough
    floor_f = prog.followers_needed(region)
    where = f" in {region}" if region in prog.min_followers_by_region else ""
    floor_v = prog.min_views_30d
    length = "longer than" if longer else "of at least"
    checks = (
        (followers, floor_f, False, "followers", f"at least {floor_f} followers{where}"),
        (views_30d, floor_v, False, "views_30d", f"at least {floor_v} views in the last 30 days"),
        (video_seconds, seconds, longer, "video_seconds", f"videos {length} {seconds} seconds"),
    )
    for value, floor, over, what, need in checks:
        if value is None:
            if strict and (floor or over):
                raise NotEligible(f"{prog.name} needs {need}; no {what} given")
            continue
        _count(value, what)
        if value < floor or (over and value == floor):
            raise NotEligible(f"{prog.name} needs {need}; got {value}")


def check_eligible(
    prog: RewardsProgram,
    *,
    region: str | None,
    age: int | None,
    at: datetime | None,
    followers: int | None = None,
    views_30d: int | None = None,
    video_seconds: int | None = None,
    strict: bool = False,
) -> None:
    """Refuse a creator the program does not pay: outside its countries, after it
    ended there, too young, or under a threshold (the followers one of their
    country). A value that is None (not declared) is not checked, unless
    ``strict`` asks for the thresholds.

    Raises:
        NotEligible: the program does not pay this creator; the message says why.
    """
    _check_creator(prog, region, age, at)
    _check_thresholds(prog, region, followers, views_30d, video_seconds, strict)


def _check_creator(
    prog: RewardsProgram, region: str | None, age: int | None, at: datetime | None
) -> None:
    if region is not None:
        check_region(region, "creator region")
        if prog.regions and region not in prog.regions:
            raise NotEligible(
                f"{prog.name} does not run in {region}; it runs in "
                f"{', '.join(sorted(prog.regions))}"
            )
        if not prog.runs_in(region, at):
            ended = f"{prog.name} ended in {region} on {prog.ends[region].isoformat()}"
            still = sorted(r for r in prog.regions if prog.runs_in(r, at))
            raise NotEligible(f"{ended}; it still runs in {', '.join(still)}" if still else ended)
    if age is not None:
        _count(age, "age")
        floor = prog.age_needed(region)
        if age < floor:
            where = f" in {region}" if region is not None else ""
            raise NotEligible(f"{prog.name} needs creators aged {floor} or more{where}; got {age}")


# --------------------------------------------------------------------------- sources


def _sources_of(economy: Economy | None, path: str) -> tuple[Source, ...]:
    if economy is None:  # the caller wants amounts only
        return ()
    try:
        return (economy.source_of(path),)
    except UnknownRule:  # an economy built in code may carry no sources
        return ()


def _once(*groups: Iterable[Source]) -> tuple[Source, ...]:
    seen: list[Source] = []
    for group in groups:
        for source in group:
            if source not in seen:
                seen.append(source)
    return tuple(seen)


@attrs.frozen(slots=True)
class _Rates:
    """The three rates of one rate key (exact, per 1,000 views) and their provenance."""

    rates: tuple[Fraction, Fraction, Fraction]
    bases: tuple[str, str, str]
    sources: tuple[tuple[Source, ...], tuple[Source, ...], tuple[Source, ...]]


def _rates(economy: Economy | None, prog: RewardsProgram, base: str, key: str) -> _Rates:
    low = Fraction(prog.rpm[key].amount)
    low_src = _sources_of(economy, f"{base}.rpm.{key}")
    if key in prog.rpm_high:
        high = Fraction(prog.rpm_high[key].amount)
        high_src = _sources_of(economy, f"{base}.rpm_high.{key}")
    else:  # no range: the one rate is low, typical and high
        return _Rates((low, low, low), (_ONLY,) * 3, (low_src,) * 3)
    if key in prog.rpm_typical:
        typical = Fraction(prog.rpm_typical[key].amount)
        typ_src, typ_basis = _sources_of(economy, f"{base}.rpm_typical.{key}"), _TYPICAL
    else:
        typical, typ_src, typ_basis = (low + high) / 2, _once(low_src, high_src), _MIDPOINT
    return _Rates((low, typical, high), (_LOW, typ_basis, _HIGH), (low_src, typ_src, high_src))


def _figure(
    exact: Fraction, views: int, ccy: str, basis: str, sources: tuple[Source, ...]
) -> ViewPayFigure:
    amount = from_minor(round_fraction(exact * _scale(ccy), VIEW_ROUNDING), ccy)
    rpm = exact * 1000 / views if views else Fraction(0)
    return ViewPayFigure(amount, exact, rpm, basis, sources)


# --------------------------------------------------------------------------- estimates


@boundary
def estimate_view_range(
    economy: Economy,
    views_by_region: Mapping[str, int],
    *,
    engagement: str | None = None,
    followers: int | None = None,
    views_30d: int | None = None,
    video_seconds: int | None = None,
    creator_region: str | None = None,
    age: int | None = None,
    program: str | None = None,
    at: datetime | None = None,
    strict: bool = False,
) -> ViewPayRange:
    """What a rewards program pays for ``views_by_region``, as a sourced range.

    For each region of the audience, ``views × rate / 1000 × weight[engagement]``
    at the low, typical and high rate of the region (its own rates, else its
    tier's, else ``"*"``). The typical rate is a published one where a source
    gives it; otherwise the midpoint of low and high, marked as derived. Each
    figure is exact until it is rounded down once (:data:`VIEW_ROUNDING`). A
    video with fewer qualified views in total than the program's per-video
    threshold earns nothing.

    Args:
        economy: the rules.
        views_by_region: qualified views per ISO 3166 region of the audience
            (``"*"`` for views counted for the rest of the world).
        engagement: an engagement tier of the program (None: weight 1).
        followers: the creator's followers, checked against the program's
            threshold when given (``strict`` requires it).
        views_30d: the creator's views in the last 30 days, checked the same way.
        video_seconds: the video's length in seconds, checked the same way.
        creator_region: the creator's country: the program must run there (and
            not have ended), and its own thresholds apply (None: not checked;
            the general thresholds are shown).
        age: the creator's age, checked against the minimum in their country.
        program: the program's name (None: the only one).
        at: the rules in force then (None: the latest, where any recorded end
            of the program in ``creator_region`` counts as passed).
        strict: require ``followers``, ``views_30d`` and ``video_seconds``, and
            refuse views under the per-video threshold instead of earning nothing.

    Returns:
        A :class:`ViewPayRange`.

    Raises:
        NotEligible: the program does not pay this creator (a threshold, the
            region, the age, or the program ended there).
        UnknownRule: no such program or engagement tier, or a region without a
            rate and no ``"*"``.

    Example:
        >>> import giftledger as gl
        >>> from datetime import datetime, UTC
        >>> econ = gl.presets.load("tiktok-live")
        >>> june_2021 = datetime(2021, 6, 1, tzinfo=UTC)  # the Creator Fund
        >>> fund = gl.estimate_view_range(econ, {"US": 1_000_000}, at=june_2021)
        >>> print(fund.low, fund.typical, fund.high)
        20.00 USD 25.00 USD 40.00 USD
    """
    return _estimate(
        economy,
        views_by_region,
        engagement=engagement,
        followers=followers,
        views_30d=views_30d,
        video_seconds=video_seconds,
        creator_region=creator_region,
        age=age,
        program=program,
        at=at,
        strict=strict,
        sources=True,
    )


def _estimate(
    economy: Economy,
    views_by_region: Mapping[str, int],
    *,
    engagement: str | None,
    followers: int | None,
    views_30d: int | None,
    video_seconds: int | None,
    creator_region: str | None,
    age: int | None,
    program: str | None,
    at: datetime | None,
    strict: bool,
    sources: bool,
) -> ViewPayRange:
    """:func:`estimate_view_range`; ``sources=False`` skips the provenance lookups
    (the low end alone needs none)."""
    src = economy if sources else None
    index = len(economy.versions) - 1 if at is None else economy.version_index(at)
    rules = economy.versions[index]
    prog = rules.rewards_program(program)
    base = f"versions[{index}].rewards[{rules.rewards.index(prog)}]"
    check_eligible(
        prog,
        region=creator_region,
        age=age,
        at=at,
        followers=followers,
        views_30d=views_30d,
        video_seconds=video_seconds,
        strict=strict,
    )
    if not isinstance(views_by_region, Mapping):
        raise InvalidArgument(f"views_by_region {views_by_region!r} must map regions to views")
    weight = Fraction(1)
    weight_src: tuple[Source, ...] = ()
    if engagement is not None:
        found = prog.engagement_weights.get(engagement) if isinstance(engagement, str) else None
        if found is None:
            raise UnknownRule(
                f"unknown engagement tier {engagement!r} for {prog.name}; tiers: "
                f"{', '.join(sorted(prog.engagement_weights)) or 'none'}"
            )
        weight = found
        weight_src = _sources_of(src, f"{base}.engagement_weights.{engagement}")
    ccy = prog.currency
    rows: list[tuple[str, str, int, _Rates]] = []
    for region, n in views_by_region.items():
        if region != "*":  # "*": views counted for the rest of the world
            check_region(region, "region in views_by_region")
        n = _count(n, f"views in {region!r}")
        key = prog.rate_key(region)
        if key is None:
            raise UnknownRule(
                f"no rate for region {region!r} in {prog.name} and no '*' rate; regions: "
                f"{', '.join(sorted(prog.rpm))}"
            )
        rows.append((region, key, n, _rates(src, prog, base, key)))
    views = sum(n for _, _, n, _ in rows)
    notes: list[str] = []
    earns = views >= prog.min_qualified_views_per_video
    if not earns:
        if strict:
            raise NotEligible(
                f"{views} qualified views are under {prog.name}'s threshold of "
                f"{prog.min_qualified_views_per_video} per video"
            )
        notes.append(
            f"{views:,} qualified views are under the threshold of "
            f"{prog.min_qualified_views_per_video:,} per video: they earn nothing"
        )
    per_region: list[RegionViewPay] = []
    totals = [Fraction(0)] * 3
    for region, key, n, r in rows:
        figures = []
        for i in range(3):
            exact = n * r.rates[i] / 1000 * weight if earns else Fraction(0)
            totals[i] += exact
            figures.append(_figure(exact, n, ccy, r.bases[i], _once(r.sources[i], weight_src)))
        per_region.append(RegionViewPay(region, key, n, *figures))
    overall = []
    for i, name in enumerate((_LOW, _TYPICAL, _HIGH)):
        bases = list(dict.fromkeys(r.bases[i] for _, _, _, r in rows)) or [name]
        behind = _once(*(r.sources[i] for _, _, _, r in rows), weight_src)
        overall.append(_figure(totals[i], views, ccy, "; ".join(bases), behind))
    if any(r.bases[1] == _MIDPOINT for _, _, _, r in rows):
        derived = sorted({key for _, key, _, r in rows if r.bases[1] == _MIDPOINT})
        notes.append(
            f"no typical rate is published for {', '.join(derived)}: typical is the midpoint "
            f"of the low and high ends"
        )
    if weight != 1:
        notes.append(f"engagement {engagement!r} weighs every rate by {fraction_text(weight)}")
    if creator_region is None and prog.regions:
        runs = ", ".join(sorted(prog.regions))
        notes.append(f"creator region not given: {prog.name} runs in {runs} only")
    if creator_region is None and prog.ends:
        ends = ", ".join(f"{r} on {d.isoformat()}" for r, d in sorted(prog.ends.items()))
        notes.append(f"creator region not given: {prog.name} ended in {ends}")
    return ViewPayRange(
        program=prog,
        at=at,
        views=views,
        currency=ccy,
        engagement=engagement,
        weight=weight,
        low=overall[0],
        typical=overall[1],
        high=overall[2],
        regions=tuple(per_region),
        eligibility=_eligibility(src, prog, base, creator_region),
        payout_minimum=prog.payout_minimum,
        payout_day=prog.payout_day,
        payout_sources=_field_sources(src, prog, base, ("payout_minimum", "payout_day")),
        notes=tuple(notes),
    )


def _field_sources(
    economy: Economy | None, prog: RewardsProgram, base: str, fields: Iterable[str]
) -> FrozenMap[str, Source]:
    found = {}
    for field in fields:
        if getattr(prog, field) is None:
            continue
        for source in _sources_of(economy, f"{base}.{field}"):
            found[field] = source
    return FrozenMap(found)


def _eligibility(
    economy: Economy | None, prog: RewardsProgram, base: str, region: str | None
) -> ViewEligibility:
    sources = dict(
        _field_sources(
            economy,
            prog,
            base,
            (
                "min_followers",
                "min_views_30d",
                "min_age",
                "min_video_seconds",
                "min_qualified_views_per_video",
            ),
        )
    )
    if region is not None:
        for field in ("min_followers", "min_age"):
            if region in getattr(prog, f"{field}_by_region"):
                for source in _sources_of(economy, f"{base}.{field}_by_region.{region}"):
                    sources[field] = source
    return ViewEligibility(
        region=region,
        min_followers=prog.followers_needed(region),
        min_views_30d=prog.min_views_30d,
        min_age=prog.age_needed(region),
        min_video_seconds=prog.min_video_seconds,
        video_must_be_longer=prog.min_video_seconds_exclusive,
        min_qualified_views_per_video=prog.min_qualified_views_per_video,
        runs_in=prog.regions,
        ends=prog.ends,
        sources=FrozenMap(sources),
    )


@boundary
def estimate_view_earnings(
    economy: Economy,
    views_by_region: Mapping[str, int],
    *,
    engagement: str | None = None,
    followers: int | None = None,
    views_30d: int | None = None,
    video_seconds: int | None = None,
    creator_region: str | None = None,
    age: int | None = None,
    program: str | None = None,
    at: datetime | None = None,
    strict: bool = False,
) -> Money:
    """What a rewards program pays for ``views_by_region``, at the low end, without a ledger.

    ``sum(views[r] * rpm[r]) / 1000 * weight[engagement]``, rounded down once:
    the ``low`` figure of :func:`estimate_view_range`, which takes the same
    arguments and also gives the typical and high figures, per region, with
    their sources. Views in a region without its own rate use its tier's rate,
    else the ``"*"`` rate. A video with fewer qualified views in total than the
    program's per-video threshold earns nothing.

    Args:
        economy: the rules.
        views_by_region: qualified views per ISO 3166 region.
        engagement: an engagement tier of the program (None: weight 1).
        followers: the creator's followers, checked against the program's
            threshold when given (``strict`` requires it).
        views_30d: the creator's views in the last 30 days, checked the same way.
        video_seconds: the video's length in seconds, checked the same way.
        creator_region: the creator's country, checked when given (see
            :func:`estimate_view_range`).
        age: the creator's age, checked when given.
        program: the program's name (None: the only one).
        at: the rules in force then (None: the latest).

    Raises:
        NotEligible: a given value is under its threshold, or the program does
            not pay in ``creator_region``.
        UnknownRule: no such program, tier, or a region without a rate and no ``"*"``.

    Example:
        >>> import giftledger as gl
        >>> econ = gl.presets.load("tiktok-live")
        >>> gl.estimate_view_earnings(econ, {"US": 1_000_000}).currency.code
        'USD'
    """
    return _estimate(
        economy,
        views_by_region,
        engagement=engagement,
        followers=followers,
        views_30d=views_30d,
        video_seconds=video_seconds,
        creator_region=creator_region,
        age=age,
        program=program,
        at=at,
        strict=strict,
        sources=False,
    ).low.amount
