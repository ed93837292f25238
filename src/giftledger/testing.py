"""Hypothesis strategies for property-testing code built on giftledger.

Install the ``testing`` extra (``pip install giftledger[testing]``) to use this
module: it imports Hypothesis. Every strategy draws exact values only (never a
float), and every drawn amount fits its unit's exponent, so what you get can go
straight into the ledger.

Strategies:
    - :func:`fiat_units`, :func:`virtual_units`, :func:`units`: units of account.
    - :func:`minor_amounts`, :func:`amounts`: integers of minor units and
      ``moneyed.Money`` exact in a unit's exponent.
    - :func:`ratios`, :func:`roundings`, :func:`leftovers`, :func:`rates`:
      inputs for :func:`~giftledger.allocate`, rounding and conversion.
    - :func:`account_names`: hierarchical names, nasty ones included
      (quotes, semicolons, SQL keywords, unicode).
    - :func:`postings`, :func:`balanced_postings`: lists of
      :func:`~giftledger.debit` / :func:`~giftledger.credit` specs.
    - :func:`ledgers`: a fresh :class:`~giftledger.Ledger` with accounts,
      transactions and holds already in it.
    - :func:`rule_sets`, :func:`economies`: valid, dated economy rules (the
      project's own TOML round-trip tests draw from them).
    - :func:`money`, :func:`transactions`: also what ``st.from_type`` draws for
      ``Money``, ``Unit``, ``Economy`` and ``Transaction`` once giftledger is
      installed (a ``hypothesis`` entry point registers them).

Example:
    >>> from hypothesis import given, settings
    >>> import giftledger as gl
    >>> from giftledger.testing import amounts
    >>> @settings(max_examples=20)
    ... @given(amounts("USD", min_value="0.01", max_value="100"))
    ... def test_three_way_split_keeps_every_cent(total):
    ...     assert sum(gl.allocate(total, [1, 1, 1]), start=total * 0) == total
    >>> test_three_way_split_keeps_every_cent()
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType

try:
    import hypothesis.strategies as st
except ModuleNotFoundError as exc:  # pragma: no cover - exercised in a subprocess
    if (exc.name or "").split(".")[0] != "hypothesis":
        raise
    raise ModuleNotFoundError(
        'giftledger.testing needs Hypothesis; install it with: pip install "giftledger[testing]"',
        name="hypothesis",
    ) from None
from moneyed import Money

from ._economy.rules import (
    CoinPack,
    Confidence,
    CreatorPay,
    Economy,
    Gift,
    PayoutModel,
    RuleSet,
    Source,
    StoreFee,
    TaxRule,
    WithdrawalPolicy,
)
from ._errors import GiftLedgerError, InvalidArgument, UnitConflict, UnknownUnit
from ._ledger.clock import ManualClock
from ._ledger.ledger import Ledger
from ._ledger.model import Account, BalanceRule, PostingSpec, Side, Transaction, credit, debit
from ._ledger.store import Store
from ._ledger.text import check_text
from ._money.allocation import Leftover
from ._money.amounts import MAX_MINOR, AmountLike, Rounding, from_minor, to_minor
from ._money.units import Unit, get_unit, register_unit

__all__ = [
    "ECONOMY_START",
    "FIAT_CODES",
    "NASTY_SEGMENTS",
    "VIRTUAL_UNITS",
    "account_names",
    "amounts",
    "balanced_postings",
    "economies",
    "fiat_units",
    "ledgers",
    "leftovers",
    "minor_amounts",
    "money",
    "postings",
    "rates",
    "ratios",
    "roundings",
    "rule_sets",
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
    min_value: int = -MAX_MINOR, max_value: int = MAX_MINOR
) -> st.SearchStrategy[int]:
    """Integers of minor units within ``[min_value, max_value]`` (default: the
    full range a giftledger amount may take, ±10^18).

    Example:
        >>> from giftledger.testing import minor_amounts
        >>> strategy = minor_amounts(1, 10_000)
    """
    return st.integers(max(min_value, -MAX_MINOR), min(max_value, MAX_MINOR))


def _bound(value: AmountLike | None, unit: Unit, default: int) -> int:
    return default if value is None else to_minor(value, unit)


def amounts(
    unit: Unit | str | None = None,
    *,
    min_value: AmountLike | None = None,
    max_value: AmountLike | None = None,
) -> st.SearchStrategy[Money]:
    """``moneyed.Money`` with exactly the unit's exponent of fraction digits.

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
    return minor_amounts(lo, hi).map(lambda minor: from_minor(minor, u))


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


# -- economies ------------------------------------------------------------------------

# Names: any text that does not start with whitespace (a blank name is invalid).
_texts = st.builds(
    str.__add__,
    st.characters(exclude_categories=("Zs", "Zl", "Zp", "Cc", "Cs")),
    st.text(max_size=19),
)


def _storable(text: str) -> bool:
    try:
        check_text(text, "name")
    except InvalidArgument:
        return False
    return True


# Gift names are shown in statements: no control, separator or bidi characters.
_gift_names = _texts.filter(_storable)


