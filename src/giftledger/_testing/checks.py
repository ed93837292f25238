"""Invariant checks to call in your own tests, each failing with the smallest evidence.

Each check takes a :class:`~giftledger.Ledger` or a
:class:`~giftledger.GiftEconomy` (the chain checks need the latter), reads it
through the public API only, and raises ``AssertionError`` whose message names
the unit, the account, the entry or the creator at fault, with the numbers.
They hold for any valid rules on a correct ledger, except
:func:`check_creator_share`, which checks a policy of yours.

Example:
    >>> import giftledger as gl
    >>> from giftledger.testing import check_all
    >>> econ = gl.presets.load("tiktok-live")
    >>> app = gl.GiftEconomy(gl.Ledger(clock=gl.ManualClock(econ.latest.effective_from)), econ)
    >>> _ = app.open_viewer("ann", region="US"), app.open_creator("bob", region="US")
    >>> _ = app.buy_coins("ann", pack=70, channel="ios")
    >>> _ = app.send_gift("ann", "bob", "Rose", 5)
    >>> check_all(app)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from fractions import Fraction
from typing import Literal

from moneyed import Money

from .._economy.base import economy_fingerprint
from .._economy.chain import FX_ROUNDING, GiftEconomy
from .._economy.records import (
    PaidGiftRecord,
    PurchaseRecord,
    RefundRecord,
    RulesRecord,
    record_of,
)
from .._economy.rules import Economy, fraction_text
from .._errors import GiftLedgerError, UnknownRule
from .._ledger.ledger import Ledger
from .._ledger.model import EntryKind, Side, Transaction
from .._money.amounts import from_minor, round_fraction, to_minor
from .._money.units import UnitKind, get_unit

__all__ = [
    "check_all",
    "check_conservation",
    "check_creator_share",
    "check_every_cent",
    "check_explanations",
    "check_no_arbitrage",
    "check_no_forbidden_negative",
    "check_parts_sum",
    "check_split",
]


def _book(target: Ledger | GiftEconomy) -> Ledger:
    return target.ledger if isinstance(target, GiftEconomy) else target


def _minor(m: Money) -> int:
    return to_minor(m, m.currency.code)


def _show(minor: int, unit: str) -> str:
    return f"{from_minor(minor, unit).amount} {unit}"


def _m(money: Money) -> str:
    return f"{money.amount} {money.currency.code}"


def _parties(book: Ledger, role: str, suffix: str) -> list[str]:
    prefix = f"{role}:"
    return sorted(
        name[len(prefix) : -len(suffix)]
        for name in book.balances(prefix)
        if name.endswith(suffix) and name.count(":") == 2
    )


# -- the ledger ---------------------------------------------------------------------


def check_conservation(target: Ledger | GiftEconomy) -> None:
    """Nothing is created or lost, per unit.

    Every entry balances in every unit (debits equal credits), so does the
    trial balance; for a :class:`~giftledger.GiftEconomy`, the coins in viewers'
    wallets are the coins outstanding (``platform:coin-supply``) and the
    creators' Diamonds the Diamonds outstanding.

    Raises:
        AssertionError: naming the entry and unit, or the unit and both totals.

    Example:
        >>> import giftledger as gl
        >>> from giftledger.testing import check_conservation
        >>> book = gl.Ledger()
        >>> _ = book.open_account("a", "USD"), book.open_account("b", "USD", normal="credit")
        >>> _ = book.transfer("a", "b", "1.00")
        >>> check_conservation(book)
    """
    book = _book(target)
    for tx in book.transactions():
        sums: dict[str, int] = defaultdict(int)
        for p in tx.postings:
            sums[p.unit] += p.minor if p.side is Side.DEBIT else -p.minor
        for unit, diff in sorted(sums.items()):
            assert diff == 0, (
                f"entry {tx.id} ({tx.memo!r}) does not balance in {unit}: debits exceed "
                f"credits by {_show(diff, unit)}"
            )
    tb = book.trial_balance()
    for unit in tb.units:
        assert tb.difference(unit) == 0, (
            f"the trial balance is off in {unit}: debits {_show(tb.debits.get(unit, 0), unit)}, "
            f"credits {_show(tb.credits.get(unit, 0), unit)}"
        )
    if not isinstance(target, GiftEconomy):
        return
    for role, suffix, supply, unit in (
        ("viewers", ":coins", "platform:coin-supply", target.coin),
        ("creators", ":diamonds", "platform:diamond-supply", target.unit),
    ):
        held = {
            name: _minor(m)
            for name, m in book.balances(f"{role}:").items()
            if name.endswith(suffix)
        }
        outstanding = sum(held.values())
        balances = book.balances(supply)
        supplied = _minor(balances[supply]) if supply in balances else 0
        assert outstanding == supplied, (
            f"{role} hold {outstanding} {unit} but {supply} says {supplied} are outstanding"
        )


def check_no_forbidden_negative(target: Ledger | GiftEconomy) -> None:
    """No account is below what its balance rule allows, posted or available
    (pending holds counted).

    Raises:
        AssertionError: naming the account, its balances and its floor.

    Example:
        >>> import giftledger as gl
        >>> from giftledger.testing import check_no_forbidden_negative
        >>> check_no_forbidden_negative(gl.Ledger())
    """
    book = _book(target)
    for account in book.accounts():
        floor = account.rule.min_balance
        if floor is None or account.trading:
            continue
        b = book.account_balance(account.name)
        posted, available = _minor(b.posted), _minor(b.available)
        assert min(posted, available) >= floor, (
            f"account {account.name!r} is below its floor {_show(floor, account.unit)}: "
            f"posted {b.posted.amount}, available {b.available.amount} {account.unit}"
        )


def check_split(
    total: int | Money, parts: Iterable[int | Money], *, what: str = "the total"
) -> None:
    """The parts sum exactly to the whole, in one unit.

    For your own splits (a creator share, a fee, a tax): pass the total and the
    parts your code computed.

    Raises:
        AssertionError: naming the total, the parts and what is missing or extra.

    Example:
        >>> import giftledger as gl
        >>> from moneyed import Money
        >>> from giftledger.testing import check_split
        >>> check_split(Money("10.00", "USD"), gl.allocate(Money("10.00", "USD"), [1, 1, 1]))
        >>> check_split(1000, [333, 333, 333])
        Traceback (most recent call last):
        ...
        AssertionError: the parts of the total 1000 sum to 999: 1 short; parts: 333, 333, 333
    """
    items = list(parts)
    if isinstance(total, Money):
        code = total.currency.code
        monies = [p for p in items if isinstance(p, Money) and p.currency.code == code]
        if len(monies) != len(items):
            raise AssertionError(
                f"the parts of {what} {total} are not all Money in {code}: {items}"
            )
        whole = _minor(total)
        minors = [_minor(p) for p in monies]

        def show(m: int) -> str:
            return _show(m, code)
    else:
        whole = total
        minors = [int(p) for p in items]  # type: ignore[arg-type]

        def show(m: int) -> str:
            return str(m)

    got = sum(minors)
    if got != whole:
        gap = f"{show(whole - got)} short" if got < whole else f"{show(got - whole)} too much"
        listed = ", ".join(show(m) for m in minors)
        raise AssertionError(
            f"the parts of {what} {show(whole)} sum to {show(got)}: {gap}; parts: {listed}"
        )


# -- the chain ------------------------------------------------------------------------


def check_parts_sum(app: GiftEconomy) -> None:
    """Every cut of a purchase adds up: each coin lot has released no more than it
    deferred, a lot spent to the last coin has released exactly all of it, and
    deferred revenue holds exactly what the lots not refunded have not released.

    Raises:
        AssertionError: naming the lot (its purchase entry) and the amounts.
    """
    book, b = app.ledger, app.books
    expected = 0
    for lot in app.coin_lots():
        where = f"lot {lot.id} ({lot.viewer}'s {lot.coins} coins)"
        assert 0 <= lot.spent <= lot.coins, f"{where} has spent {lot.spent} coins"
        assert 0 <= lot.released <= lot.deferred, (
            f"{where} released {_show(lot.released, b)} of {_show(lot.deferred, b)} deferred"
        )
        if lot.refunded is None:
            if lot.spent == lot.coins:
                assert lot.released == lot.deferred, (
                    f"{where} is spent to the last coin but released "
                    f"{_show(lot.released, b)} of {_show(lot.deferred, b)}"
                )
            expected += lot.deferred - lot.released
    balances = book.balances("liabilities:deferred-revenue")
    deferred = sum(_minor(m) for n, m in balances.items() if m.currency.code == b)
    assert deferred == expected, (
        f"deferred revenue is {_show(deferred, b)} but the lots not refunded have "
        f"{_show(expected, b)} still to release"
    )


def _paid_from_records(book: Ledger) -> tuple[dict[str, int], list[tuple[Transaction, object]]]:
    paid: dict[str, int] = defaultdict(int)
    sales: list[tuple[Transaction, object]] = []
    for tx in book.transactions():
        if tx.kind is EntryKind.REVERSAL:
            original = book.transaction(tx.reverses) if tx.reverses is not None else None
            undone = record_of(original) if original is not None else None
            if isinstance(undone, PaidGiftRecord):  # a paid gift undone: the charge refunded
                paid[undone.currency] -= undone.gross
            continue
        rec = record_of(tx)
        if isinstance(rec, PurchaseRecord | PaidGiftRecord):
            paid[rec.currency] += rec.gross
            sales.append((tx, rec))
        elif isinstance(rec, RefundRecord):
            bought = record_of(book.transaction(rec.lot))
            assert isinstance(bought, PurchaseRecord), (
                f"refund entry {tx.id} names entry {rec.lot}, which is not a purchase"
            )
            paid[bought.currency] -= bought.gross
    return paid, sales


def _sale_postings(tx: Transaction, rec: PurchaseRecord | PaidGiftRecord) -> None:
    """A sale's record and its postings agree: the store's part, its fee, the tax."""
    ccy = rec.currency
    sums: dict[str, int] = defaultdict(int)
    for p in tx.postings:
        if p.unit != ccy:
            continue
        for prefix in ("assets:stores:", "expenses:store-fees:", "liabilities:tax-payable:"):
            if p.account.startswith(prefix):
                sums[prefix] += p.minor
    stores, fee, tax = (
        sums["assets:stores:"],
        sums["expenses:store-fees:"],
        sums["liabilities:tax-payable:"],
    )
    assert (stores + fee, fee, tax) == (rec.gross, rec.fee, rec.tax), (
        f"entry {tx.id} ({tx.memo!r}) records {_show(rec.gross, ccy)} paid (fee "
        f"{_show(rec.fee, ccy)}, tax {_show(rec.tax, ccy)}) but posts {_show(stores, ccy)} to "
        f"the store, {_show(fee, ccy)} of fees and {_show(tax, ccy)} of tax"
    )


def _sale_follows_rules(
    economy: Economy, tx: Transaction, rec: PurchaseRecord | PaidGiftRecord
) -> None:
    """A sale's tax and store fee are what the rules in force at the entry say."""
    ccy, at = rec.currency, tx.effective_at
    rules = economy.rules_at(at)
    tax_rule = None
    if rules.taxes:
        try:
            tax_rule = rules.tax(rec.region, at)
        except UnknownRule:
            tax_rule = None
    tax = 0
    if tax_rule is not None and tax_rule.rate:
        rate = tax_rule.rate
        if tax_rule.inclusive:
            tax = round_fraction(rec.gross * rate / (1 + rate), tax_rule.rounding)
        else:  # added on top: the price is what the viewer paid less the tax
            tax = round_fraction((rec.gross - rec.tax) * rate, tax_rule.rounding)
    fee_rule = rules.store_fee(rec.channel)
    fee = round_fraction((rec.gross - tax) * fee_rule.rate, fee_rule.rounding)
    if fee_rule.fixed is not None:
        fee += to_minor(fee_rule.fixed, ccy)
    assert (rec.tax, rec.fee) == (tax, fee), (
        f"entry {tx.id} ({tx.memo!r}): {_show(rec.gross, ccy)} paid on {rec.channel!r} in "
        f"region {rec.region!r} records a tax of {_show(rec.tax, ccy)} and a store fee of "
        f"{_show(rec.fee, ccy)}, but the rules in force at {at.isoformat()} make them "
        f"{_show(tax, ccy)} and {_show(fee, ccy)}"
    )


