"""Reading an entry back from its canonical text, with no database.

:func:`~giftledger._ledger.hashing.canonical` writes an entry's content as an
injective text, and an entry's hash is SHA-256 of ``prev_hash + "|" + text``.
Whoever holds the text and the previous hash (and, for a keyed entry of hash
formula 3, its idempotency record's fingerprint and result) can recompute the hash
(:func:`hash_of_text`) and read the content back (:func:`parse_canonical`): a
proven statement's lines are checked this way, offline. The parse is accepted
only if writing the parsed entry again gives the very same text, so a text is
read one way or refused.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from fractions import Fraction

from .._boundary import shown
from .._errors import InvalidArgument
from .hashing import HASH_VERSIONS, canonical, record_text
from .model import EntryKind, MetaValue, Posting, Rate, Side, Transaction

__all__ = ["hash_of_text", "parse_canonical"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: A rate's value as :class:`~fractions.Fraction` writes it (``str(value)``): the only
#: form that writes back to itself. Anything else (``1e5000``, ``0.5``) is refused
#: before it is read, so no text makes Python build or write a huge number.
_RATE_VALUE = re.compile(r"-?[0-9]{1,4000}(/[0-9]{1,4000})?")


def hash_of_text(
    prev_hash: str,
    text: str,
    version: int = 1,
    fingerprint: str | None = None,
    result: str | None = None,
) -> str:
    """The entry hash of canonical ``text`` after an entry hashing to ``prev_hash``,
    under hash formula ``version`` (an entry's ``hash_version``).

    ``text`` is :func:`~giftledger._ledger.hashing.canonical`'s: ``id|content``.
    Formula 1 hashes ``prev_hash|text``; formula 2 hashes the content alone, then
    links it: ``prev_hash|id|sha256(content)``. Formula 3 links as 2, and a keyed
    entry's content is led by its idempotency record: ``fingerprint`` and
    ``result`` (:func:`~giftledger._ledger.hashing.record_text`), given for a keyed
    entry only.

    Raises:
        InvalidArgument: an unknown version, a formula-2 or 3 text with no id, or a
            fingerprint given with formula 1 or 2 (which do not hash one).
    """
    if version not in HASH_VERSIONS:
        raise InvalidArgument(
            f"hash version {version!r} is not one this giftledger knows (1, 2 or 3)"
        )
    if fingerprint is not None and version != 3:
        raise InvalidArgument(
            f"hash formula {version} does not cover an idempotency record: an entry of it "
            f"carries no fingerprint"
        )
    try:
        if version == 1:
            return hashlib.sha256(f"{prev_hash}|{text}".encode()).hexdigest()
        id, sep, content = text.partition("|")
        if not sep or not id.isdigit():
            raise InvalidArgument("canonical entry text does not start with its id")
        if fingerprint is not None:
            content = f"{record_text(fingerprint, result)}|{content}"
        digest = hashlib.sha256(content.encode()).hexdigest()
        return hashlib.sha256(f"{prev_hash}|{id}|{digest}".encode()).hexdigest()
    except UnicodeEncodeError as exc:  # a lone surrogate: no entry's text holds one
        raise InvalidArgument(
            f"the previous hash, entry text or idempotency record holds "
            f"{exc.object[exc.start : exc.end]!r} at character {exc.start}, which is not "
            f"text (a lone surrogate): no entry hashes it"
        ) from None


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def fail(self, what: str) -> InvalidArgument:
        return InvalidArgument(f"canonical entry text does not read: {what} at character {self.at}")

    def peek(self) -> str:
        return self.text[self.at : self.at + 1]

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise self.fail(f"expected {char!r}")
        self.at += 1

    def int_until(self, stops: str) -> int:
        start = self.at
        text = self.text
        while self.at < len(text) and text[self.at] not in stops:
            self.at += 1
        digits = text[start : self.at]
        body = digits[1:] if digits.startswith("-") else digits
        if not body.isdigit() or not body.isascii() or len(body) > 4000:
            text = f"{digits[:40]!r}…" if len(digits) > 40 else repr(digits)
            raise self.fail(f"{text} is not an integer of at most 4,000 digits")
        return int(digits)

    def netstring(self) -> str | None:
        if self.peek() == "-":
            self.at += 1
            return None
        size = self.int_until(":")
        self.expect(":")
        if size < 0 or self.at + size > len(self.text):
            raise self.fail(f"a string of {shown(size)} characters runs past the end")
        value = self.text[self.at : self.at + size]
        self.at += size
        return value


def _time(r: _Reader, micros: int) -> datetime:
    try:
        return _EPOCH + timedelta(microseconds=micros)
    except OverflowError:
        raise r.fail(f"time {shown(micros)} (microseconds since 1970) is out of range") from None


def parse_canonical(text: str) -> Transaction:
    """The entry whose canonical text is ``text`` (its hashes and links left empty).

    Raises:
        InvalidArgument: ``text`` is not the canonical text of any entry.

    Example:
        >>> import giftledger as gl
        >>> from giftledger._ledger.hashing import canonical
        >>> book = gl.Ledger()
        >>> _ = book.open_account("assets:bank", "USD")
        >>> _ = book.open_account("equity:owner", "USD", normal="credit")
        >>> tx = book.transfer("assets:bank", "equity:owner", "1.50", memo="a | b")
        >>> back = parse_canonical(canonical(tx))
        >>> back.memo, back.postings[0].minor
        ('a | b', 150)
    """
    if not isinstance(text, str):
        raise InvalidArgument(f"canonical entry text {text!r} must be a string")
    r = _Reader(text)
    id = r.int_until("|")
    r.expect("|")
    start = r.at
    while r.peek() not in ("|", ""):
        r.at += 1
    try:
        kind = EntryKind(text[start : r.at])
    except ValueError:
        raise r.fail(f"{text[start : r.at]!r} is not a kind of entry") from None
    r.expect("|")
    effective = r.int_until("|")
    r.expect("|")
    recorded = r.int_until("|")
    r.expect("|")
    key = r.netstring()
    r.expect("|")
    memo = r.netstring()
    r.expect("|")
    metadata: list[tuple[str, MetaValue]] = []
    count = r.int_until(",|")
    for _ in range(count):
        r.expect(",")
        name = r.netstring()
        if name is None:
            raise r.fail("a metadata key is missing")
        tag = r.peek()
        r.at += 1
        value: MetaValue
        if tag == "n":
            value = None
        elif tag == "b":
            flag = r.peek()
            r.at += 1
            if flag not in ("0", "1"):
                raise r.fail("a boolean is not b0 or b1")
            value = flag == "1"
        elif tag == "i":
            value = r.int_until(",|")
        elif tag == "s":
            value = r.netstring()
            if value is None:
                raise r.fail("a metadata string is missing")
        else:
            raise r.fail(f"{tag!r} is not a metadata value tag")
        metadata.append((name, value))
    r.expect("|")
    postings: list[Posting] = []
    while r.peek() not in ("|", ""):
        if postings:
            r.expect(";")
        account = r.netstring()
        if account is None:
            raise r.fail("a posting's account is missing")
        side = {"D": Side.DEBIT, "C": Side.CREDIT}.get(r.peek())
        if side is None:
            raise r.fail("a posting's side is not D or C")
        r.at += 1
        minor = r.int_until(":")
        r.expect(":")
        start = r.at
        while r.peek() not in (";", "|", ""):
            r.at += 1
        postings.append(Posting(account, side, minor, text[start : r.at]))
    reverses = hold_id = None
    expires: datetime | None = None
    rates: list[Rate] = []
    if r.peek() == "|":
        r.expect("|")
        r.expect("r")
        reverses = _optional_int(r)
        r.expect("|")
        r.expect("h")
        hold_id = _optional_int(r)
        r.expect("|")
        r.expect("x")
        if r.peek() == "-":
            r.at += 1
        else:
            expires = _time(r, r.int_until("|"))
        r.expect("|")
        for part in filter(None, text[r.at :].split(",")):
            pair, _, value = part.partition("=")
            base, _, quote = pair.partition("/")
            try:
                if not _RATE_VALUE.fullmatch(value):
                    raise ValueError(value)
                rates.append(Rate(base, quote, Fraction(value)))
            except (ValueError, ZeroDivisionError, ArithmeticError):
                raise r.fail(f"{part[:80]!r} is not a rate") from None
        r.at = len(text)
    when, at = _time(r, effective), _time(r, recorded)
    tx = Transaction(
        id,
        kind,
        tuple(postings),
        when,
        when if recorded == effective else at,
        key,
        "" if memo is None else memo,
        tuple(metadata),
        reverses,
        hold_id,
        expires,
        tuple(rates),
    )
    # The one test that matters: the entry writes back to exactly this text.
    if memo is None or canonical(tx) != text:
        raise InvalidArgument("canonical entry text does not read back to itself")
    return tx


def _optional_int(r: _Reader) -> int | None:
    if r.text.startswith("None", r.at):
        r.at += 4
        return None
    return r.int_until("|")
