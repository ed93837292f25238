"""Text the ledger takes from callers: characters that forge lines, and the chain's namespace.

Two checks, one idea each:

- :func:`check_text` refuses the characters that let a name or a key pretend to
  be something else once printed: control characters (Unicode category Cc, NUL
  and newline among them), the line and paragraph separators (Zl, Zp) and the
  bidirectional marks, overrides and isolates (U+061C, U+200E, U+200F,
  U+202A–U+202E, U+2066–U+2069), which
  reorder what a reader sees, and lone surrogates (Cs), which are no text at all
  (no store can hold them). Joiners (ZWJ, ZWNJ) and other format characters
  stay allowed: emoji sequences and many scripts need them. Account names and
  idempotency keys go through it; memos may hold newlines and do not.
- :func:`refuse_reserved` keeps the chain's namespace for the chain: metadata
  keys starting with ``gl.`` and idempotency keys starting with ``gl:`` are
  written only by giftledger's own chain, never through the public API, so no
  caller can forge a chain record or take a key the chain will need.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import TypeVar

from .._boundary import shown
from .._errors import InvalidArgument

M = TypeVar("M")

__all__ = [
    "RESERVED_KEY_PREFIX",
    "RESERVED_METADATA_PREFIX",
    "check_text",
    "describe_char",
    "refuse_reserved",
    "refuse_unstorable",
]

#: Metadata keys with this prefix belong to giftledger's chain.
RESERVED_METADATA_PREFIX = "gl."
#: Idempotency keys with this prefix belong to giftledger's chain.
RESERVED_KEY_PREFIX = "gl:"

# Cc is exactly U+0000–U+001F and U+007F–U+009F (Unicode never adds to it); Zl is
# U+2028 alone and Zp U+2029 alone. One character class: a regex search is far
# cheaper than a unicodedata call per character on the hot path of a keyed post.
# The bidi marks U+061C, U+200E and U+200F are invisible too, and make "bob\u200f" look
# like "bob": they are refused with the overrides and isolates.
# Lone surrogates (Cs, U+D800–U+DFFF) are no text at all: no store, hash or TOML file
# can encode them as UTF-8.
_HOSTILE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def describe_char(ch: str) -> str:
    """``U+XXXX NAME`` for one character; control characters, which have no Unicode
    name, get their code point label (``<control-000A>``)."""
    code = ord(ch)
    kind = "surrogate" if 0xD800 <= code <= 0xDFFF else "control"
    return f"U+{code:04X} {unicodedata.name(ch, '') or f'<{kind}-{code:04X}>'}"


def check_text(value: object, what: str) -> str:
    """Return ``value`` if it is a string free of characters that forge or hide text.

    Refused: control characters (category Cc, which includes NUL, tab and
    newline), line and paragraph separators (Zl, Zp) and bidirectional overrides
    and isolates and the bidi marks (U+061C, U+200E, U+200F, U+202A–U+202E,
    U+2066–U+2069), and lone surrogates (Cs, U+D800–U+DFFF), which no store can
    hold. Joiners such as ZWJ (U+200D) and ZWNJ (U+200C) are allowed.

    Args:
        value: the text to check.
        what: what it is, for the message (``"account name"``).

    Raises:
        InvalidArgument: ``value`` is not a string, or names the first refused
            character as ``U+XXXX`` with its Unicode name, and where it is.

    Example:
        >>> import giftledger as gl
        >>> gl.check_text("bob\\u200d", "creator name")
        'bob\\u200d'
        >>> try:
        ...     gl.check_text("bob\\u2028total: $50,000", "creator name")
        ... except gl.InvalidArgument as exc:
        ...     print(exc)  # doctest: +ELLIPSIS
        creator name 'bob\\u2028total: $50,000' holds U+2028 LINE SEPARATOR at index 3; ...
    """
    if not isinstance(value, str):
        raise InvalidArgument(f"{what} {shown(value)} must be a string")
    if value.isprintable():  # no Cc, Zl, Zp or Cf (bidi controls are Cf) at all
        return value
    found = _HOSTILE.search(value)
    if found is not None:
        raise InvalidArgument(
            f"{what} {shown(value)} holds {describe_char(found.group())} at index {found.start()}; "
            f"control characters, line and paragraph separators and bidirectional overrides "
            f"or isolates are not allowed"
        )
    return value


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(name: object) -> bool:
    """Whether a store could hold ``name``: False only for a string holding a NUL or a
    lone surrogate (see :func:`refuse_unstorable`). A store's lookup of such a name finds
    nothing without asking its database, which could not even be sent it.

    >>> storable("viewers:alice:coins"), storable("a\\x00b"), storable("a\\ud800")
    (True, False, False)
    """
    if type(name) is str and name.isprintable():  # the common case, one call
        return True
    return not isinstance(name, str) or _UNSTORABLE.search(name) is None


def refuse_unstorable(name: object, what: str) -> None:
    """Refuse a name no store can hold, so a lookup fails alike on every store.

    A lone surrogate cannot be encoded as UTF-8 and PostgreSQL text cannot hold a
    NUL: SQLite and PostgreSQL fail even to look such a name up, while the memory
    store would simply not find it. Lookups call this first (a printable string,
    the common case, costs one ``isprintable()``); nothing else is checked here.

    Raises:
        InvalidArgument: naming the character as ``U+XXXX`` and where it is.
    """
    if storable(name):
        return
    assert isinstance(name, str)  # storable() says so of anything else
    found = _UNSTORABLE.search(name)
    assert found is not None  # what storable() found
    raise InvalidArgument(
        f"{what} {shown(name)} holds {describe_char(found.group())} at index "
        f"{found.start()}; no store can hold a lone surrogate or a NUL character"
    )


def refuse_reserved(key: object, metadata: M) -> M:
    """Refuse an idempotency key or metadata keys in the chain's namespace.

    Called by every public writing method of the ledger; the chain writes
    through their private twins, which do not call it.

    Returns:
        ``metadata`` as a new plain dict of the very pairs that were checked (the
        pairs a store will keep), so neither a mapping whose ``__iter__`` hides
        keys nor a caller changing its dict afterwards (in a ``guard``) can slip a
        reserved key past the check; ``metadata`` itself if it is empty or not a
        mapping (the write refuses that later).

    Raises:
        InvalidArgument: naming the key and the rule.
    """
    if isinstance(key, str) and key.startswith(RESERVED_KEY_PREFIX):
        raise InvalidArgument(
            f"idempotency key {shown(key)} is refused: idempotency keys starting with "
            f"{shown(RESERVED_KEY_PREFIX)} are reserved for giftledger's chain; choose another key"
        )
    if metadata and isinstance(metadata, Mapping):
        pairs = dict(metadata.items())
        for name in pairs:
            if isinstance(name, str) and name.startswith(RESERVED_METADATA_PREFIX):
                raise InvalidArgument(
                    f"metadata key {shown(name)} is refused: metadata keys starting with "
                    f"{shown(RESERVED_METADATA_PREFIX)} are reserved for giftledger's chain; "
                    f"choose another key"
                )
        return pairs  # type: ignore[return-value]
    return metadata
