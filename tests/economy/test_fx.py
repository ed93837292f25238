"""Dated exchange rates: exact, never guessed, and pluggable."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

import pytest
from moneyed import Money

import giftledger as gl
from giftledger._economy.fx import DatedRate, RateSource, RateTable, convert_at

JAN = datetime(2025, 1, 1, tzinfo=UTC)
FEB = datetime(2025, 2, 1, tzinfo=UTC)
MAR = datetime(2025, 3, 1, tzinfo=UTC)
APR = datetime(2025, 4, 1, tzinfo=UTC)


@pytest.fixture
def table() -> RateTable:
    # January and March are known; February is a gap.
    return RateTable.of(("USD", "EUR", "0.92", JAN, FEB), ("USD", "EUR", "23/25", MAR, None))


def test_rate_in_force_is_used_up_to_but_not_including_valid_to(table: RateTable) -> None:
    assert table.rate("USD", "EUR", JAN) == Fraction(23, 25)
    assert table.rate("USD", "EUR", FEB - timedelta(microseconds=1)) == Fraction(23, 25)
    assert table.rate("USD", "EUR", APR + timedelta(days=3650)) == Fraction(23, 25)


def test_a_gap_is_rate_unavailable_naming_pair_and_time(table: RateTable) -> None:
    with pytest.raises(gl.RateUnavailable, match=r"no USD/EUR rate at 2025-02-01T00:00:00\+00:00"):
        table.rate("USD", "EUR", FEB)
    with pytest.raises(gl.RateUnavailable, match=r"known: USD/EUR 2025-01-01"):
        table.rate("USD", "EUR", FEB + timedelta(days=3))
    with pytest.raises(LookupError):
        table.rate("USD", "EUR", JAN - timedelta(seconds=1))


def test_a_missing_pair_is_rate_unavailable(table: RateTable) -> None:
    with pytest.raises(gl.RateUnavailable, match=r"no USD/GBP rate at .*no rate for it"):
        table.rate("USD", "GBP", JAN)
    # No triangulation: EUR/GBP is not derived from anything.
    t2 = table.with_rate("USD", "GBP", "0.79", JAN)
    with pytest.raises(gl.RateUnavailable, match="EUR/GBP"):
        t2.rate("EUR", "GBP", JAN)


def test_the_inverse_pair_is_the_exact_reciprocal(table: RateTable) -> None:
    assert table.rate("EUR", "USD", JAN) == Fraction(25, 23)
    with pytest.raises(gl.RateUnavailable):
        table.rate("EUR", "USD", FEB)


def test_same_unit_is_one(table: RateTable) -> None:
    assert table.rate("USD", "USD", FEB) == 1


def test_overlapping_periods_are_refused() -> None:
    with pytest.raises(gl.InvalidArgument, match=r"rates for USD/EUR overlap"):
        RateTable.of(("USD", "EUR", "0.92", JAN, MAR), ("USD", "EUR", "0.95", FEB, None))
    with pytest.raises(gl.InvalidArgument, match=r"overlap"):
        RateTable.of(("USD", "EUR", "0.92", JAN, None), ("USD", "EUR", "0.95", FEB, None))


@pytest.mark.parametrize(
    ("row", "error", "message"),
    [
        (("USD", "EUR", 0.92, JAN, None), gl.FloatNotAllowed, "float"),
        (("USD", "EUR", "0", JAN, None), gl.InvalidArgument, "must be positive"),
        (("USD", "EUR", "-1", JAN, None), gl.InvalidArgument, "must be positive"),
        (("USD", "EUR", "abc", JAN, None), gl.InvalidArgument, "abc"),
        (("USD", "USD", "1", JAN, None), gl.InvalidArgument, "the same"),
        (("USD", "ZZZ", "1", JAN, None), gl.InvalidArgument, "ZZZ"),
        (("USD", "EUR", "1", datetime(2025, 1, 1), None), gl.InvalidArgument, "timezone-aware"),
        (("USD", "EUR", "1", FEB, JAN), gl.InvalidArgument, "is not after valid_from"),
    ],
)
def test_bad_rows_are_refused(row: tuple, error: type[Exception], message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(error, match=message):
        RateTable.of(row)


def test_a_naive_time_is_refused(table: RateTable) -> None:
    with pytest.raises(gl.InvalidArgument, match="timezone-aware"):
        table.rate("USD", "EUR", datetime(2025, 1, 5))


def test_rows_keep_their_source() -> None:
    src = gl.Source("ECB reference rate", date(2025, 1, 2), gl.Confidence.OFFICIAL)
    table = RateTable((DatedRate("USD", "EUR", Fraction(23, 25), JAN, None, src),))
    assert table.source_of("EUR", "USD", FEB) == src
    assert list(table.pairs()) == [("USD", "EUR")]


def test_convert_at_rounds_and_returns_the_rate(table: RateTable) -> None:
    amount, rate = convert_at(Money("10.00", "USD"), "EUR", JAN, table)
    assert amount == Money("9.20", "EUR")
    assert rate == Fraction(23, 25)
    amount, _ = convert_at(Money("0.01", "EUR"), "USD", JAN, table)  # 1.0869… cents
    assert amount == Money("0.01", "USD")
    with pytest.raises(gl.RateUnavailable):
        convert_at(Money("10.00", "USD"), "EUR", FEB, table)


class FixedSource:
    """A user's own rate source: anything with rate(base, quote, at)."""

    def rate(self, base: str, quote: str, at: datetime) -> Fraction:
        if (base, quote) == ("USD", "JPY"):
            return Fraction(150)
        raise gl.RateUnavailable(f"no {base}/{quote} rate at {at.isoformat()}")


