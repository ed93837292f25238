"""The chain's writes on PostgreSQL: their locks and reads in the key's round trip.

A chain write (``send_gift``, ``buy_coins``, ...) names the accounts it locks and the
reads it makes under them: the next rules' key (the check that the rules did not
change) and, for a gift, the page of the viewer's wallet history its lots are folded
from. The store takes the write's key lock, the accounts and the chain's head in one
round trip and sends those reads after the head in the same one (``read_ahead``), and
a locked account's state is the write's own: a gift goes in two round trips (locks
and reads; the entry and the commit), not seven. Each answer must be what reading it
then would have given: these tests change what the reads see from another store (a
rules change, another writer spending the same viewer's coins) and compare the
outcomes with the memory store's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from moneyed import Money

import giftledger as gl

pytestmark = pytest.mark.postgres


def _app(url: str) -> tuple[gl.Ledger, gl.ManualClock, gl.GiftEconomy]:
    econ = gl.presets.load("tiktok-live")
    clock = gl.ManualClock(econ.latest.effective_from + timedelta(days=1))
    book = gl.Ledger.open(url, clock=clock)
    return book, clock, gl.GiftEconomy(book, econ)


def _parties(app: gl.GiftEconomy) -> None:
    app.open_creator("cara", region="US")
    app.open_viewer("vic", region="US")
    app.buy_coins("vic", pack=70, channel="web", key="buy-1")
    app.buy_coins("vic", pack=350, channel="ios", key="buy-2")


def _entry(tx: gl.Transaction) -> tuple[object, ...]:
    return (tx.id, tx.kind, tx.postings, tx.memo, dict(tx.meta), tx.key)


def test_a_gift_is_two_round_trips_and_writes_what_the_memory_store_writes(
    postgres_url: str, trips: list[int]
) -> None:
    pg_book, _, pg_app = _app(postgres_url)
    mem_book, _, mem_app = _app("memory:")
    with pg_book:
        for app in (pg_app, mem_app):
            _parties(app)
            app.send_gift("vic", "cara", "Rose", key="gift-0")  # folds the purchases
        counted = []
        for i, (gift, n) in enumerate((("Rose", 1), ("Finger Heart", 3), ("Doughnut", 2))):
            trips[0] = 0
            got = pg_app.send_gift("vic", "cara", gift, n, key=f"gift-{i + 1}")
            counted.append(trips[0])
            want = mem_app.send_gift("vic", "cara", gift, n, key=f"gift-{i + 1}")
            assert _entry(got) == _entry(want)
        # The key, the accounts and the head, the rules' key and the wallet's new
        # history: one round trip; the entry and the commit: the second.
        assert counted == [2, 2, 2]
        trips[0] = 0
        again = pg_app.send_gift("vic", "cara", "Doughnut", 2, key="gift-3")
        assert again.id == got.id  # a replay: the same entry, nothing written
        with pytest.raises(gl.InsufficientFunds) as pg_err:
            pg_app.send_gift("vic", "cara", "Hand Heart", 100, key="too-much")
        with pytest.raises(gl.InsufficientFunds) as mem_err:
            mem_app.send_gift("vic", "cara", "Hand Heart", 100, key="too-much")
        assert str(pg_err.value) == str(mem_err.value)
        assert pg_book.balances() == mem_book.balances()
        assert pg_app.coin_lots("vic") == mem_app.coin_lots("vic")
        assert pg_book.head[0] == mem_book.head[0]
        pg_book.verify()


def test_a_viewers_first_gift_in_a_process_reads_its_wallets_entries_with_its_locks(
    postgres_url: str, trips: list[int]
) -> None:
    """A process that has not met the viewer (a new one, or one whose lots index
    dropped them) folds the lots from the wallet's first history page: the page's
    entries (purchases, gifts, a refund) are read ahead with it, in the round trip that
    takes the locks, not in one more. The entries it writes are the memory store's."""
    pg_book, _, pg_app = _app(postgres_url)
    mem_book, _, mem_app = _app("memory:")
    with pg_book:
        for app in (pg_app, mem_app):
            _parties(app)
            app.buy_coins("vic", pack=70, channel="web", key="buy-3")
            app.send_gift("vic", "cara", "Finger Heart", 3, key="gift-0")
            app.refund_purchase("buy-3", key="refund-3")
        counted = []
        for i, gift in enumerate(("Rosa", "Rose")):
            # New to the viewer each time: its own lots index, empty (as another
            # application server's, or one that dropped the viewer).
            fresh = gl.GiftEconomy(pg_book, gl.presets.load("tiktok-live"))
            trips[0] = 0
            got = fresh.send_gift("vic", "cara", gift, 2, key=f"gift-{i + 1}")
            counted.append(trips[0])
            want = mem_app.send_gift("vic", "cara", gift, 2, key=f"gift-{i + 1}")
            assert _entry(got) == _entry(want)
        assert counted == [2, 2]
        assert pg_book.balances() == mem_book.balances()
        assert pg_app.coin_lots("vic") == mem_app.coin_lots("vic")
        pg_book.verify()


