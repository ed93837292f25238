"""docs/how-to/command-line.md runs as written: each ``giftledger …`` line of its bash
blocks, in order, in one folder holding the demo's ledger; and it covers every command."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from giftledger.cli.main import cli

from .conftest import Invoke

PAGE = Path(__file__).parents[2] / "docs" / "how-to" / "command-line.md"


def _commands() -> list[list[str]]:
    text = PAGE.read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", text, re.S)
    lines = [line.split("#", 1)[0].strip() for block in blocks for line in block.splitlines()]
    return [shlex.split(line)[1:] for line in lines if line.startswith("giftledger ")]


def test_the_page_covers_every_command() -> None:
    shown = {args[0] for args in _commands()}
    assert shown == set(cli.commands)
    assert "(how-to/command-line.md)" in (PAGE.parents[1] / "index.md").read_text(encoding="utf-8")


def test_every_command_of_the_page_runs(workdir: Path, invoke: Invoke) -> None:
    commands = _commands()
    assert len(commands) >= 20
    for args in commands:
        result = invoke(*args)
        assert result.exit_code == 0, (args, result.stderr)
        assert result.stdout.strip(), args
        assert result.stderr == "", (args, result.stderr)
    # What the page says it leaves behind.
    for name in (
        "bob.svg",
        "bob-waterfall.png",
        "books.beancount",
        "books.csv",
        "books.jsonl",
        "restored.db",
        "platform.key",
        "platform.key.pub",
        "checkpoint.json",
        "bob-statement.json",
        "giftledger-demo.svg",
    ):
        assert (workdir / name).is_file(), name
