"""Exports of the books (beancount, CSV, JSON Lines) and the restore of an export.

They read the ledger through its store's read snapshot, write files atomically
and stream the journal, so memory does not grow with its length. A restore
writes only through the ledger core's :class:`~giftledger._ledger.restore.Restorer`.
"""
