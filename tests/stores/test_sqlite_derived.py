"""What the SQLite store derives from the journal to answer without a scan, checked by
``verify()``: each posting's ``net_after``, ``backdated``, ``account_segments``, each
account's ``last_effective`` and the ``holds`` rows. A change to any of them behind the
triggers' back changes past balances, history or the pending holds while the chain itself
still verifies.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest

import giftledger as gl
from giftledger._stores import sqlite as glsqlite


@pytest.fixture
def path(tmp_path: Path, clock: gl.ManualClock) -> Path:
    """A file with back-dated entries, a settled and a pending hold, a reversal, and
    two entries per index segment."""
    path = tmp_path / "book.db"
    with mock.patch.object(glsqlite, "SEGMENT_BITS", 1):
        book = gl.Ledger.open(f"sqlite:///{path}", clock=clock)
    with book:
        book.open_account("mint", "USD", rule=gl.BalanceRule.unrestricted())
        book.open_account("alice", "USD", normal="credit")
        book.open_account("bob", "USD", normal="credit")
        book.transfer("mint", "alice", "10.00")
        clock.advance(timedelta(hours=1))
        book.transfer("mint", "bob", "4.00")
        book.transfer("mint", "alice", "1.00", effective_at=clock.now() - timedelta(days=1))
        hold = book.hold("alice", "bob", "2.00", timeout=timedelta(hours=1))
        book.post_hold(hold, "1.50")
        book.hold("alice", "bob", "1.00", timeout=timedelta(hours=1))
        tx = book.transfer("alice", "bob", "0.25", effective_at=clock.now() - timedelta(hours=3))
        book.reverse(tx)
        assert book.verify() == 8
    return path


@pytest.fixture
def raw(path: Path) -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(path, isolation_level=None)
    yield db
    db.close()


def _verify(path: Path, clock: gl.ManualClock) -> int:
    with gl.Ledger.open(f"sqlite:///{path}", clock=clock) as book:
        return book.verify()


def test_an_untouched_file_verifies(path: Path, clock: gl.ManualClock) -> None:
    assert _verify(path, clock) == 8


@pytest.mark.parametrize(
    ("trigger", "tamper", "match", "broken_at"),
    [
        (
            "postings_no_update",
            "UPDATE postings SET net_after = net_after + 100 WHERE tx_id = 2 AND idx = 1",
            r"transaction 2's posting 1 to 'bob' stores .* as -300, but the journal makes it -400",
            2,
        ),
        (  # a hold's pending postings move no posted balance
            "postings_no_update",
            "UPDATE postings SET net_after = 0 WHERE tx_id = 6",
            "transaction 6's posting 0 .* journal makes it None",
            6,
        ),
        (
            "backdated_no_delete",
            "DELETE FROM backdated WHERE tx_id = 3",
            "back-dated index lacks transaction 3's posting",
            3,
        ),
        (
            None,
            "INSERT INTO backdated VALUES ((SELECT id FROM accounts WHERE name = 'bob'), 2, 1, "
            "0, -400)",
            "back-dated index holds transaction 2's posting 1 to 'bob'",
            2,
        ),
        (
            "backdated_no_update",
            "UPDATE backdated SET amount = amount * 2",
            "back-dated index holds transaction 3",
            3,
        ),
        (
            "account_segments_no_delete",
            "DELETE FROM account_segments WHERE segment = 1 AND account_id = "
            "(SELECT id FROM accounts WHERE name = 'alice')",
            "account index lacks segment 1 for 'alice'",
            None,
        ),
        (
            None,
            "INSERT INTO account_segments VALUES (1, 99)",
            "account index holds segment 99 for 'mint'",
            None,
        ),
        (
            None,
            "UPDATE accounts SET last_effective = last_effective - 1 WHERE name = 'bob'",
            "account 'bob' stores its latest effective time",
            None,
        ),
        (
            None,
            "UPDATE accounts SET last_effective = NULL WHERE name = 'mint'",
            "account 'mint' stores its latest effective time as None",
            None,
        ),
        (  # no trigger stops a pending hold's status from changing
            None,
            "UPDATE holds SET status = 'voided', resolved_by = 7 WHERE status = 'pending'",
            "stored hold 6 differs from the hold entry 6",
            6,
        ),
        (
            "holds_fixed",
            "UPDATE holds SET minor = 1 WHERE id = 4",
            "stored hold 4 differs",
            4,
        ),
        (
            None,
            "UPDATE holds SET posted_minor = 200 WHERE id = 4",
            "stored hold 4 differs",
            4,
        ),
        (
            "holds_no_delete",
            "DELETE FROM holds WHERE id = 6",
            "stored hold 6 differs",
            6,
        ),
        (
            None,
            "INSERT INTO holds SELECT 7, debit_id, credit_id, minor, unit, expires_at, "
            "status, posted_minor, resolved_by FROM holds WHERE id = 6",
            "stored hold 7 differs",
            7,
        ),
    ],
)
def test_verify_catches_a_derived_row_changed_behind_the_triggers_back(
    path: Path,
    raw: sqlite3.Connection,
    clock: gl.ManualClock,
    trigger: str | None,
    tamper: str,
    match: str,
    broken_at: int | None,
) -> None:
    if trigger is not None:
        raw.execute(f"DROP TRIGGER {trigger}")
    raw.execute(tamper)
    with pytest.raises(gl.ChainBroken, match=match) as broken:
        _verify(path, clock)
    assert broken.value.transaction_id == broken_at


def test_a_tampered_net_after_changes_a_past_balance_that_verify_then_names(
    path: Path, raw: sqlite3.Connection, clock: gl.ManualClock
) -> None:
    raw.execute("DROP TRIGGER postings_no_update")
    raw.execute("UPDATE postings SET net_after = -99900 WHERE tx_id = 1 AND idx = 1")
    with gl.Ledger.open(f"sqlite:///{path}", clock=clock) as book:
        assert book.balance("alice", recorded_through=1) == gl.from_minor(99900, "USD")
        with pytest.raises(gl.ChainBroken, match="transaction 1's posting 1 to 'alice'"):
            book.verify()
