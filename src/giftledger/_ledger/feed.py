"""The change feed: the journal's entries in id order, from a durable cursor.

The journal is the source of truth. Every change a ledger records is an entry
(postings, holds and their settlement, reversals, notes, and whatever other
kinds of entry the journal holds), so a consumer that reads the entries in id
order after a saved position has seen every change, in the order the ledger
made them. :meth:`FeedMixin.changes` yields them; a :class:`FeedCursor` is the
position to save: the id of the last entry processed and that entry's hash.

Guarantees, on every store:

- **In order, no gaps, no repeats.** Entries come in id order; ids have no
  gaps, so the feed delivers only a contiguous run after the cursor. If an id
  is missing (not yet visible), the feed waits for it instead of skipping it.
- **Committed and durable only.** Memory: a reader takes the store's lock, so
  it never sees a write still open. SQLite (WAL, ``synchronous=FULL``): a
  commit is synced to the WAL before readers can see it. PostgreSQL: a writer
  that other writers queue behind commits without waiting for the WAL flush
  (it releases the chain's head at once, then waits for durability before it
  acknowledges), so a reader may see a commit before it is durable; the feed
  therefore calls the store's ``durable_barrier()`` after each read and before
  it yields anything: a small commit that waits for the WAL flush, and whose
  commit record follows every commit the read could see.
- **Commit order is id order on PostgreSQL.** A writer reads the head and
  assigns the next id while it holds the chain's head lock (a transaction
  advisory lock), and releases it only when its COMMIT is visible, so the next
  writer's id is higher and commits later; a snapshot that sees id N sees every
  id below it. The gap check above makes the feed safe even if that changed.
- **Rewritten stores are noticed.** A cursor holds the hash of its entry; the
  feed refuses to resume (:class:`~giftledger.CursorMismatch`) when the journal
  no longer holds that entry with that hash (a store restored from an older
  backup, or rewritten), or when an entry does not chain onto the one before.

Exactly once. The feed delivers at least once: a consumer that crashes after
processing an entry and before saving its cursor gets that entry again. A
consumer whose effect is idempotent (an idempotency key derived from the
entry's id, as in the payout-worker how-to), or that saves its cursor in the
same atomic write as its effect, sees every entry exactly once.
:meth:`FeedMixin.consume` runs a handler over the feed and saves the cursor in
a :class:`FileCursor` after each entry.

Waiting (``follow=True``): the memory store wakes followers with a condition
variable; SQLite and PostgreSQL are polled by id with back-off (from 10 ms,
doubling up to ``max_delay``). PostgreSQL's LISTEN/NOTIFY is not used: a NOTIFY
takes a database-wide queue lock at commit, which would serialise the writers
that the head's early release keeps apart (see ``benchmarks/feed_postgres.py``).
"""

from __future__ import annotations

import errno
import os
import re
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

import attrs

from .._boundary import boundary_methods, shown
from .._errors import CursorMismatch, InvalidArgument
from .hashing import GENESIS_HASH
from .model import Transaction
from .writes import WriteCore

__all__ = ["FeedCursor", "FeedMixin", "FileCursor"]

#: Entries read per turn of the store's read lock.
_CHUNK = 500
#: The first wait between polls, in seconds; it doubles up to ``max_delay``.
_MIN_DELAY = 0.01
#: The longest ``max_delay`` allowed, in seconds.
_MAX_DELAY = 3600.0
_HASH = re.compile(r"[0-9a-f]{64}")
#: The most a cursor file may hold: a cursor is at most 19 + 1 + 64 characters.
_CURSOR_FILE_MAX = 256
_CURSOR = re.compile(r"(0|[1-9][0-9]{0,18})(?::([0-9a-f]{64}))?")


