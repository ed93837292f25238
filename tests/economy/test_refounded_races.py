"""Issue 8, acceptance 1: the daily withdrawal cap holds under races and clocks that step back.

tiktok-live's current rules (v3, from 2025-08-15) let a creator withdraw at most
US$1,000 per UTC calendar day, at least US$100 at a time. Eight processes, each
with its own ledger on one store, race $100 requests for one creator who holds
far more than the cap; however they interleave, the withdrawals requested on one
day (counted from the journal: the withdrawal holds on the creator's cash, by the
``recorded_at`` of the entry that placed them, voided ones left out) never
exceed $1,000, and no caller sees anything but the rules' refusals.

In one process, a clock that steps back a minute between two requests must not
let a second day's worth through: ``recorded_at`` never goes backwards within a
ledger, and a withdrawal recorded on a day counts against that day.
"""

from __future__ import annotations

import multiprocessing
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from moneyed import Money

import giftledger as gl

from ..stores.conftest import postgres_server, postgres_url  # noqa: F401 - fixtures
from . import refounded_worker as worker

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 8
ATTEMPTS = 4  # per process: 32 requests of $100 against a cap of ten
CAP = 100_000  # cents: $1,000
FLIGHT = "liabilities:payouts-in-flight"


def withdrawn_per_day(book: gl.Ledger, creator: str) -> dict[date, int]:
    """Cents of the creator's withdrawals per UTC day of ``recorded_at``, from the journal.

    A withdrawal is a hold on ``creators:<c>:cash`` toward payouts in flight; voided
    (failed) and expired ones do not count, posted ones count what was posted.
    """
    cash = f"creators:{creator}:cash"
    days: dict[date, int] = defaultdict(int)
    for h in book.holds(cash, pending_only=False):
        if h.debit != cash or not h.credit.startswith(FLIGHT):
            continue
        if h.status in (gl.HoldStatus.VOIDED, gl.HoldStatus.EXPIRED):
            continue
        placed = book.transaction(h.id)
        minor = h.posted_minor if h.status is gl.HoldStatus.POSTED else h.minor
        days[placed.recorded_at.astimezone(UTC).date()] += minor
    return dict(days)


def _setup(url: str) -> None:
    with gl.Ledger.open(url, clock=gl.ManualClock(worker.DAY - timedelta(hours=1))) as book:
        app = gl.GiftEconomy(book, worker.economy())
        app.open_creator("bob", region="US", age=30, verified=True)
        worker.fund_creator(app, "bob", 17)  # 17 Lions: $2,549.91, beyond two days' cap
        assert book.balance("creators:bob:cash") == Money("2549.91", "USD")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def race_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'race.db'}"
    return str(request.getfixturevalue("postgres_url"))


def test_eight_processes_never_withdraw_more_than_the_daily_cap(
    race_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    # The spawned processes import the worker by module name: put the checkout on
    # the path they inherit.
    monkeypatch.syspath_prepend(str(ROOT))
    from tests.economy import refounded_worker

    _setup(race_url)
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    barrier = ctx.Barrier(PROCESSES)
    wall0 = time.time()
    procs = [
        ctx.Process(
            target=refounded_worker.race,
            args=(race_url, i, ATTEMPTS, wall0, barrier, out),
        )
        for i in range(PROCESSES)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=180) for _ in procs]
    for p in procs:
        p.join(60)
        assert p.exitcode == 0

    errors = [e for _, _, _, errs in results for e in errs]
    assert errors == [], "only the rules' refusals may reach a caller:\n" + "\n".join(errors)
    granted = [g for _, gs, _, _ in results for g in gs]
    refused = [r for _, _, rs, _ in results for r in rs]
    assert len(granted) + len(refused) == PROCESSES * ATTEMPTS
    total = sum(cents for _, cents in granted)
    assert total <= CAP, f"${total / 100:,.2f} withdrawn in one day against a $1,000 cap"
    assert total == CAP  # the cash was there: the cap, not the balance, stopped the rest
    assert "LimitExceeded" in refused

    with gl.Ledger.open(race_url, clock=gl.ManualClock(worker.DAY + timedelta(hours=1))) as book:
        days = withdrawn_per_day(book, "bob")
        assert all(cents <= CAP for cents in days.values()), days
        assert sum(days.values()) == total
        placed = {
            h.id
            for h in book.holds("creators:bob:cash", pending_only=False)
            if h.credit.startswith(FLIGHT)
        }
        assert placed == {wid for wid, _ in granted}  # every grant is in the journal, once
        assert (
            book.available("creators:bob:cash")
            == Money("2549.91", "USD") - Money(total, "USD") / 100
        )
        assert book.trial_balance().is_balanced
        book.verify()


