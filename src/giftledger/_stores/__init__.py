"""Storage engines, chosen by URL: ``memory:``, ``sqlite:///path.db``, ``postgresql://…``."""

from __future__ import annotations

from .._errors import InvalidArgument
from .._ledger.store import Store
from .urls import redacted

__all__ = ["open_store"]


def open_store(url: str) -> Store:
    """Open the store named by ``url``.

    Raises:
        InvalidArgument: the URL names no known engine.
    """
    if not isinstance(url, str):
        raise InvalidArgument(f"store URL {url!r} must be a string")
    if url in ("memory:", "memory://"):
        from .memory import MemoryStore

        return MemoryStore()
    if url.startswith("sqlite:"):
        from .sqlite import SQLiteStore

        return SQLiteStore(url)
    if url.startswith(("postgresql://", "postgres://")):
        from .postgres import PostgresStore

        return PostgresStore(url)
    raise InvalidArgument(
        f"unknown store URL {redacted(url)!r}; use 'memory:', 'sqlite:///path/to/file.db' "
        f"or 'postgresql://user@host/dbname'"
    )
