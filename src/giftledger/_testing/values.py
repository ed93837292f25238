"""Strategies for values: units, amounts, ratios and splits, account names,
accounts, postings, transactions and whole ledgers.

Every strategy draws exact values only (never a float), and every drawn amount
fits its unit's exponent. Users import them from :mod:`giftledger.testing`.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType

import hypothesis.strategies as st
from moneyed import Money

from .._errors import GiftLedgerError, InvalidArgument, UnitConflict, UnknownUnit
from .._ledger.clock import ManualClock
from .._ledger.ledger import Ledger
from .._ledger.model import Account, BalanceRule, PostingSpec, Side, Transaction, credit, debit
from .._ledger.store import Store
from .._money.allocation import Leftover, Portion, fixed, percent, remaining
from .._money.amounts import MAX_MINOR, AmountLike, Rounding, from_minor, to_minor
from .._money.units import Unit, get_unit, register_unit

__all__ = [
    "FIAT_CODES",
    "NASTY_SEGMENTS",
    "VIRTUAL_UNITS",
    "account_names",
    "accounts",
    "amounts",
    "balanced_postings",
    "fiat_units",
    "ledgers",
    "leftovers",
    "minor_amounts",
    "money",
    "postings",
    "rates",
    "ratios",
    "roundings",
    "split_specs",
    "transactions",
    "units",
    "virtual_units",
]

#: ISO 4217 codes drawn by :func:`fiat_units`: exponents 0 (JPY, KRW, CLP),
#: 2 (USD, EUR, GBP, BRL) and 3 (KWD, BHD, TND).
FIAT_CODES: tuple[str, ...] = ("USD", "EUR", "GBP", "BRL", "JPY", "KRW", "CLP", "KWD", "BHD", "TND")

#: Virtual units drawn by :func:`virtual_units`, as ``code: exponent``.
VIRTUAL_UNITS: Mapping[str, int] = MappingProxyType(
    {"COIN": 0, "DIAMOND": 0, "BEAN": 0, "STAR": 0, "BIT": 0}
)

#: Account-name segments that break naive code: quotes, SQL, separators,
#: wide and combining characters, right-to-left text, emoji.
NASTY_SEGMENTS: tuple[str, ...] = (
    "O'Brien",
    'say "hi"',
    "x'; DROP TABLE accounts; --",
    "1; DELETE FROM transactions",
    "SELECT",
    "NULL",
    "null",
    "%",
    "_",
    "a%b_c",
    "\\",
    "back\\slash",
    "semi;colon",
    "comma,and|pipe",
    "#hash",
    "-- comment",
    "/* c */",
    "ünïcødé",
    "e\u0301",
    "日本語",
    "مرحبا",
    "🎁🎉",
    "\u200b",
    "a b",
    "0",
    "-1",
    "1e9",
    "NaN",
    "None",
    "true",
)


def _virtual(code: str, exponent: int) -> Unit:
    try:
        return register_unit(code, exponent)
    except UnitConflict:
        # Already registered by the application with another exponent: use theirs.
        return get_unit(code)


def fiat_units(codes: Sequence[str] = FIAT_CODES) -> st.SearchStrategy[Unit]:
    """ISO 4217 units, with exponents 0, 2 and 3 by default.

    Example:
        >>> from giftledger.testing import fiat_units
        >>> strategy = fiat_units(["USD", "JPY"])
    """
    return st.sampled_from(tuple(codes)).map(get_unit)


def virtual_units(units: Mapping[str, int] | None = None) -> st.SearchStrategy[Unit]:
    """Virtual units (``COIN``, ``DIAMOND`` …), registered on first draw.

    Registering is global to the process, as in py-moneyed: register your own
    units (with their exponents) before these strategies draw, for example in
    ``conftest.py``, or pass your own ``units``.

    Args:
        units: ``code: exponent`` pairs (default :data:`VIRTUAL_UNITS`). A code
            the application already registered with another exponent is drawn
            with the application's exponent.

    Example:
        >>> from giftledger.testing import virtual_units
        >>> strategy = virtual_units({"STAR": 0, "GEM": 2})
    """
    pairs = tuple((units if units is not None else VIRTUAL_UNITS).items())
    return st.sampled_from(pairs).map(lambda pair: _virtual(*pair))


def units() -> st.SearchStrategy[Unit]:
    """Any unit: fiat from :data:`FIAT_CODES` or virtual from :data:`VIRTUAL_UNITS`.

    Example:
        >>> from hypothesis import given, settings
        >>> from giftledger.testing import units
        >>> @settings(max_examples=10)
        ... @given(units())
        ... def test_exponent_is_small(unit):
        ...     assert 0 <= unit.exponent <= 3
        >>> test_exponent_is_small()
    """
    return st.one_of(fiat_units(), virtual_units())


def minor_amounts(
    *, min_value: int = -MAX_MINOR, max_value: int = MAX_MINOR
) -> st.SearchStrategy[int]:
    """Integers of minor units within ``[min_value, max_value]`` (default: the
    full range a giftledger amount may take, ±10^18).

    The edges come up often on purpose: zero, one minor unit either way, the
    bounds themselves and ``±MAX_MINOR`` (whichever are in range).

    Example:
        >>> from hypothesis import given, settings
        >>> from giftledger.testing import minor_amounts
        >>> seen = set()
        >>> @settings(max_examples=200, database=None)
        ... @given(minor_amounts(min_value=0))
        ... def test_non_negative(minor):
        ...     seen.add(minor)
        ...     assert 0 <= minor <= 10**18
        >>> test_non_negative()
        >>> {0, 1, 10**18} <= seen
        True
    """
    lo, hi = max(min_value, -MAX_MINOR), min(max_value, MAX_MINOR)
    if lo > hi:
        raise InvalidArgument(
            f"minor_amounts: min_value {min_value} is above max_value {max_value}"
        )
    edges = [v for v in dict.fromkeys((0, 1, -1, lo, hi, MAX_MINOR, -MAX_MINOR)) if lo <= v <= hi]
    # Integers first: a failing example shrinks towards the smallest magnitude.
    return st.integers(lo, hi) | st.sampled_from(edges)


def _bound(value: AmountLike | None, unit: Unit, default: int) -> int:
    return default if value is None else to_minor(value, unit)


def amounts(
    unit: Unit | str | None = None,
    *,
    min_value: AmountLike | None = None,
    max_value: AmountLike | None = None,
) -> st.SearchStrategy[Money]:
    """``moneyed.Money`` with exactly the unit's exponent of fraction digits; zero,
    one minor unit and the bounds come up often (see :func:`minor_amounts`).

    Args:
        unit: the unit (or its code); ``None`` draws one from :func:`units`.
        min_value: the smallest amount, in major units (``"0.01"``) or ``Money``;
            default -10^18 minor units.
        max_value: the largest amount; default 10^18 minor units.

    Example:
        >>> from hypothesis import given, settings
        >>> from giftledger.testing import amounts
        >>> @settings(max_examples=10)
        ... @given(amounts("KWD", min_value=0, max_value="1.5"))
        ... def test_three_digits(m):
        ...     assert m.amount.as_tuple().exponent == -3
        >>> test_three_digits()
    """
    if unit is None:
        return units().flatmap(lambda u: amounts(u, min_value=min_value, max_value=max_value))
    u = unit if isinstance(unit, Unit) else get_unit(unit)
    lo = _bound(min_value, u, -MAX_MINOR)
    hi = _bound(max_value, u, MAX_MINOR)
    return minor_amounts(min_value=lo, max_value=hi).map(lambda minor: from_minor(minor, u))


def ratios(
    *, min_size: int = 1, max_size: int = 8, max_ratio: int = 1000
) -> st.SearchStrategy[list[int | Decimal | Fraction]]:
    """Lists of non-negative exact ratios for :func:`~giftledger.allocate`, not all zero.

    Elements are ``int``, ``Decimal`` or ``Fraction``; zeros are common on purpose.

    Example:
        >>> from hypothesis import given, settings
        >>> import giftledger as gl
        >>> from giftledger.testing import ratios
        >>> @settings(max_examples=20)
        ... @given(ratios())
        ... def test_parts_sum_to_total(rs):
        ...     assert sum(gl.allocate(1000, rs)) == 1000
        >>> test_parts_sum_to_total()
    """
    element: st.SearchStrategy[int | Decimal | Fraction] = st.one_of(
        st.just(0),
        st.integers(0, max_ratio),
        st.integers(0, max_ratio * 100).map(lambda n: Decimal(n).scaleb(-2)),
        st.fractions(min_value=0, max_value=max_ratio, max_denominator=1000),
    )

    @st.composite
    def draw_ratios(draw: st.DrawFn) -> list[int | Decimal | Fraction]:
        out = draw(st.lists(element, min_size=min_size, max_size=max_size))
        if not any(out):
            # At least one ratio must be positive for allocate() to accept the list.
            i = draw(st.integers(0, len(out) - 1))
            out[i] = draw(st.integers(1, max_ratio))
        return out

    return draw_ratios()


def roundings() -> st.SearchStrategy[Rounding]:
    """Every :class:`~giftledger.Rounding` mode."""
    return st.sampled_from(Rounding)


def leftovers() -> st.SearchStrategy[Leftover]:
    """Every :class:`~giftledger.Leftover` policy."""
    return st.sampled_from(Leftover)


@st.composite
def _split_specs(
    draw: st.DrawFn, max_total: int, remainder: bool | None
) -> tuple[int, list[Portion]]:
    total = draw(st.integers(0, max_total))
    portions: list[Portion] = []
    budget = total
    for _ in range(draw(st.integers(0, 3))):
        amount = draw(st.integers(0, budget))
        budget -= amount
        portions.append(fixed(amount))
    with_rest = draw(st.booleans()) if remainder is None else remainder
    left = Fraction(1)
    for _ in range(draw(st.integers(0 if with_rest else 1, 3))):
        share = left * Fraction(draw(st.integers(0, 100)), 100)
        left -= share
        cap = draw(st.none() | st.integers(0, total)) if with_rest else None
        portions.append(percent(share, cap=cap))
    if with_rest:
        portions.append(remaining())
    elif left:
        # Without remaining() the percentages must add up to 100%.
        portions.append(percent(left))
    return total, draw(st.permutations(portions))


def split_specs(
    *, max_total: int = 10**9, remainder: bool | None = None
) -> st.SearchStrategy[tuple[int, list[Portion]]]:
    """A total (minor units, ``>= 0``) and a list of portions that
    :func:`~giftledger.split` accepts for it: fixed amounts within the total,
    percentages (some capped) and, with ``remainder``, one
    :func:`~giftledger.remaining`, in any order.

    Args:
        max_total: the largest total.
        remainder: True: always a ``remaining()`` portion; False: never (the
            percentages then add up to 100%); None: either.

    Example:
        >>> from hypothesis import given, settings
        >>> import giftledger as gl
        >>> from giftledger.testing import check_split, split_specs
        >>> @settings(max_examples=20)
        ... @given(split_specs())
        ... def test_parts_sum_to_the_whole(spec):
        ...     total, portions = spec
        ...     check_split(total, gl.split(total, portions))
        >>> test_parts_sum_to_the_whole()
    """
    return _split_specs(max_total, remainder)


def rates(
    *, min_value: Fraction = Fraction(1, 1000), max_value: Fraction = Fraction(1000)
) -> st.SearchStrategy[Fraction]:
    """Positive exact exchange rates (``Fraction``), for :meth:`Ledger.convert`.

    Example:
        >>> from giftledger.testing import rates
        >>> strategy = rates(min_value=Fraction(1, 210), max_value=Fraction(1))
    """
    return st.fractions(min_value=min_value, max_value=max_value, max_denominator=1000)


def _is_segment(text: str) -> bool:
    return bool(text) and text == text.strip() and not text[0].isspace()


@functools.lru_cache(maxsize=32)
def account_names(*, max_depth: int = 4, nasty: bool = True) -> st.SearchStrategy[str]:
    """Hierarchical account names (``a:b:c``) the ledger accepts.

    Segments mix plain ASCII, arbitrary unicode text (no surrogates, no ``:``,
    nothing :func:`~giftledger.check_text` refuses) and, with ``nasty``, :data:`NASTY_SEGMENTS`.

    Example:
        >>> from hypothesis import given, settings
        >>> import giftledger as gl
        >>> from giftledger.testing import account_names
        >>> @settings(max_examples=20)
        ... @given(account_names())
        ... def test_any_name_opens(name):
        ...     assert gl.Ledger().open_account(name, "USD").name == name
        >>> test_any_name_opens()
    """
    plain = st.text("abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=10)
    wild = st.text(
        # No character check_text refuses: Cc, Zl, Zp and the bidi overrides/isolates.
        st.characters(
            exclude_categories=("Cc", "Cs", "Zl", "Zp"),
            exclude_characters=(
                ":\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
            ),
        ),
        min_size=1,
        max_size=12,
    ).filter(_is_segment)
    choices = [plain, wild]
    if nasty:
        choices.append(st.sampled_from(NASTY_SEGMENTS))
    segment = st.one_of(*choices)
    return st.lists(segment, min_size=1, max_size=max_depth).map(":".join)


def accounts(
    *,
    unit_codes: Sequence[str] = ("USD", "COIN"),
    min_size: int = 2,
    max_size: int = 6,
) -> st.SearchStrategy[list[Account]]:
    """Lists of :class:`~giftledger.Account` definitions with unique names: each in
    one of ``unit_codes``, on either normal side, with a balance rule (must not go
    negative, an overdraft or none), some of them trading accounts. Open them with
    ``Ledger.open_account(a.name, a.unit, normal=a.normal, rule=a.rule,
    trading=a.trading)``; draw postings over them with :func:`balanced_postings`.

    Example:
        >>> from hypothesis import given, settings
        >>> import giftledger as gl
        >>> from giftledger.testing import accounts
        >>> @settings(max_examples=10)
        ... @given(accounts())
        ... def test_they_open(defs):
        ...     book = gl.Ledger()
        ...     for a in defs:
        ...         assert book.open_account(a.name, a.unit, normal=a.normal, rule=a.rule,
        ...                                  trading=a.trading).name == a.name
        >>> test_they_open()
    """
    codes = tuple(unit_codes)
    if not codes:
        raise InvalidArgument("accounts needs at least one unit code")

    @st.composite
    def one(draw: st.DrawFn, name: str) -> Account:
        unit = _lookup_or_register(draw(st.sampled_from(codes)))
        trading = draw(st.integers(0, 9)) == 0
        if trading:
            rule = BalanceRule.unrestricted()
        else:
            limit = unit.scale * 1000
            rule = draw(
                st.sampled_from([BalanceRule.non_negative(), BalanceRule.unrestricted()])
                | st.integers(0, limit).map(BalanceRule.overdraft)
            )
        return Account(name, unit.code, draw(st.sampled_from(Side)), rule, trading=trading)

    names = st.lists(account_names(max_depth=3), min_size=min_size, max_size=max_size, unique=True)
    return names.flatmap(lambda ns: st.tuples(*(one(n) for n in ns)).map(list))


def _units_of(accounts: Sequence[Account] | Mapping[str, str]) -> dict[str, list[str]]:
    pairs = (
        accounts.items() if isinstance(accounts, Mapping) else ((a.name, a.unit) for a in accounts)
    )
    by_unit: dict[str, list[str]] = {}
    for name, unit in pairs:
        by_unit.setdefault(unit, []).append(name)
    return {u: sorted(set(names)) for u, names in sorted(by_unit.items())}


_FORM = st.integers(0, 3)
_TIMEOUT_HOURS = st.none() | st.integers(1, 48)


def _draw_amount(draw: st.DrawFn, minor: int, unit: Unit) -> AmountLike:
    """``minor`` minor units of ``unit`` as Money, Decimal, decimal text or int."""
    money = from_minor(minor, unit)
    form = draw(_FORM)
    if form == 1:
        return money.amount
    if form == 2:
        return str(money.amount)
    if form == 3 and minor % unit.scale == 0:
        return minor // unit.scale
    return money


def _cuts(draw: st.DrawFn, total: int, parts: int) -> list[int]:
    """``parts`` positive integers summing to ``total`` (needs ``total >= parts``)."""
    inner = sorted(
        draw(
            st.lists(st.integers(1, total - 1), min_size=parts - 1, max_size=parts - 1, unique=True)
        )
        if parts > 1
        else []
    )
    edges = [0, *inner, total]
    return [b - a for a, b in itertools.pairwise(edges)]


def _draw_balanced(
    draw: st.DrawFn, by_unit: Mapping[str, list[str]], max_legs: int, max_minor: int
) -> list[PostingSpec]:
    chosen = draw(st.lists(st.sampled_from(sorted(by_unit)), min_size=1, unique=True))
    out: list[PostingSpec] = []
    for code in chosen:
        unit = get_unit(code)
        names = draw(st.permutations(by_unit[code]))
        n_debit = draw(st.integers(1, min(max_legs, len(names) - 1)))
        n_credit = draw(st.integers(1, min(max_legs, len(names) - n_debit)))
        total = draw(st.integers(max(n_debit, n_credit), max(max_minor, n_debit, n_credit)))
        for name, minor in zip(names[:n_debit], _cuts(draw, total, n_debit), strict=True):
            out.append(debit(name, _draw_amount(draw, minor, unit)))
        credit_names = names[n_debit : n_debit + n_credit]
        for name, minor in zip(credit_names, _cuts(draw, total, n_credit), strict=True):
            out.append(credit(name, _draw_amount(draw, minor, unit)))
    return draw(st.permutations(out))


def balanced_postings(
    accounts: Sequence[Account] | Mapping[str, str],
    *,
    max_legs: int = 3,
    max_minor: int = 10**9,
) -> st.SearchStrategy[list[PostingSpec]]:
    """Lists of debit/credit specs over ``accounts`` that balance in every unit.

    Only units with at least two accounts are used; one to ``max_legs`` debits
    and one to ``max_legs`` credits per unit, on different accounts. Amounts come
    as ``Money``, ``Decimal``, decimal strings or ``int`` (all exact). The
    postings balance, but they may still break a balance rule: catch
    :class:`~giftledger.InsufficientFunds` or post between unrestricted accounts.

    Args:
        accounts: :class:`~giftledger.Account` records, or a mapping of account
            name to unit code.
        max_legs: most debits (and most credits) per unit.
        max_minor: most minor units one unit's side of the transaction moves.

    Example:
        >>> from hypothesis import given, settings
        >>> import giftledger as gl
        >>> from giftledger.testing import balanced_postings
        >>> book = gl.Ledger()
        >>> free = gl.BalanceRule.unrestricted()
        >>> accounts = [book.open_account(n, "USD", rule=free) for n in ("a", "b", "c")]
        >>> @settings(max_examples=20)
        ... @given(balanced_postings(accounts))
        ... def test_posts(specs):
        ...     book.post(specs)
        ...     assert book.trial_balance().is_balanced
        >>> test_posts()
    """
    by_unit = {u: names for u, names in _units_of(accounts).items() if len(names) >= 2}
    if not by_unit:
        raise InvalidArgument(
            f"balanced_postings needs two accounts in one unit; got {sorted(_units_of(accounts))}"
        )

    @st.composite
    def draw_postings(draw: st.DrawFn) -> list[PostingSpec]:
        return _draw_balanced(draw, by_unit, max_legs, max_minor)

    return draw_postings()


def postings(
    accounts: Sequence[Account] | Mapping[str, str],
    *,
    min_size: int = 0,
    max_size: int = 6,
    max_minor: int = 10**9,
) -> st.SearchStrategy[list[PostingSpec]]:
    """Lists of debit/credit specs over ``accounts`` that need not balance.

    For testing that bad transactions are refused: most drawn lists are
    unbalanced, some are empty or have a single posting.

    Example:
        >>> from giftledger.testing import postings
        >>> strategy = postings({"assets:bank": "USD", "revenue:sales": "USD"})
    """
    pairs = [
        (name, get_unit(code)) for code, names in _units_of(accounts).items() for name in names
    ]
    if not pairs:
        raise InvalidArgument("postings needs at least one account")

    @st.composite
    def one(draw: st.DrawFn) -> PostingSpec:
        name, unit = draw(st.sampled_from(pairs))
        side = draw(st.sampled_from(Side))
        amount = _draw_amount(draw, draw(st.integers(1, max_minor)), unit)
        return PostingSpec(name, side, amount)

    return st.lists(one(), min_size=min_size, max_size=max_size)


def ledgers(
    *,
    store: Callable[[], Store] | None = None,
    unit_codes: Sequence[str] = ("USD", "COIN"),
    max_accounts: int = 4,
    max_transactions: int = 8,
    start: datetime = datetime(2026, 1, 1, tzinfo=UTC),
) -> st.SearchStrategy[Ledger]:
    """A fresh :class:`~giftledger.Ledger` on a :class:`~giftledger.ManualClock`,
    with accounts, posted transactions and pending holds already in it.

    Per unit it opens an unrestricted ``world:<UNIT>`` account (money comes in
    from there) and 1 to ``max_accounts`` accounts that must not go negative,
    with drawn names. Transactions that would break a rule are skipped, so the
    ledger always verifies. ``ledger.clock`` is the ManualClock.

    Args:
        store: makes the store for each drawn ledger (default: in memory).
        unit_codes: the units to open accounts in (virtual ones are registered).
        max_accounts: most rule-bound accounts per unit.
        max_transactions: most transactions posted.
        start: the clock's start time.

    Example:
        >>> from hypothesis import given, settings
        >>> from giftledger.testing import ledgers
        >>> @settings(max_examples=10)
        ... @given(ledgers())
        ... def test_any_ledger_verifies(book):
        ...     book.verify()
        ...     assert book.trial_balance().is_balanced
        >>> test_any_ledger_verifies()
    """

    @st.composite
    def draw_ledger(draw: st.DrawFn) -> Ledger:
        clock = ManualClock(start)
        book = Ledger(store() if store is not None else None, clock=clock)
        opened: list[Account] = []
        for code in unit_codes:
            unit = _lookup_or_register(code)
            opened.append(
                book.open_account(f"world:{unit.code}", unit.code, rule=BalanceRule.unrestricted())
            )
            names = draw(
                st.lists(account_names(max_depth=3), min_size=1, max_size=max_accounts, unique=True)
            )
            for name in names:
                full = f"{unit.code}:{name}"
                normal = draw(st.sampled_from(Side))
                opened.append(book.open_account(full, unit.code, normal=normal))
        by_unit = {u: ns for u, ns in _units_of(opened).items() if len(ns) >= 2}
        for _ in range(draw(st.integers(0, max_transactions))):
            specs = _draw_balanced(draw, by_unit, 2, 10**6)
            try:
                book.post(specs)
            except GiftLedgerError:
                continue  # broke a balance rule: skipped, nothing changed
        for _ in range(draw(st.integers(0, 3))):
            code = draw(st.sampled_from(sorted(by_unit)))
            a, b = draw(st.permutations(by_unit[code]))[:2]
            minor = draw(st.integers(1, 10**4))
            hours = draw(_TIMEOUT_HOURS)
            timeout = None if hours is None else timedelta(hours=hours)
            try:
                book.hold(a, b, from_minor(minor, code), timeout=timeout)
            except GiftLedgerError:
                continue
        return book

    return draw_ledger()


def _lookup_or_register(code: str) -> Unit:
    try:
        return get_unit(code)
    except UnknownUnit:
        return _virtual(code, VIRTUAL_UNITS.get(code, 0))


def money() -> st.SearchStrategy[Money]:
    """``moneyed.Money`` in any unit :func:`units` draws, with that unit's exponent.

    Example:
        >>> from hypothesis import given, settings
        >>> import giftledger as gl
        >>> from giftledger.testing import money
        >>> @settings(max_examples=20)
        ... @given(money())
        ... def test_exact(m):
        ...     code = m.currency.code
        ...     assert gl.from_minor(gl.to_minor(m, code), code) == m
        >>> test_exact()
    """
    return units().flatmap(amounts)


_FREE_USD = ("world:USD", "a:USD", "b:USD")


@st.composite
def transactions(draw: st.DrawFn) -> Transaction:
    """Posted :class:`~giftledger.Transaction` values: balanced in every unit, hashed,
    from a fresh in-memory ledger (between unrestricted accounts, so no balance
    rule refuses them).

    Example:
        >>> from hypothesis import given, settings
        >>> from giftledger.testing import transactions
        >>> @settings(max_examples=10)
        ... @given(transactions())
        ... def test_balanced(tx):
        ...     assert sum(p.signed for p in tx.postings) == 0
        >>> test_balanced()
    """
    book = Ledger(clock=ManualClock(datetime(2026, 1, 1, tzinfo=UTC)))
    free = BalanceRule.unrestricted()
    accounts = [book.open_account(name, "USD", rule=free) for name in _FREE_USD]
    specs = draw(balanced_postings(accounts))
    return book.post(specs, memo=draw(st.text(max_size=20).filter(lambda t: "\x00" not in t)))
