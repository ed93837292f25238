"""Withdrawals: threshold, daily cap, fee, eligibility, and the atomic check-and-hold."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from moneyed import Money

import giftledger as gl

from .chainkit import T0, app_for, simple_economy, snapshot, tiktok, usd


def _fund(app: gl.GiftEconomy, creator: str, lions: int, viewer: str = "fan") -> None:
    """Give ``creator`` cash: each Lion (29,999 coins) converts to $149.99 under Model A."""
    app.open_viewer(viewer, region="US")
    for _ in range(lions * 3):
        app.buy_coins(viewer, pack=17500, channel="web")
    app.send_gift(viewer, creator, "Lion", lions)
    app.convert_diamonds(creator)


@pytest.fixture
def funded() -> tuple[gl.Ledger, gl.ManualClock, gl.GiftEconomy]:
    book, clock, app = tiktok()
    app.open_creator("bob", region="US", age=30)
    _fund(app, "bob", 1)  # $149.99
    return book, clock, app


def test_one_cent_below_the_minimum_fails_and_writes_nothing(funded) -> None:  # type: ignore[no-untyped-def]
    book, _, app = funded
    before = snapshot(book)
    with pytest.raises(gl.BelowWithdrawalThreshold, match=r"99\.99 USD.*minimum of 100"):
        app.request_withdrawal("bob", usd("99.99"))
    assert snapshot(book) == before
    w = app.request_withdrawal("bob", usd("100.00"))
    assert w.amount == usd("100.00")
    assert w.net == usd("100.00")
    assert w.fee == usd("0.00")
    assert book.available("creators:bob:cash") == usd("49.99")
    assert w.due_by == w.requested_at + timedelta(days=15 + 21)


def test_withdraw_all_takes_the_available_balance_and_completion_pays_the_bank(funded) -> None:  # type: ignore[no-untyped-def]
    book, _, app = funded
    w = app.request_withdrawal("bob", "all", key="wd-1")
    assert w.amount == usd("149.99")
    assert app.request_withdrawal("bob", "all", key="wd-1").id == w.id  # replay
    app.complete_withdrawal(w)
    app.complete_withdrawal(w)  # idempotent: finishing twice pays once
    assert book.balance("creators:bob:cash") == usd("0.00")
    assert book.balance("assets:bank") == usd("-149.99")
    assert book.balance("liabilities:payouts-in-flight") == usd("0.00")
    assert app.withdrawal(w.id).status is gl.HoldStatus.POSTED


def test_a_request_says_its_holds_status_new_or_replayed(funded) -> None:  # type: ignore[no-untyped-def]
    """A hold the call placed is pending, as written (not read again); a replayed key
    gives the hold's status now, which may have moved on."""
    _, _, app = funded
    _fund(app, "bob", 2, viewer="fan-2")  # $449.97 in all
    w = app.request_withdrawal("bob", usd("100"), key="wd-1")
    assert w.status is gl.HoldStatus.PENDING
    assert app.request_withdrawal("bob", usd("100"), key="wd-1") == w  # replay, still pending
    app.complete_withdrawal(w)
    again = app.request_withdrawal("bob", usd("100"), key="wd-1")
    assert (again.id, again.status) == (w.id, gl.HoldStatus.POSTED)
    # A dry run replays the key too, and says so (it said PENDING before).
    looked = app.request_withdrawal("bob", usd("100"), key="wd-1", dry_run=True)
    assert (looked.id, looked.status) == (w.id, gl.HoldStatus.POSTED)
    assert app.request_withdrawal("bob", usd("100"), dry_run=True).status is gl.HoldStatus.PENDING
    other = app.request_withdrawal("bob", "all", key="wd-2")
    app.fail_withdrawal(other)
    assert app.request_withdrawal("bob", "all", key="wd-2").status is gl.HoldStatus.VOIDED
    assert app.request_withdrawal("bob", "all", key="wd-3").status is gl.HoldStatus.PENDING


