"""History pages never split an entry that posts to one account more than once."""

from __future__ import annotations

import pytest

import giftledger as gl


def _all_pages(book: gl.Ledger, name: str, limit: int) -> list[list[tuple[int, int]]]:
    pages, cursor = [], None
    while True:
        page = book.history(name, after=cursor, limit=limit)
        pages.append([(e.transaction.id, e.posting.minor) for e in page.items])
        cursor = page.next_cursor
        if cursor is None:
            return pages


@pytest.mark.parametrize("limit", [1, 2, 3, 10])
def test_paging_returns_every_posting_once_in_order(book: gl.Ledger, limit: int) -> None:
    book.open_account("a", "USD", rule=gl.BalanceRule.unrestricted())
    book.open_account("b", "USD", rule=gl.BalanceRule.unrestricted())
    one = book.transfer("a", "b", 1).id
    two = book.post([gl.debit("a", 1), gl.debit("a", 2), gl.credit("b", 3)]).id
    three = book.transfer("a", "b", 4).id
    assert (one, two, three) == (3, 4, 5)  # after the two accounts' definitions
    pages = _all_pages(book, "a", limit)
    flat = [row for page in pages for row in page]
    assert flat == [(one, 100), (two, 100), (two, 200), (three, 400)]
    for page in pages:
        assert page, "no empty pages"


def test_history_reports_balance_after_each_posting(book: gl.Ledger) -> None:
    book.open_account("a", "USD", rule=gl.BalanceRule.unrestricted())
    book.open_account("b", "USD", rule=gl.BalanceRule.unrestricted())
    book.transfer("a", "b", 5)
    book.transfer("b", "a", 2)
    after = [e.balance_after for e in book.history("a").items]
    assert after == [gl.from_minor(500, "USD"), gl.from_minor(300, "USD")]
