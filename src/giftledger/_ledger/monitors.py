"""Balance monitors: a condition on posted balances, and each time an entry crosses it.

A :class:`BalanceMonitor` follows the change feed. It keeps each watched
account's posted balance (on its normal side, in its own unit) running from
the postings of the entries it observes: an account's balance is read from
the store once, as of the entry before the first one that touches it (which,
since the monitor sees every entry in order, is its balance at the cursor the
monitor started from), and never again. No entry makes it scan all balances.

A condition (:class:`Watch`) names accounts by a pattern and compares the
balance with a threshold. A *crossing* is an entry after which the condition
holds for an account when it did not hold before that entry, both compared
with the threshold in force for that entry: a monitor reports it once, with
the entry; not again while the condition keeps holding; again once an entry
made it stop holding and a later one made it hold again. Only entries that
move posted balances count (posted transactions, settled holds and
reversals); a hold placed moves no posted balance. A threshold that moves (a
new rule, another exchange rate) crosses nothing by itself: a balance already
past a lowered threshold is reported once an entry brings it back below and
past it again. So the crossings are a function of the journal alone: a
monitor resumed at any cursor reports exactly the crossings after it that a
monitor running from the start reports, which a worker restarted after a
crash relies on. An entry that raises (a rate not available yet) leaves the
monitor as it was.

A threshold in another unit than the account's is converted at the rate in
force for the entry being observed (``rates(threshold unit, account unit,
entry.effective_at)``), exactly: the balance is compared with the exact
converted value, never a rounded one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime
from fractions import Fraction
from typing import Literal

import attrs
from moneyed import Money

from .._boundary import boundary_methods, shown
from .._errors import InvalidArgument, RateUnavailable
from .._money.amounts import AmountLike, from_minor, to_fraction
from .._money.units import get_unit
from .feed import FeedCursor
from .ledger import Ledger
from .model import Account, EntryKind, Side, Transaction

__all__ = ["BalanceMonitor", "Crossing", "Watch"]

Comparison = Literal[">=", ">", "<=", "<"]
RateLookup = Callable[[str, str, datetime], object]
#: A threshold: Money, a number in each account's own unit, or one per entry.
Threshold = Money | AmountLike | Callable[[Transaction], Money]

_POSTED = frozenset({EntryKind.POST, EntryKind.POST_HOLD, EntryKind.REVERSAL})
_TESTS: dict[str, Callable[[Fraction, Fraction], bool]] = {
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
}


def _pattern(pattern: str) -> re.Pattern[str]:
    """``creators:*:cash`` → a regex: ``*`` is one whole segment or part of one (no ``:``),
    ``**`` any number of segments; a pattern ending in ``:`` is a prefix."""
    prefix = pattern.endswith(":")
    out = []
    for segment in (pattern[:-1] if prefix else pattern).split(":"):
        if segment == "**":
            out.append(r".+")
        else:
            out.append("[^:]*".join(re.escape(part) for part in segment.split("*")))
    return re.compile(":".join(out) + (r":.+" if prefix else ""))


@attrs.frozen(slots=True)
class Watch:
    """A condition on the posted balance of the accounts a pattern names.

    Attributes:
        pattern: an account name, or a pattern: ``*`` stands for a whole
            segment or part of one (``creators:*:cash``), ``**`` for any number
            of segments, and a trailing ``:`` makes it a prefix (``platform:``).
        op: ``">="``, ``">"``, ``"<="`` or ``"<"``.
        threshold: ``Money`` (converted to the account's unit at the rate in
            force for each entry when the units differ), a number in major
            units of each account's own unit, or a function of the entry
            returning ``Money`` (a threshold that changes with dated rules).
        name: a label for reports (default: the condition's text).

    Example:
        >>> import giftledger as gl
        >>> watch = gl.Watch("creators:*:cash", ">=", "10.00")
        >>> watch.matches("creators:bob:cash"), watch.matches("creators:bob:diamonds")
        (True, False)
        >>> watch.name
        'creators:*:cash >= 10.00'
    """

    pattern: str
    op: Comparison
    threshold: Threshold
    name: str = ""
    _regex: re.Pattern[str] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.pattern, str) or not self.pattern or self.pattern == ":":
            raise InvalidArgument(
                f"watch pattern {shown(self.pattern)} must be an account name or pattern "
                f"('creators:*:cash', 'platform:')"
            )
        if self.op not in _TESTS:
            raise InvalidArgument(f"watch op {shown(self.op)} must be one of >=, >, <=, <")
        threshold = self.threshold
        if isinstance(threshold, Money):
            get_unit(threshold.currency.code)  # an unknown unit fails now, not per entry
        elif not callable(threshold):
            to_fraction(threshold, "watch threshold")  # refuses floats and non-numbers
        if not isinstance(self.name, str):
            raise InvalidArgument(f"watch name {shown(self.name)} must be a string")
        if not self.name:
            shown_threshold = (
                f"{threshold.amount} {threshold.currency.code}"
                if isinstance(threshold, Money)
                else getattr(threshold, "__name__", None) or str(threshold)
            )
            object.__setattr__(self, "name", f"{self.pattern} {self.op} {shown_threshold}")
        object.__setattr__(self, "_regex", _pattern(self.pattern))

    def matches(self, account: str) -> bool:
        """Whether the pattern names ``account``."""
        return self._regex.fullmatch(account) is not None


@attrs.frozen(slots=True)
class Crossing:
    """An entry after which a watched condition holds for an account, and did not before.

    Attributes:
        watch: the condition.
        account: the account's name.
        balance: its posted balance after the entry, on its normal side.
        before: its posted balance before the entry.
        entry: the entry that crossed.
    """

    watch: Watch
    account: str
    balance: Money
    before: Money
    entry: Transaction

    @property
    def cursor(self) -> FeedCursor:
        """The feed cursor just after the crossing entry."""
        return FeedCursor.of(self.entry)


@boundary_methods
class BalanceMonitor:
    """Watches posted balances through the change feed and reports each crossing once.

    Args:
        ledger: the ledger whose feed it follows.
        watches: the conditions (more can be added with :meth:`watch`).
        rates: ``rates(base, quote, at)`` → the exact rate (``1 base = rate
            quote``) for a threshold in another unit than an account's; it is
            asked at each observed entry's ``effective_at``.

    Example:
        >>> import giftledger as gl
        >>> book = gl.Ledger()
        >>> _ = book.open_account("creators:bob:cash", "USD", normal="credit")
        >>> _ = book.open_account("revenue:gifts", "USD", normal="debit")
        >>> monitor = gl.BalanceMonitor(book)
        >>> _ = monitor.watch("creators:*:cash", ">=", "10.00")
        >>> paid = [
        ...     book.transfer("revenue:gifts", "creators:bob:cash", amount)
        ...     for amount in ("6.00", "6.00", "1.00")
        ... ]
        >>> [(c.account, c.balance, c.entry == paid[1]) for c in monitor.crossings()]
        [('creators:bob:cash', Money('12.00', 'USD'), True)]
    """

    def __init__(
        self,
        ledger: Ledger,
        watches: tuple[Watch, ...] | list[Watch] = (),
        *,
        rates: RateLookup | None = None,
    ) -> None:
        if not isinstance(ledger, Ledger):
            raise InvalidArgument(f"ledger {shown(ledger)} must be a giftledger.Ledger")
        if rates is not None and not callable(rates):
            raise InvalidArgument(f"rates {shown(rates)} must be a function (base, quote, at)")
        self.ledger = ledger
        self.rates = rates
        self.watches: list[Watch] = []
        #: The last entry observed (the cursor to save to resume the monitor).
        self.cursor: FeedCursor | None = None
        self._balances: dict[str, int] = {}  # normal-side posted minor units
        self._matching: dict[str, tuple[int, ...]] = {}
        self._accounts: dict[str, Account] = {}
        for w in watches:
            self.add(w)

    def add(self, watch: Watch) -> Watch:
        """Add a condition; it applies from the next observed entry.

        Raises:
            InvalidArgument: ``watch`` is not a Watch.
        """
        if not isinstance(watch, Watch):
            raise InvalidArgument(f"{shown(watch)} is not a giftledger.Watch")
        self.watches.append(watch)
        self._matching.clear()
        return watch

    def watch(self, pattern: str, op: Comparison, threshold: Threshold, name: str = "") -> Watch:
        """Add the condition ``Watch(pattern, op, threshold, name)``; see :class:`Watch`."""
        return self.add(Watch(pattern, op, threshold, name))

    def balance(self, account: str) -> Money | None:
        """The running posted balance the monitor holds for ``account``, or None if unseen."""
        minor = self._balances.get(account)
        acct = self._accounts.get(account)
        return None if minor is None or acct is None else from_minor(minor, acct.unit)

    def crossings(
        self,
        after: FeedCursor | str | None = None,
        *,
        follow: bool = False,
        timeout: float | None = None,
        max_delay: float = 1.0,
    ) -> Iterator[Crossing]:
        """Follow the feed from ``after`` and yield each crossing, in entry order.

        The arguments are :meth:`Ledger.changes <giftledger.Ledger.changes>`'s.
        To resume after a restart without missing or repeating a crossing, save
        :attr:`cursor` (or drive the feed yourself and call :meth:`observe`).
        """
        for entry in self.ledger.changes(
            after, follow=follow, timeout=timeout, max_delay=max_delay
        ):
            yield from self.observe(entry)

    def observe(self, entry: Transaction) -> tuple[Crossing, ...]:
        """Apply one entry of the feed; return the crossings it caused.

        Entries must be given in journal order, each once (as the feed gives
        them). An entry is applied whole or not at all: if it raises, the
        monitor is as it was, and the same entry can be observed again.

        Raises:
            InvalidArgument: ``entry`` is not the entry after the last one observed.
            RateUnavailable: a threshold needs a rate the monitor cannot get.
        """
        if not isinstance(entry, Transaction):
            raise InvalidArgument(f"{shown(entry)} is not a giftledger.Transaction")
        if self.cursor is not None and entry.id != self.cursor.id + 1:
            raise InvalidArgument(
                f"entry {entry.id} is not the next entry after {self.cursor.id}: a monitor "
                f"observes the feed in order, each entry once"
            )
        found: list[Crossing] = []
        balances: dict[str, int] = {}
        if entry.kind in _POSTED:
            deltas: dict[str, int] = {}
            for p in entry.postings:
                deltas[p.account] = deltas.get(p.account, 0) + p.signed
            for name, delta in deltas.items():
                indexes = self._watching(name)
                if indexes:
                    balances[name] = self._apply(entry, name, delta, indexes, found)
        # Nothing above changed the monitor: a failure (a rate not available yet, a
        # store error) leaves it as it was, and a retry counts the entry once.
        self._balances.update(balances)
        self.cursor = FeedCursor.of(entry)
        return tuple(found)

    def _watching(self, name: str) -> tuple[int, ...]:
        got = self._matching.get(name)
        if got is None:
            got = tuple(i for i, w in enumerate(self.watches) if w.matches(name))
            self._matching[name] = got
        return got

    def _apply(
        self,
        entry: Transaction,
        name: str,
        delta: int,
        indexes: tuple[int, ...],
        found: list[Crossing],
    ) -> int:
        """``name``'s balance after ``entry``; appends the crossings to ``found``."""
        account = self._accounts.get(name)
        if account is None:
            account = self._accounts[name] = self.ledger.account(name)
        sign = 1 if account.normal is Side.DEBIT else -1
        before = self._balances.get(name)
        if before is None:
            # The first entry that touches it: its balance just before (the balance at
            # the cursor the monitor started from, as nothing observed since touched it).
            with self.ledger.store.read() as r:
                before = sign * r.net_at(name, None, entry.id - 1)
        after = before + sign * delta
        for i in indexes:
            watch = self.watches[i]
            # Before and after, against the threshold in force for this entry: the
            # crossings are a function of the journal alone, the same for a monitor
            # resumed at any cursor as for one that ran from the start.
            limit = self._limit(watch, account.unit, entry)
            test = _TESTS[watch.op]
            if test(Fraction(after), limit) and not test(Fraction(before), limit):
                found.append(
                    Crossing(
                        watch,
                        name,
                        from_minor(after, account.unit),
                        from_minor(before, account.unit),
                        entry,
                    )
                )
        return after

    def _limit(self, watch: Watch, unit: str, entry: Transaction) -> Fraction:
        """The threshold in minor units of ``unit``, exactly, for ``entry``."""
        threshold = watch.threshold
        if callable(threshold) and not isinstance(threshold, Money):
            threshold = threshold(entry)
            if not isinstance(threshold, Money):
                raise InvalidArgument(
                    f"watch {watch.name!r}: its threshold function returned {shown(threshold)}, "
                    f"not Money"
                )
        scale = get_unit(unit).scale
        if not isinstance(threshold, Money):
            return to_fraction(threshold, "watch threshold") * scale
        exact = to_fraction(threshold.amount, "watch threshold")
        source = threshold.currency.code
        if source == unit:
            return exact * scale
        if self.rates is None:
            raise RateUnavailable(
                f"watch {watch.name!r}: its threshold is in {source}, account units are {unit}, "
                f"and the monitor has no rates"
            )
        rate = to_fraction(self.rates(source, unit, entry.effective_at), "rate")
        if rate <= 0:
            raise RateUnavailable(f"rate {source}/{unit} at {entry.effective_at} is {rate}")
        return exact * rate * scale
