"""A PostgreSQL ledger written by an earlier giftledger (schema 1) opens, migrates and
answers as before; new entries chain on under the newest hash formula (3).

``tests/fixtures/postgres_v1.json.gz`` holds, table by table, a schema 1 ledger
written by the code of commit 86af2c4 (see ``tests/fixtures/make_postgres_v1.py``)
and what that giftledger answered about it. Each test loads it into a fresh
schema: the schema 1 DDL, then the rows.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from moneyed import Money

import giftledger as gl
from giftledger._stores import postgres_schema

from ..fixtures.make_postgres_v1 import TABLES
from ..fixtures.make_sqlite_v1 import answers
from .helpers import holds_from_every_account, journaled_definitions

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "postgres_v1.json.gz"

pytestmark = pytest.mark.postgres


def _fixture() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(gzip.decompress(FIXTURE.read_bytes()))
    return data


def _schema(url: str) -> str:
    return dict(parse_qsl(urlsplit(url).query))["schema"]


@pytest.fixture
def v1_url(postgres_url: str, postgres_server: tuple[str, list[str]]) -> str:
    """A fresh schema holding the fixture's schema 1 ledger, loaded table by table."""
    import psycopg

    admin, _ = postgres_server
    schema = _schema(postgres_url)
    data = _fixture()
    assert data["schema_version"] == 1
    with psycopg.connect(admin, autocommit=True) as conn, conn.transaction():
        conn.execute(f'CREATE SCHEMA "{schema}"')
        conn.execute("SELECT set_config('search_path', %s, true)", (f'"{schema}"',))
        for statement in postgres_schema.MIGRATIONS[0]:
            if not statement.startswith("INSERT INTO gl_meta"):
                conn.execute(statement)
        for table in TABLES:  # in an order that loads (the file keeps them sorted)
            dump = data["tables"][table]
            cols = ", ".join(dump["columns"])
            with conn.cursor().copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                copy.write(dump["copy"].encode())
    return postgres_url


def _version(url: str, postgres_server: tuple[str, list[str]]) -> str:
    import psycopg

    with psycopg.connect(postgres_server[0], autocommit=True) as conn:
        row = conn.execute(f'SELECT value FROM "{_schema(url)}".gl_meta').fetchone()
    assert row is not None
    return str(row[0])


# The identity arguments of the schema's gl_link functions, fewest first.
_LINK_ARGUMENTS = (
    "SELECT pg_get_function_identity_arguments(p.oid) FROM pg_proc p "
    "WHERE p.proname = 'gl_link' AND p.pronamespace = current_schema()::regnamespace "
    "ORDER BY p.pronargs"
)


def _migrate_as_before(
    url: str, postgres_server: tuple[str, list[str]], upto: int, old_link: str, is_link: Any
) -> list[str]:
    """Migrate ``url``'s schema 1 ledger to version ``upto`` as the release before did:
    the statements ``is_link`` picks are that release's gl_link (``old_link``, created
    or replaced as the statement does). Returns the gl_link functions' identity
    arguments."""
    import psycopg

    replace = old_link.replace("CREATE FUNCTION gl_link(", "CREATE OR REPLACE FUNCTION gl_link(")
    with psycopg.connect(postgres_server[0], autocommit=True) as conn, conn.transaction():
        conn.execute("SELECT set_config('search_path', %s, true)", (f'"{_schema(url)}"',))
        for step in postgres_schema.MIGRATIONS[1:upto]:
            for statement in step:
                if is_link(statement):
                    statement = replace if "CREATE OR REPLACE" in statement else old_link
                conn.execute(statement)
        return [row[0] for row in conn.execute(_LINK_ARGUMENTS)]


def _created_link(statement: str) -> bool:
    return statement.lstrip().startswith("CREATE FUNCTION gl_link(")


def _old_writer(admin: str, schema: str, calls: dict[str, str]) -> Any:
    """A writer of the release before: a session with gl_link ``calls`` prepared (name:
    the arguments after its 38 empty arrays: no entry to link, the head as it is)."""
    import psycopg

    old = psycopg.connect(admin, autocommit=True)
    old.execute("SELECT set_config('search_path', %s, false)", (f'"{schema}"',))
    empty = ", ".join(["'{}'"] * 38)
    for name, rest in calls.items():
        old.execute(f"PREPARE {name} AS SELECT * FROM gl_link(1, {empty}, {rest})")
    return old


