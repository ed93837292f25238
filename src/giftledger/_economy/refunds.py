"""Refunds and chargebacks of coin purchases.

The lot's unspent coins are reversed; what its spent coins released follows
the rules' :class:`~giftledger.RefundPolicy` (a receivable from the viewer, or
a platform loss): never a silent negative balance.
"""

from __future__ import annotations

from datetime import datetime

from .._boundary import boundary_methods
from .._errors import AlreadyReversed, UnknownTransaction
from .._ledger.model import Account, EntryKind, Posting, Rate, Transaction
from .._ledger.quoted import Quote
from .._ledger.store import StoreWriter
from .base import _C, _D, ChainBase
from .records import PurchaseRecord, RefundRecord, parse
from .rules import SpentCoinPolicy

__all__ = ["Refunds"]


@boundary_methods
class Refunds(ChainBase):
    """Refund operations of :class:`GiftEconomy`."""

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
        return self._refund(purchase, False, key, dry_run)

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
        return self._refund(purchase, True, key, dry_run)

    def _refund(
        self, purchase: Transaction | int | str, chargeback: bool, key: str | None, dry_run: bool
    ) -> Transaction:
        key = self._caller_key(key)
        tx = self._purchase_tx(purchase)
        bought = parse(tx)
        assert isinstance(bought, PurchaseRecord)
        kind = "chargeback" if chargeback else "refund"
        # A purchase is refunded once: its refund is also found by the internal key
        # gl:refund:<purchase> (the wallet is not touched when every coin was spent);
        # the caller's key, if any, is the entry's own.
        request = (kind, tx.id)
        taken = f"gl:refund:{tx.id}"
        wallet = f"viewers:{bought.viewer}:coins"
        lock = sorted(
            {wallet, "liabilities:deferred-revenue", "platform:coin-supply"}
            | {p.account for p in tx.postings}
            | {f"viewers:{bought.viewer}:receivable", "expenses:refund-losses"}
        )

        def quote(w: StoreWriter, now: datetime) -> Quote:
            lot = self._lots.of(w, bought.viewer).lots.get(tx.id)
            if lot is None:  # pragma: no cover - a purchase is always in its wallet
                raise UnknownTransaction(f"no coin purchase {purchase!r}")
            done = w.idempotency(taken)
            if lot.refunded is not None or done is not None:
                by = lot.refunded if lot.refunded is not None else done.transaction_id  # type: ignore[union-attr]
                raise AlreadyReversed(f"purchase {lot.id} was already refunded by entry {by}")
            policy = self._rules(now).refunds
            store_keeps_fee = chargeback or not policy.refund_store_fee
            ccy, b = lot.currency, self.books
            store_acct = next(p.account for p in tx.postings if p.account.startswith("assets:"))
            fee_acct = next(
                (p.account for p in tx.postings if p.account.startswith("expenses:store-fees")),
                None,
            )
            postings: list[Posting] = []
            opens: list[Account] = []
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
                opens.append(self._trading(ccy))
                postings.append(Posting(f"trading:{ccy}", _D, lot.gross - lot.tax, ccy))
                if lot.deferred:
                    opens.append(self._trading(b))
                    postings.append(Posting(f"trading:{b}", _C, lot.deferred, b))
            left = lot.deferred - lot.released
            if left:
                postings.append(Posting("liabilities:deferred-revenue", _D, left, b))
            spent_value = lot.released
            if spent_value:
                if policy.spent_coins is SpentCoinPolicy.VIEWER_DEBT:
                    acct = self._account(f"viewers:{lot.viewer}:receivable", b, _D)
                else:
                    acct = self._account("expenses:refund-losses", b, _D)
                opens.append(acct)
                postings.append(Posting(acct.name, _D, spent_value, b))
            rec = RefundRecord(
                lot.id,
                lot.viewer,
                unspent,
                spent_value,
                policy.spent_coins.value,
                store_keeps_fee,
                chargeback,
                key,
            )
            return Quote(
                EntryKind.POST,
                tuple(postings),
                f"{kind} of purchase {lot.id}",
                rec.to_meta(),
                rates,
                tuple(opens),
                aliases=(taken,),
            )

        return self._execute(key, request, lock, quote, dry_run)
