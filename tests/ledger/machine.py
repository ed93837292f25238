"""A Hypothesis state machine that drives a ledger against a plain reference model.

The machine opens and closes accounts, posts balanced transactions (some under
idempotency keys, some as dry runs), converts between units through trading
accounts, places holds and posts (fully or partly), voids or lets them expire
on a ManualClock, and reverses entries. Before each call the reference model —
dicts of ints — predicts the outcome: the entry id a success gets, or the
error a failure raises (and that nothing changes). After every step it checks:

- the trial balance is zero in every unit and matches the model's totals;
- every account's posted, pending and available balances match the model;
- no account bound by a balance rule is below its rule;
- ``verify()`` passes and counts every entry.

It is built by :func:`make_ledger_machine` from a factory, so every store can
run the same machine::

    SqliteMachine = make_ledger_machine(lambda clock: gl.Ledger(SqliteStore(...), clock=clock))
    run_state_machine_as_test(SqliteMachine, settings=machine_settings())
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

import giftledger as gl
import giftledger.testing as glt

__all__ = ["UNITS", "LedgerFactory", "machine_settings", "make_ledger_machine"]

LedgerFactory = Callable[[gl.ManualClock], gl.Ledger]

gl.register_unit("COIN", 0, singular="coin")
gl.register_unit("DIAMOND", 0, singular="diamond")

#: The units the machine opens accounts in: two virtual, one fiat with cents.
UNITS = ("COIN", "DIAMOND", "USD")
START = datetime(2026, 1, 1, tzinfo=UTC)
_POSTED = ("post", "post_hold", "reversal")


def machine_settings(**overrides: Any) -> settings:
    """Fast defaults; ``GIFTLEDGER_STATEFUL_EXAMPLES`` / ``_STEPS`` ask for more."""
    values: dict[str, Any] = {
        "max_examples": int(os.environ.get("GIFTLEDGER_STATEFUL_EXAMPLES", "100")),
        "stateful_step_count": int(os.environ.get("GIFTLEDGER_STATEFUL_STEPS", "30")),
        "deadline": None,
        "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much],
    }
    values.update(overrides)
    return settings(**values)


@dataclass
class MAccount:
    name: str
    unit: str
    normal: gl.Side
    floor: int | None
    trading: bool
    net: int = 0  # posted debits - credits, minor units
    closed: bool = False


@dataclass
class MHold:
    id: int
    debit: str
    credit: str
    minor: int
    expires_at: datetime | None
    status: str = "pending"  # pending | posted | voided | expired (recorded)
    resolved_by: int | None = None  # the entry that posted, voided or expired it


class Model:
    """The reference: plain dicts of ints, no giftledger logic beyond to_minor."""

    def __init__(self) -> None:
        self.now = START
        self.accounts: dict[str, MAccount] = {}
        self.holds: dict[int, MHold] = {}
        self.kinds: dict[int, str] = {}  # entry id -> kind
        self.postings: dict[int, list[tuple[str, int]]] = {}  # posted entries: (account, signed)
        self.reversed: set[int] = set()
        self.effective: dict[int, datetime] = {}  # posted entry id -> effective_at
        self.recorded: dict[int, datetime] = {}  # every entry id -> recorded_at
        self.debits: dict[str, int] = {}
        self.credits: dict[str, int] = {}

    @property
    def next_id(self) -> int:
        return len(self.kinds) + 1

    def live(self, h: MHold) -> bool:
        return h.status == "pending" and (h.expires_at is None or self.now < h.expires_at)

    def pending(self, name: str, live_only: bool = True) -> tuple[int, int]:
        pd = pc = 0
        for h in self.holds.values():
            if h.status != "pending" or (live_only and not self.live(h)):
                continue
            if h.debit == name:
                pd += h.minor
            if h.credit == name:
                pc += h.minor
        return pd, pc

    def posted(self, a: MAccount) -> int:
        return a.net if a.normal is gl.Side.DEBIT else -a.net

    def net_at(self, name: str, at: datetime | None, through: int | None) -> int:
        """``debits - credits`` of ``name`` effective at or before ``at``, recorded up
        to entry ``through`` (either bound may be None)."""
        return sum(
            signed
            for id, postings in self.postings.items()
            if (through is None or id <= through) and (at is None or self.effective[id] <= at)
            for n, signed in postings
            if n == name
        )

    def pending_at(self, name: str, at: datetime | None, through: int | None) -> tuple[int, int]:
        """Pending debits and credits of ``name`` at a past cut: holds placed within it,
        not resolved within it, and not past their expiry by then."""

        def within(id: int) -> bool:
            effective = self.effective.get(id, self.recorded[id])  # holds: when placed
            return (through is None or id <= through) and (at is None or effective <= at)

        horizon = at
        if horizon is None and through is not None and through >= 1:
            horizon = self.recorded[through]
        pd = pc = 0
        for h in self.holds.values():
            if not within(h.id) or (h.resolved_by is not None and within(h.resolved_by)):
                continue
            if h.expires_at is not None and horizon is not None and h.expires_at <= horizon:
                continue
            if h.debit == name:
                pd += h.minor
            if h.credit == name:
                pc += h.minor
        return pd, pc

    def available(self, a: MAccount) -> int:
        pd, pc = self.pending(a.name)
        return a.net - pc if a.normal is gl.Side.DEBIT else -a.net - pd

    def breaks_rule(self, deltas: dict[str, tuple[int, int, int]]) -> str | None:
        """The first account a change of (net, pending debits, pending credits) would
        take below its rule, where that change lowers its available balance."""
        for name, (dnet, dpd, dpc) in deltas.items():
            a = self.accounts[name]
            if a.floor is None or a.trading:
                continue
            before = self.available(a)
            after = before + dnet - dpc if a.normal is gl.Side.DEBIT else before - dnet - dpd
            if after < before and after < a.floor:
                return name
        return None

    def apply(
        self, kind: str, postings: list[tuple[str, int]], effective_at: datetime | None = None
    ) -> int:
        id = self.next_id
        self.kinds[id] = kind
        self.recorded[id] = self.now
        if kind in _POSTED:
            self.postings[id] = postings
            self.effective[id] = self.now if effective_at is None else effective_at
            for name, signed in postings:
                a = self.accounts[name]
                a.net += signed
                book = self.debits if signed > 0 else self.credits
                book[a.unit] = book.get(a.unit, 0) + abs(signed)
        return id


def _deltas(postings: list[tuple[str, int]]) -> dict[str, tuple[int, int, int]]:
    out: dict[str, tuple[int, int, int]] = {}
    for name, signed in postings:
        out[name] = (out.get(name, (0, 0, 0))[0] + signed, 0, 0)
    return out


def _predict(model: Model, postings: list[tuple[str, int]]) -> type[gl.GiftLedgerError] | None:
    """The error posting ``postings`` on ``model``'s state raises, or None."""
    if any(model.accounts[n].closed for n, _ in postings):
        return gl.AccountClosed
    if model.breaks_rule(_deltas(postings)) is not None:
        return gl.InsufficientFunds
    return None