def _links(old: Any, calls: Iterable[str], entries: int) -> None:
    """Each prepared call of ``old`` links (nothing) after the head, entry ``entries``."""
    for call in calls:
        row = old.execute(f"EXECUTE {call}").fetchone()
        assert row is not None
        assert row[0] == entries


def _migrated(url: str, postgres_server: tuple[str, list[str]]) -> tuple[gl.ManualClock, list[str]]:
    """Open the book at ``url``, migrating it to the current version: a clock an hour
    after its last entry, and its gl_link functions' identity arguments."""
    import psycopg

    with gl.Ledger.open(url) as book:
        clock = _clock_after(book, timedelta(hours=1))
    assert _version(url, postgres_server) == str(postgres_schema.SCHEMA_VERSION)
    with psycopg.connect(postgres_server[0], autocommit=True) as conn, conn.transaction():
        conn.execute("SELECT set_config('search_path', %s, true)", (f'"{_schema(url)}"',))
        return clock, [row[0] for row in conn.execute(_LINK_ARGUMENTS)]


def _transfers_chain_on(url: str, clock: gl.ManualClock, entries: int) -> None:
    """The migrated book verifies its ``entries`` and chains three transfers on (the
    later ones in one round trip), after the definitions it journals first."""
    with gl.Ledger.open(url, clock=clock) as book:
        assert book.verify() == entries
        accounts = len(book.accounts())
        for amount in ("1.00", "2.00", "3.00"):
            book.transfer("ops:bank", "ops:equity", amount)
        defined = journaled_definitions(book, entries + 1, accounts)
        assert book.verify() == entries + defined + 3
        assert book.trial_balance().is_balanced


def _clock_after(book: gl.Ledger, delay: timedelta = timedelta(0)) -> gl.ManualClock:
    last = book.transaction(book.head[0])
    assert last is not None
    return gl.ManualClock(last.recorded_at + delay)


def test_a_schema_1_database_migrates_and_answers_exactly_as_before(
    v1_url: str, postgres_server: tuple[str, list[str]]
) -> None:
    assert _version(v1_url, postgres_server) == "1"
    expected = _fixture()["answers"]
    with gl.Ledger.open(v1_url) as book:
        gl.GiftEconomy.from_ledger(book)  # registers the economy's units
        clock = _clock_after(book)
    assert _version(v1_url, postgres_server) == str(postgres_schema.SCHEMA_VERSION)
    with gl.Ledger.open(v1_url, clock=clock) as book:
        assert json.loads(json.dumps(answers(book))) == expected
        # Every entry the earlier release wrote keeps its formula.
        assert {tx.hash_version for tx in book.transactions()} == {1}


def test_new_entries_chain_on_under_the_newest_formula_and_balances_stay(
    v1_url: str, postgres_server: tuple[str, list[str]]
) -> None:
    expected = _fixture()["answers"]
    with gl.Ledger.open(v1_url) as book:
        clock = _clock_after(book, timedelta(hours=1))
    with gl.Ledger.open(v1_url, clock=clock) as book:
        app = gl.GiftEconomy.from_ledger(book)
        entries = app.verify()
        assert entries == expected["entries"]
        balances = {a.name: str(book.balance(a.name).amount) for a in book.accounts()}
        assert balances == expected["balances"]
        supply = book.balance("platform:coin-supply")
        diamonds = book.balance("creators:bob:diamonds")
        accounts = len(book.accounts())
        app.send_gift("carol", "bob", "Rose", key="after-migration")
        book.transfer("ops:bank", "ops:equity", "2.00")
        assert book.balance("creators:bob:diamonds") > diamonds
        assert book.balance("platform:coin-supply") != supply
        # The first write journals the book's definitions, before the gift's entry.
        defined = journaled_definitions(book, entries + 1, accounts)
        assert book.verify() == entries + defined + 2
        new = [book.transaction(i) for i in range(entries + 1, entries + defined + 3)]
        assert {tx.hash_version for tx in new if tx is not None} == {3}
        assert new[0] is not None
        assert new[0].prev_hash == expected["head"][1]
        assert book.trial_balance().is_balanced
    with gl.Ledger.open(v1_url) as book:  # reopened: the same answers
        assert book.verify() == entries + defined + 2


