"""Balance monitors: each crossing once, with its entry; running balances from the feed."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

import giftledger as gl


def _book() -> gl.Ledger:
    book = gl.Ledger()
    book.open_account("revenue:gifts", "USD", rule=gl.BalanceRule.unrestricted())
    for name in ("bob", "cat"):
        book.open_account(f"creators:{name}:cash", "USD", normal="credit")
        book.open_account(f"creators:{name}:diamonds", "USD", normal="credit")
    return book


def test_a_crossing_fires_once_not_again_while_above_and_again_after_dropping_below() -> None:
    book = _book()
    monitor = gl.BalanceMonitor(book)
    monitor.watch("creators:*:cash", ">=", Money("10.00", "USD"))
    pay = lambda a, to="creators:bob:cash": book.transfer("revenue:gifts", to, a)  # noqa: E731
    back = lambda a: book.transfer("creators:bob:cash", "revenue:gifts", a)  # noqa: E731
    pay("4.00")
    pay("5.99")  # 9.99: below
    up = pay("0.01")  # 10.00: crosses
    pay("50.00")  # still above: no second crossing
    pay("1.00", "creators:bob:diamonds")  # not watched
    back("55.00")  # 5.00: below again
    back("1.00")
    again = pay("6.00")  # 10.00: crosses again
    other = pay("12.00", "creators:cat:cash")  # another account: its own crossing
    found = list(monitor.crossings())
    assert [(c.account, c.entry.id, c.balance, c.before) for c in found] == [
        ("creators:bob:cash", up.id, Money("10.00", "USD"), Money("9.99", "USD")),
        ("creators:bob:cash", again.id, Money("10.00", "USD"), Money("4.00", "USD")),
        ("creators:cat:cash", other.id, Money("12.00", "USD"), Money("0.00", "USD")),
    ]
    assert found[0].cursor == gl.FeedCursor.of(up)
    assert monitor.cursor == gl.FeedCursor.of(other)
    assert monitor.balance("creators:bob:cash") == book.balance("creators:bob:cash")


def test_a_monitor_resumed_at_a_cursor_starts_from_the_balance_there() -> None:
    book = _book()
    first = book.transfer("revenue:gifts", "creators:bob:cash", "20.00")  # above before it
    cursor = gl.FeedCursor.of(first)
    book.transfer("revenue:gifts", "creators:bob:cash", "1.00")  # still above: no crossing
    book.transfer("creators:bob:cash", "revenue:gifts", "15.00")  # below
    last = book.transfer("revenue:gifts", "creators:bob:cash", "4.00")  # crosses
    monitor = gl.BalanceMonitor(book, [gl.Watch("creators:bob:cash", ">=", "10.00")])
    assert [c.entry.id for c in monitor.crossings(after=cursor)] == [last.id]


def test_below_conditions_holds_and_reversals() -> None:
    book = gl.Ledger()
    book.open_account("platform:coin-supply", "COIN", rule=gl.BalanceRule.unrestricted())
    book.open_account(
        "viewers:al:coins", "COIN", normal="credit", rule=gl.BalanceRule.overdraft(100)
    )
    monitor = gl.BalanceMonitor(book, [gl.Watch("viewers:", "<", 0, name="in debt")])
    book.transfer("platform:coin-supply", "viewers:al:coins", 5)
    hold = book.hold("viewers:al:coins", "platform:coin-supply", 30)  # pending: no move
    posted = book.post_hold(hold)  # -25: into debt
    fix = book.transfer("platform:coin-supply", "viewers:al:coins", 30)
    again = book.reverse(fix)  # -25 again
    found = list(monitor.crossings())
    assert [(c.watch.name, c.entry.id, c.balance) for c in found] == [
        ("in debt", posted.id, Money(-25, "COIN")),
        ("in debt", again.id, Money(-25, "COIN")),
    ]


def test_a_threshold_in_another_currency_is_converted_at_the_entrys_rate(
    clock: gl.ManualClock,
) -> None:
    book = gl.Ledger(clock=clock)
    book.open_account("revenue:gifts", "EUR", rule=gl.BalanceRule.unrestricted())
    book.open_account("creators:eva:cash", "EUR", normal="credit")
    asked: list[tuple[str, str, datetime]] = []

    def rates(base: str, quote: str, at: datetime) -> Fraction:
        asked.append((base, quote, at))
        return Fraction(9, 10) if at.month == 1 else Fraction(1, 2)  # 1 USD = 0.9 / 0.5 EUR

    monitor = gl.BalanceMonitor(book, rates=rates)
    monitor.watch("creators:eva:cash", ">=", Money("10.00", "USD"))
    book.transfer("revenue:gifts", "creators:eva:cash", "8.99")  # < 9.00 EUR
    clock.set(datetime(2026, 2, 1, tzinfo=clock.now().tzinfo))
    book.transfer("creators:eva:cash", "revenue:gifts", "4.00")  # 4.99 < 5.00 EUR
    feb = book.transfer("revenue:gifts", "creators:eva:cash", "0.01")  # 5.00 >= 5.00 EUR
    found = list(monitor.crossings())
    assert [c.entry.id for c in found] == [feb.id]  # at January's rate 5.00 < 9.00
    assert {(b, q) for b, q, _ in asked} == {("USD", "EUR")}
    no_rates = gl.BalanceMonitor(book, [gl.Watch("creators:eva:cash", ">=", Money(1, "USD"))])
    with pytest.raises(gl.RateUnavailable, match="no rates"):
        list(no_rates.crossings())


def test_observe_refuses_entries_out_of_order_and_bad_watches() -> None:
    book = _book()
    one = book.transfer("revenue:gifts", "creators:bob:cash", "1.00")
    two = book.transfer("revenue:gifts", "creators:bob:cash", "1.00")
    monitor = gl.BalanceMonitor(book, [gl.Watch("creators:*:cash", ">", 0)])
    monitor.observe(one)
    with pytest.raises(gl.InvalidArgument, match="not the next entry"):
        monitor.observe(one)
    assert monitor.observe(two) == ()
    for bad in (("", ">=", 1), ("a", "=>", 1), ("a", ">=", 1.5), ("a", ">=", "ten")):
        with pytest.raises((gl.InvalidArgument, gl.FloatNotAllowed, gl.InvalidAmount)):
            gl.Watch(*bad)  # type: ignore[arg-type]
    with pytest.raises(gl.InvalidArgument):
        gl.BalanceMonitor("book")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("pattern", "yes", "no"),
    [
        ("creators:*:cash", ["creators:bob:cash"], ["creators:bob:x:cash", "creators:cash"]),
        ("creators:**:cash", ["creators:a:b:cash", "creators:a:cash"], ["creators:cash"]),
        ("platform:", ["platform:fees", "platform:a:b"], ["platform", "platformx:a"]),
        ("creators:b*:cash", ["creators:bob:cash", "creators:b:cash"], ["creators:al:cash"]),
        ("a.b[1]", ["a.b[1]"], ["axb1"]),
    ],
)
def test_patterns(pattern: str, yes: list[str], no: list[str]) -> None:
    watch = gl.Watch(pattern, ">=", 0)
    assert all(watch.matches(n) for n in yes)
    assert not any(watch.matches(n) for n in no)


_MOVES = st.lists(
    st.tuples(st.sampled_from(["bob", "cat"]), st.integers(-800, 800)), min_size=1, max_size=30
)


@given(moves=_MOVES, threshold=st.integers(0, 1500), start=st.integers(0, 30))
def test_crossings_match_a_scan_of_every_balance_after_every_entry(
    moves: list[tuple[str, int]], threshold: int, start: int
) -> None:
    book = gl.Ledger()
    book.open_account("revenue:gifts", "USD", rule=gl.BalanceRule.unrestricted())
    for name in ("bob", "cat"):
        book.open_account(
            f"creators:{name}:cash", "USD", normal="credit", rule=gl.BalanceRule.unrestricted()
        )
    for name, cents in moves:
        if cents:
            amount = Money(Decimal(abs(cents)).scaleb(-2), "USD")
            a, b = "revenue:gifts", f"creators:{name}:cash"
            book.transfer(*((a, b) if cents > 0 else (b, a)), amount)
    head = book.head[0]
    start = min(start, head)
    cursor = None if start == 0 else gl.FeedCursor.of(book.transaction(start))
    limit = Money(Decimal(threshold).scaleb(-2), "USD")
    monitor = gl.BalanceMonitor(book, [gl.Watch("creators:*:cash", ">=", limit)])
    got = [(c.account, c.entry.id) for c in monitor.crossings(after=cursor)]
    expected = []
    for entry in book.transactions(start + 1):
        for name in sorted({p.account for p in entry.postings}):
            if not name.startswith("creators:"):
                continue
            before = book.balance(name, recorded_through=entry.id - 1)
            after = book.balance(name, recorded_through=entry.id)
            if before < limit <= after:
                expected.append((name, entry.id))
    assert sorted(got) == sorted(expected)
    for name in ("bob", "cat"):
        seen = monitor.balance(f"creators:{name}:cash")
        assert seen is None or seen == book.balance(f"creators:{name}:cash")


def test_a_failed_observe_changes_nothing_and_a_retry_counts_the_entry_once() -> None:
    # A rate that is not available yet (RateUnavailable) used to leave the entry's
    # movement applied to the running balance: the retry counted it twice and
    # reported a crossing the books never made.
    book = _book()
    available = False

    def rates(base: str, quote: str, at: datetime) -> Fraction:
        if not available:
            raise gl.RateUnavailable("no EUR/USD rate yet")
        return Fraction(1)

    monitor = gl.BalanceMonitor(
        book, [gl.Watch("creators:*:cash", ">=", Money("10.00", "EUR"))], rates=rates
    )
    first = book.transfer("revenue:gifts", "creators:bob:cash", "6.00")
    with pytest.raises(gl.RateUnavailable):
        monitor.observe(first)
    assert monitor.cursor is None
    assert monitor.balance("creators:bob:cash") is None
    available = True
    assert monitor.observe(first) == ()  # 6.00 < 10.00: no crossing
    assert monitor.balance("creators:bob:cash") == Money("6.00", "USD")
    second = book.transfer("revenue:gifts", "creators:bob:cash", "1.00")
    assert monitor.observe(second) == ()
    assert monitor.balance("creators:bob:cash") == book.balance("creators:bob:cash")


def test_a_failure_on_a_later_account_leaves_the_earlier_ones_untouched() -> None:
    book = _book()
    calls = []

    def limit(entry: gl.Transaction) -> Money:
        calls.append(entry.id)
        if len(calls) == 2:  # the entry's second watched account
            raise gl.RateUnavailable("the rules are not loaded yet")
        return Money("5.00", "USD")

    monitor = gl.BalanceMonitor(book, [gl.Watch("creators:*:cash", ">=", limit)])
    both = book.post(
        [
            gl.debit("revenue:gifts", "12.00"),
            gl.credit("creators:bob:cash", "6.00"),
            gl.credit("creators:cat:cash", "6.00"),
        ]
    )
    with pytest.raises(gl.RateUnavailable):
        monitor.observe(both)
    assert monitor.balance("creators:bob:cash") is None
    found = monitor.observe(both)
    assert sorted(c.account for c in found) == ["creators:bob:cash", "creators:cat:cash"]
    assert monitor.balance("creators:bob:cash") == Money("6.00", "USD")


def test_crossings_do_not_depend_on_where_the_monitor_started() -> None:
    # A threshold that changes over time (new rules, a moved exchange rate): each entry
    # is compared before and after with the threshold in force for it, so a monitor
    # restarted at any cursor reports exactly the crossings after that cursor that one
    # running from the start reports (the payout worker relies on it).
    book = _book()
    base = book.head[0]  # the accounts' definitions: the pays below count from it

    def limit(entry: gl.Transaction) -> Money:
        return Money("100.00" if entry.id <= base + 2 else "50.00", "USD")

    pay = lambda a: book.transfer("revenue:gifts", "creators:bob:cash", a)  # noqa: E731
    pay("70.00")  # 1: 70 < 100
    pay("0.01")  # 2: 70.01 < 100
    pay("5.00")  # 3: 75.01, and the threshold is now 50: no entry moved it across 50
    book.transfer("creators:bob:cash", "revenue:gifts", "40.00")  # 4: 35.01 < 50
    up = pay("20.00")  # 5: 55.01 >= 50: a crossing
    pay("50.00")  # 6: still above
    book.transfer("creators:bob:cash", "revenue:gifts", "5.00")  # 7: 100.01 still above
    runs = {}
    for start in range(book.head[0] + 1):
        monitor = gl.BalanceMonitor(book, [gl.Watch("creators:bob:cash", ">=", limit)])
        cursor = None if start == 0 else gl.FeedCursor.of(book.transaction(start))
        runs[start] = [c.entry.id for c in monitor.crossings(after=cursor)]
    assert runs[0] == [up.id]
    for start, got in runs.items():
        assert got == [i for i in runs[0] if i > start], start


def test_a_threshold_finer_than_the_accounts_unit_is_compared_exactly() -> None:
    book = _book()
    monitor = gl.BalanceMonitor(book, [gl.Watch("creators:bob:cash", ">=", "10.005")])
    book.transfer("revenue:gifts", "creators:bob:cash", "10.00")  # below 10.005
    up = book.transfer("revenue:gifts", "creators:bob:cash", "0.01")  # 10.01 >= 10.005
    assert [c.entry.id for c in monitor.crossings()] == [up.id]
