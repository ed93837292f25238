"""The public boundary: caller values shown safely in messages, and one error mapping.

Python refuses to turn an integer of more than 4,300 digits into text
(``sys.get_int_max_str_digits()``): ``repr(10**5000)`` raises a bare
``ValueError``. Every message that quotes a caller's value with ``{value!r}``
would then fail with that ``ValueError`` instead of giftledger's own error.
Two tools keep such input inside the error tree:

- :func:`shown` is a ``repr`` that never fails and never floods a message: an
  integer too long to print is shown by its first and last digits and its
  length, a very long string by its head and its length. The checks that read
  amounts, ratios, ids and names use it, so those keep their precise error
  class (an amount of 10^5000 is an :class:`~giftledger.AmountOutOfRange`).
- :func:`boundary` wraps a public function or method. A call that raises the
  integer-printing ``ValueError`` anywhere below it becomes an
  :class:`~giftledger.InvalidArgument` naming the argument and the value (through
  :func:`shown`) and the rule; so does the ``UnicodeEncodeError`` a store raises
  for text holding a lone surrogate (names that can only be looked up are refused
  before, by ``refuse_unstorable``, alike on every store). The wrapper costs one
  extra call (about 0.3 µs) on the way in; the arguments are only searched after
  such a failure. Nothing was written: the failure happened before (or inside, and
  rolled back) any write.
"""

from __future__ import annotations

import functools
import inspect
import re
import sys
from collections.abc import Callable, Mapping
from typing import ParamSpec, TypeVar

import attrs

from ._errors import GiftLedgerError, InvalidArgument

__all__ = ["boundary", "boundary_methods", "is_huge_int", "shown"]

P = ParamSpec("P")
R = TypeVar("R")

#: Strings longer than this are shown by their head and their length.
_MAX_SHOWN_TEXT = 1000
#: Integers longer than this (about 77 digits) are shown by their ends and their length.
_MAX_SHOWN_BITS = 256
#: How many leading digits of a huge integer a message shows.
_LEAD_DIGITS = 12
#: How deep :func:`boundary` searches arguments (lists of postings, metadata …).
_SEARCH_DEPTH = 4


def _print_limit() -> int:
    """The most digits Python prints (0 when the application lifted the limit)."""
    return sys.get_int_max_str_digits()


def is_huge_int(value: object) -> bool:
    """Whether ``value`` is an int with more digits than Python will print.

    Example:
        >>> is_huge_int(10**5000), is_huge_int(10**40), is_huge_int("9" * 5000)
        (True, False, False)
    """
    if not isinstance(value, int):
        return False
    limit = _print_limit()
    # 3.33 bits a digit: a cheap test first, the exact one only near the limit.
    return bool(limit) and value.bit_length() > limit * 3 and abs(value) >= 10**limit


def _shown_int(value: int) -> str:
    magnitude = abs(value)
    # Count the digits without printing: start from the bit length, correct by one.
    digits = (magnitude.bit_length() - 1) * 30103 // 100000 + 1
    power = 10 ** (digits - 1)
    if magnitude < power:
        digits, power = digits - 1, power // 10
    elif magnitude >= power * 10:
        digits, power = digits + 1, power * 10
    lead = magnitude // (power // 10 ** (_LEAD_DIGITS - 1))
    sign = "-" if value < 0 else ""
    return f"{sign}{lead}…{magnitude % 10**6:06d} (an int of {digits:,} digits)"


def shown(value: object) -> str:
    """``repr(value)`` for a message, safe for any input and kept short.

    Integers of more than about 77 digits show their first 12 and last 6 digits
    and their length; strings of more than 1,000 characters their first 40 and
    their length. A value whose ``repr`` fails is named by its type.

    Example:
        >>> shown(42), shown("bob")
        ('42', "'bob'")
        >>> shown(7 * 10**5000 + 12)
        '700000000000…000012 (an int of 5,001 digits)'
        >>> shown("x" * 5000)
        "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'… (a string of 5,000 characters)"
    """
    if isinstance(value, int) and value.bit_length() > _MAX_SHOWN_BITS:
        return _shown_int(value)
    if isinstance(value, str) and len(value) > _MAX_SHOWN_TEXT:
        return f"{value[:40]!r}… (a string of {len(value):,} characters)"
    try:
        return repr(value)
    except ValueError:  # a container holding a huge int, or a repr that fails
        return f"<a {type(value).__name__} that cannot be shown>"


def _items(value: object) -> list[object]:
    """What a container or an attrs value holds, for the searches below."""
    if isinstance(value, Mapping):
        return [*value.keys(), *value.values()]
    if isinstance(value, list | tuple | set | frozenset):
        return list(value)
    if attrs.has(type(value)):
        return [getattr(value, f.name, None) for f in attrs.fields(type(value))]  # type: ignore[arg-type]
    return []