def test_a_rules_change_through_another_store_stops_a_chain_write(postgres_url: str) -> None:
    book, _, app = _app(postgres_url)
    with book:
        _parties(app)
        app.send_gift("vic", "cara", "Rose", key="gift-0")
        head = book.head
        with gl.Ledger.open(postgres_url, clock=gl.ManualClock(book.clock.now())) as other:
            gl.GiftEconomy(other, gl.presets.load("tiktok-live", model="D"), rules_change=True)
        assert book.head[0] > head[0]
        balances = book.balances()
        # The rules' next key, now read with the locks, sees the change.
        with pytest.raises(gl.InvalidEconomy, match="rules changed"):
            app.send_gift("vic", "cara", "Rose", key="gift-1")
        with pytest.raises(gl.InvalidEconomy, match="rules changed"):
            app.buy_coins("vic", pack=70, channel="web", key="buy-3")
        assert book.balances() == balances  # refused: nothing posted
        book.verify()


def test_gifts_through_two_stores_spend_one_viewer_lots_first_in_first_out(
    postgres_url: str, trips: list[int]
) -> None:
    """Each store's page of the wallet starts where its own lots stand: when the other
    store sent the last gifts, they are in it, and each is read (its entry) before the
    lots are spent."""
    one_book, _, one = _app(postgres_url)
    mem_book, _, mem = _app("memory:")
    with one_book:
        for app in (one, mem):
            _parties(app)
        two_book, _, two = _app(postgres_url)
        with two_book:
            gifts = ("Rose", "Finger Heart", "Rosa", "Doughnut", "Rose", "Rosa", "Doughnut")
            counted = []
            for i, gift in enumerate(gifts):
                trips[0] = 0
                app = (one, two)[i % 3 % 2]  # one, two, one, one, two, one, ...
                got = app.send_gift("vic", "cara", gift, key=f"gift-{i}")
                counted.append(trips[0])
                want = mem.send_gift("vic", "cara", gift, key=f"gift-{i}")
                assert _entry(got) == _entry(want)
            assert max(counted) > 2  # the other store's gifts were read
            for app in (one, two):
                assert app.coin_lots("vic") == mem.coin_lots("vic")
            assert two_book.balances() == mem_book.balances()
        one_book.verify()


def test_answers_read_ahead_are_forgotten_once_the_write_appends(
    postgres_url: str, trips: list[int]
) -> None:
    """A write's reads ahead are exact until it writes: after an append, the same read
    goes to the database and sees the write's own entry."""
    book = gl.Ledger.open(postgres_url)
    with book:
        book.open_account("supply", "USD", normal="credit", rule=gl.BalanceRule.unrestricted())
        book.open_account("alice", "USD")
        first = book.post([gl.debit("alice", "10.00"), gl.credit("supply", "10.00")], key="first")
        store = book.store
        assert isinstance(store, gl.PostgresStore)
        with store.write() as w:
            w.read_ahead(["alice", "supply"], ["first", "nothing"], [("alice", 0, 10)])
            trips[0] = 0
            record = w.idempotency("nothing")  # asks with the key: locks and reads all
            assert record is None
            states = w.lock_accounts(["alice", "supply"])  # already locked: no query
            assert states["alice"].net == 1000
            assert w.account_state("alice") is states["alice"]
            before = w.history("alice", 0, 10)
            assert [row.transaction_id for row in before] == [first.id]
            record = w.idempotency("first")
            assert record is not None
            assert record.transaction_id == first.id
            assert trips[0] == 1  # all of it in the key's round trip
        # A write that appends before it reads forgets what it read ahead.
        with store.write() as w:
            w.read_ahead(["alice", "supply"], ["first"], [("alice", 0, 10)])
            assert w.idempotency("another") is None
            tx = book._post_body(
                w,
                None,
                None,
                [gl.debit("alice", "1.00"), gl.credit("supply", "1.00")],
                None,
                "",
                None,
                None,
                (),
                False,
            )
            after = w.history("alice", 0, 10)
            assert [row.transaction_id for row in after] == [first.id, tx.id]
            assert after[-1].net_after == 1100
            assert w.account_state("alice").net == 1100  # its own change, kept as it wrote
            again = w.idempotency("first")  # not read ahead again: read now
            assert again is not None
            assert again.transaction_id == first.id
        assert book.balance("alice").amount == 11
        assert book.head[0] == tx.id
        book.verify()


