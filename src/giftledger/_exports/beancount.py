"""The books as a beancount file, to check with ``bean-check`` and browse in Fava.

The file is plain beancount v3 text; giftledger does not need beancount to
write it. What goes where (documented in ``docs/exports.md``):

- Every unit is a ``commodity`` (:func:`beancount_commodity`), every account an
  ``open`` directive with its one commodity (:func:`beancount_account`), dated
  the day of the ``ACCOUNT`` entry that journals its opening, or of the first
  entry that touches it if that is earlier (a book from an earlier release
  journals its accounts when this release first writes to it), with its
  giftledger name in the ``gl-name`` metadata.
- Every entry that moves posted money (a posting, a settled hold, a reversal)
  is one transaction, dated its ``effective_at`` (UTC), its memo the
  narration, with ``gl-id``, ``gl-kind``, ``gl-hash`` and ``gl-key`` metadata.
  A giftledger entry balances per unit, crossing units only through trading
  accounts, so each transaction balances per commodity with no ``@`` price.
- An entry's exchange rates become ``price`` directives on its date.
- Entries that move no posted money (holds placed, voided or expired, notes,
  ``ACCOUNT``, ``KEY`` and ``DEFINITIONS`` entries) are ``custom "giftledger"``
  directives carrying the same metadata.
- The file ends with a ``balance`` assertion per account and commodity, the
  day after the last entry, so ``bean-check`` itself proves the balances
  equal the ledger's.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction
from typing import TextIO

from .._ledger.definitions import account_of
from .._ledger.ledger import Ledger
from .._ledger.model import Account, EntryKind, Rate, Side, Transaction
from .._ledger.store import StoreReader
from .._money.units import get_unit
from .files import PROGRESS_EVERY, Progress, atomic_text, decimal_text, target_path
from .jsonl import units_of
from .records import time_text

__all__ = ["beancount_account", "beancount_commodity", "export_beancount"]

_PLAIN = re.compile(r"[a-z0-9][a-z0-9-]*")
_KEEP = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPRSTUVWXYZ0123456789")  # no Q
_COMMODITY = re.compile(r"[A-Z][A-Z0-9_]*[A-Z0-9]")
_ROOTS = {
    "assets": "Assets",
    "liabilities": "Liabilities",
    "equity": "Equity",
    "income": "Income",
    "revenue": "Income",
    "revenues": "Income",
    "expenses": "Expenses",
    "expense": "Expenses",
}
_POSTED = frozenset({EntryKind.POST, EntryKind.POST_HOLD, EntryKind.REVERSAL})
#: Digits a non-terminating rate is rounded to in a ``price`` directive (the exact
#: fraction is in its ``gl-rate`` metadata; prices never touch a balance).
_PRICE_DIGITS = 20


def _component(segment: str) -> str:
    """One name segment as a beancount account component; injective.

    A plain segment (lower-case ASCII letters, digits and ``-``, not starting
    with ``-``) has its first letter capitalised: ``coin-supply`` ->
    ``Coin-supply``. Any other segment is ``X`` followed by its characters, ASCII
    letters and digits as they are and every other character (``Q`` too) as
    ``Q<hex code point>Q``: ``USD`` -> ``XUSD``, ``user_42`` -> ``XuserQ5FQ42``.
    An escaped component always holds an upper-case letter after its first
    character and a plain one never does, so no two segments share a component.
    """
    if _PLAIN.fullmatch(segment):
        return segment[0].upper() + segment[1:]
    out = ["X"]
    for ch in segment:
        out.append(ch if ch in _KEEP else f"Q{ord(ch):X}Q")
    return "".join(out)


def beancount_root(account: Account) -> str:
    """The beancount root type of ``account`` (see :func:`beancount_account`)."""
    if account.trading:
        return "Equity"
    root = _ROOTS.get(account.name.split(":", 1)[0])
    if root is not None:
        return root
    return "Assets" if account.normal is Side.DEBIT else "Liabilities"


def beancount_account(account: Account) -> str:
    """The beancount name of a giftledger account: deterministic and injective.

    The root is ``Equity`` for a trading account; else the first segment's, if
    it names one (``assets``, ``liabilities``, ``equity``, ``income`` or
    ``revenue``, ``expenses`` or ``expense``); else ``Assets`` for a debit-normal
    account and ``Liabilities`` for a credit-normal one. Every segment of the
    name then follows as one component (the first too, so no two names meet),
    encoded so that any name (quotes, spaces, unicode, ``;``) makes a valid
    component (see ``docs/exports.md``).

    Example:
        >>> import giftledger as gl
        >>> gl.beancount_account(gl.Account("viewers:alice:coins", "COIN", gl.Side.CREDIT))
        'Liabilities:Viewers:Alice:Coins'
        >>> gl.beancount_account(gl.Account("trading:USD", "USD", trading=True))
        'Equity:Trading:XUSD'
        >>> gl.beancount_account(gl.Account("creators:Zoë 1:cash", "EUR", gl.Side.CREDIT))
        'Liabilities:Creators:XZoQEBQQ20Q1:Cash'
    """
    parts = [beancount_root(account)]
    parts.extend(_component(s) for s in account.name.split(":"))
    return ":".join(parts)


def beancount_commodity(code: str) -> str:
    """The beancount commodity of a unit code; injective.

    A code that is a valid commodity (``USD``, ``COIN``, ``DIAMOND``) stays as it
    is. A code beancount would refuse (one starting with a digit or ``_``, or
    ending with ``_``) becomes ``U.<code>.U``: no unit code holds a ``.``, so it
    meets no other.

    Example:
        >>> import giftledger as gl
        >>> gl.beancount_commodity("DIAMOND"), gl.beancount_commodity("1UP_")
        ('DIAMOND', 'U.1UP_.U')
    """
    return code if _COMMODITY.fullmatch(code) else f"U.{code}.U"


def _string(text: str) -> str:
    """``text`` as a beancount string literal: ``\\`` and ``"`` escaped; characters
    beancount's lexer may choke on (other control characters) as ``\\uXXXX`` text."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n" or ch == "\t" or (ord(ch) >= 32 and ch != "\x7f"):
            out.append(ch)
        else:
            out.append(f"\\\\u{ord(ch):04x}")
    return '"' + "".join(out) + '"'


