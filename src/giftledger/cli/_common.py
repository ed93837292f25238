"""What every command shares: the ledger and rules options, errors, output."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import quote

import click
from moneyed import Money
from rich.console import Console

import giftledger as gl

__all__ = [
    "DEFAULT_LEDGER",
    "SCHEMA",
    "Fail",
    "chain_of",
    "check_target",
    "console",
    "echo_json",
    "force_option",
    "json_option",
    "ledger_option",
    "locale_option",
    "money_json",
    "new_file",
    "new_file_mode",
    "open_book",
    "place",
    "progress_bar",
    "read_input",
    "rules_options",
    "shown_url",
    "sqlite_path",
    "time_json",
]

#: The demo's ledger, and every reading command's default ``--ledger``.
DEFAULT_LEDGER = "giftledger-demo.db"

#: The ``schema`` key of every ``--json`` output.
SCHEMA = "giftledger.cli/1"

F = TypeVar("F", bound=Callable[..., Any])


class Fail(click.ClickException):
    """A command's failure: one line on stderr, exit code 1."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        click.echo(f"giftledger: error: {one_line(self.format_message())}", err=True)


def one_line(text: str) -> str:
    """The first line of ``text``; an error is always one line."""
    return " ".join(text.split("\n")[0].split()) if text else "failed"


# -- options ---------------------------------------------------------------------------


def ledger_option(f: F) -> F:
    return click.option(
        "--ledger",
        "ledger",
        default=DEFAULT_LEDGER,
        show_default=True,
        envvar="GIFTLEDGER_LEDGER",
        metavar="URL",
        help="A store URL (sqlite:///books.db, postgresql://…) or a SQLite file's path.",
    )(f)


def rules_options(f: F) -> F:
    f = click.option(
        "--economy",
        "economy_file",
        type=click.Path(dir_okay=False, path_type=Path),
        metavar="FILE.toml",
        help="The rules you expect, from a TOML file (default: the ledger's own).",
    )(f)
    return click.option(
        "--preset",
        metavar="NAME",
        help="The rules you expect, a shipped preset (default: the ledger's own).",
    )(f)


def _check_locale(ctx: click.Context, param: click.Parameter, value: str) -> str:
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(value)
    except (UnknownLocaleError, ValueError, TypeError):
        raise Fail(f"unknown locale {value!r}; use one such as en_US, de_DE or pt_BR") from None
    return value


def locale_option(f: F) -> F:
    return click.option(
        "--locale",
        default="en_US",
        show_default=True,
        callback=_check_locale,
        is_eager=True,  # checked before anything is opened
        help="How amounts and dates are written (a babel locale: de_DE, fr_FR, ja_JP …).",
    )(f)


def json_option(f: F) -> F:
    return click.option(
        "--json", "as_json", is_flag=True, help="Print one JSON object instead of a table."
    )(f)


# -- the ledger ------------------------------------------------------------------------


def store_url(ledger: str) -> str:
    """A store URL from ``--ledger``: a URL as given, anything else a SQLite path."""
    if ledger in ("memory:", "memory://") or "://" in ledger or ledger.startswith("sqlite:"):
        return ledger
    return f"sqlite:///{ledger}"


def shown_url(url: str) -> str:
    """``url`` as it may be printed: a PostgreSQL URL without its password."""
    if url.startswith(("postgresql://", "postgres://")):
        from giftledger._stores.urls import redacted

        return redacted(url)
    return url


def sqlite_path(url: str) -> Path | None:
    """The file a ``sqlite:///`` URL names, None for another store."""
    if not url.startswith("sqlite:///") or len(url) <= len("sqlite:///"):
        return None
    return Path(url[len("sqlite:///") :])


def check_sqlite_ledger(path: Path) -> None:
    """Refuse a path that is not a giftledger SQLite file, without writing to it.

    Opening a store creates a missing file and sets up a database that is not
    giftledger's, so this looks first, through a read-only connection.
    """
    if not path.exists():
        raise Fail(f"no ledger at {str(path)!r}: the file does not exist (run 'giftledger demo')")
    if not path.is_file():
        raise Fail(f"{str(path)!r} is not a file")
    with path.open("rb") as fh:
        header = fh.read(16)
    if header != b"SQLite format 3\x00":
        raise Fail(f"{str(path)!r} is not a giftledger ledger (not a SQLite database)")
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        db = sqlite3.connect(uri, uri=True)
        try:
            row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        row = None
    if row is None:
        raise Fail(f"{str(path)!r} is not a giftledger ledger (no giftledger schema in it)")


@contextmanager
def open_book(ledger: str) -> Iterator[gl.Ledger]:
    """The ledger ``--ledger`` names, which must exist; closed on exit."""
    url = store_url(ledger)
    path = sqlite_path(url)
    if path is not None:
        check_sqlite_ledger(path)
    with gl.Ledger.open(url) as book:
        try:
            # Reading the recorded rules registers the chain's virtual units (COIN,
            # DIAMOND …), which balances in them need; it writes nothing.
            gl.GiftEconomy.from_ledger(book)
        except gl.UnknownRule:
            pass  # the books of the core alone
        yield book