def _sales_follow_rules(app: GiftEconomy) -> None:
    """Every sale's tax and fee against the rules the chain ran under when it was made
    (the journal's rules records say which; a change of rules starts a new one)."""
    own_digest = economy_fingerprint(app.economy)[1]
    economy: Economy = app.economy
    for tx in app.ledger.transactions():
        if tx.kind is EntryKind.REVERSAL:
            continue
        rec = record_of(tx)
        if isinstance(rec, RulesRecord):
            economy = app.economy if rec.fingerprint == own_digest else Economy.from_toml(rec.toml)
        elif isinstance(rec, PurchaseRecord | PaidGiftRecord):
            _sale_follows_rules(economy, tx, rec)


def check_every_cent(app: GiftEconomy, *, paid: Mapping[str, int] | None = None) -> None:
    """Every cent viewers paid is accounted for, in each currency ``X`` separately::

        paid + viewer debt + view pay funded =
            taxes + store fees + platform + creators + still deferred + carried by FX

    where the platform's part is its revenue less its expenses (store fees, a
    creator paid more than a gift released, refund losses, conversion
    adjustments), the creators' part is what they are owed, hold in cash, have
    in flight and have been paid out, and "carried by FX" is what moved through
    the trading account of ``X`` into other currencies. Accounts that are not
    the chain's are named as "other". Also: the stores hold exactly what they did
    not keep (``assets:stores + store fees = paid``), each sale's record
    agrees with its postings, and each sale's tax and store fee are what the rules
    in force when it was made say (a fee a cent off moves that cent from the
    platform to the store, which the identity alone cannot see).

    With a balanced trial balance the identity holds exactly when the stores
    hold what they did not keep; it is stated term by term so that a failure
    says where the money went.

    Args:
        paid: what viewers paid net of refunds, in minor units per currency, as
            your own test computed it. By default it is read from the sales'
            records (purchases and gifts paid in money, less refunds).

    Raises:
        AssertionError: naming the currency and every term, or the sale entry
            whose record and postings disagree.
    """
    book = app.ledger
    recorded, sales = _paid_from_records(book)
    for tx, rec in sales:
        _sale_postings(tx, rec)  # type: ignore[arg-type]
    _sales_follow_rules(app)
    paid_in = dict(recorded if paid is None else paid)
    terms: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    credit_normal = {a.name for a in book.accounts() if a.normal is Side.CREDIT}
    for name, money in book.balances().items():
        ccy = money.currency.code
        if get_unit(ccy).kind is not UnitKind.FIAT:
            continue
        m = _minor(money)
        t = terms[ccy]
        if name.startswith("assets:stores:"):
            t["stores"] += m
        elif name.startswith("liabilities:tax-payable:"):
            t["taxes"] += m
        elif name.startswith("liabilities:deferred-revenue"):
            t["deferred"] += m
        elif name.startswith(
            ("liabilities:creators-payable:", "liabilities:payouts-in-flight")
        ) or (name.startswith("creators:") and name.endswith(":cash")):
            t["creators"] += m
        elif name.startswith("assets:bank"):
            t["creators"] -= m  # paid out: the bank account is credited
        elif name.startswith("expenses:store-fees:"):
            t["store fees"] += m
            t["platform"] -= m  # the store's fee comes out of the platform's cut
        elif name.startswith("revenue:"):
            t["platform"] += m
        elif name.startswith("expenses:"):
            t["platform"] -= m
        elif name.startswith("viewers:") and name.endswith(":receivable"):
            t["viewer debt"] += m
        elif name.startswith("platform:rewards-pool"):
            t["view pay funded"] += m
        elif name.startswith("trading:"):
            t["carried by FX"] -= m
        elif m:
            # Not the chain's: a liability of yours counts on the right, an asset of
            # yours (debit-normal) was paid for out of it.
            t[f"other ({name})"] += m if name in credit_normal else -m
    for ccy in sorted(set(terms) | {c for c, v in paid_in.items() if v}):
        t = terms[ccy]
        p = paid_in.get(ccy, 0)
        assert t["stores"] + t["store fees"] == p, (
            f"{ccy}: viewers paid {_show(p, ccy)} but the stores hold "
            f"{_show(t['stores'], ccy)} and kept {_show(t['store fees'], ccy)}"
        )
        left = p + t["viewer debt"] + t["view pay funded"]
        parts = {
            k: v for k, v in t.items() if k not in ("stores", "viewer debt", "view pay funded")
        }
        right = sum(parts.values())
        if left != right:
            shown = ", ".join(f"{k} {_show(v, ccy)}" for k, v in sorted(parts.items()))
            raise AssertionError(
                f"{ccy}: viewers paid {_show(p, ccy)} (+ viewer debt "
                f"{_show(t['viewer debt'], ccy)}, + view pay funded "
                f"{_show(t['view pay funded'], ccy)}) = {_show(left, ccy)}, but the books "
                f"account for {_show(right, ccy)}: {shown}"
            )


