"""The books as CSV: one row per posting, for spreadsheets.

Each row repeats its entry's columns beside one posting's; an entry with no
postings (a note, a hold voided or expired) is one row with the posting
columns empty. The columns are :data:`CSV_COLUMNS`, documented in
``docs/exports.md``. CSV is for reading the books; :func:`~giftledger.export_jsonl`
is the export a ledger is restored from (a flat table has no place for the
accounts' rules, the units or the idempotency records).
"""

from __future__ import annotations

import csv
import json
import os

from .._ledger.ledger import Ledger
from .._ledger.model import Side, Transaction
from .._money.units import get_unit
from .files import PROGRESS_EVERY, Progress, atomic_text, decimal_text, target_path
from .records import time_text

__all__ = ["CSV_COLUMNS", "export_csv"]

#: The columns of :func:`export_csv`, in order.
CSV_COLUMNS = (
    "entry_id",
    "kind",
    "effective_at",
    "recorded_at",
    "key",
    "memo",
    "metadata",
    "reverses",
    "hold_id",
    "expires_at",
    "rates",
    "posting",
    "account",
    "side",
    "amount",
    "unit",
    "minor",
    "signed_minor",
    "prev_hash",
    "hash",
)

#: What a spreadsheet reads as a formula when a cell starts with it (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _guard(text: str) -> str:
    """A text cell a spreadsheet will not run: one that starts like a formula gets a
    leading ``'`` (OWASP's advice for CSV injection)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _entry_cells(tx: Transaction, guard: bool) -> list[str]:
    text = _guard if guard else str
    return [
        str(tx.id),
        tx.kind.value,
        time_text(tx.effective_at),
        time_text(tx.recorded_at),
        "" if tx.key is None else text(tx.key),
        text(tx.memo),
        text(json.dumps(dict(tx.metadata), ensure_ascii=False)) if tx.metadata else "",
        "" if tx.reverses is None else str(tx.reverses),
        "" if tx.hold_id is None else str(tx.hold_id),
        "" if tx.expires_at is None else time_text(tx.expires_at),
        " ".join(str(r) for r in tx.rates),
    ]


def export_csv(
    book: Ledger,
    out: str | os.PathLike[str],
    *,
    formula_guard: bool = True,
    progress: Progress | None = None,
) -> int:
    """Write every entry's postings to ``out`` as CSV; return the number of entries.

    One row per posting, with a header row of :data:`CSV_COLUMNS` (RFC 4180,
    UTF-8, ``\\r\\n`` line ends). Amounts are exact decimal text in the unit's
    own exponent (``amount``), and integers of minor units (``minor``, and
    ``signed_minor``: positive for a debit, negative for a credit). Read from
    one snapshot and streamed; the file appears at ``out`` only when complete.

    Args:
        book: the ledger to export.
        out: the file to write (replaced if it exists).
        formula_guard: prefix ``'`` to a text cell (account, memo, key,
            metadata) that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
            carriage return, so a spreadsheet shows it rather than running it.
            Turn it off when a program, not a person, reads the file.
        progress: called as ``progress(done, total)`` every thousand entries and
            once at the end.

    Returns:
        The number of entries written.

    Raises:
        InvalidArgument: ``out`` is a folder or its folder does not exist.

    Example:
        >>> import csv, tempfile, pathlib, giftledger as gl
        >>> book = gl.Ledger()
        >>> _ = book.open_account("assets:bank", "USD")
        >>> _ = book.open_account("equity:owner", "USD", normal="credit")
        >>> _ = book.transfer("assets:bank", "equity:owner", "10.00")
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = pathlib.Path(tmp) / "books.csv"
        ...     gl.export_csv(book, path)
        ...     with path.open(newline="", encoding="utf-8") as f:
        ...         rows = list(csv.DictReader(f))
        3
        >>> [r["kind"] for r in rows]  # an entry with no postings is one row
        ['account', 'account', 'post', 'post']
        >>> [(r["account"], r["side"], r["amount"], r["unit"]) for r in rows[2:]]
        [('assets:bank', 'debit', '10.00', 'USD'), ('equity:owner', 'credit', '10.00', 'USD')]
    """
    path = target_path(out)
    text = _guard if formula_guard else str
    with book.store.read() as r, atomic_text(path, newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        head_id = r.head()[0]
        for done, tx in enumerate(r.transactions(1, head_id + 1), 1):
            cells = _entry_cells(tx, formula_guard)
            tail = [tx.prev_hash, tx.hash]
            if not tx.postings:
                writer.writerow([*cells, "", "", "", "", "", "", "", *tail])
            for i, p in enumerate(tx.postings):
                exponent = get_unit(p.unit).exponent
                writer.writerow(
                    [
                        *cells,
                        str(i),
                        text(p.account),
                        p.side.value,
                        decimal_text(p.minor, exponent),
                        p.unit,
                        str(p.minor),
                        str(p.minor if p.side is Side.DEBIT else -p.minor),
                        *tail,
                    ]
                )
            if progress is not None and done % PROGRESS_EVERY == 0:
                progress(done, head_id)
    if progress is not None:
        progress(head_id, head_id)
    return head_id
