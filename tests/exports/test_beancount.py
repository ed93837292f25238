"""The beancount export: bean-check accepts it, and its balances are the ledger's."""

from __future__ import annotations

import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from beancount.core import account as bc_account
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import giftledger as gl
from giftledger.testing import account_names, chain_scenarios, ledgers, run_chain

from .helpers import beancount_balances, demo_book, hostile_book, ledger_balances

_SETTINGS = settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
_COMMODITY = re.compile(r"[A-Z][A-Z0-9'._-]{0,22}[A-Z0-9]")


def _bean_check(path: Path) -> subprocess.CompletedProcess[str]:
    bean_check = Path(sys.executable).with_name("bean-check")
    return subprocess.run([str(bean_check), str(path)], capture_output=True, text=True)


def test_demo_ledger_passes_bean_check_with_the_ledgers_balances(tmp_path: Path) -> None:
    book = demo_book(tmp_path)
    out = tmp_path / "demo.beancount"
    assert gl.export_beancount(book, out) == book.head[0]
    done = _bean_check(out)
    assert done.returncode == 0, done.stdout + done.stderr
    assert beancount_balances(out) == ledger_balances(book)
    text = out.read_text()
    # Every entry is there once, by id, as a transaction or a custom directive.
    assert sorted(map(int, re.findall(r"gl-id: (\d+)", text))) == list(range(1, book.head[0] + 1))


def test_hostile_names_memos_and_every_entry_kind_pass_bean_check(tmp_path: Path) -> None:
    book = hostile_book()
    out = tmp_path / "hostile.beancount"
    gl.export_beancount(book, out)
    done = _bean_check(out)
    assert done.returncode == 0, done.stdout + done.stderr
    assert beancount_balances(out) == ledger_balances(book)
    # The original names travel as metadata, and every one reads back exactly.
    from beancount import loader

    entries, _, _ = loader.load_file(str(out))
    opened = {e.meta["gl-name"]: e.account for e in entries if type(e).__name__ == "Open"}
    assert set(opened) == {a.name for a in book.accounts()}
    assert {gl.beancount_account(a) for a in book.accounts()} == set(opened.values())


def test_a_wrong_balance_is_caught_by_bean_check_itself(tmp_path: Path) -> None:
    # The file asserts each account's balance exactly: one minor unit off fails.
    book = hostile_book()
    out = tmp_path / "b.beancount"
    gl.export_beancount(book, out)
    text = out.read_text()
    line = next(ln for ln in text.splitlines() if " balance " in ln and " USD" in ln)
    number = line.split()[-2]
    shifted = f"{Decimal(number) + Decimal('0.01'):.3f}"  # one cent off
    out.write_text(text.replace(line, line.replace(number, shifted)))
    done = _bean_check(out)
    assert done.returncode != 0
    assert "Balance failed" in done.stdout + done.stderr


@_SETTINGS
@given(book=ledgers(unit_codes=("USD", "COIN", "JPY", "KWD"), max_transactions=10))
def test_random_ledgers_with_hostile_names_keep_their_balances(
    tmp_path_factory: pytest.TempPathFactory, book: gl.Ledger
) -> None:
    out = tmp_path_factory.mktemp("bc") / "random.beancount"
    gl.export_beancount(book, out)
    assert beancount_balances(out) == ledger_balances(book)


@settings(max_examples=6, deadline=None)
@given(scenario=chain_scenarios(gl.presets.load("tiktok-live"), max_operations=15))
def test_random_chains_keep_their_balances(scenario: object) -> None:
    import tempfile

    econ = gl.presets.load("tiktok-live")
    with run_chain(econ, scenario) as run, tempfile.TemporaryDirectory() as tmp:  # type: ignore[arg-type]
        out = Path(tmp) / "chain.beancount"
        gl.export_beancount(run.book, out)
        assert beancount_balances(out) == ledger_balances(run.book)


@settings(max_examples=300, deadline=None)
@given(st.lists(account_names(), min_size=2, max_size=2, unique=True), st.booleans())
def test_account_mapping_is_valid_and_injective(names: list[str], trading: bool) -> None:
    a = gl.Account(names[0], "USD", trading=trading)
    b = gl.Account(names[1], "USD", trading=trading)
    ma, mb = gl.beancount_account(a), gl.beancount_account(b)
    assert bc_account.is_valid(ma), ma
    assert bc_account.is_valid(mb), mb
    assert ma != mb
    assert ma.isascii()


def test_account_mapping_keeps_plain_names_readable() -> None:
    credit = gl.Side.CREDIT
    assert gl.beancount_account(gl.Account("revenue:gifts", "USD", credit)) == (
        "Income:Revenue:Gifts"
    )
    assert gl.beancount_account(gl.Account("platform:coin-supply", "COIN")) == (
        "Assets:Platform:Coin-supply"
    )
    # Case is kept, so names differing in case stay apart.
    bob = gl.beancount_account(gl.Account("creators:bob:cash", "EUR", credit))
    big_bob = gl.beancount_account(gl.Account("creators:Bob:cash", "EUR", credit))
    assert bob == "Liabilities:Creators:Bob:Cash"
    assert big_bob == "Liabilities:Creators:XBob:Cash"


@settings(max_examples=300)
@given(st.lists(st.from_regex(r"[A-Z0-9_]{2,16}", fullmatch=True), min_size=2, max_size=2))
def test_commodity_mapping_is_valid_and_injective(codes: list[str]) -> None:
    a, b = (gl.beancount_commodity(c) for c in codes)
    assert _COMMODITY.fullmatch(a)
    assert _COMMODITY.fullmatch(b)
    assert (a == b) == (codes[0] == codes[1])


def test_export_leaves_no_file_when_it_fails(tmp_path: Path) -> None:
    book = hostile_book()
    out = tmp_path / "b.beancount"
    out.write_text("the old file")

    def boom(done: int, total: int) -> None:
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError):
        gl.export_beancount(book, out, progress=boom)
    # progress runs once the file is written, before it replaces the old one? No:
    # after. What matters: no temporary file is left behind either way.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.beancount"]


def test_an_open_directive_is_dated_by_the_accounts_journaled_opening(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from beancount import loader

    clock = gl.ManualClock(datetime(2026, 1, 5, 12, tzinfo=UTC))
    book = gl.Ledger(clock=clock)
    book.open_account("assets:bank", "USD")
    book.open_account("equity", "USD", normal="credit")
    clock.advance(timedelta(days=30))
    book.open_account("assets:idle", "USD")  # opened, never touched
    book.transfer("assets:bank", "equity", "5.00")
    out = tmp_path / "opened.beancount"
    gl.export_beancount(book, out)
    done = _bean_check(out)
    assert done.returncode == 0, done.stdout + done.stderr
    entries, _, _ = loader.load_file(str(out))
    opened = {e.meta["gl-name"]: e.date.isoformat() for e in entries if type(e).__name__ == "Open"}
    # The day of each ACCOUNT entry, not of the first posting (2026-02-04).
    assert opened == {
        "assets:bank": "2026-01-05",
        "equity": "2026-01-05",
        "assets:idle": "2026-02-04",
    }
    kinds = [e.values[0].value for e in entries if type(e).__name__ == "Custom"]
    assert kinds == ["account", "account", "account"]