def check_explanations(app: GiftEconomy) -> None:
    """Each creator's explanation adds up and agrees with the books.

    Per gift, what viewers paid is the store's fee + tax + the platform's part +
    the creator's; per creator, the same for the totals, what they earned is
    what they are still owed plus what conversions released, what viewers paid
    per currency adds up to the total, and what is owed and the cash are the
    balances of their accounts.

    Raises:
        AssertionError: naming the creator, and the gift entry when one is at fault.
    """
    book = app.ledger
    for creator in _parties(book, "creators", ":diamonds"):
        ex = app.explain(creator)
        for g in ex.gifts:
            parts = g.store_fee + g.tax + g.platform + g.creator
            assert g.paid == parts, (
                f"{creator!r}'s gift entry {g.transaction} ({g.quantity} x {g.gift!r} from "
                f"{g.viewer!r}): paid {_m(g.paid)} but fee {_m(g.store_fee)} + tax "
                f"{_m(g.tax)} + platform {_m(g.platform)} + creator {_m(g.creator)} = "
                f"{_m(parts)}"
            )
        total = ex.store_fees + ex.taxes + ex.platform + ex.earned
        assert ex.paid == total, (
            f"{creator!r}: viewers paid {_m(ex.paid)} but fees {_m(ex.store_fees)} + taxes "
            f"{_m(ex.taxes)} + platform {_m(ex.platform)} + earned {_m(ex.earned)} = "
            f"{_m(total)}"
        )
        assert ex.earned == ex.payable + ex.converted, (
            f"{creator!r} earned {_m(ex.earned)} from gifts but is owed {_m(ex.payable)} and "
            f"conversions released {_m(ex.converted)}"
        )
        zero = Money(0, ex.paid.currency.code)
        by_ccy = sum((p.paid_books for p in ex.paid_in), zero)
        assert by_ccy == ex.paid, (
            f"{creator!r}: what viewers paid per currency adds up to {_m(by_ccy)}, not "
            f"{_m(ex.paid)}"
        )
        payable = book.balance(f"liabilities:creators-payable:{creator}")
        assert ex.payable == payable, (
            f"{creator!r}'s explanation says {_m(ex.payable)} is owed; the books say {_m(payable)}"
        )
        cash = book.balance(f"creators:{creator}:cash")
        assert ex.cash == cash, (
            f"{creator!r}'s explanation says {_m(ex.cash)} in cash; the books say {_m(cash)}"
        )


