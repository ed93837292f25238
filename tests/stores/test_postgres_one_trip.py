"""``Ledger.post`` on PostgreSQL in one round trip (schema 4).

A store that knows a post's accounts from an earlier write reads nothing before the
commit: ``gl_link`` locks the accounts with a floor, checks their balance rules,
computes every running balance, links and commits. What the ledger must decide
itself (a rule that would break, an account closed or unknown, holds past their
expiry, a balance past 64 bits) is refused by the server (SQLSTATE ``GLRUN``) and run
again reading the accounts, so the caller gets the error the ledger names on every
store, and nothing is written. Each test replays the same requests on the memory
store: same outcome, same message, same balances.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from moneyed import Money

import giftledger as gl

pytestmark = pytest.mark.postgres

START = datetime(2026, 1, 1, tzinfo=UTC)


def _open(url: str) -> tuple[gl.Ledger, gl.ManualClock]:
    clock = gl.ManualClock(START)
    book = gl.Ledger.open(url, clock=clock)
    book.open_account("supply", "USD", normal="credit", rule=gl.BalanceRule.unrestricted())
    book.open_account("alice", "USD")  # must not go negative
    book.open_account("bob", "USD")
    book.post([gl.debit("alice", "10.00"), gl.credit("supply", "10.00")])
    return book, clock


def _both(url: str) -> list[tuple[gl.Ledger, gl.ManualClock]]:
    return [_open(url), _open("memory:")]


def _balances(book: gl.Ledger, name: str) -> list[Money]:
    """The account's balance after each of its postings, as the store keeps them."""
    return [line.balance_after for line in book.history(name, limit=10_000).items]


def _refusal(book: gl.Ledger, call: Callable[[], object], journaled: int = 0) -> str:
    """The error ``call`` raises, as ``Type: message``; no money moved."""
    head = book.head[0]
    balances = {a.name: book.balance(a.name) for a in book.accounts()}
    with pytest.raises(gl.GiftLedgerError) as caught:
        call()
    assert book.head[0] == head + journaled  # nothing written (or the failure's KEY entry)
    assert {a.name: book.balance(a.name) for a in book.accounts()} == balances
    return f"{type(caught.value).__name__}: {caught.value}"


def test_a_post_to_known_accounts_is_one_round_trip(postgres_url: str, trips: list[int]) -> None:
    book, _ = _open(postgres_url)
    with book:
        trips[0] = 0
        tx = book.post([gl.credit("alice", "1.00"), gl.debit("supply", "1.00")])
        assert trips[0] == 1
        assert book.transaction(tx.id) == tx
        # Its running balances are the real ones, not the zero the client started from.
        assert _balances(book, "alice") == [
            Money("10.00", "USD"),
            Money("9.00", "USD"),
        ]
        assert _balances(book, "supply")[-1] == Money("9.00", "USD")
        assert book.verify() == tx.id


def test_a_broken_floor_is_named_as_on_every_store_and_writes_nothing(
    postgres_url: str, trips: list[int]
) -> None:
    messages = []
    for book, _ in _both(postgres_url):
        with book:
            messages.append(
                _refusal(
                    book,
                    lambda b=book: b.post(
                        [gl.credit("alice", "10.01"), gl.debit("supply", "10.01")]
                    ),
                )
            )
            assert book.balance("alice") == Money("10.00", "USD")
            trips[0] = 0
            book.post([gl.credit("alice", "10.00"), gl.debit("supply", "10.00")])
            # On PostgreSQL the refusal did not stop the next post going in one trip.
            assert trips[0] == (1 if book.store.url.startswith("postgresql") else 0)
            assert book.balance("alice") == Money("0.00", "USD")
    assert "InsufficientFunds" in messages[0]
    assert messages[0] == messages[1]


def test_a_wallet_another_writer_drained_is_checked_by_its_real_balance(
    postgres_url: str,
) -> None:
    book, _ = _open(postgres_url)
    with book, gl.Ledger.open(postgres_url) as other:
        other.post([gl.credit("alice", "8.00"), gl.debit("supply", "8.00")])
        # This store still knows alice from its own post, when she had 10.00.
        message = _refusal(
            book, lambda: book.post([gl.credit("alice", "5.00"), gl.debit("supply", "5.00")])
        )
        assert "InsufficientFunds" in message
        assert "available now 2.00 USD" in message
        tx = book.post([gl.credit("alice", "2.00"), gl.debit("supply", "2.00")])
        assert _balances(book, "alice")[-1] == Money("0.00", "USD")
        assert _balances(book, "supply")[-1] == Money("0.00", "USD")
        assert book.verify() == tx.id


