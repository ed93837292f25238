"""The ledger's gift-agnostic ``guard``: a check inside the locked write, before any write."""

from __future__ import annotations

import pytest

import giftledger as gl


@pytest.fixture
def ledger(book: gl.Ledger) -> gl.Ledger:
    book.open_account("cash", "USD", normal="credit")
    book.open_account("bank", "USD", rule=gl.BalanceRule.unrestricted())
    book.open_account("flight", "USD", normal="credit")
    book.transfer("bank", "cash", "150.00")
    return book


def test_a_guard_sees_the_locked_state_and_its_refusal_writes_nothing(ledger: gl.Ledger) -> None:
    seen = []

    def at_least_100(r: gl.StoreReader) -> None:
        st = r.account_state("cash")
        assert st is not None
        available = -st.net - st.pending_debits
        seen.append(available)
        if available < 100_00:
            raise gl.BelowWithdrawalThreshold(f"only {available} cents available")

    ledger.hold("cash", "flight", "100.00", guard=at_least_100)
    head = ledger.head
    with pytest.raises(gl.BelowWithdrawalThreshold):
        ledger.hold("cash", "flight", "10.00", guard=at_least_100)
    with pytest.raises(gl.BelowWithdrawalThreshold):
        ledger.post([gl.debit("cash", "1.00"), gl.credit("flight", "1.00")], guard=at_least_100)
    assert seen == [150_00, 50_00, 50_00]
    assert ledger.head == head
    assert ledger.available("cash") == gl.from_minor(50_00, "USD")


def test_a_guard_does_not_run_when_a_key_replays(ledger: gl.Ledger) -> None:
    calls = []
    tx = ledger.post(
        [gl.debit("cash", "5.00"), gl.credit("flight", "5.00")],
        key="k1",
        guard=lambda r: calls.append(1),
    )
    again = ledger.post(
        [gl.debit("cash", "5.00"), gl.credit("flight", "5.00")],
        key="k1",
        guard=lambda r: calls.append(2),
    )
    assert again.id == tx.id
    assert calls == [1]


def test_a_guard_raising_a_foreign_exception_leaves_the_key_free(ledger: gl.Ledger) -> None:
    class Retry(Exception):
        pass

    def flaky(r: gl.StoreReader) -> None:
        raise Retry

    with pytest.raises(Retry):
        ledger.post([gl.debit("cash", "1.00"), gl.credit("flight", "1.00")], key="k2", guard=flaky)
    tx = ledger.post([gl.debit("cash", "1.00"), gl.credit("flight", "1.00")], key="k2")
    assert ledger.find("k2") == tx