def test_tampering_is_found_on_both_sides_of_the_formula_change(
    v1_url: str, postgres_server: tuple[str, list[str]]
) -> None:
    import psycopg

    with gl.Ledger.open(v1_url) as book:
        clock = _clock_after(book, timedelta(hours=1))
    with gl.Ledger.open(v1_url, clock=clock) as book:
        gl.GiftEconomy.from_ledger(book)
        head = book.head[0]
        accounts = len(book.accounts())
        book.transfer("ops:bank", "ops:equity", "2.00")
        book.transfer("ops:bank", "ops:equity", "3.00")
        assert book.verify() == head + journaled_definitions(book, head + 1, accounts) + 2
    schema = _schema(v1_url)
    for target, version in ((3, 1), (head + 1, 3)):
        with psycopg.connect(postgres_server[0], autocommit=True) as conn:
            conn.execute(f'ALTER TABLE "{schema}".gl_transactions DISABLE TRIGGER USER')
            conn.execute(
                f"UPDATE \"{schema}\".gl_transactions SET memo = memo || 'x' WHERE id = %s",
                (target,),
            )
            conn.execute(f'ALTER TABLE "{schema}".gl_transactions ENABLE TRIGGER USER')
        with gl.Ledger.open(v1_url) as book:
            assert book.transaction(target).hash_version == version  # type: ignore[union-attr]
            with pytest.raises(gl.ChainBroken) as info:
                book.verify()
            assert info.value.transaction_id == target
        with psycopg.connect(postgres_server[0], autocommit=True) as conn:
            conn.execute(f'ALTER TABLE "{schema}".gl_transactions DISABLE TRIGGER USER')
            conn.execute(
                f'UPDATE "{schema}".gl_transactions SET memo = left(memo, -1) WHERE id = %s',
                (target,),
            )
            conn.execute(f'ALTER TABLE "{schema}".gl_transactions ENABLE TRIGGER USER')


def test_a_schema_3_database_gets_the_one_trip_post_and_keeps_its_entries(
    v1_url: str, postgres_server: tuple[str, list[str]]
) -> None:
    # Schema 3 as the release before created it: its gl_link had no ``blind``
    # argument. Version 4 replaces the function; the entries are untouched.
    import psycopg

    old_link = (FIXTURE.parent / "postgres_v3_gl_link.sql").read_text()
    admin, _ = postgres_server
    args = _migrate_as_before(v1_url, postgres_server, 3, old_link, _created_link)
    assert len(args) == 1
    assert "blind" not in args[0]
    assert _version(v1_url, postgres_server) == "3"
    entries = _fixture()["answers"]["entries"]
    with gl.Ledger.open(v1_url) as book:
        clock = _clock_after(book, timedelta(hours=1))
    assert _version(v1_url, postgres_server) == str(postgres_schema.SCHEMA_VERSION)
    with psycopg.connect(admin, autocommit=True) as conn:
        # Both server functions were replaced: planned once per session, not per call.
        # (gl_link with schema 4's arguments, for writers of the release before, is a
        # SQL function calling the new one: nothing of its own to plan.)
        configs = conn.execute(
            "SELECT p.proname, l.lanname = 'sql', p.proconfig "
            "FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang JOIN pg_namespace n "
            "ON n.oid = p.pronamespace WHERE n.nspname = %s "
            "AND p.proname IN ('gl_link', 'gl_open') ORDER BY 1, 2",
            (_schema(v1_url),),
        ).fetchall()
    assert configs == [
        ("gl_link", False, ["plan_cache_mode=force_generic_plan"]),
        ("gl_link", True, None),
        ("gl_open", False, ["plan_cache_mode=force_generic_plan"]),
    ]
    _transfers_chain_on(v1_url, clock, entries)


