"""Withdrawals: the threshold, caps, fee and eligibility checks and the hold, atomically.

A request is a quote run inside the ledger's locked write, once the creator's
cash account is locked, with the time read under that lock: the eligibility in
force then, the minimum, the day's and week's withdrawals, the available
balance and the hold ``creators:<c>:cash`` → ``liabilities:payouts-in-flight``
are one atomic step, so racing requests (threads, or processes on one SQLite
file or one PostgreSQL database) cannot pass a cap together, and a clock that
steps back cannot open a new day (``recorded_at`` never goes backwards).
Completion posts the hold and settles it to the bank; failure voids it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Literal

import attrs
from moneyed import Money

from .._boundary import boundary_methods
from .._errors import (
    BelowWithdrawalThreshold,
    GiftLedgerError,
    InsufficientFunds,
    InvalidArgument,
    LimitExceeded,
    NotEligible,
    UnknownTransaction,
)
from .._ledger.model import BalanceRule, EntryKind, HoldStatus, Posting, Transaction
from .._ledger.quoted import Quote
from .._ledger.store import StoreReader, StoreWriter
from .._money.amounts import AmountLike, Rounding, from_minor, round_fraction, to_minor
from .base import _C, _D, ChainBase, _convert_minor, _scale
from .index import entries_by_id, first_id_at, holds_from
from .records import (
    PartyRecord,
    WithdrawalFailRecord,
    WithdrawalPostRecord,
    WithdrawalRecord,
    WithdrawalSettleRecord,
    record_of,
)
from .rules import WithdrawalPolicy

__all__ = ["FEE_ROUNDING", "Withdrawal", "WithdrawalCheck", "Withdrawals"]

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


@attrs.frozen(slots=True)
class WithdrawalCheck:
    """Whether a creator could withdraw now, and how much: the answer of
    :meth:`GiftEconomy.can_withdraw <giftledger.GiftEconomy.can_withdraw>`.

    Attributes:
        creator: the creator's name.
        allowed: a request for everything available would be accepted now.
        amount: what it would take from the creator's cash (zero when refused).
        fee: the withdrawal fee in it.
        net: what would reach the creator (``amount - fee``).
        reason: why it would be refused (the error's message), None when allowed.
        refusal: the class of the error a request would raise, None when allowed.

    It is true when allowed: ``if app.can_withdraw("bob"): ...``.
    """

    creator: str
    allowed: bool
    amount: Money
    fee: Money
    net: Money
    reason: str | None = None
    refusal: type[GiftLedgerError] | None = None

    def __bool__(self) -> bool:
        return self.allowed


@boundary_methods
class Withdrawals(ChainBase):
    """Withdrawal operations of :class:`GiftEconomy`."""

    def can_withdraw(self, creator: str) -> WithdrawalCheck:
        """Whether ``creator`` could withdraw everything available now, and how much.

        It is :meth:`request_withdrawal` of ``"all"`` as a dry run: every check
        (eligibility, the minimum, the caps, the fee, the available balance) runs
        against the books as they are, and nothing is written.

        Returns:
            A :class:`WithdrawalCheck`; a refusal names its reason.

        Raises:
            UnknownParty: no such creator.
            RateUnavailable: the withdrawal policy is in another currency than the
                creator's cash and no rate is known (so nothing can be decided).

        Example:
            >>> import giftledger as gl
            >>> econ = gl.presets.load("tiktok-live")
            >>> app = gl.GiftEconomy(gl.Ledger(clock=gl.ManualClock(econ.latest.effective_from)),
            ...                      econ)
            >>> _ = app.open_creator("bob", region="US", age=30, verified=True)
            >>> check = app.can_withdraw("bob")
            >>> bool(check), check.amount, check.refusal.__name__
            (False, Money('0.00', 'USD'), 'BelowWithdrawalThreshold')
        """
        from .._errors import LimitExceeded, NotEligible

        currency = self._payout_currency(creator)
        try:
            w = self.request_withdrawal(creator, "all", dry_run=True)
        except (NotEligible, InsufficientFunds, LimitExceeded) as exc:
            # BelowWithdrawalThreshold is an InsufficientFunds
            zero = from_minor(0, currency)
            return WithdrawalCheck(creator, False, zero, zero, zero, str(exc), type(exc))
        return WithdrawalCheck(creator, True, w.amount, w.fee, w.net)

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
        rec = record_of(tx)
        assert isinstance(rec, WithdrawalRecord)
        ccy = rec.currency
        amount = tx.postings[0].minor
        if status is None:
            status = self.ledger.get_hold(tx.id).status
        return Withdrawal(
            tx.id,
            rec.creator,
            from_minor(amount, ccy),
            from_minor(rec.fee, ccy),
            from_minor(amount - rec.fee, ccy),
            tx.recorded_at,
            tx.recorded_at + timedelta(days=rec.due_days),
            status,
        )

    @staticmethod
    def _eligible(creator: str, party: PartyRecord, policy: WithdrawalPolicy) -> None:
        if party.age is not None and party.age < policy.min_age:
            raise NotEligible(
                f"creator {creator!r} is {party.age}; withdrawing needs age {policy.min_age} "
                f"or more"
            )
        if policy.requires_verification and not party.verified:
            raise NotEligible(
                f"creator {creator!r} is not verified; the rules require identity "
                f"verification before a withdrawal (record it with update_creator)"
            )
        if policy.regions and party.region not in policy.regions:
            raise NotEligible(
                f"creator {creator!r} is in region {party.region!r}; withdrawals are open in "
                f"{', '.join(sorted(policy.regions))}"
            )

    @staticmethod
    def _withdrawn(
        r: StoreReader, cash: str, day: datetime, week: datetime
    ) -> tuple[int, int, int]:
        """What this account's withdrawal holds that were not voided or expired add up
        to: today's amount (recorded since ``day``), and the amount and count of those
        recorded since ``week`` (``recorded_at`` never goes backwards, so every one is
        at or before now).

        One pass over the holds of the window's entries (``holds_from``: the store's
        own search, not every hold the account ever had), their entries read together
        (PostgreSQL: one round trip, not one per hold).
        """
        start = first_id_at(r, min(day, week))  # nothing before it is in either window
        held = []
        for h in holds_from(r, cash, start):
            if h.debit == cash and h.status not in (HoldStatus.VOIDED, HoldStatus.EXPIRED):
                held.append(h)
        entries = entries_by_id(r, [h.id for h in held])
        today = total = count = 0
        for h in held:
            tx = entries.get(h.id)
            if tx is None or not isinstance(record_of(tx), WithdrawalRecord):
                continue
            amount = h.posted_minor if h.status is HoldStatus.POSTED else h.minor
            if tx.recorded_at >= week:
                total += amount
                count += 1
            if tx.recorded_at >= day:
                today += amount
        return today, total, count

    def request_withdrawal(
        self,
        creator: str,
        amount: AmountLike | Literal["all"] = "all",
        *,
        key: str | None = None,
        dry_run: bool = False,
    ) -> Withdrawal:
        """Ask to withdraw cash: checks and a hold, in ONE atomic step.

        The eligibility in force (age, verification, region), the minimum, the
        daily cap (a UTC calendar day, by ``recorded_at``) and the weekly cap
        (7 days back), the number of withdrawals a week and the available
        balance are checked inside the store's locked write, with the time read
        under the lock, together with placing the hold ``creators:<c>:cash`` →
        ``liabilities:payouts-in-flight``: racing requests against one balance
        cannot pass together, even from processes sharing one SQLite file or
        PostgreSQL database. ``"all"`` withdraws the available balance, up to
        what the caps still allow.

        Args:
            creator: the creator's name.
            amount: ``"all"``, a ``Money`` in the creator's payout currency, or
                an int, ``Decimal`` or decimal string in its major units
                (``100`` and ``"100.00"`` are a hundred dollars for a USD
                payout); an amount the currency cannot hold is refused, not
                rounded.
            key: an idempotency key.
            dry_run: check everything and return the withdrawal that would be
                requested, without writing it.

        Raises:
            NotEligible: age, verification or region.
            BelowWithdrawalThreshold: below the minimum (or the fee would eat it).
            LimitExceeded: beyond the daily or weekly cap.
            InsufficientFunds: more than the available balance.
            RateUnavailable: the policy's currency differs and no rate is known.
            ExcessPrecision: ``amount`` is finer than the payout currency allows.
            CurrencyMismatch: ``amount`` is Money in another currency.
            FloatNotAllowed: ``amount`` is a float.
        """
        key = self._caller_key(key)
        cash = f"creators:{creator}:cash"
        everything = isinstance(amount, str) and amount == "all"
        currency = self._payout_currency(creator)
        wanted = None if everything else to_minor(amount, currency)
        if wanted is not None and wanted <= 0:
            raise InvalidArgument(f"withdrawal amount {amount!r} must be greater than zero")
        flight_name = self._ccy("liabilities:payouts-in-flight", currency)
        request = ("withdraw", creator, wanted)
        # What the write's last attempt did: quoted a new hold (then PENDING, as written)
        # or replayed the key's (then its status now is read). Attempts run in order, so
        # the last of these events is the final attempt's.
        last = ["replay"]

        def replayed() -> None:
            last[0] = "replay"

        def quote(w: StoreWriter, now: datetime) -> Quote:
            last[0] = "quote"
            # Its account is locked (its state read with the lock): a creator whose cash
            # account is missing (a half-opened one of an earlier release) is unknown.
            self._require(w, cash, "creator", creator)
            party = self._party(w, "creator", creator, now)
            policy = self._rules(now).withdrawal
            self._eligible(creator, party, policy)
            avail = self._available(w, cash)
            day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
            today, week, count = self._withdrawn(w, cash, day, now - timedelta(days=7))
            amt = wanted
            if amt is None:
                amt = avail
                if policy.weekly_cap is not None:
                    amt = self._under_cap(amt, week, policy.weekly_cap, currency, now)
                    if amt == 0 and avail > 0:
                        raise LimitExceeded(
                            f"creator {creator!r} already withdrew "
                            f"{from_minor(week, currency).amount} {currency} in 7 days; the "
                            f"weekly cap is {policy.weekly_cap.amount} "
                            f"{policy.weekly_cap.currency.code}"
                        )
                if policy.daily_cap is not None:
                    amt = self._under_cap(amt, today, policy.daily_cap, currency, now)
                    if amt == 0 and avail > 0:
                        raise LimitExceeded(
                            f"creator {creator!r} already withdrew "
                            f"{from_minor(today, currency).amount} {currency} today; the daily "
                            f"cap is {policy.daily_cap.amount} {policy.daily_cap.currency.code}"
                        )
                if amt <= 0:
                    raise BelowWithdrawalThreshold(
                        f"creator {creator!r} has nothing available to withdraw"
                    )
            fee = round_fraction(amt * policy.fee_rate, FEE_ROUNDING)
            if policy.fee_fixed is not None:
                fee += self._from_policy(policy.fee_fixed, currency, now)
            self._check_withdrawal(
                creator, currency, amt, fee, policy, now, avail, today, week, count
            )
            days = policy.review_days + policy.holding_days
            rec = WithdrawalRecord(creator, currency, fee, days)
            shown = f"{from_minor(amt, currency).amount} {currency}"
            return Quote(
                EntryKind.HOLD,
                (Posting(cash, _D, amt, currency), Posting(flight_name, _C, amt, currency)),
                f"{creator} withdraws {shown}",
                rec.to_meta(),
                (),
                (self._account(flight_name, currency, _C),),
            )

        tx = self._execute(
            key,
            request,
            (cash, flight_name),
            quote,
            dry_run,
            parties=(("creator", creator),),
            on_replay=replayed,
        )
        # A hold this call placed (or, in a dry run, would place) is pending as it
        # commits: no read needed to say so. A replayed key's hold may have moved on.
        fresh = last[0] == "quote"
        return self._withdrawal_of(tx, HoldStatus.PENDING if fresh else None)

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
        creator: str,
        currency: str,
        w: int,
        fee: int,
        policy: WithdrawalPolicy,
        now: datetime,
        avail: int,
        today: int,
        week: int,
        count: int,
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
        if policy.daily_cap is not None:
            cap = policy.daily_cap
            if self._to_policy(today + w, currency, cap, now) > to_minor(cap, cap.currency.code):
                raise LimitExceeded(
                    f"a withdrawal of {shown} by {creator!r} would take today's withdrawals to "
                    f"{from_minor(today + w, currency).amount} {currency}, beyond the daily cap "
                    f"of {cap.amount} {cap.currency.code}"
                )
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
        rec = record_of(tx) if tx is not None else None
        if tx is None or not isinstance(rec, WithdrawalRecord):
            raise UnknownTransaction(f"no withdrawal with id {hold_id!r}")
        if isinstance(withdrawal, Withdrawal) and (
            withdrawal.creator != rec.creator
            or to_minor(withdrawal.amount, rec.currency) != tx.postings[0].minor
        ):
            raise UnknownTransaction(
                f"entry {hold_id} is {rec.creator!r}'s withdrawal of "
                f"{from_minor(tx.postings[0].minor, rec.currency).amount} {rec.currency}, not "
                f"this {withdrawal.creator!r} withdrawal of {withdrawal.amount} (a dry run's "
                f"Withdrawal names an entry that was never written)"
            )
        return tx

    def complete_withdrawal(
        self, withdrawal: Withdrawal | int, *, dry_run: bool = False
    ) -> Transaction:
        """The payout went through: post the hold, then settle it to the bank.

        Two entries, each idempotent (keys derived from the withdrawal's id, in
        the chain's own ``gl:`` namespace, so no caller key can take them), so
        calling this again after a crash finishes the job::

            post hold:  debit creators:<c>:cash W; credit liabilities:payouts-in-flight W
            settle:     debit liabilities:payouts-in-flight W;
                        credit assets:bank W - fee; credit revenue:withdrawal-fees fee

        Returns:
            The settling entry; with ``dry_run``, the entry that would post the
            hold (the settlement depends on it, so it is not tried).
        """
        tx = self._hold_tx(withdrawal)
        rec = record_of(tx)
        assert isinstance(rec, WithdrawalRecord)
        ccy, fee = rec.currency, rec.fee
        flight = tx.postings[1].account
        amount = tx.postings[0].minor
        settle_key = f"gl:withdrawal:{tx.id}:settle"
        settled = self.ledger.find(settle_key)
        if settled is not None and isinstance(record_of(settled), WithdrawalSettleRecord):
            return settled  # done before (perhaps by the previous release): idempotent
        # A hold posted before a crash (or by the previous release) is not posted again.
        posted = self.ledger.find(f"gl:withdrawal:{tx.id}:post")
        if posted is None or dry_run:
            posted = self.ledger._post_hold(
                tx.id,
                key=f"gl:withdrawal:{tx.id}:post",
                memo=f"withdrawal {tx.id} paid",
                metadata=WithdrawalPostRecord(tx.id).to_meta(),
                dry_run=dry_run,
            )
        if dry_run:
            return posted
        bank = self._account(self._ccy("assets:bank", ccy), ccy, _D, BalanceRule.unrestricted())
        fees = self._account(self._ccy("revenue:withdrawal-fees", ccy), ccy, _C)

        def quote(w: StoreWriter, now: datetime) -> Quote:
            postings = [Posting(flight, _D, amount, ccy)]
            opens = []
            if amount - fee:
                opens.append(bank)
                postings.append(Posting(bank.name, _C, amount - fee, ccy))
            if fee:
                opens.append(fees)
                postings.append(Posting(fees.name, _C, fee, ccy))
            return Quote(
                EntryKind.POST,
                tuple(postings),
                f"withdrawal {tx.id} settled",
                WithdrawalSettleRecord(tx.id, rec.creator).to_meta(),
                (),
                tuple(opens),
            )

        return self._execute(
            f"gl:withdrawal:{tx.id}:settle",
            ("withdraw_settle", tx.id),
            (flight, bank.name, fees.name),
            quote,
            False,
        )

    def fail_withdrawal(
        self, withdrawal: Withdrawal | int, *, dry_run: bool = False
    ) -> Transaction:
        """The payout failed: void the hold; the cash is available again."""
        tx = self._hold_tx(withdrawal)
        return self.ledger._void_hold(
            tx.id,
            key=f"gl:withdrawal:{tx.id}:void",
            memo=f"withdrawal {tx.id} failed",
            metadata=WithdrawalFailRecord(tx.id).to_meta(),
            dry_run=dry_run,
        )

    def withdrawal(self, withdrawal_id: int) -> Withdrawal:
        """The withdrawal placed by entry ``withdrawal_id``, with its current status."""
        return self._withdrawal_of(self._hold_tx(withdrawal_id))
