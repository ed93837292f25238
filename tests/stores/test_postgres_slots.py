"""The slot rows of accounts without a floor stay as many as the connections open at
once (schema 8).

Their totals are delta rows in ``gl_balances`` (and the units' in ``gl_totals``), one per
slot, summed on every read and under the head by every post. A slot was the backend's
pid modulo 1024, so each new connection over time added rows, up to 2,048 an account.
Now each connection claims the lowest slot of its ledger no other session holds.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from moneyed import Money

import giftledger as gl

pytestmark = pytest.mark.postgres


def _schema(url: str) -> str:
    return url.rsplit("schema=", 1)[1]


def _open(url: str) -> gl.Ledger:
    book = gl.Ledger.open(url)
    if not book.accounts():
        book.open_account("supply", "USD", rule=gl.BalanceRule.unrestricted())
        book.open_account("revenue", "USD", normal="credit", rule=gl.BalanceRule.unrestricted())
        for name in ("alice", "bob"):  # wallets: no balance below zero
            book.open_account(name, "USD", normal="credit")
        book.transfer("supply", "alice", "1000.00")
    return book


def _slots(admin: str, schema: str) -> dict[str, list[int]]:
    """Each account's slot rows in gl_balances, and each unit's in gl_totals."""
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        rows = conn.execute(
            f'SELECT account, slot FROM "{schema}".gl_balances UNION ALL '
            f'SELECT unit, slot FROM "{schema}".gl_totals ORDER BY 1, 2'
        ).fetchall()
    out: dict[str, list[int]] = {}
    for name, slot in rows:
        out.setdefault(name, []).append(slot)
    return out


def _slot_of(conn: Any) -> int:
    row = conn.execute("SELECT gl_slot()").fetchone()
    assert row is not None
    return int(row[0])


def test_connections_one_after_another_write_to_the_same_slot_rows(
    postgres_url: str, postgres_server: tuple[str, list[str]]
) -> None:
    # Thirty processes' worth of connections, one after another (a pool recycling its
    # connections, a service restarting): each claims slot 0, free again, and adds no
    # row. With the pid's slot, each added a row to every account and unit it wrote.
    with _open(postgres_url):
        pass
    for _ in range(30):
        with gl.Ledger.open(postgres_url) as book:
            book.transfer("alice", "revenue", "1.00")  # linked at commit: slot 0
            book.post_many([[gl.debit("supply", "2.00"), gl.credit("bob", "2.00")]])  # 1024
    slots = _slots(postgres_server[0], _schema(postgres_url))
    assert slots == {"USD": [0, 1024], "revenue": [0], "supply": [0, 1024]}
    with gl.Ledger.open(postgres_url) as book:
        assert book.balance("revenue") == Money("30.00", "USD")
        assert book.balance("bob") == Money("60.00", "USD")
        assert book.balance("supply") == Money("1060.00", "USD")
        assert book.trial_balance().is_balanced
        book.verify()


def test_connections_open_at_once_never_share_a_slot(postgres_url: str) -> None:
    # Eight threads post at once through one store (its connections) and another
    # store: every connection holds its own slot, and the totals add up.
    with _open(postgres_url) as book, gl.Ledger.open(postgres_url) as other:
        barrier = threading.Barrier(8)

        def post(ledger: gl.Ledger) -> None:
            barrier.wait(10)
            for _ in range(20):
                ledger.transfer("alice", "revenue", "0.01")

        threads = [threading.Thread(target=post, args=(b,)) for b in [book, other] * 4]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        conns = [*book.store._idle, *other.store._idle]  # type: ignore[attr-defined]
        claimed = [_slot_of(c) for c in conns]
        assert len(set(claimed)) == len(claimed) >= 2
        assert max(claimed) < len(claimed) + 1  # the lowest free ones, not pids
        assert book.balance("revenue") == Money("1.60", "USD")
        assert book.verify() == other.verify()


def test_a_slot_comes_free_when_its_connection_closes(
    postgres_url: str, postgres_server: tuple[str, list[str]]
) -> None:
    with _open(postgres_url) as first:
        conn = first.store._idle[-1]  # type: ignore[attr-defined]
        assert _slot_of(conn) == 0
        with gl.Ledger.open(postgres_url) as second:
            assert _slot_of(second.store._idle[-1]) == 1  # type: ignore[attr-defined]
    with gl.Ledger.open(postgres_url) as third:
        assert _slot_of(third.store._idle[-1]) == 0  # type: ignore[attr-defined]


def test_a_failed_write_keeps_the_connections_slot(
    postgres_url: str, postgres_server: tuple[str, list[str]]
) -> None:
    # The claim is made once, outside any transaction: a write rolled back (refused by
    # the server's balance check, run again, then refused by the ledger) does not undo
    # it, nor claim another slot.
    with _open(postgres_url) as book:
        book.transfer("alice", "revenue", "1.00")
        conn = book.store._idle[-1]  # type: ignore[attr-defined]
        slot = _slot_of(conn)
        with pytest.raises(gl.InsufficientFunds):
            book.transfer("bob", "revenue", "5.00")
        book.transfer("alice", "revenue", "1.00")
        assert book.store._idle[-1] is conn  # type: ignore[attr-defined]
        assert _slot_of(conn) == slot
        held = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() "
            "AND locktype = 'advisory' AND classid >= 1735132160"
        ).fetchone()
        assert held is not None
        assert held[0] == 1
    assert _slots(postgres_server[0], _schema(postgres_url))["revenue"] == [slot]


def test_past_every_slot_taken_a_connection_writes_to_its_pids_slot(
    postgres_url: str, postgres_server: tuple[str, list[str]]
) -> None:
    # More than 1,024 connections at once: the next one claims none and writes as the
    # release before did, to its pid's slot; the totals stay exact.
    import psycopg

    admin, _ = postgres_server
    schema = _schema(postgres_url)
    with _open(postgres_url):
        pass
    with psycopg.connect(admin, autocommit=True) as hog:
        hog.execute("SELECT set_config('search_path', %s, false)", (f'"{schema}"',))
        hog.execute(
            "SELECT pg_advisory_lock(1735132160 + k, gl_ledger()) FROM generate_series(0, 1023) k"
        )
        with gl.Ledger.open(postgres_url) as book:
            conn = book.store._idle[-1]  # type: ignore[attr-defined]
            pid = conn.info.backend_pid
            assert _slot_of(conn) == pid % 1024
            book.transfer("alice", "revenue", "3.00")
            assert book.balance("revenue") == Money("3.00", "USD")
            book.verify()
    assert _slots(admin, schema)["revenue"] == [pid % 1024]
    with gl.Ledger.open(postgres_url) as book:  # the slots came free with the session
        assert _slot_of(book.store._idle[-1]) == 0  # type: ignore[attr-defined]
        book.transfer("alice", "revenue", "4.00")
        assert book.balance("revenue") == Money("7.00", "USD")
    assert _slots(admin, schema)["revenue"] == sorted({0, pid % 1024})


@pytest.mark.parametrize("preset", ["1024", "5", "x"])
def test_a_slot_set_before_the_claim_is_not_taken_for_one(
    postgres_url: str, postgres_server: tuple[str, list[str]], preset: str
) -> None:
    # A setting the session has without holding its slot's lock (a role's or a
    # database's default, set by hand) is not a claim: the session claims its own.
    # 1024 or more would write before the head to rows of writes holding it
    # (deadlocks); a number it holds no lock of would be shared.
    import psycopg

    with _open(postgres_url):
        pass
    with psycopg.connect(postgres_server[0], autocommit=True) as conn:
        conn.execute("SELECT set_config('search_path', %s, false)", (f'"{_schema(postgres_url)}"',))
        conn.execute("SELECT set_config('giftledger.slot', %s, false)", (preset,))
        claimed = conn.execute("SELECT gl_claim_slot()").fetchone()
        assert claimed == (0,)
        assert _slot_of(conn) == 0
        assert conn.execute("SELECT gl_claim_slot()").fetchone() == (0,)  # kept, once
        held = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() "
            "AND locktype = 'advisory' AND classid >= 1735132160"
        ).fetchone()
        assert held == (1,)


@pytest.mark.parametrize("setting", ["1024", "99999", "-1", "x", ""])
def test_a_slot_setting_out_of_range_writes_to_the_pids_slot(
    postgres_url: str, setting: str
) -> None:
    with _open(postgres_url) as book:
        conn = book.store._idle[-1]  # type: ignore[attr-defined]
        conn.execute("SELECT set_config('giftledger.slot', %s, false)", (setting,))
        assert _slot_of(conn) == conn.info.backend_pid % 1024
        book.transfer("alice", "revenue", "1.00")
        assert book.balance("revenue") == Money("1.00", "USD")


def test_the_urls_other_parameters_reach_libpq_as_written(postgres_url: str) -> None:
    # "options=-c%20statement_timeout%3D12345" was decoded and encoded again, as
    # "-c+statement_timeout=12345", which libpq read as a parameter named "+...".
    url = f"{postgres_url}&options=-c%20statement_timeout%3D12345"
    with gl.Ledger.open(url) as book:
        conn = book.store._idle[-1]  # type: ignore[attr-defined]
        row = conn.execute("SHOW statement_timeout").fetchone()
        assert row is not None
        assert row[0] == "12345ms"


def test_a_url_without_a_host_reaches_the_servers_socket(postgres_url: str) -> None:
    # "postgresql:///db?host=/var/run/postgresql": rebuilt from its parts, the URL lost
    # its "//" and libpq refused it ('invalid connection option "postgresql:/test?host"').
    import os
    from urllib.parse import urlsplit

    socket_dir = "/var/run/postgresql"
    parts = urlsplit(postgres_url)
    if not os.path.exists(f"{socket_dir}/.s.PGSQL.{parts.port or 5432}"):
        pytest.skip(f"no PostgreSQL socket in {socket_dir}")
    url = (
        f"postgresql://{parts.path}?host={socket_dir}&port={parts.port or 5432}"
        f"&user={parts.username}&schema={_schema(postgres_url)}"
    )
    with _open(url) as book:
        assert book.balance("alice") == Money("1000.00", "USD")
        assert book.store._idle[-1].info.host == socket_dir  # type: ignore[attr-defined]
