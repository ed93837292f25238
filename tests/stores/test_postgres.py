"""What only the PostgreSQL store promises: a faithful reopen, append-only tables
enforced by the database itself, schema versions, retries after a lost race and
safe concurrent use of one ledger from many connections.

Each test gets a fresh schema (``?schema=…``) from ``postgres_url`` in
``conftest.py``: it skips without ``GIFTLEDGER_TEST_POSTGRES_URL`` and fails when
``GIFTLEDGER_REQUIRE_POSTGRES=1`` and the server is unreachable.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import giftledger as gl
from giftledger._stores import postgres as pgstore

from .helpers import Alarm, a_torn_write_is_not_read, interrupted_at

psycopg = pytest.importorskip("psycopg")

START = datetime(2026, 1, 1, tzinfo=UTC)
WEIRD = 'clients:O\'Brien; DROP TABLE gl_accounts; --:"ünïcødé" 💸:SELECT'


def _admin(url: str) -> str:
    """The server URL without the ``schema`` parameter, for a raw connection."""
    return pgstore._split_url(url)[0]


@contextmanager
def raw(url: str) -> Iterator[Any]:
    """A raw psycopg connection (autocommit) into the ledger's schema."""
    schema = pgstore._split_url(url)[1]
    with psycopg.connect(_admin(url), autocommit=True) as conn:
        conn.execute("SELECT set_config('search_path', %s, false)", (f'"{schema}"',))
        yield conn


def _populate(book: gl.Ledger, clock: gl.ManualClock) -> None:
    """A little of everything: metadata, keys, holds, a reversal, a conversion, back-dating."""
    book.open_account("assets:bank", "USD", metadata={"iban": "DE00 'x'", "n": 2**63 - 1})
    book.open_account(WEIRD, "USD", normal="credit", metadata={"ok": True, "none": None})
    book.open_account("equity", "USD", normal="credit", rule=gl.BalanceRule.unrestricted())
    book.open_account("mint", "COIN", rule=gl.BalanceRule.unrestricted())
    book.open_account("alice:coins", "COIN", normal="credit")
    book.open_trading_account("COIN")
    book.open_trading_account("USD")
    book.transfer("assets:bank", "equity", "500.00", key="fund", memo="seed 'money'; --")
    t2 = book.transfer("assets:bank", WEIRD, "19.99", key="order-1", metadata={"k": "v"})
    clock.advance(timedelta(minutes=5))
    book.transfer("mint", "alice:coins", 1400, effective_at=START - timedelta(days=3))
    book.convert("alice:coins", WEIRD, 700, rate="1/70")
    h1 = book.hold(WEIRD, "assets:bank", "5.00", timeout=timedelta(hours=1), key="h1")
    book.post_hold(h1, "3.00")
    h2 = book.hold(WEIRD, "assets:bank", "1.00")
    book.void_hold(h2)
    book.hold(WEIRD, "assets:bank", "2.00", expires_at=START + timedelta(days=1))
    book.reverse(t2, memo="refund ✓")
    with pytest.raises(gl.InsufficientFunds):
        book.transfer(WEIRD, "assets:bank", "10000.00", key="too-much")
    book.post([gl.debit("assets:bank", 1), gl.credit("equity", 1)], dry_run=True)


def _snapshot(book: gl.Ledger) -> dict[str, Any]:
    names = [a.name for a in book.accounts()]
    return {
        "transactions": list(book.transactions()),
        "reversed_by": [tx.reversed_by for tx in book.transactions()],
        "accounts": book.accounts(),
        "balances": {n: book.account_balance(n) for n in names},
        "history": {n: book.history(n, limit=2) for n in names},
        "holds": book.holds(pending_only=False),
        "pending": book.holds(),
        "head": book.head,
        "trial": book.trial_balance(),
        "keys": {k: book.find(k) for k in ("fund", "order-1", "h1", "too-much")},
        "as_recorded": book.balance("assets:bank", recorded_through=3),
        "as_of": book.balance("alice:coins", at=START - timedelta(days=1)),
    }


@pytest.mark.postgres
def test_reopened_ledger_is_exactly_the_same(postgres_url: str, clock: gl.ManualClock) -> None:
    with gl.Ledger.open(postgres_url, clock=clock) as book:
        _populate(book, clock)
        before = _snapshot(book)
        assert book.verify() == len(before["transactions"])
    with gl.Ledger.open(postgres_url, clock=clock) as again:
        after = _snapshot(again)
        assert after == before
        assert again.verify() == len(before["transactions"])
        # The failure under a key is remembered across the reopen, too.
        with pytest.raises(gl.InsufficientFunds, match="replayed"):
            again.transfer(WEIRD, "assets:bank", "10000.00", key="too-much")


