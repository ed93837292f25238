"""Shared by the export tests: books to export, and what beancount makes of a file."""

from __future__ import annotations

import contextlib
import io
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from beancount import loader

import giftledger as gl
from giftledger import demo


def demo_book(folder: Path) -> gl.Ledger:
    """The demo's ledger (``python -m giftledger.demo``), reopened from its SQLite file."""
    path = folder / "demo.db"
    with contextlib.redirect_stdout(io.StringIO()):
        demo.run(path)
    return gl.Ledger.open(f"sqlite:///{path}")


HOSTILE = (
    'quote"d',
    "back\\slash",
    "semi;colon",
    "Zoë 1",
    "=HYPERLINK(1)",
    "-lead",
    "Q",
    "2024",
    "sp ace",
    "日本",
    "👩‍💻",
    "DROP TABLE x;--",
    "a\u00a0b",
    "x'y",
)


def hostile_book(store: gl.Ledger | None = None) -> gl.Ledger:
    """A ledger of every kind of entry, under hostile names, memos, keys and metadata."""
    clock = gl.ManualClock(datetime(2026, 1, 1, 12, tzinfo=UTC))
    book = store or gl.Ledger(clock=clock)
    book.clock = clock
    gl.register_unit("COIN", 0, singular="coin")
    free = gl.BalanceRule.unrestricted()
    book.open_account("world:USD", "USD", rule=free)
    book.open_account("world:COIN", "COIN", rule=free)
    book.open_trading_account("USD")
    book.open_trading_account("EUR")
    book.open_account("world:EUR", "EUR", rule=free)
    for i, seg in enumerate(HOSTILE):
        unit = ("USD", "COIN", "EUR")[i % 3]
        normal = "debit" if i % 2 else "credit"
        name = f"users:{seg}:{unit.lower()}"
        book.open_account(name, unit, normal=normal, rule=free, metadata={"seg": seg})
        book.transfer(
            name if normal == "debit" else f"world:{unit}",
            f"world:{unit}" if normal == "debit" else name,
            "12.34" if unit != "COIN" else 1234,
            key=f"k{i}-{seg}",
            memo=f'memo "{seg}"\nline two\ttab',
            metadata={"who": seg, "n": i, "flag": bool(i % 2), "none": None},
        )
        clock.advance(timedelta(hours=7))
    # A parent and its child: beancount counts a child in its parent's balance.
    book.open_account("users:Q", "USD", rule=free)
    book.transfer("users:Q", "world:USD", "1.01")
    # A back-dated entry, a conversion with a rate that never terminates, a reversal.
    book.transfer("world:USD", "users:Q", "0.01", effective_at=datetime(2025, 12, 1, tzinfo=UTC))
    book.convert("world:USD", "world:EUR", "10.00", rate="1/3", rounding=gl.Rounding.DOWN)
    tx = book.transfer("users:Q", "world:USD", "0.50")
    book.reverse(tx, memo="undo")
    # Holds: posted in part, voided, expired, still pending.
    h1 = book.hold("users:Q", "world:USD", "1.00")
    book.post_hold(h1, "0.40")
    h2 = book.hold("users:Q", "world:USD", "2.00", key="hold-2")
    book.void_hold(h2)
    book.hold("users:Q", "world:USD", "3.00", timeout=timedelta(hours=1))
    clock.advance(timedelta(hours=2))
    book.expire_holds()
    book.hold("users:Q", "world:USD", "4.00")
    book.note(memo='a note; "quoted"', metadata={"x": "=1+1"}, key="note-1")
    book.close_account(book.open_account("users:empty", "USD").name)
    return book


def beancount_balances(path: Path) -> dict[tuple[str, str], Decimal]:
    """Load ``path`` with beancount (failing on any error) and sum every posting per
    account and commodity (positive: debit)."""
    entries, errors, _ = loader.load_file(str(path))
    assert errors == [], [str(e) for e in errors][:5]
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for entry in entries:
        for posting in getattr(entry, "postings", None) or ():
            sums[posting.account, posting.units.currency] += posting.units.number
    return {k: v for k, v in sums.items() if v}


def ledger_balances(book: gl.Ledger) -> dict[tuple[str, str], Decimal]:
    """The ledger's posted balances in beancount's terms: per mapped account and
    commodity, positive for a net debit."""
    out: dict[tuple[str, str], Decimal] = {}
    for account in book.accounts():
        amount = book.balance(account.name).amount
        net = amount if account.normal is gl.Side.DEBIT else -amount
        if net:
            key = (gl.beancount_account(account), gl.beancount_commodity(account.unit))
            out[key] = net
    return out
