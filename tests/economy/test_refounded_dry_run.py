"""Issue 8, acceptance 3: a dry run of any chain operation leaves the store unchanged.

For every chain operation, ``dry_run=True`` checks everything and returns what it
would do, and writes nothing at all: the journal head (id and hash), the full list
of accounts (a first purchase on a new store, a first FX conversion or a first
withdrawal must not open their accounts), every balance and hold, and the
idempotency key (``book.find(key)`` stays None, and the same key then works for
the real call). On memory and on SQLite.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import attrs
import pytest
from moneyed import Money

import giftledger as gl

from .chainkit import simple_economy, usd

START = datetime(2025, 9, 1, 12, tzinfo=UTC)
RATES = {("USD", "EUR"): "0.92"}


def _economy() -> gl.Economy:
    """The chain kit's small economy (a EUR pack in DE, an Apple fee) with a rewards program."""
    econ = simple_economy(
        withdrawal=gl.WithdrawalPolicy(minimum=usd("10")),
        refunds=gl.RefundPolicy(spent_coins=gl.SpentCoinPolicy.PLATFORM_LOSS),
    )
    program = gl.RewardsProgram("fund", {"US": usd("1.00"), "*": usd("0.10")}, min_followers=100)
    return attrs.evolve(econ, versions=(attrs.evolve(econ.latest, rewards=(program,)),))


