"""Refunds and chargebacks of coin purchases.

The lot's unspent coins are reversed; what its spent coins released follows
the rules' :class:`~giftledger.RefundPolicy` (a receivable from the viewer, or
a platform loss): never a silent negative balance.
"""

from __future__ import annotations

from .._errors import (
    AlreadyReversed,
)
from .._ledger.model import (
    MetaValue,
    Posting,
    Rate,
    Transaction,
)
from .base import _C, _D, ChainBase, _fingerprint, _Plan
from .lots import OP
from .rules import SpentCoinPolicy

__all__ = ["Refunds"]


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
