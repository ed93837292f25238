"""The CSV export: one row per posting, exact amounts, safe in a spreadsheet."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import giftledger as gl

from .helpers import demo_book, hostile_book

# The chain's rules entry carries its economy's TOML (about 300 kB) in its metadata.
csv.field_size_limit(1 << 30)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_every_posting_is_a_row_and_each_entry_balances_per_unit(tmp_path: Path) -> None:
    book = demo_book(tmp_path)
    out = tmp_path / "demo.csv"
    assert gl.export_csv(book, out, formula_guard=False) == book.head[0]
    rows = _rows(out)
    assert tuple(rows[0]) == gl.CSV_COLUMNS
    posted = [(t, p) for t in book.transactions() for p in t.postings]
    with_postings = [r for r in rows if r["account"]]
    assert len(with_postings) == len(posted)
    for row, (tx, p) in zip(with_postings, posted, strict=True):
        assert (int(row["entry_id"]), row["account"], row["unit"]) == (tx.id, p.account, p.unit)
        assert int(row["minor"]) == p.minor
        assert gl.to_minor(row["amount"], row["unit"]) == p.minor
    sums: dict[tuple[str, str], int] = {}
    for row in with_postings:
        k = (row["entry_id"], row["unit"])
        sums[k] = sums.get(k, 0) + int(row["signed_minor"])
    assert set(sums.values()) == {0}
    # Entries with no postings (the chain's notes) are one row each.
    ids = {int(r["entry_id"]) for r in rows}
    assert ids == set(range(1, book.head[0] + 1))
    meta = json.loads(next(r["metadata"] for r in rows if r["kind"] == "note"))
    assert meta["gl.op"] == "rules"


def test_formula_like_text_is_guarded_unless_asked_not_to(tmp_path: Path) -> None:
    book = gl.Ledger()
    book.open_account("=cmd|' /C calc'!A0", "USD", rule=gl.BalanceRule.unrestricted())
    book.open_account("-2+3", "USD", normal="credit")
    book.transfer("=cmd|' /C calc'!A0", "-2+3", "1.00", memo="+SUM(A1)", key="@key")
    gl.export_csv(book, tmp_path / "g.csv")
    gl.export_csv(book, tmp_path / "raw.csv", formula_guard=False)
    guarded, raw = _rows(tmp_path / "g.csv"), _rows(tmp_path / "raw.csv")
    # The two ACCOUNT entries are a row each with no account column; their memo is
    # the definition's JSON text, which starts with "{" and needs no guard.
    assert [r["kind"] for r in raw] == ["account", "account", "post", "post"]
    assert all(r["memo"].startswith("{") for r in guarded if r["kind"] == "account")
    raw, guarded = (
        [r for r in raw if r["kind"] == "post"],
        [r for r in guarded if r["kind"] == "post"],
    )
    assert [r["account"] for r in raw] == ["=cmd|' /C calc'!A0", "-2+3"]
    assert [r["account"] for r in guarded] == ["'=cmd|' /C calc'!A0", "'-2+3"]
    assert (guarded[0]["memo"], guarded[0]["key"]) == ("'+SUM(A1)", "'@key")
    assert (raw[0]["memo"], raw[0]["key"]) == ("+SUM(A1)", "@key")
    # Amounts are never guarded: they are never negative text.
    assert [r["amount"] for r in guarded] == ["1.00", "1.00"]


def test_hostile_memos_come_back_exactly(tmp_path: Path) -> None:
    book = hostile_book()
    gl.export_csv(book, tmp_path / "raw.csv", formula_guard=False)
    memos = {r["memo"] for r in _rows(tmp_path / "raw.csv")}
    assert 'memo "quote"d"\nline two\ttab' in memos
