"""``giftledger simulate`` and ``giftledger compare``: success, and bad arguments that
are one error line, a non-zero exit and nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from giftledger.cli.main import cli
from tests.cli.conftest import assert_one_error_line, snapshot

SIZE = ("--viewers", "30", "--creators", "4", "--days", "2", "--seed", "9")
COMPARE_TWO = ("compare", "--preset", "tiktok-live", "--preset", "twitch-bits")


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_simulate_prints_a_summary_table(here: Path) -> None:
    result = run("simulate", "--preset", "tiktok-live", "--variant", "model=B", *SIZE)
    assert result.exit_code == 0, result.output
    assert "tiktok-live[model=B], seed 9" in result.stdout
    assert "reconciles" in result.stdout
    assert "yes" in result.stdout
    assert snapshot(here) == {}  # in memory by default: no file


def test_simulate_json_is_exact_and_the_same_on_sqlite(here: Path) -> None:
    mem = run("simulate", "--preset", "twitch-bits", *SIZE, "--json")
    disk = run("simulate", "--preset", "twitch-bits", *SIZE, "--json", "--ledger", "sim.db")
    assert mem.exit_code == 0, mem.output
    assert disk.exit_code == 0, disk.output
    a, b = json.loads(mem.stdout), json.loads(disk.stdout)
    assert a["figures"] == b["figures"]
    assert b["ledger"] == "sqlite:///sim.db"
    assert (here / "sim.db").is_file()
    f = a["figures"]
    assert f["reconciles"] is True
    assert set(f["fiat_in"]) == {"amount", "currency"}
    assert "." in f["fiat_in"]["amount"]
    assert f["gini"]["fraction"].count("/") == 1
    verified = run("verify", "--ledger", "sim.db")
    assert verified.exit_code == 0
    assert "verified" in verified.stdout


def test_simulate_from_an_economy_file(here: Path) -> None:
    import giftledger as gl

    (here / "mine.toml").write_text(gl.presets.load("facebook-stars").to_toml())
    result = run("simulate", "--economy", "mine.toml", *SIZE, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["economy"] == "facebook-stars"


def test_compare_prints_side_by_side_and_draws_a_chart(here: Path) -> None:
    pytest.importorskip("matplotlib")
    result = run(
        "compare",
        "--preset",
        "tiktok-live",
        "--preset",
        "tiktok-live[model=D]",
        *SIZE,
        "--chart",
        "cmp.svg",
    )
    assert result.exit_code == 0, result.output
    assert "tiktok-live[model=D]" in result.stdout
    assert "Δ" in result.stdout
    svg = (here / "cmp.svg").read_text()
    assert "tiktok-live[model=D]" in svg
    assert "to creators" in svg


def test_compare_json_lists_each_economy(here: Path) -> None:
    result = run("compare", "--preset", "tiktok-live", "--preset", "bigo-live", *SIZE, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["economies"] == ["tiktok-live", "bigo-live"]
    assert [f["economy"] for f in out["figures"]] == out["economies"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("simulate", *SIZE), ["--preset", "--economy"]),
        (("simulate", "--preset", "nope", *SIZE), ["unknown preset"]),
        (("simulate", "--preset", "tiktok-live", "--variant", "model", *SIZE), ["AXIS=OPTION"]),
        (("simulate", "--preset", "tiktok-live", "--variant", "model=Z", *SIZE), ["'Z'"]),
        (
            (
                "simulate",
                "--preset",
                "tiktok-live",
                "--viewers",
                "0",
                "--creators",
                "1",
                "--days",
                "1",
            ),
            ["viewers"],
        ),
        (("simulate", "--economy", "missing.toml", *SIZE), ["missing.toml"]),
        (("simulate", "--preset", "tiktok-live", *SIZE, "--ledger", "old.db"), ["already exists"]),
        (("compare", "--preset", "tiktok-live", *SIZE), ["two or more"]),
        (("compare", "--preset", "a b", "--preset", "tiktok-live", *SIZE), ["NAME"]),
        ((*COMPARE_TWO, *SIZE, "--ledger", "cmp.db"), ["{index}"]),
        ((*COMPARE_TWO, *SIZE, "--chart", "out.pdf"), [".svg"]),
        ((*COMPARE_TWO, *SIZE, "--chart", "no/such/dir.svg"), ["no directory"]),
    ],
)
def test_bad_arguments_are_one_line_and_write_nothing(
    here: Path, args: tuple[str, ...], words: list[str]
) -> None:
    (here / "old.db").write_bytes(b"not mine")
    before = snapshot(here)
    result = run(*args)
    assert_one_error_line(result, *words)
    assert snapshot(here) == before


# Regressions of the review of issue 14 (hatk14).


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            (
                "simulate",
                "--preset",
                "tiktok-live",
                "--viewers",
                "1000000000",
                "--creators",
                "1",
                "--days",
                "1",
            ),
            ["--viewers", "1000000"],
        ),
        (
            (*COMPARE_TWO, "--viewers", "1", "--creators", "1000000000", "--days", "1"),
            ["--creators"],
        ),
        (("simulate", "--preset", "tiktok-live", *SIZE[:4], "--days", "99999"), ["--days"]),
    ],
)
def test_huge_sizes_are_one_error_line(here: Path, args: tuple[str, ...], words: list[str]) -> None:
    before = snapshot(here)
    assert_one_error_line(run(*args), *words)
    assert snapshot(here) == before


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc (Linux)")
def test_an_unwritable_chart_or_ledger_directory_is_refused_before_the_run(here: Path) -> None:
    # /proc is a directory nobody (root included) can create a file in. Before the
    # fix compare ran every economy, wrote cmp-0.db and cmp-1.db, then failed on
    # the chart with "[Errno 2] ... '/proc/.c.svg.xxxx.tmp'".
    base = (*COMPARE_TWO, *SIZE)
    before = snapshot(here)
    assert_one_error_line(
        run(*base, "--ledger", "cmp-{index}.db", "--chart", "/proc/c.svg"), "cannot write the chart"
    )
    assert_one_error_line(
        run("simulate", "--preset", "tiktok-live", *SIZE, "--ledger", "/proc/sim.db"),
        "cannot write the ledger",
    )
    assert snapshot(here) == before