def test_a_schema_4_database_gets_the_trading_check_and_keeps_the_old_call(
    v1_url: str, postgres_server: tuple[str, list[str]]
) -> None:
    # Schema 4 as the release before created it: its gl_link took no ``t_name``.
    # Version 5 replaces it, and keeps a gl_link of version 4's arguments (a writer of
    # the release before, running while a newer one migrates, calls it) that calls the
    # new one without the trading check.

    old_link = (FIXTURE.parent / "postgres_v4_gl_link.sql").read_text()
    admin, _ = postgres_server
    schema = _schema(v1_url)
    before = _migrate_as_before(v1_url, postgres_server, 4, old_link, _created_link)
    assert len(before) == 1
    assert "t_name" not in before[0]
    assert _version(v1_url, postgres_server) == "4"
    entries = _fixture()["answers"]["entries"]
    # A writer of the release before: its session prepared schema 4's call.
    old = _old_writer(admin, schema, {"old_link": "false"})
    _links(old, ["old_link"], entries)
    clock, after = _migrated(v1_url, postgres_server)
    assert after == [before[0], before[0] + ", t_name text[], record_before bigint"]
    # Its prepared call still links after the migration (its function was replaced:
    # the statement is planned again, and finds the one of schema 4's arguments).
    with old:
        _links(old, ["old_link"], entries)
    with gl.Ledger.open(v1_url, clock=clock) as book:
        assert book.verify() == entries
        accounts = len(book.accounts())
        book.open_account("ops:euros", "EUR", normal="credit")
        book.open_trading_account("EUR")
        book.open_trading_account("USD")
        for amount in ("1.00", "2.00", "3.00"):  # the later ones in one round trip
            book.convert("ops:bank", "ops:euros", amount, rate="0.9")
        assert book.balance("ops:euros") == Money("5.40", "EUR")
        defined = journaled_definitions(book, entries + 1, accounts)
        opened = len(book.accounts()) - accounts  # an ACCOUNT entry each
        assert book.verify() == entries + defined + opened + 3
        assert book.trial_balance().is_balanced


def test_a_schema_5_database_gets_the_holds_by_account_and_answers_as_before(
    v1_url: str, postgres_server: tuple[str, list[str]]
) -> None:
    """Version 6 indexes the holds by account and id (an account's holds from an entry
    on: a withdrawal's caps); a schema 5 database gets the indexes and its holds answer
    as before."""
    import psycopg

    admin, _ = postgres_server
    schema = _schema(v1_url)
    index = "SELECT indexname FROM pg_indexes WHERE schemaname = %s AND tablename = 'gl_holds'"
    with psycopg.connect(admin, autocommit=True) as conn, conn.transaction():
        conn.execute("SELECT set_config('search_path', %s, true)", (f'"{schema}"',))
        for step in postgres_schema.MIGRATIONS[1:5]:
            for statement in step:
                conn.execute(statement)
        assert "gl_holds_debit_id" not in {row[0] for row in conn.execute(index, (schema,))}
    assert _version(v1_url, postgres_server) == "5"
    with gl.Ledger.open(v1_url) as book:
        assert _version(v1_url, postgres_server) == str(postgres_schema.SCHEMA_VERSION)
        holds_from_every_account(book)
        book.verify()
    with psycopg.connect(admin, autocommit=True) as conn:
        names = {row[0] for row in conn.execute(index, (schema,))}
    assert {"gl_holds_debit_id", "gl_holds_credit_id"} <= names


def test_a_schema_6_database_gets_the_dated_link_and_keeps_the_old_calls(
    v1_url: str, postgres_server: tuple[str, list[str]]
) -> None:
    """Version 7's gl_link takes ``record_before`` (the time the entries it links must be
    recorded before), defaulting to none: a writer of the release before, its call of
    schema 5's arguments prepared, links on after the migration, and so does schema 4's
    call (the function of its arguments calls the new one)."""
    import psycopg

    old_link = (FIXTURE.parent / "postgres_v5_gl_link.sql").read_text()
    admin, _ = postgres_server
    schema = _schema(v1_url)
    # (Not schema 5's wrapper of it, which creates a gl_link too.)
    before = _migrate_as_before(
        v1_url, postgres_server, 6, old_link, lambda s: s == postgres_schema._GL_LINK
    )
    assert len(before) == 2
    assert before[1].endswith("t_name text[]")
    assert _version(v1_url, postgres_server) == "6"
    entries = _fixture()["answers"]["entries"]
    calls = {"v5_link": "false, '{}'", "v4_link": "false"}
    old = _old_writer(admin, schema, calls)
    _links(old, calls, entries)
    clock, after = _migrated(v1_url, postgres_server)
    assert after == [before[0], before[1] + ", record_before bigint"]
    with psycopg.connect(admin, autocommit=True) as conn, conn.transaction():
        conn.execute("SELECT set_config('search_path', %s, true)", (f'"{schema}"',))
        # The new body: it refuses an entry the head would record past ``record_before``.
        bodies = conn.execute(
            "SELECT p.prosrc FROM pg_proc p WHERE p.proname = 'gl_link' "
            "AND p.pronamespace = current_schema()::regnamespace ORDER BY p.pronargs"
        ).fetchall()
        assert ["GLHED" in row[0] for row in bodies] == [False, True]
    with old:
        _links(old, calls, entries)
    _transfers_chain_on(v1_url, clock, entries)