@attrs.frozen(slots=True)
class FeedCursor:
    """A position in the journal's change feed: after entry ``id``, whose hash is ``hash``.

    Save it (``str(cursor)``) after processing an entry and pass it back to
    :meth:`Ledger.changes <giftledger.Ledger.changes>` to resume after that
    entry. The hash lets the feed notice a journal that no longer holds that
    entry as it was (a store restored from an older copy).

    Attributes:
        id: the last entry processed (0: none, the start of the journal).
        hash: that entry's hash (the genesis hash for id 0), or None to resume
            by id alone, unchecked.

    Example:
        >>> import giftledger as gl
        >>> cursor = gl.FeedCursor.parse("0")
        >>> cursor
        FeedCursor(id=0, hash=None)
        >>> gl.FeedCursor.parse(str(gl.FeedCursor.START)) == gl.FeedCursor.START
        True
    """

    id: int
    hash: str | None = None

    #: The start of the journal: before entry 1 (id 0, the genesis hash).
    START: ClassVar[FeedCursor]

    def __attrs_post_init__(self) -> None:
        if isinstance(self.id, bool) or not isinstance(self.id, int) or not 0 <= self.id < 1 << 63:
            raise InvalidArgument(
                f"feed cursor id {shown(self.id)} must be an int >= 0 (an entry id)"
            )
        if self.hash is not None and (
            not isinstance(self.hash, str) or not _HASH.fullmatch(self.hash)
        ):
            raise InvalidArgument(
                f"feed cursor hash {shown(self.hash)} must be 64 lower-case hex digits or None"
            )

    @classmethod
    def of(cls, entry: Transaction) -> FeedCursor:
        """The cursor just after ``entry``.

        Raises:
            InvalidArgument: ``entry`` is not a Transaction.
        """
        if not isinstance(entry, Transaction):
            raise InvalidArgument(f"{shown(entry)} is not a giftledger.Transaction")
        return cls(entry.id, entry.hash)

    @classmethod
    def parse(cls, text: str) -> FeedCursor:
        """Read a cursor written by ``str()``: ``"<id>:<hash>"``, or ``"<id>"`` alone.

        Raises:
            InvalidArgument: ``text`` is not a cursor.
        """
        found = _CURSOR.fullmatch(text.strip()) if isinstance(text, str) else None
        if found is None:
            raise InvalidArgument(
                f"feed cursor {shown(text)} must be '<entry id>:<64 hex digits>' or an entry id"
            )
        return cls(int(found.group(1)), found.group(2))

    def __str__(self) -> str:
        return str(self.id) if self.hash is None else f"{self.id}:{self.hash}"


FeedCursor.START = FeedCursor(0, GENESIS_HASH)


def as_cursor(value: object) -> FeedCursor:
    """``None`` (the start), a :class:`FeedCursor` or its text, as a cursor."""
    if value is None:
        return FeedCursor.START
    if isinstance(value, FeedCursor):
        return value
    if isinstance(value, str):
        return FeedCursor.parse(value)
    raise InvalidArgument(
        f"after {shown(value)} must be None, a giftledger.FeedCursor or its text '<id>:<hash>'"
    )


