"""Withdrawals: the threshold, caps, fee and eligibility checks and the hold, atomically.

A request places a hold ``creators:<c>:cash`` → ``liabilities:payouts-in-flight``
with a ``guard`` that runs every check inside the store's locked write, so two
racing requests against one balance (threads, or processes on one SQLite
file) cannot both pass. Completion posts the hold and settles it to the bank;
failure voids it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Literal

import attrs
from moneyed import Money

from .._errors import (
    BelowWithdrawalThreshold,
    DuplicateKeyConflict,
    GiftLedgerError,
    InsufficientFunds,
    InvalidArgument,
    LimitExceeded,
    NotEligible,
    StoreError,
    UnknownTransaction,
)
from .._ledger.model import (
    BalanceRule,
    HoldStatus,
    MetaValue,
    Posting,
    Transaction,
)
from .._ledger.store import StoreReader
from .._money.amounts import Rounding, from_minor, round_fraction, to_minor
from .base import (
    _C,
    _D,
    _MAX_RETRIES,
    ChainBase,
    _convert_minor,
    _fingerprint,
    _meta_int,
    _scale,
    _Stale,
)
from .lots import OP
from .rules import WithdrawalPolicy

__all__ = ["FEE_ROUNDING", "Withdrawal", "Withdrawals"]

#: How a percentage withdrawal fee is rounded.
FEE_ROUNDING = Rounding.HALF_UP


@attrs.frozen(slots=True)
class Withdrawal:
    """A withdrawal request: a hold on the creator's cash toward payouts in flight.

    Attributes:
        id: the hold's id (the id of the entry that placed it).
        creator: the creator's name.
        amount: taken from the creator's cash.
        fee: the withdrawal fee in it.
        net: what reaches the creator (``amount - fee``).
        requested_at: when it was requested.
        due_by: when review and holding end at the latest (requested + review
            and holding days).
        status: the hold's status when this value was made.
    """

    id: int
    creator: str
    amount: Money
    fee: Money
    net: Money
    requested_at: datetime
    due_by: datetime
    status: HoldStatus = HoldStatus.PENDING


class Withdrawals(ChainBase):
    """Withdrawal operations of :class:`GiftEconomy`."""

    # -- withdraw ----------------------------------------------------------------------

    def _to_policy(self, minor: int, currency: str, limit: Money, at: datetime) -> Fraction:
        """``minor`` of ``currency`` in minor units of ``limit``'s currency, exactly (not
        rounded: a limit is compared with the exact value, so 9.9999 USD is below 10.00)."""
        target = limit.currency.code
        if target == currency:
            return Fraction(minor)
        rate = self._rate(currency, target, at)
        return Fraction(minor) * rate * _scale(target) / _scale(currency)

    def _from_policy(self, amount: Money, currency: str, at: datetime) -> int:
        source = amount.currency.code
        minor = to_minor(amount, source)
        if source == currency:
            return minor
        return _convert_minor(minor, source, currency, self._rate(source, currency, at))

    def _withdrawal_of(self, tx: Transaction, status: HoldStatus | None = None) -> Withdrawal:
        ccy = str(tx.meta.get("gl.currency"))
        fee = _meta_int(tx, "gl.fee")
        amount = tx.postings[0].minor
        due = tx.meta.get("gl.due_days")
        days = due if isinstance(due, int) else 0
        if status is None:
            status = self.ledger.get_hold(tx.id).status
        return Withdrawal(
            tx.id,
            str(tx.meta.get("gl.creator")),
            from_minor(amount, ccy),
            from_minor(fee, ccy),
            from_minor(amount - fee, ccy),
            tx.recorded_at,
            tx.recorded_at + timedelta(days=days),
            status,
        )

    def _eligible(self, creator: str, policy: WithdrawalPolicy) -> None:
        prof = self._profile("creator", creator)
        age, region = prof.get("gl.age"), prof.get("gl.region")
        if isinstance(age, int) and age < policy.min_age:
            raise NotEligible(
                f"creator {creator!r} is {age}; withdrawing needs age {policy.min_age} or more"
            )
        if policy.requires_verification and prof.get("gl.verified") is not True:
            raise NotEligible(
                f"creator {creator!r} is not verified; the rules require identity "
                f"verification before a withdrawal"
            )
        if policy.regions and region not in policy.regions:
            raise NotEligible(
                f"creator {creator!r} is in region {region!r}; withdrawals are open in "
                f"{', '.join(sorted(policy.regions))}"
            )

    def _withdrawn_since(
        self, r: StoreReader, cash: str, since: datetime, now: datetime
    ) -> tuple[int, int]:
        """Amount and count of this account's withdrawal holds requested in
        ``[since, now]`` that were not voided or expired."""
        total = count = 0
        for h in r.holds(cash, False):
            if h.debit != cash or h.status in (HoldStatus.VOIDED, HoldStatus.EXPIRED):
                continue
            tx = r.transaction(h.id)
            if tx is None or tx.meta.get(OP) != "withdraw" or not since <= tx.recorded_at <= now:
                continue
            total += h.posted_minor if h.status is HoldStatus.POSTED else h.minor
            count += 1
        return total, count

    def request_withdrawal(
        self,
        creator: str,
        amount: Money | str | int | Literal["all"] = "all",
        *,
        key: str | None = None,
        dry_run: bool = False,
    ) -> Withdrawal:
        """Ask to withdraw cash: checks and a hold, in ONE atomic step.

        The eligibility (age, verification, region), the minimum, the daily
        (and weekly) cap and the available balance are checked inside the
        store's locked write, together with placing the hold
        ``creators:<c>:cash`` → ``liabilities:payouts-in-flight``: two racing
        requests against one balance cannot both pass, even from two processes
        on one SQLite file. ``"all"`` withdraws the available balance, up to
        what today's cap still allows.

        Raises:
            NotEligible: age, verification or region.
            BelowWithdrawalThreshold: below the minimum (or the fee would eat it).
            LimitExceeded: beyond the daily or weekly cap.
            InsufficientFunds: more than the available balance.
            RateUnavailable: the policy's currency differs and no rate is known.
        """
        currency = self._creator_currency(creator)
        cash = f"creators:{creator}:cash"
        flight_name = self._ccy("liabilities:payouts-in-flight", currency)
        everything = isinstance(amount, str) and amount == "all"
        wanted = None if everything else to_minor(amount, currency)
        if wanted is not None and wanted <= 0:
            raise InvalidArgument(f"withdrawal amount {amount!r} must be greater than zero")
        request = _fingerprint("withdraw", creator, wanted)
        done = self._replayed(key, request)
        if done is not None:
            return self._withdrawal_of(done)
        try:
            for _ in range(_MAX_RETRIES):
                now = self._now()
                policy = self._rules(now).withdrawal
                self._eligible(creator, policy)
                with self.ledger.store.read() as r:
                    avail = self._available(r, cash)
                    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
                    today, _ = self._withdrawn_since(r, cash, day, now)
                w = wanted
                if w is None:
                    w = avail
                    if policy.weekly_cap is not None:
                        with self.ledger.store.read() as r:
                            week, _ = self._withdrawn_since(r, cash, now - timedelta(days=7), now)
                        w = self._under_cap(w, week, policy.weekly_cap, currency, now)
                        if w == 0 and avail > 0:
                            raise LimitExceeded(
                                f"creator {creator!r} already withdrew "
                                f"{from_minor(week, currency).amount} {currency} in 7 days; the "
                                f"weekly cap is {policy.weekly_cap.amount} "
                                f"{policy.weekly_cap.currency.code}"
                            )
                    if policy.daily_cap is not None:
                        w = self._under_cap(w, today, policy.daily_cap, currency, now)
                        if w == 0 and avail > 0:
                            raise LimitExceeded(
                                f"creator {creator!r} already withdrew "
                                f"{from_minor(today, currency).amount} {currency} today; the daily "
                                f"cap is {policy.daily_cap.amount} {policy.daily_cap.currency.code}"
                            )
                    if w <= 0:
                        raise BelowWithdrawalThreshold(
                            f"creator {creator!r} has nothing available to withdraw"
                        )
                fee = round_fraction(w * policy.fee_rate, FEE_ROUNDING)
                if policy.fee_fixed is not None:
                    fee += self._from_policy(policy.fee_fixed, currency, now)
                snapshot_avail = avail
                # Check once before opening anything, so a refused request leaves no
                # new account behind; the guard below checks again under the lock.
                with self.ledger.store.read() as r:
                    self._check_withdrawal(r, creator, cash, currency, w, fee, policy, now)
                flight = self._open(flight_name, currency, _C)

                def check(
                    r: StoreReader,
                    w: int = w,
                    fee: int = fee,
                    policy: WithdrawalPolicy = policy,
                    now: datetime = now,
                    snapshot_avail: int = snapshot_avail,
                ) -> None:
                    self._check_withdrawal(r, creator, cash, currency, w, fee, policy, now)
                    if everything and self._available(r, cash) != snapshot_avail:
                        raise _Stale

                days = policy.review_days + policy.holding_days
                meta: dict[str, MetaValue] = {
                    OP: "withdraw",
                    "gl.request": request,
                    "gl.creator": creator,
                    "gl.currency": currency,
                    "gl.fee": fee,
                    "gl.due_days": days,
                }
                try:
                    hold = self.ledger.hold(
                        cash,
                        flight,
                        from_minor(w, currency),
                        key=key,
                        memo=f"{creator} withdraws {from_minor(w, currency).amount} {currency}",
                        metadata=meta,
                        dry_run=dry_run,
                        guard=check,
                    )
                except _Stale:
                    continue
                except DuplicateKeyConflict:
                    done = self._replayed(key, request)
                    if done is not None:
                        return self._withdrawal_of(done)
                    raise
                return Withdrawal(
                    hold.id,
                    creator,
                    from_minor(w, currency),
                    from_minor(fee, currency),
                    from_minor(w - fee, currency),
                    now,
                    now + timedelta(days=days),
                )
        except GiftLedgerError as exc:
            self._remember_failure(key, request, exc, dry_run)
            raise
        raise StoreError(  # pragma: no cover - a contention failure, as in ChainBase._execute
            f"the balance of {creator!r} kept changing under this withdrawal {_MAX_RETRIES} "
            f"times; nothing was written, try again"
        )

    def _under_cap(self, w: int, done: int, cap: Money, currency: str, at: datetime) -> int:
        """The most of ``w`` that ``done`` plus it keeps within ``cap``, as
        :meth:`_check_withdrawal` counts it (in the cap's currency): the cap converted
        to ``currency``, less a unit while the FX round trip would still exceed it."""
        limit = to_minor(cap, cap.currency.code)
        w = min(w, max(0, self._from_policy(cap, currency, at) - done))
        while w > 0 and self._to_policy(done + w, currency, cap, at) > limit:
            w -= 1
        return w

    @staticmethod
    def _available(r: StoreReader, cash: str) -> int:
        st = r.account_state(cash)
        if st is None:
            return 0
        return -st.net - st.pending_debits

    def _check_withdrawal(
        self,
        r: StoreReader,
        creator: str,
        cash: str,
        currency: str,
        w: int,
        fee: int,
        policy: WithdrawalPolicy,
        now: datetime,
    ) -> None:
        shown = f"{from_minor(w, currency).amount} {currency}"
        if policy.minimum is not None:
            in_policy = self._to_policy(w, currency, policy.minimum, now)
            if in_policy < to_minor(policy.minimum, policy.minimum.currency.code):
                raise BelowWithdrawalThreshold(
                    f"a withdrawal of {shown} by {creator!r} is below the minimum of "
                    f"{policy.minimum.amount} {policy.minimum.currency.code}"
                )
        if fee >= w:
            raise BelowWithdrawalThreshold(
                f"a withdrawal of {shown} by {creator!r} would not cover its fee of "
                f"{from_minor(fee, currency).amount} {currency}"
            )
        day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        if policy.daily_cap is not None:
            today, _ = self._withdrawn_since(r, cash, day, now)
            cap = policy.daily_cap
            if self._to_policy(today + w, currency, cap, now) > to_minor(cap, cap.currency.code):
                raise LimitExceeded(
                    f"a withdrawal of {shown} by {creator!r} would take today's withdrawals to "
                    f"{from_minor(today + w, currency).amount} {currency}, beyond the daily cap "
                    f"of {cap.amount} {cap.currency.code}"
                )
        if policy.weekly_cap is not None or policy.withdrawals_per_week is not None:
            week, count = self._withdrawn_since(r, cash, now - timedelta(days=7), now)
            cap_w = policy.weekly_cap
            if cap_w is not None and self._to_policy(week + w, currency, cap_w, now) > to_minor(
                cap_w, cap_w.currency.code
            ):
                raise LimitExceeded(
                    f"a withdrawal of {shown} by {creator!r} would exceed the weekly cap of "
                    f"{cap_w.amount} {cap_w.currency.code}"
                )
            per_week = policy.withdrawals_per_week
            if per_week is not None and count >= per_week:
                raise LimitExceeded(
                    f"creator {creator!r} already made {count} withdrawal(s) in 7 days; "
                    f"the rules allow {per_week}"
                )
        avail = self._available(r, cash)
        if w > avail:
            raise InsufficientFunds(
                f"a withdrawal of {shown} by {creator!r} is more than the available "
                f"{from_minor(avail, currency).amount} {currency}"
            )

    def _hold_tx(self, withdrawal: Withdrawal | int) -> Transaction:
        hold_id = withdrawal.id if isinstance(withdrawal, Withdrawal) else withdrawal
        try:
            tx = self.ledger.transaction(hold_id)
        except UnknownTransaction:
            tx = None
        if tx is None or tx.meta.get(OP) != "withdraw":
            raise UnknownTransaction(f"no withdrawal with id {hold_id!r}")
        return tx

    def complete_withdrawal(
        self, withdrawal: Withdrawal | int, *, dry_run: bool = False
    ) -> Transaction:
        """The payout went through: post the hold, then settle it to the bank.

        Two entries, each idempotent (keys derived from the withdrawal's id),
        so calling this again after a crash finishes the job::

            post hold:  debit creators:<c>:cash W; credit liabilities:payouts-in-flight W
            settle:     debit liabilities:payouts-in-flight W;
                        credit assets:bank W - fee; credit revenue:withdrawal-fees fee

        Returns:
            The settling entry; with ``dry_run``, the entry that would post the
            hold (the settlement depends on it, so it is not tried).
        """
        tx = self._hold_tx(withdrawal)
        ccy = str(tx.meta["gl.currency"])
        fee = _meta_int(tx, "gl.fee")
        flight = tx.postings[1].account
        amount = tx.postings[0].minor
        posted = self.ledger.post_hold(
            tx.id,
            key=f"gl:withdrawal:{tx.id}:post",
            memo=f"withdrawal {tx.id} paid",
            metadata={OP: "withdraw_post", "gl.withdrawal": tx.id},
            dry_run=dry_run,
        )
        if dry_run:
            return posted
        bank = self._open(self._ccy("assets:bank", ccy), ccy, _D, rule=BalanceRule.unrestricted())
        postings = [Posting(flight, _D, amount, ccy)]
        if amount - fee:
            postings.append(Posting(bank, _C, amount - fee, ccy))
        if fee:
            fees = self._open(self._ccy("revenue:withdrawal-fees", ccy), ccy, _C)
            postings.append(Posting(fees, _C, fee, ccy))
        return self.ledger.post(
            postings,
            key=f"gl:withdrawal:{tx.id}:settle",
            memo=f"withdrawal {tx.id} settled",
            metadata={
                OP: "withdraw_settle",
                "gl.withdrawal": tx.id,
                "gl.creator": tx.meta.get("gl.creator"),
            },
        )

    def fail_withdrawal(
        self, withdrawal: Withdrawal | int, *, dry_run: bool = False
    ) -> Transaction:
        """The payout failed: void the hold; the cash is available again."""
        tx = self._hold_tx(withdrawal)
        return self.ledger.void_hold(
            tx.id,
            key=f"gl:withdrawal:{tx.id}:void",
            memo=f"withdrawal {tx.id} failed",
            metadata={OP: "withdraw_void", "gl.withdrawal": tx.id},
            dry_run=dry_run,
        )

    def withdrawal(self, withdrawal_id: int) -> Withdrawal:
        """The withdrawal placed by entry ``withdrawal_id``, with its current status."""
        return self._withdrawal_of(self._hold_tx(withdrawal_id))
