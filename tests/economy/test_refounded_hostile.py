"""Issue 8, hostile text: names and keys that could forge a line of a report are refused.

Party names, gift names and idempotency keys may not hold control characters
(Unicode category Cc: ``\\n``, ``\\x1b``, U+0085 NEXT LINE…), line or paragraph
separators (U+2028, U+2029) or bidirectional overrides and isolates (U+202A–U+202E,
U+2066–U+2069). They are refused with ``InvalidArgument`` whose message names the
character as ``U+XXXX``. Joiners (ZWJ U+200D, ZWNJ U+200C) are allowed: emoji and
several scripts need them. Memos may hold newlines; a report renders them escaped,
on one line.
"""

from __future__ import annotations

import re

import pytest
from moneyed import Money

import giftledger as gl

from .chainkit import T0, simple_economy, tiktok, usd

HOSTILE = {
    "U+2028": "\u2028",  # LINE SEPARATOR (Zl)
    "U+2029": "\u2029",  # PARAGRAPH SEPARATOR (Zp)
    "U+0085": "\u0085",  # NEXT LINE (Cc)
    "U+001B": "\x1b",  # ESCAPE (Cc)
    "U+000A": "\n",  # LINE FEED (Cc)
    "U+000D": "\r",  # CARRIAGE RETURN (Cc)
    "U+0009": "\t",  # TAB (Cc)
    "U+007F": "\x7f",  # DELETE (Cc)
    "U+202A": "\u202a",  # LEFT-TO-RIGHT EMBEDDING
    "U+202E": "\u202e",  # RIGHT-TO-LEFT OVERRIDE
    "U+2066": "\u2066",  # LEFT-TO-RIGHT ISOLATE
    "U+2069": "\u2069",  # POP DIRECTIONAL ISOLATE
}
CODES = sorted(HOSTILE)


def _named(code: str) -> str:
    return re.escape(code)


def _app() -> tuple[gl.Ledger, gl.GiftEconomy]:
    book, _, app = tiktok()
    app.open_viewer("alice", region="US", age=30)
    app.open_creator("bob", region="US", age=30)
    app.buy_coins("alice", pack=1400, channel="ios")
    return book, app


@pytest.mark.parametrize("code", CODES)
def test_a_viewer_name_with_a_hostile_character_is_refused_naming_it(code: str) -> None:
    book, app = _app()
    before = book.head
    with pytest.raises(gl.InvalidArgument, match=_named(code)):
        app.open_viewer(f"eve{HOSTILE[code]}FAKE", region="US", age=30)
    assert book.head == before


@pytest.mark.parametrize("code", CODES)
def test_a_creator_name_with_a_hostile_character_is_refused_naming_it(code: str) -> None:
    book, app = _app()
    before = book.head
    with pytest.raises(gl.InvalidArgument, match=_named(code)):
        app.open_creator(f"{HOSTILE[code]}mallory", region="US", age=30)
    assert book.head == before


@pytest.mark.parametrize("code", CODES)
def test_a_gift_name_with_a_hostile_character_is_refused_naming_it(code: str) -> None:
    book, app = _app()
    before = book.head
    with pytest.raises(gl.InvalidArgument, match=_named(code)):
        app.send_gift("alice", "bob", f"Ro{HOSTILE[code]}se")
    assert book.head == before


def _economy_with_gift(name: str) -> gl.Economy:
    econ = simple_economy()
    return gl.Economy(
        name="hostile",
        title="Hostile",
        books_currency="USD",
        coin_unit="COIN",
        creator_unit="DIAMOND",
        versions=(
            gl.RuleSet(
                effective_from=econ.latest.effective_from,
                coin_packs=econ.latest.coin_packs,
                store_fees=econ.latest.store_fees,
                gifts=(gl.Gift(name, 5),),
                creator_pay=econ.latest.creator_pay,
                payout_currencies=("USD",),
            ),
        ),
    )


@pytest.mark.parametrize("code", CODES)
def test_a_gift_catalog_with_a_hostile_name_is_refused_naming_it(code: str) -> None:
    with pytest.raises((gl.InvalidArgument, gl.InvalidEconomy), match=_named(code)):
        _economy_with_gift(f"Lion{HOSTILE[code]}$50,000 gift")


@pytest.mark.parametrize("code", CODES)
def test_a_chain_key_with_a_hostile_character_is_refused_naming_it(code: str) -> None:
    book, app = _app()
    before = book.head
    with pytest.raises(gl.InvalidArgument, match=_named(code)):
        app.buy_coins("alice", pack=70, channel="web", key=f"order-1{HOSTILE[code]}")
    with pytest.raises(gl.InvalidArgument, match=_named(code)):
        app.send_gift("alice", "bob", "Rose", key=f"{HOSTILE[code]}gift-1")
    assert book.head == before


@pytest.mark.parametrize("code", CODES)
def test_a_core_key_with_a_hostile_character_is_refused_naming_it(code: str) -> None:
    book = gl.Ledger(clock=gl.ManualClock(T0))
    book.open_account("ops:a", "USD", rule=gl.BalanceRule.unrestricted())
    book.open_account("ops:b", "USD", normal="credit")
    head = book.head
    with pytest.raises(gl.InvalidArgument, match=_named(code)):
        book.transfer("ops:a", "ops:b", "1.00", key=f"pay{HOSTILE[code]}1")
    assert book.head == head  # nothing written, no failure remembered under it


@pytest.mark.parametrize("joiner", ["\u200d", "\u200c"], ids=["ZWJ", "ZWNJ"])
def test_joiners_are_allowed_in_names(joiner: str) -> None:
    book, app = _app()
    name = f"a{joiner}b"
    app.open_viewer(name, region="US", age=30)
    app.open_creator(f"c{joiner}d", region="US", age=30)
    app.buy_coins(name, pack=70, channel="web", key=f"k{joiner}1")
    app.send_gift(name, f"c{joiner}d", "Rose")
    text = str(app.statement(f"c{joiner}d"))
    assert name in text
    assert book.balance(f"viewers:{name}:coins") == Money(69, "COIN")
    book.verify()


def test_a_memo_with_newlines_renders_escaped_on_one_line() -> None:
    book, app = _app()
    app.send_gift("alice", "bob", "Doughnut")
    app.convert_diamonds("bob")
    book.open_account("ops:bonus", "USD", rule=gl.BalanceRule.unrestricted())
    memo = "bonus\n2025-09-01  #99  FAKE gift from alice  $50,000.00\u2028FAKE2\u0085FAKE3"
    tx = book.transfer("ops:bonus", "creators:bob:cash", "5.00", memo=memo)
    assert tx.memo == memo  # a memo may hold newlines
    st = app.statement("bob")
    text = str(st)
    lines = text.splitlines()  # splits on \n, U+2028, U+0085 too
    assert len(lines) == 1 + len(st.lines), text  # a header, then one line per item
    assert not any(line.lstrip().startswith(("2025-09-01  #99", "FAKE")) for line in lines)
    for line in lines:
        if "bonus" in line:
            assert "FAKE" in line
            assert "\\n" in line or "\\u2028" in line or "␤" in line
    assert book.balance("creators:bob:cash") == usd("5.15")
