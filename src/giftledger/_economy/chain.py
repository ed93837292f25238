"""The chain: coin purchase → gift → Diamonds → cash → withdrawal, as balanced entries.

:class:`GiftEconomy` turns each user action into ONE transaction on a
:class:`~giftledger.Ledger`, under the rules in force at that moment
(``economy.rules_at(now)``). The ledger core knows nothing of gifts: the chain
only calls its public API (``open_account``, ``post`` with a ``guard``,
``hold``, ``post_hold``, ``void_hold``).

Accounts (``B`` is the books' currency; accounts in another currency ``C``
get a ``:C`` suffix)::

    viewers:<name>:coins                 COIN    the wallet (a liability)
    viewers:<name>:receivable            B       what a refunded viewer owes
    creators:<name>:diamonds             DIAMOND the creator's units; profile in metadata
    creators:<name>:cash                 payout  the creator's withdrawable cash
    liabilities:creators-payable:<name>  B       cash value of the creator's Diamonds
    platform:coin-supply                 COIN    coins outstanding (debit side)
    platform:diamond-supply              DIAMOND Diamonds outstanding (debit side)
    assets:stores:<store>                C       what a store owes us (net of its fee)
    expenses:store-fees:<store>          C       what stores kept
    liabilities:tax-payable:<region>     C       tax collected on purchases
    liabilities:deferred-revenue         B       paid for, not yet spent
    revenue:gifts                        B       the platform's cut of gifts
    expenses:gift-shortfall              B       when a creator is owed more than was released
    expenses:refund-losses               B       spent coins of refunded lots (PLATFORM_LOSS)
    expenses:creator-pay-adjustments     B       a Diamond worth more at conversion than accrued
    revenue:creator-pay-adjustments      B       ... or less
    liabilities:payouts-in-flight        payout  withdrawals posted, not yet settled
    assets:bank                          payout  money paid out (and in)
    revenue:withdrawal-fees              payout  withdrawal fees
    platform:rewards-pool                B       view-based pay, funded by the platform
    trading:<UNIT>                       any     FX trading accounts

Atomicity across processes: each operation reads the state it needs (lots,
balances) and posts with a ``guard`` that re-reads, inside the store's locked
write, what was written since; if anything touched the accounts the operation
depends on, nothing is written and the operation is planned again. The
withdrawal checks themselves run inside the guard.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING, Literal

import attrs
from moneyed import Money

from .._errors import (
    AlreadyReversed,
    BelowWithdrawalThreshold,
    CurrencyMismatch,
    DuplicateKeyConflict,
    InsufficientFunds,
    InvalidArgument,
    InvalidEconomy,
    LimitExceeded,
    NotEligible,
    RateUnavailable,
    UnknownAccount,
    UnknownRule,
    UnknownTransaction,
)
from .._ledger.ledger import Ledger
from .._ledger.model import (
    BalanceRule,
    HoldStatus,
    MetaValue,
    Posting,
    Rate,
    Side,
    Transaction,
)
from .._ledger.store import StoreReader
from .._money.amounts import Rounding, from_minor, round_fraction, to_fraction, to_minor
from .._money.units import get_unit
from .fx import RateSource
from .lots import OP, CoinLot, LotBook, encode_slices
from .rules import Economy, PayoutModel, RuleSet, SpentCoinPolicy, WithdrawalPolicy

if TYPE_CHECKING:
    from .explain import Explanation, Statement

__all__ = [
    "FX_ROUNDING",
    "GiftEconomy",
    "Withdrawal",
]

_D, _C = Side.DEBIT, Side.CREDIT

#: How an amount converted between currencies is rounded (the rate is stored on the entry).
FX_ROUNDING = Rounding.HALF_EVEN
#: How a percentage withdrawal fee is rounded.
FEE_ROUNDING = Rounding.HALF_UP
_MAX_RETRIES = 64


class _Stale(Exception):
    """The state an operation was planned on changed before it could be written."""


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
class _Plan:
    postings: tuple[Posting, ...]
    memo: str
    meta: dict[str, MetaValue]
    watch: frozenset[str]
    rates: tuple[Rate, ...] = ()
    check: Callable[[StoreReader], None] | None = None


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


class GiftEconomy:
    """A platform's gift economy kept on a ledger.

    Args:
        ledger: the books (any store).
        economy: the platform's dated rules.
        rates: where exchange rates come from: a :class:`~giftledger.RateTable`
            or any :class:`RateSource` (``rate(base, quote, at)``), or a plain
            mapping ``{(base, quote): rate}`` for a fixed rate (inverses derived);
            needed only when a purchase or a payout is in another currency than
            the books'.

    Every operation is one atomic ledger transaction (withdrawal completion
    is two: posting the hold, then settling it), takes ``key=`` for
    idempotency (the same key and request return the first result; the same
    key for another request is :class:`~giftledger.DuplicateKeyConflict`) and
    ``dry_run=`` (check everything, write nothing, return the entry that
    would be posted).

    Example:
        >>> import giftledger as gl
        >>> econ = gl.presets.load("tiktok-live")
        >>> book = gl.Ledger(clock=gl.ManualClock(econ.latest.effective_from))
        >>> app = gl.GiftEconomy(book, econ)
        >>> _ = app.open_viewer("alice", region="US")
        >>> _ = app.open_creator("bob", region="US")
        >>> _ = app.buy_coins("alice", pack=1400, channel="ios", key="order-1")
        >>> book.balance("viewers:alice:coins")
        Money('1400', 'COIN')
    """

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
            self._lotbook.sync(r)
            for name in names:
                st = r.account_state(name)
                out[name] = 0 if st is None else st.net
        return out

    def _guard(self, plan: _Plan) -> Callable[[StoreReader], None]:
        def guard(r: StoreReader) -> None:
            if self._lotbook.sync(r, plan.watch):
                raise _Stale
            if plan.check is not None:
                plan.check(r)

        return guard

    def _replayed(self, key: str | None, request: str) -> Transaction | None:
        if key is None:
            return None
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
            p = plan()
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
                    guard=self._guard(p),
                )
            except _Stale:
                continue
            except DuplicateKeyConflict:
                # Another process posted this very request under the key first.
                done = self._replayed(key, request)
                if done is not None:
                    return done
                raise
        raise InsufficientFunds(  # pragma: no cover - only under a storm of writers
            f"the state kept changing under this request {_MAX_RETRIES} times; try again"
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

    def open_viewer(self, name: str, *, region: str | None = None, age: int | None = None) -> str:
        """Open a viewer's coin wallet (idempotently); return its account name.

        The region and age are kept in the wallet account's metadata, so they
        survive reopening a stored ledger. An age left as None is not checked
        against the rules' minimum buyer age.

        Raises:
            UnknownRule: an unknown region.
            AccountExists: the viewer exists with other attributes.
        """
        self._check_name(name, "viewer")
        if region is not None:
            check_region(region)
        age = self._check_age(age)
        return self._open(
            f"viewers:{name}:coins",
            self.coin,
            _C,
            metadata={"gl.role": "viewer", "gl.region": region, "gl.age": age},
        )

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

        Raises:
            UnknownRule: an unknown region or a payout currency the rules do not offer.
            UnknownUnit: a currency code nobody knows.
            AccountExists: the creator exists with other attributes.
        """
        self._check_name(name, "creator")
        if region is not None:
            check_region(region)
        age = self._check_age(age)
        if not isinstance(verified, bool):
            raise InvalidArgument(f"verified {verified!r} must be True or False")
        currency = self.books if payout_currency is None else payout_currency
        if not isinstance(currency, str):
            raise InvalidArgument(f"payout_currency {currency!r} must be a currency code")
        get_unit(currency)
        offered = self.economy.latest.payout_currencies
        if currency not in offered and currency != self.books:
            raise UnknownRule(
                f"payout currency {currency!r} is not offered by {self.economy.name!r}; "
                f"currencies: {', '.join(offered)}"
            )
        diamonds = self._open(
            f"creators:{name}:diamonds",
            self.unit,
            _C,
            metadata={
                "gl.role": "creator",
                "gl.region": region,
                "gl.payout_currency": currency,
                "gl.age": age,
                "gl.verified": verified,
            },
        )
        self._open(f"creators:{name}:cash", currency, _C)
        self._open(f"liabilities:creators-payable:{name}", self.books, _C)
        return diamonds

    def _creator_currency(self, name: str) -> str:
        return str(self._profile("creator", name)["gl.payout_currency"])

    # -- buy ---------------------------------------------------------------------------

    def buy_coins(
        self,
        viewer: str,
        *,
        pack: int,
        channel: str,
        region: str | None = None,
        key: str | None = None,
        dry_run: bool = False,
    ) -> Transaction:
        """A viewer buys a coin pack: fiat in, coins into the wallet, a coin lot recorded.

        Postings (``C`` is the pack's currency, ``G`` the price, ``F`` the
        store's fee, ``T`` the tax)::

            C:    debit  assets:stores:<store>          G - F
                  debit  expenses:store-fees:<store>    F
                  credit liabilities:tax-payable:<R>    T
                  credit liabilities:deferred-revenue   G - T   (through trading
                                                                 accounts if C is not
                                                                 the books' currency)
            COIN: debit  platform:coin-supply           coins
                  credit viewers:<viewer>:coins         coins

        The store's fee is ``rate`` of the tax-exclusive price plus its fixed
        part; an inclusive tax is ``G * r / (1 + r)``; an exclusive tax is added
        to what the viewer pays. The lot (gross, fee, tax, channel, region,
        time) is kept in the entry's metadata.

        Raises:
            UnknownAccount: no such viewer.
            UnknownRule: no such pack, channel or region.
            NotEligible: the viewer is younger than the rules allow.
            RateUnavailable: the pack's currency is not the books' and no rate is known.
        """
        if isinstance(pack, bool) or not isinstance(pack, int) or pack <= 0:
            raise InvalidArgument(f"pack {pack!r} must be a positive int number of coins")
        if not isinstance(channel, str):
            raise UnknownRule(f"unknown sales channel {channel!r}")
        profile = self._profile("viewer", viewer)
        if region is not None:
            check_region(region)
        where = region if region is not None else profile.get("gl.region")
        where = where if isinstance(where, str) else "*"
        request = _fingerprint("buy_coins", viewer, pack, channel, where)

        def plan() -> _Plan:
            now = self._now()
            rules = self._rules(now)
            p = rules.pack(pack, channel, where)
            fee_rule = rules.store_fee(channel)
            age = profile.get("gl.age")
            if isinstance(age, int) and age < rules.min_buyer_age:
                raise NotEligible(
                    f"viewer {viewer!r} is {age}; buying coins needs age "
                    f"{rules.min_buyer_age} or more"
                )
            ccy = p.price.currency.code
            price = to_minor(p.price, ccy)
            tax, gross = 0, price
            rule = None
            if rules.taxes:
                try:
                    rule = rules.tax(where)
                except UnknownRule:
                    rule = None
            if rule is not None and rule.rate:
                if rule.inclusive:
                    tax = round_fraction(price * rule.rate / (1 + rule.rate), rule.rounding)
                else:
                    tax = round_fraction(price * rule.rate, rule.rounding)
                    gross = price + tax
            exclusive = gross - tax
            fee = round_fraction(exclusive * fee_rule.rate, fee_rule.rounding)
            if fee_rule.fixed is not None:
                if fee_rule.fixed.currency.code != ccy:
                    raise CurrencyMismatch(
                        f"the {channel!r} store's fixed fee {fee_rule.fixed} is not in the "
                        f"pack's currency {ccy}"
                    )
                fee += to_minor(fee_rule.fixed, ccy)
            if fee >= gross:
                raise InvalidEconomy(
                    f"the {channel!r} store's fee {from_minor(fee, ccy).amount} {ccy} takes "
                    f"the whole price of the {pack}-coin pack"
                )
            deferred_c = gross - tax
            rates: tuple[Rate, ...] = ()
            if ccy == self.books:
                deferred, fee_b, tax_b = deferred_c, fee, tax
            else:
                fx = self._rate(ccy, self.books, now)
                deferred = _convert_minor(deferred_c, ccy, self.books, fx)
                fee_b = _convert_minor(fee, ccy, self.books, fx)
                tax_b = _convert_minor(tax, ccy, self.books, fx)
                rates = (Rate(ccy, self.books, fx),)
            store = fee_rule.account
            free = BalanceRule.unrestricted()
            s_acct = self._open(self._ccy(f"assets:stores:{store}", ccy), ccy, _D, rule=free)
            f_acct = self._open(self._ccy(f"expenses:store-fees:{store}", ccy), ccy, _D, rule=free)
            postings = [Posting(s_acct, _D, gross - fee, ccy)]
            if fee:
                postings.append(Posting(f_acct, _D, fee, ccy))
            if tax:
                t_acct = self._open(
                    self._ccy(f"liabilities:tax-payable:{where}", ccy), ccy, _C, rule=free
                )
                postings.append(Posting(t_acct, _C, tax, ccy))
            if ccy == self.books:
                postings.append(Posting("liabilities:deferred-revenue", _C, deferred, ccy))
            else:
                postings.append(Posting(self._trading(ccy), _C, deferred_c, ccy))
                if deferred:
                    postings.append(Posting(self._trading(self.books), _D, deferred, self.books))
                    postings.append(
                        Posting("liabilities:deferred-revenue", _C, deferred, self.books)
                    )
            postings.append(Posting("platform:coin-supply", _D, p.coins, self.coin))
            postings.append(Posting(f"viewers:{viewer}:coins", _C, p.coins, self.coin))
            meta: dict[str, MetaValue] = {
                OP: "buy_coins",
                "gl.viewer": viewer,
                "gl.coins": p.coins,
                "gl.currency": ccy,
                "gl.gross": gross,
                "gl.fee": fee,
                "gl.tax": tax,
                "gl.deferred": deferred,
                "gl.fee_books": fee_b,
                "gl.tax_books": tax_b,
                "gl.channel": channel,
                "gl.region": where,
                "gl.store": store,
            }
            return _Plan(
                tuple(postings),
                f"{viewer} buys {p.coins} {self.coin} for {from_minor(gross, ccy).amount} "
                f"{ccy} on {channel}",
                meta,
                frozenset(),
                rates,
            )

        return self._execute(key, request, dry_run, plan)

    # -- gift --------------------------------------------------------------------------

    def send_gift(
        self,
        viewer: str,
        creator: str,
        gift: str,
        quantity: int = 1,
        *,
        key: str | None = None,
        dry_run: bool = False,
    ) -> Transaction:
        """A viewer sends ``quantity`` of ``gift`` to a creator: one atomic entry.

        Postings (``R`` is the deferred value the spent coins release, their
        lots consumed first in, first out; ``A`` is what the creator is owed)::

            COIN:    debit  viewers:<viewer>:coins               coins
                     credit platform:coin-supply                 coins
            B:       debit  liabilities:deferred-revenue         R
                     credit liabilities:creators-payable:<c>     A
                     credit revenue:gifts                        R - A  (if A <= R)
                     debit  expenses:gift-shortfall              A - R  (if A > R)
            DIAMOND: debit  platform:diamond-supply              units
                     credit creators:<c>:diamonds                units

        ``DIAMOND_VALUE`` rules owe the creator the value of the new Diamonds
        at the rules in force, cut cumulatively: ``round((H + u) * v) -
        round(H * v)`` by ``cash_rounding`` for ``H`` Diamonds held and ``u``
        received, so a thousand 1-coin gifts owe exactly what one 1,000-coin
        gift owes. ``SHARE_OF_PRICE`` rules owe ``share`` of the released value
        (less the store fee in it when ``share_after_fees``; plus the tax when
        not), rounded by ``cash_rounding``; the platform's cut is the rest.

        Raises:
            UnknownAccount: no such viewer or creator.
            UnknownRule: no such gift.
            InvalidArgument: quantity is not a positive int.
            InsufficientFunds: the wallet holds too few coins.
        """
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
            raise InvalidArgument(f"quantity {quantity!r} must be a positive int")
        if not isinstance(gift, str):
            raise UnknownRule(f"unknown gift {gift!r}")
        self._profile("viewer", viewer)
        self._profile("creator", creator)
        wallet = f"viewers:{viewer}:coins"
        diamonds_acct = f"creators:{creator}:diamonds"
        payable = f"liabilities:creators-payable:{creator}"
        request = _fingerprint("send_gift", viewer, creator, gift, quantity)

        def plan() -> _Plan:
            now = self._now()
            rules = self._rules(now)
            g = rules.gift(gift)
            coins = g.coins * quantity
            snap = self._snapshot([wallet, diamonds_acct, payable])
            held = -snap[wallet]
            slices = self._lotbook.take(viewer, coins)
            if slices is None or held < coins:
                raise InsufficientFunds(
                    f"viewer {viewer!r} holds {held} {self.coin}; {quantity} x {gift!r} "
                    f"costs {coins} {self.coin}"
                )
            released = sum(s.released for s in slices)
            fee_b = sum(s.fee_books for s in slices)
            tax_b = sum(s.tax_books for s in slices)
            pay = rules.creator_pay
            units = round_fraction(coins * pay.creator_units_per_coin, pay.unit_rounding)
            if pay.model is PayoutModel.DIAMOND_VALUE:
                if pay.value_currency != self.books:
                    raise InvalidEconomy(
                        f"creator_pay.value_currency {pay.value_currency!r} differs from the "
                        f"books' currency {self.books!r}; the chain values Diamonds in the "
                        f"books' currency"
                    )
                # Cumulative at today's value: the new units' share of the value of
                # everything held, so a thousand 1-Diamond gifts owe what one
                # 1,000-Diamond gift owes; units held before keep what they accrued.
                held = -snap[diamonds_acct]
                per_minor = pay.value_per_unit * _scale(self.books)
                owed = round_fraction((held + units) * per_minor, pay.cash_rounding) - (
                    round_fraction(held * per_minor, pay.cash_rounding)
                )
            else:
                base = released - fee_b if pay.share_after_fees else released + tax_b
                owed = round_fraction(max(0, base) * pay.share, pay.cash_rounding)
            cut = released - owed
            b = self.books
            postings = [
                Posting(wallet, _D, coins, self.coin),
                Posting("platform:coin-supply", _C, coins, self.coin),
            ]
            if released:
                postings.append(Posting("liabilities:deferred-revenue", _D, released, b))
            if owed:
                postings.append(Posting(payable, _C, owed, b))
            if cut > 0:
                postings.append(Posting("revenue:gifts", _C, cut, b))
            elif cut < 0:
                postings.append(Posting("expenses:gift-shortfall", _D, -cut, b))
            if units:
                postings.append(Posting("platform:diamond-supply", _D, units, self.unit))
                postings.append(Posting(diamonds_acct, _C, units, self.unit))
            meta: dict[str, MetaValue] = {
                OP: "send_gift",
                "gl.viewer": viewer,
                "gl.creator": creator,
                "gl.gift": g.name,
                "gl.quantity": quantity,
                "gl.coins": coins,
                "gl.units": units,
                "gl.released": released,
                "gl.owed": owed,
                "gl.lots": encode_slices(slices),
            }
            return _Plan(
                tuple(postings),
                f"{viewer} sends {quantity} x {g.name} to {creator}",
                meta,
                frozenset({wallet, diamonds_acct, payable}),
            )

        return self._execute(key, request, dry_run, plan)

    # -- convert -----------------------------------------------------------------------

    def convert_diamonds(
        self,
        creator: str,
        diamonds: int | None = None,
        *,
        key: str | None = None,
        dry_run: bool = False,
    ) -> Transaction:
        """Turn a creator's Diamonds (all by default) into cash in their payout currency.

        Postings (``P`` is the payable the Diamonds release, ``V`` their value
        now, ``X`` that value in the payout currency at the stored rate)::

            DIAMOND: debit  creators:<c>:diamonds                d
                     credit platform:diamond-supply              d
            B:       debit  liabilities:creators-payable:<c>     P
                     debit  expenses:creator-pay-adjustments     V - P  (if V > P)
                     credit revenue:creator-pay-adjustments      P - V  (if P > V)
                     credit creators:<c>:cash                    V      (payout in B)
            FX:      credit trading:B V; debit trading:C X; credit creators:<c>:cash X

        ``V`` is cumulative like the accrual: ``round(D * v) - round((D - d) * v)``
        for ``D`` Diamonds held and ``d`` converted, so converting in parts
        loses no cent. Converting everything releases the whole payable.

        Raises:
            RateUnavailable: the payout currency differs and no rate is known.
            InsufficientFunds: more Diamonds than the creator holds.
        """
        if diamonds is not None and (
            isinstance(diamonds, bool) or not isinstance(diamonds, int) or diamonds <= 0
        ):
            raise InvalidArgument(f"diamonds {diamonds!r} must be a positive int or None")
        currency = self._creator_currency(creator)
        d_acct = f"creators:{creator}:diamonds"
        payable = f"liabilities:creators-payable:{creator}"
        cash = f"creators:{creator}:cash"
        request = _fingerprint("convert", creator, diamonds)
        b = self.books

        def plan() -> _Plan:
            now = self._now()
            pay = self._rules(now).creator_pay
            snap = self._snapshot([d_acct, payable])
            held, owed = -snap[d_acct], -snap[payable]
            d = held if diamonds is None else diamonds
            if d <= 0 or d > held:
                raise InsufficientFunds(
                    f"creator {creator!r} holds {held} {self.unit}; cannot convert {d}"
                )
            left = held - d
            if pay.model is PayoutModel.DIAMOND_VALUE:
                s = _scale(b)
                whole = round_fraction(held * pay.value_per_unit * s, pay.cash_rounding)
                rest = round_fraction(left * pay.value_per_unit * s, pay.cash_rounding)
                value = whole - rest
                release = owed if left == 0 else owed - min(owed, rest)
            else:
                release = owed - round_fraction(Fraction(owed * left, held), Rounding.FLOOR)
                value = release
            postings = [
                Posting(d_acct, _D, d, self.unit),
                Posting("platform:diamond-supply", _C, d, self.unit),
            ]
            if release:
                postings.append(Posting(payable, _D, release, b))
            adj = value - release
            if adj > 0:
                self._open("expenses:creator-pay-adjustments", b, _D)
                postings.append(Posting("expenses:creator-pay-adjustments", _D, adj, b))
            elif adj < 0:
                self._open("revenue:creator-pay-adjustments", b, _C)
                postings.append(Posting("revenue:creator-pay-adjustments", _C, -adj, b))
            rates: tuple[Rate, ...] = ()
            paid = value
            if value and currency == b:
                postings.append(Posting(cash, _C, value, b))
            elif value:
                fx = self._rate(b, currency, now)
                paid = _convert_minor(value, b, currency, fx)
                rates = (Rate(b, currency, fx),)
                postings.append(Posting(self._trading(b), _C, value, b))
                if paid:
                    postings.append(Posting(self._trading(currency), _D, paid, currency))
                    postings.append(Posting(cash, _C, paid, currency))
            meta: dict[str, MetaValue] = {
                OP: "convert",
                "gl.creator": creator,
                "gl.units": d,
                "gl.released": release,
                "gl.value": value,
                "gl.paid": paid,
                "gl.currency": currency,
            }
            return _Plan(
                tuple(postings),
                f"{creator} converts {d} {self.unit}",
                meta,
                frozenset({d_acct, payable}),
                rates,
            )

        return self._execute(key, request, dry_run, plan)

    # -- withdraw ----------------------------------------------------------------------

    def _to_policy(self, minor: int, currency: str, limit: Money, at: datetime) -> int:
        """``minor`` of ``currency`` expressed in ``limit``'s currency (exact rate, FX rounding)."""
        target = limit.currency.code
        if target == currency:
            return minor
        return _convert_minor(minor, currency, target, self._rate(currency, target, at))

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
        flight = self._open(self._ccy("liabilities:payouts-in-flight", currency), currency, _C)
        everything = isinstance(amount, str) and amount == "all"
        wanted = None if everything else to_minor(amount, currency)
        if wanted is not None and wanted <= 0:
            raise InvalidArgument(f"withdrawal amount {amount!r} must be greater than zero")
        request = _fingerprint("withdraw", creator, wanted)
        done = self._replayed(key, request)
        if done is not None:
            return self._withdrawal_of(done)
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
                if policy.daily_cap is not None:
                    cap = self._from_policy(policy.daily_cap, currency, now)
                    w = min(w, max(0, cap - today))
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
        raise InsufficientFunds(  # pragma: no cover
            f"the balance of {creator!r} kept changing; try the withdrawal again"
        )

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
            The settling entry.
        """
        tx = self._hold_tx(withdrawal)
        ccy = str(tx.meta["gl.currency"])
        fee = _meta_int(tx, "gl.fee")
        flight = tx.postings[1].account
        amount = tx.postings[0].minor
        self.ledger.post_hold(
            tx.id,
            key=f"gl:withdrawal:{tx.id}:post",
            memo=f"withdrawal {tx.id} paid",
            metadata={OP: "withdraw_post", "gl.withdrawal": tx.id},
            dry_run=dry_run,
        )
        bank = self._open(self._ccy("assets:bank", ccy), ccy, _D, rule=BalanceRule.unrestricted())
        postings = [Posting(flight, _D, amount, ccy)]
        if amount - fee:
            postings.append(Posting(bank, _C, amount - fee, ccy))
        if fee:
            fees = self._open(self._ccy("revenue:withdrawal-fees", ccy), ccy, _C)
            postings.append(Posting(fees, _C, fee, ccy))
        if dry_run:
            return tx
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

    def refund_purchase(
        self,
        purchase: Transaction | int | str,
        *,
        key: str | None = None,
        dry_run: bool = False,
    ) -> Transaction:
        """Refund a coin purchase (given as its entry, id or idempotency key).

        The lot's unspent coins leave the wallet; its unreleased value leaves
        deferred revenue; the store takes back what it paid us (and, when the
        rules say the store returns its fee on a refund, its fee); the tax is
        no longer owed. Coins already spent follow the rules' refund policy:
        ``VIEWER_DEBT`` books what they released as a receivable from the
        viewer, ``PLATFORM_LOSS`` as an expense. Nothing goes silently negative.

        Raises:
            UnknownTransaction: not a coin purchase.
            AlreadyReversed: the purchase was refunded already.
        """
        return self._refund(purchase, "refund", key, dry_run)

    def chargeback(
        self,
        purchase: Transaction | int | str,
        *,
        key: str | None = None,
        dry_run: bool = False,
    ) -> Transaction:
        """A chargeback of a coin purchase: a refund the store does not return its fee on.

        Otherwise as :meth:`refund_purchase`.
        """
        return self._refund(purchase, "chargeback", key, dry_run)

    def _refund(
        self, purchase: Transaction | int | str, kind: str, key: str | None, dry_run: bool
    ) -> Transaction:
        first = self._purchase(purchase)
        request = _fingerprint(kind, first.id)
        wallet = f"viewers:{first.viewer}:coins"

        def plan() -> _Plan:
            now = self._now()
            self.sync()
            lot = self._lotbook.lot(first.id)
            assert lot is not None
            if lot.refunded is not None:
                raise AlreadyReversed(
                    f"purchase {lot.id} was already refunded by entry {lot.refunded}"
                )
            policy = self._rules(now).refunds
            store_keeps_fee = kind == "chargeback" or not policy.refund_store_fee
            ccy, b = lot.currency, self.books
            tx = self.ledger.transaction(lot.id)
            store_acct = next(p.account for p in tx.postings if p.account.startswith("assets:"))
            fee_acct = next(
                (p.account for p in tx.postings if p.account.startswith("expenses:store-fees")),
                None,
            )
            postings: list[Posting] = []
            unspent = lot.unspent
            if unspent:
                postings.append(Posting(wallet, _D, unspent, self.coin))
                postings.append(Posting("platform:coin-supply", _C, unspent, self.coin))
            if store_keeps_fee or not lot.fee:
                postings.append(Posting(store_acct, _C, lot.gross, ccy))
            else:
                postings.append(Posting(store_acct, _C, lot.gross - lot.fee, ccy))
                assert fee_acct is not None
                postings.append(Posting(fee_acct, _C, lot.fee, ccy))
            if lot.tax:
                tax_acct = next(
                    p.account for p in tx.postings if p.account.startswith("liabilities:tax")
                )
                postings.append(Posting(tax_acct, _D, lot.tax, ccy))
            rates: tuple[Rate, ...] = tx.rates
            if ccy != b:
                postings.append(Posting(self._trading(ccy), _D, lot.gross - lot.tax, ccy))
                if lot.deferred:
                    postings.append(Posting(self._trading(b), _C, lot.deferred, b))
            left = lot.deferred - lot.released
            if left:
                postings.append(Posting("liabilities:deferred-revenue", _D, left, b))
            spent_value = lot.released
            policy_name = policy.spent_coins.value
            if spent_value:
                if policy.spent_coins is SpentCoinPolicy.VIEWER_DEBT:
                    acct = self._open(f"viewers:{lot.viewer}:receivable", b, _D)
                else:
                    acct = self._open("expenses:refund-losses", b, _D)
                postings.append(Posting(acct, _D, spent_value, b))
            meta: dict[str, MetaValue] = {
                OP: kind,
                "gl.lot": lot.id,
                "gl.viewer": lot.viewer,
                "gl.coins": unspent,
                "gl.spent_value": spent_value,
                "gl.policy": policy_name,
                "gl.store_keeps_fee": store_keeps_fee,
            }
            return _Plan(
                tuple(postings),
                f"{kind} of purchase {lot.id}",
                meta,
                frozenset({wallet}),
                rates,
            )

        return self._execute(key, request, dry_run, plan)

    # -- views -------------------------------------------------------------------------

    def pay_views(
        self,
        creator: str,
        period: str,
        views_by_region: Mapping[str, int],
        *,
        engagement: str | None = None,
        followers: int,
        views_30d: int,
        video_seconds: int,
        program: str | None = None,
        key: str | None = None,
        dry_run: bool = False,
    ) -> Transaction:
        """Pay a creator for a period's qualified views from the rewards pool.

        The amount is :func:`estimate_view_earnings` under the rules in force
        now; the eligibility thresholds (followers, views in 30 days, video
        length, views per video) must be met. Postings::

            debit  platform:rewards-pool  amount
            credit creators:<c>:cash      amount   (through trading accounts if the
                                                    payout currency differs)

        The default idempotency key is ``views:<creator>:<program>:<period>``, so
        a period is paid once.

        Raises:
            NotEligible: a threshold is not met.
            UnknownRule: an unknown program, region or engagement tier.
        """
        from .views import estimate_view_earnings

        if not isinstance(period, str) or not period:
            raise InvalidArgument(f"period {period!r} must be a non-empty string")
        currency = self._creator_currency(creator)
        cash = f"creators:{creator}:cash"
        now = self._now()
        rules = self._rules(now)
        prog = rules.rewards_program(program)
        key = key if key is not None else f"views:{creator}:{prog.name}:{period}"
        amount = estimate_view_earnings(
            self.economy,
            views_by_region,
            engagement=engagement,
            followers=followers,
            views_30d=views_30d,
            video_seconds=video_seconds,
            program=prog.name,
            at=now,
            strict=True,
        )
        pool_ccy = amount.currency.code
        minor = to_minor(amount, pool_ccy)
        if minor <= 0:
            raise NotEligible(f"the views of {creator!r} in {period!r} earn nothing")
        request = _fingerprint(
            "views", creator, period, sorted(views_by_region.items()), engagement, prog.name
        )

        def plan() -> _Plan:
            pool = self._open(
                self._ccy("platform:rewards-pool", pool_ccy),
                pool_ccy,
                _D,
                rule=BalanceRule.unrestricted(),
            )
            postings = [Posting(pool, _D, minor, pool_ccy)]
            rates: tuple[Rate, ...] = ()
            paid = minor
            if currency == pool_ccy:
                postings.append(Posting(cash, _C, minor, currency))
            else:
                fx = self._rate(pool_ccy, currency, now)
                paid = _convert_minor(minor, pool_ccy, currency, fx)
                rates = (Rate(pool_ccy, currency, fx),)
                postings.append(Posting(self._trading(pool_ccy), _C, minor, pool_ccy))
                if paid:
                    postings.append(Posting(self._trading(currency), _D, paid, currency))
                    postings.append(Posting(cash, _C, paid, currency))
            meta: dict[str, MetaValue] = {
                OP: "views",
                "gl.creator": creator,
                "gl.period": period,
                "gl.program": prog.name,
                "gl.views": sum(views_by_region.values()),
                "gl.earned": minor,
                "gl.earned_currency": pool_ccy,
                "gl.paid": paid,
            }
            return _Plan(
                tuple(postings),
                f"{prog.name} pays {creator} for {period}",
                meta,
                frozenset(),
                rates,
            )

        return self._execute(key, request, dry_run, plan)

    # -- reports -----------------------------------------------------------------------

    def explain(self, creator: str) -> Explanation:
        """Where every cent the creator earned came from; see :class:`Explanation`."""
        from .explain import explain

        return explain(self, creator)

    def statement(
        self,
        creator: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        locale: str = "en_US",
    ) -> Statement:
        """An itemised, localised statement; see :class:`Statement`."""
        from .explain import statement

        return statement(self, creator, start=start, end=end, locale=locale)