@pytest.fixture(params=["memory", "sqlite"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[gl.GiftEconomy]:
    """A chain with a viewer who spent a web lot on bob, and eva (paid in EUR) holding
    Diamonds she never converted; no withdrawal, no refund, no iOS sale yet."""
    clock = gl.ManualClock(START)
    if request.param == "memory":
        book = gl.Ledger(clock=clock)
    else:
        book = gl.Ledger.open(f"sqlite:///{tmp_path / 'dry.db'}", clock=clock)
    app = gl.GiftEconomy(book, _economy(), rates=RATES)
    app.open_viewer("v", region="US", age=30)
    app.open_viewer("hans", region="DE", age=30)
    app.open_creator("bob", region="US", age=30, verified=True)
    app.open_creator("eva", region="DE", age=30, payout_currency="EUR")
    app.buy_coins("v", pack=10000, channel="web", key="lot-1")
    app.buy_coins("v", pack=10000, channel="web", key="lot-2")
    app.send_gift("v", "bob", "Galaxy", 10)  # spends lot 1 whole: 10,000 Diamonds, $50
    app.send_gift("v", "eva", "Galaxy", 2)
    app.convert_diamonds("bob")
    yield app
    book.close()


Snapshot = tuple[object, ...]


def _snapshot(book: gl.Ledger) -> Snapshot:
    return (
        book.head,
        book.accounts(),  # every account, with its settings and metadata
        book.balances(),
        book.holds(pending_only=False),
        [(tx.id, tx.hash) for tx in book.transactions()],
    )


# name -> prepare(app) -> (dry(key), real(key)); the preparation is real, then snapshotted.
Op = Callable[[str, bool], object]
CASES: dict[str, Callable[[gl.GiftEconomy], Op]] = {}


def case(fn: Callable[[gl.GiftEconomy], Op]) -> Callable[[gl.GiftEconomy], Op]:
    CASES[fn.__name__] = fn
    return fn


@case
def buy_coins(app: gl.GiftEconomy) -> Op:
    return lambda key, dry: app.buy_coins("v", pack=100, channel="web", key=key, dry_run=dry)


@case
def buy_coins_first_on_a_new_store(app: gl.GiftEconomy) -> Op:
    # iOS (Apple) has sold nothing yet: its store and fee accounts do not exist.
    return lambda key, dry: app.buy_coins("v", pack=1400, channel="ios", key=key, dry_run=dry)


@case
def buy_coins_in_a_foreign_currency(app: gl.GiftEconomy) -> Op:
    # The DE iOS pack is in EUR: store accounts in EUR and trading accounts, all new.
    return lambda key, dry: app.buy_coins("hans", pack=1400, channel="ios", key=key, dry_run=dry)


@case
def buy_coins_first_for_a_new_viewer(app: gl.GiftEconomy) -> Op:
    app.open_viewer("newbie", region="US", age=30)
    return lambda key, dry: app.buy_coins("newbie", pack=100, channel="web", key=key, dry_run=dry)


@case
def send_gift(app: gl.GiftEconomy) -> Op:
    return lambda key, dry: app.send_gift("v", "bob", "Galaxy", 2, key=key, dry_run=dry)


@case
def send_gift_first_to_a_new_creator(app: gl.GiftEconomy) -> Op:
    app.open_creator("newcomer", region="US", age=30)
    return lambda key, dry: app.send_gift("v", "newcomer", "Rose", key=key, dry_run=dry)


@case
def convert_diamonds(app: gl.GiftEconomy) -> Op:
    app.send_gift("v", "bob", "Galaxy", 2)
    return lambda key, dry: app.convert_diamonds("bob", key=key, dry_run=dry)


@case
def convert_diamonds_first_through_fx(app: gl.GiftEconomy) -> Op:
    # eva is paid in EUR: her first conversion needs the trading accounts.
    return lambda key, dry: app.convert_diamonds("eva", key=key, dry_run=dry)


@case
def request_withdrawal_first_ever(app: gl.GiftEconomy) -> Op:
    # No withdrawal yet: payouts-in-flight does not exist.
    return lambda key, dry: app.request_withdrawal("bob", usd("20"), key=key, dry_run=dry)


@case
def request_withdrawal_all(app: gl.GiftEconomy) -> Op:
    app.request_withdrawal("bob", usd("10"))
    return lambda key, dry: app.request_withdrawal("bob", "all", key=key, dry_run=dry)


@case
def complete_withdrawal(app: gl.GiftEconomy) -> Op:
    w = app.request_withdrawal("bob", usd("20"))
    return lambda key, dry: app.complete_withdrawal(w, dry_run=dry)


@case
def fail_withdrawal(app: gl.GiftEconomy) -> Op:
    w = app.request_withdrawal("bob", usd("20"))
    return lambda key, dry: app.fail_withdrawal(w, dry_run=dry)


@case
def refund_purchase(app: gl.GiftEconomy) -> Op:
    # Lot 1 was spent on bob: its spent value is a platform loss, on a new account.
    return lambda key, dry: app.refund_purchase("lot-1", key=key, dry_run=dry)


@case
def refund_purchase_unspent(app: gl.GiftEconomy) -> Op:
    app.buy_coins("v", pack=100, channel="web", key="lot-3")  # after lot 2: none spent
    return lambda key, dry: app.refund_purchase("lot-3", key=key, dry_run=dry)


@case
def chargeback(app: gl.GiftEconomy) -> Op:
    return lambda key, dry: app.chargeback("lot-1", key=key, dry_run=dry)


@case
def pay_views(app: gl.GiftEconomy) -> Op:
    return lambda key, dry: app.pay_views(
        "bob",
        "2025-09",
        {"US": 10_000},
        followers=1_000,
        views_30d=0,
        video_seconds=0,
        key=key,
        dry_run=dry,
    )


@case
def pay_views_first_through_fx(app: gl.GiftEconomy) -> Op:
    return lambda key, dry: app.pay_views(
        "eva",
        "2025-09",
        {"DE": 10_000},
        followers=1_000,
        views_30d=0,
        video_seconds=0,
        key=key,
        dry_run=dry,
    )


@case
def update_creator(app: gl.GiftEconomy) -> Op:
    return lambda key, dry: app.update_creator(  # type: ignore[attr-defined]
        "eva", verified=True, age=31, key=key, dry_run=dry
    )


@case
def update_viewer(app: gl.GiftEconomy) -> Op:
    return lambda key, dry: app.update_viewer(  # type: ignore[attr-defined]
        "v", region="DE", key=key, dry_run=dry
    )


KEYLESS = {"complete_withdrawal", "fail_withdrawal"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_dry_run_writes_nothing(world: gl.GiftEconomy, name: str) -> None:
    app, book = world, world.ledger
    op = CASES[name](app)
    key = f"dry-{name}"
    before = _snapshot(book)
    quoted = op(key, True)
    assert quoted is not None
    after = _snapshot(book)
    assert after[0] == before[0], "the journal head moved"
    new = sorted({a.name for a in after[1]} - {a.name for a in before[1]})
    assert new == [], f"a dry run opened {new}"
    assert after == before
    if name not in KEYLESS:
        assert book.find(key) is None, "a dry run recorded its idempotency key"
    # The same key (and a second dry run) still work; the real call then writes.
    assert op(key, True) is not None
    assert _snapshot(book) == before
    op(key, False)
    assert book.head[0] > before[0][0]
    book.verify()


def test_a_dry_run_of_a_refused_request_remembers_nothing(world: gl.GiftEconomy) -> None:
    app, book = world, world.ledger
    before = _snapshot(book)
    with pytest.raises(gl.InsufficientFunds):  # 8,000 coins left; a Lion costs 29,999
        app.send_gift("v", "bob", "Lion", key="lion-1", dry_run=True)
    assert _snapshot(book) == before
    assert book.find("lion-1") is None
    for _ in range(3):
        app.buy_coins("v", pack=10000, channel="web")
    # Had the dry run remembered its failure under the key, this would replay it.
    app.send_gift("v", "bob", "Lion", key="lion-1")
    assert book.balance("viewers:v:coins") == Money(38000 - 29999, "COIN")
    assert book.find("lion-1") is not None
