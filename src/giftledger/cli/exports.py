"""``giftledger export`` and ``giftledger import``: the books to a file and back.

The formats and columns are in docs/exports.md.
"""

from __future__ import annotations

import os
import re
import sqlite3
import tempfile
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

import click

import giftledger as gl

from ._common import (
    Fail,
    check_sqlite_ledger,
    check_target,
    force_option,
    ledger_option,
    new_file,
    new_file_mode,
    open_book,
    place,
    progress_bar,
    shown_url,
    sqlite_path,
    store_url,
)

__all__ = ["export", "import_"]

#: The formats of ``giftledger export``, and the writer of each.
WRITERS: dict[str, Callable[..., int]] = {
    "beancount": gl.export_beancount,
    "csv": gl.export_csv,
    "jsonl": gl.export_jsonl,
}

#: The format a file's suffix implies when --format is not given.
SUFFIXES = {".beancount": "beancount", ".bean": "beancount", ".csv": "csv", ".jsonl": "jsonl"}

_HASH = re.compile(r"[0-9a-f]{64}")


@click.command()
@click.argument("out", type=click.Path(path_type=Path), metavar="OUT")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(sorted(WRITERS)),
    help="beancount (bean-check, Fava), csv (one row per posting) or jsonl (restorable "
    "with 'giftledger import'). Default: from OUT's suffix (.beancount, .csv, .jsonl).",
)
@ledger_option
@force_option
def export(out: Path, fmt: str | None, ledger: str, force: bool) -> None:
    """Write the books to OUT as beancount, CSV or JSON Lines.

    The file appears whole or not at all (it is written beside OUT and renamed),
    and an existing OUT is refused unless --force. A big book shows a progress bar
    on stderr (in a terminal). The ledger is only read. A jsonl export restores
    with 'giftledger import'; the head hash printed here is what to pass it as
    --expect-head. The formats are described in docs/exports.md.
    """
    check_target(out, force)
    if fmt is None:
        fmt = SUFFIXES.get(out.suffix.lower())
        if fmt is None:
            raise Fail(
                f"cannot tell the format of {str(out)!r} from its suffix: give --format "
                f"beancount, csv or jsonl"
            )
    with open_book(ledger) as book:
        url = book.store.url
        with new_file(out, force) as tmp, progress_bar(f"exporting {fmt}") as progress:
            count = WRITERS[fmt](book, tmp, progress=progress)
            # The export is one snapshot of the store: read its head the same way.
            head = _head_of(book, count)
    click.echo(f"{count} entries of {url} written to {out} ({fmt})")
    click.echo(f"head hash: {head}")


def _head_of(book: gl.Ledger, count: int) -> str:
    """The hash of entry ``count``, the export's last (the book may have grown since)."""
    if count == 0:
        return "0" * 64
    return book.transaction(count).hash


@click.command("import")
@click.argument("source", type=click.Path(path_type=Path), metavar="FILE")
@click.option(
    "--ledger",
    required=True,
    metavar="URL",
    help="The ledger to restore into: a new SQLite file's path, or a store URL of an "
    "empty ledger (sqlite:///…, postgresql://…).",
)
@click.option(
    "--expect-head",
    metavar="HASH",
    help="The head hash you trust (from a checkpoint, or 'giftledger export'): the "
    "restored books must end in it.",
)
def import_(source: Path, ledger: str, expect_head: str | None) -> None:
    """Restore a JSON Lines export (from 'giftledger export --format jsonl') into a
    new or empty ledger.

    Every entry is re-checked as it is restored (its hash, its link to the entry
    before, its balance, what it links to), so an edited export is refused, naming
    the line at fault. It is all or nothing: a refused import leaves the ledger as
    it was, and leaves no new SQLite file behind (a new file is built beside its
    path and appears only once the restore succeeded). --expect-head also refuses
    an export whose every hash was recomputed after an edit.
    """
    if not source.is_file():
        raise Fail(f"no export file at {str(source)!r}")
    if expect_head is not None and not _HASH.fullmatch(expect_head):
        raise Fail(f"--expect-head {expect_head!r} is not a hash (64 lower-case hex digits)")
    url = store_url(ledger)
    path = sqlite_path(url)
    if path is not None and not path.exists():
        count, head = _into_new_file(source, path, expect_head)
    else:
        if path is not None:
            check_sqlite_ledger(path)
        count, head = _into(source, url, expect_head)
    click.echo(f"{count} entries restored from {source} into {shown_url(url)}; every hash checked")
    click.echo(f"head hash: {head}")


def _refused(source: Path, exc: gl.RestoreRefused) -> Fail:
    message = str(exc)
    if exc.line is not None and not message.startswith(f"line {exc.line}"):
        message = f"line {exc.line}: {message}"
    return Fail(f"cannot import {source}: {message}")


def _into(source: Path, url: str, expect_head: str | None) -> tuple[int, str]:
    with gl.Ledger.open(url) as book, progress_bar("importing") as progress:
        try:
            count = gl.import_books(book, source, expect_head=expect_head, progress=progress)
        except gl.RestoreRefused as exc:
            raise _refused(source, exc) from None
        return count, book.head[1]


def _settle(db_file: Path) -> None:
    """Fold a write-ahead log left beside ``db_file`` into it, so the file is whole alone."""
    wal = Path(f"{db_file}-wal")
    if not wal.exists():
        return
    db = sqlite3.connect(db_file)
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    if wal.exists() and wal.stat().st_size:
        raise Fail(f"cannot finish {str(db_file)!r}: its write-ahead log stays open")


def _into_new_file(source: Path, path: Path, expect_head: str | None) -> tuple[int, str]:
    """Restore into a new SQLite file beside ``path``, then move it to ``path``."""
    check_target(path, force=False)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".importing")
    os.close(fd)
    tmp = Path(name)
    try:
        result = _into(source, f"sqlite:///{tmp}", expect_head)
        _settle(tmp)
        os.chmod(tmp, new_file_mode())
        place(tmp, path, force=False)
        return result
    finally:
        for leftover in (tmp, *(Path(f"{tmp}{end}") for end in ("-wal", "-shm", "-journal"))):
            with suppress(FileNotFoundError):
                leftover.unlink()
