"""``giftledger demo``: writes its ledger, names a refused and a completed withdrawal,
and may run again on its own ledger with the same balances."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from giftledger.cli import demo_entry

from .conftest import Invoke, assert_one_error_line, snapshot


def _giftledger(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "GIFTLEDGER_LEDGER"}
    return subprocess.run(
        [sys.executable, "-m", "giftledger", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )


@pytest.mark.slow
def test_python_m_giftledger_demo_in_an_empty_directory_twice(tmp_path: Path) -> None:
    first = _giftledger(tmp_path, "demo")
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "giftledger-demo.db").is_file()
    assert "withdrawal wd-small of 10 EUR is refused" in first.stdout
    assert "withdrawal wd-1 is completed" in first.stdout
    balances = _giftledger(tmp_path, "balances", "--json")
    assert balances.returncode == 0, balances.stderr
    again = _giftledger(tmp_path, "demo")
    assert again.returncode == 0, again.stderr
    assert "already holds the demo" in again.stdout
    assert "withdrawal wd-1 is completed" in again.stdout
    assert _giftledger(tmp_path, "balances", "--json").stdout == balances.stdout
    rows = {b["account"]: b["balance"] for b in json.loads(balances.stdout)["balances"]}
    assert rows["creators:bob:cash"] == {"amount": "56.85", "currency": "EUR"}
    assert rows["viewers:alice:coins"] == {"amount": "1902", "currency": "COIN"}


def test_demo_to_a_path(tmp_path: Path, invoke: Invoke) -> None:
    target = tmp_path / "books.db"
    result = invoke("demo", str(target))
    assert result.exit_code == 0, result.stderr
    assert f"the ledger is kept in {target}" in result.stdout
    assert invoke("verify", "--ledger", str(target)).exit_code == 0


def test_demo_refuses_other_books_and_writes_nothing(
    workdir: Path, invoke: Invoke, tmp_path: Path
) -> None:
    import giftledger as gl

    (workdir / "notes.txt").write_text("mine")
    with gl.Ledger.open(f"sqlite:///{workdir / 'core.db'}") as book:
        book.open_account("assets:bank", "USD")
    before = snapshot(workdir)
    assert_one_error_line(invoke("demo", "notes.txt"), "not a giftledger ledger")
    assert_one_error_line(invoke("demo", "core.db"), "other books than the demo's")
    assert_one_error_line(invoke("demo", "no/such/dir/x.db"), "does not exist")
    assert snapshot(workdir) == before


def test_giftledger_demo_help_writes_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert demo_entry(["--help"]) == 0
    assert "Usage: giftledger demo [OPTIONS] [PATH]" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []
