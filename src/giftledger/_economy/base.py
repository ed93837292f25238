"""The chain's plumbing: accounts opened once, one read snapshot, a guarded write.

Every chain operation is planned from ONE read snapshot of the ledger (the
coin lots, rebuilt from the journal, and the balances it needs) and posted
with a ``guard``: inside the store's locked write, the guard reads what was
written since the snapshot; if anything touched the accounts the plan
depends on, nothing is written and the operation is planned again. Also
here: the request fingerprints behind idempotency keys, exchange-rate
look-ups (a missing rate is :class:`~giftledger.RateUnavailable`, never a
guess) and region checks.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from fractions import Fraction

import attrs

from .. import _errors
from .._errors import (
    DuplicateKeyConflict,
    GiftLedgerError,
    InvalidArgument,
    RateUnavailable,
    StoreError,
    UnknownAccount,
    UnknownRule,
    UnknownTransaction,
)
from .._ledger.idempotency import _check_key
from .._ledger.ledger import Ledger
from .._ledger.model import (
    BalanceRule,
    MetaValue,
    Posting,
    Rate,
    Side,
    Transaction,
)
from .._ledger.store import StoreReader
from .._money.amounts import Rounding, round_fraction, to_fraction
from .._money.units import get_unit
from .fx import RateSource
from .lots import OP, CoinLot, LotBook
from .rules import Economy, RuleSet

__all__ = ["FX_ROUNDING", "ChainBase", "check_region"]

_D, _C = Side.DEBIT, Side.CREDIT

#: How an amount converted between currencies is rounded (the rate is stored on the entry).
FX_ROUNDING = Rounding.HALF_EVEN
_MAX_RETRIES = 64


class _Stale(Exception):
    """The state an operation was planned on changed before it could be written."""


@attrs.frozen(slots=True)
class _Plan:
    postings: tuple[Posting, ...]
    memo: str
    meta: dict[str, MetaValue]
    watch: frozenset[str]
    rates: tuple[Rate, ...] = ()


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


@functools.cache
def _known_regions() -> frozenset[str]:
    """ISO 3166 alpha-2 codes, from babel's territory names."""
    from babel import Locale

    territories: Mapping[str, str] = Locale("en").territories
    return frozenset(code for code in territories if len(code) == 2 and code.isalpha())


def check_region(region: object, what: str = "region") -> str:
    """Return ``region`` if it is an ISO 3166 alpha-2 code babel knows, else raise UnknownRule."""
    if not isinstance(region, str) or region not in _known_regions():
        raise UnknownRule(
            f"unknown {what} {region!r}; use an ISO 3166 country code such as 'US' or 'DE'"
        )
    return region


def _lookup_rate(rates: object, base: str, quote: str, at: datetime) -> Fraction:
    if base == quote:
        return Fraction(1)
    if rates is None:
        raise RateUnavailable(
            f"no exchange rate {base}/{quote} at {at.isoformat()}: this GiftEconomy has no "
            f"rate source; pass rates= to GiftEconomy"
        )
    if isinstance(rates, Mapping):
        value = rates.get((base, quote))
        inverse = rates.get((quote, base))
        if value is not None:
            rate = to_fraction(value, "rate")
        elif inverse is not None and to_fraction(inverse, "rate") > 0:
            rate = 1 / to_fraction(inverse, "rate")
        else:
            raise RateUnavailable(f"no exchange rate {base}/{quote} at {at.isoformat()}")
    else:
        lookup = getattr(rates, "rate", None)
        if lookup is None:
            raise InvalidArgument(f"rates {rates!r} has no rate(base, quote, at) method")
        rate = to_fraction(lookup(base, quote, at), "rate")
    if rate <= 0:
        raise RateUnavailable(f"exchange rate {base}/{quote} at {at.isoformat()} is {rate}")
    return rate


def _scale(code: str) -> int:
    return get_unit(code).scale


def _convert_minor(minor: int, base: str, quote: str, rate: Fraction) -> int:
    return round_fraction(Fraction(minor) * rate * _scale(quote) / _scale(base), FX_ROUNDING)


def _meta_int(tx: Transaction, key: str) -> int:
    value = tx.meta.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class ChainBase:
    """State and plumbing shared by the chain's operations; see :class:`GiftEconomy`."""

    def __init__(
        self,
        ledger: Ledger,
        economy: Economy,
        *,
        rates: RateSource | Mapping[tuple[str, str], object] | None = None,
    ) -> None:
        if not isinstance(ledger, Ledger):
            raise InvalidArgument(f"ledger {ledger!r} must be a giftledger.Ledger")
        if not isinstance(economy, Economy):
            raise InvalidArgument(f"economy {economy!r} must be a giftledger.Economy")
        self.ledger = ledger
        self.economy = economy
        self.rates = rates
        self.books = economy.books_currency
        self.coin = economy.coin_unit
        self.unit = economy.creator_unit
        self._lotbook = LotBook()
        # The journal position a plan's read snapshot saw, per thread: the guard
        # checks every entry after it (the shared lot view may have been synced
        # further by another thread meanwhile, so its own position is not enough).
        self._seen = threading.local()
        self._opened: set[str] = set()
        b, free = self.books, BalanceRule.unrestricted()
        self._open("platform:coin-supply", self.coin, _D, rule=free)
        self._open("platform:diamond-supply", self.unit, _D, rule=free)
        self._open("liabilities:deferred-revenue", b, _C)
        self._open("revenue:gifts", b, _C, rule=free)
        self._open("expenses:gift-shortfall", b, _D)
        self._open("platform:rewards-pool", b, _D, rule=free)

    # -- plumbing ----------------------------------------------------------------------

    def _open(
        self,
        name: str,
        unit: str,
        normal: Side,
        *,
        rule: BalanceRule | None = None,
        metadata: Mapping[str, MetaValue] | None = None,
    ) -> str:
        """Open ``name`` once per GiftEconomy (``open_account`` is idempotent anyway)."""
        if name not in self._opened:
            self.ledger.open_account(name, unit, normal=normal, rule=rule, metadata=metadata)
            self._opened.add(name)
        return name

    def _ccy(self, base: str, currency: str) -> str:
        return base if currency == self.books else f"{base}:{currency}"

    def _trading(self, unit: str) -> str:
        name = f"trading:{unit}"
        if name not in self._opened:
            self.ledger.open_trading_account(unit)
            self._opened.add(name)
        return name

    def _now(self) -> datetime:
        return self.ledger.clock.now()

    def _rules(self, at: datetime) -> RuleSet:
        return self.economy.rules_at(at)

    def _rate(self, base: str, quote: str, at: datetime) -> Fraction:
        return _lookup_rate(self.rates, base, quote, at)

    def sync(self) -> None:
        """Bring the lot view up to date with entries written by others (it also
        happens before every operation)."""
        with self.ledger.store.read() as r:
            self._seen.id = r.head()[0]
            self._lotbook.sync(r)

    def coin_lots(self, viewer: str | None = None) -> tuple[CoinLot, ...]:
        """The coin lots of ``viewer`` (of everyone if None), oldest first, up to date."""
        self.sync()
        return self._lotbook.lots(viewer)

    def coin_lot(self, purchase: Transaction | int | str) -> CoinLot:
        """The lot bought by a purchase (its entry, id or idempotency key), up to date.

        Raises:
            UnknownTransaction: not a coin purchase.
        """
        return self._purchase(purchase)

    def _snapshot(self, names: Sequence[str]) -> dict[str, int]:
        """Sync the lots and read ``names``' posted ``net`` in ONE read snapshot."""
        out = {}
        with self.ledger.store.read() as r:
            self._seen.id = r.head()[0]
            self._lotbook.sync(r)
            for name in names:
                st = r.account_state(name)
                out[name] = 0 if st is None else st.net
        return out

    def _guard(self, plan: _Plan, seen: int | None = None) -> Callable[[StoreReader], None]:
        def guard(r: StoreReader) -> None:
            touched = self._lotbook.sync(r, plan.watch)
            if not touched and seen is not None and plan.watch:
                touched = any(
                    p.account in plan.watch for tx in r.transactions(seen + 1) for p in tx.postings
                )
            if touched:
                raise _Stale

        return guard

    def _replay_failure(self, key: str | None, request: str) -> None:
        """Raise again the error this very request failed with under ``key`` before
        any entry was planned (see :meth:`_remember_failure`)."""
        if not isinstance(key, str):
            return
        with self.ledger.store.read() as r:
            record = r.idempotency(key)
        if record is None or record.error_type is None or record.fingerprint != request:
            return
        cls = getattr(_errors, record.error_type, GiftLedgerError)
        if not (isinstance(cls, type) and issubclass(cls, GiftLedgerError)):
            cls = GiftLedgerError
        raise cls(f"{record.error_message} (replayed for idempotency key {key!r})")

    def _remember_failure(
        self, key: str | None, request: str, exc: GiftLedgerError, dry_run: bool
    ) -> None:
        """Remember a failure found while planning under ``key``, as the ledger does
        for its own: the same key and request then fail the same way again."""
        if dry_run or not isinstance(key, str) or isinstance(exc, StoreError):
            return  # a store failure is not the request's outcome: never remember it
        try:
            _check_key(key)
        except GiftLedgerError:
            return
        self.ledger._remember_failure(key, request, exc)

    def _replayed(self, key: str | None, request: str) -> Transaction | None:
        if key is None:
            return None
        self._replay_failure(key, request)
        tx = self.ledger.find(key)
        if tx is None:
            return None
        if tx.meta.get("gl.request") != request:
            raise DuplicateKeyConflict(
                f"idempotency key {key!r} was already used for a different request; "
                f"use a new key for new content"
            )
        return tx

    def _execute(
        self,
        key: str | None,
        request: str,
        dry_run: bool,
        plan: Callable[[], _Plan],
    ) -> Transaction:
        done = self._replayed(key, request)
        if done is not None:
            return done
        for _ in range(_MAX_RETRIES):
            self._seen.id = None
            try:
                p = plan()
            except GiftLedgerError as exc:
                self._remember_failure(key, request, exc, dry_run)
                raise
            seen: int | None = self._seen.id
            meta = dict(p.meta)
            meta["gl.request"] = request
            try:
                return self.ledger.post(
                    p.postings,
                    key=key,
                    memo=p.memo,
                    metadata=meta,
                    rates=p.rates,
                    dry_run=dry_run,
                    guard=self._guard(p, seen),
                )
            except _Stale:
                continue
            except DuplicateKeyConflict:
                # Another process posted this very request under the key first.
                done = self._replayed(key, request)
                if done is not None:
                    return done
                raise
        # Only under a storm of writers on the same accounts: a contention failure.
        raise StoreError(  # pragma: no cover
            f"the accounts this request depends on changed under it {_MAX_RETRIES} times; "
            f"nothing was written, try again"
        )

    def _profile(self, kind: str, name: str) -> dict[str, MetaValue]:
        account = f"{kind}s:{name}:{'coins' if kind == 'viewer' else 'diamonds'}"
        try:
            return self.ledger.account(account).meta
        except UnknownAccount:
            raise UnknownAccount(
                f"unknown {kind} {name!r}; open it with open_{kind}({name!r}, ...) first"
            ) from None

    # -- parties -----------------------------------------------------------------------

    @staticmethod
    def _check_name(name: object, what: str) -> str:
        if not isinstance(name, str) or not name or ":" in name or name != name.strip():
            raise InvalidArgument(
                f"{what} name {name!r} must be a non-empty string without ':' or surrounding spaces"
            )
        return name

    @staticmethod
    def _check_age(age: object) -> int | None:
        if age is None:
            return None
        if isinstance(age, bool) or not isinstance(age, int) or not 0 <= age <= 150:
            raise InvalidArgument(f"age {age!r} must be an int from 0 to 150, or None")
        return age

    def _creator_currency(self, name: str) -> str:
        return str(self._profile("creator", name)["gl.payout_currency"])

    # -- refunds -----------------------------------------------------------------------

    def _purchase(self, purchase: Transaction | int | str) -> CoinLot:
        if isinstance(purchase, Transaction):
            tx: Transaction | None = purchase
        elif isinstance(purchase, str):
            tx = self.ledger.find(purchase)
        elif isinstance(purchase, int) and not isinstance(purchase, bool):
            try:
                tx = self.ledger.transaction(purchase)
            except UnknownTransaction:
                tx = None
        else:
            tx = None
        if tx is None or tx.meta.get(OP) != "buy_coins":
            raise UnknownTransaction(f"no coin purchase {purchase!r}")
        self.sync()
        lot = self._lotbook.lot(tx.id)
        assert lot is not None
        return lot
