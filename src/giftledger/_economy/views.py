"""View-based pay: "how much does a platform pay per stream?".

A rewards program pays per 1,000 qualified views, at a rate per region
(``"*"`` for the rest), times a weight for the engagement tier. The amount is
computed exactly and rounded once, down (:data:`VIEW_ROUNDING`), so the
platform never pays a fraction of a cent it did not owe.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from fractions import Fraction

from moneyed import Money

from .._errors import InvalidArgument, NotEligible, UnknownRule
from .._money.amounts import Rounding, from_minor, round_fraction, to_minor
from .base import check_region
from .rules import Economy, RewardsProgram

__all__ = ["VIEW_ROUNDING", "estimate_view_earnings"]

#: How view-based pay is rounded to the minor unit: down, once, on the exact total.
VIEW_ROUNDING = Rounding.FLOOR


def _count(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidArgument(f"{what} {value!r} must be an int >= 0")
    return value


def _check_eligible(
    prog: RewardsProgram,
    followers: int | None,
    views_30d: int | None,
    video_seconds: int | None,
    strict: bool,
) -> None:
    for value, floor, what in (
        (followers, prog.min_followers, "followers"),
        (views_30d, prog.min_views_30d, "views in the last 30 days"),
        (video_seconds, prog.min_video_seconds, "video seconds"),
    ):
        if value is None:
            if strict and floor:
                raise NotEligible(f"{prog.name} needs {what} (at least {floor}); none given")
            continue
        _count(value, what)
        if value < floor:
            raise NotEligible(f"{prog.name} needs at least {floor} {what}; got {value}")


def estimate_view_earnings(
    economy: Economy,
    views_by_region: Mapping[str, int],
    *,
    engagement: str | None = None,
    followers: int | None = None,
    views_30d: int | None = None,
    video_seconds: int | None = None,
    program: str | None = None,
    at: datetime | None = None,
    strict: bool = False,
) -> Money:
    """What a rewards program pays for ``views_by_region``, without touching a ledger.

    ``sum(views[r] * rpm[r]) / 1000 * weight[engagement]``, rounded down once.
    Views in a region without its own rate use the ``"*"`` rate. A video with
    fewer qualified views in total than the program's per-video threshold earns
    nothing.

    Args:
        economy: the rules.
        views_by_region: qualified views per ISO 3166 region.
        engagement: an engagement tier of the program (None: weight 1).
        followers, views_30d, video_seconds: checked against the program's
            thresholds when given (``strict`` requires them).
        program: the program's name (None: the only one).
        at: the rules in force then (None: the latest).

    Raises:
        NotEligible: a given value is under its threshold.
        UnknownRule: no such program, tier, or a region without a rate and no ``"*"``.

    Example:
        >>> import giftledger as gl
        >>> econ = gl.presets.load("tiktok-live")
        >>> gl.estimate_view_earnings(econ, {"US": 1_000_000}).currency.code
        'USD'
    """
    rules = economy.latest if at is None else economy.rules_at(at)
    prog = rules.rewards_program(program)
    _check_eligible(prog, followers, views_30d, video_seconds, strict)
    if not isinstance(views_by_region, Mapping):
        raise InvalidArgument(f"views_by_region {views_by_region!r} must map regions to views")
    weight = Fraction(1)
    if engagement is not None:
        found = prog.engagement_weights.get(engagement)
        if found is None:
            raise UnknownRule(
                f"unknown engagement tier {engagement!r} for {prog.name}; tiers: "
                f"{', '.join(sorted(prog.engagement_weights)) or 'none'}"
            )
        weight = found
    ccy = prog.currency
    total = Fraction(0)
    views = 0
    for region, n in views_by_region.items():
        if region != "*":  # "*": views counted for the rest of the world
            check_region(region, "region in views_by_region")
        n = _count(n, f"views in {region!r}")
        views += n
        rate = prog.rpm.get(region, prog.rpm.get("*"))
        if rate is None:
            raise UnknownRule(
                f"no rate for region {region!r} in {prog.name} and no '*' rate; regions: "
                f"{', '.join(sorted(prog.rpm))}"
            )
        total += Fraction(n * to_minor(rate, ccy), 1000)
    if views < prog.min_qualified_views_per_video:
        if strict:
            raise NotEligible(
                f"{views} qualified views are under {prog.name}'s threshold of "
                f"{prog.min_qualified_views_per_video} per video"
            )
        return from_minor(0, ccy)
    return from_minor(round_fraction(total * weight, VIEW_ROUNDING), ccy)
