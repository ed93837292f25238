"""Idempotency keys: which keys a store can keep, how a request is fingerprinted,
and how a key's recorded result is replayed.

A write under a key is remembered with the fingerprint of its request; the same
key with the same fingerprint returns the first result, with another one it is
a :class:`~giftledger.DuplicateKeyConflict`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from decimal import Decimal

from .._boundary import shown
from .._errors import ChainBroken, GiftLedgerError, InvalidArgument
from .._money.amounts import _decimal_fraction, _decimal_of, to_fraction
from .hashing import HASH_VERSIONS, entry_hash
from .model import Posting, PostingSpec, Side, Transaction, is_encodable
from .store import IdempotencyRecord, StoreReader
from .text import check_text

__all__ = [
    "_check_key",
    "_fingerprint",
    "_replay_transaction",
    "_unreplayable",
    "amount_key",
    "check_replayed",
    "ratio_key",
]

_DEBIT = Side.DEBIT
_CREDIT = Side.CREDIT
_MAX_KEY = 256


def _check_key(key: object) -> None:
    """Refuse an idempotency key no store could keep, or one holding a character
    :func:`~giftledger.check_text` refuses, naming it."""
    # The common case first, cheaply: a printable key holds no NUL, no surrogate and
    # nothing check_text refuses (all of them are unprintable).
    if type(key) is str and 0 < len(key) <= _MAX_KEY and key.isprintable():
        return
    if not isinstance(key, str) or not key or len(key) > _MAX_KEY or not is_encodable(key):
        raise InvalidArgument(
            f"idempotency key {shown(key)} must be a non-empty string of at most "
            f"{_MAX_KEY} characters, with no lone surrogate or NUL character"
        )
    check_text(key, "idempotency key")


def amount_key(value: object) -> object:
    """An amount as the ledger will read it, for a request's fingerprint.

    ``1``, ``"1.00"`` and ``Decimal("1")`` move the same money, so a retry that
    spells the amount another way is the same request: exact decimals become an
    int or a Fraction. Anything the ledger would refuse (and Money, whose unit
    matters) is kept as given, so it never matches a valid spelling: a remembered
    failure can only replay for a request that fails the same way.
    """
    cls = type(value)
    if cls is int:
        return value
    if cls is Decimal or cls is str:
        try:
            exact = _decimal_fraction(_decimal_of(value, "amount"), value, "amount")
        except GiftLedgerError:
            return value
        return exact.numerator if exact.denominator == 1 else exact
    return value


def ratio_key(value: object) -> object:
    """A ratio or rate as the ledger will read it (``"0.5"``, ``"1/2"``, ``"50%"`` alike)."""
    if type(value) is int:
        return value
    try:
        exact = to_fraction(value, "rate")
    except GiftLedgerError:
        return value
    return exact.numerator if exact.denominator == 1 else exact


def _fingerprint(parts: object) -> str:
    # The same content must give the same fingerprint however it was spelled: a list
    # or a tuple of postings, metadata keys in any order, no metadata or an empty one,
    # an amount as 1, "1.00" or Decimal("1") (see amount_key). The text is a tagged,
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
        account, side = value.account, value.side
        amount: object = value.amount
        if type(amount) is not int:
            amount = amount_key(amount)
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
        if not value:  # no metadata and empty metadata store the same
            out.append("n")
            return
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
    tx = None if record.transaction_id is None else r.transaction(record.transaction_id)
    if tx is None or (tx.key != record.key and not record.key.startswith("gl:")):
        raise _unreplayable(record, tx)
    check_replayed(tx, record)
    return tx


def check_replayed(tx: Transaction, record: IdempotencyRecord) -> None:
    """Refuse to replay ``tx`` for ``record`` if the record is not the one ``tx`` was
    hashed with: under formula 3 a keyed entry's hash covers its record's fingerprint
    and result, so a fingerprint changed behind the ledger's back (to make a retry
    with other content replay the entry) is caught here, not only by ``verify()``."""
    if tx.hash_version not in HASH_VERSIONS:
        raise ChainBroken(
            f"transaction {tx.id}, which idempotency key {shown(record.key)} names, carries "
            f"hash version {shown(tx.hash_version)}, which no giftledger writes: it was "
            f"changed behind the ledger's back, so the request is neither replayed nor "
            f"written again; run verify() and restore the books from a backup",
            tx.id,
        )
    if (
        tx.hash_version >= 3
        and tx.key == record.key
        and entry_hash(tx, tx.prev_hash, record.fingerprint, record.result) != tx.hash
    ):
        raise ChainBroken(
            f"the store's record of idempotency key {shown(record.key)} is not the one "
            f"transaction {tx.id} was hashed with: its fingerprint or result was changed "
            f"behind the ledger's back, so the request is neither replayed nor written "
            f"again; run verify() and restore the books from a backup",
            tx.id,
        )


def _unreplayable(record: IdempotencyRecord, tx: object) -> ChainBroken:
    """The error for a stored record that names no result a replay can return: no
    entry, an entry that does not carry its key, or no error (changed behind the
    ledger's back; ``verify()`` names it too)."""
    what = (
        "names no entry and no error"
        if record.transaction_id is None
        else f"names entry {shown(record.transaction_id)}, "
        + ("which does not exist" if tx is None else "which does not carry that key")
    )
    return ChainBroken(
        f"the store's record of idempotency key {shown(record.key)} {what}: it was changed "
        f"behind the ledger's back, so the request is neither replayed nor written again; "
        f"run verify() and restore the books from a backup",
        record.transaction_id,
    )
