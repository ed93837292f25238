"""FreshLedgers: a new, empty ledger per open on every kind of store, cleaned up on close."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import giftledger as gl
import giftledger.testing as glt


def test_each_open_is_a_new_empty_ledger(kit_store: str) -> None:
    with glt.FreshLedgers(kit_store) as stores:
        a, b = stores.open(gl.ManualClock()), stores.open(gl.ManualClock())
        a.open_account("cash", "USD")
        assert b.accounts() == ()
        assert stores.kind in ("memory", "sqlite", "postgres")


def test_a_sqlite_path_gets_new_files_beside_it_and_is_never_touched(tmp_path: Path) -> None:
    mine = tmp_path / "book.db"
    mine.write_bytes(b"not a ledger: the kit must leave it alone")
    with glt.FreshLedgers(f"sqlite:///{mine}") as stores:
        book = stores.open(gl.ManualClock())
        made = Path(book.store.url.removeprefix("sqlite:///"))
        assert made.parent == tmp_path
        assert made.name.startswith("book-")
        assert made.suffix == ".db"
        assert made.exists()
    assert not made.exists()  # removed on close
    assert mine.read_bytes().startswith(b"not a ledger")


def test_a_temporary_sqlite_directory_goes_away() -> None:
    stores = glt.FreshLedgers("sqlite:")
    book = stores.open(gl.ManualClock())
    folder = Path(book.store.url.removeprefix("sqlite:///")).parent
    assert folder.is_dir()
    stores.close()
    assert not folder.exists()


@pytest.mark.postgres
def test_postgres_schemas_take_the_prefix_given_and_are_dropped() -> None:
    url = os.environ.get(glt.POSTGRES_ENV)
    if not url:
        pytest.skip(f"no PostgreSQL server configured: set {glt.POSTGRES_ENV}")
    import psycopg

    with glt.FreshLedgers(f"{url}?schema=kit_probe") as stores:
        made = stores.url()
        assert "schema=kit_probe_" in made
        stores.open(gl.ManualClock()).open_account("cash", "USD")
        schema = made.rsplit("schema=", 1)[1]
    with psycopg.connect(url) as conn:
        found = conn.execute(
            "SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", (schema,)
        ).fetchone()
    assert found is None


def test_a_callable_store_opens_its_own_ledgers() -> None:
    with glt.FreshLedgers(lambda clock: gl.Ledger(clock=clock)) as stores:
        assert stores.kind == "custom"
        assert isinstance(stores.open(gl.ManualClock()), gl.Ledger)
        with pytest.raises(gl.InvalidArgument, match="no URL"):
            stores.url()


@pytest.mark.parametrize("store", ["mysql://x", 42])
def test_an_unknown_store_is_refused(store: object) -> None:
    with pytest.raises(gl.InvalidArgument, match="store"):
        glt.FreshLedgers(store)  # type: ignore[arg-type]
