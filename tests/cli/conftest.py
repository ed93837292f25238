"""A demo ledger built once per module, and a way to see that a command wrote nothing."""

from __future__ import annotations

import contextlib
import hashlib
import io
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from giftledger import demo
from giftledger.cli.main import cli


@pytest.fixture(scope="session")
def built_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "giftledger-demo.db"
    with contextlib.redirect_stdout(io.StringIO()):
        demo.run(path)
    return path


@pytest.fixture
def workdir(tmp_path: Path, built_demo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh directory holding a copy of the demo's ledger, as the current directory."""
    shutil.copy(built_demo, tmp_path / "giftledger-demo.db")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GIFTLEDGER_LEDGER", raising=False)
    return tmp_path


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with the SHA-256 of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


Invoke = Callable[..., Result]


@pytest.fixture
def invoke() -> Invoke:
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return run


def assert_one_error_line(result: Result, *words: str) -> None:
    """Exit non-zero, nothing on stdout, exactly one line on stderr naming ``words``."""
    assert result.exit_code != 0, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("giftledger: error: ")
    for word in words:
        assert word in lines[0], lines[0]
