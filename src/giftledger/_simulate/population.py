"""A synthetic population of viewers and creators, and what it decides to do.

The population's decisions are drawn here, from a seeded :class:`random.Random`,
**without looking at any economy**: who is active on which day, which creator
they watch, how much money they mean to spend (a budget in the reference
currency) and how they mean to split it into gifts (shares of that budget),
and whether they later ask for a refund. :mod:`giftledger._simulate.runner`
then maps each decision onto one economy's packs and catalog. Two economies
fed the same :class:`Population` and seed therefore see the very same people
doing the very same things in money terms, and every difference in the
figures is the rules' doing.

Randomness is integer only: weights are integers, a draw is
``rng.randrange(total)`` and a binary search over the cumulative weights, so a
seed gives the same plan on every platform and Python build (``random.Random``
seeded with a string is deterministic; no ``hash()``, no set order, no clock).

Example:
    >>> from giftledger import Population
    >>> pop = Population()
    >>> days = list(pop.plan(viewers=20, creators=5, days=2, seed=7))
    >>> [len(d.sessions) for d in days] == [len(d.sessions) for d in
    ...     pop.plan(viewers=20, creators=5, days=2, seed=7)]
    True
"""

from __future__ import annotations

import bisect
import decimal
import random
from collections.abc import Iterator, Sequence
from fractions import Fraction

import attrs

from .._errors import InvalidArgument

__all__ = ["DayPlan", "Population", "Session", "zipf_weights"]

#: The largest sizes a simulation takes. The run keeps a few values per viewer
#: and per creator and a day's sessions at a time, so these bound its memory
#: (about 100 MB at the caps) before anything is drawn or written; the days
#: cap is ten years.
MAX_VIEWERS = 1_000_000
MAX_CREATORS = 1_000_000
MAX_DAYS = 3_660

#: Scale of the integer popularity weights: enough digits that 1/k^s of the
#: millionth creator is still hundreds of units.
_WEIGHT_SCALE = 10**15

_DEFAULT_REGIONS: tuple[tuple[str, int], ...] = (
    ("US", 40),
    ("BR", 10),
    ("ID", 10),
    ("DE", 8),
    ("MX", 6),
    ("PH", 6),
    ("FR", 5),
    ("JP", 5),
    ("IN", 5),
    ("ES", 5),
)
_DEFAULT_CHANNELS: tuple[tuple[str, int], ...] = (("ios", 45), ("android", 45), ("web", 10))
# Budgets in cents of the reference currency: the usual app-store price points.
# Most purchases are at the bottom of the ladder (each step up is bought about
# half as often as the one below): the shape reported for in-app purchases of
# mobile games and for TikTok coin top-ups (the 70/350-coin packs are the ones
# most bought in the guides the presets cite). An assumption, documented in
# docs/simulate.md; change it with ``Population(budgets=...)``.
_DEFAULT_BUDGETS: tuple[tuple[int, int], ...] = (
    (99, 40),
    (499, 25),
    (999, 15),
    (1999, 10),
    (4999, 6),
    (9999, 3),
    (24999, 1),
)
# How a session's budget is split into gifts: shares of it, drawn until they add
# up to the whole budget. Most gifts are small (a Rose, a Finger Heart), a few
# take the whole budget at once (a Galaxy, a Lion).
_DEFAULT_GIFT_SHARES: tuple[tuple[Fraction, int], ...] = (
    (Fraction(1, 50), 35),
    (Fraction(1, 10), 30),
    (Fraction(1, 4), 20),
    (Fraction(1, 2), 10),
    (Fraction(1), 5),
)


def _weighted(items: Sequence[tuple[object, int]], what: str) -> None:
    if not items:
        raise InvalidArgument(f"{what} must not be empty")
    for item in items:
        if not (isinstance(item, tuple) and len(item) == 2):
            raise InvalidArgument(f"{what}: {item!r} must be a (value, weight) pair")
        weight = item[1]
        if isinstance(weight, bool) or not isinstance(weight, int) or weight < 0:
            raise InvalidArgument(f"{what}: weight {weight!r} must be an int >= 0")
    if sum(w for _, w in items) <= 0:
        raise InvalidArgument(f"{what}: the weights must add up to more than 0")


