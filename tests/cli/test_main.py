"""The root: --help everywhere, the install hint without the extra, progress."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from giftledger.cli import INSTALL_HINT
from giftledger.cli.main import cli

from .conftest import Invoke

COMMANDS = [
    [],
    ["demo"],
    ["statement"],
    ["explain"],
    ["parties"],
    ["balances"],
    ["history"],
    ["verify"],
    ["export"],
    ["import"],
    ["checkpoint"],
    ["prove"],
    ["check-statement"],
    ["keygen"],
    ["presets"],
    ["presets", "list"],
    ["presets", "show"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a) or "root")
def test_help_everywhere(tmp_path: Path, invoke: Invoke, args: list[str], monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    result = invoke(*args, "--help")
    assert result.exit_code == 0
    assert result.stdout.startswith(f"Usage: giftledger {' '.join(args)}".rstrip())
    assert list(tmp_path.iterdir()) == []


def test_root_lists_its_commands_and_others_can_add_one(invoke: Invoke) -> None:
    import click

    out = invoke("--help").stdout
    names = ("demo", "statement", "explain", "balances", "history", "verify", "presets")
    names += ("export", "import", "checkpoint", "prove", "check-statement", "keygen")
    for name in names:
        assert name in out

    @click.command()
    def hello() -> None:
        click.echo("hi")

    cli.add_command(hello)
    try:
        assert invoke("hello").stdout == "hi\n"
    finally:
        cli.commands.pop("hello")


def test_without_the_extra_the_script_names_what_to_install(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['click'] = None; sys.modules['rich'] = None\n"
        "from giftledger.cli import entry\n"
        "sys.exit(entry(['demo']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
        check=False,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == INSTALL_HINT + "\n"
    assert 'pip install "giftledger[cli]"' in INSTALL_HINT
    assert 'pip install ".[cli]"' in INSTALL_HINT
    assert list(tmp_path.iterdir()) == []


def test_presets_list_and_show(invoke: Invoke) -> None:
    import json

    import giftledger as gl

    listed = json.loads(invoke("presets", "list", "--json").stdout)
    assert [p["name"] for p in listed["presets"]] == [p.name for p in gl.presets.list()]
    shown = json.loads(invoke("presets", "show", "tiktok-live", "--sources", "--json").stdout)
    econ = gl.presets.load("tiktok-live")
    assert len(shown["figures"]) == len(econ.figures())
    minimum = next(f for f in shown["figures"] if f["path"] == "versions[0].withdrawal.minimum")
    assert minimum["source"]["confidence"] == econ.source_of(minimum["path"]).confidence.value
    b = json.loads(
        invoke("presets", "show", "tiktok-live", "--variant", "model=B", "--json").stdout
    )
    assert b["variant"]["model"] == "B"
    text = invoke("presets", "show", "bigo-live").stdout
    assert "Bigo Live" in text
    assert "documented assumptions" in text


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (["presets", "show", "nope"], "unknown preset 'nope'"),
        (["presets", "show", "tiktok-live", "--variant", "model"], "AXIS=OPTION"),
        (["presets", "show", "tiktok-live", "--variant", "model=Z"], "model"),
    ],
)
def test_presets_bad_arguments(invoke: Invoke, args: list[str], word: str) -> None:
    from .conftest import assert_one_error_line

    assert_one_error_line(invoke(*args), word)


def test_verify_reports_progress(built_demo: Path) -> None:
    import giftledger as gl

    seen: list[tuple[int, int]] = []
    with gl.Ledger.open(f"sqlite:///{built_demo}") as book:
        n = gl.GiftEconomy.from_ledger(book).verify(progress=lambda d, t: seen.append((d, t)))
        assert seen[-1] == (2 * n, 2 * n)
        seen.clear()
        assert book.verify(progress=lambda d, t: seen.append((d, t))) == n
        assert seen == [(n, n)]
