"""Idempotency keys: which keys a store can keep, how a request is fingerprinted,
and how a key's recorded result is replayed.

A write under a key is remembered with the fingerprint of its request; the same
key with the same fingerprint returns the first result, with another one it is
a :class:`~giftledger.DuplicateKeyConflict`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from .._errors import InvalidArgument
from .model import Posting, PostingSpec, Side, Transaction, is_encodable
from .store import IdempotencyRecord, StoreReader

__all__ = ["_check_key", "_fingerprint", "_replay_transaction"]

_DEBIT = Side.DEBIT
_CREDIT = Side.CREDIT
_MAX_KEY = 256


def _check_key(key: object) -> None:
    """Refuse an idempotency key no store could keep, naming it."""
    if not isinstance(key, str) or not key or len(key) > _MAX_KEY or not is_encodable(key):
        raise InvalidArgument(
            f"idempotency key {key!r} must be a non-empty string of at most "
            f"{_MAX_KEY} characters, with no lone surrogate or NUL character"
        )


def _fingerprint(parts: object) -> str:
    # The same content must give the same fingerprint however it was spelled: a list
    # or a tuple of postings, metadata keys in any order. The text is a tagged,
    # length-prefixed encoding (so it is injective) built with f-strings: repr() of
    # attrs records, enums and even nested tuples is slow (35 us for a post of four
    # postings on the benchmark box, more than the rest of the post).
    out: list[str] = []
    _encode(parts, out)
    return hashlib.sha256("".join(out).encode()).hexdigest()


def _encode(value: object, out: list[str]) -> None:
    """Append an injective text of ``value`` to ``out``: every value opens with a tag
    and says where it ends."""
    cls = type(value)
    if cls is str:
        assert isinstance(value, str)
        out.append(f"s{len(value)}:{value}")
    elif cls is int:
        out.append(f"i{value};")
    elif value is None:
        out.append("n")
    elif cls is Posting:
        assert isinstance(value, Posting)
        account, side, minor, unit = value.account, value.side, value.minor, value.unit
        if (side is _DEBIT or side is _CREDIT) and type(minor) is int and type(unit) is str:
            # the common case in one f-string: no call per field
            code = "D" if side is _DEBIT else "C"
            out.append(f"P{len(account)}:{account}{code}i{minor};s{len(unit)}:{unit}")
        else:
            out.append(f"P{len(account)}:{account}")
            _encode_side(side, out)
            _encode(minor, out)
            _encode(unit, out)
    elif cls is PostingSpec:
        assert isinstance(value, PostingSpec)
        account, side, amount = value.account, value.side, value.amount
        if (side is _DEBIT or side is _CREDIT) and type(amount) is int:
            code = "D" if side is _DEBIT else "C"
            out.append(f"S{len(account)}:{account}{code}i{amount};")
        else:
            out.append(f"S{len(account)}:{account}")
            _encode_side(side, out)
            _encode(amount, out)
    elif cls is list or cls is tuple:
        assert isinstance(value, list | tuple)
        out.append(f"l{len(value)}[")
        for item in value:
            _encode(item, out)
    elif isinstance(value, Mapping):
        items = sorted(value.items(), key=_repr_key)
        out.append(f"m{len(items)}[")
        for k, v in items:
            _encode(k, out)
            _encode(v, out)
    else:  # bool, Decimal, Money, datetime, Rate, enums …: their repr is exact
        text = repr(value)
        out.append(f"r{len(text)}:{text}")


def _encode_side(side: object, out: list[str]) -> None:
    if side is _DEBIT:
        out.append("D")
    elif side is _CREDIT:
        out.append("C")
    else:
        _encode(side, out)


def _repr_key(item: tuple[object, object]) -> str:
    return repr(item[0])


def _replay_transaction(r: StoreReader, record: IdempotencyRecord) -> Transaction:
    assert record.transaction_id is not None
    tx = r.transaction(record.transaction_id)
    assert tx is not None
    return tx
