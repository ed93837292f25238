"""``giftledger watch``: the change feed on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import giftledger as gl

from .conftest import Invoke, assert_one_error_line, snapshot


def test_watch_prints_every_entry_once_in_order_and_resumes_from_a_printed_cursor(
    workdir: Path, invoke: Invoke
) -> None:
    with gl.Ledger.open("sqlite:///giftledger-demo.db") as book:
        entries = list(book.transactions())
    result = invoke("watch")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [int(line.split()[0]) for line in lines] == [e.id for e in entries]
    assert [line.split()[1] for line in lines] == [e.kind.value for e in entries]
    events = [gl.event_of(e) for e in entries]
    # an entry the economy reads as an event names it; one that moves nothing (an account
    # opened, a note, a key) has none and shows "-"
    assert [line.split()[3] for line in lines] == [
        "-" if ev is None else type(ev).__name__ for ev in events
    ]
    assert any(ev is not None for ev in events)
    assert any(e.kind is gl.EntryKind.ACCOUNT for e in entries)
    # resume just before the first entry that moves money
    k = next(i for i, e in enumerate(entries) if e.postings) - 1
    cursor = lines[k].rsplit("cursor=", 1)[1]
    assert cursor == str(gl.FeedCursor.of(entries[k]))
    rest = invoke("watch", "--from", cursor, "--json")
    assert rest.exit_code == 0, rest.output
    rows = [json.loads(line) for line in rest.output.splitlines()]
    assert [r["id"] for r in rows] == [e.id for e in entries[k + 1 :]]
    first = rows[0]
    assert first["schema"] == "giftledger.cli/1"
    assert first["command"] == "watch"
    assert first["cursor"] == str(gl.FeedCursor.of(entries[k + 1]))
    assert first["postings"]
    assert first["postings"] == [
        {
            "account": p.account,
            "side": p.side.value,
            "amount": {"amount": str(p.amount.amount), "currency": p.unit},
        }
        for p in entries[k + 1].postings
    ]
    follow = invoke("watch", "--from", str(entries[-2].id), "--follow", "--timeout", "0.2")
    assert follow.exit_code == 0
    assert [int(line.split()[0]) for line in follow.output.splitlines()] == [entries[-1].id]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--from", "3:abc"], ["feed cursor", "3:abc"]),
        (["--from", "2:" + "0" * 64], ["does not match the journal"]),
        (["--from", "999999"], ["past the journal's end"]),
        (["--timeout", "1"], ["--timeout needs --follow"]),
        (["--ledger", "missing.db"], ["missing.db"]),
    ],
)
def test_watch_bad_arguments_are_one_error_line_and_write_nothing(
    workdir: Path, invoke: Invoke, args: list[str], words: list[str]
) -> None:
    before = snapshot(workdir)
    result = invoke("watch", *args)
    assert_one_error_line(result, *words)
    assert snapshot(workdir) == before