class FileCursor:
    """A feed cursor kept in a file, replaced atomically each time it is saved.

    The file holds one line, ``str(cursor)``. :meth:`save` writes a temporary
    file beside it, syncs it to disk and renames it over the old one, so a
    process killed at any moment leaves either the old cursor or the new one,
    never half of one.

    Args:
        path: the file (created by the first :meth:`save`).

    Example:
        >>> import giftledger as gl, tempfile, os
        >>> cursors = gl.FileCursor(os.path.join(tempfile.mkdtemp(), "worker.cursor"))
        >>> cursors.load()
        FeedCursor(id=0, hash=None)
        >>> cursors.save(gl.FeedCursor(3, "ab" * 32))
        >>> cursors.load().id
        3
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        if not isinstance(path, str | os.PathLike):
            raise InvalidArgument(f"cursor file {shown(path)} must be a path")
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"<FileCursor {str(self.path)!r}>"

    def load(self) -> FeedCursor:
        """The saved cursor, or the start of the journal when nothing was saved yet.

        The start is returned without a hash (``FeedCursor(0)``), so it
        matches any journal.

        Raises:
            InvalidArgument: the path is not a regular file holding a cursor, or
                cannot be read.
        """
        where = str(self.path)
        try:
            if not stat.S_ISREG(os.stat(self.path).st_mode):  # never open a FIFO or device
                raise InvalidArgument(f"cursor file {where!r} is not a regular file")
            with open(self.path, "rb") as f:
                raw = f.read(_CURSOR_FILE_MAX + 1)
        except FileNotFoundError:
            return FeedCursor(0)
        except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
            raise InvalidArgument(f"cannot read cursor file {where!r}: {exc}") from None
        try:
            if len(raw) > _CURSOR_FILE_MAX:
                raise InvalidArgument(f"it holds more than {_CURSOR_FILE_MAX} bytes")
            return FeedCursor.parse(raw.decode("utf-8"))
        except (InvalidArgument, UnicodeDecodeError) as exc:
            raise InvalidArgument(
                f"cursor file {where!r} does not hold a feed cursor ({exc}); restore it from a "
                f"backup or remove it to start from the beginning of the journal"
            ) from None

    def save(self, cursor: FeedCursor) -> None:
        """Replace the saved cursor with ``cursor``, durably.

        Raises:
            InvalidArgument: ``cursor`` is not a FeedCursor, or the file cannot be
                written (the saved cursor is then unchanged).
        """
        if not isinstance(cursor, FeedCursor):
            raise InvalidArgument(f"{shown(cursor)} is not a giftledger.FeedCursor")
        try:
            self._replace(cursor)
        except (OSError, ValueError) as exc:
            raise InvalidArgument(f"cannot save cursor file {str(self.path)!r}: {exc}") from None

    def _replace(self, cursor: FeedCursor) -> None:
        folder = self.path.parent
        if self.path.is_dir():
            raise IsADirectoryError(errno.EISDIR, "it is a directory")
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(f"{cursor}\n")
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable
            dfd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)


def _check_wait(follow: object, timeout: object, max_delay: object) -> None:
    if not isinstance(follow, bool):
        raise InvalidArgument(f"follow {shown(follow)} must be True or False")
    for what, value in (("timeout", timeout), ("max_delay", max_delay)):
        if value is None and what == "timeout":
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
            raise InvalidArgument(f"{what} {shown(value)} must be a number of seconds >= 0")
    # A follower waits at least the first poll's delay between two polls (else an idle
    # one spins a core), and at most an hour (else it stops noticing new entries).
    if not _MIN_DELAY <= max_delay <= _MAX_DELAY:  # type: ignore[operator]
        raise InvalidArgument(
            f"max_delay {shown(max_delay)} must be between {_MIN_DELAY} and {_MAX_DELAY} seconds"
        )


@boundary_methods
class FeedMixin(WriteCore):
    """The change feed of :class:`~giftledger.Ledger`."""

    def changes(
        self,
        after: FeedCursor | str | None = None,
        *,
        follow: bool = False,
        timeout: float | None = None,
        max_delay: float = 1.0,
    ) -> Iterator[Transaction]:
        """The journal's entries after ``after``, in id order: the change feed.

        Every change the ledger records is an entry, so this is every change.
        Save ``gl.FeedCursor.of(entry)`` after processing an entry and pass it
        back as ``after`` to resume; see the module notes in
        :class:`~giftledger.FeedCursor` for what is guaranteed.

        Args:
            after: where to start: None for the start of the journal, a
                :class:`~giftledger.FeedCursor` or its text.
            follow: go on waiting for new entries once the journal's end is
                reached (memory: woken by the writer; SQLite and PostgreSQL:
                polled by id with back-off). Without it the feed ends at the
                head as it was when the feed started.
            timeout: with ``follow``, stop after this many seconds without a
                new entry (None: never stop; close the generator to end).
            max_delay: with ``follow``, the longest wait between two polls
                (0.01 to 3600 seconds).

        Returns:
            An iterator of :class:`~giftledger.Transaction`; the store is not
            locked while the caller holds an entry.

        Raises:
            CursorMismatch: (while iterating) the journal no longer holds the
                cursor's entry with its hash, or was cut back below it.
            InvalidArgument: a malformed cursor, timeout or delay (a negative or NaN
                timeout, a ``max_delay`` outside 0.01 to 3600 seconds).

        Example:
            >>> import giftledger as gl
            >>> book = gl.Ledger()
            >>> _ = book.open_account("assets:bank", "USD")
            >>> _ = book.open_account("equity:owner", "USD", normal="credit")
            >>> first = book.transfer("assets:bank", "equity:owner", "5.00")
            >>> cursor = gl.FeedCursor.of(first)
            >>> second = book.transfer("assets:bank", "equity:owner", "7.00")
            >>> [(entry.id, entry.kind.value) for entry in book.changes()]
            [(1, 'account'), (2, 'account'), (3, 'post'), (4, 'post')]
            >>> [entry.id for entry in book.changes(after=str(cursor))] == [second.id]
            True
        """
        cursor = as_cursor(after)
        _check_wait(follow, timeout, max_delay)
        return self._feed(cursor, follow, timeout, float(max_delay))

    def _feed(
        self, cursor: FeedCursor, follow: bool, timeout: float | None, max_delay: float
    ) -> Iterator[Transaction]:
        store = self.store
        barrier: Callable[[], None] | None = getattr(store, "durable_barrier", None)
        waiter: Callable[[int, float | None], bool] | None = getattr(
            store, "wait_for_entries", None
        )
        last_id, last_hash = cursor.id, cursor.hash
        stop: int | None = None  # without follow: the head when the feed starts
        checked = False
        delay = _MIN_DELAY
        idle_since = time.monotonic()
        while True:
            with store.read() as r:
                head = r.head()[0]
                if head < last_id:
                    raise CursorMismatch(
                        f"feed cursor {cursor} is past the journal's end (entry {head}): the "
                        f"store was rolled back or replaced; start again from a cursor it holds"
                    )
                if not checked:
                    checked = True
                    if last_hash is not None and last_id > 0:
                        at = r.transaction(last_id)
                        if at is None or at.hash != last_hash:
                            raise CursorMismatch(
                                f"feed cursor {cursor} does not match the journal: entry "
                                f"{last_id} has hash {None if at is None else at.hash}; the "
                                f"store was rewritten or restored from another copy"
                            )
                if stop is None and not follow:
                    stop = head
                end = head if stop is None else min(head, stop)
                hi = min(end, last_id + _CHUNK)
                batch = list(r.transactions(last_id + 1, hi + 1)) if hi > last_id else []
            if batch and barrier is not None:
                barrier()  # nothing is delivered before it is durable
            delivered = 0
            for entry in batch:
                if entry.id != last_id + 1:
                    break  # an id not visible yet: wait for it, never skip it
                if last_hash is not None and entry.prev_hash != last_hash:
                    raise CursorMismatch(
                        f"entry {entry.id} does not chain onto entry {last_id} as the feed "
                        f"delivered it (prev_hash {entry.prev_hash}, expected {last_hash}): the "
                        f"journal was rewritten"
                    )
                yield entry
                delivered += 1
                last_id, last_hash = entry.id, entry.hash
            if stop is not None and last_id >= stop:
                return
            if delivered:
                delay = _MIN_DELAY
                idle_since = time.monotonic()
                if follow and waiter is None and len(batch) < _CHUNK:
                    # Caught up with a polled store: pause before the next poll, so a
                    # steady stream is read in batches, not one query (and one
                    # durability barrier) per entry.
                    time.sleep(_MIN_DELAY)
                continue
            if not follow:
                return  # an id below the starting head is missing: nothing more to read
            left = None
            if timeout is not None:
                left = timeout - (time.monotonic() - idle_since)
                if left <= 0:
                    return
            if waiter is not None:
                waiter(last_id, max_delay if left is None else min(left, max_delay))
            else:
                time.sleep(delay if left is None else min(delay, left))
                delay = min(delay * 2, max_delay)

    def consume(
        self,
        handler: Callable[[Transaction], object],
        cursor: FileCursor,
        *,
        follow: bool = False,
        timeout: float | None = None,
        max_delay: float = 1.0,
    ) -> FeedCursor:
        """Run ``handler`` over the feed from the cursor saved in ``cursor``, saving it after each.

        The cursor is saved (atomically, durably) only after ``handler``
        returns, so an entry is handled at least once: a process killed between
        the two handles that entry again when restarted. Make the handler's
        effect idempotent (for example a ledger write under an idempotency key
        derived from ``entry.id``) and each entry takes effect exactly once. A
        handler that raises stops the run with the cursor on the entry before.

        Args:
            handler: called with each entry, in id order.
            cursor: where the cursor is kept (:class:`~giftledger.FileCursor`).
            follow: wait for new entries (see :meth:`changes`).
            timeout: with ``follow``, stop after this many idle seconds.
            max_delay: with ``follow``, the longest wait between two polls.

        Returns:
            The last cursor saved.

        Raises:
            CursorMismatch: the saved cursor does not match the journal.
            InvalidArgument: ``handler`` is not callable or ``cursor`` is not a
                FileCursor.

        Example:
            >>> import giftledger as gl, tempfile, os
            >>> book = gl.Ledger()
            >>> _ = book.open_account("assets:bank", "USD")
            >>> _ = book.open_account("equity:owner", "USD", normal="credit")
            >>> _ = book.transfer("assets:bank", "equity:owner", "5.00")
            >>> saved = gl.FileCursor(os.path.join(tempfile.mkdtemp(), "c"))
            >>> seen = []
            >>> book.consume(lambda entry: seen.append(entry.id), saved).id
            3
            >>> _ = book.transfer("assets:bank", "equity:owner", "1.00")
            >>> _ = book.consume(lambda entry: seen.append(entry.id), saved)
            >>> seen  # the two accounts' entries, then the two transfers
            [1, 2, 3, 4]
        """
        if not callable(handler):
            raise InvalidArgument(f"handler {shown(handler)} must be callable")
        if not isinstance(cursor, FileCursor):
            raise InvalidArgument(f"cursor {shown(cursor)} must be a giftledger.FileCursor")
        at = cursor.load()
        for entry in self.changes(at, follow=follow, timeout=timeout, max_delay=max_delay):
            handler(entry)
            at = FeedCursor.of(entry)
            cursor.save(at)
        return at
