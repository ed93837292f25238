"""giftledger's pytest plugin: fixtures for testing code built on giftledger.

pytest loads it by itself once giftledger is installed (a ``pytest11`` entry
point named ``giftledger``; ``-p no:giftledger`` turns it off). It needs no
Hypothesis, and imports giftledger only when a test asks for one of its
fixtures. Every fixture name starts with ``gl_``, so none hides one of yours.

Fixtures:
    - ``gl_clock``: a :class:`~giftledger.ManualClock` frozen at 2026-01-01 UTC
      (move it with ``gl_clock.advance(timedelta(...))``).
    - ``gl_ledger``: a fresh in-memory :class:`~giftledger.Ledger` on ``gl_clock``.
    - ``gl_store_url``: the URL of a fresh, empty store, once per store: memory,
      SQLite (a file in ``tmp_path``) and PostgreSQL (a schema of its own in the
      database named by ``GIFTLEDGER_TEST_POSTGRES_URL``, dropped at the end of the
      session; skipped when the variable is unset, failed instead when
      ``GIFTLEDGER_REQUIRE_POSTGRES=1``).
    - ``gl_store_ledger``: a :class:`~giftledger.Ledger` on ``gl_store_url`` and
      ``gl_clock``, closed afterwards.
    - ``gl_preset``: the preset ``gl_economy`` loads: ``"tiktok-live"`` unless you
      parametrize it, with a name or a ``(name, {option: value})`` pair.
    - ``gl_economy``: that preset's :class:`~giftledger.Economy`.
    - ``gl_app``: a :class:`~giftledger.GiftEconomy` under ``gl_economy`` on
      ``gl_ledger`` (the clock moved to the latest rules if they start later).

Example (a test module of yours)::

    import pytest

    @pytest.mark.parametrize("gl_preset", ["twitch-bits", ("tiktok-live", {"model": "B"})])
    def test_a_purchase_fills_the_wallet(gl_app, gl_economy):
        pack = gl_economy.latest.coin_packs[0]
        gl_app.open_viewer("ann", region="US", age=30)
        gl_app.buy_coins("ann", pack=pack.coins, channel=pack.channel)
        assert gl_app.ledger.balance("viewers:ann:coins").amount == pack.coins

    def test_it_survives_a_reopen(gl_store_url, gl_clock):
        ...  # runs on memory, SQLite and (when configured) PostgreSQL
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import giftledger as gl
    from giftledger._testing.stores import FreshLedgers

__all__ = [
    "gl_app",
    "gl_clock",
    "gl_economy",
    "gl_ledger",
    "gl_preset",
    "gl_store_ledger",
    "gl_store_url",
]

#: When ``gl_clock`` starts.
START = datetime(2026, 1, 1, tzinfo=UTC)
#: Set to ``1`` (as a CI job with a database would) to fail, not skip, the
#: PostgreSQL cases when the server is not configured or not reachable.
REQUIRE_ENV = "GIFTLEDGER_REQUIRE_POSTGRES"


def _unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def gl_clock() -> gl.ManualClock:
    """A ManualClock frozen at 2026-01-01 00:00 UTC."""
    import giftledger as gl

    return gl.ManualClock(START)


@pytest.fixture
def gl_ledger(gl_clock: gl.ManualClock) -> gl.Ledger:
    """A fresh in-memory Ledger on ``gl_clock``."""
    import giftledger as gl

    return gl.Ledger(clock=gl_clock)


@pytest.fixture(scope="session")
def _gl_postgres() -> Iterator[FreshLedgers]:
    """Throwaway schemas in the database at GIFTLEDGER_TEST_POSTGRES_URL, dropped at
    the end of the session."""
    from giftledger._testing.stores import POSTGRES_ENV, FreshLedgers

    url = os.environ.get(POSTGRES_ENV)
    if not url:
        _unavailable(
            f"no PostgreSQL server configured: set {POSTGRES_ENV} "
            f"(e.g. postgresql://postgres@127.0.0.1:5432/test) to run the PostgreSQL cases"
        )
    assert url is not None
    try:
        import psycopg
    except ImportError:
        _unavailable('psycopg is not installed: pip install "giftledger[postgres]"')
        raise
    from giftledger._stores.postgres import _split_url

    try:
        psycopg.connect(_split_url(url)[0], connect_timeout=5).close()
    except psycopg.Error as exc:
        _unavailable(f"the PostgreSQL server at {POSTGRES_ENV}={url!r} is unreachable: {exc}")
    schemas = FreshLedgers(url)
    try:
        yield schemas
    finally:
        schemas.close()


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def gl_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a fresh, empty store: memory, SQLite, PostgreSQL in turn."""
    if request.param == "memory":
        return "memory:"
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'gl-book.db'}"
    schemas: FreshLedgers = request.getfixturevalue("_gl_postgres")
    return schemas.url()


@pytest.fixture
def gl_store_ledger(gl_store_url: str, gl_clock: gl.ManualClock) -> Iterator[gl.Ledger]:
    """A Ledger on ``gl_store_url`` (each store in turn) and ``gl_clock``."""
    import giftledger as gl

    book = gl.Ledger.open(gl_store_url, clock=gl_clock)
    try:
        yield book
    finally:
        book.close()


@pytest.fixture
def gl_preset() -> str | tuple[str, dict[str, str]]:
    """The preset ``gl_economy`` loads; parametrize it to choose another, or a
    variant: ``("tiktok-live", {"model": "B"})``."""
    return "tiktok-live"


@pytest.fixture
def gl_economy(gl_preset: str | tuple[str, dict[str, str]]) -> gl.Economy:
    """The Economy of ``gl_preset``."""
    import giftledger as gl

    name, variant = (gl_preset, {}) if isinstance(gl_preset, str) else gl_preset
    options: dict[str, Any] = dict(variant)
    return gl.presets.load(name, **options)


@pytest.fixture
def gl_app(
    gl_ledger: gl.Ledger, gl_economy: gl.Economy, gl_clock: gl.ManualClock
) -> gl.GiftEconomy:
    """A GiftEconomy under ``gl_economy`` on ``gl_ledger``."""
    import giftledger as gl

    start = gl_economy.latest.effective_from
    if gl_clock.now() < start:
        gl_clock.set(start)
    return gl.GiftEconomy(gl_ledger, gl_economy)
