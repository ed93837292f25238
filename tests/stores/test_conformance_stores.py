"""What every store must do, tested on each: memory, SQLite and PostgreSQL.

A reopened ledger is the same ledger (entries, balances, holds, history, head,
keys) and verifies; a dry run leaves nothing; account names that look like SQL
come back unchanged; a failed write leaves no trace.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

import pytest

import giftledger as gl

from ..ledger.helpers import snapshot
from .conftest import OpenBook

START = datetime(2026, 1, 1, tzinfo=UTC)

#: Acceptance 5: names full of quotes, semicolons, unicode and SQL keywords.
AWKWARD_NAMES = (
    "viewers:o'brien:coins",
    'creators:"quoted":diamonds',
    "x'); DROP TABLE accounts; --",
    "SELECT * FROM transactions WHERE 1=1; DELETE FROM postings",
    "100%_off:\\escaped\\:back`tick`",
    "ünïcödé:日本語:🎁 gift",
    "NULL:null:None:TRUE",
    # Joiners and other format characters stay; a bidi override is refused (see
    # tests/ledger/test_hostile_text.py).
    "tab\u00a0nbsp:zero-width\u200bjoiner:zwj\u200dzwnj\u200ctext",
    "a;b;c:$1:?:%s:{name}",
)


def full_state(book: gl.Ledger) -> dict[str, Any]:
    """``snapshot`` plus every account's full history and the remembered keys' entries."""
    state = snapshot(book)
    state["history"] = {
        a.name: [(e.transaction.id, e.posting, e.balance_after) for e in book.history(a.name).items]
        for a in book.accounts()
    }
    state["hashes"] = [(tx.id, tx.prev_hash, tx.hash) for tx in book.transactions()]
    return state


def populate(book: gl.Ledger, clock: gl.ManualClock) -> dict[str, gl.Transaction]:
    """A little of everything a journal can hold."""
    book.open_account("mint:coins", "COIN", rule=gl.BalanceRule.unrestricted())
    book.open_account("mint:diamonds", "DIAMOND", rule=gl.BalanceRule.unrestricted())
    book.open_account(
        "viewers:alice:coins", "COIN", normal="credit", metadata={"tier": "gold", "age": 31}
    )
    book.open_account("creators:bob:diamonds", "DIAMOND", normal="credit")
    book.open_account("creators:bob:cash", "USD", normal="credit")
    book.open_account("bank", "USD", overdraft="100.00", metadata={"ok": True, "none": None})
    book.open_trading_account("DIAMOND")
    book.open_trading_account("USD")
    book.open_account("spare", "USD")
    out: dict[str, gl.Transaction] = {}
    out["fund"] = book.transfer(
        "mint:coins",
        "viewers:alice:coins",
        1000,
        key="fund-alice",
        memo="top-up; 'quoted' \"memo\"",
        metadata={"channel": "web", "count": 2**40, "flag": False, "void": None},
    )
    out["gift"] = book.post(
        [
            gl.debit("viewers:alice:coins", 100),
            gl.credit("mint:coins", 100),
            gl.debit("mint:diamonds", 50),
            gl.credit("creators:bob:diamonds", 50),
        ],
        key="gift-1",
        effective_at=START - timedelta(days=3, microseconds=7),
    )
    clock.advance(timedelta(minutes=5, microseconds=123))
    out["convert"] = book.convert(
        "creators:bob:diamonds", "creators:bob:cash", 30, rate="1/210", rounding=gl.Rounding.UP
    )
    hold = book.hold("viewers:alice:coins", "mint:coins", 70, timeout=timedelta(hours=1))
    book.post_hold(hold, 40)
    book.void_hold(book.hold("viewers:alice:coins", "mint:coins", 5))
    book.hold("viewers:alice:coins", "mint:coins", 9, expires_at=START + timedelta(minutes=30))
    book.hold("viewers:alice:coins", "mint:coins", 11)  # stays pending
    clock.advance(timedelta(hours=2))
    book.expire_holds()
    book.hold("viewers:alice:coins", "mint:coins", 13, timeout=timedelta(days=1))  # pending, timed
    out["reversal"] = book.reverse(out["gift"], memo="chargeback", force=True)
    book.transfer("bank", "creators:bob:cash", "0.14")
    book.close_account("spare")
    with pytest.raises(gl.InsufficientFunds):
        book.transfer("viewers:alice:coins", "mint:coins", 10**6, key="too-much")
    return out


def test_reopened_ledger_is_the_same_ledger_and_verifies(
    open_book: OpenBook, clock: gl.ManualClock
) -> None:
    book = open_book(clock)
    populate(book, clock)
    before = full_state(book)
    count = book.verify()
    book.close()

    again = open_book(clock)
    assert full_state(again) == before
    assert again.verify() == count
    assert [tx.reversed_by for tx in again.transactions()] == [
        tx.reversed_by for tx, _ in before["journal"]
    ]


def test_reopened_ledger_keeps_exact_values(open_book: OpenBook, clock: gl.ManualClock) -> None:
    book = open_book(clock)
    txs = populate(book, clock)
    book.close()
    again = open_book(clock)
    fund = again.transaction(txs["fund"].id)
    assert fund == txs["fund"]
    assert fund.meta == {"channel": "web", "count": 2**40, "flag": False, "void": None}
    assert type(fund.meta["flag"]) is bool
    gift = again.transaction(txs["gift"].id)
    assert gift.effective_at == START - timedelta(days=3, microseconds=7)
    assert again.transaction(txs["convert"].id).rates == (
        gl.Rate("DIAMOND", "USD", Fraction(1, 210)),
    )
    assert again.account("viewers:alice:coins").meta == {"tier": "gold", "age": 31}
    assert again.account("bank").rule == gl.BalanceRule.overdraft(10_000)
    assert again.account("spare").closed


def test_reopened_ledger_keeps_going(open_book: OpenBook, clock: gl.ManualClock) -> None:
    book = open_book(clock)
    populate(book, clock)
    pending = book.holds()
    book.close()
    again = open_book(clock)
    assert again.holds() == pending
    for hold in pending:
        again.void_hold(hold)
    tx = again.transfer("mint:coins", "viewers:alice:coins", 1)
    assert tx.prev_hash == again.transaction(tx.id - 1).hash
    assert again.verify() == tx.id


def test_dry_runs_leave_nothing(open_book: OpenBook, clock: gl.ManualClock) -> None:
    book = open_book(clock)
    populate(book, clock)
    before = full_state(book)
    tx = book.transfer("mint:coins", "viewers:alice:coins", 5, key="dry", dry_run=True)
    assert tx.id == book.head[0] + 1
    book.hold("viewers:alice:coins", "mint:coins", 5, dry_run=True)
    batch = book.post_many(
        [[gl.debit("mint:coins", 1), gl.credit("viewers:alice:coins", 1)]] * 3, dry_run=True
    )
    assert [t.id for t in batch] == [tx.id, tx.id + 1, tx.id + 2]
    assert batch[1].prev_hash == batch[0].hash
    assert full_state(book) == before
    assert book.find("dry") is None
    book.close()
    assert full_state(open_book(clock)) == before


def test_idempotency_survives_reopen(open_book: OpenBook, clock: gl.ManualClock) -> None:
    book = open_book(clock)
    txs = populate(book, clock)
    book.close()
    again = open_book(clock)
    head = again.head
    replay = again.transfer(
        "mint:coins",
        "viewers:alice:coins",
        1000,
        key="fund-alice",
        memo="top-up; 'quoted' \"memo\"",
        metadata={"channel": "web", "count": 2**40, "flag": False, "void": None},
    )
    assert replay == txs["fund"]
    assert again.find("fund-alice") == txs["fund"]
    with pytest.raises(gl.DuplicateKeyConflict):
        again.transfer("mint:coins", "viewers:alice:coins", 1, key="fund-alice")
    # A remembered failure fails the same way after a reopen, even with funds now there.
    again.transfer("mint:coins", "viewers:alice:coins", 10**6)
    head = again.head
    with pytest.raises(gl.InsufficientFunds, match="replayed for idempotency key 'too-much'"):
        again.transfer("viewers:alice:coins", "mint:coins", 10**6, key="too-much")
    assert again.head == head


def test_awkward_account_names_round_trip_unchanged(
    open_book: OpenBook, clock: gl.ManualClock
) -> None:
    book = open_book(clock)
    book.open_account("mint", "USD", rule=gl.BalanceRule.unrestricted())
    for i, name in enumerate(AWKWARD_NAMES):
        book.open_account(name, "USD", normal="credit", metadata={name: name})
        book.transfer("mint", name, i + 1, memo=name, key=name)
    book.close()

    again = open_book(clock)
    names = [a.name for a in again.accounts()]
    assert names == sorted([*AWKWARD_NAMES, "mint"])
    for i, name in enumerate(AWKWARD_NAMES):
        assert again.account(name).meta == {name: name}
        assert again.balance(name) == gl.from_minor((i + 1) * 100, "USD")
        (entry,) = again.history(name).items
        assert entry.posting.account == name
        assert entry.transaction.memo == name
        assert again.find(name) == entry.transaction
    # Prefix queries treat '%', '_' and '\\' as the characters they are.
    assert [a.name for a in again.accounts("100%_")] == ["100%_off:\\escaped\\:back`tick`"]
    assert again.accounts("100__") == ()
    assert [a.name for a in again.accounts("ünïcödé:日本")] == ["ünïcödé:日本語:🎁 gift"]
    assert again.verify() == 1 + 2 * len(AWKWARD_NAMES)  # an ACCOUNT entry per account


def test_posting_while_iterating_the_journal(open_book: OpenBook, clock: gl.ManualClock) -> None:
    book = open_book(clock)
    book.open_account("mint", "USD", rule=gl.BalanceRule.unrestricted())
    book.open_account("a", "USD", normal="credit")
    ids = [book.transfer("mint", "a", i + 1).id for i in range(5)]
    assert ids == [3, 4, 5, 6, 7]  # after the two ACCOUNT entries
    for tx in book.transactions(ids[0]):  # a read stays open while each reversal is written
        book.reverse(tx)
    assert [tx.reverses for tx in book.transactions(ids[-1] + 1)] == ids
    assert book.balance("a") == gl.from_minor(0, "USD")
    assert book.verify() == ids[-1] + 5


def test_prefix_queries_return_exactly_the_names_under_the_prefix(
    open_book: OpenBook, clock: gl.ManualClock
) -> None:
    book = open_book(clock)
    names = [
        "a",
        "a:b",
        "a:b:c",
        "a:bz",
        "a:b\U0010ffff",
        "ab",
        "a\U0010ffff",
        "b",
        "a:b%",
        "a:\ud7ff",
    ]
    for name in names:
        book.open_account(name, "USD")
    for prefix in ["", "a", "a:", "a:b", "a:b\U0010ffff", "a\U0010ffff", "a:\ud7ff", "zz", "a:b%"]:
        expected = sorted(n for n in names if n.startswith(prefix))
        assert [a.name for a in book.accounts(prefix)] == expected, prefix
        assert list(book.balances(prefix)) == expected


def test_journal_ranges_past_either_end_are_clipped(
    open_book: OpenBook, clock: gl.ManualClock
) -> None:
    book = open_book(clock)
    book.open_account("mint", "USD", rule=gl.BalanceRule.unrestricted())
    book.open_account("a", "USD", normal="credit")
    opened = list(book.transactions())
    assert [tx.kind for tx in opened] == [gl.EntryKind.ACCOUNT] * 2
    txs = book.post_many([[gl.debit("mint", 1), gl.credit("a", 1)]] * 3)
    assert list(book.transactions(-5, 10**12)) == [*opened, *txs]
    assert list(book.transactions(txs[1].id, txs[2].id)) == txs[1:2]
    head = txs[-1].id
    assert list(book.transactions(head + 1)) == []
    assert list(book.transactions(3, 1)) == []
    for missing in (0, head + 1, 2**63, 10**30):
        with pytest.raises(gl.UnknownTransaction):
            book.transaction(missing)
        with pytest.raises(gl.UnknownHold):
            book.get_hold(missing)


def test_failed_write_leaves_no_trace(open_book: OpenBook, clock: gl.ManualClock) -> None:
    book = open_book(clock)
    book.open_account("mint", "USD", rule=gl.BalanceRule.unrestricted())
    book.open_account("a", "USD", normal="credit")
    book.transfer("mint", "a", 10)
    before = full_state(book)
    for call in (
        lambda: book.transfer("a", "mint", 11),
        lambda: book.post([gl.debit("mint", 1), gl.credit("a", 2)]),
        lambda: book.transfer("mint", "nobody", 1),
        lambda: book.hold("a", "mint", 11),
        lambda: book.post_hold(99),
        lambda: book.reverse(42),
    ):
        with pytest.raises(gl.GiftLedgerError):
            call()
    assert full_state(book) == before


# -- post_many ---------------------------------------------------------------------------


def _gift(viewer: str, coins: int, key: str | None = None) -> gl.TransactionRequest:
    return gl.TransactionRequest(
        [
            gl.debit(viewer, coins),
            gl.credit("mint:coins", coins),
            gl.debit("mint:diamonds", coins // 2),
            gl.credit("creators:bob:diamonds", coins // 2),
        ],
        key=key,
        memo=f"{coins} coins",
    )


def _gift_world(book: gl.Ledger) -> None:
    book.open_account("mint:coins", "COIN", rule=gl.BalanceRule.unrestricted())
    book.open_account("mint:diamonds", "DIAMOND", rule=gl.BalanceRule.unrestricted())
    book.open_account("creators:bob:diamonds", "DIAMOND", normal="credit")
    for viewer in ("alice", "carol"):
        book.open_account(viewer, "COIN", normal="credit")
        book.transfer("mint:coins", viewer, 100)


def test_post_many_commits_a_batch_in_order(open_book: OpenBook, clock: gl.ManualClock) -> None:
    book = open_book(clock)
    _gift_world(book)
    head = book.head[0]
    txs = book.post_many([_gift("alice", 10, key=f"g{i}") for i in range(10)])
    assert [tx.id for tx in txs] == list(range(head + 1, head + 11))
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(txs))
    assert book.balance("alice") == gl.from_minor(0, "COIN")
    book.close()
    again = open_book(clock)
    assert list(again.transactions(head + 1)) == txs
    assert again.find("g9") == txs[9]
    assert again.verify() == head + 10


def test_atomic_batch_is_all_or_nothing(open_book: OpenBook, clock: gl.ManualClock) -> None:
    book = open_book(clock)
    _gift_world(book)
    before = full_state(book)
    # The 5th gift overdraws alice: the four before it are rolled back with it.
    batch = [_gift("alice", 30, key=f"k{i}") for i in range(5)]
    with pytest.raises(gl.InsufficientFunds) as raised:
        book.post_many(batch)
    assert "request 3 of the batch" in raised.value.__notes__[0]
    # Nothing is written but the record of the failure under k3: one KEY entry.
    after = full_state(book)
    (journaled,) = after["journal"][len(before["journal"]) :]
    tx = journaled[0]
    assert (tx.kind, tx.postings, tx.meta["gl.key"]) == (gl.EntryKind.KEY, (), "k3")
    assert tx.meta["gl.error"] == "InsufficientFunds"
    assert after["journal"][: len(before["journal"])] == before["journal"]
    assert after["hashes"][: len(before["hashes"])] == before["hashes"]
    changed = ("head", "journal", "hashes")
    assert {k: v for k, v in after.items() if k not in changed} == {
        k: v for k, v in before.items() if k not in changed
    }
    assert book.find("k0") is None
    book.close()
    again = open_book(clock)
    assert full_state(again) == after
    # Like post(), the failing request's key remembers its failure; the others are free.
    with pytest.raises(gl.InsufficientFunds, match="replayed"):
        again.post_many([_gift("alice", 30, key="k3")])
    assert [tx.key for tx in again.post_many(batch[:3])] == ["k0", "k1", "k2"]


def test_non_atomic_batch_posts_each_request_on_its_own(
    open_book: OpenBook, clock: gl.ManualClock
) -> None:
    book = open_book(clock)
    _gift_world(book)
    head = book.head[0]
    results = book.post_many(
        [
            _gift("alice", 60, key="a1"),
            _gift("alice", 60, key="a2"),  # overdraws: alice has 40 left
            _gift("carol", 60, key="c1"),
            [gl.debit("nobody", 1), gl.credit("mint:coins", 1)],
            _gift("alice", 40, key="a1"),  # same key, other content
            _gift("alice", 60, key="a1"),  # same key, same content: the first entry
            _gift("alice", 40),
        ],
        atomic=False,
    )
    kinds = [type(r).__name__ for r in results]
    assert kinds == [
        "Transaction",
        "InsufficientFunds",
        "Transaction",
        "UnknownAccount",
        "DuplicateKeyConflict",
        "Transaction",
        "Transaction",
    ]
    assert results[5] == results[0]
    posted = [r for r in results if isinstance(r, gl.Transaction)]
    # a2's failure is remembered under its key: a KEY entry between a1 and c1.
    remembered = book.transaction(head + 2)
    assert (remembered.kind, remembered.meta["gl.key"]) == (gl.EntryKind.KEY, "a2")
    assert [tx.id for tx in posted] == [head + 1, head + 3, head + 1, head + 4]
    book.close()
    again = open_book(clock)
    assert again.balance("alice") == gl.from_minor(0, "COIN")
    assert again.balance("carol") == gl.from_minor(40, "COIN")
    with pytest.raises(gl.InsufficientFunds, match="replayed"):
        again.post_many([_gift("alice", 60, key="a2")])
    assert again.verify() == head + 4


def test_post_many_and_post_share_idempotency_keys(
    open_book: OpenBook, clock: gl.ManualClock
) -> None:
    book = open_book(clock)
    _gift_world(book)
    request = _gift("alice", 10, key="shared")
    (tx,) = book.post_many([request])
    again = book.post(list(request.postings), key="shared", memo=request.memo)
    assert again == tx
    (replayed,) = book.post_many([request])
    assert replayed == tx
    assert book.head[0] == tx.id


def test_empty_batch_posts_nothing(open_book: OpenBook, clock: gl.ManualClock) -> None:
    book = open_book(clock)
    assert book.post_many([]) == []
    assert book.head == (0, "0" * 64)
    with pytest.raises(gl.InvalidArgument):
        book.post_many(gl.TransactionRequest([]))  # type: ignore[call-overload]


# -- rollback of a whole write (memory's undo log, SQLite's transaction) -------------------


@pytest.mark.parametrize("store_url", ["memory", "sqlite"], indirect=True)
def test_an_outer_batch_that_fails_undoes_every_kind_of_write(
    open_book: OpenBook, clock: gl.ManualClock
) -> None:
    book = open_book(clock)
    populate(book, clock)
    clock.advance(timedelta(days=2))  # the timed hold lapses; the batch records it
    before = full_state(book)
    store: Any = book.store
    opener = (lambda: store.write(batch=True)) if store.url == "memory:" else store.write

    class Abandon(Exception):
        pass

    def write_everything_then_fail() -> None:
        with opener():
            _write_everything(book, clock)
            raise Abandon

    with pytest.raises(Abandon):
        write_everything_then_fail()
    assert full_state(book) == before
    assert book.verify() == before["head"][0]


def _write_everything(book: gl.Ledger, clock: gl.ManualClock) -> None:
    book.open_account("new", "USD")
    book.transfer("new", "bank", 1, key="inner")
    hold = book.hold("viewers:alice:coins", "mint:coins", 1, timeout=timedelta(hours=1))
    book.post_hold(hold)
    book.void_hold(book.holds("viewers:alice:coins")[0])
    book.reverse(book.find("inner") or 0)
    assert book.expire_holds()
    book.open_account("empty", "COIN")
    book.close_account("empty")
    assert book.balance("new") == gl.from_minor(0, "USD")


def test_a_balance_past_64_bits_is_refused_alike_on_every_store(
    open_book: OpenBook, clock: gl.ManualClock
) -> None:
    """Each amount fits (at most 10^18 minor units), but nine of them and one more take
    an account past what a signed 64-bit integer holds: refused with AmountOutOfRange
    naming the account and the rule, on every store (memory's ints have no limit, the
    databases' columns do), and nothing changes."""
    book = open_book(clock)
    gl.register_unit("COIN", 0, singular="coin")
    book.open_account("mint:coins", "COIN", rule=gl.BalanceRule.unrestricted())
    book.open_account("vault", "COIN", rule=gl.BalanceRule.unrestricted())
    step = 10**18
    for _ in range(9):
        book.transfer("mint:coins", "vault", step)
    before = full_state(book)
    with pytest.raises(
        gl.AmountOutOfRange, match=r"posting \d: account '(vault|mint:coins)'.*64-bit"
    ):
        book.transfer("mint:coins", "vault", step)
    with pytest.raises(gl.AmountOutOfRange):
        book.post_many([[gl.debit("mint:coins", step), gl.credit("vault", step)]])
    assert full_state(book) == before
    book.transfer("vault", "mint:coins", step)  # back within range: writes work
    assert book.balance("vault") == gl.from_minor(-8 * step, "COIN")
    assert book.verify() == book.head[0]


def test_the_trial_balance_lists_its_units_in_order_on_every_store(
    open_book: OpenBook, clock: gl.ManualClock
) -> None:
    """Memory listed units as first posted, SQLite as its table's rows, PostgreSQL
    sorted: equal mappings, printed (and iterated) differently."""
    book = open_book(clock)
    for unit in ("USD", "EUR", "JPY"):
        book.open_account(f"bank:{unit}", unit, rule=gl.BalanceRule.unrestricted())
        book.open_account(f"equity:{unit}", unit, normal="credit")
        book.transfer(f"bank:{unit}", f"equity:{unit}", 1)
    tb = book.trial_balance()
    assert list(tb.debits) == list(tb.credits) == ["EUR", "JPY", "USD"]
    assert repr(tb) == repr(open_book(clock).trial_balance())


def test_an_account_that_cannot_be_closed_names_its_balance_as_balance_does(
    open_book: OpenBook, clock: gl.ManualClock
) -> None:
    """A credit-normal account's refusal showed its raw net (-7.00 for a balance of 7.00)."""
    book = open_book(clock)
    book.open_account("cash", "USD", rule=gl.BalanceRule.unrestricted())
    book.open_account("wallet", "USD", normal="credit")
    book.transfer("cash", "wallet", 7)
    book.hold("wallet", "cash", 2)
    assert book.balance("wallet") == gl.from_minor(700, "USD")
    with pytest.raises(gl.InvalidArgument) as refused:
        book.close_account("wallet")
    assert "its posted balance is 7.00 USD and its pending holds total 2.00 USD" in str(
        refused.value
    )
    assert book.balance("cash") == gl.from_minor(700, "USD")  # debit-normal: the net
    with pytest.raises(gl.InvalidArgument, match=r"posted balance is 7\.00 USD and its pending"):
        book.close_account("cash")
