"""The change feed on every store: order, resume, rewritten journals, following, consume."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import giftledger as gl

from .conftest import OpenBook


def _setup(book: gl.Ledger) -> list[gl.Transaction]:
    """Open the two accounts; return the journal so far: one ACCOUNT entry per account, which
    the feed carries like any other entry."""
    book.open_account("assets:bank", "USD")
    book.open_account("equity:owner", "USD", normal="credit")
    opened = list(book.transactions())
    assert [e.kind for e in opened] == [gl.EntryKind.ACCOUNT] * 2
    return opened


def _ids(entries: list[gl.Transaction]) -> list[int]:
    return [e.id for e in entries]


def _pay(book: gl.Ledger, n: int) -> list[gl.Transaction]:
    return [book.transfer("assets:bank", "equity:owner", f"{i + 1}.00") for i in range(n)]


def test_feed_yields_every_entry_in_order_and_resumes_after_a_cursor(book: gl.Ledger) -> None:
    opened = _setup(book)
    hold = book.hold("assets:bank", "equity:owner", "1.00")
    written = _pay(book, 3)
    book.void_hold(hold)
    everything = list(book.transactions())
    assert list(book.changes()) == everything
    assert [e.kind for e in book.changes()] == [e.kind for e in everything]
    assert everything[: len(opened)] == opened  # the account entries come first
    cursor = gl.FeedCursor.of(written[0])
    after_first = _ids(everything[everything.index(written[0]) + 1 :])
    assert after_first == [*_ids(written[1:]), everything[-1].id]
    assert everything[-1].kind is gl.EntryKind.VOID_HOLD
    assert [e.id for e in book.changes(after=cursor)] == after_first
    assert [e.id for e in book.changes(after=str(cursor))] == after_first
    assert [e.id for e in book.changes(after=gl.FeedCursor(written[0].id))] == after_first
    assert list(book.changes(after=gl.FeedCursor.of(everything[-1]))) == []


def test_feed_without_follow_ends_at_the_head_when_it_started(book: gl.Ledger) -> None:
    opened = _setup(book)
    paid = _pay(book, 3)
    seen = []
    late: list[gl.Transaction] = []
    for entry in book.changes():
        seen.append(entry.id)
        if entry.id == opened[0].id:
            late = _pay(book, 2)  # written while iterating: after the starting head
    assert seen == _ids(opened + paid)
    assert _ids(late) == [paid[-1].id + 1, paid[-1].id + 2]
    assert [e.id for e in book.changes(after=gl.FeedCursor.of(paid[-1]))] == _ids(late)


def test_a_cursor_whose_hash_differs_is_refused(book: gl.Ledger) -> None:
    _setup(book)
    first = _pay(book, 2)[0]
    forged = gl.FeedCursor(first.id, "0" * 63 + "1")
    with pytest.raises(gl.CursorMismatch, match="does not match the journal"):
        list(book.changes(after=forged))
    beyond = gl.FeedCursor(9, "a" * 64)
    with pytest.raises(gl.CursorMismatch, match="past the journal's end"):
        list(book.changes(after=beyond))


def test_a_cursor_from_another_journal_is_refused_on_reopen(open_book: OpenBook) -> None:
    one = open_book()
    _setup(one)
    cursor = gl.FeedCursor.of(_pay(one, 2)[1])
    other = gl.Ledger()
    _setup(other)
    other.transfer("assets:bank", "equity:owner", "9.99")
    other.transfer("assets:bank", "equity:owner", "9.99")
    with pytest.raises(gl.CursorMismatch):
        next(iter(other.changes(after=cursor)))
    assert list(open_book().changes(after=cursor)) == []


@pytest.mark.parametrize(
    "bad",
    [
        "x",
        "1:abc",
        "-1",
        3,
        1.5,
        gl.FeedCursor.START.hash,
    ],
)
def test_malformed_cursors_are_refused_when_called(book: gl.Ledger, bad: Any) -> None:
    with pytest.raises(gl.InvalidArgument, match=r"cursor|after"):
        book.changes(after=bad)


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"follow": 1}, "follow"),
        ({"timeout": -1}, "timeout"),
        ({"timeout": float("nan")}, "timeout"),
        ({"max_delay": "1"}, "max_delay"),
        # 0 (or less than the first poll's wait) polls without pausing: a follower of an
        # idle journal spun a core (SQLite: 2.2 s of CPU in 5 s; memory: 3.2 s).
        ({"max_delay": 0}, "max_delay"),
        ({"max_delay": 0.001}, "max_delay"),
        ({"max_delay": float("inf")}, "max_delay"),
        ({"max_delay": float("nan")}, "max_delay"),
        ({"max_delay": 10**9}, "max_delay"),
    ],
)
def test_bad_follow_options_are_refused(book: gl.Ledger, kwargs: Any, word: str) -> None:
    with pytest.raises(gl.InvalidArgument, match=word):
        book.changes(**kwargs)


def test_follow_delivers_entries_written_by_another_thread(book: gl.Ledger) -> None:
    before = _setup(book) + _pay(book, 2)

    def writer() -> None:
        for _ in range(5):
            time.sleep(0.02)
            book.transfer("assets:bank", "equity:owner", "1.00")

    thread = threading.Thread(target=writer)
    thread.start()
    seen = []
    for entry in book.changes(follow=True, timeout=2.0, max_delay=0.05):
        seen.append(entry.id)
        if len(seen) == len(before) + 5:
            break
    thread.join()
    everything = list(book.transactions())
    assert seen == _ids(everything)
    assert [e.kind for e in everything[len(before) :]] == [gl.EntryKind.POST] * 5


def test_an_idle_follower_sleeps_between_polls(book: gl.Ledger) -> None:
    head = gl.FeedCursor.of(_setup(book)[-1])
    started = time.process_time()
    assert list(book.changes(after=head, follow=True, timeout=0.6, max_delay=0.01)) == []
    # Polling every 10 ms costs well under a tenth of the time waited; a loop that does
    # not pause uses all of it.
    assert time.process_time() - started < 0.3


def test_follow_with_a_timeout_returns_when_nothing_comes(book: gl.Ledger) -> None:
    written = _setup(book) + _pay(book, 1)
    started = time.monotonic()
    assert [e.id for e in book.changes(follow=True, timeout=0.2, max_delay=0.05)] == _ids(written)
    assert time.monotonic() - started >= 0.2


def test_a_rolled_back_batch_is_never_delivered(book: gl.Ledger) -> None:
    written = _setup(book) + _pay(book, 1)
    with pytest.raises(gl.GiftLedgerError):
        book.post_many(
            [
                [gl.debit("assets:bank", "1.00"), gl.credit("equity:owner", "1.00")],
                [gl.debit("assets:bank", "1.00"), gl.credit("nowhere", "1.00")],
            ]
        )
    assert [e.id for e in book.changes()] == _ids(written)
    assert list(book.transactions()) == written


class _LateStore:
    """A store whose readers do not see entry ``late`` for the first ``polls`` reads, as if
    it had committed after the entries that follow it."""

    def __init__(self, inner: Any, late: int, polls: int) -> None:
        self._inner = inner
        self.url = inner.url
        self._late = late
        self.polls = polls

    @contextmanager
    def read(self) -> Iterator[Any]:
        hide = self.polls > 0
        self.polls -= 1
        with self._inner.read() as r:
            yield _HidingReader(r, self._late if hide else None)

    def write(self, dry_run: bool = False) -> Any:
        return self._inner.write(dry_run)

    def close(self) -> None:
        self._inner.close()


class _HidingReader:
    def __init__(self, inner: Any, hidden: int | None) -> None:
        self._inner = inner
        self._hidden = hidden

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def transactions(self, start: int = 1, stop: int | None = None) -> Iterator[gl.Transaction]:
        return (e for e in self._inner.transactions(start, stop) if e.id != self._hidden)


def test_an_id_not_yet_visible_is_waited_for_not_skipped() -> None:
    inner = gl.Ledger()
    opened = _setup(inner)
    paid = _pay(inner, 5)
    hidden = paid[2]  # the third payment, with entries on both sides of it
    late = _LateStore(inner.store, late=hidden.id, polls=3)
    book = gl.Ledger(late)  # type: ignore[arg-type]
    seen = [e.id for e in book.changes(follow=True, timeout=1.0, max_delay=0.01)]
    assert seen == _ids(opened + paid)
    assert late.polls < 0  # it did poll while the entry was hidden
    late.polls = 2
    # without follow: stops before the gap
    assert [e.id for e in book.changes()] == _ids(opened + paid[:2])


def test_consume_saves_the_cursor_after_each_entry_and_resumes(
    book: gl.Ledger, tmp_path: Path
) -> None:
    opened = _setup(book)
    paid = _pay(book, 4)
    crash = paid[2].id
    (tmp_path / "w").mkdir()
    saved = gl.FileCursor(tmp_path / "w" / "worker.cursor")
    seen: list[int] = []

    def handler(entry: gl.Transaction) -> None:
        if entry.id == crash and crash not in seen:
            seen.append(entry.id)
            raise RuntimeError("crash while handling the third payment")
        seen.append(entry.id)

    with pytest.raises(RuntimeError):
        book.consume(handler, saved)
    assert saved.load() == gl.FeedCursor.of(paid[1])
    paid += _pay(book, 1)
    last = book.consume(handler, saved)
    assert last == gl.FeedCursor.of(paid[-1]) == saved.load()
    # the crashed entry again: at least once, then exactly
    assert seen == _ids(opened + paid[:3]) + _ids(paid[2:])
    assert (tmp_path / "w" / "worker.cursor").read_text() == f"{last}\n"
    assert [p.name for p in (tmp_path / "w").iterdir()] == ["worker.cursor"]  # no temporary left


def test_consume_refuses_bad_arguments(book: gl.Ledger, tmp_path: Path) -> None:
    with pytest.raises(gl.InvalidArgument, match="handler"):
        book.consume(3, gl.FileCursor(tmp_path / "c"))  # type: ignore[arg-type]
    with pytest.raises(gl.InvalidArgument, match="FileCursor"):
        book.consume(print, str(tmp_path / "c"))  # type: ignore[arg-type]
    (tmp_path / "junk").write_text("not a cursor")
    with pytest.raises(gl.InvalidArgument, match="feed cursor"):
        gl.FileCursor(tmp_path / "junk").load()


def test_cursor_text_round_trips(book: gl.Ledger) -> None:
    opened = _setup(book)
    entry = _pay(book, 1)[0]
    assert entry.id == len(opened) + 1
    cursor = gl.FeedCursor.of(entry)
    assert str(cursor) == f"{len(opened) + 1}:{entry.hash}"
    assert gl.FeedCursor.parse(str(cursor)) == cursor
    assert gl.FeedCursor.parse(" 7 \n") == gl.FeedCursor(7)


def _hostile(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / "worker.cursor"
    if kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)  # opening it to read would block until a writer comes
    elif kind == "huge":
        path.write_bytes(b"1" * 10_000_000)
    elif kind == "binary":
        path.write_bytes(b"\xff\xfe1:" + b"\x00" * 64)
    elif kind == "truncated":
        path.write_text("12:abc")
    elif kind == "empty":
        path.write_text("")
    elif kind == "unreadable":
        path.write_text("3")
        path.chmod(0)
    return path


@pytest.mark.parametrize(
    "kind", ["directory", "fifo", "huge", "binary", "truncated", "empty", "unreadable"]
)
def test_a_hostile_cursor_file_is_one_clear_error_naming_it(tmp_path: Path, kind: str) -> None:
    if kind == "fifo" and not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    if kind == "unreadable" and (not hasattr(os, "geteuid") or os.geteuid() == 0):
        pytest.skip("root reads any file")
    path = _hostile(tmp_path, kind)
    cursors = gl.FileCursor(path)
    with pytest.raises(gl.InvalidArgument, match="cursor file") as caught:
        cursors.load()
    assert str(path) in str(caught.value)
    assert len(str(caught.value)) < 600  # the file's content is not repeated whole


def test_a_cursor_that_cannot_be_saved_is_an_error_and_the_old_one_stays(
    book: gl.Ledger, tmp_path: Path
) -> None:
    opened = _setup(book)
    entry = _pay(book, 1)[0]
    as_dir = tmp_path / "dir.cursor"
    as_dir.mkdir()
    with pytest.raises(gl.InvalidArgument, match="cannot save cursor file"):
        gl.FileCursor(as_dir).save(gl.FeedCursor.of(entry))
    assert as_dir.is_dir()
    assert list(as_dir.iterdir()) == []
    nowhere = gl.FileCursor(tmp_path / "missing" / "c")
    with pytest.raises(gl.InvalidArgument, match="cannot save cursor file"):
        nowhere.save(gl.FeedCursor.of(entry))
    # consume: the handler ran, the cursor could not be saved: the run stops there
    seen: list[int] = []
    with pytest.raises(gl.InvalidArgument, match="cannot save"):
        book.consume(lambda e: seen.append(e.id), nowhere)
    assert seen == [opened[0].id]  # the first entry was handled, then the run stopped
    assert not list(tmp_path.rglob(".*"))  # no temporary file left behind


def test_a_cursor_file_behind_a_symlink_is_read_and_replaced(
    book: gl.Ledger, tmp_path: Path
) -> None:
    _setup(book)
    first, second = _pay(book, 2)
    target = tmp_path / "real.cursor"
    gl.FileCursor(target).save(gl.FeedCursor.of(first))
    link = tmp_path / "link.cursor"
    link.symlink_to(target)
    assert gl.FileCursor(link).load() == gl.FeedCursor.of(first)
    gl.FileCursor(link).save(gl.FeedCursor.of(second))
    assert gl.FileCursor(link).load() == gl.FeedCursor.of(second)


def test_a_handler_that_raises_leaves_the_cursor_on_the_entry_before(
    book: gl.Ledger, tmp_path: Path
) -> None:
    opened = _setup(book)
    entries = _pay(book, 3)
    saved = gl.FileCursor(tmp_path / "c")
    handled: list[int] = []

    def handler(entry: gl.Transaction) -> None:
        if entry.id == entries[1].id:
            raise RuntimeError("the payment service is down")
        handled.append(entry.id)

    with pytest.raises(RuntimeError):
        book.consume(handler, saved)
    assert saved.load() == gl.FeedCursor.of(entries[0])
    assert handled == _ids(opened + entries[:1])
    seen: list[int] = []
    assert book.consume(lambda e: seen.append(e.id), saved) == gl.FeedCursor.of(entries[2])
    assert seen == _ids(entries[1:])