# -- a clock that steps back ---------------------------------------------------------------


class SteppingClock:
    """A clock that can be set anywhere, backwards too: a server whose NTP steps it back.

    (:class:`giftledger.ManualClock` refuses to go backwards, so this is a
    :class:`giftledger.Clock` of its own.)
    """

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


MIDNIGHT = datetime(2025, 9, 2, tzinfo=UTC)
Request = Callable[[Money], object]


@pytest.fixture(params=["memory", "sqlite"])
def clock_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return "memory:" if request.param == "memory" else f"sqlite:///{tmp_path / 'clock.db'}"


@pytest.fixture
def funded_store(clock_url: str) -> Iterator[gl.Store]:
    """A store where bob holds $2,549.91 of cash, funded the day before ``MIDNIGHT``."""
    store = gl.MemoryStore() if clock_url == "memory:" else None
    book = (
        gl.Ledger(store, clock=gl.ManualClock(MIDNIGHT - timedelta(hours=12)))
        if store is not None
        else gl.Ledger.open(clock_url, clock=gl.ManualClock(MIDNIGHT - timedelta(hours=12)))
    )
    app = gl.GiftEconomy(book, worker.economy())
    app.open_creator("bob", region="US", age=30, verified=True)
    worker.fund_creator(app, "bob", 17)
    yield book.store
    book.close()


def _request(app: gl.GiftEconomy, amount: Money) -> object:
    try:
        return app.request_withdrawal("bob", amount)
    except gl.GiftLedgerError as exc:  # a refusal (LimitExceeded, or a clock behind the head)
        return exc


# (first request's time, second request's time: one minute earlier)
STEPS = {
    "across-midnight": (MIDNIGHT + timedelta(seconds=30), MIDNIGHT - timedelta(seconds=30)),
    "within-the-day": (MIDNIGHT + timedelta(seconds=90), MIDNIGHT + timedelta(seconds=30)),
}


@pytest.mark.parametrize("step", sorted(STEPS))
@pytest.mark.parametrize("clocks", ["one-clock-stepping-back", "two-servers-a-minute-apart"])
def test_a_clock_stepping_back_a_minute_cannot_double_the_days_cap(
    funded_store: gl.Store, step: str, clocks: str
) -> None:
    first_at, second_at = STEPS[step]
    econ = worker.economy()
    if clocks == "one-clock-stepping-back":
        clock = SteppingClock(first_at)
        book = gl.Ledger(funded_store, clock=clock)
        app = gl.GiftEconomy(book, econ)
        first = _request(app, Money("1000", "USD"))
        clock.at = second_at  # NTP steps the server's clock back one minute
        second = _request(app, Money("1000", "USD"))
    else:
        # Two application servers on one store; the second's clock is a minute behind.
        book = gl.Ledger(funded_store, clock=gl.ManualClock(first_at))
        behind = gl.Ledger(funded_store, clock=gl.ManualClock(second_at))
        first = _request(gl.GiftEconomy(book, econ), Money("1000", "USD"))
        second = _request(gl.GiftEconomy(behind, econ), Money("1000", "USD"))
    assert isinstance(first, gl.Withdrawal), first

    days = withdrawn_per_day(book, "bob")
    assert all(cents <= CAP for cents in days.values()), (
        f"more than $1,000 recorded in one UTC day: {days}; second request: {second!r}"
    )
    entries = list(book.transactions())
    times = [tx.recorded_at for tx in entries]
    assert times == sorted(times), "recorded_at went backwards: " + ", ".join(
        f"#{tx.id} {tx.recorded_at.isoformat()}" for tx in entries[-3:]
    )
    book.verify()