def _fraction(value: object, what: str, *, low: Fraction, high: Fraction | None) -> Fraction:
    if isinstance(value, float):
        raise InvalidArgument(f"{what} {value!r} is a float; give an int, a Fraction or a Decimal")
    if isinstance(value, bool) or not isinstance(value, int | Fraction | decimal.Decimal | str):
        raise InvalidArgument(f"{what} {value!r} must be a number (int, Fraction, Decimal)")
    try:
        result = Fraction(value)
    except (ValueError, ZeroDivisionError):
        raise InvalidArgument(f"{what} {value!r} is not a number") from None
    if result < low or (high is not None and result > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise InvalidArgument(f"{what} {value!r} must be {bound}")
    return result


def zipf_weights(n: int, exponent: Fraction) -> tuple[int, ...]:
    """Integer popularity weights ``1 / k**exponent`` for ranks ``k = 1..n``.

    Computed in a private decimal context (40 digits, half even) and scaled to
    integers, so the same ``n`` and exponent give the same weights everywhere.

    Example:
        >>> from fractions import Fraction
        >>> w = zipf_weights(3, Fraction(1))
        >>> w[0] // w[1], w[0] // w[2]
        (2, 3)
    """
    ctx = decimal.Context(prec=40, rounding=decimal.ROUND_HALF_EVEN)
    s = ctx.divide(decimal.Decimal(exponent.numerator), decimal.Decimal(exponent.denominator))
    scale = decimal.Decimal(_WEIGHT_SCALE)
    out = []
    for k in range(1, n + 1):
        power = ctx.power(decimal.Decimal(k), s)
        out.append(max(1, int(ctx.divide(scale, power))))
    return tuple(out)


class _Picker:
    """Draws from integer weights: ``randrange`` over their total, then bisect."""

    __slots__ = ("_cum", "_total")

    def __init__(self, weights: Sequence[int]) -> None:
        cum, total = [], 0
        for w in weights:
            total += w
            cum.append(total)
        self._cum, self._total = cum, total

    def __call__(self, rng: random.Random) -> int:
        return bisect.bisect_right(self._cum, rng.randrange(self._total))


@attrs.frozen(slots=True)
class Session:
    """One viewer's visit to one creator's LIVE on one day, in money terms.

    Attributes:
        viewer: the viewer's index (``0 .. viewers-1``).
        creator: the creator's index (0 is the most popular).
        second: seconds after the day's midnight (UTC) when it starts.
        budget: what the viewer means to spend, in minor units of the
            population's reference currency.
        shares: the gifts the viewer means to send, each a share of the budget.
        refund: the viewer asks for a refund of this session's purchase at
            the end of the day.
    """

    viewer: int
    creator: int
    second: int
    budget: int
    shares: tuple[Fraction, ...]
    refund: bool


@attrs.frozen(slots=True)
class DayPlan:
    """What the population does on one day (``day`` counts from 0)."""

    day: int
    sessions: tuple[Session, ...]


@attrs.frozen(slots=True)
class Population:
    """How a synthetic population behaves; every field has a documented default.

    Attributes:
        regions: ``(ISO region, weight)`` pairs: where viewers and creators live.
        channels: ``(sales channel, weight)`` pairs: where viewers buy. A
            channel an economy does not sell on falls back to the first of
            these channels that it sells on.
        budgets: ``(minor units, weight)`` pairs: what a session means to spend,
            in ``currency``. Mapped on each economy to the pack of the viewer's
            channel and region whose price is nearest (the cheaper on a tie).
        gift_shares: ``(share of the budget, weight)`` pairs: the size of each
            gift a session means to send, drawn until the shares reach the
            whole budget (at most ``max_gifts_per_session``).
        zipf_exponent: creators' popularity: creator ``k`` (from 1) is chosen
            with weight ``1 / k**s``. ``s = 1`` (Zipf's law) is the classic
            fit for attention on creator platforms: with 1,000 creators the
            top 1% draw about 39% of the sessions.
        active_share: the chance that a viewer watches on a given day.
        refund_rate: the chance that a session's purchase is refunded.
        currency: the reference currency of ``budgets``.
        views_per_viewer_day: views each viewer gives (short videos, not
            LIVE) per day, split among creators by popularity; they feed the
            economy's rewards program, if any.
        views_per_follower: a creator's followers are their views over the
            simulated period divided by this (an assumption).
        video_seconds: the length of the creators' videos (for the
            rewards program's minimum length).
        live_hours_per_day: hours each creator streams every simulated day.
        max_gifts_per_session: a cap on the gifts one session draws.

    Example:
        >>> from giftledger import Population
        >>> Population(zipf_exponent=2).zipf_exponent
        Fraction(2, 1)
        >>> Population(refund_rate=0.5)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        giftledger._errors.InvalidArgument: refund_rate 0.5 is a float; give an int, a Fraction...
    """

    regions: tuple[tuple[str, int], ...] = _DEFAULT_REGIONS
    channels: tuple[tuple[str, int], ...] = _DEFAULT_CHANNELS
    budgets: tuple[tuple[int, int], ...] = _DEFAULT_BUDGETS
    gift_shares: tuple[tuple[Fraction, int], ...] = _DEFAULT_GIFT_SHARES
    zipf_exponent: Fraction = attrs.field(default=Fraction(1))
    active_share: Fraction = attrs.field(default=Fraction(1, 3))
    refund_rate: Fraction = attrs.field(default=Fraction(1, 200))
    currency: str = "USD"
    views_per_viewer_day: int = 20
    views_per_follower: int = 10
    video_seconds: int = 61
    live_hours_per_day: Fraction = attrs.field(default=Fraction(2))
    max_gifts_per_session: int = 50

    def __attrs_post_init__(self) -> None:
        for name in ("regions", "channels", "budgets", "gift_shares"):
            value = getattr(self, name)
            if not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(value))
            _weighted(getattr(self, name), name)
        for region, _ in self.regions:
            if not (isinstance(region, str) and len(region) == 2 and region.isupper()):
                raise InvalidArgument(f"regions: {region!r} must be an ISO 3166 code (US, DE …)")
        for channel, _ in self.channels:
            if not isinstance(channel, str) or not channel:
                raise InvalidArgument(f"channels: {channel!r} must be a channel name")
        for budget, _ in self.budgets:
            if isinstance(budget, bool) or not isinstance(budget, int) or budget <= 0:
                raise InvalidArgument(f"budgets: {budget!r} must be an int of minor units > 0")
        shares = tuple(
            (_fraction(s, "gift share", low=Fraction(0), high=Fraction(1)), w)
            for s, w in self.gift_shares
        )
        if any(s == 0 for s, _ in shares):
            raise InvalidArgument("gift_shares: a share must be more than 0")
        object.__setattr__(self, "gift_shares", shares)
        for name, low, high in (
            ("zipf_exponent", Fraction(0), Fraction(10)),
            ("active_share", Fraction(0), Fraction(1)),
            ("refund_rate", Fraction(0), Fraction(1)),
            ("live_hours_per_day", Fraction(0), Fraction(24)),
        ):
            object.__setattr__(self, name, _fraction(getattr(self, name), name, low=low, high=high))
        for name in ("views_per_viewer_day", "video_seconds", "max_gifts_per_session"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidArgument(f"{name} {value!r} must be an int >= 0")
        if self.views_per_follower <= 0 or isinstance(self.views_per_follower, bool):
            raise InvalidArgument(f"views_per_follower {self.views_per_follower!r} must be > 0")
        if self.max_gifts_per_session < 1:
            raise InvalidArgument("max_gifts_per_session must be at least 1")
        if not (isinstance(self.currency, str) and len(self.currency) == 3):
            raise InvalidArgument(f"currency {self.currency!r} must be an ISO 4217 code")

    def popularity(self, creators: int) -> tuple[int, ...]:
        """Each creator's integer popularity weight (creator 0 is the most popular)."""
        return zipf_weights(creators, self.zipf_exponent)

    def people(
        self, *, viewers: int, creators: int, seed: int
    ) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
        """Each viewer's ``(region, channel)`` and each creator's region, for ``seed``."""
        check_sizes(viewers, creators, 1)
        rng = random.Random(f"giftledger-sim:{seed}:people")
        region = _Picker([w for _, w in self.regions])
        channel = _Picker([w for _, w in self.channels])
        vs = tuple(
            (self.regions[region(rng)][0], self.channels[channel(rng)][0]) for _ in range(viewers)
        )
        cs = tuple(self.regions[region(rng)][0] for _ in range(creators))
        return vs, cs

    def plan(self, *, viewers: int, creators: int, days: int, seed: int) -> Iterator[DayPlan]:
        """The population's sessions, one :class:`DayPlan` per day, drawn lazily.

        Each day has its own generator seeded from ``seed`` and the day, so the
        plan costs memory for one day at a time and a day's sessions do not
        depend on how earlier days were consumed.
        """
        check_sizes(viewers, creators, days)
        creator = _Picker(self.popularity(creators))
        budget = _Picker([w for _, w in self.budgets])
        share = _Picker([w for _, w in self.gift_shares])
        active = self.active_share
        refund = self.refund_rate
        for day in range(days):
            rng = random.Random(f"giftledger-sim:{seed}:day:{day}")
            sessions = []
            for viewer in range(viewers):
                if rng.randrange(active.denominator) >= active.numerator:
                    continue
                shares: list[Fraction] = []
                total = Fraction(0)
                while total < 1 and len(shares) < self.max_gifts_per_session:
                    s = self.gift_shares[share(rng)][0]
                    shares.append(s)
                    total += s
                sessions.append(
                    Session(
                        viewer=viewer,
                        creator=creator(rng),
                        second=rng.randrange(86_400),
                        budget=self.budgets[budget(rng)][0],
                        shares=tuple(shares),
                        refund=rng.randrange(refund.denominator) < refund.numerator,
                    )
                )
            # In time order; the viewer's index breaks a tie, so the order is total.
            sessions.sort(key=lambda s: (s.second, s.viewer))
            yield DayPlan(day, tuple(sessions))


def check_sizes(viewers: int, creators: int, days: int) -> None:
    """Refuse a size below 1 or above its cap, before anything is allocated."""
    for name, value, cap in (
        ("viewers", viewers, MAX_VIEWERS),
        ("creators", creators, MAX_CREATORS),
        ("days", days, MAX_DAYS),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidArgument(f"{name} {value!r} must be an int >= 1")
        if value > cap:
            raise InvalidArgument(f"{name} {value:,} is more than a simulation takes ({cap:,})")
