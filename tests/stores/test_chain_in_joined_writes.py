"""Chain calls inside a caller's own ``store.write()`` block that is then rolled back.

A write opened inside an open one joins it: it commits or rolls back with the outer
block. A chain call run there keeps, in this process, what it read and wrote (a
viewer's lots, a creator's carries, a party's profile); once the block rolls back,
those entries never were, and their ids go to entries written later (here, by another
store on the same book). The store counts such rollbacks (``joined_rollbacks``) and
the chain drops what it kept when the count moves: every later call writes what the
memory store, which never saw the rolled-back calls, writes. On the code before, a
conversion after a rolled-back gift and conversion summed the wrong carries.
"""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

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
        rollbacks = book.store.joined_rollbacks  # type: ignore[attr-defined]

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
        assert book.store.joined_rollbacks == rollbacks + 1  # type: ignore[attr-defined]
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
