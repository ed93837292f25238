"""Hostile text: characters that forge a line or reorder what a reader sees are refused in
account names and idempotency keys, with an error naming the character; joiners stay
allowed, and memos may hold newlines."""

from __future__ import annotations

import sys
import unicodedata

import pytest

import giftledger as gl
from giftledger._ledger.text import _HOSTILE

BIDI = [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]


def _refused(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp", "Cs") or ord(ch) in BIDI


def test_check_text_refuses_exactly_the_documented_characters() -> None:
    # Every code point: the one regex matches Cc, Zl, Zp, Cs and the bidi controls, no more.
    for code in range(sys.maxunicode + 1):
        ch = chr(code)
        assert bool(_HOSTILE.search(ch)) == _refused(ch), f"U+{code:04X}"


@pytest.mark.parametrize(
    ("ch", "named"),
    [
        ("\u2028", "U+2028 LINE SEPARATOR"),
        ("\u2029", "U+2029 PARAGRAPH SEPARATOR"),
        ("\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("\u2066", "U+2066 LEFT-TO-RIGHT ISOLATE"),
        ("\n", "U+000A <control-000A>"),
        ("\x1b", "U+001B <control-001B>"),
        ("\x85", "U+0085 <control-0085>"),
        ("\ud800", "U+D800 <surrogate-D800>"),
    ],
)
def test_check_text_names_the_character(ch: str, named: str) -> None:
    with pytest.raises(gl.InvalidArgument) as info:
        gl.check_text(f"bob{ch}x", "creator name")
    assert f"holds {named} at index 3" in str(info.value)
    assert str(info.value).startswith("creator name ")


@pytest.mark.parametrize(
    "text",
    ["", "plain", "bob\u200dalice", "\u200c", "👩\u200d👩\u200d👧", "a b", "مرحبا", "e\u0301"],
)
def test_check_text_keeps_joiners_and_ordinary_text(text: str) -> None:
    assert gl.check_text(text, "name") == text


def test_check_text_refuses_what_is_not_text() -> None:
    with pytest.raises(gl.InvalidArgument, match="must be a string"):
        gl.check_text(5, "name")


@pytest.mark.parametrize("ch", ["\u2028", "\u202e", "\u2069", "\x85", "\t"])
def test_account_names_with_hostile_characters_are_refused(book: gl.Ledger, ch: str) -> None:
    name = f"viewers:bob{ch}evil:coins"
    with pytest.raises(gl.InvalidArgument, match=r"account name .* holds U\+") as info:
        book.open_account(name, "USD")
    assert f"U+{ord(ch):04X}" in str(info.value)
    assert book.accounts() == ()


def test_account_names_keep_joiners(book: gl.Ledger) -> None:
    name = "viewers:👩\u200d👩\u200d👧:z\u200cw"
    assert book.open_account(name, "USD").name == name


@pytest.mark.parametrize("ch", ["\u2028", "\u202d", "\n", "\x7f"])
def test_hostile_idempotency_keys_are_refused_on_every_path(book: gl.Ledger, ch: str) -> None:
    book.open_account("a", "USD", rule=gl.BalanceRule.unrestricted())
    book.open_account("b", "USD", rule=gl.BalanceRule.unrestricted())
    key = f"order{ch}1"
    head = book.head
    with pytest.raises(gl.InvalidArgument, match=r"idempotency key .* holds U\+"):
        book.transfer("a", "b", 1, key=key)
    with pytest.raises(gl.InvalidArgument, match=r"idempotency key .* holds U\+"):
        book.note(memo="x", key=key)
    (result,) = book.post_many(
        [gl.TransactionRequest([gl.debit("a", 1), gl.credit("b", 1)], key=key)], atomic=False
    )
    assert isinstance(result, gl.InvalidArgument)
    assert book.head == head


def test_memos_may_hold_newlines(book: gl.Ledger) -> None:
    book.open_account("a", "USD", rule=gl.BalanceRule.unrestricted())
    book.open_account("b", "USD", rule=gl.BalanceRule.unrestricted())
    tx = book.transfer("a", "b", 1, memo="line one\nline two\u2028", key="zwj\u200dkey")
    assert book.transaction(tx.id).memo == "line one\nline two\u2028"
    assert book.find("zwj\u200dkey") == tx
