"""Chain calls inside a caller's own ``store.write()`` block that is then rolled back.

A write opened inside an open one joins it: it commits or rolls back with the outer
block. A chain call run there keeps, in this process, what it read and wrote (a
viewer's lots, a creator's carries, a party's profile); once the block rolls back,
those entries never were, and their ids go to entries written later (here, by another
store on the same book). The store counts the writes another joined as they end
(``joined_writes``) and the chain drops what it kept when the count moves: every later
call writes what the memory store, which never saw the rolled-back calls, writes. On the
code before, a conversion after a rolled-back gift and conversion summed the wrong
carries.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import timedelta
from fractions import Fraction
from pathlib import Path

import pytest

import giftledger as gl

from ..economy.chainkit import simple_economy


class Boom(Exception):
    pass


def _world(url: str) -> tuple[gl.Ledger, gl.ManualClock, gl.GiftEconomy]:
    econ = simple_economy(
        creator_pay=gl.CreatorPay(gl.PayoutModel.SHARE_OF_PRICE, share=Fraction(1, 3))
    )
    clock = gl.ManualClock(econ.latest.effective_from + timedelta(days=1))
    book = gl.Ledger.open(url, clock=clock)
    return book, clock, gl.GiftEconomy(book, econ)


def _entry(tx: gl.Transaction) -> tuple[object, ...]:
    return (tx.id, tx.postings, tx.memo, dict(tx.meta))


def test_chain_calls_in_a_rolled_back_block_leave_nothing_behind(durable_store_url: str) -> None:
    book, clock, app = _world(durable_store_url)
    mem_book, mem_clock, mem = _world("memory:")
    other_book, _, other = _world(durable_store_url)  # another process on the same book
    with book, other_book:
        for a in (app, mem):
            a.open_creator("cara")
            a.open_viewer("vic")
            a.buy_coins("vic", pack=100, channel="web", key="b1")
            a.send_gift("vic", "cara", "Rose", key="g0")
        joined = book.store.joined_writes  # type: ignore[attr-defined]

        def rolled_back(*calls: object) -> None:
            try:
                with book.store.write():
                    for call in calls:
                        call()  # type: ignore[operator]
                    raise Boom
            except Boom:
                pass

        def both(call: str, *args: object, **kw: object) -> None:
            got = getattr(app, call)(*args, **kw)
            want = getattr(mem, call)(*args, **kw)
            assert _entry(got) == _entry(want), call

        # A purchase, a profile change and gifts, all rolled back; then the same ids
        # go to another store's purchase and gifts.
        rolled_back(
            lambda: app.buy_coins("vic", pack=1400, channel="ios", key="gone-buy"),
            lambda: app.update_viewer("vic", age=40),
            lambda: app.send_gift("vic", "cara", "Rose", 30, key="gone-gift"),
        )
        assert book.store.joined_writes == joined + 1  # type: ignore[attr-defined]
        for a in (other, mem):
            a.buy_coins("vic", pack=100, channel="web", key="b2")
            a.send_gift("vic", "cara", "Rose", 7, key="g1")
        both("send_gift", "vic", "cara", "Rose", 50, key="g2")  # spends b1, then b2
        assert app.coin_lots("vic") == mem.coin_lots("vic")
        assert app.viewer("vic") == mem.viewer("vic")  # no age: the change was rolled back
        for c in (clock, mem_clock):
            c.advance(timedelta(days=2))
        # A gift and a conversion, rolled back; then other gifts take their ids.
        rolled_back(
            lambda: app.send_gift("vic", "cara", "Rose", 5, key="gone-g3"),
            lambda: app.convert_diamonds("cara", key="gone-cv"),
        )
        for i in range(3):
            for a in (other, mem):
                a.send_gift("vic", "cara", "Rose", 3, key=f"g3-{i}")
        both("convert_diamonds", "cara", key="cv")
        assert book.balances() == mem_book.balances()
        book.verify()
        app.verify()


def test_a_joined_block_that_commits_or_fails_to_commit_is_counted(tmp_path: Path) -> None:
    """A block another write joined counts as it ends, committed or not: after one that
    commits, the chain reads what it dropped again and goes on as the memory store does;
    after one whose COMMIT fails (SQLite: its last rows cannot be written), it does not
    keep the gift it saw there."""
    url = f"sqlite:///{tmp_path / 'book.db'}"
    book, _, app = _world(url)
    _, _, mem = _world("memory:")
    other_book, _, other = _world(url)
    with book, other_book:
        for a in (app, mem):
            a.open_creator("cara")
            a.open_viewer("vic")
            a.buy_coins("vic", pack=100, channel="web", key="b1")
        with book.store.write():
            for a in (app, mem):
                a.send_gift("vic", "cara", "Rose", 10, key="kept")
        assert book.store.joined_writes == 1  # type: ignore[attr-defined]
        head = book.head

        def full() -> None:
            raise sqlite3.OperationalError("database or disk is full")

        def failing_block() -> None:
            with book.store.write() as w:
                app.send_gift("vic", "cara", "Rose", 60, key="gone")
                assert app.coin_lots("vic")[0].unspent == 30  # read inside: the lots see it
                app.update_viewer("vic", age=30)
                w._flush = full  # type: ignore[attr-defined]  # its last rows fail at COMMIT

        with pytest.raises(gl.StoreError, match="disk is full"):
            failing_block()
        assert book.store.joined_writes == 2  # type: ignore[attr-defined]
        assert book.head == head
        for a in (other, mem):
            a.buy_coins("vic", pack=100, channel="web", key="b2")
        got = app.send_gift("vic", "cara", "Rose", 50, key="g2")
        want = mem.send_gift("vic", "cara", "Rose", 50, key="g2")
        assert _entry(got) == _entry(want)
        assert app.coin_lots("vic") == mem.coin_lots("vic")
        assert app.viewer("vic") == mem.viewer("vic")
        app.verify()


def test_an_economy_opened_in_a_rolled_back_block_checks_the_rules_again(
    durable_store_url: str,
) -> None:
    """A GiftEconomy opened inside a block that rolls back recorded its rules there: once
    another process records other rules first, its next write is refused as a new
    GiftEconomy under those rules would be (it wrote under its own before)."""
    book = gl.Ledger.open(durable_store_url)
    with book:
        book.open_account("x", "USD", rule=gl.BalanceRule.unrestricted())  # not empty
        try:
            with book.store.write():
                econ = simple_economy(
                    creator_pay=gl.CreatorPay(gl.PayoutModel.SHARE_OF_PRICE, share=Fraction(1, 3))
                )
                app = gl.GiftEconomy(book, econ)
                raise Boom
        except Boom:
            pass
        other_book = gl.Ledger.open(durable_store_url)
        with other_book:
            gl.GiftEconomy(other_book, simple_economy())  # other rules, recorded first
        with pytest.raises(gl.InvalidEconomy, match="runs under economy"):
            app.open_viewer("vic")
        with pytest.raises(gl.InvalidEconomy):
            app.open_viewer("vic")  # and again: the ledger still runs under the others


def test_a_dry_run_after_a_rolled_back_opening_writes_nothing(durable_store_url: str) -> None:
    """The rules' record of a GiftEconomy opened in a rolled-back block is looked up again
    before its next write; a dry run only looks (it wrote the record and the platform's
    accounts), and the next real write records them."""
    book = gl.Ledger.open(durable_store_url)
    with book:
        book.open_account("x", "USD", rule=gl.BalanceRule.unrestricted())
        try:
            with book.store.write():
                app = gl.GiftEconomy(book, simple_economy())
                raise Boom
        except Boom:
            pass
        head = book.head
        with pytest.raises(gl.UnknownParty):
            app.send_gift("vic", "cara", "Rose", dry_run=True)
        assert book.head == head
        app.open_viewer("vic")
        assert len(app.rules_history()) == 1
        app.verify()


def test_profiles_read_while_another_thread_empties_them_are_not_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A read copies a party's cached profiles, reads the records after them and keeps the
    whole; if another thread's joined write ended meanwhile (the profiles emptied: the
    copy may hold a record it wrote and rolled back), the read answers but keeps
    nothing (it kept its copy, for good, on the code before)."""
    book, _, app = _world("memory:")
    app.open_viewer("vic")
    app.update_viewer("vic", age=30)
    real = app._records_under

    def meanwhile(r: object, prefix: str, seq: int = 0) -> object:
        out = real(r, prefix, seq)  # type: ignore[arg-type]
        book.store.joined_writes += 1  # type: ignore[attr-defined]  # another thread's block ends
        app._fresh()
        return out

    monkeypatch.setattr(app, "_records_under", meanwhile)
    with book.store.read() as r:
        records = app._party_records(r, "viewer", "vic")
    assert [rec.age for _, rec in records] == [None, 30]
    assert ("viewer", "vic") not in app._party_cache