def _find_huge(value: object, depth: int = 0) -> int | None:
    """The first huge int in ``value``, searching containers and attrs values."""
    if is_huge_int(value):
        assert isinstance(value, int)
        return value
    if depth >= _SEARCH_DEPTH or isinstance(value, str | bytes):
        return None
    for item in _items(value):
        found = _find_huge(item, depth + 1)
        if found is not None:
            return found
    return None


def _arguments(
    fn: Callable[..., object], args: tuple[object, ...], kwargs: dict[str, object]
) -> dict[str, object]:
    """The call's arguments by parameter name (``self`` included, searched last)."""
    try:
        bound = dict(inspect.signature(fn).bind_partial(*args, **kwargs).arguments)
    except (TypeError, ValueError):
        bound = {f"argument {i}": arg for i, arg in enumerate(args)} | kwargs
    own = bound.pop("self", None)
    return bound if own is None else bound | {"self": own}


def _int_too_long(
    fn: Callable[..., object], args: tuple[object, ...], kwargs: dict[str, object]
) -> InvalidArgument:
    """The error for a call of ``fn`` that met an integer Python cannot print."""
    limit = _print_limit()
    rule = (
        f"giftledger takes no integer of more than {limit:,} digits (Python cannot print "
        f"one, and no amount, id, count or age comes near)"
    )
    for name, arg in _arguments(fn, args, kwargs).items():
        found = _find_huge(arg)
        if found is not None:
            return InvalidArgument(f"{name} {shown(found)} is refused: {rule}")
    # Not among the arguments: a callback or a rate source returned it.
    return InvalidArgument(f"a value reached {fn.__qualname__}() that is refused: {rule}")


_SURROGATE = re.compile("[\ud800-\udfff]")


def _find_text(value: object, depth: int = 0) -> tuple[str, int] | None:
    """The first string in ``value`` holding a lone surrogate, and where in it."""
    if isinstance(value, str):
        found = _SURROGATE.search(value)
        return None if found is None else (value, found.start())
    if depth >= _SEARCH_DEPTH or isinstance(value, bytes):
        return None
    for item in _items(value):
        hit = _find_text(item, depth + 1)
        if hit is not None:
            return hit
    return None


def _lone_surrogate(
    fn: Callable[..., object], args: tuple[object, ...], kwargs: dict[str, object]
) -> InvalidArgument | None:
    """The error for a call of ``fn`` whose text a store could not encode, or None
    when no argument holds such text (the failure is then not the caller's)."""
    for name, arg in _arguments(fn, args, kwargs).items():
        hit = _find_text(arg)
        if hit is not None:
            text, at = hit
            code = ord(text[at])
            return InvalidArgument(
                f"{name} {shown(text)} holds U+{code:04X} <surrogate-{code:04X}> at index {at}; "
                f"no store can hold a lone surrogate or a NUL character"
            )
    return None


def boundary(fn: Callable[P, R]) -> Callable[P, R]:
    """Wrap a public function so an integer too long to print raises InvalidArgument.

    Only the ``ValueError`` Python raises for such an integer is mapped (it is
    the one builtin error any input can provoke from a message); every other
    error passes unchanged.

    Example:
        >>> @boundary
        ... def pick(n: int) -> str:
        ...     raise KeyError(f"no item {n!r}")
        >>> try:
        ...     pick(10**5000)
        ... except InvalidArgument as exc:
        ...     print(exc)  # doctest: +ELLIPSIS
        n 100000000000…000000 (an int of 5,001 digits) is refused: giftledger takes no ...
    """

    @functools.wraps(fn)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except UnicodeEncodeError:
            error = _lone_surrogate(fn, args, kwargs)
            if error is None:
                raise
            raise error from None
        except ValueError as exc:
            if isinstance(exc, GiftLedgerError) or not _is_print_limit(exc):
                raise
            raise _int_too_long(fn, args, kwargs) from None

    return call


def _is_print_limit(exc: ValueError) -> bool:
    # CPython's message: "Exceeds the limit (4300 digits) for integer string conversion".
    return type(exc) is ValueError and "integer string conversion" in str(exc)


T = TypeVar("T", bound=type)


def boundary_methods(cls: T) -> T:
    """Put every public method of ``cls`` (its own, not inherited) behind :func:`boundary`.

    One line per class, so a method added later is covered too. Static and class
    methods are wrapped inside their descriptor. Put it above ``@attrs.frozen``
    (attrs builds a new class for slots).
    """
    for name, attr in list(vars(cls).items()):
        if name.startswith("_"):
            continue
        if isinstance(attr, staticmethod):
            setattr(cls, name, staticmethod(boundary(attr.__func__)))
        elif isinstance(attr, classmethod):
            setattr(cls, name, classmethod(boundary(attr.__func__)))
        elif inspect.isfunction(attr):
            setattr(cls, name, boundary(attr))
    return cls