def _fractions(low: int = 0) -> st.SearchStrategy[Fraction]:
    # Between low/d and 1, exact; denominators such as 3 or 7 make non-terminating values.
    return st.integers(1, 1000).flatmap(lambda d: st.integers(low, d).map(lambda n: Fraction(n, d)))


_any_fractions = _fractions()
_positive_fractions = _fractions(1)
_sources = st.builds(
    Source,
    citation=_texts,
    as_of=st.none() | st.dates(date(2000, 1, 1), date(2030, 12, 31)),
    confidence=st.sampled_from(Confidence),
    note=st.text(max_size=30),
)


def _usd(cents: int) -> Money:
    return Money(Decimal(cents).scaleb(-2), "USD")


#: When the first version of an economy drawn by :func:`economies` takes effect.
ECONOMY_START = datetime(2020, 1, 1, tzinfo=UTC)


@st.composite
def rule_sets(draw: st.DrawFn, at: datetime = ECONOMY_START) -> RuleSet:
    """Valid :class:`~giftledger.RuleSet` records in force from ``at``: coin packs on
    one to three channels, store fees, a gift catalog, either payout model, taxes
    and a withdrawal policy, every figure exact (fractions, USD prices).

    Example:
        >>> from hypothesis import given, settings
        >>> from giftledger.testing import rule_sets
        >>> @settings(max_examples=5)
        ... @given(rule_sets())
        ... def test_a_gift_is_found(rules):
        ...     assert rules.gift(rules.gifts[0].name) == rules.gifts[0]
        >>> test_a_gift_is_found()
    """
    channels = draw(st.lists(_texts, min_size=1, max_size=3, unique=True))
    fees = tuple(
        StoreFee(c, draw(_any_fractions), account=draw(st.sampled_from(["", "apple", c])))
        for c in channels
    )
    packs = tuple(
        CoinPack(coins, _usd(draw(st.integers(1, 10**6))), channel, region)
        for (coins, channel, region) in draw(
            st.lists(
                st.tuples(
                    st.integers(1, 10**6),
                    st.sampled_from(channels),
                    st.sampled_from(["*", "US", "DE"]),
                ),
                min_size=1,
                max_size=6,
                unique=True,
            )
        )
    )
    gifts = tuple(
        Gift(name, draw(st.integers(1, 10**5)))
        for name in draw(st.lists(_gift_names, min_size=1, max_size=5, unique=True))
    )
    if draw(st.booleans()):
        pay = CreatorPay(
            PayoutModel.DIAMOND_VALUE,
            creator_units_per_coin=draw(_positive_fractions),
            value_per_unit=draw(_positive_fractions),
        )
    else:
        pay = CreatorPay(
            PayoutModel.SHARE_OF_PRICE,
            share=draw(_positive_fractions),
            share_after_fees=draw(st.booleans()),
        )
    taxes = tuple(
        TaxRule(region, draw(_any_fractions), draw(st.booleans()))
        for region in draw(st.lists(st.sampled_from(["*", "US", "DE", "FR"]), unique=True))
    )
    minimum = draw(st.none() | st.integers(0, 10**5).map(_usd))
    withdrawal = WithdrawalPolicy(
        minimum=minimum,
        fee_rate=draw(_any_fractions),
        review_days=draw(st.integers(0, 30)),
        methods=tuple(draw(st.lists(_texts, max_size=2))),
        regions=frozenset(draw(st.lists(st.sampled_from(["US", "DE"])))),
    )
    return RuleSet(
        effective_from=at,
        coin_packs=packs,
        store_fees=fees,
        gifts=gifts,
        creator_pay=pay,
        taxes=taxes,
        withdrawal=withdrawal,
        min_buyer_age=draw(st.integers(0, 21)),
    )


@st.composite
def economies(draw: st.DrawFn) -> Economy:
    """Valid :class:`~giftledger.Economy` values in USD with COIN and DIAMOND: one to
    three dated versions from :data:`ECONOMY_START` (see :func:`rule_sets`), and
    sources on some of their figures.

    Example:
        >>> from hypothesis import given, settings
        >>> from giftledger import Economy
        >>> from giftledger.testing import economies
        >>> @settings(max_examples=5)
        ... @given(economies())
        ... def test_toml_round_trips(econ):
        ...     assert Economy.from_toml(econ.to_toml()) == econ
        >>> test_toml_round_trips()
    """
    offsets = sorted(set(draw(st.lists(st.integers(0, 10**6), min_size=1, max_size=3))))
    versions = tuple(draw(rule_sets(ECONOMY_START + timedelta(minutes=m))) for m in offsets)
    econ = Economy(
        name=draw(_texts),
        title=draw(st.text(max_size=20)),
        books_currency="USD",
        coin_unit="COIN",
        creator_unit="DIAMOND",
        versions=versions,
        assumptions=tuple(draw(st.lists(_texts, max_size=3))),
    )
    paths = [f.path for f in econ.figures()]
    chosen = draw(st.lists(st.sampled_from(paths), max_size=5, unique=True))
    return Economy(
        name=econ.name,
        title=econ.title,
        books_currency="USD",
        coin_unit="COIN",
        creator_unit="DIAMOND",
        versions=versions,
        assumptions=econ.assumptions,
        sources={p: draw(_sources) for p in chosen},
    )


# -- values for st.from_type ---------------------------------------------------------


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
