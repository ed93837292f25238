"""The stores' fixtures (memory, SQLite, PostgreSQL when configured) for the simulator."""

from tests.stores.conftest import postgres_server, postgres_url, store_url

__all__ = ["postgres_server", "postgres_url", "store_url"]
