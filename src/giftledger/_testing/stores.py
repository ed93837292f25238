"""Fresh, empty ledgers on every kind of store, cleaned up afterwards.

This module imports no Hypothesis: the pytest plugin uses it for its fixtures.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .._errors import InvalidArgument
from .._ledger.clock import Clock
from .._ledger.ledger import Ledger

__all__ = ["POSTGRES_ENV", "FreshLedgers", "StoreSpec"]

#: The environment variable naming a PostgreSQL database to test against
#: (``postgresql://postgres@127.0.0.1:5432/test``); each test gets a schema of
#: its own there, dropped afterwards.
POSTGRES_ENV = "GIFTLEDGER_TEST_POSTGRES_URL"

#: Where :class:`FreshLedgers` opens ledgers: a store URL, or a callable that
#: opens a new, empty ledger on the clock it is given.
StoreSpec = str | Callable[[Clock], Ledger]

_SUFFIXES = ("", "-wal", "-shm", "-journal")


class FreshLedgers:
    """A new, empty ledger on each :meth:`open`, all on one kind of store;
    :meth:`close` closes them and removes what was made for them.

    Args:
        store: where the ledgers live:

            - ``"memory:"``: a new in-memory store each time;
            - ``"sqlite:"``: a new file in a temporary directory each time;
            - ``"sqlite:///dir/name.db"``: a new file beside that path each time,
              ``name-<random>.db`` (the path itself is never touched);
            - ``"postgresql://…"``: a new schema in that database each time,
              ``gl_test_<random>`` (or ``<schema>_<random>`` with ``?schema=``),
              dropped on :meth:`close`;
            - a callable ``(clock) -> Ledger`` that opens one itself (its ledgers
              are closed, nothing else is removed).

    Example:
        >>> from giftledger.testing import FreshLedgers
        >>> with FreshLedgers("sqlite:") as stores:
        ...     a, b = stores.open(), stores.open()
        ...     a.store.url != b.store.url
        True
    """

    def __init__(self, store: StoreSpec = "memory:") -> None:
        if not (callable(store) or isinstance(store, str)):
            raise InvalidArgument(f"store {store!r} must be a store URL or a callable")
        if isinstance(store, str) and not store.startswith(
            ("memory:", "memory", "sqlite:", "postgresql://", "postgres://")
        ):
            raise InvalidArgument(
                f"store {store!r} must be 'memory:', 'sqlite:', 'sqlite:///path.db', a "
                f"'postgresql://' URL or a callable"
            )
        self.store = store
        self._ledgers: list[Ledger] = []
        self._files: list[Path] = []
        self._schemas: list[str] = []
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    @property
    def kind(self) -> str:
        """``"memory"``, ``"sqlite"``, ``"postgres"`` or ``"custom"``."""
        if not isinstance(self.store, str):
            return "custom"
        if self.store.startswith("memory"):
            return "memory"
        return "sqlite" if self.store.startswith("sqlite:") else "postgres"

    def url(self) -> str:
        """The URL of a new, empty store (for a callable store, refused)."""
        store = self.store
        if not isinstance(store, str):
            raise InvalidArgument("a callable store has no URL; call open()")
        tag = uuid.uuid4().hex[:12]
        if self.kind == "memory":
            return "memory:"
        if self.kind == "sqlite":
            rest = store[len("sqlite:") :]
            if rest in ("", "//", "///"):
                if self._tmp is None:
                    self._tmp = tempfile.TemporaryDirectory(prefix="giftledger-")
                path = Path(self._tmp.name) / f"book-{tag}.db"
            else:
                given = Path(rest[len("///") :] if rest.startswith("///") else rest)
                path = given.with_name(f"{given.stem}-{tag}{given.suffix or '.db'}")
            self._files.append(path)
            return f"sqlite:///{path}"
        parts = urlsplit(store)
        query = parse_qsl(parts.query, keep_blank_values=True)
        prefix = next((v for k, v in query if k == "schema"), "gl_test")
        schema = f"{prefix[:48]}_{tag}"
        self._schemas.append(schema)
        kept = [(k, v) for k, v in query if k != "schema"] + [("schema", schema)]
        return urlunsplit(parts._replace(query=urlencode(kept)))

    def open(self, clock: Clock | None = None) -> Ledger:
        """A new, empty ledger on ``clock`` (None: the system clock)."""
        if isinstance(self.store, str):
            book = Ledger.open(self.url(), clock=clock)
        else:
            if clock is None:
                raise InvalidArgument("a callable store needs the clock to open a ledger on")
            book = self.store(clock)
            if not isinstance(book, Ledger):
                raise InvalidArgument(f"store callable returned {book!r}, not a Ledger")
        self._ledgers.append(book)
        return book

    def close(self) -> None:
        """Close every ledger opened; delete the files and drop the schemas made."""
        ledgers, self._ledgers = self._ledgers, []
        for book in ledgers:
            book.close()
        files, self._files = self._files, []
        for path in files:
            for suffix in _SUFFIXES:
                try:
                    os.remove(f"{path}{suffix}")
                except FileNotFoundError:
                    pass
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
        schemas, self._schemas = self._schemas, []
        if schemas and isinstance(self.store, str):
            drop_schemas(self.store, schemas)

    def __enter__(self) -> FreshLedgers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def drop_schemas(url: str, schemas: list[str]) -> None:
    """Drop ``schemas`` (and everything in them) in the database at ``url``."""
    import psycopg

    from .._stores.postgres import _split_url

    conninfo, _ = _split_url(url)
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=10) as conn:
        # One statement per hundred schemas.
        for i in range(0, len(schemas), 100):
            names = ", ".join(f'"{name}"' for name in schemas[i : i + 100])
            conn.execute(f"DROP SCHEMA IF EXISTS {names} CASCADE")
