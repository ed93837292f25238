"""Processes for the change-feed crash test: writers that post, a consumer that follows.

``python feed_worker.py write URL WHO COUNT`` posts COUNT transfers from its own account.
``python feed_worker.py consume URL LOG IDLE`` follows the feed from the cursor kept as the
last line of LOG and appends ``<id>:<hash>`` per entry, synced before the next: the log is
the consumer's effect and its cursor at once (one atomic append), so a consumer killed at
any moment and restarted has handled every entry exactly once. A torn last line (killed
mid-write) is dropped on restart: it was never completed, so it was not handled.
"""

from __future__ import annotations

import os
import sys

import giftledger as gl


def write(url: str, who: str, count: int) -> None:
    book = gl.Ledger.open(url)
    for i in range(count):
        book.transfer(f"writers:{who}", "sink", "0.01", key=f"{who}-{i}")
    book.close()


def consume(url: str, log: str, idle: float) -> None:
    lines = []
    if os.path.exists(log):
        with open(log, encoding="utf-8") as f:
            text = f.read()
        lines = text.split("\n")
        complete = lines[:-1]  # the part after the last newline is torn (or empty)
        with open(log, "w", encoding="utf-8") as f:  # drop the torn tail
            f.write("".join(line + "\n" for line in complete))
            f.flush()
            os.fsync(f.fileno())
        lines = complete
    cursor = gl.FeedCursor.parse(lines[-1]) if lines else None
    book = gl.Ledger.open(url)
    with open(log, "a", encoding="utf-8") as out:
        for entry in book.changes(after=cursor, follow=True, timeout=idle, max_delay=0.05):
            out.write(f"{gl.FeedCursor.of(entry)}\n")
            out.flush()
            os.fsync(out.fileno())
    book.close()


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        consume(sys.argv[2], sys.argv[3], float(sys.argv[4]))