def test_running_balances_stay_exact_when_another_writer_posts_between(
    postgres_url: str,
) -> None:
    book, _ = _open(postgres_url)
    with book, gl.Ledger.open(postgres_url) as other:
        for i in range(1, 6):
            writer = book if i % 2 else other
            writer.post([gl.credit("alice", "1.00"), gl.debit("bob", "1.00")])
            writer.post([gl.debit("alice", "0.50"), gl.credit("supply", "0.50")])
        assert _balances(book, "alice") == [
            Money(x, "USD")
            for x in ("10", "9", "9.5", "8.5", "9", "8", "8.5", "7.5", "8", "7", "7.5")
        ]
        assert _balances(book, "bob")[-1] == Money("5.00", "USD")
        assert _balances(book, "supply")[-1] == Money("12.50", "USD")
        assert book.verify() == other.verify()


def test_an_account_closed_by_another_writer_refuses_the_post(postgres_url: str) -> None:
    book, _ = _open(postgres_url)
    with book, gl.Ledger.open(postgres_url) as other:
        book.post([gl.debit("bob", "1.00"), gl.credit("supply", "1.00")])
        other.post([gl.credit("bob", "1.00"), gl.debit("supply", "1.00")])
        other.close_account("bob")
        message = _refusal(
            book, lambda: book.post([gl.debit("bob", "1.00"), gl.credit("supply", "1.00")])
        )
        assert message.startswith("AccountClosed: ")
        assert "'bob' is closed" in message


def test_holds_count_as_the_ledger_counts_them_pending_and_past_their_expiry(
    postgres_url: str,
) -> None:
    outcomes = []
    for book, clock in _both(postgres_url):
        with book:
            book.post([gl.credit("alice", "1.00"), gl.debit("supply", "1.00")])  # known
            book.hold("supply", "alice", "6.00", timeout=timedelta(minutes=1))
            # 9.00 posted, 6.00 held: 3.00 available.
            refused = _refusal(
                book, lambda b=book: b.post([gl.credit("alice", "4.00"), gl.debit("bob", "4.00")])
            )
            book.post([gl.credit("alice", "3.00"), gl.debit("bob", "3.00")])
            # Past its expiry the hold no longer counts (the server leaves that to the
            # ledger: the write runs again reading the holds).
            clock.advance(timedelta(minutes=2))
            tx = book.post([gl.credit("alice", "6.00"), gl.debit("bob", "6.00")])
            outcomes.append((refused, book.balance("alice"), book.balance("bob"), tx.id))
            assert book.verify() == tx.id
    assert "InsufficientFunds" in outcomes[0][0]
    assert outcomes[0] == outcomes[1]


