"""``giftledger explain --chart`` and the demo's chart: valid files where the command
says, the amounts of the books on them, and nothing written on a bad argument."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

import pytest

import giftledger as gl

from .conftest import Invoke, assert_one_error_line, snapshot

SVG = "{http://www.w3.org/2000/svg}svg"


def _svg_text(path: Path) -> str:
    root = ET.parse(path).getroot()  # raises on a file that is not well-formed XML
    assert root.tag == SVG
    return "".join(root.itertext())


def _explanation(workdir: Path) -> gl.Explanation:
    with gl.Ledger.open(f"sqlite:///{workdir / 'giftledger-demo.db'}") as book:
        return gl.GiftEconomy.from_ledger(book).explain("bob")


@pytest.mark.parametrize("kind", ["sankey", "waterfall"])
def test_explain_draws_a_chart_of_the_books(workdir: Path, invoke: Invoke, kind: str) -> None:
    before = snapshot(workdir)
    result = invoke("explain", "bob", "--chart", "bob.svg", "--chart-kind", kind)
    assert result.exit_code == 0, result.stderr
    assert f"chart of where bob's money went ({kind}): bob.svg" in result.stdout
    assert set(snapshot(workdir)) == {*before, "bob.svg"}
    text = _svg_text(workdir / "bob.svg")
    ex = _explanation(workdir)
    assert gl.format_money(ex.paid, "en_US") in text  # what viewers paid, exactly
    flow = gl.money_flow(ex)
    for node in flow.nodes:
        assert gl.format_money(node.amount, "en_US") in text, node.key


def test_a_chart_for_one_gift_in_a_locale_as_png(workdir: Path, invoke: Invoke) -> None:
    gifts = json.loads(invoke("explain", "bob", "--json").stdout)["gifts"]
    gift = gifts[1]["transaction"]
    out = invoke("explain", "bob", "--gift", str(gift), "--chart", "gift.svg", "--locale", "de_DE")
    assert out.exit_code == 0, out.stderr
    ex = _explanation(workdir)
    flow = gl.money_flow(ex, gift=gift)
    text = _svg_text(workdir / "gift.svg")
    assert gl.format_money(flow.total, "de_DE") in text
    assert gl.format_money(gl.money_flow(ex).total, "de_DE") not in text
    png = invoke("explain", "bob", "--chart", "bob.png", "--json")
    assert png.exit_code == 0, png.stderr
    assert json.loads(png.stdout)["chart"] == {"path": "bob.png", "kind": "sankey"}
    assert (workdir / "bob.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_an_existing_chart_is_replaced_only_with_force(workdir: Path, invoke: Invoke) -> None:
    (workdir / "bob.svg").write_text("mine")
    before = snapshot(workdir)
    assert_one_error_line(invoke("explain", "bob", "--chart", "bob.svg"), "--force")
    assert snapshot(workdir) == before
    assert invoke("explain", "bob", "--chart", "bob.svg", "--force").exit_code == 0
    _svg_text(workdir / "bob.svg")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["explain", "bob", "--chart", "bob.txt"], ["bob.txt", ".svg"]),
        (["explain", "bob", "--chart", "no/dir/bob.svg"], ["does not exist"]),
        (["explain", "bob", "--chart-kind", "waterfall"], ["--chart"]),
        (["explain", "bob", "--chart", "bob.svg", "--chart-kind", "pie"], ["pie"]),
        (["explain", "zoe", "--chart", "bob.svg"], ["unknown creator 'zoe'"]),
        (["explain", "bob", "--chart", "bob.svg", "--gift", "1"], ["entry 1 is no gift"]),
        (["explain", "bob", "--chart", "bob.svg", "--locale", "xx_YY"], ["unknown locale"]),
        (["explain", "bob", "--chart", "bob.svg", "--ledger", "gone.db"], ["gone.db"]),
    ],
)
def test_bad_chart_arguments_write_nothing(
    workdir: Path, invoke: Invoke, args: list[str], words: list[str]
) -> None:
    before = snapshot(workdir)
    assert_one_error_line(invoke(*args), *words)
    assert snapshot(workdir) == before


def test_without_matplotlib_the_error_names_the_extra(workdir: Path) -> None:
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "from giftledger.cli import entry\n"
        "sys.exit(entry(['explain', 'bob', '--chart', 'bob.svg']))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "GIFTLEDGER_LEDGER"}
    before = snapshot(workdir)
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("giftledger: error: ")
    assert "giftledger[charts]" in done.stderr
    assert snapshot(workdir) == before


def test_demo_draws_its_chart_next_to_its_ledger_and_runs_twice(
    tmp_path: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GIFTLEDGER_LEDGER", raising=False)
    first = invoke("demo")
    assert first.exit_code == 0, first.stderr
    assert "withdrawal wd-small of 10 EUR is refused" in first.stdout
    assert "withdrawal wd-1 is completed" in first.stdout
    assert "the chart of where bob's money went is giftledger-demo.svg" in first.stdout
    chart = tmp_path / "giftledger-demo.svg"
    text = _svg_text(chart)
    ex = _explanation(tmp_path)
    assert gl.format_money(ex.paid, "en_US") in text
    drawn = chart.read_bytes()
    balances = invoke("balances", "--json").stdout

    again = invoke("demo")
    assert again.exit_code == 0, again.stderr
    assert "already holds the demo" in again.stdout
    assert "withdrawal wd-small of 10 EUR is refused" in again.stdout
    assert "withdrawal wd-1 is completed" in again.stdout
    assert invoke("balances", "--json").stdout == balances
    assert chart.read_bytes() == drawn  # the same books draw the same chart
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "giftledger-demo.db",
        "giftledger-demo.svg",
    ]


def test_a_period_lists_its_gifts_and_charts_them(workdir: Path, invoke: Invoke) -> None:
    # The demo's gifts are all sent at one instant: a period from it holds them all (the
    # start is in the period), a period ending at it holds none (the end is not).
    gifts = json.loads(invoke("explain", "bob", "--json").stdout)["gifts"]
    at = min(g["at"] for g in gifts)
    out = invoke("explain", "bob", "--start", at, "--chart", "period.svg", "--json")
    assert out.exit_code == 0, out.stderr
    assert json.loads(out.stdout)["gifts"] == gifts
    ex = _explanation(workdir)
    flow = gl.money_flow(ex, start=datetime.fromisoformat(at))
    assert gl.format_money(flow.total, "en_US") in _svg_text(workdir / "period.svg")
    none = invoke("explain", "bob", "--end", at, "--json")
    assert none.exit_code == 0, none.stderr
    assert json.loads(none.stdout)["gifts"] == []


@pytest.mark.parametrize(
    "args",
    [
        ("--start", "2026-03-03T00:00:00Z", "--end", "2026-03-02T00:00:00Z"),
        ("--start", "2026-03-02T00:00:00Z", "--gift", "3"),
        ("--start", "yesterday"),
    ],
)
def test_a_bad_period_is_one_line_and_nothing_written(
    workdir: Path, invoke: Invoke, args: tuple[str, ...]
) -> None:
    before = snapshot(workdir)
    result = invoke("explain", "bob", *args, "--chart", "p.svg")
    assert result.exit_code != 0
    assert_one_error_line(result)
    assert snapshot(workdir) == before
