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
    two entries per index segment. Entries 1 to 3 are the accounts' definitions, so the
    transfers are 4, 5 and 6, the holds 7 and 9, the last transfer 10."""
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
        assert book.verify() == 3 + 8  # after the ACCOUNT entries 1 to 3
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
    assert _verify(path, clock) == 3 + 8


@pytest.mark.parametrize(
    ("trigger", "tamper", "match", "broken_at"),
    [
        (
            "postings_no_update",
            "UPDATE postings SET net_after = net_after + 100 WHERE tx_id = 5 AND idx = 1",
            r"transaction 5's posting 1 to 'bob' stores .* as -300, but the journal makes it -400",
            5,
        ),
        (  # a hold's pending postings move no posted balance
            "postings_no_update",
            "UPDATE postings SET net_after = 0 WHERE tx_id = 9",
            "transaction 9's posting 0 .* journal makes it None",
            9,
        ),
        (
            "backdated_no_delete",
            "DELETE FROM backdated WHERE tx_id = 6",
            "back-dated index lacks transaction 6's posting",
            6,
        ),
        (
            None,
            "INSERT INTO backdated VALUES ((SELECT id FROM accounts WHERE name = 'bob'), 5, 1, "
            "0, -400)",
            "back-dated index holds transaction 5's posting 1 to 'bob'",
            5,
        ),
        (
            "backdated_no_update",
            "UPDATE backdated SET amount = amount * 2",
            "back-dated index holds transaction 6",
            6,
        ),
        (
            "account_segments_no_delete",
            # Two entries a segment: 4 and 5 (alice's first transfer) are segment 2.
            "DELETE FROM account_segments WHERE segment = 2 AND account_id = "
            "(SELECT id FROM accounts WHERE name = 'alice')",
            "account index lacks segment 2 for 'alice'",
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
            "UPDATE holds SET status = 'voided', resolved_by = 10 WHERE status = 'pending'",
            "stored hold 9 differs from the hold entry 9",
            9,
        ),
        (
            "holds_fixed",
            "UPDATE holds SET minor = 1 WHERE id = 7",
            "stored hold 7 differs",
            7,
        ),
        (
            None,
            "UPDATE holds SET posted_minor = 200 WHERE id = 7",
            "stored hold 7 differs",
            7,
        ),
        (
            "holds_no_delete",
            "DELETE FROM holds WHERE id = 9",
            "stored hold 9 differs",
            9,
        ),
        (
            None,
            "INSERT INTO holds SELECT 10, debit_id, credit_id, minor, unit, expires_at, "
            "status, posted_minor, resolved_by FROM holds WHERE id = 9",
            "the store holds hold 10, but entry 10 of the journal is no hold",
            10,
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
    raw.execute("UPDATE postings SET net_after = -99900 WHERE tx_id = 4 AND idx = 1")
    with gl.Ledger.open(f"sqlite:///{path}", clock=clock) as book:
        assert book.balance("alice", recorded_through=4) == gl.from_minor(99900, "USD")
        with pytest.raises(gl.ChainBroken, match="transaction 4's posting 1 to 'alice'"):
            book.verify()
