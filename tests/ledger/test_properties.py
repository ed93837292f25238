"""Properties of any ledger the public strategies draw."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import giftledger as gl
import giftledger.testing as glt

from .helpers import snapshot

FAST = settings(max_examples=40, deadline=None)


def _nets(book: gl.Ledger) -> dict[str, int]:
    """Every account's posted ``debits - credits`` in minor units."""
    out = {}
    for account in book.accounts():
        minor = gl.to_minor(book.balance(account.name), account.unit)
        out[account.name] = minor if account.normal is gl.Side.DEBIT else -minor
    return out


@FAST
@given(glt.ledgers())
def test_every_unit_is_conserved(book: gl.Ledger) -> None:
    assert book.trial_balance().is_balanced
    per_unit: dict[str, int] = {}
    for account in book.accounts():
        per_unit[account.unit] = per_unit.get(account.unit, 0) + _nets(book)[account.name]
    assert set(per_unit.values()) <= {0}
    assert book.verify() == book.head[0]


@FAST
@given(glt.ledgers(), st.data())
def test_a_reversal_restores_every_balance_the_entry_moved(
    book: gl.Ledger, data: st.DataObject
) -> None:
    posted = [tx for tx in book.transactions() if tx.kind is gl.EntryKind.POST]
    if not posted:
        return
    tx = data.draw(st.sampled_from(posted))
    before = _nets(book)
    book.reverse(tx, force=True)
    after = _nets(book)
    for name, net in before.items():
        moved = tx.amounts(name)
        assert after[name] == net - (
            0 if moved is None else gl.to_minor(moved, moved.currency.code)
        )
    assert book.verify() == book.head[0]


@FAST
@given(glt.ledgers(), st.data())
def test_replaying_a_key_is_a_no_op(book: gl.Ledger, data: st.DataObject) -> None:
    free = [a for a in book.accounts() if a.name.startswith("world:")]
    book.open_account("world:USD:other", "USD", rule=gl.BalanceRule.unrestricted())
    accounts = [*free, book.account("world:USD:other")]
    specs = data.draw(glt.balanced_postings(accounts))
    first = book.post(specs, key="replay")
    after_first = snapshot(book)
    assert book.post(specs, key="replay") == first
    assert snapshot(book) == after_first


@FAST
@given(glt.ledgers(), st.data())
def test_any_postings_either_post_whole_or_change_nothing(
    book: gl.Ledger, data: st.DataObject
) -> None:
    specs = data.draw(glt.postings(book.accounts(), max_size=4, max_minor=10**4))
    before = snapshot(book)
    try:
        tx = book.post(specs)
    except gl.GiftLedgerError:
        assert snapshot(book) == before
    else:
        assert len(tx.postings) == len(specs)
        assert book.trial_balance().is_balanced
    assert book.verify() == book.head[0]


@FAST
@given(glt.ledgers(), st.data())
def test_a_dry_run_of_any_balanced_postings_changes_nothing(
    book: gl.Ledger, data: st.DataObject
) -> None:
    specs = data.draw(glt.balanced_postings(book.accounts()))
    before = snapshot(book)
    try:
        book.post(specs, dry_run=True)
    except gl.InsufficientFunds:
        pass
    assert snapshot(book) == before


@FAST
@given(glt.ledgers())
def test_history_ends_at_the_balance(book: gl.Ledger) -> None:
    for account in book.accounts():
        items = book.history(account.name, limit=10_000).items
        expected = items[-1].balance_after if items else book.balance(account.name) * 0
        assert book.balance(account.name) == expected