def test_an_entry_and_its_postings_are_read_in_one_round_trip(
    postgres_url: str, trips: list[int]
) -> None:
    book = gl.Ledger.open(postgres_url)
    with book:
        book.open_account("supply", "USD", normal="credit", rule=gl.BalanceRule.unrestricted())
        book.open_account("alice", "USD")
        posted = [
            book.post([gl.debit("alice", f"{i}.00"), gl.credit("supply", f"{i}.00")], memo=f"{i}")
            for i in range(1, 4)
        ]
        store = book.store
        with store.read() as r:
            trips[0] = 0
            got = r.transaction(posted[1].id)
            assert trips[0] == 1
            assert r.transaction(10**6) is None
            trips[0] = 0
            listed = list(r.transactions(posted[0].id))
            assert trips[0] == 2  # the head, then one page: its entries and their postings
        assert got == posted[1]
        assert listed == posted


@pytest.mark.parametrize("url", ["memory:", "postgres"])
def test_an_account_opened_in_a_write_that_looked_for_it_is_found_after_a_hold(
    url: str, request: pytest.FixtureRequest
) -> None:
    """A write remembers the names it locked and found missing (no writer can open one
    while it holds the head), until it opens one itself: a hold with an expiry on it then
    makes the write read the account again, and a post to it finds it."""
    if url == "postgres":
        url = request.getfixturevalue("postgres_url")
    clock = gl.ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    book = gl.Ledger.open(url, clock=clock)
    with book:
        book.open_account("supply", "USD", normal="credit", rule=gl.BalanceRule.unrestricted())
        with book.store.write():
            book.open_account("x", "USD", rule=gl.BalanceRule.unrestricted())
            book.hold("x", "supply", "1.00", expires_at=clock.now() + timedelta(days=1))
            tx = book.post([gl.debit("x", "2.00"), gl.credit("supply", "2.00")])
        assert book.transaction(tx.id) == tx
        assert book.balance("x").amount == 2
        book.verify()


def test_the_first_entry_at_a_time_is_found_by_the_server_in_one_round_trip(
    postgres_url: str, trips: list[int]
) -> None:
    """``first_id_at`` as the client's binary search finds it (a store without the hook),
    for times before, at, between and after entries, several entries sharing a time."""
    from giftledger._economy import index

    clock = gl.ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    mem = gl.Ledger(clock=clock)
    book = gl.Ledger.open(postgres_url, clock=clock)
    with book:
        with book.store.read() as r:
            assert index.first_id_at(r, clock.now()) == 1  # an empty journal
        for b in (mem, book):
            b.open_account("supply", "USD", normal="credit", rule=gl.BalanceRule.unrestricted())
            b.open_account("alice", "USD")
        times = []
        for i in range(23):
            clock.advance(timedelta(seconds=0 if i % 4 == 1 else 7))  # some share a time
            times.append(clock.now())
            for b in (mem, book):
                b.post([gl.debit("alice", "1.00"), gl.credit("supply", "1.00")])
        assert mem.head[0] == book.head[0]
        probes = [times[0] - timedelta(days=1), *times, times[-1] + timedelta(microseconds=1)]
        probes += [t + timedelta(seconds=3) for t in times]
        with mem.store.read() as m, book.store.read() as r:
            assert not hasattr(m, "first_id_at")  # the memory store searches on the client
            for at in probes:
                trips[0] = 0
                got = index.first_id_at(r, at)
                assert trips[0] == 1
                assert got == index.first_id_at(m, at), at