# Each account's and unit's totals, summed over their slot rows.
_SUMS = (
    "SELECT name, net, pending_debits, pending_credits FROM gl_account_states ORDER BY name",
    "SELECT unit, sum(debits), sum(credits) FROM gl_totals GROUP BY unit ORDER BY unit",
)


def test_a_schema_7_database_folds_its_slot_rows_and_keeps_the_old_calls(
    v1_url: str, postgres_server: tuple[str, list[str]]
) -> None:
    """Version 8 claims a slot per session: the slot rows a schema 7 database gathered,
    one per backend that ever wrote (its pid modulo 1024), fold into slot 0 with the same
    sums, and nothing else changes; a writer of the release before links on, and new
    writes use the slot their connection claimed."""
    import psycopg

    old_link = (FIXTURE.parent / "postgres_v7_gl_link.sql").read_text()
    assert "pg_backend_pid() % 1024" in old_link
    links = (postgres_schema._GL_LINK, postgres_schema._REPLACE_LINK)
    admin, _ = postgres_server
    schema = _schema(v1_url)
    before = _migrate_as_before(
        v1_url,
        postgres_server,
        7,
        old_link,
        lambda s: s in links,
    )
    assert _version(v1_url, postgres_server) == "7"
    with psycopg.connect(admin, autocommit=True) as conn, conn.transaction():
        conn.execute("SELECT set_config('search_path', %s, true)", (f'"{schema}"',))
        # Backends 17 and 1,500 (one holding the head) wrote part of each total.
        conn.execute("UPDATE gl_balances SET net = net - 7 WHERE slot = 0")
        conn.execute(
            "INSERT INTO gl_balances (account, slot, net) SELECT account, s, d "
            "FROM gl_balances, (VALUES (17, 3), (1500, 4)) AS v(s, d) WHERE slot = 0"
        )
        conn.execute("UPDATE gl_totals SET debits = debits - 9, credits = credits - 9")
        conn.execute(
            "INSERT INTO gl_totals (unit, slot, debits, credits) SELECT unit, s, d, d "
            "FROM gl_totals, (VALUES (17, 4), (1500, 5)) AS v(s, d) WHERE slot = 0"
        )
        spread = [conn.execute(q).fetchall() for q in _SUMS]
        rows = conn.execute("SELECT count(*), count(DISTINCT account) FROM gl_balances")
        counted = rows.fetchone()
        assert counted is not None
        assert counted[0] == 3 * counted[1] > 0
    entries = _fixture()["answers"]["entries"]
    calls = {"v7_link": "false, '{}', NULL", "v5_link": "false, '{}'", "v4_link": "false"}
    old = _old_writer(admin, schema, calls)
    _links(old, calls, entries)
    clock, after = _migrated(v1_url, postgres_server)
    assert after == before
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("SELECT set_config('search_path', %s, false)", (f'"{schema}"',))
        assert [conn.execute(q).fetchall() for q in _SUMS] == spread
        slots = "SELECT DISTINCT slot FROM gl_balances UNION SELECT slot FROM gl_totals"
        assert [row[0] for row in conn.execute(slots)] == [0]
        with pytest.raises(psycopg.errors.RestrictViolation):
            conn.execute("DELETE FROM gl_balances")  # the delete trigger is back
    with old:
        _links(old, calls, entries)
        # It claimed no slot: the new gl_link writes to its pid's, as its own statements
        # (holding the head) write to 1024 more.
        assert old.execute("SELECT gl_slot()").fetchone() == (old.info.backend_pid % 1024,)
    _transfers_chain_on(v1_url, clock, entries)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("SELECT set_config('search_path', %s, false)", (f'"{schema}"',))
        # This release's store claimed slot 0: its writes (some holding the head) are
        # there and in 1024, with the folded rows.
        assert {row[0] for row in conn.execute(slots)} <= {0, 1024}
