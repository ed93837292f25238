"""Parties: viewers and creators as journaled, dated profiles.

A party's profile (region, age, verification, payout currency) is a
:class:`~giftledger.PartyRecord` in an entry that moves nothing, found through
the chain's own keys ``gl:party:<role>:<name>:<n>`` (aliases of those entries),
never by reading the journal. Opening writes the first record together with the
party's accounts; a change records only the fields it sets, effective at a
time, and every check uses the profile in force (:func:`profile_at`).
"""

from __future__ import annotations

from datetime import datetime

import attrs
from moneyed import Money

from .._boundary import boundary_methods, shown
from .._errors import (
    AccountExists,
    DuplicateKeyConflict,
    InvalidArgument,
    UnknownRule,
    WriteConflict,
)
from .._ledger.model import Account, Transaction
from .._money.units import get_unit
from .base import _C, ChainBase, check_region, profile_at
from .records import PartyRecord

__all__ = ["Parties"]

_UNSET: object = object()


@boundary_methods
class Parties(ChainBase):
    """Party operations of :class:`GiftEconomy`."""

    def _open_party(self, rec: PartyRecord, opens: tuple[Account, ...]) -> None:
        with self.ledger.store.read() as r:
            found = self._party_records(r, rec.role, rec.name)
        if not found:
            try:
                self._write_party(rec, opens, None, None, False, f"{rec.role} {rec.name} opens")
                return
            except DuplicateKeyConflict:  # opened meanwhile, with other attributes
                with self.ledger.store.read() as r:
                    found = self._party_records(r, rec.role, rec.name)
        first = found[0][1]
        if attrs.evolve(first, seq=0) != rec:
            raise AccountExists(
                f"{rec.role} {rec.name!r} is already open as {_profile_text(first)}; it cannot "
                f"be opened again as {_profile_text(rec)}: record a change with "
                f"update_{rec.role}()"
            )

    def open_viewer(self, name: str, *, region: str | None = None, age: int | None = None) -> str:
        """Open a viewer's coin wallet (idempotently); return its account name.

        The viewer's region and age are a journaled :class:`~giftledger.PartyRecord`;
        :meth:`update_viewer` records a change. An age left as None is not
        checked against the rules' minimum buyer age.

        Raises:
            UnknownRule: an unknown region.
            AccountExists: the viewer is open with other attributes.
        """
        self._check_name(name, "viewer")
        if region is not None:
            check_region(region)
        age = self._check_age(age)
        wallet = f"viewers:{name}:coins"
        rec = PartyRecord("viewer", name, 0, region, age, False, None)
        self._open_party(rec, (self._account(wallet, self.coin, _C),))
        return wallet

    def open_creator(
        self,
        name: str,
        *,
        region: str | None = None,
        payout_currency: str | None = None,
        age: int | None = None,
        verified: bool = False,
    ) -> str:
        """Open a creator's accounts (idempotently); return the Diamond account's name.

        Args:
            region: ISO 3166 country code (checked against withdrawal regions).
            payout_currency: the currency the creator is paid in (default: the
                books' currency); it must be one the rules allow.
            age: checked against the withdrawal policy's minimum age (None: not
                declared, not checked).
            verified: identity verified (KYC), if the withdrawal policy requires it.

        The profile is a journaled :class:`~giftledger.PartyRecord`;
        :meth:`update_creator` records a change (a later KYC check, a birthday,
        a move).

        Raises:
            UnknownRule: an unknown region or a payout currency the rules do not offer.
            UnknownUnit: a currency code nobody knows.
            AccountExists: the creator is open with other attributes.
        """
        self._check_name(name, "creator")
        if region is not None:
            check_region(region)
        age = self._check_age(age)
        if not isinstance(verified, bool):
            raise InvalidArgument(f"verified {verified!r} must be True or False")
        currency = self._check_payout(payout_currency)
        diamonds = f"creators:{name}:diamonds"
        rec = PartyRecord("creator", name, 0, region, age, verified, currency)
        opens = (
            self._account(diamonds, self.unit, _C),
            self._account(f"creators:{name}:cash", currency, _C),
            self._account(f"liabilities:creators-payable:{name}", self.books, _C),
        )
        self._open_party(rec, opens)
        return diamonds

    def _check_payout(self, payout_currency: object) -> str:
        currency = self.books if payout_currency is None else payout_currency
        if not isinstance(currency, str):
            raise InvalidArgument(f"payout_currency {currency!r} must be a currency code")
        get_unit(currency)
        offered = self._rules(self._now()).payout_currencies
        if currency not in offered and currency != self.books:
            raise UnknownRule(
                f"payout currency {currency!r} is not offered by {self.economy.name!r}; "
                f"currencies: {', '.join(offered)}"
            )
        return currency

    def update_viewer(
        self,
        name: str,
        *,
        region: str | object | None = _UNSET,
        age: int | object | None = _UNSET,
        effective_at: datetime | None = None,
        key: str | None = None,
        dry_run: bool = False,
    ) -> Transaction:
        """Record a change of a viewer's region or age, effective at ``effective_at``
        (default: now). Fields not given keep their value. Returns the entry.

        Raises:
            UnknownAccount: no such viewer.
        """
        changes: dict[str, object] = {}
        if region is not _UNSET:
            changes["region"] = None if region is None else check_region(region)
        if age is not _UNSET:
            changes["age"] = self._check_age(age)
        return self._update_party("viewer", name, changes, effective_at, key, dry_run)

    def update_creator(
        self,
        name: str,
        *,
        region: str | object | None = _UNSET,
        age: int | object | None = _UNSET,
        verified: bool | object = _UNSET,
        payout_currency: str | object = _UNSET,
        effective_at: datetime | None = None,
        key: str | None = None,
        dry_run: bool = False,
    ) -> Transaction:
        """Record a change of a creator's profile — a KYC check passed, a birthday,
        a move — effective at ``effective_at`` (default: now). Fields not given keep
        their value; every later check uses the value in force. Returns the entry.

        Example:
            >>> import giftledger as gl
            >>> econ = gl.presets.load("tiktok-live")
            >>> book = gl.Ledger(clock=gl.ManualClock(econ.latest.effective_from))
            >>> app = gl.GiftEconomy(book, econ)
            >>> _ = app.open_creator("bob", region="US", age=20)
            >>> tx = app.update_creator("bob", verified=True)
            >>> app.creator("bob").verified
            True

        Raises:
            UnknownAccount: no such creator.
            InvalidArgument: a change of payout currency (the cash account's
                currency is fixed; open a new creator account instead).
        """
        changes: dict[str, object] = {}
        if region is not _UNSET:
            changes["region"] = None if region is None else check_region(region)
        if age is not _UNSET:
            changes["age"] = self._check_age(age)
        if verified is not _UNSET:
            if not isinstance(verified, bool):
                raise InvalidArgument(f"verified {verified!r} must be True or False")
            changes["verified"] = verified
        if payout_currency is not _UNSET:
            changes["payout_currency"] = payout_currency
        return self._update_party("creator", name, changes, effective_at, key, dry_run)

    def _update_party(
        self,
        role: str,
        name: str,
        changes: dict[str, object],
        effective_at: datetime | None,
        key: str | None,
        dry_run: bool,
    ) -> Transaction:
        """Write the party's next record. A caller's ``key`` is kept in the record (the
        entry's own key is the party's next ``gl:party:`` key): a retry with it returns
        the first change; the same key for another change is DuplicateKeyConflict."""
        self._check_name(name, role)
        key = self._caller_key(key)
        if effective_at is not None:
            from .._ledger.clock import require_aware

            effective_at = require_aware(effective_at, "effective_at")
        for _ in range(16):
            with self.ledger.store.read() as r:
                records = self._party_records(r, role, name)
            if not records:
                self._party(r, role, name, self._now())  # raises UnknownAccount
            latest = records[-1][1]
            done = next((rec for _, rec in records if key is not None and rec.key == key), None)
            if done is not None:
                if any(getattr(done, k) != v for k, v in changes.items()):
                    raise DuplicateKeyConflict(
                        f"idempotency key {key!r} was already used for a different change; "
                        f"use a new key for new content"
                    )
                first = self.ledger.find(f"gl:party:{role}:{name}:{done.seq}")
                assert first is not None
                return first
            if "payout_currency" in changes and changes["payout_currency"] != (
                latest.payout_currency or self.books
            ):
                raise InvalidArgument(
                    f"the payout currency of {name!r} is {latest.payout_currency or self.books}; "
                    f"it cannot change to {changes['payout_currency']!r} (its cash account "
                    f"holds that currency)"
                )
            seq = max(latest.seq + 1, 0)
            base = profile_at(records, effective_at or self._now())
            rec = attrs.evolve(
                base,
                seq=seq,
                key=key,
                changed=",".join(sorted(changes)),
                **changes,  # type: ignore[arg-type]
            )
            try:
                return self._write_party(
                    rec, (), None, effective_at, dry_run, f"{role} {name} changes"
                )
            except DuplicateKeyConflict:
                continue  # another process recorded a change first: build on it
        raise WriteConflict(
            f"{role} {name!r}: another writer recorded a change of the profile first, 16 "
            f"times running; nothing was written, the update may be sent again"
        )

    def viewer(self, name: str, at: datetime | None = None) -> PartyRecord:
        """The viewer's profile in force at ``at`` (default: now)."""
        with self.ledger.store.read() as r:
            return self._party(r, "viewer", name, at or self._now())

    def creator(self, name: str, at: datetime | None = None) -> PartyRecord:
        """The creator's profile in force at ``at`` (default: now)."""
        with self.ledger.store.read() as r:
            return self._party(r, "creator", name, at or self._now())

    def party_history(self, role: str, name: str) -> tuple[tuple[datetime, PartyRecord], ...]:
        """Every profile record of a party, oldest first, with its effective time.

        ``role`` is ``"viewer"`` or ``"creator"``; a party never opened has none.

        Raises:
            InvalidArgument: another role, or a name no store can hold.
        """
        if role not in ("viewer", "creator"):
            raise InvalidArgument(f"role {shown(role)} must be 'viewer' or 'creator'")
        with self.ledger.store.read() as r:
            return tuple(self._party_records(r, role, name))

    # -- party-level reads ---------------------------------------------------------------

    def creators(self, at: datetime | None = None) -> tuple[PartyRecord, ...]:
        """Every creator's profile in force at ``at`` (default: now), sorted by name.

        Found through the creators' Diamond accounts (one per creator), not by
        reading the journal.

        Example:
            >>> import giftledger as gl
            >>> econ = gl.presets.load("tiktok-live")
            >>> app = gl.GiftEconomy(gl.Ledger(clock=gl.ManualClock(econ.latest.effective_from)),
            ...                      econ)
            >>> _ = app.open_creator("bob", region="DE")
            >>> _ = app.open_creator("ann", region="US")
            >>> [(c.name, c.region) for c in app.creators()]
            [('ann', 'US'), ('bob', 'DE')]
        """
        return self._parties("creator", at)

    def viewers(self, at: datetime | None = None) -> tuple[PartyRecord, ...]:
        """Every viewer's profile in force at ``at`` (default: now), sorted by name.

        Example:
            >>> import giftledger as gl
            >>> econ = gl.presets.load("tiktok-live")
            >>> app = gl.GiftEconomy(gl.Ledger(clock=gl.ManualClock(econ.latest.effective_from)),
            ...                      econ)
            >>> _ = app.open_viewer("alice", region="US", age=27)
            >>> [(v.name, v.age) for v in app.viewers()]
            [('alice', 27)]
        """
        return self._parties("viewer", at)

    def _parties(self, role: str, at: datetime | None) -> tuple[PartyRecord, ...]:
        kind = "coins" if role == "viewer" else "diamonds"
        when = at or self._now()
        out = []
        with self.ledger.store.read() as r:
            for st in r.account_states(f"{role}s:"):
                parts = st.account.name.split(":")
                if len(parts) != 3 or parts[2] != kind:
                    continue
                records = self._party_records(r, role, parts[1])
                if records:  # an account someone opened by hand under the prefix is no party
                    out.append(profile_at(records, when))
        return tuple(sorted(out, key=lambda p: p.name))

    def cash(self, creator: str, *, at: datetime | None = None) -> Money:
        """The creator's cash, in their payout currency (posted; a pending withdrawal
        still counts until it is paid out: see :meth:`can_withdraw` for what is free).

        Args:
            creator: the creator's name.
            at: count only postings effective by then (default: all).

        Raises:
            UnknownParty: no such creator (an :class:`~giftledger.UnknownAccount`).

        Example:
            >>> import giftledger as gl
            >>> econ = gl.presets.load("tiktok-live")
            >>> app = gl.GiftEconomy(gl.Ledger(clock=gl.ManualClock(econ.latest.effective_from)),
            ...                      econ)
            >>> _ = app.open_creator("bob", region="US")
            >>> app.cash("bob")
            Money('0.00', 'USD')
            >>> try:
            ...     app.cash("zoe")
            ... except gl.UnknownParty as exc:
            ...     print(exc.role, exc.name, isinstance(exc, gl.UnknownAccount))
            creator zoe True
        """
        return self._party_balance("creator", creator, f"creators:{creator}:cash", at)

    def diamonds(self, creator: str, *, at: datetime | None = None) -> Money:
        """The creator's unconverted creator units (Diamonds, Beans … : the economy's
        ``creator_unit``).

        Raises:
            UnknownParty: no such creator.

        Example:
            >>> import giftledger as gl
            >>> econ = gl.presets.load("tiktok-live")
            >>> app = gl.GiftEconomy(gl.Ledger(clock=gl.ManualClock(econ.latest.effective_from)),
            ...                      econ)
            >>> _ = app.open_viewer("alice", region="US")
            >>> _ = app.open_creator("bob", region="US")
            >>> _ = app.buy_coins("alice", pack=1400, channel="web")
            >>> _ = app.send_gift("alice", "bob", "Rose", quantity=10)
            >>> app.diamonds("bob"), app.coins("alice")
            (Money('10', 'DIAMOND'), Money('1390', 'COIN'))
        """
        return self._party_balance("creator", creator, f"creators:{creator}:diamonds", at)

    def payable(self, creator: str, *, at: datetime | None = None) -> Money:
        """What the platform owes the creator for unconverted Diamonds, in the books'
        currency (``liabilities:creators-payable:<creator>``).

        Raises:
            UnknownParty: no such creator.
        """
        return self._party_balance(
            "creator", creator, f"liabilities:creators-payable:{creator}", at
        )

    def coins(self, viewer: str, *, at: datetime | None = None) -> Money:
        """The coins in the viewer's wallet (the economy's ``coin_unit``).

        Raises:
            UnknownParty: no such viewer.
        """
        return self._party_balance("viewer", viewer, f"viewers:{viewer}:coins", at)

    def _party_balance(self, role: str, name: str, account: str, at: datetime | None) -> Money:
        self._check_name(name, role)
        with self.ledger.store.read() as r:
            self._party(r, role, name, self._now())  # raises UnknownParty
        return self.ledger.balance(account, at=at)


def _profile_text(rec: PartyRecord) -> str:
    parts = [f"region={rec.region!r}", f"age={rec.age!r}"]
    if rec.role == "creator":
        parts += [f"verified={rec.verified!r}", f"payout_currency={rec.payout_currency!r}"]
    return ", ".join(parts)