def _price(value: Fraction) -> str:
    """A rate as decimal text: exact when it terminates, else rounded half-even to
    :data:`_PRICE_DIGITS` significant digits (the exact fraction travels beside it)."""
    num, den = value.numerator, value.denominator
    rest, k = den, 0
    for p in (2, 5):
        while rest % p == 0:
            rest //= p
    if rest == 1:  # den divides some 10**k: exact
        while (10**k) % den:
            k += 1
        return decimal_text(num * 10**k // den, k)
    with localcontext() as ctx:
        ctx.prec = _PRICE_DIGITS
        ctx.rounding = ROUND_HALF_EVEN
        return format(Decimal(num) / Decimal(den), "f")


def _meta(tx: Transaction) -> list[str]:
    lines = [
        f"  gl-id: {tx.id}",
        f"  gl-kind: {_string(tx.kind.value)}",
        f"  gl-hash: {_string(tx.hash)}",
        f"  gl-recorded-at: {_string(time_text(tx.recorded_at))}",
    ]
    if tx.key is not None:
        lines.append(f"  gl-key: {_string(tx.key)}")
    if tx.reverses is not None:
        lines.append(f"  gl-reverses: {tx.reverses}")
    if tx.hold_id is not None:
        lines.append(f"  gl-hold: {tx.hold_id}")
    return lines


def export_beancount(
    book: Ledger,
    out: str | os.PathLike[str],
    *,
    title: str = "giftledger books",
    progress: Progress | None = None,
) -> int:
    """Write the books to ``out`` as a beancount v3 file; return the number of entries.

    ``bean-check`` accepts the file with no errors, and its balances equal the
    ledger's, unit for unit (the file asserts them itself); open it in Fava to
    browse the books. The layout and the name mapping are in the module
    docstring and ``docs/exports.md``. The journal is read from one snapshot and
    streamed twice (once to date the accounts' ``open`` directives); the file
    appears at ``out`` only when complete.

    Args:
        book: the ledger to export.
        out: the file to write (replaced if it exists).
        title: the file's ``title`` option.
        progress: called as ``progress(done, total)`` every thousand entries of
            the writing pass and once at the end.

    Returns:
        The number of entries written (each as a transaction or a custom directive).

    Raises:
        InvalidArgument: ``out`` is a folder or its folder does not exist.

    Example:
        >>> import tempfile, pathlib, giftledger as gl
        >>> book = gl.Ledger()
        >>> _ = book.open_account("assets:bank", "USD")
        >>> _ = book.open_account("equity:owner", "USD", normal="credit")
        >>> _ = book.transfer("assets:bank", "equity:owner", "10.00")
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = pathlib.Path(tmp) / "books.beancount"
        ...     gl.export_beancount(book, path)
        ...     "Assets:Assets:Bank  10.00 USD" in path.read_text()
        3
        True
    """
    path = target_path(out)
    with book.store.read() as r, atomic_text(path) as f:
        head_id = r.head()[0]
        accounts = {st.account.name: st.account for st in r.account_states("")}
        first = _first_dates(r, head_id)
        names = {name: beancount_account(a) for name, a in accounts.items()}
        start = min(first.values(), default=None)
        f.write(f"option {_string('title')} {_string(title)}\n")
        f.write("\n")
        _units(f, r, start)
        for name, account in accounts.items():
            opened = first.get(name, start) or date(1970, 1, 1)
            f.write(
                f"{opened.isoformat()} open {names[name]} "
                f"{beancount_commodity(account.unit)}\n"
                f"  gl-name: {_string(name)}\n"
                f"  gl-normal: {_string(account.normal.value)}\n"
            )
            if account.trading:
                f.write("  gl-trading: TRUE\n")
            if account.closed:
                f.write("  gl-closed: TRUE\n")
        f.write("\n")
        nets: dict[str, int] = dict.fromkeys(accounts, 0)
        last = start
        for done, tx in enumerate(r.transactions(1, head_id + 1), 1):
            day = _day(tx)
            last = day if last is None or day > last else last
            _entry(f, tx, day, names)
            if tx.kind in _POSTED:
                for p in tx.postings:
                    nets[p.account] += p.signed
            if progress is not None and done % PROGRESS_EVERY == 0:
                progress(done, head_id)
        if last is not None:
            _balances(f, last + timedelta(days=1), accounts, names, nets)
    if progress is not None:
        progress(head_id, head_id)
    return head_id


def _balances(
    f: TextIO,
    when: date,
    accounts: dict[str, Account],
    names: dict[str, str],
    nets: dict[str, int],
) -> None:
    """A ``balance`` assertion per account, exact to the minor unit. beancount counts an account's
    sub-accounts in its assertion, so each one sums the nets of every account
    whose beancount name is it or below it, in its commodity."""
    totals: dict[tuple[str, str], int] = {}
    for name, account in accounts.items():
        parts = names[name].split(":")
        for depth in range(2, len(parts) + 1):
            at = (":".join(parts[:depth]), account.unit)
            totals[at] = totals.get(at, 0) + nets[name]
    f.write("\n")
    for name, account in accounts.items():
        unit = get_unit(account.unit)
        # One digit more than the unit has: beancount tolerates a difference of up to
        # one unit of the assertion's last digit, and no less than one minor unit may hide.
        amount = decimal_text(totals[names[name], account.unit] * 10, unit.exponent + 1)
        f.write(
            f"{when.isoformat()} balance {names[name]}  {amount} "
            f"{beancount_commodity(account.unit)}\n"
        )


def _day(tx: Transaction) -> date:
    """The beancount date of an entry: its ``effective_at``, in UTC."""
    return date.fromisoformat(time_text(tx.effective_at)[:10])


def _first_dates(r: StoreReader, head_id: int) -> dict[str, date]:
    """The date of the first entry journaling or touching each account (holds too)."""
    first: dict[str, date] = {}
    for tx in r.transactions(1, head_id + 1):
        if tx.kind is EntryKind.ACCOUNT:
            account = account_of(tx)
            if account is not None:
                day, seen = _day(tx), first.get(account.name)
                if seen is None or day < seen:
                    first[account.name] = day
        elif tx.postings:
            day = _day(tx)
            for p in tx.postings:
                seen = first.get(p.account)
                if seen is None or day < seen:
                    first[p.account] = day
    return first


def _units(f: TextIO, r: StoreReader, start: date | None) -> None:
    when = (start or date(1970, 1, 1)).isoformat()
    for unit in units_of(r):
        f.write(
            f"{when} commodity {beancount_commodity(unit.code)}\n"
            f"  name: {_string(unit.plural)}\n"
            f"  gl-code: {_string(unit.code)}\n"
            f"  gl-exponent: {unit.exponent}\n"
        )
    f.write("\n")


def _entry(f: TextIO, tx: Transaction, day: date, names: dict[str, str]) -> None:
    when = day.isoformat()
    if tx.rates:
        _prices(f, when, tx.rates)
    if tx.kind in _POSTED:
        f.write(f"{when} * {_string(tx.memo)}\n")
        f.write("\n".join(_meta(tx)) + "\n")
        for p in tx.postings:
            unit = get_unit(p.unit)
            f.write(
                f"  {names[p.account]}  {decimal_text(p.signed, unit.exponent)} "
                f"{beancount_commodity(p.unit)}\n"
            )
    else:
        f.write(f'{when} custom "giftledger" {_string(tx.kind.value)} {_string(tx.memo)}\n')
        f.write("\n".join(_meta(tx)) + "\n")
        if tx.kind is EntryKind.HOLD:
            d, c = tx.postings
            unit = get_unit(d.unit)
            held = decimal_text(d.minor, unit.exponent) + " " + d.unit
            f.write(
                f"  gl-hold-amount: {_string(held)}\n"
                f"  gl-hold-debit: {_string(d.account)}\n"
                f"  gl-hold-credit: {_string(c.account)}\n"
            )
    f.write("\n")


def _prices(f: TextIO, when: str, rates: Iterable[Rate]) -> None:
    for rate in rates:
        f.write(
            f"{when} price {beancount_commodity(rate.base)} {_price(rate.value)} "
            f"{beancount_commodity(rate.quote)}\n"
            f"  gl-rate: {_string(str(rate))}\n"
        )