def test_a_purchase_is_two_round_trips_and_follows_a_region_changed_elsewhere(
    postgres_url: str, trips: list[int]
) -> None:
    """A purchase guesses its accounts (to lock them with its key) from the viewer's
    profile as this process last read it; when another process moved the viewer to
    another region (another tax: another account), the quote, reading the profile
    under the locks, posts where the memory store posts."""
    book, _, app = _app(postgres_url)
    mem_book, _, mem = _app("memory:")
    with book:
        for a in (app, mem):
            _parties(a)
        trips[0] = 0
        got = app.buy_coins("vic", pack=70, channel="web", key="buy-3")
        assert trips[0] == 2  # the key, the accounts, the head and the reads; the commit
        want = mem.buy_coins("vic", pack=70, channel="web", key="buy-3")
        assert _entry(got) == _entry(want)
        other_book, _, other = _app(postgres_url)
        with other_book:
            other.update_viewer("vic", region="DE")
        mem.update_viewer("vic", region="DE")
        got = app.buy_coins("vic", pack=70, channel="web", key="buy-4")
        want = mem.buy_coins("vic", pack=70, channel="web", key="buy-4")
        assert _entry(got) == _entry(want)
        assert "liabilities:tax-payable:DE" in {p.account for p in got.postings}
        assert book.balances() == mem_book.balances()
        book.verify()


AWKWARD = ("o'brien", '"quoted"', "100%_off\\back`tick`", "a;b$1?%s{name}%%", "ünï 日本 🎁")


def test_awkward_names_and_keys_go_through_the_reads_ahead(postgres_url: str) -> None:
    """Keys, wallet pages and profile keys read ahead are sent as literals the store
    writes itself (prepared statements' arguments): quotes, backslashes, percent signs
    and placeholders in names and keys reach the database as they are."""
    book, _, app = _app(postgres_url)
    mem_book, _, mem = _app("memory:")
    with book:
        for a in (app, mem):
            a.open_creator("cara", region="US")
            for name in AWKWARD:
                a.open_viewer(name, region="US")
                a.buy_coins(name, pack=70, channel="web", key=f"buy:{name}")
        for i, name in enumerate(AWKWARD * 2):
            key = f"gift {name} {i % len(AWKWARD)}"  # each key twice: the second replays
            got = app.send_gift(name, "cara", "Rose", key=key)
            want = mem.send_gift(name, "cara", "Rose", key=key)
            assert _entry(got) == _entry(want)
            assert app.buy_coins(name, pack=70, channel="web", key=f"buy:{name}").id == (
                mem.buy_coins(name, pack=70, channel="web", key=f"buy:{name}").id
            )
        for name in AWKWARD:
            assert app.coin_lots(name) == mem.coin_lots(name)
        assert book.balances() == mem_book.balances()
        book.verify()


