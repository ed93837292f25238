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

Atomicity across processes: each operation is a quote run inside the
ledger's locked write, once the accounts it depends on are locked, with the
time read under that lock; what it reads (lots, balances, a day's withdrawals)
cannot change before it posts. Every entry carries one typed record
(``records``); the chain reads records, never metadata strings, and finds
them through per-party indexes (``index``), never by reading the journal.

The operations live beside the ideas they use: ``base`` (plumbing, the rules
in the journal), ``parties``, ``lots`` and ``index`` (coin-lot provenance),
``withdraw`` and ``refunds``, ``views`` (view-based pay); explanations and
statements are in ``giftledger._reports``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, time, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING

import attrs
from moneyed import Money

from .._boundary import boundary_methods, shown
from .._errors import (
    BelowWithdrawalThreshold,
    CurrencyMismatch,
    DuplicateKeyConflict,
    GiftLedgerError,
    InsufficientFunds,
    InvalidArgument,
    InvalidEconomy,
    NotEligible,
    UnknownAccount,
    UnknownRule,
)
from .._ledger.model import (
    Account,
    EntryKind,
    Posting,
    Rate,
    Transaction,
)
from .._ledger.quoted import Quote, hold_head
from .._ledger.store import StoreReader, StoreWriter
from .._ledger.text import refuse_unstorable
from .._money.amounts import Rounding, from_minor, round_fraction, to_minor
from .base import (
    _C,
    _D,
    _FREE,
    FX_ROUNDING,
    _convert_minor,
    _scale,
    check_region,
    check_text,
)
from .index import entries_by_id, history_ids, history_page
from .parties import Parties
from .records import (
    ConversionRecord,
    GiftRecord,
    PaidGiftRecord,
    PurchaseRecord,
    ViewPayRecord,
    record_of,
)
from .refunds import Refunds
from .rules import CreatorPay, PayoutModel, RuleSet, fraction_text, tax_day
from .withdraw import Withdrawal, WithdrawalCheck, Withdrawals

if TYPE_CHECKING:
    from babel import Locale

    from .._ledger.proofs import Checkpoint
    from .._reports.explain import Explanation
    from .._reports.statement import Statement


__all__ = ["FX_ROUNDING", "GiftEconomy", "Withdrawal", "WithdrawalCheck"]


@attrs.frozen(slots=True)
class _Sale:
    """A charge to a viewer and its parts (minor units): in ``currency``, and the
    fee, tax and net of tax in the books' currency."""

    currency: str
    region: str
    store: str
    gross: int
    fee: int
    tax: int
    net_c: int
    net: int
    fee_books: int
    tax_books: int
    rates: tuple[Rate, ...]


def _carry_accounts(creator: str) -> tuple[str, str]:
    """The accounts whose histories hold a creator's gifts and conversions (a gift that
    owes less than a minor unit only credits Diamonds): where its carries are summed."""
    return (f"liabilities:creators-payable:{creator}", f"creators:{creator}:diamonds")


def _share_owed(pay: CreatorPay, released: int, fee: int, tax: int) -> tuple[int, Fraction]:
    """``SHARE_OF_PRICE``: the creator's share of what a gift released (less the store
    fee in it when ``share_after_fees``, plus the tax when not), rounded by
    ``cash_rounding``, and the exact remainder carried to the next conversion."""
    base = released - fee if pay.share_after_fees else released + tax
    exact = max(0, base) * pay.share
    owed = round_fraction(exact, pay.cash_rounding)
    return owed, exact - owed


@boundary_methods
class GiftEconomy(Parties, Withdrawals, Refunds):
    """A platform's gift economy kept on a ledger.

    Args:
        ledger: the books (any store).
        economy: the platform's dated rules. The first GiftEconomy on a ledger
            records them in its journal; opening it later with other rules is
            refused unless ``rules_change=True`` records the change.
        rates: where exchange rates come from: a :class:`~giftledger.RateTable`
            or any :class:`~giftledger.RateSource` (``rate(base, quote, at)``), or a plain
            mapping ``{(base, quote): rate}`` for a fixed rate (inverses derived);
            needed only when a purchase or a payout is in another currency than
            the books'.
        rules_change: record ``economy`` as a change of the ledger's rules.

    Every operation is one atomic ledger transaction (withdrawal completion
    is two: posting the hold, then settling it), takes ``key=`` for
    idempotency (the same key and request return the first result; the same
    key for another request is :class:`~giftledger.DuplicateKeyConflict`;
    keys starting with ``gl:`` are the chain's own and refused) and
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

    @classmethod
    def from_ledger(
        cls,
        ledger: object,
        *,
        rates: object = None,
    ) -> GiftEconomy:
        """The chain of a ledger, under the rules recorded in its journal.

        Args:
            ledger: a :class:`~giftledger.Ledger`, or a store URL to open.
            rates: as for the constructor.

        Raises:
            UnknownRule: the ledger's journal records no rules.
        """
        from .._ledger.ledger import Ledger
        from .rules import Economy

        book = Ledger.open(ledger) if isinstance(ledger, str) else ledger
        if not isinstance(book, Ledger):
            raise InvalidArgument(f"ledger {ledger!r} must be a giftledger.Ledger or a URL")
        with book.store.read() as r:
            history = cls._records_under(r, "gl:rules:")
        if not history:
            raise UnknownRule(f"the ledger {book.store.url!r} records no economy rules")
        rec = history[-1][1]
        assert hasattr(rec, "toml")
        economy = Economy.from_toml(rec.toml)
        return cls(book, economy, rates=rates)  # type: ignore[arg-type]

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
        time) is the entry's :class:`~giftledger.PurchaseRecord`.

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
        check_text(channel, "channel")
        if region is not None:
            check_region(region)
        key = self._caller_key(key)
        wallet = f"viewers:{viewer}:coins"
        request = ("buy_coins", viewer, pack, channel, region)
        lock = [wallet, "liabilities:deferred-revenue", "platform:coin-supply"]
        lock += self._purchase_accounts(viewer, pack, channel, region)
        b = self.books

        def quote(w: StoreWriter, now: datetime) -> Quote:
            profile = self._party(w, "viewer", viewer, now)
            where = region if region is not None else profile.region
            where = where if isinstance(where, str) else "*"
            rules = self._rules(now)
            p = rules.pack(pack, channel, where)
            self._check_buyer(rules, viewer, profile.age)
            ccy = p.price.currency.code
            if ccy != b and not isinstance(self.rates, Mapping):
                # A rate source's rate may change at any time: linking at commit, the
                # entry could be dated after a change it was not priced by.
                hold_head(w)
            sale = self._sale(rules, channel, where, ccy, to_minor(p.price, ccy), now)
            opens = [
                self._account("liabilities:deferred-revenue", b, _C),
                self._account("platform:coin-supply", self.coin, _D, _FREE),
            ]
            postings = self._sale_postings(sale, opens)
            if sale.net:
                postings.append(Posting("liabilities:deferred-revenue", _C, sale.net, b))
            postings.append(Posting("platform:coin-supply", _D, p.coins, self.coin))
            postings.append(Posting(wallet, _C, p.coins, self.coin))
            rec = PurchaseRecord(
                viewer,
                p.coins,
                ccy,
                sale.gross,
                sale.fee,
                sale.tax,
                sale.net,
                sale.fee_books,
                sale.tax_books,
                channel,
                where,
                sale.store,
            )
            return Quote(
                EntryKind.POST,
                tuple(postings),
                f"{viewer} buys {p.coins} {self.coin} for {from_minor(sale.gross, ccy).amount} "
                f"{ccy} on {channel}",
                rec.to_meta(),
                sale.rates,
                tuple(opens),
            )

        return self._execute(
            key,
            request,
            lock,
            quote,
            dry_run,
            parties=(("viewer", viewer),),
            # The quote reads no account: the wallet and deferred revenue it credits,
            # which no credit can take below their floors, are locked as it commits
            # (see Ledger._write_quoted). Its tax is the UTC day's (and its price
            # the rules'): it is dated before the next midnight it was priced by, and
            # before the next change of the viewer's profile (see _execute).
            at_commit=(),
            until=self._next_day_or_rules,
        )

    def _next_day_or_rules(self, now: datetime) -> datetime:
        """The start of the tax day after ``now``'s (a UTC midnight: a tax rule's period
        ends at one), or the next change of the rules before it."""
        day = tax_day(now)
        assert day is not None
        midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)
        rules = self._next_rules_change(now)
        return midnight if rules is None else min(rules, midnight)

    @staticmethod
    def _check_buyer(rules: RuleSet, viewer: str, age: int | None) -> None:
        if age is not None and age < rules.min_buyer_age:
            raise NotEligible(
                f"viewer {viewer!r} is {age}; buying coins needs age {rules.min_buyer_age} or more"
            )

    def _sale(
        self, rules: RuleSet, channel: str, where: str, ccy: str, price: int, now: datetime
    ) -> _Sale:
        """What a viewer pays for ``price`` (minor units of ``ccy``) on ``channel`` in
        ``where``, and its parts: the tax (included or added, by the region's rule in
        force at ``now``), the store's fee (its rate of the tax-exclusive price, plus
        its fixed part), and the net of tax, in ``ccy`` and in the books' currency at
        the rate in force (the rate is returned, to be stored on the entry)."""
        fee_rule = rules.store_fee(channel)
        tax, gross = 0, price
        rule = None
        if rules.taxes:
            try:
                rule = rules.tax(where, now)
            except UnknownRule:
                rule = None
        if rule is not None and rule.rate:
            if rule.inclusive:
                tax = round_fraction(price * rule.rate / (1 + rule.rate), rule.rounding)
            else:
                tax = round_fraction(price * rule.rate, rule.rounding)
                gross = price + tax
        fee = round_fraction((gross - tax) * fee_rule.rate, fee_rule.rounding)
        if fee_rule.fixed is not None:
            if fee_rule.fixed.currency.code != ccy:
                raise CurrencyMismatch(
                    f"the {channel!r} store's fixed fee {fee_rule.fixed} is not in the "
                    f"purchase's currency {ccy}"
                )
            fee += to_minor(fee_rule.fixed, ccy)
        if fee >= gross:
            raise InvalidEconomy(
                f"the {channel!r} store's fee {from_minor(fee, ccy).amount} {ccy} takes "
                f"the whole price of {from_minor(gross, ccy).amount} {ccy}"
            )
        net_c = gross - tax
        b = self.books
        fx = Fraction(1) if ccy == b else self._rate(ccy, b, now)
        net = net_c if ccy == b else _convert_minor(net_c, ccy, b, fx)
        if net <= 0:
            # The viewer would pay for nothing the books can see: the sale (and a paid
            # gift's share of it) would be lost in the rounding to the books' currency.
            rate = "" if ccy == b else f" at {fraction_text(fx)}"
            raise InvalidArgument(
                f"a price of {from_minor(price, ccy).amount} {ccy} is worth "
                f"{from_minor(net, b).amount} {b} after tax{rate}: a sale must be worth at "
                f"least one minor unit of the books' currency ({from_minor(1, b).amount} {b})"
            )
        if ccy == b:
            return _Sale(ccy, where, fee_rule.account, gross, fee, tax, net_c, net_c, fee, tax, ())
        return _Sale(
            ccy,
            where,
            fee_rule.account,
            gross,
            fee,
            tax,
            net_c,
            net,
            _convert_minor(fee, ccy, b, fx),
            _convert_minor(tax, ccy, b, fx),
            (Rate(ccy, b, fx),),
        )

    def _sale_postings(self, sale: _Sale, opens: list[Account]) -> list[Posting]:
        """The money side of a sale: the store's receivable and fee, the tax, and
        (when the sale is not in the books' currency) the net carried to the books'
        currency through the trading accounts. The caller credits ``sale.net`` (books'
        currency) where it belongs."""
        ccy, b = sale.currency, self.books
        s_acct = self._account(self._ccy(f"assets:stores:{sale.store}", ccy), ccy, _D, _FREE)
        opens.append(s_acct)
        postings = [Posting(s_acct.name, _D, sale.gross - sale.fee, ccy)]
        if sale.fee:
            f_acct = self._account(
                self._ccy(f"expenses:store-fees:{sale.store}", ccy), ccy, _D, _FREE
            )
            opens.append(f_acct)
            postings.append(Posting(f_acct.name, _D, sale.fee, ccy))
        if sale.tax:
            t_acct = self._account(
                self._ccy(f"liabilities:tax-payable:{sale.region}", ccy), ccy, _C, _FREE
            )
            opens.append(t_acct)
            postings.append(Posting(t_acct.name, _C, sale.tax, ccy))
        if ccy != b:
            opens.append(self._trading(ccy))
            postings.append(Posting(f"trading:{ccy}", _C, sale.net_c, ccy))
            if sale.net:
                opens.append(self._trading(b))
                postings.append(Posting(f"trading:{b}", _D, sale.net, b))
        return postings

    def _purchase_accounts(
        self, viewer: str, pack: int, channel: str, region: str | None
    ) -> list[str]:
        """The accounts a purchase will most likely post to, read before the lock, so
        that they are all locked at once (in name order, before the chain's head) and
        PostgreSQL writers never deadlock on them. The quote decides under the lock."""
        try:
            now = self._now()
            where = self._region_guess(viewer, region, now)
            ccy = self._rules(now).pack(pack, channel, where or "*").price.currency.code
        except GiftLedgerError:
            return []  # the quote will say what is wrong
        return self._sale_accounts(viewer, ccy, channel, where)

    def _region_guess(self, viewer: str, region: str | None, now: datetime) -> str | None:
        """The region a sale to ``viewer`` is made in, to choose the accounts to lock:
        ``region`` if given, else the viewer's profile as this process last read it,
        else as read now (a guess: the quote reads the profile under the lock)."""
        if region is not None:
            return region
        guess = self._party_guess("viewer", viewer, now)
        if guess is not None:
            return guess.region
        with self.ledger.store.read() as r:
            return self._party(r, "viewer", viewer, now).region

    def _payout_trading(self, creator: str) -> list[str]:
        """The trading account of the creator's payout currency, to lock up front."""
        try:
            return [f"trading:{self._payout_currency(creator)}"]
        except GiftLedgerError:
            return []

    # -- gift --------------------------------------------------------------------------

    def send_gift(
        self,
        viewer: str,
        creator: str,
        gift: str,
        quantity: int = 1,
        *,
        amount: Money | None = None,
        channel: str | None = None,
        region: str | None = None,
        key: str | None = None,
        dry_run: bool = False,
    ) -> Transaction:
        """A viewer sends ``quantity`` of ``gift`` to a creator: one atomic entry.

        A gift priced in money (a Super Chat, a tip: :attr:`Gift.amounts`) is
        paid for as it is sent: pass ``amount=`` (any amount in the gift's range
        for that currency) and the sales ``channel=`` (and ``region=`` to override
        the viewer's); see :meth:`_send_paid_gift` for its postings.

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
        not), rounded by ``cash_rounding``; the exact remainder is the gift
        record's ``carry``, and the creator's next conversion pays the whole
        minor units the carries add up to, so the creator's total pay is the
        split of the total of their gifts, within one minor unit.

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
        check_text(gift, "gift name")
        for role, party in (("viewer", viewer), ("creator", creator)):
            if not isinstance(party, str):
                raise UnknownAccount(f"unknown {role} {shown(party)}: a {role}'s name is a string")
            refuse_unstorable(party, f"{role} name")  # before the write: nothing to remember
        key = self._caller_key(key)  # before either path: a paid gift takes a caller's key too
        if amount is not None or channel is not None:
            if quantity != 1:
                raise InvalidArgument(
                    f"quantity {quantity!r}: a gift paid in money is sent one at a time"
                )
            return self._send_paid_gift(
                viewer, creator, gift, amount, channel, region, key=key, dry_run=dry_run
            )
        if region is not None:
            raise InvalidArgument(
                f"region {region!r} applies to a gift paid in money (with amount= and "
                f"channel=); a coin gift spends coins already bought"
            )
        wallet = f"viewers:{viewer}:coins"
        diamonds_acct = f"creators:{creator}:diamonds"
        payable = f"liabilities:creators-payable:{creator}"
        request = ("send_gift", viewer, creator, gift, quantity)
        b, coin = self.books, self.coin
        lock = (
            wallet,
            diamonds_acct,
            payable,
            "liabilities:deferred-revenue",
            "platform:coin-supply",
            "platform:diamond-supply",
            "revenue:gifts",
        )

        def quote(w: StoreWriter, now: datetime) -> Quote:
            st = w.account_state(wallet)
            if st is None:
                self._require(w, wallet, "viewer", viewer)
            d_st = w.account_state(diamonds_acct)
            if d_st is None:
                self._require(w, diamonds_acct, "creator", creator)
            assert st is not None
            assert d_st is not None
            rules = self._rules(now)
            g = rules.gift(gift)
            if g.priced_in_money:
                raise InvalidArgument(
                    f"{g.name!r} is priced in money, not coins: send it with amount= (one "
                    f"of {', '.join(f'{r.minimum}–{r.maximum}' for r in g.amounts)}) and "
                    f"channel="
                )
            coins = g.coins * quantity
            held = -st.net - st.pending_debits
            lots = self._lots.of(w, viewer) if held >= coins else None
            slices = lots.take(coins) if lots is not None else None
            if slices is None:
                raise InsufficientFunds(
                    f"viewer {viewer!r} holds {held} {coin}; {quantity} x {gift!r} "
                    f"costs {coins} {coin}"
                )
            released = fee_b = tax_b = 0
            for s in slices:
                released += s.released
                fee_b += s.fee_books
                tax_b += s.tax_books
            pay = rules.creator_pay
            units = round_fraction(coins * pay.creator_units_per_coin, pay.unit_rounding)
            carry = Fraction(0)
            if pay.model is PayoutModel.DIAMOND_VALUE:
                if pay.value_currency != b:
                    raise InvalidEconomy(
                        f"creator_pay.value_currency {pay.value_currency!r} differs from the "
                        f"books' currency {b!r}; the chain values Diamonds in the "
                        f"books' currency"
                    )
                # Cumulative at today's value: the new units' share of the value of
                # everything held, so a thousand 1-Diamond gifts owe what one
                # 1,000-Diamond gift owes; units held before keep what they accrued.
                before = -d_st.net
                per_minor = pay.value_per_unit * _scale(b)
                owed = round_fraction((before + units) * per_minor, pay.cash_rounding) - (
                    round_fraction(before * per_minor, pay.cash_rounding)
                )
            else:
                owed, carry = _share_owed(pay, released, fee_b, tax_b)
            postings = [
                Posting(wallet, _D, coins, coin),
                Posting("platform:coin-supply", _C, coins, coin),
            ]
            # Every account a gift posts to besides the parties' is a platform account
            # opened with the rules record (see ChainBase._record_rules): no opens.
            if released:
                postings.append(Posting("liabilities:deferred-revenue", _D, released, b))
            postings += self._creator_side(creator, released, owed, units)
            rec = GiftRecord(
                viewer, creator, g.name, quantity, coins, units, released, owed, slices, carry
            )
            assert lots is not None
            entry_id = expected[0] = w.head()[0] + 1
            lots.expect(entry_id, slices)
            return Quote(
                EntryKind.POST,
                tuple(postings),
                f"{viewer} sends {quantity} x {g.name} to {creator}",
                rec.to_meta(),
            )

        # The id the last attempt's quote expected its entry to get (None: it replayed
        # the key's): a store that links at commit may number the entry otherwise.
        expected: list[int | None] = [None]

        def replayed() -> None:
            expected[0] = None

        written = None
        try:
            written = self._execute(
                key,
                request,
                lock,
                quote,
                dry_run,
                (self._lots.page_ahead(viewer),),
                on_replay=replayed,
                # The quote reads the wallet and the creator's Diamonds (locked); the
                # platform's accounts it only posts to (no hot row between gifts). Near
                # a change of rules, the write takes the head first (see _execute).
                at_commit=(wallet, diamonds_acct),
            )
        finally:
            self._lots.settle(viewer, None if dry_run else written, expected[0])
        return written

    def _send_paid_gift(
        self,
        viewer: str,
        creator: str,
        gift: str,
        amount: Money | None,
        channel: str | None,
        region: str | None,
        *,
        key: str | None,
        dry_run: bool,
    ) -> Transaction:
        """A gift priced in money, bought and sent in one entry (``C`` is the
        currency paid in, ``G`` what the viewer paid, ``F`` the store's fee, ``T``
        the tax, ``N`` the net of tax in the books' currency, ``A`` the creator's
        share)::

            C:       debit  assets:stores:<store>                G - F
                     debit  expenses:store-fees:<store>          F
                     credit liabilities:tax-payable:<R>          T
                     (if C is not B: credit trading:C G - T; debit trading:B N)
            B:       credit liabilities:creators-payable:<c>     A
                     credit revenue:gifts                        N - A
            DIAMOND: debit  platform:diamond-supply              units
                     credit creators:<c>:diamonds                units

        The price is split as a coin purchase's would be (tax, then the store's
        fee), and ``A`` is the rules' ``share`` of ``N`` (less the fee when
        ``share_after_fees``; plus the tax when not), rounded by
        ``cash_rounding`` with the remainder carried as a coin gift's is. The
        creator receives ``N + T`` times ``creator_units_per_coin`` units (the
        books' minor units of what was paid), so a 1-cent unit traces the price.
        """
        if not isinstance(amount, Money):
            raise InvalidArgument(
                f"amount {amount!r} must be Money, such as Money('10.00', 'GBP'), for a gift "
                f"paid in money"
            )
        if not isinstance(channel, str):
            raise InvalidArgument(
                f"channel {channel!r}: a gift paid in money needs the sales channel "
                f"('web', 'ios', …)"
            )
        check_text(channel, "channel")
        if region is not None:
            check_region(region)
        ccy = amount.currency.code
        price = to_minor(amount, ccy)
        diamonds_acct = f"creators:{creator}:diamonds"
        payable = f"liabilities:creators-payable:{creator}"
        request = (
            "send_paid_gift",
            viewer,
            creator,
            gift,
            price,
            ccy,
            channel,
            region,
        )
        b = self.books
        lock = [
            diamonds_acct,
            payable,
            "platform:diamond-supply",
            "revenue:gifts",
            "expenses:gift-shortfall",
        ]
        lock += self._sale_accounts(viewer, ccy, channel, region)

        def quote(w: StoreWriter, now: datetime) -> Quote:
            profile = self._party(w, "viewer", viewer, now)
            self._require(w, diamonds_acct, "creator", creator)
            where = region if region is not None else profile.region
            where = where if isinstance(where, str) else "*"
            rules = self._rules(now)
            g = rules.gift(gift)
            if not g.priced_in_money:
                raise InvalidArgument(
                    f"{g.name!r} costs {g.coins} {self.coin}: send it without amount= and "
                    f"channel=, from coins the viewer bought"
                )
            bounds = g.amount_range(ccy)
            if amount not in bounds:
                raise InvalidArgument(
                    f"amount {amount.amount} {ccy} is outside {g.name!r}'s range "
                    f"{bounds.minimum.amount}–{bounds.maximum.amount} {ccy}"
                )
            self._check_buyer(rules, viewer, profile.age)
            sale = self._sale(rules, channel, where, ccy, price, now)
            pay = rules.creator_pay
            owed, carry = _share_owed(pay, sale.net, sale.fee_books, sale.tax_books)
            units = round_fraction(
                (sale.net + sale.tax_books) * pay.creator_units_per_coin, pay.unit_rounding
            )
            shown = f"{amount.amount} {ccy}"
            if not units and not owed:
                # It would post nothing to the creator's accounts: neither their
                # reports nor their next conversion (its carry) could ever find it.
                raise InvalidArgument(
                    f"amount {shown} earns {creator!r} no {self.unit} and no pay under the "
                    f"rules (share {fraction_text(pay.share)}, "
                    f"{fraction_text(pay.creator_units_per_coin)} {self.unit} per "
                    f"{b} minor unit); a gift must reach its creator"
                )
            opens: list[Account] = []
            postings = self._sale_postings(sale, opens)
            postings += self._creator_side(creator, sale.net, owed, units)
            rec = PaidGiftRecord(
                viewer,
                creator,
                g.name,
                ccy,
                sale.gross,
                sale.fee,
                sale.tax,
                sale.net,
                sale.fee_books,
                sale.tax_books,
                channel,
                where,
                sale.store,
                units,
                owed,
                carry,
            )
            return Quote(
                EntryKind.POST,
                tuple(postings),
                f"{viewer} sends {g.name} of {from_minor(sale.gross, ccy).amount} {ccy} to "
                f"{creator} on {channel}",
                rec.to_meta(),
                sale.rates,
                tuple(opens),
            )

        return self._execute(key, request, lock, quote, dry_run, parties=(("viewer", viewer),))

    def _sale_accounts(self, viewer: str, ccy: str, channel: str, region: str | None) -> list[str]:
        """The accounts a sale in ``ccy`` will most likely post to, to lock up front
        (see :meth:`_purchase_accounts`)."""
        try:
            now = self._now()
            where = self._region_guess(viewer, region, now)
            where = where or "*"
            shop = self._rules(now).store_fee(channel).account
        except GiftLedgerError:
            return []  # the quote will say what is wrong
        names = [
            self._ccy(f"assets:stores:{shop}", ccy),
            self._ccy(f"expenses:store-fees:{shop}", ccy),
            self._ccy(f"liabilities:tax-payable:{where}", ccy),
        ]
        if ccy != self.books:
            names += [f"trading:{ccy}", f"trading:{self.books}"]
        return names

    def _creator_side(self, creator: str, released: int, owed: int, units: int) -> list[Posting]:
        """A gift's creator side: ``owed`` to the creator's payable, the rest of what
        it ``released`` to the platform (or a shortfall), and the creator's units."""
        b, cut = self.books, released - owed
        postings = []
        if owed:
            postings.append(Posting(f"liabilities:creators-payable:{creator}", _C, owed, b))
        if cut > 0:
            postings.append(Posting("revenue:gifts", _C, cut, b))
        elif cut < 0:
            postings.append(Posting("expenses:gift-shortfall", _D, -cut, b))
        if units:
            postings.append(Posting("platform:diamond-supply", _D, units, self.unit))
            postings.append(Posting(f"creators:{creator}:diamonds", _C, units, self.unit))
        return postings

    def reverse_gift(
        self, gift: Transaction | int, *, key: str | None = None, dry_run: bool = False
    ) -> Transaction:
        """Undo a gift sent by mistake: its mirror image, linked both ways (a
        ``REVERSAL`` entry). The coins return to the wallet and their lot slices to
        their lots; the Diamonds and what the creator was owed go back; a
        share-of-price carry the gift left is taken back at the next conversion.
        A gift paid in money is undone whole, at the rates it was booked at: the
        store's charge, its fee and the tax go back with it (a refund of the
        charge).

        ``Ledger.reverse`` refuses chain entries: a purchase is undone with
        :meth:`refund_purchase` or :meth:`chargeback`, a withdrawal with
        :meth:`fail_withdrawal`.

        Raises:
            UnknownTransaction: not a gift.
            AlreadyReversed: it was reversed before, or a lot it spent was refunded
                since (the coins could not go back to it).
            InsufficientFunds: the creator no longer holds its Diamonds or payable.
        """
        from .._errors import AlreadyReversed, UnknownTransaction

        key = self._caller_key(key)
        tx_id = gift.id if isinstance(gift, Transaction) else gift
        try:
            tx = self.ledger.transaction(tx_id)
        except UnknownTransaction:
            tx = None
        rec = record_of(tx) if tx is not None else None

        def once(w: StoreWriter, original: Transaction) -> None:
            # The entry was read before its accounts were locked: another writer may
            # have undone it since. Read it again, under the locks, so a second undo is
            # AlreadyReversed, not a balance that no longer covers it.
            again = w.transaction(original.id)
            if again is not None and again.reversed_by is not None:
                raise AlreadyReversed(
                    f"gift {original.id} was already undone by entry {again.reversed_by}; "
                    f"a gift is undone once"
                )

        if isinstance(rec, PaidGiftRecord):
            assert tx is not None

            def paid_undoable(w: StoreWriter, original: Transaction) -> None:
                w.lock_accounts(sorted({p.account for p in original.postings}))
                once(w, original)

            return self.ledger._reverse(
                tx, key=key, memo=f"gift {tx.id} undone", dry_run=dry_run, guard=paid_undoable
            )
        if tx is None or not isinstance(rec, GiftRecord):
            raise UnknownTransaction(f"no gift with id {tx_id!r}")
        wallet = f"viewers:{rec.viewer}:coins"

        def still_undoable(w: StoreWriter, original: Transaction) -> None:
            # Under the wallet's lock, as a refund of the same lots checks under it:
            # the two are one after the other, whichever comes first.
            w.lock_accounts(sorted({wallet, *(p.account for p in original.postings)}))
            once(w, original)
            self._fresh()  # under the locks (see _fresh)
            lots = self._lots.of(w, rec.viewer).lots
            for s in rec.lots:
                lot = lots.get(s.lot)
                refund = w.idempotency(f"gl:refund:{s.lot}")
                if (lot is not None and lot.refunded is not None) or refund is not None:
                    raise AlreadyReversed(
                        f"gift {tx.id} spent coins of purchase {s.lot}, refunded since; its "
                        f"coins cannot go back to that lot"
                    )

        return self.ledger._reverse(
            tx, key=key, memo=f"gift {tx.id} undone", dry_run=dry_run, guard=still_undoable
        )

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
                     debit  revenue:gifts                        S      (carries settled)
                     credit creators:<c>:cash                    V + S  (payout in B)
            FX:      credit trading:B; debit trading:C X; credit creators:<c>:cash X

        Under ``DIAMOND_VALUE`` only Diamonds worth a whole number of minor
        units convert: at $0.005 a Diamond, converting 7 Diamonds (or "all" of 7)
        converts 6 and leaves 1 in the wallet. ``S`` is
        the whole minor units of the carries of the creator's gifts since the
        last conversion (``SHARE_OF_PRICE``); their fraction is carried on. A
        payout in another currency is rounded by :data:`FX_ROUNDING`.

        Raises:
            RateUnavailable: the payout currency differs and no rate is known.
            InsufficientFunds: more Diamonds than the creator holds, or none
                worth a whole minor unit.
            BelowWithdrawalThreshold: fewer Diamonds than the withdrawal
                policy's ``minimum_units`` (Bigo's 6,700 Beans).
        """
        if diamonds is not None and (
            isinstance(diamonds, bool) or not isinstance(diamonds, int) or diamonds <= 0
        ):
            raise InvalidArgument(f"diamonds {diamonds!r} must be a positive int or None")
        key = self._caller_key(key)
        d_acct = f"creators:{creator}:diamonds"
        payable = f"liabilities:creators-payable:{creator}"
        cash = f"creators:{creator}:cash"
        request = ("convert", creator, diamonds)
        b = self.books
        lock = [d_acct, payable, cash, "platform:diamond-supply", "revenue:gifts"]
        lock += ["expenses:creator-pay-adjustments", "revenue:creator-pay-adjustments"]
        lock += [f"trading:{b}", *self._payout_trading(creator)]

        def quote(w: StoreWriter, now: datetime) -> Quote:
            self._require(w, d_acct, "creator", creator)
            currency = self._party(w, "creator", creator, now).payout_currency or b
            pay = self._rules(now).creator_pay
            d_st, p_st = w.account_state(d_acct), w.account_state(payable)
            held = 0 if d_st is None else -d_st.net
            owed = 0 if p_st is None else -p_st.net
            d = held if diamonds is None else diamonds
            if d <= 0 or d > held:
                raise InsufficientFunds(
                    f"creator {creator!r} holds {held} {self.unit}; cannot convert {d}"
                )
            fewest = self._rules(now).withdrawal.minimum_units
            if fewest is not None and d < fewest:  # on the units asked for, before whole cents
                raise BelowWithdrawalThreshold(
                    f"creator {creator!r} asks to cash out {d} {self.unit}; the rules' "
                    f"minimum is {fewest} {self.unit}"
                )
            settled, carry = self._carries(w, creator)
            if pay.model is PayoutModel.DIAMOND_VALUE:
                per_minor = pay.value_per_unit * _scale(b)
                step = per_minor.denominator  # Diamonds that make a whole minor unit
                whole_part = d - d % step
                if whole_part <= 0:
                    raise InsufficientFunds(
                        f"creator {creator!r} holds {held} {self.unit}, worth less than one "
                        f"{b} minor unit; nothing to convert"
                    )
                d = whole_part
                left = held - d
                value = int(d * per_minor)
                rest = round_fraction(left * per_minor, pay.cash_rounding)
                release = owed if left == 0 else owed - min(owed, rest)
            else:
                left = held - d
                release = owed - round_fraction(Fraction(owed * left, held), Rounding.FLOOR)
                value = release
            if value + settled < 0:
                # A gift reversed since an earlier conversion paid its carry takes that
                # cent back, but never more than this conversion pays: the rest stays
                # in the carry, owed back by the creator, for the next conversion.
                carry += settled + value
                settled = -value
            postings = [
                Posting(d_acct, _D, d, self.unit),
                Posting("platform:diamond-supply", _C, d, self.unit),
            ]
            opens: list[Account] = [self._account("platform:diamond-supply", self.unit, _D, _FREE)]
            if release:
                postings.append(Posting(payable, _D, release, b))
            adj = value - release
            if adj > 0:
                opens.append(self._account("expenses:creator-pay-adjustments", b, _D))
                postings.append(Posting("expenses:creator-pay-adjustments", _D, adj, b))
            elif adj < 0:
                opens.append(self._account("revenue:creator-pay-adjustments", b, _C))
                postings.append(Posting("revenue:creator-pay-adjustments", _C, -adj, b))
            if settled:
                opens.append(self._account("revenue:gifts", b, _C, _FREE))
                side = _D if settled > 0 else _C
                postings.append(Posting("revenue:gifts", side, abs(settled), b))
            paid, rates = self._credit_cash(
                postings, opens, cash, value + settled, b, currency, now
            )
            rec = ConversionRecord(
                creator, d, release, value + settled, paid, currency, settled, carry
            )
            return Quote(
                EntryKind.POST,
                tuple(postings),
                f"{creator} converts {d} {self.unit}",
                rec.to_meta(),
                rates,
                tuple(opens),
            )

        return self._execute(
            key,
            request,
            lock,
            quote,
            dry_run,
            self._carry_pages(creator),
            parties=(("creator", creator),),
        )

    def _carry_pages(self, creator: str) -> tuple[tuple[str, int, int], ...]:
        """The history pages :meth:`_carries` reads first, from where this process last
        left the creator's carries: for a conversion to read them ahead, with its locks
        (a guess: another thread moving them meanwhile only costs a read). No pages for a
        name that is not a string: the write refuses it, naming it."""
        if not isinstance(creator, str):
            return ()
        self._fresh()
        with self._carry_lock:
            last, _ = self._carry_cache.get(creator, (0, Fraction(0)))
        return tuple(history_page(name, last) for name in _carry_accounts(creator))

    def _carries(self, r: StoreReader, creator: str) -> tuple[int, Fraction]:
        """The whole minor units the creator's gift carries add up to since the last
        conversion (with that conversion's carry), and the fraction left over.

        Read incrementally from the creator's payable and Diamond histories (a gift
        that owes less than a minor unit only credits Diamonds), from where the last
        call stopped; a reversed gift takes its carry back, even one a conversion
        already settled."""
        with self._carry_lock:
            last, total = self._carry_cache.pop(creator, (0, Fraction(0)))
        ids: set[int] = set()
        for name in _carry_accounts(creator):
            ids.update(history_ids(r, name, last))
        for tx in entries_by_id(r, sorted(ids)).values():  # in id order
            if tx.kind is EntryKind.REVERSAL and tx.reverses is not None:
                original = r.transaction(tx.reverses)
                undone = record_of(original) if original is not None else None
                if isinstance(undone, GiftRecord | PaidGiftRecord):
                    total -= undone.carry
                continue
            rec = record_of(tx)
            if isinstance(rec, GiftRecord | PaidGiftRecord):
                total += rec.carry
            elif isinstance(rec, ConversionRecord):
                total = rec.carry
        if ids:
            last = max(ids)
        with self._carry_lock:
            self._carry_cache[creator] = (last, total)
            while len(self._carry_cache) > 4096:
                self._carry_cache.popitem(last=False)
        settled = round_fraction(total, Rounding.FLOOR)
        return settled, total - settled

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
        length, views per video) must be met, and so must the creator's
        profile: the program must run in their region (and not have ended
        there), and their age and followers must meet that region's minimums
        (a region or age not declared is not checked). Postings::

            debit  platform:rewards-pool  amount
            credit creators:<c>:cash      amount   (through trading accounts if the
                                                    payout currency differs)

        A period is paid once: it is also kept under the chain's own key
        ``gl:views:<creator>:<program>:<period>``, and paying the same period again
        with the same views returns the first payment (with other views, it is
        :class:`~giftledger.DuplicateKeyConflict`).

        Raises:
            NotEligible: a threshold is not met.
            UnknownRule: an unknown program, region or engagement tier.
        """
        from .views import check_eligible, estimate_view_earnings

        if not isinstance(period, str) or not period:
            raise InvalidArgument(f"period {period!r} must be a non-empty string")
        check_text(period, "period")
        key = self._caller_key(key)
        cash = f"creators:{creator}:cash"
        now = self._now()
        rules = self._rules(now)
        prog = rules.rewards_program(program)
        paid_once = f"gl:views:{creator}:{prog.name}:{period}"
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
        request = (
            "views",
            creator,
            period,
            tuple(sorted(views_by_region.items())),
            engagement,
            prog.name,
        )
        pool_name = self._ccy("platform:rewards-pool", pool_ccy)

        def quote(w: StoreWriter, now: datetime) -> Quote:
            self._require(w, cash, "creator", creator)
            party = self._party(w, "creator", creator, now)
            check_eligible(  # in the creator's region: the program runs there, for them
                prog,
                region=party.region,
                age=party.age,
                at=now,
                followers=followers,
                views_30d=views_30d,
                video_seconds=video_seconds,
                strict=True,
            )
            currency = party.payout_currency or self.books
            opens = [self._account(pool_name, pool_ccy, _D, _FREE)]
            postings = [Posting(pool_name, _D, minor, pool_ccy)]
            paid, rates = self._credit_cash(postings, opens, cash, minor, pool_ccy, currency, now)
            rec = ViewPayRecord(
                creator, period, prog.name, sum(views_by_region.values()), minor, pool_ccy, paid
            )
            return Quote(
                EntryKind.POST,
                tuple(postings),
                f"{prog.name} pays {creator} for {period}",
                rec.to_meta(),
                rates,
                tuple(opens),
                aliases=(paid_once,),
            )

        for _ in range(2):
            # Books of the previous release kept a paid period under views:<…> instead.
            earlier = self.ledger.find(paid_once) or self._legacy_views(
                f"views:{creator}:{prog.name}:{period}", creator, period
            )
            if earlier is not None:
                # A period is paid once: the same request returns the first payment.
                first = record_of(earlier)
                same = (
                    isinstance(first, ViewPayRecord)
                    and first.views == sum(views_by_region.values())
                    and first.earned == minor
                    and (key is None or earlier.key == key)
                )
                if same:
                    return earlier
                raise DuplicateKeyConflict(
                    f"{creator!r} was already paid for {period!r} by {prog.name!r} (entry "
                    f"{earlier.id}) for other views; a period is paid once"
                )
            try:
                lock = [cash, pool_name, f"trading:{pool_ccy}", *self._payout_trading(creator)]
                return self._execute(
                    key, request, lock, quote, dry_run, parties=(("creator", creator),)
                )
            except DuplicateKeyConflict:
                if self.ledger.find(paid_once) is None:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _legacy_views(self, key: str, creator: str, period: str) -> Transaction | None:
        """A period the previous release paid, under its caller-visible default key."""
        try:
            found = self.ledger.find(key)
        except GiftLedgerError:
            return None
        rec = record_of(found) if found is not None else None
        if isinstance(rec, ViewPayRecord) and (rec.creator, rec.period) == (creator, period):
            return found
        return None

    # -- reports -----------------------------------------------------------------------

    def _credit_cash(
        self,
        postings: list[Posting],
        opens: list[Account],
        cash: str,
        value: int,
        source: str,
        currency: str,
        now: datetime,
    ) -> tuple[int, tuple[Rate, ...]]:
        """Append the postings that credit ``value`` minor units of ``source`` to the
        creator's ``cash`` account in ``currency``, through the trading accounts when
        the two differ (rounded by :data:`FX_ROUNDING`); return what reaches the cash
        account and the rate used."""
        if not value:
            return 0, ()
        if currency == source:
            postings.append(Posting(cash, _C, value, source))
            return value, ()
        fx = self._rate(source, currency, now)
        paid = _convert_minor(value, source, currency, fx)
        opens.append(self._trading(source))
        postings.append(Posting(f"trading:{source}", _C, value, source))
        if paid:
            opens.append(self._trading(currency))
            postings.append(Posting(f"trading:{currency}", _D, paid, currency))
            postings.append(Posting(cash, _C, paid, currency))
        return paid, (Rate(source, currency, fx),)

    def explain(self, creator: str, *, locale: str | Locale = "en_US") -> Explanation:
        """Where every cent the creator earned came from, as a receipt written for
        ``locale``; see :class:`Explanation`.

        Raises:
            UnknownLocale: babel does not know ``locale``.
        """
        from .._reports.explain import explain

        return explain(self, creator, locale=locale)

    def statement(
        self,
        creator: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        locale: str | Locale = "en_US",
    ) -> Statement:
        """An itemised statement in the reader's language; see :class:`Statement`.

        Raises:
            UnknownLocale: babel does not know ``locale``.
        """
        from .._reports.statement import statement

        return statement(self, creator, start=start, end=end, locale=locale)

    def verify(
        self,
        since: Checkpoint | None = None,
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> int:
        """Verify the ledger (:meth:`Ledger.verify`) and every chain record in it.

        Args:
            since: a :class:`~giftledger.Checkpoint` published earlier: also prove
                the books only grew since it, as ``Ledger.verify(since=...)`` does.
            progress: called as ``progress(done, total)`` now and then: the
                ledger's pass counts the first half of ``total``, the records'
                pass the second.

        Returns:
            The number of entries checked.

        Raises:
            ChainBroken: naming the first entry whose hash, link or invariant does
                not hold, whose chain record does not parse, or (a gift paid in
                money) whose record does not add up or does not match its postings.
        """
        from .records import parse

        first = None if progress is None else (lambda done, total: progress(done, 2 * total))
        count = self.ledger.verify(since, progress=first)
        with self.ledger.store.read() as r:
            for tx in r.transactions(1):
                rec = parse(tx)
                if isinstance(rec, PaidGiftRecord) and tx.kind is EntryKind.POST:
                    self._check_paid_gift(tx, rec)
                if progress is not None and not tx.id & 1023:
                    progress(count + tx.id, 2 * count)
        if progress is not None:
            progress(2 * count, 2 * count)
        return count

    def _check_paid_gift(self, tx: Transaction, rec: PaidGiftRecord) -> None:
        """Refuse a paid gift whose record does not add up or does not say what its
        postings do: explanations and statements read the record, so a record that
        claims more (or less) than the entry moved would report money that is not
        there."""
        from .._errors import ChainBroken

        def broken(why: str) -> ChainBroken:
            return ChainBroken(f"entry {tx.id}: its paid_gift record {why}", tx.id)

        b, ccy = self.books, rec.currency
        # A carry is the exact share less what was owed: negative when cash_rounding
        # rounds up, and less than a minor unit either way.
        if not (0 <= rec.tax < rec.gross and 0 <= rec.fee < rec.gross and -1 < rec.carry < 1):
            raise broken(
                f"does not add up: gross {rec.gross}, fee {rec.fee}, tax {rec.tax}, "
                f"carry {rec.carry} (minor units of {ccy})"
            )
        rates = tuple(r for r in tx.rates if (r.base, r.quote) == (ccy, b))
        try:
            if ccy == b:
                books = (rec.gross - rec.tax, rec.fee, rec.tax)
            elif len(rates) == 1:
                fx = rates[0].value
                books = (
                    _convert_minor(rec.gross - rec.tax, ccy, b, fx),
                    _convert_minor(rec.fee, ccy, b, fx),
                    _convert_minor(rec.tax, ccy, b, fx),
                )
            else:
                raise broken(f"is in {ccy} but the entry stores no {ccy}/{b} rate")
        except GiftLedgerError as exc:
            if isinstance(exc, ChainBroken):
                raise
            raise broken(f"names a currency the books cannot read: {exc}") from None
        if books != (rec.net, rec.fee_books, rec.tax_books):
            raise broken(
                f"says net {rec.net}, fee {rec.fee_books} and tax {rec.tax_books} in {b}; "
                f"its amounts at the stored rate make {books[0]}, {books[1]} and {books[2]}"
            )
        sale = _Sale(
            ccy,
            rec.region,
            rec.store,
            rec.gross,
            rec.fee,
            rec.tax,
            rec.gross - rec.tax,
            rec.net,
            rec.fee_books,
            rec.tax_books,
            (),
        )
        expected = self._sale_postings(sale, [])
        payable = f"liabilities:creators-payable:{rec.creator}"
        if rec.owed:
            expected.append(Posting(payable, _C, rec.owed, b))
        cut = rec.net - rec.owed
        if cut > 0:
            expected.append(Posting("revenue:gifts", _C, cut, b))
        elif cut < 0:
            expected.append(Posting("expenses:gift-shortfall", _D, -cut, b))
        if rec.units:
            expected.append(Posting("platform:diamond-supply", _D, rec.units, self.unit))
            expected.append(Posting(f"creators:{rec.creator}:diamonds", _C, rec.units, self.unit))

        def shape(ps: object) -> list[tuple[str, str, int, str]]:
            assert isinstance(ps, list | tuple)
            return sorted((p.account, p.side.value, p.minor, p.unit) for p in ps)

        if shape(expected) != shape(tx.postings):
            raise broken(
                f"(viewer {rec.viewer!r}, creator {rec.creator!r}, {rec.gross} {ccy}, owed "
                f"{rec.owed}, {rec.units} {self.unit}) does not match the entry's postings"
            )
