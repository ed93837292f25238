"""benchmarks/compare.py at a small size, so the comparison cannot rot.

Nothing here looks at a time. What is checked: every contender has a row, the ones
that must run here do, and each one's final balances are the balances summed
straight from the workload's postings (the chain's on the accounts it shares with
the core), so the contenders really did the same work.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _load(name: str) -> ModuleType:
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCHMARKS / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


compare = _load("compare")
wl = _load("_workload")

N, SEED = 400, 7
# beancount and psycopg come with the test extra: without a server only PostgreSQL skips.
MUST_RUN = {"baseline", "floor", "memory", "chain", "sqlite", "raw-sqlite", "beancount"}


@pytest.fixture(scope="module")
def run() -> tuple[list[object], str]:
    lines: list[str] = []
    rows = compare.run([N], seed=SEED, out=lines.append)
    return rows, "\n".join(lines)


def test_every_contender_has_a_row_in_the_table(run: tuple[list[object], str]) -> None:
    rows, table = run
    assert [r.contender.name for r in rows] == [c.name for c in compare.CONTENDERS]
    for c in compare.CONTENDERS:
        assert c.label in table
    must = set(MUST_RUN)
    if os.environ.get("GIFTLEDGER_TEST_POSTGRES_URL"):
        must |= {"postgres", "raw-psycopg"}
    for r in rows:
        assert not r.failed, r.note
        if r.contender.name in must:
            assert r.ran, f"{r.contender.name}: {r.note}"
            assert r.seconds > 0
            assert r.peak_kb is None or r.peak_kb > 0
        elif not r.ran:
            assert r.note.startswith("skipped: "), r.note
            assert r.note in table


def test_the_same_workload_gives_the_same_books_everywhere(
    run: tuple[list[object], str],
) -> None:
    rows, table = run
    expected = wl.expected(wl.generate(N, SEED))
    ran = {r.contender.name: r for r in rows if r.ran}
    assert ran.keys() >= MUST_RUN
    for name, r in ran.items():
        assert r.mismatch == "", f"{name}: {r.mismatch}"
        skip = set(r.contender.unchecked)
        assert r.balances.keys() | skip == expected.keys() | skip
        assert {k: v for k, v in r.balances.items() if k not in skip} == {
            k: v for k, v in expected.items() if k not in skip
        }
    # Every core contender reports every account; the chain all but the two it keeps
    # differently, and those two are the ones it declares.
    assert ran["baseline"].balances == ran["floor"].balances == ran["memory"].balances
    assert ran["baseline"].balances == ran["beancount"].balances == ran["sqlite"].balances
    assert set(expected) - set(ran["chain"].balances) == {wl.DEFERRED, wl.CREATOR_PAY}
    assert "DIFFER" not in table


def test_the_workload_moves_money_of_every_kind() -> None:
    w = wl.generate(N, SEED)
    assert len(w) == N
    assert all(count > 0 for count in w.counts().values()), w.counts()
    net = wl.expected(w)
    # Coins bought = coins in wallets + coins gifted; Diamonds likewise; cash per Diamond.
    wallets = sum(net[name] for name in wl.WALLETS)
    diamonds = sum(net[name] for name in wl.DIAMONDS)
    cash = sum(net[name] for name in wl.CASH)
    assert net[wl.COIN_SUPPLY] == -wallets > 0
    assert net[wl.DIAMOND_SUPPLY] == -diamonds > 0
    converted = sum(w.size[i] for i in range(N) if w.kind[i] == wl.CONVERSION)
    assert cash == net[wl.CREATOR_PAY] * -1 == -converted // 2 < 0
    assert all(net[name] <= 0 for name in (*wl.WALLETS, *wl.DIAMONDS, *wl.CASH))
    assert net[wl.STORE] + net[wl.STORE_FEES] == -net[wl.DEFERRED] > 0


def test_a_seed_gives_one_workload() -> None:
    a, b, c = wl.generate(300, 5), wl.generate(300, 5), wl.generate(300, 6)
    assert (a.kind, a.party, a.other, a.size) == (b.kind, b.party, b.other, b.size)
    assert (a.kind, a.party, a.other, a.size) != (c.kind, c.party, c.other, c.size)


def test_a_wrong_book_is_caught() -> None:
    expected = wl.expected(wl.generate(N, SEED))
    assert compare.check_balances(expected, dict(expected)) == ""
    off = dict(expected)
    off[wl.WALLETS[3]] += 1
    assert "1 balance(s) differ, e.g. viewers:v3:coins" in compare.check_balances(expected, off)
    short = dict(expected)
    del short[wl.COIN_SUPPLY]
    assert "missing, e.g. platform:coin-supply" in compare.check_balances(expected, short)
    assert compare.check_balances(expected, short, [wl.COIN_SUPPLY]) == ""
    extra = {**expected, "nobody:coins": 0}
    assert "unexpected account(s), e.g. nobody:coins" in compare.check_balances(expected, extra)


def test_the_command_line_prints_the_machine_and_the_table(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert compare.main(["--sizes", "200", "--only", "baseline,floor", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "CPUs, Python" in out
    assert "command: python benchmarks/compare.py --sizes 200 --only baseline,floor" in out
    assert "N = 200 transactions (seed 3" in out
    assert "baseline: dict of int" in out
    assert "floor: ledger_floor.py" in out
    assert "giftledger memory" not in out
    with pytest.raises(SystemExit):
        compare.main(["--only", "nothing"])


def test_a_missing_beancount_skips_its_row_with_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: object) -> object:
        return None if name == "beancount" else real(name, *args)

    monkeypatch.setattr(compare.importlib.util, "find_spec", find_spec)
    lines: list[str] = []
    rows = compare.run([100], only=["baseline", "beancount"], out=lines.append)
    assert [r.contender.name for r in rows] == ["baseline", "beancount"]
    assert rows[0].ran
    assert rows[0].mismatch == ""
    assert not rows[1].ran
    assert not rows[1].failed
    assert rows[1].note == "skipped: beancount is not installed"
    assert "skipped: beancount is not installed" in "\n".join(lines)
