"""``giftledger balances``, ``history`` and ``verify``: the ledger itself."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

import giftledger as gl

from ._common import (
    Fail,
    chain_of,
    console,
    echo_json,
    json_option,
    ledger_option,
    locale_option,
    money_json,
    open_book,
    progress_bar,
    rules_options,
    time_json,
)
from .keys import public_key_option, read_checkpoint, read_public_key

__all__ = ["balances", "history", "verify"]


@click.command()
@click.argument("prefix", required=False, default="")
@ledger_option
@locale_option
@json_option
def balances(prefix: str, ledger: str, locale: str, as_json: bool) -> None:
    """Posted balances of the accounts whose names start with PREFIX (default: all).

    JSON keys: ledger, prefix, balances: [{account, balance}] (balance a money object),
    sorted by account name.
    """
    with open_book(ledger) as book:
        found = book.balances(prefix)
        url = book.store.url
    rows = sorted(found.items())
    if as_json:
        echo_json(
            "balances",
            {
                "ledger": url,
                "prefix": prefix,
                "balances": [{"account": a, "balance": money_json(m)} for a, m in rows],
            },
        )
        return
    if not rows:
        click.echo(f"no account starts with {prefix!r}")
        return
    table = Table("account", "balance")
    table.columns[1].justify = "right"
    for name, money in rows:
        table.add_row(name, gl.format_money(money, locale))
    console().print(table)


@click.command()
@click.argument("account")
@ledger_option
@locale_option
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--after", type=click.IntRange(0), metavar="ID", help="Entries after this id.")
@json_option
def history(
    account: str, ledger: str, locale: str, limit: int, after: int | None, as_json: bool
) -> None:
    """The postings of ACCOUNT, oldest first, with the balance after each.

    JSON keys: account, entries: [{transaction, kind, effective_at, memo, side, amount,
    balance_after}], next_cursor (pass it as --after for the next page, or null).
    """
    with open_book(ledger) as book:
        book.account(account)  # UnknownAccount, before anything else
        page = book.history(account, after=after, limit=limit)
    if as_json:
        echo_json(
            "history",
            {
                "account": account,
                "entries": [
                    {
                        "transaction": e.transaction.id,
                        "kind": e.transaction.kind.value,
                        "effective_at": time_json(e.transaction.effective_at),
                        "memo": e.transaction.memo,
                        "side": e.posting.side.value,
                        "amount": money_json(e.posting.amount),
                        "balance_after": money_json(e.balance_after),
                    }
                    for e in page.items
                ],
                "next_cursor": page.next_cursor,
            },
        )
        return
    table = Table("#", "effective", "memo", "debit", "credit", "balance", title=account)
    for col in table.columns[3:]:
        col.justify = "right"
    for e in page.items:
        amount = gl.format_money(e.posting.amount, locale)
        debit = amount if e.posting.side is gl.Side.DEBIT else ""
        credit = amount if e.posting.side is gl.Side.CREDIT else ""
        table.add_row(
            str(e.transaction.id),
            e.transaction.effective_at.strftime("%Y-%m-%d %H:%M"),
            e.transaction.memo,
            debit,
            credit,
            gl.format_money(e.balance_after, locale),
        )
    console().print(table)
    if page.next_cursor is not None:
        click.echo(f"more: --after {page.next_cursor}")


@click.command()
@ledger_option
@rules_options
@click.option(
    "--since",
    "since_file",
    type=click.Path(path_type=Path),
    metavar="CHECKPOINT.json",
    help="A checkpoint published earlier: also prove the books only grew since it.",
)
@public_key_option
@json_option
def verify(
    ledger: str,
    preset: str | None,
    economy_file: Path | None,
    since_file: Path | None,
    public_key_file: Path | None,
    as_json: bool,
) -> None:
    """Re-check the hash chain, every invariant and, in a gift chain, every chain record.

    With --since CHECKPOINT.json (from 'giftledger checkpoint'), also prove the
    books only grew since that checkpoint: a truncation, or entries rewritten even
    with every later hash recomputed, is an error naming what differs. With
    --public-key, the checkpoint's signature is checked first.

    A big book shows a progress bar on stderr (in a terminal). JSON keys: ledger,
    entries (how many were checked), head (the last entry's hash), chain (whether
    chain records were checked too), since (the checkpoint's size and root, or null).
    """
    since = None
    if since_file is not None:
        since = read_checkpoint(since_file)
        if public_key_file is not None:
            since.verify_signature(read_public_key(public_key_file))
    elif public_key_file is not None:
        raise Fail("--public-key checks a checkpoint's signature: give --since CHECKPOINT.json")
    with open_book(ledger) as book:
        try:
            app: gl.GiftEconomy | None = gl.GiftEconomy.from_ledger(book)
        except gl.UnknownRule:
            app = None  # the books of the core alone: no chain records to check
        if app is not None and (preset is not None or economy_file is not None):
            app = chain_of(book, preset, economy_file)
        with progress_bar("verifying") as progress:
            if app is not None:
                count = app.verify(since, progress=progress)
            else:
                count = book.verify(since, progress=progress)
        head = book.head
        url = book.store.url
    if as_json:
        grew = None if since is None else {"size": since.size, "root": since.root}
        echo_json(
            "verify",
            {
                "ledger": url,
                "entries": count,
                "head": head[1],
                "chain": app is not None,
                "since": grew,
            },
        )
        return
    what = "entries and their chain records" if app is not None else "entries"
    click.echo(f"{count} {what} verified in {url}; head {head[1][:16]}…")
    if since is not None:
        signed = " (signature checked)" if public_key_file is not None else ""
        click.echo(
            f"the books grew from the checkpoint of {since.size} entries "
            f"(root {since.root[:16]}…){signed}"
        )
