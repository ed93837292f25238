"""Acceptance 3 (SQLite): a process killed with SIGKILL in the middle of a batch.

A child process posts batches of gifts with ``post_many`` into a SQLite file
and prints each batch it got back (its first and last ids and the last hash)
to a pipe; the parent kills it with SIGKILL and reopens the file: every
acknowledged transaction is there, nothing of an unacknowledged batch is, the
hash chain verifies and the ledger takes new writes.

Two ways to kill it. ``stalled``: the child stalls its fifth batch right after
the batch's rows went to SQLite and before COMMIT, and the parent kills it
there, every time. ``running``: the parent kills it at a random moment while it
posts freely, after some acknowledgements.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import giftledger as gl

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

VIEWERS = 20
BATCH = 200
FUNDING = 10**6

CHILD = r"""
import sys, time
import giftledger as gl
from giftledger._stores import sqlite as glsqlite

gl.register_unit("COIN", 0, singular="coin")
gl.register_unit("DIAMOND", 0, singular="diamond")
path, mode, batch = sys.argv[1], sys.argv[2], int(sys.argv[3])
book = gl.Ledger.open(f"sqlite:///{path}")
stall_at = 4 if mode == "stalled" else None
current = 0

if stall_at is not None:
    flush = glsqlite._Writer._flush

    def stalling_flush(self):
        flush(self)
        if current == stall_at:
            print("stalled", flush=True)  # the rows are written; COMMIT is next
            time.sleep(120)

    glsqlite._Writer._flush = stalling_flush

for b in range(1000):
    current = b
    txs = book.post_many([
        gl.TransactionRequest(
            [
                gl.debit(f"viewers:v{i % 20}:coins", 3),
                gl.credit("mint:coins", 3),
                gl.debit("mint:diamonds", 1),
                gl.credit("creators:c:diamonds", 1),
            ],
            key=f"b{b}-{i}",
        )
        for i in range(batch)
    ])
    print(f"ack {b} {txs[0].id} {txs[-1].id} {txs[-1].hash}", flush=True)
"""


def _setup(path: Path) -> int:
    with gl.Ledger.open(f"sqlite:///{path}") as book:
        book.open_account("mint:coins", "COIN", rule=gl.BalanceRule.unrestricted())
        book.open_account("mint:diamonds", "DIAMOND", rule=gl.BalanceRule.unrestricted())
        book.open_account("creators:c:diamonds", "DIAMOND", normal="credit")
        for i in range(VIEWERS):
            book.open_account(f"viewers:v{i}:coins", "COIN", normal="credit")
            book.transfer("mint:coins", f"viewers:v{i}:coins", FUNDING)
        return book.head[0]


def _run_and_kill(path: Path, mode: str, acks_before_kill: int) -> list[tuple[int, int, int, str]]:
    """Start the child, kill it as ``mode`` says; return the acknowledged batches."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), mode, str(BATCH)],
        stdout=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(60, child.kill)  # never hang the suite
    watchdog.start()
    acks: list[tuple[int, int, int, str]] = []

    def read_acks(stop_early: bool) -> None:
        assert child.stdout is not None
        for line in child.stdout:
            if line.startswith("ack "):
                _, b, first, last, last_hash = line.split()
                acks.append((int(b), int(first), int(last), last_hash))
                if stop_early and mode == "running" and len(acks) >= acks_before_kill:
                    # Somewhere in a later batch: building it, writing it or committing.
                    threading.Event().wait(random.uniform(0, 0.05))
                    return
            elif stop_early and line.startswith("stalled"):
                return

    try:
        read_acks(stop_early=True)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        assert child.returncode == -signal.SIGKILL, "the child ended before it was killed"
        read_acks(stop_early=False)  # what it acknowledged before it died is in the pipe
    finally:
        watchdog.cancel()
        if child.poll() is None:
            child.kill()
            child.wait()
        if child.stdout is not None:
            child.stdout.close()
    return acks


def _check_reopened(path: Path, setup_head: int, acks: list[tuple[int, int, int, str]]) -> None:
    with gl.Ledger.open(f"sqlite:///{path}") as book:
        count = book.verify()
        posted = count - setup_head
        assert posted % BATCH == 0, f"a partial batch survived: {posted} entries after setup"
        # Acknowledged batches are all there, with the ids and hashes the child saw.
        for b, first, last, last_hash in acks:
            assert book.transaction(last).hash == last_hash
            for i in (0, BATCH // 2, BATCH - 1):
                found = book.find(f"b{b}-{i}")
                assert found is not None, f"acknowledged b{b}-{i} is missing"
                assert found.id == first + i
        last_acked = acks[-1][2]
        assert count in (last_acked, last_acked + BATCH)  # at most the batch being committed
        # Balances agree with the journal (verify checked the totals), and the
        # coins taken equal the diamonds given, times three.
        assert book.balance("creators:c:diamonds") == gl.from_minor(posted, "DIAMOND")
        # The file takes new writes after the crash.
        book.transfer("mint:coins", "viewers:v0:coins", 1)
        assert book.verify() == count + 1


def test_kill_between_writing_a_batch_and_committing_it_loses_only_that_batch(
    tmp_path: Path,
) -> None:
    path = tmp_path / "crash.db"
    setup_head = _setup(path)
    acks = _run_and_kill(path, "stalled", 0)
    assert [b for b, *_ in acks] == [0, 1, 2, 3]
    _check_reopened(path, setup_head, acks)
    with gl.Ledger.open(f"sqlite:///{path}") as book:
        assert book.head[0] == acks[-1][2] + 1  # the stalled batch left nothing
        assert book.find("b4-0") is None


@pytest.mark.parametrize("acks_before_kill", [3, 6])
def test_kill_at_any_moment_keeps_every_acknowledged_batch(
    tmp_path: Path, acks_before_kill: int
) -> None:
    path = tmp_path / "crash.db"
    setup_head = _setup(path)
    acks = _run_and_kill(path, "running", acks_before_kill)
    assert len(acks) >= acks_before_kill
    _check_reopened(path, setup_head, acks)
