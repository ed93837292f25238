"""Issue 8, acceptance 4: parties are journaled records that can change.

New API (issue 8, "Chain state in the store"):

- ``app.update_creator(name, *, region=..., age=..., verified=..., payout_currency=...,
  effective_at=None, key=None)``
- ``app.update_viewer(name, *, region=..., age=..., effective_at=None, key=None)``

Only the fields given change. A change is an entry in the journal, covered by
``verify()``, shown on the creator's statement, and every check uses the value in
force: a withdrawal refused for want of identity verification goes through once
``update_creator(name, verified=True)`` records the check. Opening a party again
with other attributes is refused instead of being silently ignored.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from moneyed import Money

import giftledger as gl

from .chainkit import app_for, simple_economy, usd

POLICY = gl.WithdrawalPolicy(
    minimum=usd("10"),
    requires_verification=True,
    min_age=18,
    regions=frozenset({"US", "DE"}),
)


def _app() -> tuple[gl.Ledger, gl.ManualClock, gl.GiftEconomy]:
    book, clock, app = app_for(simple_economy(withdrawal=POLICY))
    app.open_viewer("v", region="US", age=30)
    app.buy_coins("v", pack=10000, channel="web")
    app.buy_coins("v", pack=10000, channel="web")
    return book, clock, app


def _earn(app: gl.GiftEconomy, creator: str) -> None:
    app.send_gift("v", creator, "Galaxy", 10)  # 10,000 Diamonds = $50.00
    app.convert_diamonds(creator)


def test_recording_a_kyc_check_lets_a_refused_withdrawal_through() -> None:
    book, clock, app = _app()
    app.open_creator("bob", region="US", age=30, verified=False)
    _earn(app, "bob")
    with pytest.raises(gl.NotEligible, match="not verified"):
        app.request_withdrawal("bob", usd("20"))
    statement_before = str(app.statement("bob"))
    assert not re.search("verif", statement_before, re.IGNORECASE)

    clock.advance(timedelta(hours=1))
    head = book.head
    result = app.update_creator("bob", verified=True, key="kyc-bob")  # type: ignore[attr-defined]
    # The change is in the journal: new entries after the old head, found by its key.
    new = list(book.transactions(head[0] + 1))
    assert new, "update_creator wrote no journal entry"
    # The caller's key is kept in the change's record (the entry's own key indexes
    # the party's records).
    recorded = next(tx for tx in new if getattr(gl.record_of(tx), "key", None) == "kyc-bob")
    assert recorded.id in {tx.id for tx in new}
    if isinstance(result, gl.Transaction):
        assert result.id == recorded.id
        assert result.hash == recorded.hash
    # The same key and request replay, writing nothing.
    assert book.head == (new[-1].id, new[-1].hash)
    app.update_creator("bob", verified=True, key="kyc-bob")  # type: ignore[attr-defined]
    assert book.head == (new[-1].id, new[-1].hash)
    book.verify()

    w = app.request_withdrawal("bob", usd("20"))
    assert w.amount == usd("20.00")
    assert book.available("creators:bob:cash") == usd("30.00")

    statement_after = str(app.statement("bob"))
    assert re.search("verif", statement_after, re.IGNORECASE), statement_after
    book.verify()


def test_only_the_given_fields_change() -> None:
    book, _, app = _app()
    app.open_creator("bob", region="US", age=30, verified=False)
    _earn(app, "bob")
    app.update_creator("bob", verified=True)  # type: ignore[attr-defined]
    # Region (US, open) and age (30) were kept: the withdrawal is allowed.
    app.request_withdrawal("bob", usd("10"))
    app.update_creator("bob", region="FR")  # type: ignore[attr-defined]
    with pytest.raises(gl.NotEligible, match="FR"):
        app.request_withdrawal("bob", usd("10"))
    app.update_creator("bob", region="DE")  # type: ignore[attr-defined]
    app.request_withdrawal("bob", usd("10"))  # still verified, still 30
    app.update_creator("bob", age=17)  # type: ignore[attr-defined]
    with pytest.raises(gl.NotEligible, match="17"):
        app.request_withdrawal("bob", usd("10"))
    book.verify()


def test_a_payout_currency_change_is_refused_naming_both_currencies() -> None:
    # The creator's cash account holds one currency; a change of payout currency
    # would need a second cash account, which the chain does not model yet.
    book, _, app = app_for(simple_economy(withdrawal=POLICY), rates={("USD", "EUR"): "0.92"})
    app.open_creator("eva", region="DE", age=30, verified=True)
    head = book.head
    with pytest.raises(gl.InvalidArgument, match=r"USD.*EUR"):
        app.update_creator("eva", payout_currency="EUR")
    assert book.head == head
    app.update_creator("eva", payout_currency="USD")  # no change: allowed
    book.verify()


def test_a_back_dated_kyc_check_is_in_force_now() -> None:
    book, clock, app = _app()
    app.open_creator("bob", region="US", age=30)
    _earn(app, "bob")
    clock.advance(timedelta(days=2))
    app.update_creator(  # type: ignore[attr-defined]
        "bob", verified=True, effective_at=clock.now() - timedelta(days=1)
    )
    assert app.request_withdrawal("bob", usd("10")).amount == usd("10.00")
    book.verify()


def test_update_viewer_changes_what_the_buying_checks_see() -> None:
    book, _, app = app_for(simple_economy(withdrawal=POLICY), rates={("USD", "EUR"): "0.92"})
    app.open_viewer("kid", region="US", age=16)
    with pytest.raises(gl.NotEligible, match="16"):
        app.buy_coins("kid", pack=100, channel="web")
    head = book.head
    app.update_viewer("kid", age=18, key="birthday")  # type: ignore[attr-defined]
    # The chain's record of the change, then the KEY entry of its alias.
    added = list(book.transactions(head[0] + 1))
    assert [tx.kind for tx in added] == [gl.EntryKind.NOTE, gl.EntryKind.KEY]
    assert gl.record_of(added[0]).key == "birthday"  # type: ignore[union-attr]
    assert added[1].meta["gl.transaction"] == added[0].id
    app.buy_coins("kid", pack=100, channel="web")
    assert book.balance("viewers:kid:coins") == Money(100, "COIN")
    # Region only: the age stays 18, and the DE pack (in EUR) is the one sold now.
    app.update_viewer("kid", region="DE")  # type: ignore[attr-defined]
    app.buy_coins("kid", pack=1400, channel="ios")
    assert book.balance("assets:stores:apple:EUR") == Money("13.99", "EUR")
    book.verify()


def test_updating_an_unknown_party_is_unknown_account() -> None:
    _, _, app = _app()
    with pytest.raises(gl.UnknownAccount):
        app.update_creator("nobody", verified=True)  # type: ignore[attr-defined]
    with pytest.raises(gl.UnknownAccount):
        app.update_viewer("nobody", age=30)  # type: ignore[attr-defined]


@pytest.mark.parametrize("fresh", [False, True], ids=["same-app", "new-app"])
def test_reopening_a_creator_with_other_attributes_is_refused(fresh: bool) -> None:
    book, _, app = _app()
    app.open_creator("bob", region="US", age=30, verified=False)
    app.open_creator("bob", region="US", age=30, verified=False)  # the same: idempotent
    again = gl.GiftEconomy(book, app.economy) if fresh else app
    with pytest.raises((gl.AccountExists, gl.InvalidArgument)):
        again.open_creator("bob", region="US", age=30, verified=True)
    with pytest.raises((gl.AccountExists, gl.InvalidArgument)):
        again.open_creator("bob", region="DE", age=30, verified=False)
    # bob stays unverified: the refused re-open changed nothing.
    _earn(app, "bob")
    with pytest.raises(gl.NotEligible):
        again.request_withdrawal("bob", usd("20"))


@pytest.mark.parametrize("fresh", [False, True], ids=["same-app", "new-app"])
def test_reopening_a_viewer_with_other_attributes_is_refused(fresh: bool) -> None:
    book, _, app = _app()
    again = gl.GiftEconomy(book, app.economy) if fresh else app
    app.open_viewer("v", region="US", age=30)  # the same: idempotent
    with pytest.raises((gl.AccountExists, gl.InvalidArgument)):
        again.open_viewer("v", region="US", age=12)


def test_an_update_that_loses_to_other_writers_every_time_is_a_write_conflict(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each attempt builds on the latest record; one that another writer beat (its key
    taken) runs again, 16 times at most, and then says so as a retryable WriteConflict
    naming the party (it was a bare AssertionError), having written nothing."""
    book, _, app = app_for(simple_economy())
    app.open_creator("cara", age=30)
    head = book.head
    attempts = []

    def beaten(*args: object, **kwargs: object) -> gl.Transaction:
        attempts.append(args)
        raise gl.DuplicateKeyConflict("idempotency key 'gl:party:creator:cara:1' is taken")

    monkeypatch.setattr(app, "_write_party", beaten)
    with pytest.raises(gl.WriteConflict, match="creator 'cara'") as caught:
        app.update_creator("cara", verified=True)
    assert caught.value.retryable
    assert len(attempts) == 16
    assert book.head == head