def chain_of(book: gl.Ledger, preset: str | None, economy_file: Path | None) -> gl.GiftEconomy:
    """The chain on ``book`` under the rules its journal records.

    With ``--preset`` or ``--economy``, those rules must be the ones recorded
    (a GiftEconomy with other rules than the ledger's is refused before it writes);
    a ledger that records no rules is refused too, since recording them is a write.
    """
    if preset is not None and economy_file is not None:
        raise Fail("give --preset or --economy, not both")
    try:
        app = gl.GiftEconomy.from_ledger(book)
    except gl.UnknownRule:
        raise Fail(
            f"the ledger {book.store.url!r} records no economy rules: it holds no gift chain "
            f"(a chain records its rules when a GiftEconomy first opens it)"
        ) from None
    if preset is None and economy_file is None:
        return app
    if preset is not None:
        expected = gl.presets.load(preset)
    else:
        assert economy_file is not None
        if not economy_file.is_file():
            raise Fail(f"no economy file {str(economy_file)!r}")
        expected = gl.load_economy(economy_file)
    # Recorded rules equal to these open without a write; other rules raise InvalidEconomy.
    return gl.GiftEconomy(book, expected)


# -- output ----------------------------------------------------------------------------


def money_json(money: Money | None) -> dict[str, str] | None:
    """``{"amount": "12.50", "currency": "EUR"}``: exact, never a float."""
    if money is None:
        return None
    return {"amount": str(money.amount), "currency": money.currency.code}


def time_json(at: datetime | None) -> str | None:
    if at is None:
        return None
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def console(*, stderr: bool = False, width: int | None = None) -> Console:
    """A rich Console that prints text as it is: no markup, no emoji codes, no highlighting.

    Names, memos and titles come from the books (anyone may name a creator
    ``[/]`` or ``smile``, whose account ``creators:smile:cash`` holds the emoji
    code ``:smile:``): rich must not read them as markup or emoji.
    """
    return Console(stderr=stderr, width=width, markup=False, emoji=False, highlight=False)


def echo_json(command: str, payload: dict[str, Any]) -> None:
    out = {"schema": SCHEMA, "command": command, **payload}
    click.echo(json.dumps(out, indent=2, ensure_ascii=False))


def stderr_is_tty() -> bool:
    return sys.stderr.isatty() and os.environ.get("TERM") != "dumb"


class ProgressUpdate(Protocol):
    """A progress bar's callback: ``done`` of ``total``, and a new label if given."""

    def __call__(self, done: int, total: int, description: str | None = None) -> None: ...


@contextmanager
def progress_bar(label: str) -> Iterator[ProgressUpdate | None]:
    """A rich progress bar on stderr when it is a terminal; else no callback at all."""
    if not stderr_is_tty():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    columns = (TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int, description: str | None = None) -> None:
            bar.update(task, completed=done, total=total, description=description)

        yield update


# -- files a command writes ------------------------------------------------------------


def force_option(f: F) -> F:
    return click.option(
        "--force", is_flag=True, help="Replace the output file if it exists (default: refuse)."
    )(f)


def check_target(path: Path, force: bool) -> None:
    """Refuse an output path before any work: a folder, a missing folder, or (without
    ``--force``) a file that exists."""
    if path.is_dir():
        raise Fail(f"{str(path)!r} is a folder; name a file to write")
    if not path.parent.is_dir():
        raise Fail(f"cannot write {str(path)!r}: the folder {str(path.parent)!r} does not exist")
    if path.exists() and not force:
        raise Fail(f"{str(path)!r} exists; pass --force to replace it")


def new_file_mode() -> int:
    """The mode a new file gets here: 0o666 less the umask."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def place(tmp: Path, path: Path, force: bool) -> None:
    """Move the finished file ``tmp`` to ``path`` in one step: over an existing file only
    with ``force`` (without it, a file that appeared meanwhile is refused, not replaced)."""
    if force:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)  # fails if path exists: no window for a clobber
    except FileExistsError:
        raise Fail(f"{str(path)!r} exists; pass --force to replace it") from None
    except OSError:  # a file system without hard links
        if path.exists():
            raise Fail(f"{str(path)!r} exists; pass --force to replace it") from None
        os.replace(tmp, path)
    else:
        tmp.unlink()


@contextmanager
def new_file(path: Path, force: bool, mode: int | None = None) -> Iterator[Path]:
    """A temporary path beside ``path`` (with its suffix) to write; when the block ends
    normally the file becomes ``path`` at once, and on any failure it is removed, so
    ``path`` is whole or as it was. The file gets ``mode`` (default: 0o666 less the
    umask, as any new file)."""
    check_target(path, force)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        # The writers replace tmp with their own temporary file (mode 0600): set it now.
        os.chmod(tmp, new_file_mode() if mode is None else mode)
        place(tmp, path, force)
    finally:
        tmp.unlink(missing_ok=True)


def read_input(path: Path, what: str) -> bytes:
    """The bytes of an input file, or one clear line saying why not."""
    if not path.exists():
        raise Fail(f"no {what} at {str(path)!r}: the file does not exist")
    if not path.is_file():
        raise Fail(f"{what} {str(path)!r} is not a file")
    return path.read_bytes()
