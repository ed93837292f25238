"""Fixtures for the ledger tests: ``books`` is ``book`` with a small economy opened."""

from __future__ import annotations

import pytest

import giftledger as gl

from .helpers import open_books


@pytest.fixture
def books(book: gl.Ledger) -> gl.Ledger:
    return open_books(book)
