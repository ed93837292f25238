"""The books as JSON Lines, and their restore into an empty ledger.

One JSON object per line, each with a ``type``, in this order (the schema is
``docs/exports.md``; its ``version`` is :data:`JSONL_VERSION`):

1. ``header``: format name, version, entry count and head hash;
2. ``unit`` lines: every unit an account holds (code, exponent, kind, names);
3. ``account`` lines: every account, by name;
4. ``entry`` lines in id order, each with its postings inline;
5. ``idempotency`` lines: every remembered key, by key (an entry's own key, the
   chain's aliases of its entries, and remembered failures);
6. ``hold`` lines: every hold as it stands;
7. ``end``: the entry count, head hash and line count again, so an export cut
   short is told from a whole one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import ExitStack
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import IO, Any

from .._errors import RestoreRefused, UnitConflict, UnknownUnit
from .._ledger.ledger import Ledger
from .._ledger.restore import Restorer
from .._ledger.store import StoreReader
from .._money.units import Unit, UnitKind, get_unit, register_unit
from .files import PROGRESS_EVERY, Progress, atomic_text, target_path
from .records import (
    account_from_json,
    account_json,
    entry_from_json,
    entry_json,
    hold_from_json,
    hold_json,
    idempotency_from_json,
    idempotency_json,
    unit_from_json,
    unit_json,
)

__all__ = ["JSONL_FORMAT", "JSONL_VERSION", "export_jsonl", "import_books"]

#: The ``format`` named in a JSON Lines export's header line.
JSONL_FORMAT = "giftledger-jsonl"
#: The version of the JSON Lines schema this library writes and reads.
JSONL_VERSION = 1


def _dumps(obj: dict[str, Any]) -> str:
    # ensure_ascii: a line is plain ASCII whatever the names hold (no U+2028 and the
    # like to trip a line-based reader); compact separators, keys in schema order.
    return json.dumps(obj, ensure_ascii=True, separators=(",", ":"))


def _generator() -> str:
    try:
        return f"giftledger {version('giftledger')}"
    except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        return "giftledger"


def units_of(r: StoreReader) -> list[Unit]:
    """The units the accounts of ``r`` hold, by code."""
    return [get_unit(code) for code in sorted({st.account.unit for st in r.account_states("")})]


def export_jsonl(
    book: Ledger, out: str | os.PathLike[str], *, progress: Progress | None = None
) -> int:
    """Write the whole books to ``out`` as JSON Lines; return the number of entries.

    The export is everything a restore needs to reproduce the books exactly
    (units, accounts, every entry with its hash and chain link, every
    idempotency record, holds), read from one snapshot of the store
    and streamed entry by entry. The file appears at ``out`` only when it is
    complete (written beside it, then renamed); a failure leaves ``out`` as it
    was. The columns are documented in ``docs/exports.md``.

    Args:
        book: the ledger to export.
        out: the file to write (replaced if it exists).
        progress: called as ``progress(done, total)`` every thousand entries and
            once at the end.

    Returns:
        The number of entries written.

    Raises:
        InvalidArgument: ``out`` is a folder or its folder does not exist.

    Example:
        >>> import tempfile, pathlib, giftledger as gl
        >>> book = gl.Ledger()
        >>> _ = book.open_account("assets:bank", "USD")
        >>> _ = book.open_account("equity:owner", "USD", normal="credit")
        >>> _ = book.transfer("assets:bank", "equity:owner", "10.00", key="seed")
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = pathlib.Path(tmp) / "books.jsonl"
        ...     gl.export_jsonl(book, path)
        ...     again = gl.Ledger()
        ...     gl.import_books(again, path)
        ...     again.balance("equity:owner"), again.head == book.head
        3
        3
        (Money('10.00', 'USD'), True)
    """
    path = target_path(out)
    with book.store.read() as r, atomic_text(path) as f:
        head_id, head_hash = r.head()
        lines = 1
        f.write(
            _dumps(
                {
                    "type": "header",
                    "format": JSONL_FORMAT,
                    "version": JSONL_VERSION,
                    "generator": _generator(),
                    "entries": head_id,
                    "head": head_hash,
                }
            )
            + "\n"
        )
        for unit in units_of(r):
            f.write(_dumps(unit_json(unit)) + "\n")
            lines += 1
        for st in r.account_states(""):
            f.write(_dumps(account_json(st.account)) + "\n")
            lines += 1
        for done, tx in enumerate(r.transactions(1, head_id + 1), 1):
            f.write(_dumps(entry_json(tx)) + "\n")
            lines += 1
            if progress is not None and done % PROGRESS_EVERY == 0:
                progress(done, head_id)
        for record in r.idempotency_records():
            f.write(_dumps(idempotency_json(record)) + "\n")
            lines += 1
        for hold in r.holds(None, pending_only=False):
            f.write(_dumps(hold_json(hold)) + "\n")
            lines += 1
        lines += 1
        end = {"type": "end", "entries": head_id, "head": head_hash, "lines": lines}
        f.write(_dumps(end) + "\n")
    if progress is not None:
        progress(head_id, head_id)
    return head_id


# -- import --------------------------------------------------------------------------------

_ORDER = {"unit": 1, "account": 2, "entry": 3, "idempotency": 4, "hold": 5, "end": 6}


def _objects(stream: IO[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """The JSON objects of ``stream``, one a line, with their 1-based line numbers."""
    for n, text in enumerate(stream, 1):
        try:
            obj = json.loads(text)
        except ValueError as exc:
            raise RestoreRefused(f"line {n}: not a JSON object ({exc})", n) from None
        if type(obj) is not dict or type(obj.get("type")) is not str:
            raise RestoreRefused(f"line {n}: not a JSON object with a 'type'", n)
        yield n, obj


def _header(objects: Iterator[tuple[int, dict[str, Any]]]) -> tuple[int, str]:
    first = next(objects, None)
    if first is None:
        raise RestoreRefused("the export is empty: it has no header line", 1)
    _, obj = first
    if obj.get("type") != "header" or obj.get("format") != JSONL_FORMAT:
        raise RestoreRefused(
            f"line 1: not a giftledger JSON Lines export (no {JSONL_FORMAT!r} header)", 1
        )
    v = obj.get("version")
    if v != JSONL_VERSION:
        raise RestoreRefused(
            f"line 1: the export is version {v!r}; this giftledger reads version {JSONL_VERSION}",
            1,
        )
    entries, head = obj.get("entries"), obj.get("head")
    if type(entries) is not int or entries < 0 or type(head) is not str:
        raise RestoreRefused("line 1: the header's 'entries' or 'head' is malformed", 1)
    return entries, head


def _check_unit(unit: Unit, line: int) -> Unit:
    """The unit as this process knows it, checked against the export's; a virtual
    unit not yet known is returned as given, to be registered after the restore."""
    try:
        known = get_unit(unit.code)
    except UnknownUnit:
        if unit.kind is not UnitKind.VIRTUAL:
            raise RestoreRefused(
                f"line {line}: fiat unit {unit.code!r} is not an ISO currency here", line
            ) from None
        return unit
    if known.exponent != unit.exponent or known.kind is not unit.kind:
        raise RestoreRefused(
            f"line {line}: unit {unit.code!r} is exported with exponent {unit.exponent} "
            f"({unit.kind.value}) but known here with exponent {known.exponent} "
            f"({known.kind.value})",
            line,
        )
    return known


def import_books(
    book: Ledger,
    source: str | os.PathLike[str] | IO[str],
    *,
    expect_head: str | None = None,
    progress: Progress | None = None,
) -> int:
    """Restore a JSON Lines export (:func:`export_jsonl`) into the empty ledger ``book``.

    The restore reproduces the books exactly: the same entry ids, times, memos,
    metadata, hashes and chain links, the same accounts (closed ones closed),
    holds and idempotency records, on any store. It re-checks every entry as it
    goes: its hash against its content, its link to the entry before, its
    balance per unit and what it links to (see
    :class:`~giftledger._ledger.restore.Restorer`), so an edited export (a
    changed amount, a chain record added to an entry's metadata, lines
    reordered, removed or cut off) is refused with the line and entry at fault.
    It is all or nothing: on any refusal the store write rolls back and the
    ledger stays empty.

    A consistent forgery (every hash after an edit recomputed) cannot be told
    from the books by the export alone: pass the head hash you trust (a
    published checkpoint, the original ledger's ``head``) as ``expect_head``.

    Virtual units the export names and this process does not know are
    registered once the restore succeeded.

    Args:
        book: an empty ledger (no entries, no accounts) on any store.
        source: the export's path, or an open text stream of it.
        expect_head: the hash the restored journal's last entry must have.
        progress: called as ``progress(done, total)`` every thousand entries and
            once at the end.

    Returns:
        The number of entries restored.

    Raises:
        RestoreRefused: the export is malformed, edited or incomplete, names a
            unit this process knows otherwise, does not end in ``expect_head``,
            or ``book`` is not empty. Nothing is written.
    """
    with ExitStack() as stack:
        if isinstance(source, str | os.PathLike):
            path = Path(source)
            if not path.is_file():
                raise RestoreRefused(f"no export file at {str(path)!r}")
            stream: IO[str] = stack.enter_context(open(path, encoding="utf-8", newline="\n"))
        else:
            stream = source
        return _restore(book, _objects(stream), expect_head, progress)
    raise AssertionError("unreachable")  # pragma: no cover - ExitStack never swallows


def _restore(
    book: Ledger,
    objects: Iterator[tuple[int, dict[str, Any]]],
    expect_head: str | None,
    progress: Progress | None,
) -> int:
    total, head = _header(objects)
    new_units: dict[str, Unit] = {}
    holds = 0
    line = 1
    with book._batch_block(False) as w:
        restorer = Restorer(w)
        stage = 0
        ended = False
        for line, obj in objects:
            kind = obj["type"]
            order = _ORDER.get(kind)
            if order is None:
                raise RestoreRefused(f"line {line}: unknown line type {kind!r}", line)
            if ended:
                raise RestoreRefused(f"line {line}: a {kind} line after the end line", line)
            if order < stage:
                raise RestoreRefused(f"line {line}: a {kind} line is out of place", line)
            stage = order
            if kind == "unit":
                unit = _check_unit(unit_from_json(obj, line), line)
                if unit.code in new_units:
                    raise RestoreRefused(f"line {line}: unit {unit.code!r} appears twice", line)
                new_units[unit.code] = unit
            elif kind == "account":
                account = account_from_json(obj, line)
                if account.unit not in new_units:
                    raise RestoreRefused(
                        f"line {line}: account {account.name!r} holds {account.unit!r}, "
                        f"which no unit line declares",
                        line,
                    )
                restorer.account(account, line)
            elif kind == "entry":
                restorer.entry(entry_from_json(obj, line), line)
                done = restorer.head[0]
                if progress is not None and done % PROGRESS_EVERY == 0:
                    progress(done, total)
            elif kind == "idempotency":
                restorer.idempotency(idempotency_from_json(obj, line), line)
            elif kind == "hold":
                hold = hold_from_json(obj, line)
                holds += 1
                if w.hold(hold.id) != hold:
                    raise RestoreRefused(
                        f"line {line}: hold {hold.id} is exported as {hold!r} but the "
                        f"restored journal makes it {w.hold(hold.id)!r}",
                        line,
                        hold.id,
                    )
            else:
                _end(obj, line, restorer.head, holds, w.holds(None, pending_only=False))
                ended = True
        if not ended:
            raise RestoreRefused(
                f"the export stops at line {line} without its end line: it was cut short",
                line,
            )
        count = restorer.finish()
        if (count, restorer.head[1]) != (total, head):
            raise RestoreRefused(
                f"the header promises {total} entries ending in {head[:12]}…, the export "
                f"holds {count} ending in {restorer.head[1][:12]}…"
            )
        if expect_head is not None and restorer.head[1] != expect_head:
            raise RestoreRefused(
                f"the restored journal ends in {restorer.head[1][:12]}…, not in the expected "
                f"head {expect_head[:12]}…: these are not the books you trust"
            )
    for unit in new_units.values():
        if unit.kind is UnitKind.VIRTUAL:
            try:
                register_unit(unit.code, unit.exponent, singular=unit.singular, plural=unit.plural)
            except UnitConflict:  # registered meanwhile, by another thread: checked above
                pass
    if progress is not None:
        progress(count, total)
    return count


def _end(
    obj: dict[str, Any], line: int, head: tuple[int, str], holds: int, restored: list[Any]
) -> None:
    want = {"type": "end", "entries": head[0], "head": head[1], "lines": line}
    if obj != want:
        raise RestoreRefused(
            f"line {line}: the end line {obj!r} does not match the export "
            f"({head[0]} entries ending in {head[1][:12]}…, {line} lines)",
            line,
        )
    if holds != len(restored):
        raise RestoreRefused(
            f"line {line}: the export lists {holds} holds, the restored journal has "
            f"{len(restored)}",
            line,
        )
