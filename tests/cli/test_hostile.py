"""Hostile and careless input to the command line: names that look like rich markup or
emoji codes, odd paths and locales. Each test is a finding of an attack on the CLI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

import giftledger as gl

from .conftest import Invoke, assert_one_error_line

#: Creator names rich would read as markup ("[/]" raised MarkupError, a traceback) or
#: whose accounts hold an emoji code (creators:smile:cash printed as "creators😄cash").
HOSTILE = ["[/]", "[bold red]x[/]", "smile", "x]", "=1+1", 'a"b', "back\\slash"]


@pytest.fixture(scope="module")
def hostile_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hostile") / "hostile.db"
    clock = gl.ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    jan = datetime(2026, 1, 1, tzinfo=UTC)
    rates = gl.RateTable.of(("USD", "EUR", "0.92", jan, None))
    with gl.Ledger.open(f"sqlite:///{path}", clock=clock) as book:
        app = gl.GiftEconomy(book, gl.presets.load("tiktok-live"), rates=rates)
        for i, name in enumerate(HOSTILE):
            viewer = f"[v{i}]"
            app.open_viewer(viewer, region="US", age=27)
            app.open_creator(name, region="DE", payout_currency="EUR", age=31, verified=True)
            app.buy_coins(viewer, pack=17500, channel="ios", key=f'=o{i}"; \\x')
            app.send_gift(viewer, name, "Galaxy", key=f"[g{i}]")
            clock.advance(timedelta(days=1))
            app.convert_diamonds(name, key=f"c{i}")
    return path


def _ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return result.stdout


def test_tables_print_markup_and_emoji_codes_in_names_as_they_are(
    hostile_ledger: Path, invoke: Invoke
) -> None:
    ledger = str(hostile_ledger)
    parties = _ok(invoke("parties", "--ledger", ledger))
    balances = _ok(invoke("balances", "--ledger", ledger))
    for name in HOSTILE:
        assert f" {name} " in parties
        assert f"creators:{name}:cash" in balances
    assert "[v0]" in parties
    assert "😄" not in balances


@pytest.mark.parametrize("name", HOSTILE)
def test_reports_of_a_hostile_name_print_it_as_it_is(
    hostile_ledger: Path, invoke: Invoke, name: str
) -> None:
    ledger = str(hostile_ledger)
    history = _ok(invoke("history", f"creators:{name}:cash", "--ledger", ledger))
    assert f"creators:{name}:cash" in history
    assert f"{name} converts" in history
    assert _ok(invoke("explain", name, "--ledger", ledger)).startswith(f"{name}: ")
    assert name in _ok(invoke("statement", name, "--ledger", ledger)).splitlines()[0]


@pytest.mark.parametrize("command", [["balances"], ["import", "x.jsonl"], ["verify"]])
def test_a_postgresql_password_is_never_printed(
    workdir: Path, invoke: Invoke, command: list[str]
) -> None:
    (workdir / "x.jsonl").write_text("{}\n")
    url = "postgresql://u:s3cr3t@127.0.0.1:1/db?connect_timeout=2"
    result = invoke(*command, "--ledger", url)
    assert_one_error_line(result, "cannot connect", "u:***@127.0.0.1:1")
    assert "s3cr3t" not in result.output


def test_ctrl_c_while_the_commands_load_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # SIGINT before click runs (while giftledger.cli.main imports) printed a traceback.
    import builtins
    import sys

    from giftledger.cli import entry

    real = builtins.__import__

    def interrupted(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "main" or name.endswith("cli.main"):
            raise KeyboardInterrupt
        return real(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "giftledger.cli.main")
    monkeypatch.setattr(builtins, "__import__", interrupted)
    assert entry(["--version"]) == 1
    assert capsys.readouterr().err == "giftledger: aborted\n"