@pytest.mark.postgres
def test_dry_run_writes_nothing(postgres_url: str, clock: gl.ManualClock) -> None:
    with gl.Ledger.open(postgres_url, clock=clock) as book:
        book.open_account("a", "USD")
        book.open_account("b", "USD", normal="credit")
        head = book.head
        assert head[0] == 2  # the two accounts' definitions
        tx = book.transfer("a", "b", 5, dry_run=True, key="dry")
        assert tx.id == head[0] + 1
        assert book.head == head
        assert book.find("dry") is None
        assert book.transfer("a", "b", 5, key="dry").id == head[0] + 1


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE gl_transactions SET memo = 'edited'",
        "DELETE FROM gl_transactions",
        "TRUNCATE gl_transactions CASCADE",
        "UPDATE gl_postings SET minor = minor + 1",
        "DELETE FROM gl_postings",
        "TRUNCATE gl_postings",
        "UPDATE gl_keys SET transaction_id = NULL",
        "DELETE FROM gl_keys",
        "TRUNCATE gl_keys",
        "DELETE FROM gl_accounts",
        "TRUNCATE gl_accounts CASCADE",
        "UPDATE gl_accounts SET unit = 'EUR'",
        "UPDATE gl_holds SET minor = 1",
        "DELETE FROM gl_holds",
    ],
)
def test_direct_changes_through_the_driver_are_refused(
    postgres_url: str, clock: gl.ManualClock, statement: str
) -> None:
    with gl.Ledger.open(postgres_url, clock=clock) as book:
        book.open_account("a", "USD")
        book.open_account("b", "USD", normal="credit")
        book.transfer("a", "b", 5, key="k")
        hold = book.hold("b", "a", 1)
        before = _snapshot_small(book)
        with raw(postgres_url) as conn, pytest.raises(psycopg.errors.RestrictViolation) as err:
            conn.execute(statement)
        assert "giftledger" in str(err.value)
        assert _snapshot_small(book) == before
        assert book.verify() == hold.id == 2 + 2  # after the two ACCOUNT entries


def _snapshot_small(book: gl.Ledger) -> tuple[Any, ...]:
    return (list(book.transactions()), book.balances(), book.holds(), book.find("k"))


@pytest.mark.postgres
def test_a_settled_hold_and_a_closed_account_stay_so(postgres_url: str) -> None:
    with gl.Ledger.open(postgres_url) as book:
        book.open_account("a", "USD")
        book.open_account("b", "USD", normal="credit")
        book.open_account("c", "USD")
        book.close_account("c")
        book.void_hold(book.hold("a", "b", 1))
        with raw(postgres_url) as conn:
            with pytest.raises(psycopg.errors.RestrictViolation):
                conn.execute("UPDATE gl_holds SET status = 'pending'")
            with pytest.raises(psycopg.errors.RestrictViolation):
                conn.execute("UPDATE gl_accounts SET closed = false WHERE name = 'c'")
        assert book.account("c").closed


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("table", "change"),
    [
        # Entries 1 and 2 define the accounts; 3 to 5 are the transfers.
        ("gl_postings", "UPDATE gl_postings SET minor = 4 WHERE tx_id = 4 AND idx = 0"),
        ("gl_transactions", "UPDATE gl_transactions SET memo = 'edited' WHERE id = 4"),
        ("gl_transactions", "DELETE FROM gl_transactions WHERE id = 5"),
    ],
)
def test_verify_catches_a_change_made_behind_the_triggers_back(
    postgres_url: str, clock: gl.ManualClock, table: str, change: str
) -> None:
    with gl.Ledger.open(postgres_url, clock=clock) as book:
        book.open_account("a", "USD")
        book.open_account("b", "USD", normal="credit")
        for _ in range(3):
            book.transfer("a", "b", 5)
        with raw(postgres_url) as conn:
            conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            if table == "gl_transactions" and change.startswith("DELETE"):
                conn.execute("ALTER TABLE gl_postings DISABLE TRIGGER USER")
                conn.execute("DELETE FROM gl_postings WHERE tx_id = 5")
            conn.execute(change)
        with pytest.raises(gl.ChainBroken) as err:
            book.verify()
        if "DELETE" not in change:
            assert err.value.transaction_id == 4


