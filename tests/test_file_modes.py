"""Files giftledger writes whole (exports, charts) get the mode of any new file,
0o666 less the umask, not the private 0o600 of the temporary file they start as."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

import giftledger as gl


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _book() -> gl.Ledger:
    book = gl.Ledger()
    book.open_account("assets:bank", "USD")
    book.open_account("equity", "USD", normal="credit")
    book.transfer("assets:bank", "equity", "5.00")
    return book


@pytest.mark.parametrize("export", [gl.export_jsonl, gl.export_csv, gl.export_beancount])
def test_an_export_gets_a_new_files_mode(tmp_path: Path, umask_022: None, export: object) -> None:
    out = tmp_path / "books.out"
    export(_book(), out)  # type: ignore[operator]
    assert stat.S_IMODE(out.stat().st_mode) == 0o644


def test_a_chart_gets_a_new_files_mode(tmp_path: Path, umask_022: None) -> None:
    charts = pytest.importorskip("giftledger.charts")
    econ = gl.presets.load("tiktok-live")
    app = gl.GiftEconomy(gl.Ledger(clock=gl.ManualClock(econ.latest.effective_from)), econ)
    app.open_viewer("alice", region="US")
    app.open_creator("bob", region="US", age=30, verified=True)
    app.buy_coins("alice", pack=1400, channel="web")
    app.send_gift("alice", "bob", "Rose", quantity=10)
    out = charts.render_flow(gl.money_flow(app.explain("bob")), tmp_path / "bob.svg")
    assert stat.S_IMODE(out.stat().st_mode) == 0o644


def test_the_mode_follows_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        out = tmp_path / "books.jsonl"
        gl.export_jsonl(_book(), out)
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
    finally:
        os.umask(old)