def test_a_failed_withdrawal_voids_the_hold(funded) -> None:  # type: ignore[no-untyped-def]
    book, _, app = funded
    w = app.request_withdrawal("bob", usd("120"))
    assert book.available("creators:bob:cash") == usd("29.99")
    app.fail_withdrawal(w)
    assert book.available("creators:bob:cash") == usd("149.99")
    assert app.withdrawal(w.id).status is gl.HoldStatus.VOIDED
    with pytest.raises(gl.HoldNotPending):
        app.complete_withdrawal(w)


def test_the_daily_cap_splits_a_large_balance_over_days() -> None:
    book, clock, app = tiktok()
    app.open_creator("bob", region="US", age=30)
    _fund(app, "bob", 17)  # 17 Lions: 509,983 Diamonds = $2,549.91
    assert book.balance("creators:bob:cash") == usd("2549.91")
    amounts = []
    for day in range(3):
        w = app.request_withdrawal("bob", "all")
        amounts.append(w.amount)
        with pytest.raises(gl.LimitExceeded if day < 2 else gl.InsufficientFunds):
            app.request_withdrawal("bob", usd("100"))
        app.complete_withdrawal(w)
        clock.advance(timedelta(days=1))
    assert amounts == [usd("1000.00"), usd("1000.00"), usd("549.91")]
    assert book.balance("creators:bob:cash") == usd("0.00")


def test_an_explicit_amount_over_the_daily_cap_is_limit_exceeded(funded) -> None:  # type: ignore[no-untyped-def]
    book, _, app = funded
    _fund(app, "bob", 7, viewer="whale")
    before = snapshot(book)
    with pytest.raises(gl.LimitExceeded, match="daily cap of 1000"):
        app.request_withdrawal("bob", usd("1000.01"))
    assert snapshot(book) == before


def test_a_failed_withdrawal_frees_the_days_cap(funded) -> None:  # type: ignore[no-untyped-def]
    _book, _, app = funded
    _fund(app, "bob", 7, viewer="whale")
    w = app.request_withdrawal("bob", usd("1000"))
    app.fail_withdrawal(w)
    assert app.request_withdrawal("bob", usd("1000")).amount == usd("1000.00")


def _policy_app(**policy: object) -> tuple[gl.Ledger, gl.ManualClock, gl.GiftEconomy]:
    econ = simple_economy(withdrawal=gl.WithdrawalPolicy(**policy))  # type: ignore[arg-type]
    book, clock, app = app_for(econ)
    app.open_viewer("v", region="US")
    app.buy_coins("v", pack=10000, channel="web")
    return book, clock, app


def _earn(app: gl.GiftEconomy, creator: str) -> None:
    app.send_gift("v", creator, "Galaxy", 10)  # 10,000 Diamonds = $50.00
    app.convert_diamonds(creator)


def test_the_fee_is_taken_from_the_amount_and_booked_as_revenue() -> None:
    book, _, app = _policy_app(
        minimum=usd("10"), fee_fixed=usd("0.30"), fee_rate=Fraction(29, 1000)
    )
    app.open_creator("bob", region="US", age=30)
    _earn(app, "bob")
    w = app.request_withdrawal("bob", usd("20"))
    assert w.fee == usd("0.88")  # 0.58 + 0.30
    assert w.net == usd("19.12")
    app.complete_withdrawal(w)
    assert book.balance("revenue:withdrawal-fees") == usd("0.88")
    assert book.balance("assets:bank") == usd("-19.12")
    assert book.balance("creators:bob:cash") == usd("30.00")


@pytest.mark.parametrize(
    ("attrs", "policy", "match"),
    [
        ({"age": 17}, {"min_age": 18}, "is 17"),
        ({"age": 30, "verified": False}, {"requires_verification": True}, "not verified"),
        ({"age": 30, "region": "FR"}, {"regions": frozenset({"US", "DE"})}, "region 'FR'"),
    ],
)
def test_a_creator_who_is_not_eligible_cannot_withdraw(
    attrs: dict[str, object], policy: dict[str, object], match: str
) -> None:
    book, _, app = _policy_app(**policy)
    attrs = {"region": "US", **attrs}
    app.open_creator("bob", **attrs)  # type: ignore[arg-type]
    _earn(app, "bob")
    before = snapshot(book)
    with pytest.raises(gl.NotEligible, match=match):
        app.request_withdrawal("bob", "all")
    assert snapshot(book) == before


