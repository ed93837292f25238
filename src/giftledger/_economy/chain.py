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

The operations live beside the ideas they use: ``base`` (plumbing, the guarded
write), ``lots`` (coin-lot provenance), ``withdraw`` and ``refunds``,
``views`` (view-based pay) and ``explain`` (explanations and statements).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from fractions import Fraction
from typing import TYPE_CHECKING

from .._errors import (
    CurrencyMismatch,
    InsufficientFunds,
    InvalidArgument,
    InvalidEconomy,
    NotEligible,
    UnknownRule,
)
from .._ledger.model import (
    BalanceRule,
    MetaValue,
    Posting,
    Rate,
    Transaction,
)
from .._money.amounts import Rounding, from_minor, round_fraction, to_minor
from .._money.units import get_unit
from .base import _C, _D, FX_ROUNDING, _convert_minor, _fingerprint, _Plan, _scale, check_region
from .lots import OP, encode_slices
from .refunds import Refunds
from .rules import PayoutModel
from .withdraw import Withdrawal, Withdrawals

if TYPE_CHECKING:
    from .explain import Explanation, Statement


__all__ = ["FX_ROUNDING", "GiftEconomy", "Withdrawal"]


class GiftEconomy(Withdrawals, Refunds):
    """A platform's gift economy kept on a ledger.

    Args:
        ledger: the books (any store).
        economy: the platform's dated rules.
        rates: where exchange rates come from: a :class:`~giftledger.RateTable`
            or any :class:`~giftledger.RateSource` (``rate(base, quote, at)``), or a plain
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

    # -- parties -----------------------------------------------------------------------

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
        offered = self._rules(self._now()).payout_currencies
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
            paid, rates = self._credit_cash(postings, cash, value, b, currency, now)
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
            paid, rates = self._credit_cash(postings, cash, minor, pool_ccy, currency, now)
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

    def _credit_cash(
        self,
        postings: list[Posting],
        cash: str,
        value: int,
        source: str,
        currency: str,
        now: datetime,
    ) -> tuple[int, tuple[Rate, ...]]:
        """Append the postings that credit ``value`` minor units of ``source`` to the
        creator's ``cash`` account in ``currency``, through the trading accounts when
        the two differ; return what reaches the cash account and the rate used."""
        if not value:
            return 0, ()
        if currency == source:
            postings.append(Posting(cash, _C, value, source))
            return value, ()
        fx = self._rate(source, currency, now)
        paid = _convert_minor(value, source, currency, fx)
        postings.append(Posting(self._trading(source), _C, value, source))
        if paid:
            postings.append(Posting(self._trading(currency), _D, paid, currency))
            postings.append(Posting(cash, _C, paid, currency))
        return paid, (Rate(source, currency, fx),)

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