@pytest.mark.postgres
def test_a_newer_schema_version_is_refused(postgres_url: str) -> None:
    gl.Ledger.open(postgres_url).close()
    with raw(postgres_url) as conn:
        conn.execute("UPDATE gl_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(gl.SchemaVersionError, match=r"99.*upgrade giftledger"):
        gl.Ledger.open(postgres_url)


@pytest.mark.postgres
def test_an_empty_schema_is_migrated_to_the_current_version(postgres_url: str) -> None:
    gl.Ledger.open(postgres_url).close()
    gl.Ledger.open(postgres_url).close()  # a second open finds it current
    with raw(postgres_url) as conn:
        row = conn.execute("SELECT value FROM gl_meta WHERE key = 'schema_version'").fetchone()
    assert row == (str(pgstore.SCHEMA_VERSION),)


def test_a_bad_schema_name_is_refused() -> None:
    with pytest.raises(gl.InvalidArgument, match="schema"):
        gl.Ledger.open("postgresql://u@127.0.0.1:1/db?schema=no;such")


@pytest.mark.parametrize(
    ("url", "conninfo", "schema"),
    [
        # No host: a Unix socket. Rebuilt from its parts, the URL lost its "//".
        (
            "postgresql:///test?host=/var/run/postgresql&schema=s",
            "postgresql:///test?host=/var/run/postgresql",
            "s",
        ),
        # Values as written: decoded and encoded again, "%20" became "+".
        (
            "postgresql://u@h/db?options=-c%20statement_timeout%3D5000&schema=s",
            "postgresql://u@h/db?options=-c%20statement_timeout%3D5000",
            "s",
        ),
        (
            "postgresql://u@h/db?application_name=a+b&schema=s",
            "postgresql://u@h/db?application_name=a+b",
            "s",
        ),
        ("postgresql://u@h/db?a=1&&schema=s&b=2", "postgresql://u@h/db?a=1&b=2", "s"),
        ("postgres://h/db?sch%65ma=s&a=1", "postgres://h/db?a=1", "s"),
        ("postgresql://u@h/db?schema=s", "postgresql://u@h/db", "s"),
        ("postgresql://u@h/db", "postgresql://u@h/db", None),
    ],
)
def test_the_url_reaches_libpq_as_written_but_for_its_schema(
    url: str, conninfo: str, schema: str | None
) -> None:
    assert pgstore._split_url(url) == (conninfo, schema)


def test_a_url_with_a_fragment_is_refused() -> None:
    # libpq would take "#x" as part of the database name.
    with pytest.raises(gl.InvalidArgument, match="fragment"):
        gl.Ledger.open("postgresql://u@127.0.0.1:1/db?schema=s#x")


def test_a_missing_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(gl.StoreError, match=r"giftledger\[postgres\]"):
        gl.Ledger.open("postgresql://u@127.0.0.1:1/db")


def test_an_unreachable_server_is_a_store_error() -> None:
    with pytest.raises(gl.StoreError, match="cannot connect"):
        gl.Ledger.open("postgresql://u@127.0.0.1:1/db?connect_timeout=2")


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:s3cr3t@127.0.0.1:1/db?connect_timeout=2",
        "postgresql://u@127.0.0.1:1/db?password=s3cr3t&connect_timeout=2",
        "postgresql://u:s3cr3t@127.0.0.1:1/db?schema=no;such",
        "postgresqx://u:s3cr3t@127.0.0.1:1/db",
        "postgresql://u:s3cr3t@127.0.0.1:1/db?schema=s#x",
    ],
)
def test_no_error_shows_the_password(url: str) -> None:
    # The command line prints errors and store URLs; a password in them ends up in logs.
    with pytest.raises(gl.GiftLedgerError) as info:
        gl.Ledger.open(url)
    assert "s3cr3t" not in str(info.value)
    assert "***" in str(info.value)


@pytest.mark.postgres
def test_the_store_url_shows_no_password(postgres_url: str) -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(postgres_url)
    password = parts.password or "any-under-trust"  # the server's own, or one trust ignores
    netloc = f"{parts.username}:{password}@{parts.hostname}:{parts.port or 5432}"
    url = parts._replace(netloc=netloc).geturl()
    with gl.Ledger.open(url) as book:
        assert password not in book.store.url + repr(book)
        assert book.store.url.startswith(f"postgresql://{parts.username}:***@")
        book.open_account("assets:x", "USD")  # the real password still connects


# -- retries ------------------------------------------------------------------------------


