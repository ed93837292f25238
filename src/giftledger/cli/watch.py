"""``giftledger watch``: the change feed, one line (or one JSON object) per entry."""

from __future__ import annotations

import json
from typing import Any

import click

import giftledger as gl

from ._common import SCHEMA, Fail, ledger_option, money_json, open_book, time_json

__all__ = ["watch"]


def _cursor(ctx: click.Context, param: click.Parameter, value: str | None) -> gl.FeedCursor:
    if value is None:
        return gl.FeedCursor.START
    try:
        return gl.FeedCursor.parse(value)
    except gl.InvalidArgument as exc:
        raise Fail(str(exc)) from None


def _json(entry: gl.Transaction) -> dict[str, Any]:
    event = gl.event_of(entry)
    return {
        "schema": SCHEMA,
        "command": "watch",
        "cursor": str(gl.FeedCursor.of(entry)),
        "id": entry.id,
        "kind": entry.kind.value,
        "event": None if event is None else type(event).__name__,
        "effective_at": time_json(entry.effective_at),
        "recorded_at": time_json(entry.recorded_at),
        "key": entry.key,
        "memo": entry.memo,
        "hold": entry.hold_id,
        "reverses": entry.reverses,
        "postings": [
            {"account": p.account, "side": p.side.value, "amount": money_json(p.amount)}
            for p in entry.postings
        ],
    }


def _line(entry: gl.Transaction) -> str:
    event = gl.event_of(entry)
    parts = [
        str(entry.id),
        entry.kind.value,
        time_json(entry.effective_at) or "",
        "-" if event is None else type(event).__name__,
        f"{len(entry.postings)} posting{'' if len(entry.postings) == 1 else 's'}",
    ]
    if entry.memo:
        parts.append(repr(entry.memo if len(entry.memo) <= 60 else entry.memo[:59] + "…"))
    parts.append(f"cursor={gl.FeedCursor.of(entry)}")
    return "  ".join(parts)


@click.command()
@ledger_option
@click.option(
    "--from",
    "after",
    metavar="CURSOR",
    callback=_cursor,
    help="Start after this cursor ('<id>:<hash>' as printed, or an entry id); default: "
    "the start of the journal.",
)
@click.option("--follow", is_flag=True, help="Keep waiting for new entries (Ctrl-C to stop).")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="With --follow: stop after this many seconds without a new entry.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object a line.")
def watch(
    ledger: str, after: gl.FeedCursor, follow: bool, timeout: float | None, as_json: bool
) -> None:
    """Print the change feed: every journal entry after a cursor, in order.

    A line gives the entry's id, kind, effective time, chain event (GiftReceived,
    WithdrawalPaid … or -), postings, memo and the cursor to pass to --from to resume
    after it. JSON lines keys: schema, command, cursor, id, kind, event, effective_at,
    recorded_at, key, memo, hold, reverses, postings: [{account, side, amount}].
    """
    if timeout is not None and not follow:
        raise click.UsageError("--timeout needs --follow")
    with open_book(ledger) as book:
        for entry in book.changes(after, follow=follow, timeout=timeout):
            if as_json:
                click.echo(json.dumps(_json(entry), ensure_ascii=False))
            else:
                click.echo(_line(entry))
