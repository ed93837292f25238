"""Requests for batch posting: what :meth:`Ledger.post_many` takes, one per transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

import attrs

from .._errors import InvalidArgument
from .model import MetaValue, Posting, PostingSpec, Rate

__all__ = ["TransactionRequest"]


def _postings(value: Iterable[PostingSpec | Posting]) -> tuple[PostingSpec | Posting, ...]:
    if isinstance(value, str | bytes | PostingSpec | Posting) or not isinstance(value, Iterable):
        raise InvalidArgument(
            f"postings {value!r} must be a list of debit(...)/credit(...) postings"
        )
    return tuple(value)


@attrs.frozen(slots=True)
class TransactionRequest:
    """One transaction to post in a batch, with the options :meth:`Ledger.post` takes.

    Attributes:
        postings: :func:`~giftledger.debit`/:func:`~giftledger.credit` postings
            (or resolved :class:`~giftledger.Posting` values), balanced per unit.
        key: an idempotency key, as for :meth:`Ledger.post`.
        memo: free text stored on the entry.
        metadata: str keys to str/int/bool/None values.
        effective_at: when the money moved for the books (default: now).
        rates: exchange rates to store on the entry.

    Example:
        >>> import giftledger as gl
        >>> req = gl.TransactionRequest([gl.debit("a", 5), gl.credit("b", 5)], key="gift-1")
        >>> len(req.postings), req.key
        (2, 'gift-1')
    """

    postings: tuple[PostingSpec | Posting, ...] = attrs.field(converter=_postings)
    key: str | None = None
    memo: str = ""
    metadata: Mapping[str, MetaValue] | None = attrs.field(default=None, hash=False)
    effective_at: datetime | None = None
    rates: tuple[Rate, ...] = attrs.field(default=(), converter=tuple)