def test_a_verified_adult_in_an_open_region_can_withdraw() -> None:
    _, _, app = _policy_app(min_age=18, requires_verification=True, regions=frozenset({"US"}))
    app.open_creator("bob", region="US", age=18, verified=True)
    _earn(app, "bob")
    assert app.request_withdrawal("bob", "all").amount == usd("50.00")


def test_weekly_cap_and_withdrawals_per_week() -> None:
    _, clock, app = _policy_app(weekly_cap=usd("30"), withdrawals_per_week=2)
    app.open_creator("bob", region="US")
    _earn(app, "bob")
    app.request_withdrawal("bob", usd("10"))
    clock.advance(timedelta(days=1))
    with pytest.raises(gl.LimitExceeded, match="weekly cap"):
        app.request_withdrawal("bob", usd("25"))
    app.request_withdrawal("bob", usd("5"))
    with pytest.raises(gl.LimitExceeded, match="2 withdrawal"):
        app.request_withdrawal("bob", usd("1"))
    clock.advance(timedelta(days=7))
    app.request_withdrawal("bob", usd("1"))


def test_payout_in_another_currency_goes_through_fx_with_the_rate_stored() -> None:
    econ = simple_economy(withdrawal=gl.WithdrawalPolicy(minimum=usd("10")))
    rates = {("USD", "EUR"): "0.92"}
    book, _, app = app_for(econ, rates=rates)
    app.open_viewer("v", region="US")
    app.buy_coins("v", pack=10000, channel="web")
    app.open_creator("eva", region="DE", payout_currency="EUR")
    app.send_gift("v", "eva", "Galaxy", 10)
    tx = app.convert_diamonds("eva")
    assert book.balance("creators:eva:cash") == Money("46.00", "EUR")
    assert [str(r) for r in tx.rates] == ["USD/EUR=23/25"]
    assert book.balance("trading:USD") == usd("-50.00")  # trading accounts are debit-normal
    # The minimum is in USD: 9.19 EUR is 9.99 USD at 0.92 (rounded half even), below 10.
    with pytest.raises(gl.BelowWithdrawalThreshold):
        app.request_withdrawal("eva", Money("9.19", "EUR"))
    w = app.request_withdrawal("eva", Money("9.20", "EUR"))
    app.complete_withdrawal(w)
    assert book.balance("assets:bank:EUR") == Money("-9.20", "EUR")


def test_racing_threads_cannot_both_pass_the_threshold(funded) -> None:  # type: ignore[no-untyped-def]
    book, _, app = funded  # $149.99: room for one $100 withdrawal, not two
    results: list[object] = []
    start = threading.Barrier(8)

    def go(i: int) -> None:
        start.wait()
        try:
            results.append(app.request_withdrawal("bob", usd("100"), key=f"race-{i}"))
        except gl.GiftLedgerError as exc:
            results.append(exc)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    passed = [r for r in results if isinstance(r, gl.Withdrawal)]
    assert len(passed) == 1
    assert all(isinstance(r, gl.InsufficientFunds) for r in results if r not in passed)
    assert book.available("creators:bob:cash") == usd("49.99")
    book.verify()


_WORKER = textwrap.dedent(
    """
    import sys, time
    from datetime import datetime
    import giftledger as gl
    from moneyed import Money
    url, start, key = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    econ = gl.presets.load("tiktok-live")
    clock = gl.ManualClock(datetime.fromisoformat(sys.argv[4]))
    book = gl.Ledger.open(url, clock=clock)
    app = gl.GiftEconomy(book, econ)
    while time.time() < start:
        time.sleep(0.001)
    try:
        w = app.request_withdrawal("bob", Money("100", "USD"), key=key)
        print("ok", w.id)
    except gl.GiftLedgerError as exc:
        print("refused", type(exc).__name__)
    """
)


