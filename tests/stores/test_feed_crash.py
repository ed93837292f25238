"""Acceptance: a consumer killed with SIGKILL mid-stream while 4 writer processes post, then
restarted from its saved cursor, has seen every entry (the accounts' and the posts) exactly
once, in order."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import giftledger as gl

from .conftest import DURABLE_STORES

WORKER = str(Path(__file__).with_name("feed_worker.py"))
WRITERS = 4
EACH = 60


def _lines(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def _consumer(url: str, log: Path, idle: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, WORKER, "consume", url, str(log), str(idle)])


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
@pytest.mark.parametrize("kind", DURABLE_STORES)
def test_a_killed_consumer_restarted_from_its_cursor_sees_every_entry_once(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'book.db'}"
        if kind == "sqlite"
        else str(request.getfixturevalue("postgres_url"))
    )
    book = gl.Ledger.open(url)
    book.open_account("sink", "USD", normal="credit", rule=gl.BalanceRule.unrestricted())
    for w in range(WRITERS):
        book.open_account(f"writers:w{w}", "USD", rule=gl.BalanceRule.unrestricted())
    log = tmp_path / "consumer.log"
    writers = [
        subprocess.Popen([sys.executable, WORKER, "write", url, f"w{w}", str(EACH)])
        for w in range(WRITERS)
    ]
    kills = 0
    try:
        for target in (15, 90):  # kill it twice, mid-stream
            consumer = _consumer(url, log, 30.0)
            deadline = time.monotonic() + 60
            while len(_lines(log)) < target and time.monotonic() < deadline:
                time.sleep(0.005)
            writing = any(p.poll() is None for p in writers)
            os.kill(consumer.pid, signal.SIGKILL)
            consumer.wait()
            kills += writing  # a kill while the writers were still posting
        for p in writers:
            assert p.wait(timeout=120) == 0
        # Restarted once more; it stops after 1.5 s without a new entry.
        consumer = _consumer(url, log, 1.5)
        assert consumer.wait(timeout=120) == 0
    finally:
        for p in [*writers, consumer]:
            if p.poll() is None:
                p.kill()
                p.wait()
    entries = list(book.transactions())
    expected = [str(gl.FeedCursor.of(e)) for e in entries]
    # the journal: one ACCOUNT entry per account opened above, then the writers' posts
    kinds = [e.kind for e in entries]
    opened = 1 + WRITERS
    assert kinds == [gl.EntryKind.ACCOUNT] * opened + [gl.EntryKind.POST] * (WRITERS * EACH)
    assert _lines(log) == expected  # every entry, once, in order, with its hash
    assert kills >= 1
    book.close()