def test_a_balance_past_64_bits_is_refused_as_on_every_store(postgres_url: str) -> None:
    top = 10**18  # the most one amount may hold, in minor units (cents here)
    messages = []
    for book, _ in _both(postgres_url):
        with book:
            book.open_account("sink", "USD", normal="credit", rule=gl.BalanceRule.unrestricted())
            book.post([gl.debit("bob", 1), gl.credit("sink", 1)])  # both known
            postings = [gl.debit("bob", top // 100), gl.credit("sink", top // 100)] * 9
            book.post(postings)  # 9 * 10**18 cents: near the top of a signed 64-bit int
            messages.append(_refusal(book, lambda b=book, p=postings: b.post(p)))
            assert book.balance("bob") == Money(9 * top // 100 + 1, "USD")
    assert messages[0].startswith("AmountOutOfRange: ")
    assert messages[0] == messages[1]


def test_an_unknown_account_is_named_even_if_the_store_knew_it(postgres_url: str) -> None:
    # The store's knowledge of an account is only a guess: one that is gone (removed
    # behind the triggers' back) is refused by the server and named by the ledger.
    book, _ = _open(postgres_url)
    with book:
        book.post([gl.debit("bob", "1.00"), gl.credit("supply", "1.00")])
        known = book.store._defs["bob"]  # type: ignore[attr-defined]
        book.store._defs["carol"] = type(known)(  # type: ignore[attr-defined]
            "carol", "USD", gl.Side.DEBIT, gl.BalanceRule(0), False, False, ()
        )
        message = _refusal(
            book, lambda: book.post([gl.debit("carol", "1.00"), gl.credit("supply", "1.00")])
        )
        assert message.startswith("UnknownAccount: ")
        assert "'carol'" in message


@pytest.mark.parametrize(
    "guess",
    [
        pytest.param({"rule": gl.BalanceRule.unrestricted()}, id="floor-unknown"),
        pytest.param({"unit": "EUR"}, id="other-unit"),
    ],
)
def test_an_account_the_store_knew_otherwise_is_read_before_it_is_written(
    postgres_url: str, guess: dict[str, Any]
) -> None:
    # A database restored behind a running store may hold other accounts under the
    # same names: the server checks each account is the one the client knew (its
    # unit, and a floor where the client wrote to slots), else the write runs again
    # reading the accounts, and the rules of the real ones hold.
    book, _ = _open(postgres_url)
    with book:
        book.post([gl.credit("alice", "1.00"), gl.debit("supply", "1.00")])
        known = book.store._defs["alice"]  # type: ignore[attr-defined]
        fields = {"rule": known.rule, "unit": known.unit, **guess}
        book.store._defs["alice"] = type(known)(  # type: ignore[attr-defined]
            "alice", fields["unit"], known.normal, fields["rule"], False, False, ()
        )
        message = _refusal(
            book, lambda: book.post([gl.credit("alice", "9.01"), gl.debit("supply", "9.01")])
        )
        assert message.startswith("InsufficientFunds: ")
        assert "available now 9.00 USD" in message
        book.post([gl.credit("alice", "9.00"), gl.debit("supply", "9.00")])
        assert _balances(book, "alice")[-1] == Money("0.00", "USD")
        assert book.store._defs["alice"] == known  # type: ignore[attr-defined]
        assert book.verify() == book.head[0]


def test_a_keyed_post_is_one_round_trip_and_replays_as_on_every_store(
    postgres_url: str, trips: list[int]
) -> None:
    outcomes = []
    for book, _ in _both(postgres_url):
        with book:
            gift = [gl.credit("alice", "1.00"), gl.debit("supply", "1.00")]
            trips[0] = 0
            first = book.post(gift, key="gift-1")
            sent = trips[0]
            assert book.post(gift, key="gift-1") == first  # a retry replays it
            conflict = _refusal(
                book,
                lambda b=book: b.post(
                    [gl.credit("alice", "2.00"), gl.debit("supply", "2.00")], key="gift-1"
                ),
            )
            # A request that is invalid in itself, under a used key: the key decides.
            invalid = _refusal(book, lambda b=book, g=gift: b.post([g[0]], key="gift-1"))
            # A failure is remembered under its key, and replayed.
            big = [gl.credit("alice", "100.00"), gl.debit("supply", "100.00")]
            # (remembered in a KEY entry: the journal grows by one)
            failed = _refusal(book, lambda b=book, p=big: b.post(p, key="gift-2"), 1)
            again = _refusal(book, lambda b=book, p=big: b.post(p, key="gift-2"))
            outcomes.append((first.id, conflict, invalid, failed, again, book.balance("alice")))
            if book.store.url.startswith("postgresql"):
                assert sent == 1
    assert outcomes[0][1].startswith("DuplicateKeyConflict: ")
    assert outcomes[0][2].startswith("DuplicateKeyConflict: ")
    assert outcomes[0][3].startswith("InsufficientFunds: ")
    assert outcomes[0][4] == outcomes[0][3] + " (replayed for idempotency key 'gift-2')"
    assert outcomes[0] == outcomes[1]


def test_a_key_used_by_another_writer_meanwhile_replays_its_entry(postgres_url: str) -> None:
    book, _ = _open(postgres_url)
    with book, gl.Ledger.open(postgres_url) as other:
        gift = [gl.credit("alice", "1.00"), gl.debit("supply", "1.00")]
        theirs = other.post(gift, key="gift-1")
        # This store knows alice and supply, and looks no key up before its commit.
        assert book.post(gift, key="gift-1") == theirs
        assert book.balance("alice") == Money("9.00", "USD")
        assert book.verify() == theirs.id


def test_concurrent_first_uses_of_one_key_post_once(postgres_url: str) -> None:
    import threading

    book, _ = _open(postgres_url)
    with book:
        gift = [gl.credit("alice", "1.00"), gl.debit("supply", "1.00")]
        got: list[object] = []
        start = threading.Barrier(6)

        def send() -> None:
            start.wait()
            try:
                got.append(book.post(gift, key="same"))
            except gl.GiftLedgerError as exc:  # pragma: no cover - the test fails on it
                got.append(exc)

        threads = [threading.Thread(target=send) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(isinstance(g, gl.Transaction) for g in got), got
        assert len({g.id for g in got if isinstance(g, gl.Transaction)}) == 1
        assert book.balance("alice") == Money("9.00", "USD")
        assert book.verify() == book.head[0]


def test_a_key_whose_record_was_removed_is_refused_not_posted_twice(
    postgres_url: str, postgres_server: tuple[str, list[str]]
) -> None:
    import psycopg

    book, _ = _open(postgres_url)
    with book:
        gift = [gl.credit("alice", "1.00"), gl.debit("supply", "1.00")]
        tx = book.post(gift, key="gift-1")
        schema = postgres_url.rsplit("schema=", 1)[1]
        with psycopg.connect(postgres_server[0], autocommit=True) as conn:
            conn.execute(f'ALTER TABLE "{schema}".gl_keys DISABLE TRIGGER USER')
            conn.execute(f'DELETE FROM "{schema}".gl_keys WHERE key = %s', ("gift-1",))
        message = _refusal(book, lambda: book.post(gift, key="gift-1"))
        assert message.startswith("ChainBroken: ")
        assert f"transaction {tx.id} carries idempotency key 'gift-1'" in message
        assert book.balance("alice") == Money("9.00", "USD")


def test_a_transfer_between_known_accounts_is_one_round_trip(
    postgres_url: str, trips: list[int]
) -> None:
    book, _ = _open(postgres_url)
    with book:
        trips[0] = 0
        book.transfer("bob", "alice", "1.00")
        assert trips[0] == 1
        book.open_account("euros", "EUR")
        message = _refusal(book, lambda: book.transfer("euros", "alice", "1.00"))
        assert message == (
            "CurrencyMismatch: cannot transfer from 'alice' (USD) to 'euros' (EUR): units "
            "differ; convert through trading accounts with convert()"
        )


@pytest.mark.parametrize("amount", ["1.00", Money("1.00", "USD")], ids=["str", "money"])
def test_a_transfer_between_accounts_the_store_knew_with_one_unit_names_the_mismatch(
    postgres_url: str, trips: list[int], amount: object
) -> None:
    # A database restored behind a running store may hold an account of the same name
    # in another unit: the unit check used the store's knowledge, the server refuses
    # the post, and the write, reading the accounts, raises what the memory store
    # raises before it writes: CurrencyMismatch, never remembered under a key.
    expected = (
        "CurrencyMismatch: cannot transfer from 'alice' (USD) to 'euros' (EUR): units "
        "differ; convert through trading accounts with convert()"
    )
    memory, _ = _open("memory:")
    memory.open_account("euros", "EUR")
    assert _refusal(memory, lambda: memory.transfer("euros", "alice", amount)) == expected
    book, _ = _open(postgres_url)
    with book:
        book.open_account("euros", "EUR")
        store: Any = book.store
        head, balances = book.head, {a.name: book.balance(a.name) for a in book.accounts()}

        def transfer(key: str | None = None) -> str:
            # The store's knowledge is stale only now (a read above refreshed it).
            store._defs["euros"] = attrs.evolve(store._defs["euros"], unit="USD")
            trips[0] = 0
            with pytest.raises(gl.GiftLedgerError) as caught:
                book.transfer("euros", "alice", amount, key=key)  # type: ignore[arg-type]
            assert trips[0] > 1  # refused by the server, then run again reading
            assert caught.value.__suppress_context__  # no traceback of the refusal
            return f"{type(caught.value).__name__}: {caught.value}"

        assert transfer() == expected
        assert store._defs["euros"].unit == "EUR"  # read as it is, and known so
        assert transfer(key="k") == expected
        assert transfer(key="k") == expected  # not a replay: nothing was remembered
        assert book.head == head
        assert {a.name: book.balance(a.name) for a in book.accounts()} == balances
        # The key is free, as on the memory store.
        book.transfer("bob", "alice", "1.00", key="k")
        assert book.verify() == book.head[0]


@pytest.mark.parametrize("key", [None, "k"], ids=["plain", "keyed"])
def test_a_transfer_naming_no_account_looks_for_it_once_in_its_write(
    postgres_url: str, trips: list[int], key: str | None
) -> None:
    # The transfer's unit check locks its accounts for the post that follows: an
    # account that does not exist is not looked for again. (Before it writes, a
    # transfer reads the names its store does not know, for their units: one trip
    # more than the same post.)
    book, _ = _open(postgres_url)
    with book:
        sent = []

        def counted(call: Callable[[], object]) -> Callable[[], object]:
            def run() -> object:
                trips[0] = 0
                try:
                    return call()
                finally:
                    sent.append(trips[0])

            return run

        post = [gl.debit("nobody", "1.00"), gl.credit("alice", "1.00")]
        for call in (
            counted(lambda: book.post(post, key=key)),
            counted(lambda: book.transfer("nobody", "alice", "1.00", key=key and key + "2")),
        ):
            message = _refusal(book, call, journaled=0 if key is None else 1)
            assert message == (
                "UnknownAccount: posting 0: unknown account 'nobody'; open it with "
                "open_account() first"
            )
        assert sent[1] == sent[0] + 1


def test_a_record_seen_closed_is_replaced_by_the_account_as_a_write_reads_it(
    postgres_url: str, trips: list[int]
) -> None:
    # A store that saw an account closed, in a database restored with it open: the
    # first write reads it as it is, and the next post goes in one round trip again.
    book, _ = _open(postgres_url)
    with book:
        store: Any = book.store
        store._defs["bob"] = attrs.evolve(store._defs["bob"], closed=True)
        book.post([gl.debit("bob", "1.00"), gl.credit("supply", "1.00")])
        assert store.known_account("bob").closed is False
        trips[0] = 0
        book.post([gl.debit("bob", "1.00"), gl.credit("supply", "1.00")])
        assert trips[0] == 1
        # A reader's snapshot may be older than a close: it does not reopen a record.
        store._defs["bob"] = attrs.evolve(store._defs["bob"], closed=True)
        book.balance("bob")
        book.accounts()
        assert store.known_account("bob").closed is True


def test_a_post_waiting_for_the_head_never_shares_a_slot_row_with_its_holder(
    postgres_url: str, postgres_server: tuple[str, list[str]]
) -> None:
    # Slot rows may be shared: a session that claimed no slot writes to its pid's
    # (modulo 1024), which may be another's claimed one (here the holder's setting is
    # made the poster's slot by hand). A post writes its slots before it waits for the
    # head; a write holding the head writes its own at commit: were they the same rows,
    # each would wait for the other (a deadlock). Posts linked at commit use slots 0 to
    # 1023, writes that hold the head 1024 to 2047.
    import threading

    import psycopg

    book, _ = _open(postgres_url)
    schema = postgres_url.rsplit("schema=", 1)[1]
    holding, release = threading.Event(), threading.Event()
    with book, gl.Ledger.open(postgres_url) as other:
        book.post([gl.debit("bob", "1.00"), gl.credit("supply", "1.00")])  # known

        def hold(reader: gl.StoreReader) -> None:
            reader.head()  # a guarded write takes its ledger's head to read it
            holding.set()
            release.wait(10)

        mine: Any = book.store
        poster_pid = mine._idle[-1].info.backend_pid  # the connection the post will take
        slot = mine._idle[-1].execute("SELECT gl_slot()").fetchone()[0]
        theirs: Any = other.store
        theirs._idle[-1].execute("SELECT set_config('giftledger.slot', %s, false)", (str(slot),))
        holder = threading.Thread(
            target=lambda: other.post(
                [gl.debit("alice", "1.00"), gl.credit("supply", "1.00")], guard=hold
            )
        )
        holder.start()
        assert holding.wait(10)
        poster = threading.Thread(
            target=lambda: book.post([gl.debit("bob", "1.00"), gl.credit("supply", "1.00")])
        )
        poster.start()
        try:
            with psycopg.connect(postgres_server[0], autocommit=True) as conn:
                for _ in range(500):
                    row = conn.execute(
                        "SELECT 1 FROM pg_locks WHERE pid = %s AND locktype = 'advisory' "
                        "AND NOT granted",
                        (poster_pid,),
                    ).fetchone()
                    if row:
                        break
                    threading.Event().wait(0.01)
                else:
                    raise AssertionError("the post never waited for the head")
        finally:
            release.set()
            holder.join()
            poster.join()
        with psycopg.connect(postgres_server[0], autocommit=True) as conn:
            slots = conn.execute(
                f'SELECT slot FROM "{schema}".gl_balances WHERE account = %s ORDER BY slot',
                ("supply",),
            ).fetchall()
            totals = conn.execute(
                f'SELECT DISTINCT slot FROM "{schema}".gl_totals ORDER BY slot'
            ).fetchall()
        expected = [(slot,), (1024 + slot,)]
        assert slots == expected
        assert totals == expected
        assert book.balance("bob") == Money("2.00", "USD")
        assert book.verify() == other.verify()


def test_a_key_posted_in_one_trip_is_replayed_to_a_writer_that_looked_it_up_meanwhile(
    postgres_url: str, postgres_server: tuple[str, list[str]]
) -> None:
    # A posts under a key it did not look up; B, a store that knows nothing (a
    # restarted worker retrying the request), looks the key up while A's commit waits
    # for alice's row. A holds the key's lock from its commit's first statement, so B
    # waits for it and replays A's entry instead of deciding on what it read before
    # (here: a balance A then spends, so B would be refused for insufficient funds).
    import threading

    import psycopg

    book, _ = _open(postgres_url)
    schema = postgres_url.rsplit("schema=", 1)[1]
    gift = [gl.credit("alice", "6.00"), gl.debit("supply", "6.00")]
    got: dict[str, object] = {}

    def send(name: str, ledger: gl.Ledger) -> None:
        try:
            got[name] = ledger.post(gift, key="gift-1")
        except gl.GiftLedgerError as exc:
            got[name] = exc

    def waits(conn: psycopg.Connection[Any], pid: int) -> None:
        for _ in range(500):
            if conn.execute(
                "SELECT 1 FROM pg_locks WHERE pid = %s AND NOT granted", (pid,)
            ).fetchone():
                return
            threading.Event().wait(0.01)
        raise AssertionError(f"backend {pid} never waited")

    with book, gl.Ledger.open(postgres_url) as fresh:
        fresh.head  # noqa: B018 - its connection, idle in its pool
        mine: Any = book.store
        theirs: Any = fresh.store
        a_pid = mine._idle[-1].info.backend_pid
        b_pid = theirs._idle[-1].info.backend_pid
        with (
            psycopg.connect(postgres_server[0], autocommit=True) as watch,
            psycopg.connect(postgres_server[0]) as blocker,
        ):
            blocker.execute(
                f'SELECT 1 FROM "{schema}".gl_accounts WHERE name = %s FOR UPDATE', ("alice",)
            )
            a = threading.Thread(target=send, args=("a", book))
            a.start()
            waits(watch, a_pid)
            b = threading.Thread(target=send, args=("b", fresh))
            b.start()
            waits(watch, b_pid)
            blocker.rollback()
            a.join()
            b.join()
        assert isinstance(got["a"], gl.Transaction), got
        assert got["b"] == got["a"]
        assert book.balance("alice") == Money("4.00", "USD")
        assert book.verify() == got["a"].id


def test_a_convert_between_known_accounts_is_one_round_trip(
    postgres_url: str, trips: list[int]
) -> None:
    outcomes = []
    for book, _ in _both(postgres_url):
        with book:
            book.open_account("euros", "EUR")
            book.open_account("yen", "JPY")
            book.open_trading_account("USD")
            book.open_trading_account("EUR")
            rate = "0.9"
            book.convert("euros", "alice", "1.00", rate=rate)  # the store reads them
            trips[0] = 0
            tx = book.convert("euros", "alice", "2.00", rate=rate)
            if book.store.url.startswith("postgresql"):
                # The trading accounts too are known: gl_link checks them (schema 5).
                assert trips[0] == 1
            missing = _refusal(book, lambda b=book: b.convert("yen", "alice", "1.00", rate="150"))
            same = _refusal(book, lambda b=book: b.convert("bob", "alice", "1.00", rate="0.9"))
            outcomes.append((tx.id, missing, same, book.balance("euros")))
    assert outcomes[0][1].startswith("UnknownAccount: no trading account 'trading:JPY'")
    assert outcomes[0][2].startswith("InvalidArgument: ")
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize("key", [None, "k"], ids=["plain", "keyed"])
def test_a_trading_account_the_store_knew_is_checked_as_the_convert_writes(
    postgres_url: str, trips: list[int], key: str | None
) -> None:
    # After a restore an account of that name may be an ordinary one: the server
    # checks the trading accounts the client knew (schema 5), and the write, reading
    # them, raises what the memory store raises before it writes, remembered under a
    # key as it remembers it (a second call replays it).
    outcomes = []
    for book, _ in _both(postgres_url):
        with book:
            book.open_account("pounds", "GBP")
            book.open_account("trading:GBP", "GBP", rule=gl.BalanceRule.unrestricted())
            book.open_trading_account("USD")
            store: Any = book.store
            head, balances = book.head[0], {a.name: book.balance(a.name) for a in book.accounts()}
            got = []
            for _ in range(2):
                if hasattr(store, "_defs"):  # stale only now (a read above refreshed it)
                    store._defs["trading:GBP"] = attrs.evolve(
                        store._defs["trading:GBP"], trading=True
                    )
                with pytest.raises(gl.GiftLedgerError) as caught:
                    book.convert("pounds", "alice", "1.00", rate="1.25", key=key)
                assert caught.value.__cause__ is None
                got.append(f"{type(caught.value).__name__}: {caught.value}")
            assert book.head[0] == head + (0 if key is None else 1)  # a KEY entry
            assert {a.name: book.balance(a.name) for a in book.accounts()} == balances
            assert book.verify() == book.head[0]
            outcomes.append(got)
    assert outcomes[0][0].startswith("UnknownAccount: no trading account 'trading:GBP' for GBP")
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize("key", [None, "k"], ids=["plain", "keyed"])
def test_a_trading_account_the_store_knew_as_an_ordinary_one_is_read_before_refusing(
    postgres_url: str, key: str | None
) -> None:
    # The other way round: a restore made a trading account of an account the store
    # knew as an ordinary one. Convert reads it before it refuses, and converts.
    book, _ = _open(postgres_url)
    with book:
        book.open_account("pounds", "GBP", normal="credit")
        book.open_trading_account("GBP")
        book.open_trading_account("USD")
        store: Any = book.store
        book.accounts()  # known
        for amount in ("1.00", "2.00"):
            store._defs["trading:GBP"] = attrs.evolve(store._defs["trading:GBP"], trading=False)
            book.convert("alice", "pounds", amount, rate="0.8", key=key and key + amount)
            assert store._defs["trading:GBP"].trading  # read as it is, and known so
        assert book.balance("pounds") == Money("2.40", "GBP")
        assert book.verify() == book.head[0]


def test_a_keyed_convert_is_one_round_trip_and_its_key_works_as_on_every_store(
    postgres_url: str, trips: list[int]
) -> None:
    # A keyed convert looks its key up only when it fails: a failure its own checks
    # remembered under the key (a trading account not yet open) replays even once the
    # cause is gone; a convert that goes through is one round trip and replays.
    def convert(book: gl.Ledger, key: str, amount: str = "1.00") -> tuple[object, object]:
        trips[0] = 0
        try:
            outcome: object = book.convert("alice", "euros", amount, rate="0.9", key=key).id
        except gl.GiftLedgerError as exc:
            outcome = exc
        return outcome, (trips[0] if book.store.url.startswith("postgresql") else "-")

    outcomes = []
    for book, _ in _both(postgres_url):
        with book:
            book.open_account("euros", "EUR", normal="credit")
            book.open_trading_account("USD")
            got = [convert(book, "a")]  # no trading:EUR yet: remembered under "a"
            book.open_trading_account("EUR")
            got.append(convert(book, "a"))  # replays it
            got.append(convert(book, "b"))  # goes through
            got.append(convert(book, "b"))  # replays the entry
            got.append(convert(book, "b", "2.00"))  # another request under "b"
            assert book.balance("euros") == Money("0.90", "EUR")
            assert book.verify() == book.head[0]
            outcomes.append(got)
    pg = outcomes[0]
    shown = [
        [f"{type(o).__name__}: {o}" if isinstance(o, Exception) else o for o, _ in run]
        for run in outcomes
    ]
    assert shown[0] == shown[1]
    assert shown[0][0].startswith("UnknownAccount: no trading account 'trading:EUR'")  # type: ignore[union-attr]
    assert shown[0][1] == f"{shown[0][0]} (replayed for idempotency key 'a')"
    assert pg[1][0].__context__ is None  # type: ignore[union-attr]  # the replay alone
    assert shown[0][2] == shown[0][3]  # the same entry
    assert pg[2][1] == 1  # one round trip
    assert shown[0][4].startswith("DuplicateKeyConflict: ")  # type: ignore[union-attr]


@pytest.mark.parametrize("key", ["", "k" * 300, "a\x00b"], ids=["empty", "long", "nul"])
def test_a_convert_refuses_a_bad_key_before_anything_is_remembered(
    postgres_url: str, key: str
) -> None:
    # A key no store keeps is refused at once, every time, on every store: never a
    # failure remembered under it and replayed once the failure's cause is gone.
    outcomes = []
    for book, _ in _both(postgres_url):
        with book:
            book.open_account("euros", "EUR", normal="credit")
            head = book.head[0]
            got = []
            for _ in range(2):  # the second once the trading accounts are open
                with pytest.raises(gl.InvalidArgument) as caught:
                    book.convert("alice", "euros", "1.00", rate="0.9", key=key)
                assert caught.value.replayed_key is None
                got.append(str(caught.value))
                book.open_trading_account("USD")
                book.open_trading_account("EUR")
            kinds = [book.transaction(i).kind for i in range(head + 1, book.head[0] + 1)]  # type: ignore[union-attr]
            assert kinds == [gl.EntryKind.ACCOUNT] * 2  # the trading accounts, no KEY entry
            outcomes.append(got)
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0].startswith("idempotency key ")


@pytest.mark.parametrize(
    "via", [("trading:USD", "trading:EUR", "x"), "trading:USD"], ids=["three", "string"]
)
def test_a_convert_refuses_a_via_that_is_not_a_pair_as_its_other_checks(
    postgres_url: str, via: object
) -> None:
    # Refused before any account is read (it was an unpacking error after them), and
    # remembered under a key as convert's other checks are, on every store.
    outcomes = []
    for book, _ in _both(postgres_url):
        with book:
            book.open_account("euros", "EUR", normal="credit")
            got = []
            for key in (None, "k", "k"):
                with pytest.raises(gl.InvalidArgument) as caught:
                    book.convert("alice", "euros", "1.00", rate="0.9", key=key, via=via)  # type: ignore[arg-type]
                got.append(str(caught.value))
            outcomes.append(got)
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] == f"via {via!r} must be a pair of trading account names"
    assert outcomes[0][2] == f"{outcomes[0][0]} (replayed for idempotency key 'k')"


def test_an_account_read_in_a_write_that_rolled_back_is_not_known(postgres_url: str) -> None:
    # An account opened in a write that rolls back was read by that write (a read
    # nested in it sees the write's own rows); the store learns accounts once the
    # write that changed them commits, and forgets one a write finds missing.
    book, _ = _open(postgres_url)
    with book:
        store: Any = book.store
        seen = []

        def opened_then_rolled_back() -> None:
            with store.write() as w:
                w.add_account(attrs.evolve(store._defs["bob"], name="carol"))
                seen.append(w.account_state("carol"))  # its own uncommitted row
                raise RuntimeError("roll it back")

        with pytest.raises(RuntimeError):
            opened_then_rolled_back()
        assert seen[0] is not None
        assert store.known_account("carol") is None
        store._defs["carol"] = attrs.evolve(store._defs["bob"], name="carol")  # as if
        message = _refusal(
            book, lambda: book.post([gl.debit("carol", "1.00"), gl.credit("supply", "1.00")])
        )
        assert message.startswith("UnknownAccount: ")
        assert store.known_account("carol") is None  # the rerun found it missing


def test_any_failure_of_a_keyed_post_that_did_not_look_its_key_up_reads_the_key_first(
    postgres_url: str,
) -> None:
    # Other stores look a key up, and replay or refuse it, before they run the request;
    # a one-trip post runs it first. Whatever stops it (here a rate whose check raises
    # a plain ValueError) runs it again looking the key up: the key decides.
    from fractions import Fraction

    class BadRate(gl.Rate):
        def check(self) -> None:
            raise ValueError("no")

    outcomes = []
    for book, _ in _both(postgres_url):
        with book:
            gift = [gl.credit("alice", "1.00"), gl.debit("supply", "1.00")]
            book.post(gift, key="gift-1", rates=[gl.Rate("USD", "EUR", Fraction(9, 10))])
            bad = [BadRate("USD", "EUR", Fraction(9, 10))]
            outcomes.append(
                _refusal(book, lambda b=book, g=gift, r=bad: b.post(g, key="gift-1", rates=r))
            )
            with pytest.raises(ValueError, match="no"):  # a new key: the request runs, and fails
                book.post(gift, key="gift-2", rates=bad)
    assert outcomes[0].startswith("DuplicateKeyConflict: ")
    assert outcomes[0] == outcomes[1]
