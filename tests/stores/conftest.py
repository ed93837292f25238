"""Fixtures for the store conformance suite: one test, every store.

``store_url`` is parametrized over the memory store, SQLite (a new file under
``tmp_path``) and PostgreSQL (a new schema per test in the database named by
``GIFTLEDGER_TEST_POSTGRES_URL``, dropped afterwards). PostgreSQL cases skip
with the reason when that variable is unset; with ``GIFTLEDGER_REQUIRE_POSTGRES=1``
(as CI sets) an unreachable server fails them instead.

``open_book`` opens a ledger on that store, and opens it again to check what a
store gives back after a restart (the memory store cannot forget on reopen, so
it hands back a ledger on the same store object). ``book`` is the ledger most
tests want, like the root ``book`` fixture but on every store.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

import giftledger as gl

POSTGRES_ENV = "GIFTLEDGER_TEST_POSTGRES_URL"
REQUIRE_ENV = "GIFTLEDGER_REQUIRE_POSTGRES"

STORES = ("memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres))
DURABLE_STORES = ("sqlite", pytest.param("postgres", marks=pytest.mark.postgres))

OpenBook = Callable[..., gl.Ledger]


def _unavailable(reason: str) -> None:
    """Skip, or fail when CI requires PostgreSQL."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def _postgres_admin_url() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        _unavailable(
            f"no PostgreSQL server configured: set {POSTGRES_ENV} "
            f"(e.g. postgresql://postgres@127.0.0.1:5432/test) to run the PostgreSQL cases"
        )
        raise AssertionError("unreachable")
    return url


def _with_schema(url: str, schema: str) -> str:
    return f"{url}{'&' if urlsplit(url).query else '?'}schema={schema}"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[tuple[str, list[str]]]:
    """The test server's URL, checked once, and the schemas tests made (dropped at the end)."""
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is in the test extra
        _unavailable("psycopg is not installed (pip install 'giftledger[postgres]')")
        raise
    admin = _postgres_admin_url()
    try:
        conn = psycopg.connect(admin, autocommit=True, connect_timeout=5)
    except psycopg.Error as exc:
        _unavailable(f"the PostgreSQL server at {POSTGRES_ENV}={admin!r} is unreachable: {exc}")
        raise
    schemas: list[str] = []
    try:
        yield admin, schemas
    finally:
        # One statement per hundred schemas at the end, rather than one per test.
        for i in range(0, len(schemas), 100):
            names = ", ".join(f'"{name}"' for name in schemas[i : i + 100])
            conn.execute(f"DROP SCHEMA IF EXISTS {names} CASCADE")
        conn.close()


@pytest.fixture
def postgres_url(postgres_server: tuple[str, list[str]]) -> str:
    """A URL to a fresh, empty schema in the test PostgreSQL database (dropped at the end)."""
    admin, schemas = postgres_server
    schema = f"gl_test_{uuid.uuid4().hex[:16]}"
    schemas.append(schema)
    return _with_schema(admin, schema)


def _url(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if kind == "memory":
        return "memory:"
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'book.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(params=STORES)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a new, empty ledger on each store in turn."""
    return _url(request.param, request, tmp_path)


@pytest.fixture(params=DURABLE_STORES)
def durable_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Like ``store_url``, for the stores that keep a ledger across a reopen (not memory)."""
    return _url(request.param, request, tmp_path)


@pytest.fixture
def open_book(store_url: str) -> Iterator[OpenBook]:
    """``open_book(clock=None)``: a ledger on ``store_url``; call again to reopen it."""
    opened: list[gl.Ledger] = []
    memory: gl.MemoryStore | None = None

    def open_(clock: gl.Clock | None = None) -> gl.Ledger:
        nonlocal memory
        if store_url == "memory:":
            memory = memory or gl.MemoryStore()
            book = gl.Ledger(memory, clock=clock)
        else:
            book = gl.Ledger.open(store_url, clock=clock)
        opened.append(book)
        return book

    yield open_
    for book in opened:
        book.close()


@pytest.fixture
def book(open_book: OpenBook, clock: gl.ManualClock) -> gl.Ledger:
    """A new ledger on each store, on the manual clock (like the root ``book``)."""
    return open_book(clock)


@pytest.fixture
def trips() -> Iterator[list[int]]:
    """Counts the round trips every PostgreSQL session sends (one ``_send`` each)."""
    from giftledger._stores import postgres as pgstore

    sent = [0]
    real = pgstore._Session._send

    def count(self: Any, *args: Any, **kwargs: Any) -> Any:
        sent[0] += 1
        return real(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pgstore._Session, "_send", count)
        yield sent
