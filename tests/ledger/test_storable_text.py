"""Text every store can keep: a NUL character or a lone surrogate is refused up front,
so the memory, SQLite and PostgreSQL stores accept exactly the same inputs."""

from __future__ import annotations

import pytest

import giftledger as gl


@pytest.fixture
def funded(book: gl.Ledger) -> gl.Ledger:
    book.open_account("a", "USD", rule=gl.BalanceRule.unrestricted())
    book.open_account("b", "USD", rule=gl.BalanceRule.unrestricted())
    return book


@pytest.mark.parametrize("bad", ["nul\x00inside", "lone\ud800surrogate"])
@pytest.mark.parametrize("where", ["memo", "key", "metadata value", "metadata key"])
def test_unstorable_text_is_refused_and_writes_nothing(
    funded: gl.Ledger, bad: str, where: str
) -> None:
    kwargs: dict[str, object] = {
        "memo": {"memo": bad},
        "key": {"key": bad},
        "metadata value": {"metadata": {"note": bad}},
        "metadata key": {"metadata": {bad: "x"}},
    }[where]
    head = funded.head
    with pytest.raises(gl.InvalidArgument) as info:
        funded.transfer("a", "b", 1, **kwargs)  # type: ignore[arg-type]
    assert repr(bad)[1:-1] in str(info.value) or repr(bad) in str(info.value)
    assert funded.head == head


def test_account_names_with_nul_are_refused(book: gl.Ledger) -> None:
    with pytest.raises(gl.InvalidArgument, match="account name"):
        book.open_account("viewers:a\x00b", "USD")
    assert book.accounts() == ()


@pytest.mark.parametrize("bad", ["nul\x00inside", "lone\ud800surrogate", "", "k" * 257])
def test_post_many_checks_keys_as_post_does(funded: gl.Ledger, bad: str) -> None:
    request = gl.TransactionRequest([gl.debit("a", 1), gl.credit("b", 1)], key=bad)
    head = funded.head
    with pytest.raises(gl.InvalidArgument, match="idempotency key"):
        funded.post_many([request])
    assert funded.head == head