def test_racing_processes_on_one_sqlite_file_cannot_both_pass(tmp_path: Path) -> None:
    import time

    url = f"sqlite:///{tmp_path / 'race.db'}"
    econ = gl.presets.load("tiktok-live")
    with gl.Ledger.open(url, clock=gl.ManualClock(T0)) as book:
        app = gl.GiftEconomy(book, econ)
        app.open_creator("bob", region="US", age=30)
        _fund(app, "bob", 1)
    worker = tmp_path / "worker.py"
    worker.write_text(_WORKER)
    start = time.time() + 1.5
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [
        subprocess.Popen(
            [sys.executable, str(worker), url, str(start), f"p{i}", T0.isoformat()],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(3)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    lines = [o.strip() for o, _ in outs]
    assert sum(line.startswith("ok") for line in lines) == 1, (lines, [e for _, e in outs])
    assert sum(line == "refused InsufficientFunds" for line in lines) == 2, lines
    with gl.Ledger.open(url, clock=gl.ManualClock(T0)) as book:
        assert book.available("creators:bob:cash") == usd("49.99")
        book.verify()


def test_dry_runs_of_a_withdrawal_write_nothing(funded) -> None:  # type: ignore[no-untyped-def]
    book, _, app = funded
    before = snapshot(book)
    w = app.request_withdrawal("bob", "all", dry_run=True)
    assert w.amount == usd("149.99")
    assert snapshot(book) == before
    real = app.request_withdrawal("bob", "all")
    after = snapshot(book)
    posted = app.complete_withdrawal(real, dry_run=True)
    assert posted.kind is gl.EntryKind.POST_HOLD
    assert app.fail_withdrawal(real, dry_run=True).kind is gl.EntryKind.VOID_HOLD
    assert snapshot(book) == after
    app.complete_withdrawal(real)
    assert book.balance("assets:bank") == usd("-149.99")


@pytest.mark.parametrize("amount", [100, "100", "100.00", Decimal("100.0"), usd("100")])
def test_a_bare_withdrawal_amount_is_in_major_units_of_the_payout_currency(
    funded,  # type: ignore[no-untyped-def]
    amount: object,
) -> None:
    _, _, app = funded
    w = app.request_withdrawal("bob", amount, dry_run=True)
    assert w.amount == usd("100.00")


@pytest.mark.parametrize(
    ("amount", "error", "shown"),
    [
        ("100.001", gl.ExcessPrecision, "100.001"),
        (Decimal("100.005"), gl.ExcessPrecision, "100.005"),
        (100.0, gl.FloatNotAllowed, "100.0"),
        (Money("100", "EUR"), gl.CurrencyMismatch, "EUR"),
    ],
)
def test_a_withdrawal_amount_the_currency_cannot_hold_is_refused(
    funded,  # type: ignore[no-untyped-def]
    amount: object,
    error: type[gl.GiftLedgerError],
    shown: str,
) -> None:
    book, _, app = funded
    before = snapshot(book)
    with pytest.raises(error, match=shown):
        app.request_withdrawal("bob", amount)
    assert snapshot(book) == before


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_creator_without_a_cash_account_is_unknown_to_a_withdrawal(
    kind: str, tmp_path: Path
) -> None:
    """An earlier release opened a creator's accounts in separate writes: a crash between
    them left a profile (the Diamond account's metadata) and no cash account. Such a
    creator is unknown to a withdrawal and to ``can_withdraw``, as before the payout
    currency came from the process's profile, and nothing is written without a key."""
    from giftledger._ledger.model import Account

    url = "memory:" if kind == "memory" else f"sqlite:///{tmp_path / 'half.db'}"
    econ = gl.presets.load("tiktok-live")
    book = gl.Ledger.open(url, clock=gl.ManualClock(econ.latest.effective_from))
    app = gl.GiftEconomy(book, econ)
    meta = {"gl.role": "creator", "gl.payout_currency": "USD", "gl.age": 30}
    with book.store.write() as w:  # as the earlier release's first write left it
        w.add_account(
            Account(
                "creators:leg:diamonds",
                "DIAMOND",
                gl.Side.CREDIT,
                gl.BalanceRule.non_negative(),
                metadata=tuple(sorted(meta.items())),
            )
        )
    assert app.creator("leg").payout_currency == "USD"  # its profile is there
    head = book.head
    for call in (
        lambda: app.request_withdrawal("leg", "all"),
        lambda: app.request_withdrawal("leg", usd("150")),
        lambda: app.can_withdraw("leg"),
    ):
        with pytest.raises(gl.UnknownParty, match="leg"):
            call()
    assert book.head == head
    book.close()
