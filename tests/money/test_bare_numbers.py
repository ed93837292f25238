"""One meaning for a bare number: an int, a Decimal or a decimal string is an amount
in MAJOR units of the amount's unit everywhere (split portions, caps, postings),
over units with 2 (USD), 0 (JPY) and 3 (KWD) fraction digits. Minor units are
only read behind names that say so; a value the unit cannot hold is refused,
never rounded; a float is always refused."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

import giftledger as gl
import giftledger.testing as glt

UNITS = ("USD", "JPY", "KWD")


def _book(code: str) -> gl.Ledger:
    """A ledger with 100 major units of ``code`` in ``assets:cash``, owed to the owner."""
    book = gl.Ledger()
    book.open_account("assets:cash", code)
    book.open_account("equity:owner", code, normal="credit", rule=gl.BalanceRule(None))
    book.transfer("assets:cash", "equity:owner", Money(100, code))
    return book


def _split_fixed(value: object, code: str) -> Money:
    return gl.split(Money(10, code), [gl.fixed(value), gl.remaining()])[0]  # type: ignore[arg-type]


def _split_cap(value: object, code: str) -> Money:
    spec = [gl.percent("50%", cap=value), gl.remaining()]  # type: ignore[arg-type]
    return gl.split(Money(10, code), spec)[0]


def _debit(value: object, code: str) -> Money:
    book = _book(code)
    tx = book.post([gl.debit("assets:cash", value), gl.credit("equity:owner", value)])  # type: ignore[arg-type]
    assert book.balance("assets:cash") == Money(100, code) + tx.postings[0].amount
    return tx.postings[0].amount


def _transfer(value: object, code: str) -> Money:
    return _book(code).transfer("assets:cash", "equity:owner", value).postings[0].amount  # type: ignore[arg-type]


def _hold(value: object, code: str) -> Money:
    return _book(code).hold("equity:owner", "assets:cash", value).amount  # type: ignore[arg-type]


def _post_hold(value: object, code: str) -> Money:
    book = _book(code)
    hold = book.hold("equity:owner", "assets:cash", 100)
    return book.post_hold(hold, value).postings[0].amount  # type: ignore[arg-type]


def _convert(value: object, code: str) -> Money:
    book = _book(code)
    book.open_account("equity:dinars", "BHD", normal="credit")  # 3 digits: every value converts
    book.open_trading_account(code)
    book.open_trading_account("BHD")
    tx = book.convert("assets:cash", "equity:dinars", value, rate=1)  # type: ignore[arg-type]
    return tx.postings[0].amount


def _overdraft(value: object, code: str) -> Money:
    account = gl.Ledger().open_account("assets:cash", code, normal="credit", overdraft=value)  # type: ignore[arg-type]
    assert account.rule.min_balance is not None
    return gl.from_minor(-account.rule.min_balance, code)


WAYS: dict[str, Callable[[object, str], Money]] = {
    "fixed": _split_fixed,
    "cap": _split_cap,
    "debit": _debit,
    "transfer": _transfer,
    "hold": _hold,
    "post_hold": _post_hold,
    "convert": _convert,
    "overdraft": _overdraft,
}

# (way, value, unit, expected part in that unit)
READ_AS_MAJOR = [
    (way, value, code, Money(expected, code))
    for way in WAYS
    for value, expected in ((1, "1"), ("2.00", "2"), (Decimal("2"), "2"))
    for code in UNITS
] + [
    (way, value, code, Money(expected, code))
    for way in ("fixed", "cap", "debit")
    for value, code, expected in (
        ("0.01", "USD", "0.01"),
        ("2.5", "KWD", "2.500"),
        ("0.001", "KWD", "0.001"),
        ("2.50", "USD", "2.50"),
        (Money("3", "JPY"), "JPY", "3"),
        (Money("1.234", "KWD"), "KWD", "1.234"),
    )
]


@pytest.mark.parametrize(("way", "value", "code", "expected"), READ_AS_MAJOR)
def test_a_bare_number_is_read_in_major_units(
    way: str, value: object, code: str, expected: Money
) -> None:
    part = WAYS[way](value, code)
    assert part == expected
    assert part.currency.code == code
    # The part carries exactly the unit's exponent: 1.000 KWD, 1.00 USD, 1 JPY.
    assert part.amount.as_tuple().exponent == -gl.get_unit(code).exponent


def test_the_issue_examples_read_in_major_units() -> None:
    assert gl.split(Money("10.00", "USD"), [gl.fixed(1), gl.remaining()]) == (
        Money("1.00", "USD"),
        Money("9.00", "USD"),
    )
    assert gl.split(Money("10", "KWD"), [gl.fixed(1), gl.remaining()]) == (
        Money("1.000", "KWD"),
        Money("9.000", "KWD"),
    )
    assert gl.split(Money("10.00", "USD"), [gl.percent("50%", cap=1), gl.remaining()]) == (
        Money("1.00", "USD"),
        Money("9.00", "USD"),
    )
    assert gl.split(Money("10", "JPY"), [gl.percent("50%", cap="2.00"), gl.remaining()]) == (
        Money("2", "JPY"),
        Money("8", "JPY"),
    )


# (way, value, unit): values the unit's minor unit cannot hold
NOT_REPRESENTABLE = [
    (way, value, code)
    for way in WAYS
    for value, code in (
        ("0.001", "USD"),
        ("1.5", "JPY"),
        ("2.50", "JPY"),
        ("0.0001", "KWD"),
        (Decimal("1.005"), "USD"),
        (Money("0.001", "USD"), "USD"),
    )
]


@pytest.mark.parametrize(("way", "value", "code"), NOT_REPRESENTABLE)
def test_a_value_the_unit_cannot_hold_is_refused_not_rounded(
    way: str, value: object, code: str
) -> None:
    with pytest.raises(gl.ExcessPrecision) as info:
        WAYS[way](value, code)
    message = str(info.value)
    shown = str(value.amount) if isinstance(value, Money) else str(value)
    assert shown in message
    assert code in message
    assert f"({gl.get_unit(code).exponent}" in message


@pytest.mark.parametrize(("way", "code"), [(w, c) for w in WAYS for c in UNITS])
@pytest.mark.parametrize("value", [1.0, 0.5, True])
def test_a_float_or_bool_is_always_refused(way: str, code: str, value: object) -> None:
    with pytest.raises(gl.FloatNotAllowed) as info:
        WAYS[way](value, code)
    assert repr(value) in str(info.value)


@pytest.mark.parametrize(
    ("portions", "code", "expected"),
    [
        ([gl.fixed_minor(1), gl.remaining()], "USD", ("0.01", "9.99")),
        ([gl.fixed_minor(1), gl.remaining()], "KWD", ("0.001", "9.999")),
        ([gl.fixed_minor(1), gl.remaining()], "JPY", ("1", "9")),
        ([gl.percent("50%", cap_minor=150), gl.remaining()], "USD", ("1.50", "8.50")),
        ([gl.percent("50%", cap_minor=1500), gl.remaining()], "KWD", ("1.500", "8.500")),
        ([gl.percent("50%", cap_minor=2), gl.remaining()], "JPY", ("2", "8")),
    ],
)
def test_minor_units_are_read_only_behind_names_that_say_so(
    portions: list[gl.Portion], code: str, expected: tuple[str, str]
) -> None:
    assert gl.split(Money(10, code), portions) == tuple(Money(e, code) for e in expected)


def test_spellings_of_one_amount_build_equal_portions() -> None:
    assert gl.fixed(1) == gl.fixed("1") == gl.fixed("1.00") == gl.fixed(Decimal("1.000"))
    assert gl.percent("10%", cap=2) == gl.percent("10%", cap="2.00")
    assert gl.fixed(1) != gl.fixed_minor(1)


def test_a_count_total_reads_bare_numbers_as_counts() -> None:
    # An int total has no unit: it is a count of indivisible units, and so are its parts.
    assert gl.split(1000, [gl.fixed(1), gl.percent("50%", cap="300"), gl.remaining()]) == (
        1,
        300,
        699,
    )
    assert gl.split(10, [gl.fixed("2.00"), gl.fixed_minor(3), gl.remaining()]) == (2, 3, 5)
    with pytest.raises(gl.ExcessPrecision, match=r"1\.5 is not a whole number"):
        gl.split(10, [gl.fixed("1.5"), gl.remaining()])
    with pytest.raises(gl.CurrencyMismatch, match="int count"):
        gl.split(10, [gl.fixed(Money("1", "USD")), gl.remaining()])
    assert gl.allocate(15, [80, 8, 12]) == (13, 1, 1)


@pytest.mark.parametrize("total", ["10.00", Decimal("10"), 10.0])
def test_a_total_without_a_unit_must_be_money_or_a_count(total: object) -> None:
    for run in (
        lambda: gl.split(total, [gl.remaining()]),  # type: ignore[type-var]
        lambda: gl.allocate(total, [1, 1]),  # type: ignore[call-overload]
    ):
        with pytest.raises((gl.InvalidArgument, gl.FloatNotAllowed)) as info:
            run()
        assert repr(total) in str(info.value)


@st.composite
def major_specs(draw: st.DrawFn) -> tuple[Money, list[gl.Portion]]:
    """A Money total in USD, JPY or KWD and a spec whose bare numbers are major units
    the unit can hold, spelled as int, Decimal or decimal string."""
    code = draw(st.sampled_from(UNITS))
    unit = gl.get_unit(code)
    total = draw(glt.amounts(code, min_value=0, max_value=10**9))
    budget = gl.to_minor(total, code)

    def spelled(minor: int) -> object:
        major = Decimal(minor).scaleb(-unit.exponent)
        if minor % unit.scale == 0 and draw(st.booleans()):
            return minor // unit.scale
        return draw(st.sampled_from([major, str(major), Money(major, code)]))

    portions: list[gl.Portion] = []
    for _ in range(draw(st.integers(0, 3))):
        minor = draw(st.integers(0, budget))
        budget -= minor
        portions.append(gl.fixed(spelled(minor)) if draw(st.booleans()) else gl.fixed_minor(minor))  # type: ignore[arg-type]
    for _ in range(draw(st.integers(0, 3))):
        share = draw(st.fractions(0, 1, max_denominator=100))
        cap = draw(st.none() | st.integers(0, gl.to_minor(total, code)))
        if cap is None or draw(st.booleans()):
            portions.append(gl.percent(share / 4, cap=None if cap is None else spelled(cap)))  # type: ignore[arg-type]
        else:
            portions.append(gl.percent(share / 4, cap_minor=cap))
    portions.append(gl.remaining())
    return total, draw(st.permutations(portions))


@given(major_specs(), st.booleans())
def test_major_unit_parts_sum_to_the_whole(
    spec: tuple[Money, list[gl.Portion]], negative: bool
) -> None:
    total, portions = spec
    code = total.currency.code
    if negative:
        total = -total
    parts = gl.split(total, portions)
    assert sum(gl.to_minor(p, code) for p in parts) == gl.to_minor(total, code)
    for part, portion in zip(parts, portions, strict=True):
        assert part.currency.code == code
        magnitude = abs(gl.to_minor(part, code))
        if portion.amount is not None:
            assert magnitude == gl.to_minor(portion.amount, code)
        if portion.amount_minor is not None:
            assert magnitude == portion.amount_minor
        if portion.cap is not None:
            assert magnitude <= gl.to_minor(portion.cap, code)
        if portion.cap_minor is not None:
            assert magnitude <= portion.cap_minor


@given(
    st.sampled_from(UNITS),
    st.integers(1, 10**6),
    st.integers(1, 9),
)
def test_a_fixed_amount_finer_than_the_unit_is_refused(code: str, minor: int, extra: int) -> None:
    # minor units plus `extra` tenths of a minor unit: never representable in the unit.
    unit = gl.get_unit(code)
    value = Decimal(minor * 10 + extra).scaleb(-unit.exponent - 1)
    total = Money(10**7, code)
    for portion in (gl.fixed(value), gl.percent("50%", cap=str(value))):
        with pytest.raises(gl.ExcessPrecision) as info:
            gl.split(total, [portion, gl.remaining()])
        assert str(value) in str(info.value)
