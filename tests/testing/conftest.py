"""Fixtures for the testing kit's own tests: a store URL the kit makes fresh ledgers on."""

from __future__ import annotations

import os

import pytest

from giftledger.testing import POSTGRES_ENV

REQUIRE_ENV = "GIFTLEDGER_REQUIRE_POSTGRES"


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def kit_store(request: pytest.FixtureRequest) -> str:
    """A store URL for FreshLedgers: each run gets a new ledger there (a temporary
    SQLite file, a throwaway PostgreSQL schema)."""
    if request.param == "memory":
        return "memory:"
    if request.param == "sqlite":
        return "sqlite:"
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        reason = f"no PostgreSQL server configured: set {POSTGRES_ENV}"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    return url
