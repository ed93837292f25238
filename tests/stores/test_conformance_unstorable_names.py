"""A name no store can hold (a NUL character, a lone surrogate) is refused alike on
every store: the caller gets ``InvalidArgument`` naming the character and where it is,
never a store's own failure, and nothing is written.

PostgreSQL text cannot hold a NUL and no UTF-8 store can hold a lone surrogate, so
before these checks PostgreSQL answered a balance or a post naming such an account
with a ``StoreError`` (the post's query string cut at the NUL), and the memory store
listed no accounts for such a prefix where the SQL stores refused it.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

import giftledger as gl


class Name(str):
    """A caller's own name type: text too, checked as a str is."""


NAMES = ["viewers:a\x00b", "viewers:a\ud800b", Name("viewers:a\x00b"), Name("viewers:a\ud800b")]
IDS = ["nul", "surrogate", "nul-subclass", "surrogate-subclass"]


@pytest.fixture
def opened(book: gl.Ledger) -> gl.Ledger:
    book.open_account("viewers:a", "USD", rule=gl.BalanceRule.unrestricted())
    book.open_account("viewers:b", "USD", rule=gl.BalanceRule.unrestricted())
    book.transfer("viewers:a", "viewers:b", 5)
    return book


CALLS: dict[str, Callable[[gl.Ledger, str], object]] = {
    "balance": lambda b, n: b.balance(n),
    "balance at": lambda b, n: b.balance(n, recorded_through=1),
    "account_balance": lambda b, n: b.account_balance(n),
    "available": lambda b, n: b.available(n),
    "account": lambda b, n: b.account(n),
    "history": lambda b, n: b.history(n),
    "holds": lambda b, n: b.holds(n),
    "accounts": lambda b, n: b.accounts(n),
    "accounts prefix": lambda b, n: b.accounts(n[:10]),
    "post": lambda b, n: b.post([gl.debit(n, 1), gl.credit("viewers:b", 1)]),
    "post second": lambda b, n: b.post([gl.debit("viewers:a", 1), gl.credit(n, 1)]),
    "post dry run": lambda b, n: b.post([gl.debit(n, 1), gl.credit("viewers:b", 1)], dry_run=True),
    "post_many": lambda b, n: b.post_many([[gl.debit(n, 1), gl.credit("viewers:b", 1)]]),
    "transfer": lambda b, n: b.transfer(n, "viewers:b", 1),
    "hold": lambda b, n: b.hold("viewers:a", n, 1),
    "close_account": lambda b, n: b.close_account(n),
}


@pytest.mark.parametrize("call", list(CALLS))
@pytest.mark.parametrize("name", NAMES, ids=IDS)
def test_a_name_no_store_can_hold_is_refused_alike(opened: gl.Ledger, call: str, name: str) -> None:
    head, before = opened.head, opened.balance("viewers:b")
    with pytest.raises(gl.InvalidArgument) as info:
        CALLS[call](opened, name)
    message = str(info.value)
    assert "no store can hold a lone surrogate or a NUL character" in message, message
    assert "U+0000" in message or "U+D800" in message, message
    assert opened.head == head
    # The ledger goes on as before: the next write and read are as if nothing happened.
    opened.transfer("viewers:a", "viewers:b", 2)
    assert abs(opened.balance("viewers:b") - before).amount == 2
    assert opened.verify() == opened.head[0]


@pytest.mark.parametrize("name", NAMES, ids=IDS)
def test_a_keyed_post_naming_one_fails_alike_and_again(opened: gl.Ledger, name: str) -> None:
    """A keyed request's failure found in the write is its outcome, remembered under
    the key (one entry) and replayed; a lone surrogate cannot even be fingerprinted, so
    that request is refused before any write. Each the same on every store."""
    head = opened.head
    remembered = "\x00" in name
    postings = [gl.debit(name, 1), gl.credit("viewers:b", 1)]
    with pytest.raises(gl.InvalidArgument) as first:
        opened.post(postings, key="gift-1")
    assert "no store can hold a lone surrogate or a NUL character" in str(first.value)
    assert opened.head[0] == head[0] + remembered
    with pytest.raises(gl.InvalidArgument) as again:
        opened.post(postings, key="gift-1")
    assert str(again.value).startswith(str(first.value))
    assert ("replayed for idempotency key 'gift-1'" in str(again.value)) is remembered
    assert opened.head[0] == head[0] + remembered
    assert opened.verify() == opened.head[0]


@pytest.mark.postgres
def test_postgres_never_sends_a_nul_in_an_array(postgres_url: str) -> None:
    """The store builds its array literals itself: a NUL there would cut the query
    string short, so it refuses the text whole and sends nothing."""
    store = gl.PostgresStore(postgres_url)
    try:
        book = gl.Ledger(store)
        book.open_account("viewers:a", "USD")
        with store.write() as w:
            session = w
            with pytest.raises(gl.InvalidArgument, match="holds a NUL character"):
                session._execute("gl_states", (["viewers:a", "x\x00y"],))  # type: ignore[attr-defined]
        assert book.account("viewers:a").name == "viewers:a"
    finally:
        store.close()


@pytest.mark.parametrize("name", NAMES, ids=IDS)
def test_a_batch_that_is_not_atomic_refuses_only_the_request_naming_one(
    opened: gl.Ledger, name: str
) -> None:
    """Every store answers the request alone (the SQL stores failed the whole call
    when they locked the batch's accounts)."""
    results = opened.post_many(
        [
            [gl.debit(name, 1), gl.credit("viewers:b", 1)],
            [gl.debit("viewers:a", 1), gl.credit("viewers:b", 1)],
        ],
        atomic=False,
    )
    assert isinstance(results[0], gl.InvalidArgument)
    assert "no store can hold a lone surrogate or a NUL character" in str(results[0])
    assert isinstance(results[1], gl.Transaction)
    assert opened.verify() == opened.head[0]


def test_a_store_finds_nothing_under_a_nul(store_url: str) -> None:
    """The store protocol itself, for code that reads a store directly: a name, key or
    prefix holding a NUL finds nothing on every store (PostgreSQL, whose text cannot
    hold one, raised its driver's error)."""
    book = gl.Ledger.open(store_url)
    try:
        book.open_account("a", "USD")
        with book.store.read() as r:
            assert r.account_state("a\x00") is None
            assert r.account_states("a\x00") == []
            assert r.holds("a\x00") == []
            assert r.holds_from("a\x00", 1) == []
            assert r.idempotency("k\x00") is None
            assert r.keyed_entry("k\x00") is None
            assert r.history("a\x00", None, 10) == []
            assert r.net_at("a\x00", None, None) == 0
            records_from = getattr(r, "records_from", None)
            if records_from is not None:
                assert records_from("k\x00", 0) in ([], None)
        with book.store.write() as w:
            assert w.lock_accounts(["a", "a\x00", "a\ud800"]).keys() == {"a"}
        assert book.account("a").name == "a"
    finally:
        book.close()