def test_a_user_source_plugs_in() -> None:
    source = FixedSource()
    assert isinstance(source, RateSource)
    assert isinstance(RateTable(), RateSource)
    amount, rate = convert_at(Money("1.99", "USD"), "JPY", JAN, source)
    assert amount == Money("298", "JPY")
    assert rate == 150


def test_a_source_returning_a_float_is_refused() -> None:
    class Floaty:
        def rate(self, base: str, quote: str, at: datetime) -> Fraction:
            return 1.1  # type: ignore[return-value]

    with pytest.raises(gl.FloatNotAllowed, match="must return a Fraction"):
        convert_at(Money("1", "USD"), "EUR", JAN, Floaty())


RATES = """
[[rates]]
base = "USD"
quote = "EUR"
rate = "0.92"
valid_from = 2025-01-01
valid_to = 2025-02-01
source = { citation = "ECB reference rate", as_of = 2025-01-02, confidence = "official" }

[[rates]]
base = "USD"
quote = "EUR"
rate = "23/25"
valid_from = 2025-03-01T00:00:00Z
"""


def test_a_rate_table_loads_from_toml_and_round_trips() -> None:
    table = RateTable.from_toml(RATES)
    assert table.rate("USD", "EUR", JAN) == Fraction(23, 25)
    with pytest.raises(gl.RateUnavailable):
        table.rate("USD", "EUR", FEB)
    assert table.source_of("USD", "EUR", JAN) is not None
    assert RateTable.from_toml(table.to_toml()) == table


@pytest.mark.parametrize(
    ("old", "new", "error", "message"),
    [
        (
            'rate = "0.92"',
            "rate = 0.92",
            gl.FloatNotAllowed,
            r"^rates\[0\]\.rate: 0\.92 is a TOML float",
        ),
        (
            'rate = "0.92"',
            'rate = "-1"',
            gl.InvalidArgument,
            r"^rates\[0\]: rate USD/EUR: -1 must be positive",
        ),
        (
            'base = "USD"\nquote = "EUR"\nrate = "0.92"',
            'quote = "EUR"\nrate = "0.92"',
            gl.InvalidArgument,
            r"^rates\[0\]\.base: missing",
        ),
        ("valid_to = 2025-02-01", "valid_to = 2025-04-01", gl.InvalidArgument, r"overlap"),
        (
            "valid_to = 2025-02-01",
            "valid_until = 2025-02-01",
            gl.InvalidArgument,
            r"^rates\[0\]\.valid_until: unknown field",
        ),
    ],
)
def test_a_bad_rate_file_names_the_row(
    old: str, new: str, error: type[Exception], message: str
) -> None:
    assert old in RATES
    with pytest.raises(error, match=message):
        RateTable.from_toml(RATES.replace(old, new, 1))