def test_a_page_read_ahead_that_the_fold_does_not_ask_for_is_read_again(
    postgres_url: str, trips: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the page read ahead is not the one the lots' fold asks for (the process
    dropped the viewer's lots meanwhile, or another thread moved them), the fold reads
    its own page: one more round trip, the same gift."""
    from giftledger._economy.index import LotIndex

    book, _, app = _app(postgres_url)
    mem_book, _, mem = _app("memory:")
    with book:
        for a in (app, mem):
            _parties(a)
            a.send_gift("vic", "cara", "Rose", key="gift-0")
        wrong = [0]

        def stale(self: LotIndex, viewer: str) -> tuple[str, int, int]:
            wrong[0] += 1
            return (f"viewers:{viewer}:coins", 0, 4096)  # from the wallet's first entry

        monkeypatch.setattr(LotIndex, "page_ahead", stale)
        trips[0] = 0
        got = app.send_gift("vic", "cara", "Finger Heart", 2, key="gift-1")
        assert wrong[0] == 1
        assert trips[0] == 3  # the locks and the wrong page; the fold's page; the commit
        want = mem.send_gift("vic", "cara", "Finger Heart", 2, key="gift-1")
        assert _entry(got) == _entry(want)
        assert app.coin_lots("vic") == mem.coin_lots("vic")
        assert book.balances() == mem_book.balances()
        book.verify()


class _Key(str):
    """A caller's own key type: a subclass of str."""


def test_a_key_of_a_str_subclass_is_sent_as_its_text(postgres_url: str) -> None:
    book, _, app = _app(postgres_url)
    _, _, mem = _app("memory:")
    with book:
        for a in (app, mem):
            _parties(a)
        for i in (1, 1, 2):  # the second replays
            got = app.send_gift("vic", "cara", "Rose", key=_Key(f"gift-{i}"))
            want = mem.send_gift("vic", "cara", "Rose", key=_Key(f"gift-{i}"))
            assert _entry(got) == _entry(want)
        assert app.send_gift("vic", "cara", "Rose", key="gift-1").id == got.id - 1
        post = book.post(
            [gl.debit("viewers:vic:coins", 1), gl.credit("platform:coin-supply", 1)],
            key=_Key("core-1"),
        )
        assert (
            book.post(
                [gl.debit("viewers:vic:coins", 1), gl.credit("platform:coin-supply", 1)],
                key="core-1",
            ).id
            == post.id
        )
        book.verify()


def test_a_replayed_chain_write_releases_the_head_before_it_reads_its_entry(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key, the accounts and the head are taken together (a purchase: a gift takes
    the head only as it commits); when the key has a record the write only replays, and
    its next round trip (reading the entry) starts with a ROLLBACK: another writer can
    take the head while the replay is still reading."""
    from urllib.parse import parse_qs, urlsplit

    from giftledger._stores import postgres as pgstore

    psycopg = pytest.importorskip("psycopg")
    book, _, app = _app(postgres_url)
    schema = parse_qs(urlsplit(postgres_url).query)["schema"][0]
    admin = postgres_url.split("?")[0]
    with book, psycopg.connect(admin, autocommit=True) as probe:
        probe.execute(f'SET search_path TO "{schema}"')
        _parties(app)
        first = app.buy_coins("vic", pack=70, channel="web", key="buy-3")

        def head_free() -> bool:
            with probe.transaction():
                row = probe.execute(
                    "SELECT pg_try_advisory_xact_lock(%s, gl_ledger())", (pgstore._LOCK_HEAD,)
                ).fetchone()
                return bool(row and row[0])

        free: list[bool] = []
        real = pgstore._Session._send

        def send(self: Any, *args: Any, **kwargs: Any) -> Any:
            out = real(self, *args, **kwargs)
            if self._writer:
                free.append(head_free())  # after each round trip of the write
            return out

        monkeypatch.setattr(pgstore._Session, "_send", send)
        again = app.buy_coins("vic", pack=70, channel="web", key="buy-3")
        monkeypatch.undo()
        assert again == first
        # Held after the key's round trip (the locks came with it), free once the
        # replay read its entry (its ROLLBACK went first), before the write ended.
        assert free[0] is False
        assert free[1:] == [True] * (len(free) - 1)
        assert len(free) == 3  # the key's round trip, the entry's, the end's
        # The write goes on normally after it: a new key writes.
        tx = app.buy_coins("vic", pack=70, channel="web", key="buy-4")
        assert tx.id > first.id
        book.verify()


def test_entries_another_process_wrote_are_read_together(
    postgres_url: str, trips: list[int]
) -> None:
    """A gift folds into the viewer's lots, and a conversion sums the creator's carries,
    from entries this process did not write: they are read in one round trip, however
    many there are (one each on the code before)."""
    book, clock, app = _app(postgres_url)
    mem_book, mem_clock, mem = _app("memory:")
    with book:
        for a in (app, mem):
            _parties(a)
            a.send_gift("vic", "cara", "Rose", key="gift-0")
        other_book, _, other = _app(postgres_url)
        with other_book:
            for i in range(1, 25):  # 24 gifts this process did not see
                gift = ("Rose", "Finger Heart", "Rosa")[i % 3]
                other.send_gift("vic", "cara", gift, key=f"gift-{i}")
                mem.send_gift("vic", "cara", gift, key=f"gift-{i}")
        trips[0] = 0
        got = app.send_gift("vic", "cara", "Rose", key="gift-25")
        assert trips[0] == 3  # the locks and reads; the 24 entries; the commit
        want = mem.send_gift("vic", "cara", "Rose", key="gift-25")
        assert _entry(got) == _entry(want)
        for c in (clock, mem_clock):
            c.advance(timedelta(days=2))
        trips[0] = 0
        got = app.convert_diamonds("cara", key="convert-1")
        converted = trips[0]
        want = mem.convert_diamonds("cara", key="convert-1")
        assert _entry(got) == _entry(want)
        assert converted <= 8  # its gifts' entries in one round trip (one per gift before)
        assert app.coin_lots("vic") == mem.coin_lots("vic")
        assert book.balances() == mem_book.balances()
        book.verify()


def test_a_withdrawal_reads_its_caps_window_in_round_trips_that_do_not_grow(
    postgres_url: str, trips: list[int]
) -> None:
    """A withdrawal's daily cap adds up the creator's withdrawals of the day: their holds
    (only those of the window, not every one the creator ever had) and their entries are
    read in one round trip each, however many there are (on the code before: the window
    searched twice and each entry read once per window, two round trips more per
    withdrawal in it), and a creator whose profile the process knows is not read before
    the write. The caps still count each one: the memory store agrees."""
    book, _, app = _app(postgres_url)
    mem_book, _, mem = _app("memory:")
    with book:
        for a in (app, mem):
            a.open_creator("cara", region="US", age=30)
            a.open_viewer("fan", region="US")
            for _ in range(16):
                a.buy_coins("fan", pack=17500, channel="web")
            a.send_gift("fan", "cara", "Lion", 8)  # $1,199.92 once converted
            a.convert_diamonds("cara")
        counts = []
        for i in range(4):
            trips[0] = 0
            got = app.request_withdrawal("cara", Money("200", "USD"), key=f"w{i}")
            counts.append(trips[0])
            want = mem.request_withdrawal("cara", Money("200", "USD"), key=f"w{i}")
            assert got == want
        # The locks and reads; the window's first entry; its holds; their entries (none
        # the first time); the commit. The creator's profile (its payout currency, which
        # never changes) is known from the conversion: no read before the write; a hold
        # this call placed is pending as written: no read of its status after it
        # ([5, 6, 6, 6] before that; [7, 8, 8, 8] before the profile; 11, 13, 15 … before
        # the window's reads were batched).
        assert counts == [4, 5, 5, 5]
        for a in (app, mem):  # the daily cap ($1,000) counts all four
            with pytest.raises(gl.LimitExceeded, match=r"today's withdrawals to 1001\.00 USD"):
                a.request_withdrawal("cara", Money("201", "USD"))
            assert a.request_withdrawal("cara", "all").amount == Money("200.00", "USD")  # capped
        # A replay reads its hold's status (it may have moved on): settled since, it says so.
        app.fail_withdrawal(got.id)
        mem.fail_withdrawal(want.id)
        trips[0] = 0
        again = app.request_withdrawal("cara", Money("200", "USD"), key="w3")
        assert again == mem.request_withdrawal("cara", Money("200", "USD"), key="w3")
        assert (again.status, again.id) == (gl.HoldStatus.VOIDED, got.id)
        assert book.balances() == mem_book.balances()
        book.verify()


def test_a_conversion_reads_its_carry_pages_with_its_locks(
    postgres_url: str, trips: list[int]
) -> None:
    """A conversion sums the carries of the creator's gifts since the last one it saw,
    from the creator's payable and Diamond histories: their first pages come with the
    write's locks (read ahead), with their entries, and the creator's profile in one
    round trip: three round trips the first time (the profile; the locks, the reads and
    the gifts' entries; the commit) and the next (eight and five before the reads ahead,
    four and three before their entries). It converts what the memory store converts."""
    book, clock, app = _app(postgres_url)
    mem_book, mem_clock, mem = _app("memory:")
    with book:
        for a in (app, mem):
            _parties(a)
            for i in range(6):
                a.send_gift("vic", "cara", ("Rose", "Finger Heart")[i % 2], key=f"gift-{i}")
        for c in (clock, mem_clock):
            c.advance(timedelta(days=2))
        counts = []
        for n in range(2):
            trips[0] = 0
            got = app.convert_diamonds("cara", key=f"convert-{n}")
            counts.append(trips[0])
            assert _entry(got) == _entry(mem.convert_diamonds("cara", key=f"convert-{n}"))
            for a in (app, mem):
                a.send_gift("vic", "cara", "Finger Heart", 3, key=f"more-{n}")
        assert counts == [3, 3]
        assert book.balances() == mem_book.balances()
        book.verify()