def _count_retries(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = gl.Ledger._retry

    def spy(self: gl.Ledger, exc: gl.StoreError, *args: Any) -> Any:
        seen.append(str(exc))
        return real(self, exc, *args)

    monkeypatch.setattr(gl.Ledger, "_retry", spy)
    return seen


@pytest.mark.postgres
def test_a_deadlock_is_retried(
    postgres_url: str, clock: gl.ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    retries = _count_retries(monkeypatch)
    with gl.Ledger.open(postgres_url, clock=clock) as book:
        # Both accounts have a floor, so a writer locks both rows (an unrestricted
        # account's row is never locked: its totals go to per-connection slots).
        book.open_account("a", "USD", rule=gl.BalanceRule.overdraft(10_000))
        book.open_account("b", "USD", normal="credit")
        with raw(postgres_url) as other:
            other.execute("BEGIN")
            other.execute("SELECT 1 FROM gl_accounts WHERE name = 'b' FOR UPDATE")
            done: list[gl.Transaction] = []
            worker = threading.Thread(target=lambda: done.append(book.transfer("a", "b", 5)))
            worker.start()
            _wait_for_lock_wait(postgres_url)
            # The ledger holds 'a' and waits for 'b'; now wait for 'a': a cycle.
            # PostgreSQL aborts the ledger's write (it waited first), which retries.
            other.execute("SELECT 1 FROM gl_accounts WHERE name = 'a' FOR UPDATE")
            other.execute("ROLLBACK")
            worker.join(30)
        assert [tx.id for tx in done] == [3]  # after the two ACCOUNT entries
        assert any("deadlock" in r for r in retries)
        assert book.verify() == 3
        assert book.balance("b") == gl.from_minor(500, "USD")


def _wait_for_lock_wait(url: str) -> None:
    with raw(url) as conn:
        for _ in range(500):
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()"
            ).fetchone()
            if row and row[0]:
                return
            threading.Event().wait(0.01)
    raise AssertionError("the ledger never waited for the lock")


@pytest.mark.postgres
def test_a_serialization_failure_is_retried(
    postgres_url: str, clock: gl.ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    retries = _count_retries(monkeypatch)
    real: Callable[[Any], None] = pgstore._Session._commit
    failures: list[Exception] = []

    def flaky(self: Any) -> None:
        # PostgreSQL raises this at COMMIT under SERIALIZABLE; inject it there.
        if failures and self._dirty:
            raise failures.pop()
        real(self)

    monkeypatch.setattr(pgstore._Session, "_commit", flaky)
    with gl.Ledger.open(postgres_url, clock=clock) as book:
        book.open_account("a", "USD", rule=gl.BalanceRule.unrestricted())
        book.open_account("b", "USD", normal="credit")
        failures.append(psycopg.errors.SerializationFailure("could not serialize access"))
        tx = book.transfer("a", "b", 5, key="once")
        assert tx.id == 3  # after the two ACCOUNT entries
        assert book.transfer("a", "b", 5, key="once") == tx
        assert "lost a race" in retries[0]
        assert book.verify() == tx.id


# -- many connections ---------------------------------------------------------------------


def _race(url: str, clock: gl.ManualClock, n: int, act: Callable[[gl.Ledger], Any]) -> list[Any]:
    """Run ``act`` on ``n`` ledgers (one connection each) at the same moment."""
    books = [gl.Ledger.open(url, clock=clock) for _ in range(n)]
    barrier = threading.Barrier(n)
    out: list[Any] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            out[i] = act(books[i])
        except gl.GiftLedgerError as exc:
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for book in books:
        book.close()
    return out


@pytest.mark.postgres
def test_concurrent_requests_with_one_key_make_one_transaction(
    postgres_url: str, clock: gl.ManualClock
) -> None:
    with gl.Ledger.open(postgres_url, clock=clock) as book:
        book.open_account("a", "USD", rule=gl.BalanceRule.unrestricted())
        book.open_account("b", "USD", normal="credit")
        for round_ in range(10):
            key = f"gift-{round_}"
            got = _race(postgres_url, clock, 2, lambda b, k=key: b.transfer("a", "b", 1, key=k))
            assert got[0] == got[1]
            assert isinstance(got[0], gl.Transaction)
        keys = Counter(tx.key for tx in book.transactions())
        assert keys == {None: 2, **{f"gift-{i}": 1 for i in range(10)}}  # 2 ACCOUNT entries
        assert book.verify() == 2 + 10


@pytest.mark.postgres
def test_concurrent_opens_of_one_account_agree(postgres_url: str, clock: gl.ManualClock) -> None:
    got = _race(postgres_url, clock, 4, lambda b: b.open_account("shared", "USD"))
    assert all(isinstance(a, gl.Account) and a == got[0] for a in got)


@pytest.mark.postgres
def test_a_hold_is_settled_once_by_concurrent_writers(
    postgres_url: str, clock: gl.ManualClock
) -> None:
    with gl.Ledger.open(postgres_url, clock=clock) as book:
        book.open_account("a", "USD", rule=gl.BalanceRule.unrestricted())
        book.open_account("b", "USD", normal="credit")
        hold = book.hold("a", "b", 10)
        got = _race(
            postgres_url,
            clock,
            4,
            lambda b: b.post_hold(hold) if threading.get_ident() % 2 else b.void_hold(hold),
        )
        settled = [g for g in got if isinstance(g, gl.Transaction)]
        assert len(settled) == 1
        assert all(isinstance(g, gl.HoldNotPending) for g in got if g not in settled)
        assert book.verify() == settled[0].id == hold.id + 1


@pytest.mark.postgres
def test_a_transaction_is_reversed_once_by_concurrent_writers(
    postgres_url: str, clock: gl.ManualClock
) -> None:
    with gl.Ledger.open(postgres_url, clock=clock) as book:
        book.open_account("a", "USD", rule=gl.BalanceRule.unrestricted())
        book.open_account("b", "USD", normal="credit", rule=gl.BalanceRule.unrestricted())
        tx = book.transfer("a", "b", 10)
        got = _race(postgres_url, clock, 4, lambda b: b.reverse(tx))
        assert sum(isinstance(g, gl.Transaction) for g in got) == 1
        assert sum(isinstance(g, gl.AlreadyReversed) for g in got) == 3
        assert book.verify() == tx.id + 1


@pytest.mark.postgres
def test_no_overdraft_under_concurrent_spending(postgres_url: str, clock: gl.ManualClock) -> None:
    with gl.Ledger.open(postgres_url, clock=clock) as book:
        book.open_account("mint", "USD", rule=gl.BalanceRule.unrestricted())
        book.open_account("wallet", "USD", normal="credit")
        book.open_account("shop", "USD", normal="credit")
        book.transfer("mint", "wallet", 10)
        got = _race(postgres_url, clock, 8, lambda b: b.transfer("wallet", "shop", 3))
        assert sum(isinstance(g, gl.Transaction) for g in got) == 3
        assert book.balance("wallet") == gl.from_minor(100, "USD")
        assert book.verify() == 3 + 4  # after the three ACCOUNT entries


@pytest.mark.postgres
def test_the_clamped_clock_costs_no_round_trip(postgres_url: str) -> None:
    # A post whose accounts the store knows is one round trip (gl_link clamps its
    # time to the head's, and checks its key), keyed or not, and so is a write whose
    # clock is behind; a note reads the head's time with the head.
    clock = _BackwardsClock()
    with gl.Ledger.open(postgres_url, clock=clock) as book:
        book.open_account("a", "USD", rule=gl.BalanceRule.unrestricted())
        book.open_account("b", "USD", normal="credit")
        book.post([gl.debit("a", 1), gl.credit("b", 1)])
        sent = 0
        real = pgstore._Session._send

        def count(self: Any, *args: Any, **kwargs: Any) -> Any:
            nonlocal sent
            sent += 1
            return real(self, *args, **kwargs)

        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(pgstore._Session, "_send", count)
            clock.now_ -= timedelta(minutes=1)
            sent = 0
            tx = book.post([gl.debit("a", 1), gl.credit("b", 1)])
            assert sent == 1
            assert tx.recorded_at == START
            sent = 0
            book.post([gl.debit("a", 1), gl.credit("b", 1)], key="k")
            assert sent == 1
            sent = 0
            book.note(memo="a fact")
            assert sent == 2
        assert book.verify() == 2 + 4  # after the two ACCOUNT entries


class _BackwardsClock:
    def __init__(self) -> None:
        self.now_ = START

    def now(self) -> datetime:
        return self.now_


def _two_accounts(ledger: gl.Ledger) -> None:
    ledger.open_account("a", "USD", rule=gl.BalanceRule.unrestricted())
    ledger.open_account("b", "USD", normal="credit")


def _done_while_held(
    holder: gl.Ledger, write: Callable[[], object], *, key: str, head: bool, within: float
) -> bool:
    """Whether ``write`` finished within ``within`` seconds while ``holder`` ran a guarded
    post holding its key's lock (taken to look the key up) and, with ``head``, its head;
    both have finished when this returns."""
    holding, release, done = threading.Event(), threading.Event(), threading.Event()

    def hold(reader: gl.StoreReader) -> None:
        if head:
            reader.head()
        holding.set()
        release.wait(10)

    worker = threading.Thread(
        target=lambda: holder.post([gl.debit("a", 1), gl.credit("b", 1)], key=key, guard=hold)
    )
    worker.start()
    writer = None
    try:
        assert holding.wait(10)
        writer = threading.Thread(target=lambda: (write(), done.set()))
        writer.start()
        finished = done.wait(within)
    finally:
        release.set()
        worker.join()
        if writer is not None:
            writer.join()
    assert done.is_set()
    return finished


@pytest.mark.postgres
def test_ledgers_in_other_schemas_do_not_wait_for_each_others_head_or_keys(
    postgres_url: str, postgres_server: tuple[str, list[str]]
) -> None:
    # Advisory locks are the database's: each ledger's head and keys are its own.
    import uuid

    from .conftest import _with_schema

    admin, schemas = postgres_server
    schemas.append(other_schema := f"gl_test_{uuid.uuid4().hex[:16]}")
    other_url = _with_schema(admin, other_schema)
    with gl.Ledger.open(postgres_url) as book, gl.Ledger.open(other_url) as other:
        _two_accounts(book)
        _two_accounts(other)

        def write() -> object:
            return other.post([gl.debit("a", 2), gl.credit("b", 2)], key="same", guard=bool)

        assert _done_while_held(book, write, key="same", head=True, within=5), (
            "the other ledger's write waited for this one's locks"
        )
        assert book.balance("a").amount == other.balance("a").amount / 2 > 0


@pytest.mark.postgres
@pytest.mark.parametrize("held", ["key", "head"])
def test_two_spellings_of_one_ledgers_schema_share_its_head_and_key_locks(
    postgres_url: str, held: str
) -> None:
    # The lock ids come from the schema that holds the journal, as the server
    # resolves it: a store given ?schema= and one given the search_path by libpq's
    # options lock the same ledger alike.
    from urllib.parse import quote

    schema = postgres_url.rsplit("schema=", 1)[1]
    base = postgres_url.split("?", 1)[0]
    spelled = f"{base}?options={quote(f'-csearch_path={schema}')}"
    with gl.Ledger.open(postgres_url) as book, gl.Ledger.open(spelled) as other:
        _two_accounts(book)
        assert other.store.schema is None  # type: ignore[attr-defined]
        assert other.balance("a") == book.balance("a")  # the same ledger
        key = "mine" if held == "key" else "theirs"  # else only the head is shared

        def write() -> object:
            return other.post([gl.debit("a", 1), gl.credit("b", 1)], key=key, guard=bool)

        assert not _done_while_held(book, write, key="mine", head=held == "head", within=0.5), (
            f"the other spelling did not wait for the {held}"
        )
        entries = 3 if held == "key" else 4  # the same key: the second replayed the first
        assert book.verify() == entries


@pytest.mark.postgres
def test_a_store_running_while_its_schema_is_recreated_locks_the_new_ledger(
    postgres_url: str, postgres_server: tuple[str, list[str]]
) -> None:
    # The lock ids are resolved by the server at each lock (gl_ledger()): a store
    # whose schema was dropped and created again (a restore) behind it locks the new
    # ledger as new processes do, instead of keeping the ids of the one dropped.
    import psycopg

    schema = postgres_url.rsplit("schema=", 1)[1]
    with gl.Ledger.open(postgres_url) as old:
        _two_accounts(old)
        old.post([gl.debit("a", 1), gl.credit("b", 1)], key="k-0")  # it knows a and b
        with psycopg.connect(postgres_server[0], autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        with gl.Ledger.open(postgres_url) as new:
            _two_accounts(new)

            def write() -> object:
                return old.post([gl.debit("a", 2), gl.credit("b", 2)], key="k-1")

            assert not _done_while_held(new, write, key="k-2", head=True, within=0.5), (
                "the running store did not wait for the new head"
            )
            assert new.verify() == 4  # two accounts opened again, then the two posts
            assert str(new.balance("a").amount) == "3.00"


def _cash_and_wallet(book: gl.Ledger) -> tuple[tuple[int, str], dict[str, gl.Money]]:
    book.open_account("cash", "USD", rule=gl.BalanceRule.unrestricted())
    book.open_account("wallet", "USD", normal="credit")
    book.post([gl.debit("cash", 1), gl.credit("wallet", 1)])
    return book.head, book.balances()


def _kept_nothing(book: gl.Ledger, head: tuple[int, str], balances: object) -> None:
    assert (book.head, book.balances()) == (head, balances)
    with pytest.raises(gl.UnknownAccount):
        book.account("late")
    book.transfer("cash", "wallet", 2)  # the store goes on
    assert book.balance("wallet") == gl.from_minor(300, "USD")
    assert book.verify() == book.head[0]


@pytest.mark.parametrize("call", ["post_many", "transfer", "hold", "open_account"])
def test_a_block_whose_transaction_the_server_aborted_does_not_end_as_committed(
    postgres_url: str, call: str
) -> None:
    """A statement of a caller's block fails on the server, and the caller catches it and
    lets the block end: PostgreSQL answers COMMIT with a rollback and no error. The
    block's calls had returned their entries as written; it ended as if committed, and
    they were lost unsaid. It raises WriteBlockFailed, and the store goes on."""
    calls: dict[str, Callable[[gl.Ledger], object]] = {
        "post_many": lambda b: b.post_many([[gl.debit("cash", 5), gl.credit("wallet", 5)]] * 2),
        "transfer": lambda b: b.transfer("cash", "wallet", 5),
        "hold": lambda b: b.hold("cash", "wallet", "0.05", timeout=timedelta(hours=1)),
        "open_account": lambda b: b.open_account("late", "USD"),
    }
    with gl.Ledger.open(postgres_url) as book:
        head, balances = _cash_and_wallet(book)

        def block_goes_on() -> None:
            with book.store.write() as w:
                calls[call](book)
                assert list(book.transactions(head[0] + 1))  # read inside: its rows are sent
                with pytest.raises(psycopg.errors.DivisionByZero):
                    w._conn.execute("SELECT 1/0")  # type: ignore[attr-defined]

        with pytest.raises(gl.WriteBlockFailed, match="nothing in it kept: PostgreSQL aborted"):
            block_goes_on()
        _kept_nothing(book, head, balances)


def test_a_block_whose_lock_was_taken_refuses_later_writes_and_names_why(
    postgres_url: str,
) -> None:
    """A write of a caller's block finds a row locked by another session (taken late, so
    without waiting: the block holds the chain's head): the server aborts the block's
    transaction. The caller gets a StoreError, not the driver's own; catching it and
    going on, each later write is refused, and the block's end, naming the lock."""
    with gl.Ledger.open(postgres_url) as book, raw(postgres_url) as other:
        _cash_and_wallet(book)
        book.open_account("x", "USD", rule=gl.BalanceRule.unrestricted())
        book.open_account("y", "USD", normal="credit")
        head, balances = book.head, book.balances()
        other.execute("BEGIN")
        other.execute("SELECT 1 FROM gl_accounts WHERE name = 'wallet' FOR UPDATE")
        refused: list[BaseException] = []

        def block_goes_on() -> None:
            with book.store.write():
                book.transfer("x", "y", 7)  # holds the head from here
                try:
                    book.transfer("cash", "wallet", 3)  # the wallet's row is taken
                except gl.GiftLedgerError as exc:
                    refused.append(exc)
                for call in (
                    lambda: book.transfer("x", "y", 1),
                    lambda: book.post_many([[gl.debit("x", 1), gl.credit("y", 1)]]),
                    lambda: book.open_account("late", "USD"),
                ):
                    with pytest.raises(gl.WriteBlockFailed, match="can no longer commit"):
                        call()
                with pytest.raises(gl.WriteBlockFailed, match="LockNotAvailable"):
                    list(book.transactions(head[0] + 1))  # a read that asks the server

        try:
            with pytest.raises(gl.WriteBlockFailed, match="nothing in it kept") as ended:
                block_goes_on()
        finally:
            other.execute("ROLLBACK")
        assert [isinstance(e, gl.StoreError) for e in refused] == [True]
        assert "LockNotAvailable" in str(ended.value)
        _kept_nothing(book, head, balances)


def test_a_block_whose_connection_was_lost_refuses_later_writes(postgres_url: str) -> None:
    """The block's server process is terminated (an operator, a failover): the write that
    meets it fails, and a caller that catches the error and goes on is refused each later
    write, where they returned entries that could never be kept; the block's end names
    the loss, and the store goes on on a new connection."""
    with gl.Ledger.open(postgres_url) as book, raw(postgres_url) as other:
        head, balances = _cash_and_wallet(book)

        def block_goes_on() -> None:
            with book.store.write() as w:
                book.transfer("cash", "wallet", 5)
                pid = w._conn.info.backend_pid  # type: ignore[attr-defined]
                other.execute("SELECT pg_terminate_backend(%s)", [pid])
                with pytest.raises(gl.StoreError):
                    list(book.transactions(head[0] + 1))  # meets the lost connection
                with pytest.raises(gl.WriteBlockFailed, match="can no longer commit"):
                    book.transfer("cash", "wallet", 7)

        with pytest.raises(gl.WriteBlockFailed, match="nothing in it kept"):
            block_goes_on()
        _kept_nothing(book, head, balances)


@pytest.mark.parametrize("lands", ["before the round trip", "after it"])
def test_an_exception_landing_in_a_blocks_round_trip_refuses_the_block(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch, lands: str
) -> None:
    """A signal handler's exception (a timeout, Ctrl-C) landing in a read of a caller's
    block once its buffered writes were taken out to be sent, before they went or before
    what came back was taken in: caught and carried on, the block committed without an
    entry it had returned (the chain broken), or ended on a foreign key. Now it can no
    longer commit, naming the exception, and nothing of it is kept."""
    armed = [False]
    send_now = pgstore._Session._send_now

    def alarmed(self: Any, *args: Any) -> Any:
        if armed[0] and lands == "before the round trip":
            armed[0] = False
            raise Alarm("timed out")
        out = send_now(self, *args)
        if armed[0]:
            armed[0] = False
            raise Alarm("timed out")
        return out

    monkeypatch.setattr(pgstore._Session, "_send_now", alarmed)
    with gl.Ledger.open(postgres_url) as book:
        head, balances = _cash_and_wallet(book)

        def block_goes_on() -> None:
            with book.store.write():
                book.post([gl.debit("cash", 5), gl.credit("wallet", 5)], key="g1")
                armed[0] = True
                with pytest.raises(Alarm):
                    book.trial_balance()  # sends the block's writes first
                cut = "can no longer commit: a round trip .* did not complete.*Alarm: timed out"
                with pytest.raises(gl.WriteBlockFailed, match=cut):
                    book.post([gl.debit("cash", 7), gl.credit("wallet", 7)])
                with pytest.raises(gl.WriteBlockFailed, match=cut):
                    book.trial_balance()

        with pytest.raises(gl.WriteBlockFailed, match=r"nothing in it kept: .*Alarm"):
            block_goes_on()
        _kept_nothing(book, head, balances)
        assert book.post([gl.debit("cash", 5), gl.credit("wallet", 5)], key="g1").id == (
            head[0] + 2  # the key was not kept either: after the transfer above
        )


@pytest.mark.skipif(sys.platform == "win32", reason="SIGALRM")
def test_a_timeout_cutting_a_blocks_wait_short_refuses_the_block(postgres_url: str) -> None:
    """A signal handler's timeout (not KeyboardInterrupt, for which psycopg cancels the
    query) while a caller's block waits for a lock leaves the query running, and the
    connection takes no other command: the block's later calls and its end failed with
    "another command is already in progress". Now they raise WriteBlockFailed naming
    the timeout, the command is cancelled and the block's connection closed (the server
    rolls its transaction back at once, not when the other session lets go), and the
    store goes on."""
    import signal

    def on_alarm(signum: int, frame: object) -> None:
        raise TimeoutError("timed out")

    with gl.Ledger.open(postgres_url) as book, raw(postgres_url) as other:
        head, balances = _cash_and_wallet(book)
        other.execute("BEGIN")
        other.execute("LOCK TABLE gl_totals IN ACCESS EXCLUSIVE MODE")
        previous = signal.signal(signal.SIGALRM, on_alarm)
        try:
            pids: list[int] = []

            def block_goes_on() -> None:
                with book.store.write() as w:
                    pids.append(w._conn.info.backend_pid)  # type: ignore[attr-defined]
                    book.post([gl.debit("cash", 5), gl.credit("wallet", 5)], key="g1")
                    signal.setitimer(signal.ITIMER_REAL, 0.3)
                    try:
                        with pytest.raises(TimeoutError):
                            book.trial_balance()  # its writes wait for the table
                    finally:
                        signal.setitimer(signal.ITIMER_REAL, 0)
                    cut = "can no longer commit: a round trip .* TimeoutError: timed out"
                    with pytest.raises(gl.WriteBlockFailed, match=cut):
                        book.post([gl.debit("cash", 7), gl.credit("wallet", 7)])

            with pytest.raises(gl.WriteBlockFailed, match=r"nothing in it kept: .*TimeoutError"):
                block_goes_on()
            # Its server process does not go on waiting (holding the block's locks, the
            # chain's head among them, until the other session lets go): the command
            # was cancelled as the connection closed.
            deadline = time.monotonic() + 5
            while other.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", [pids]
            ).fetchone()[0]:
                assert time.monotonic() < deadline, "the block's server process still runs"
                time.sleep(0.02)
        finally:
            signal.signal(signal.SIGALRM, previous)
            other.execute("ROLLBACK")
        _kept_nothing(book, head, balances)


def test_a_read_in_a_doomed_block_does_not_send_a_torn_write(postgres_url: str) -> None:
    """A signal handler's exception lands while a write of a caller's block buffers its
    rows (no round trip yet): the write dooms the block, but a read in it still sent the
    half-buffered rows, and failed on a NOT NULL constraint. It is refused, naming the
    failure; the block keeps nothing."""
    with gl.Ledger.open(postgres_url) as book:
        head, balances = _cash_and_wallet(book)
        a_torn_write_is_not_read(
            book,
            interrupted_at(pgstore._Session.append, "sides.append("),
            lambda: book.hold("cash", "wallet", 3, timeout=timedelta(hours=1)),
        )
        _kept_nothing(book, head, balances)


@pytest.mark.parametrize(
    ("method", "line"),
    [
        ("__enter__", "return session"),  # the session made this thread's
        ("__exit__", "store._local.session = None"),  # still this thread's
        ("__exit__", "session._doom_if_ended()"),  # before COMMIT
    ],
    ids=["entering", "ending", "before commit"],
)
def test_an_exception_landing_as_a_write_block_opens_or_ends_leaves_nothing_open(
    postgres_url: str, method: str, line: str
) -> None:
    """A signal handler's exception landing in the write block's own opening or ending
    left its session as this thread's: the next write joined it and returned an entry
    never kept, its transaction holding locks other processes waited on (or its
    connection leaked). Now the block is gone, and the store goes on."""
    with gl.Ledger.open(postgres_url) as book:
        head, balances = _cash_and_wallet(book)
        fired = interrupted_at(getattr(pgstore._Block, method), line)()
        try:
            with pytest.raises(KeyboardInterrupt):
                book.transfer("cash", "wallet", 5)
        finally:
            sys.settrace(None)
        assert fired
        _kept_nothing(book, head, balances)
        with gl.Ledger.open(postgres_url) as other:  # kept, and another writer writes
            assert other.head == book.head
            other.transfer("cash", "wallet", 1)
            assert other.verify() == head[0] + 2