def _conversions(book: Ledger) -> Iterable[tuple[Transaction, str, str, Fraction]]:
    for tx in book.transactions():
        for rate in tx.rates:
            yield tx, rate.base, rate.quote, rate.value


def check_no_arbitrage(target: Ledger | GiftEconomy) -> None:
    """No value is created by converting between currencies.

    Every entry that crosses currencies moves through the trading accounts
    exactly what its stored rate says, to the minor unit rounding
    (``round(out * rate)`` half to even); and no round trip at the rates the books
    used at one moment makes money: a rate and the rate back multiply to at most
    1, and so do the three rates of any triangle (``A -> B -> C -> A``).

    Raises:
        AssertionError: naming the entry (or the entries of the round trip), the
            rates and the amounts.
    """
    book = _book(target)
    by_time: dict[datetime, dict[tuple[str, str], tuple[Fraction, int]]] = defaultdict(dict)
    for tx, base, quote, value in _conversions(book):
        net: dict[str, int] = defaultdict(int)
        for p in tx.postings:
            if p.account.startswith("trading:"):
                net[p.account] += p.minor if p.side is Side.DEBIT else -p.minor
        out, into = net.get(f"trading:{base}"), net.get(f"trading:{quote}", 0)
        if out is not None:
            scale = Fraction(get_unit(quote).scale, get_unit(base).scale)
            exact = abs(out) * value * scale
            want = round_fraction(exact, FX_ROUNDING)
            # Within a minor unit of the exact value, whatever the rounding mode.
            assert abs(abs(into) - exact) < 1, (
                f"entry {tx.id} ({tx.memo!r}) converts {_show(abs(out), base)} at "
                f"{base}/{quote} {value} into {_show(abs(into), quote)}; the rate gives "
                f"{_show(want, quote)}"
            )
        if tx.kind is EntryKind.REVERSAL or isinstance(record_of(tx), RefundRecord):
            continue  # undoing a sale at the rate it was booked at is no new conversion
        by_time[tx.recorded_at].setdefault((base, quote), (value, tx.id))
    for when, rates in by_time.items():
        for (a, b), (ab, id1) in rates.items():
            back = rates.get((b, a))
            if back is not None:
                assert ab * back[0] <= 1, (
                    f"at {when.isoformat()} entry {id1} converts {a}->{b} at {ab} and entry "
                    f"{back[1]} {b}->{a} at {back[0]}: a round trip makes "
                    f"{ab * back[0] - 1} per {a}"
                )
            for (c, d), (cd, id2) in rates.items():
                if c != b or d == a:
                    continue
                closing = rates.get((d, a))
                if closing is not None:
                    product = ab * cd * closing[0]
                    assert product <= 1, (
                        f"at {when.isoformat()} entries {id1}, {id2}, {closing[1]} convert "
                        f"{a}->{b}->{d}->{a} at {ab}, {cd}, {closing[0]}: a round trip makes "
                        f"{product - 1} per {a}"
                    )


