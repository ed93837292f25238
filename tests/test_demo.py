"""The demo walks the whole chain on SQLite and leaves a ledger that verifies."""

from __future__ import annotations

from pathlib import Path

import pytest
from moneyed import Money

import giftledger as gl
from giftledger import demo


def test_demo_walks_the_chain_and_keeps_a_verifiable_sqlite_ledger(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "books.db"
    assert demo.main([str(db)]) == 0
    out = capsys.readouterr().out
    for step in (
        "1. alice (US) and chloe (UK) buy coins",
        "2. alice and chloe send bob gifts",
        "3. bob converts",
        "4. bob withdraws",
    ):
        assert step in out
    assert "is refused" in out  # the below-threshold request
    # chloe paid in pounds, VAT inside; bob's explanation gives both currencies and the rate
    assert "chloe buys 1321 COIN for 17.99 GBP on ios (UK prices; VAT £3.00)" in out
    assert "in 13.62 GBP (= 17.29 USD at 1.27 on 2026-03-02)" in out
    with gl.Ledger.open(f"sqlite:///{db}") as book:
        assert book.verify() > 0
        assert book.trial_balance().is_balanced
        # alice bought two packs of 17,500 and spent 29,999 + 3 x 1,000 + 99 coins
        assert book.balance("viewers:alice:coins") == Money(35_000 - 33_098, "COIN")
        assert book.balance("viewers:chloe:coins") == Money(321, "COIN")
        assert book.balance("liabilities:tax-payable:GB:GBP") == Money("3.00", "GBP")
        assert book.balance("creators:bob:diamonds") == Money(0, "DIAMOND")


def test_demo_refuses_to_overwrite_an_existing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "books.db"
    db.write_text("not a ledger")
    assert demo.main([str(db)]) == 2
    assert db.read_text() == "not a ledger"


def test_demo_draws_where_bobs_money_went_next_to_its_ledger(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import xml.etree.ElementTree as ET

    db = tmp_path / "books.db"
    assert demo.main([str(db)]) == 0
    chart = tmp_path / "books.svg"
    assert f"chart of where bob's money went: {chart}" in capsys.readouterr().out
    text = " ".join(el.text or "" for el in ET.parse(chart).getroot().iter())
    for label in ("Viewers paid", "Creator's share", "Converted to EUR", "Paid to bank"):
        assert label in text


def test_demo_without_matplotlib_says_what_to_install_and_draws_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.delitem(sys.modules, "giftledger.charts", raising=False)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if it were not installed
    assert demo.main([str(tmp_path / "books.db")]) == 0
    out = capsys.readouterr().out
    assert "no chart: giftledger.charts needs matplotlib" in out
    assert 'pip install "giftledger[charts]"' in out
    assert not (tmp_path / "books.svg").exists()
