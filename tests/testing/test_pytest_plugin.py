"""The pytest plugin: its fixtures in a user's project (run in a subprocess, as a
user's own pytest would), without Hypothesis too, and beside this project's own
fixtures of similar names."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import giftledger as gl

USER_TESTS = """
from datetime import timedelta

import pytest
import giftledger as gl


def test_a_fresh_ledger_on_a_frozen_clock(gl_ledger, gl_clock):
    assert gl_ledger.trial_balance().units == ()
    before = gl_clock.now()
    gl_clock.advance(timedelta(days=1))
    assert gl_clock.now() - before == timedelta(days=1)
    assert gl_ledger.clock is gl_clock


def test_each_store(gl_store_ledger, gl_store_url):
    gl_store_ledger.open_account("cash", "USD")
    gl_store_ledger.open_account("owed", "USD", normal="credit")
    gl_store_ledger.transfer("cash", "owed", "1.00")
    if gl_store_url != "memory:":  # a durable store reopens to the same balances
        with gl.Ledger.open(gl_store_url) as again:
            assert again.balance("owed") == gl_store_ledger.balance("owed")


def test_the_default_preset(gl_economy, gl_app):
    assert gl_economy.name == "tiktok-live"
    gl_app.open_viewer("ann", region="US", age=30)
    gl_app.buy_coins("ann", pack=70, channel="ios")
    assert gl_app.ledger.balance("viewers:ann:coins").amount == 70


@pytest.mark.parametrize("gl_preset", ["twitch-bits", ("tiktok-live", {"model": "B"})])
def test_a_chosen_preset(gl_preset, gl_economy):
    name = gl_preset if isinstance(gl_preset, str) else gl_preset[0]
    assert gl_economy.name == name
"""


def _pytest(
    tmp_path: Path, *, without_hypothesis: bool = False
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_user.py").write_text(USER_TESTS, encoding="utf-8")
    args = ["-q", "-p", "no:cacheprovider", str(tmp_path / "test_user.py"), "-rs"]
    if without_hypothesis:
        # As if Hypothesis were not installed: its own pytest plugin goes too.
        code = (
            "import importlib.abc, sys\n"
            "class NoHypothesis(importlib.abc.MetaPathFinder):\n"
            "    def find_spec(self, name, path, target=None):\n"
            "        if name.split('.')[0] in ('hypothesis', '_hypothesis_pytestplugin'):\n"
            "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
            "sys.meta_path.insert(0, NoHypothesis())\n"
            "import pytest\n"
            f"code = pytest.main({[*args, '-p', 'no:hypothesispytest']!r})\n"
            "assert 'hypothesis' not in sys.modules, 'the plugin imported Hypothesis'\n"
            "sys.exit(code)\n"
        )
        cmd = [sys.executable, "-c", code]
    else:
        cmd = [sys.executable, "-m", "pytest", *args]
    return subprocess.run(
        cmd, capture_output=True, text=True, cwd=tmp_path, timeout=300, env=dict(os.environ)
    )


def _passed(out: str) -> int:
    last = out.strip().splitlines()[-1]
    return int(last.split(" passed")[0].split()[-1])


def test_the_fixtures_work_in_a_users_project(tmp_path: Path) -> None:
    done = _pytest(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    # 1 + 2 or 3 stores + 1 + 2 presets
    with_postgres = bool(os.environ.get("GIFTLEDGER_TEST_POSTGRES_URL"))
    assert _passed(done.stdout) == (7 if with_postgres else 6), done.stdout


def test_the_fixtures_need_no_hypothesis(tmp_path: Path) -> None:
    done = _pytest(tmp_path, without_hypothesis=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _passed(done.stdout) >= 6


def test_the_plugins_fixtures_sit_beside_this_projects_own(
    gl_ledger: gl.Ledger, book: gl.Ledger, gl_clock: gl.ManualClock, clock: gl.ManualClock
) -> None:
    assert gl_ledger is not book
    assert gl_ledger.clock is gl_clock
    assert book.clock is clock