def check_creator_share(
    app: GiftEconomy,
    *,
    at_most: Fraction | int = 1,
    of: Literal["paid", "net"] = "paid",
    creators: Sequence[str] | None = None,
) -> None:
    """No creator is owed more than ``at_most`` of what viewers paid for the gifts
    they received: a policy of yours (``Fraction(95, 100)`` for a 95/5 split), or,
    with the default of 1, no money machine (a viewer and a creator in league
    cannot get more out than they put in).

    Args:
        at_most: the largest share, exact (an int or a Fraction; never a float).
        of: ``"paid"``: of what viewers paid (gross); ``"net"``: of it less store
            fees and taxes.
        creators: the creators to check (None: every creator).

    Raises:
        AssertionError: naming the creator, the totals and the gift with which
            the running total first went over.

    Example:
        >>> import giftledger as gl
        >>> from fractions import Fraction
        >>> from giftledger.testing import check_creator_share
        >>> econ = gl.presets.load("tiktok-live")
        >>> app = gl.GiftEconomy(gl.Ledger(clock=gl.ManualClock(econ.latest.effective_from)),
        ...                      econ)
        >>> _ = app.open_viewer("ann", region="US"), app.open_creator("bob", region="US")
        >>> _ = app.buy_coins("ann", pack=70, channel="ios")
        >>> _ = app.send_gift("ann", "bob", "Rose", 70)
        >>> check_creator_share(app, at_most=Fraction(1, 2))
    """
    share = Fraction(at_most)
    names = _parties(app.ledger, "creators", ":diamonds") if creators is None else creators
    for creator in names:
        ex = app.explain(creator)
        code = ex.paid.currency.code
        got = base = 0
        first = None
        for g in ex.gifts:
            got += _minor(g.creator)
            base += _minor(g.paid) - (_minor(g.store_fee) + _minor(g.tax) if of == "net" else 0)
            if first is None and got > share * base:
                first = g
        if got > share * base:
            assert first is not None
            tenths = got * 1000 // base if base else 0
            pct = f"{tenths // 10}.{tenths % 10}%" if base else "for nothing"
            raise AssertionError(
                f"{creator!r} is owed {_show(got, code)} for gifts viewers paid "
                f"{_show(base, code)} for ({'net of fees and taxes, ' if of == 'net' else ''}"
                f"{pct}), more than {fraction_text(share)}; the running total first went over "
                f"with entry {first.transaction}: {first.viewer!r} sent {first.quantity} x "
                f"{first.gift!r}, paid {first.paid.amount}, creator owed {first.creator.amount}"
            )


def check_all(app: GiftEconomy, *, paid: Mapping[str, int] | None = None) -> None:
    """Every invariant that holds for any valid rules on a correct ledger:
    :func:`check_conservation`, :func:`check_no_forbidden_negative`,
    :func:`check_parts_sum`, :func:`check_every_cent` (with ``paid``),
    :func:`check_explanations` and :func:`check_no_arbitrage`; and
    ``app.verify()`` (the hash chain and every chain record).

    Raises:
        AssertionError: from the first check that fails.
    """
    try:
        app.verify()
    except GiftLedgerError as exc:
        raise AssertionError(f"verify() failed: {exc}") from exc
    check_conservation(app)
    check_no_forbidden_negative(app)
    check_parts_sum(app)
    check_every_cent(app, paid=paid)
    check_explanations(app)
    check_no_arbitrage(app)