def test_another_thread_reads_no_profile_of_a_joined_block_before_it_ends(
    postgres_url: str,
) -> None:
    """A profile change made, and read, inside a caller's block is that block's until it
    ends: another thread of the process reads the committed profile meanwhile, and still
    after the block rolled back (on the code before it read the block's change from
    what the chain keeps in this process, which only the block's end emptied)."""
    book, _, app = _world(postgres_url)
    with book:
        app.open_creator("cara")
        app.open_viewer("vic")
        app.buy_coins("vic", pack=100, channel="web")
        seen: list[object] = []

        def other_thread() -> None:
            seen.append(app.viewer("vic").age)
            seen.append(app.party_history("viewer", "vic")[-1][1].age)
            seen.append(len(app.coin_lots("vic")))

        try:
            with book.store.write():
                app.update_viewer("vic", age=40)
                app.buy_coins("vic", pack=100, channel="web")
                app.send_gift("vic", "cara", "Rose")  # reads the profile inside the block
                assert app.viewer("vic").age == 40  # the block's own thread sees its change
                reader = threading.Thread(target=other_thread)
                reader.start()
                reader.join()
                raise Boom
        except Boom:
            pass
        assert seen == [None, None, 1]
        assert app.viewer("vic").age is None
        assert len(app.coin_lots("vic")) == 1