def make_ledger_machine(ledger_factory: LedgerFactory) -> type[RuleBasedStateMachine]:
    """Build the state machine class for ledgers made by ``ledger_factory(clock)``.

    The factory must return a new, empty ledger on a new store each call; the
    machine closes it at teardown.
    """

    class LedgerMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.clock = gl.ManualClock(START)
            self.book = ledger_factory(self.clock)
            self.model = Model()
            self.keys: dict[str, tuple[list[gl.PostingSpec], object]] = {}

        def teardown(self) -> None:
            self.book.close()

        # -- helpers ---------------------------------------------------------------------

        def expect_failure(
            self, error: type[gl.GiftLedgerError], call: Callable[[], object]
        ) -> None:
            before = self.book.head
            try:
                call()
            except error:
                pass
            else:
                raise AssertionError(f"expected {error.__name__}")
            assert self.book.head == before

        def open_names(self, unit: str | None = None, *, trading: bool = True) -> list[str]:
            return sorted(
                a.name
                for a in self.model.accounts.values()
                if not a.closed and (unit is None or a.unit == unit) and (trading or not a.trading)
            )

        def predict_post(self, postings: list[tuple[str, int]]) -> type[gl.GiftLedgerError] | None:
            return _predict(self.model, postings)

        def _open(
            self, name: str, unit: str, normal: gl.Side, rule: gl.BalanceRule, trading: bool = False
        ) -> None:
            existing = self.model.accounts.get(name)
            wanted = MAccount(name, unit, normal, rule.min_balance, trading)
            same = existing is not None and (
                (existing.unit, existing.normal, existing.floor, existing.trading, existing.closed)
                == (unit, normal, rule.min_balance, trading, False)
            )
            if existing is not None and not same:
                self.expect_failure(
                    gl.AccountExists,
                    lambda: self.book.open_account(
                        name, unit, normal=normal, rule=rule, trading=trading
                    ),
                )
                return
            account = self.book.open_account(name, unit, normal=normal, rule=rule, trading=trading)
            assert (account.name, account.unit, account.normal) == (name, unit, normal)
            assert account.rule == rule
            if existing is None:
                self.model.accounts[name] = wanted
                self.model.apply("account", [])  # its definition is journaled
            assert self.book.head[0] == self.model.next_id - 1  # an open twice: no entry

        # -- rules -----------------------------------------------------------------------

        @initialize()
        def open_world_and_trading_accounts(self) -> None:
            for unit in UNITS:
                self._open(f"world:{unit}", unit, gl.Side.DEBIT, gl.BalanceRule.unrestricted())
                self._open(
                    f"trading:{unit}",
                    unit,
                    gl.Side.DEBIT,
                    gl.BalanceRule.unrestricted(),
                    trading=True,
                )

        @rule(
            name=glt.account_names(max_depth=3),
            unit=st.sampled_from(UNITS),
            normal=st.sampled_from(gl.Side),
            rule=st.one_of(
                st.just(gl.BalanceRule.non_negative()),
                st.integers(0, 2000).map(gl.BalanceRule.overdraft),
                st.just(gl.BalanceRule.unrestricted()),
            ),
        )
        def open_account(self, name: str, unit: str, normal: gl.Side, rule: gl.BalanceRule) -> None:
            self._open(name, unit, normal, rule)

        @rule(data=st.data())
        def close_account(self, data: st.DataObject) -> None:
            # World and trading accounts stay open so money keeps flowing.
            names = sorted(
                n for n in self.model.accounts if not n.startswith(("world:", "trading:"))
            )
            if not names:
                return
            name = data.draw(st.sampled_from(names))
            a = self.model.accounts[name]
            if a.net or any(self.model.pending(name, live_only=False)):
                self.expect_failure(gl.InvalidArgument, lambda: self.book.close_account(name))
                return
            assert self.book.close_account(name).closed
            if not a.closed:  # closing a closed account journals nothing
                a.closed = True
                self.model.apply("account", [])  # the closed definition is journaled
            assert self.book.head[0] == self.model.next_id - 1

        @rule(data=st.data(), mode=st.sampled_from(["plain", "keyed", "dry_run", "back_dated"]))
        def post(self, data: st.DataObject, mode: str) -> None:
            accounts = {n: self.model.accounts[n].unit for n in self.model.accounts}
            specs = data.draw(glt.balanced_postings(accounts, max_minor=5000), label="postings")
            self._post(specs, mode, data)

        def _post(self, specs: list[gl.PostingSpec], mode: str, data: st.DataObject) -> None:
            postings = [
                (
                    s.account,
                    s.side.sign * gl.to_minor(s.amount, self.model.accounts[s.account].unit),
                )
                for s in specs
            ]
            error = self.predict_post(postings)
            key = f"key-{len(self.keys)}" if mode == "keyed" else None
            dry = mode == "dry_run"
            effective_at = None
            if mode == "back_dated":
                hours = data.draw(st.integers(1, 2000), label="back-dated by hours")
                effective_at = self.model.now - timedelta(hours=hours)

            def call() -> gl.Transaction:
                return self.book.post(specs, key=key, dry_run=dry, effective_at=effective_at)

            if error is not None:
                if key is None:
                    self.expect_failure(error, call)
                    return
                # A failure remembered under a key moves nothing, but its record is
                # journaled (a KEY entry), so the chain covers it.
                with pytest.raises(error):
                    call()
                kid = self.model.apply("key", [])
                assert self.book.head[0] == kid
                assert self.book.transaction(kid).kind is gl.EntryKind.KEY
                self.keys[key] = (specs, error)
                return
            tx = call()
            assert tx.id == self.model.next_id
            assert tx.effective_at == (effective_at or self.model.now)
            assert tx.recorded_at == self.model.now
            if dry:
                assert self.book.head[0] == tx.id - 1
                return
            assert sorted((p.account, p.signed) for p in tx.postings) == sorted(postings)
            self.model.apply("post", postings, effective_at)
            if key is not None:
                self.keys[key] = (specs, tx)

        @rule(data=st.data(), hours=st.integers(-2000, 2000))
        def balance_in_time(self, data: st.DataObject, hours: int) -> None:
            name = data.draw(st.sampled_from(sorted(self.model.accounts)))
            a = self.model.accounts[name]
            at = data.draw(st.none() | st.just(self.model.now + timedelta(hours=hours)))
            through = data.draw(st.none() | st.integers(0, self.model.next_id - 1))
            net = self.model.net_at(name, at, through)
            expected = gl.from_minor(net if a.normal is gl.Side.DEBIT else -net, a.unit)
            assert self.book.balance(name, at=at, recorded_through=through) == expected
            if at is None and through is None:
                return
            pd, pc = self.model.pending_at(name, at, through)
            posted = net if a.normal is gl.Side.DEBIT else -net
            available = posted - (pc if a.normal is gl.Side.DEBIT else pd)
            got = self.book.account_balance(name, at=at, recorded_through=through)
            assert (got.posted, got.pending_debits, got.pending_credits, got.available) == tuple(
                gl.from_minor(v, a.unit) for v in (posted, pd, pc, available)
            )

        @rule(data=st.data(), atomic=st.booleans(), dry=st.booleans())
        def post_many(self, data: st.DataObject, atomic: bool, dry: bool) -> None:
            accounts = {n: self.model.accounts[n].unit for n in self.model.accounts}
            batch = data.draw(
                st.lists(glt.balanced_postings(accounts, max_minor=5000), min_size=1, max_size=4),
                label="batch",
            )
            # Predict each request against the state the ones before it leave.
            sim = copy.deepcopy(self.model)
            expected: list[type[gl.GiftLedgerError] | int] = []
            for specs in batch:
                postings = [
                    (s.account, s.side.sign * gl.to_minor(s.amount, sim.accounts[s.account].unit))
                    for s in specs
                ]
                error = _predict(sim, postings)
                expected.append(error if error is not None else sim.apply("post", postings))
            errors = [e for e in expected if not isinstance(e, int)]
            if atomic:
                if errors:
                    assert isinstance(errors[0], type)
                    self.expect_failure(
                        errors[0], lambda: self.book.post_many(batch, atomic=True, dry_run=dry)
                    )
                    return
                txs = self.book.post_many(batch, atomic=True, dry_run=dry)
                assert [tx.id for tx in txs] == expected
            else:
                before = self.book.head
                results = self.book.post_many(batch, atomic=False, dry_run=dry)
                assert len(results) == len(expected)
                for got, want in zip(results, expected, strict=True):
                    if isinstance(want, int):
                        assert isinstance(got, gl.Transaction)
                        assert got.id == want
                    else:
                        assert isinstance(got, want), (got, want)
                if dry:
                    assert self.book.head == before
            if not dry:
                self.model = sim

        @precondition(lambda self: bool(self.keys))
        @rule(data=st.data(), same=st.booleans())
        def replay_key(self, data: st.DataObject, same: bool) -> None:
            key = data.draw(st.sampled_from(sorted(self.keys)))
            specs, outcome = self.keys[key]
            if not same:
                # Other content under the same key: an extra memo is enough.
                self.expect_failure(
                    gl.DuplicateKeyConflict,
                    lambda: self.book.post(specs, key=key, memo="other content"),
                )
            elif isinstance(outcome, gl.Transaction):
                before = self.book.head
                assert self.book.post(specs, key=key) == outcome
                assert self.book.head == before
            else:
                assert isinstance(outcome, type)
                self.expect_failure(outcome, lambda: self.book.post(specs, key=key))

        @rule(data=st.data(), minor=st.integers(1, 3000), rate=glt.rates())
        def convert(self, data: st.DataObject, minor: int, rate: Fraction) -> None:
            a_unit, b_unit = data.draw(st.permutations(UNITS))[:2]
            a = data.draw(st.sampled_from(self.open_names(a_unit, trading=False) or ["world:x"]))
            b = data.draw(st.sampled_from(self.open_names(b_unit, trading=False) or ["world:x"]))
            if a not in self.model.accounts or b not in self.model.accounts:
                return
            ua, ub = gl.get_unit(a_unit), gl.get_unit(b_unit)
            amount = gl.from_minor(minor, ua)
            minor_b = gl.round_fraction(
                Fraction(minor) * rate * ub.scale / ua.scale, gl.Rounding.HALF_EVEN
            )
            ta, tb = f"trading:{a_unit}", f"trading:{b_unit}"

            def call() -> gl.Transaction:
                return self.book.convert(a, b, amount, rate=rate)

            if minor_b <= 0:
                self.expect_failure(gl.InvalidTransaction, call)
                return
            postings = [(a, minor), (ta, -minor), (tb, minor_b), (b, -minor_b)]
            error = self.predict_post(postings)
            if error is not None:
                self.expect_failure(error, call)
                return
            tx = call()
            assert tx.id == self.model.next_id
            assert tx.rates == (gl.Rate(a_unit, b_unit, rate),)
            self.model.apply("post", postings)

        @rule(
            data=st.data(),
            minor=st.integers(1, 3000),
            hours=st.none() | st.integers(1, 48),
        )
        def hold(self, data: st.DataObject, minor: int, hours: int | None) -> None:
            unit = data.draw(st.sampled_from(UNITS))
            names = sorted(n for n, a in self.model.accounts.items() if a.unit == unit)
            debit, credit = data.draw(st.permutations(names))[:2]
            amount = gl.from_minor(minor, unit)
            timeout = None if hours is None else timedelta(hours=hours)

            def call() -> gl.Hold:
                return self.book.hold(debit, credit, amount, timeout=timeout)

            if self.model.accounts[debit].closed or self.model.accounts[credit].closed:
                self.expect_failure(gl.AccountClosed, call)
                return
            if self.model.breaks_rule({debit: (0, minor, 0), credit: (0, 0, minor)}):
                self.expect_failure(gl.InsufficientFunds, call)
                return
            h = call()
            assert (h.id, h.debit, h.credit, h.minor) == (self.model.next_id, debit, credit, minor)
            assert h.status is gl.HoldStatus.PENDING
            expires = None if timeout is None else self.model.now + timeout
            assert h.expires_at == expires
            self.model.holds[h.id] = MHold(h.id, debit, credit, minor, expires)
            self.model.apply("hold", [])

        def _settle_error(self, h: MHold) -> type[gl.GiftLedgerError] | None:
            if h.status != "pending":
                return gl.HoldNotPending
            if not self.model.live(h):
                return gl.HoldExpired
            return None

        @precondition(lambda self: bool(self.model.holds))
        @rule(data=st.data(), part=st.none() | st.integers(1, 3500))
        def post_hold(self, data: st.DataObject, part: int | None) -> None:
            h = self.model.holds[data.draw(st.sampled_from(sorted(self.model.holds)))]
            unit = self.model.accounts[h.debit].unit
            amount = None if part is None else gl.from_minor(part, unit)

            def call() -> gl.Transaction:
                return self.book.post_hold(h.id, amount)

            error = self._settle_error(h)
            minor = h.minor if part is None else part
            if error is None and minor > h.minor:
                error = gl.InvalidTransaction
            if error is None and self.model.breaks_rule(
                {h.debit: (minor, -h.minor, 0), h.credit: (-minor, 0, -h.minor)}
            ):
                error = gl.InsufficientFunds
            if error is not None:
                self.expect_failure(error, call)
                return
            tx = call()
            assert tx.id == self.model.next_id
            assert tx.hold_id == h.id
            h.status = "posted"
            h.resolved_by = self.model.apply("post_hold", [(h.debit, minor), (h.credit, -minor)])
            settled = self.book.get_hold(h.id)
            assert settled.status is gl.HoldStatus.POSTED
            assert (settled.posted_minor, settled.resolved_by) == (minor, tx.id)

        @precondition(lambda self: bool(self.model.holds))
        @rule(data=st.data())
        def void_hold(self, data: st.DataObject) -> None:
            h = self.model.holds[data.draw(st.sampled_from(sorted(self.model.holds)))]
            error = self._settle_error(h)
            if error is not None:
                self.expect_failure(error, lambda: self.book.void_hold(h.id))
                return
            tx = self.book.void_hold(h.id)
            assert tx.id == self.model.next_id
            assert tx.postings == ()
            h.status = "voided"
            h.resolved_by = self.model.apply("void_hold", [])

        @rule(hours=st.integers(0, 72))
        def advance_clock(self, hours: int) -> None:
            self.model.now = self.clock.advance(timedelta(hours=hours))

        @rule()
        def expire_holds(self) -> None:
            due = [
                h
                for _, h in sorted(self.model.holds.items())
                if h.status == "pending"
                and h.expires_at is not None
                and self.model.now >= h.expires_at
            ]
            txs = self.book.expire_holds()
            assert [tx.hold_id for tx in txs] == [h.id for h in due]
            for h, tx in zip(due, txs, strict=True):
                assert tx.id == self.model.next_id
                h.status = "expired"
                h.resolved_by = self.model.apply("expire_hold", [])

        @precondition(lambda self: bool(self.model.kinds))
        @rule(data=st.data())
        def reverse(self, data: st.DataObject) -> None:
            id = data.draw(st.integers(1, self.model.next_id))  # next_id is unknown

            def call() -> gl.Transaction:
                return self.book.reverse(id)

            kind = self.model.kinds.get(id)
            if kind is None:
                self.expect_failure(gl.UnknownTransaction, call)
                return
            if kind not in ("post", "post_hold"):
                self.expect_failure(gl.NotReversible, call)
                return
            if id in self.model.reversed:
                self.expect_failure(gl.AlreadyReversed, call)
                return
            mirrored = [(n, -s) for n, s in self.model.postings[id]]
            error = self.predict_post(mirrored)
            if error is not None:
                self.expect_failure(error, call)
                return
            tx = call()
            assert tx.id == self.model.next_id
            assert tx.reverses == id
            self.model.reversed.add(id)
            self.model.apply("reversal", mirrored)
            assert self.book.transaction(id).reversed_by == tx.id

        # -- invariants ------------------------------------------------------------------

        @invariant()
        def books_match_the_model(self) -> None:
            model = self.model
            trial = self.book.trial_balance()
            assert trial.is_balanced, trial
            for unit in UNITS:
                assert trial.difference(unit) == 0
                assert trial.debits.get(unit, 0) == model.debits.get(unit, 0)
                assert trial.credits.get(unit, 0) == model.credits.get(unit, 0)
            for name, a in model.accounts.items():
                posted = model.posted(a)
                available = model.available(a)
                pd, pc = model.pending(name)
                assert self.book.balance(name) == gl.from_minor(posted, a.unit), name
                ab = self.book.account_balance(name)
                assert ab.posted == gl.from_minor(posted, a.unit), name
                assert ab.available == gl.from_minor(available, a.unit), name
                assert ab.pending_debits == gl.from_minor(pd, a.unit), name
                assert ab.pending_credits == gl.from_minor(pc, a.unit), name
                if a.floor is not None and not a.trading:
                    assert available >= a.floor, (name, available, a.floor)
            assert self.book.head[0] == model.next_id - 1
            assert self.book.verify() == model.next_id - 1

    return LedgerMachine
