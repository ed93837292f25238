"""Every reading command: it succeeds on the demo's ledger, and a bad argument is one
error line, a non-zero exit and nothing written."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

import giftledger as gl

from .conftest import Invoke, assert_one_error_line, snapshot

# (command, its arguments on the demo's ledger, whether it names a creator)
COMMANDS = [
    (["statement", "bob"], True),
    (["explain", "bob"], True),
    (["parties"], False),
    (["balances"], False),
    (["history", "creators:bob:cash"], False),
    (["verify"], False),
]
WITH_LOCALE = [c for c, _ in COMMANDS if c[0] not in ("verify",)]


def _app(path: Path) -> tuple[gl.Ledger, gl.GiftEconomy]:
    book = gl.Ledger.open(f"sqlite:///{path}")
    return book, gl.GiftEconomy.from_ledger(book)


@pytest.mark.parametrize(("args", "_"), COMMANDS, ids=[c[0][0] for c in COMMANDS])
def test_command_reads_the_default_ledger_and_writes_nothing(
    workdir: Path, invoke: Invoke, args: list[str], _: bool
) -> None:
    before = snapshot(workdir)
    result = invoke(*args)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip()
    assert result.stderr == ""
    assert snapshot(workdir) == before


@pytest.mark.parametrize(("args", "_"), COMMANDS, ids=[c[0][0] for c in COMMANDS])
def test_unknown_ledger_is_one_error_line_and_creates_no_file(
    workdir: Path, invoke: Invoke, args: list[str], _: bool
) -> None:
    before = snapshot(workdir)
    result = invoke(*args, "--ledger", "missing.db")
    assert_one_error_line(result, "missing.db", "does not exist")
    assert not (workdir / "missing.db").exists()
    result = invoke(*args, "--ledger", f"sqlite:///{workdir}/gone/x.db")
    assert_one_error_line(result, "does not exist")
    assert snapshot(workdir) == before


@pytest.mark.parametrize(("args", "_"), COMMANDS, ids=[c[0][0] for c in COMMANDS])
def test_a_file_that_is_no_ledger_is_refused_untouched(
    workdir: Path, invoke: Invoke, args: list[str], _: bool
) -> None:
    import sqlite3

    (workdir / "notes.txt").write_text("not a ledger")
    other = sqlite3.connect(workdir / "other.db")
    other.execute("CREATE TABLE t (x)")
    other.commit()
    other.close()
    (workdir / "empty.db").write_bytes(b"")
    before = snapshot(workdir)
    for name in ("notes.txt", "other.db", "empty.db"):
        assert_one_error_line(invoke(*args, "--ledger", name), name, "not a giftledger ledger")
    assert snapshot(workdir) == before


@pytest.mark.parametrize("args", [c for c, named in COMMANDS if named], ids=lambda a: a[0])
def test_unknown_creator_is_one_error_line(workdir: Path, invoke: Invoke, args: list[str]) -> None:
    before = snapshot(workdir)
    result = invoke(args[0], "zoe")
    assert_one_error_line(result, "unknown creator 'zoe'")
    assert snapshot(workdir) == before


@pytest.mark.parametrize("args", WITH_LOCALE, ids=lambda a: a[0])
@pytest.mark.parametrize("locale", ["xx_YY", "de-DE-nonsense", ""])
def test_bad_locale_is_one_error_line(
    workdir: Path, invoke: Invoke, args: list[str], locale: str
) -> None:
    before = snapshot(workdir)
    result = invoke(*args, "--locale", locale)
    assert_one_error_line(result, "unknown locale")
    assert snapshot(workdir) == before


def test_unknown_account_in_history_is_one_error_line(workdir: Path, invoke: Invoke) -> None:
    assert_one_error_line(invoke("history", "creators:zoe:cash"), "creators:zoe:cash")


def test_a_usage_error_is_one_line_with_exit_code_2(workdir: Path, invoke: Invoke) -> None:
    result = invoke("statement")
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert "Missing argument 'CREATOR'" in result.stderr
    assert invoke("no-such-command").exit_code == 2


def test_statement_json_is_the_librarys_statement(workdir: Path, invoke: Invoke) -> None:
    result = invoke("statement", "bob", "--json", "--locale", "de_DE")
    data = json.loads(result.stdout)
    book, app = _app(workdir / "giftledger-demo.db")
    with book:
        st = app.statement("bob", locale="de_DE")
    assert data["schema"] == "giftledger.cli/1"
    assert (data["creator"], data["locale"]) == ("bob", "de_DE")
    assert [(x["transaction"], x["kind"]) for x in data["lines"]] == [
        (line.transaction, line.kind) for line in st.lines
    ]
    for row, line in zip(data["lines"], st.lines, strict=True):
        want = None if line.amount is None else str(line.amount.amount)
        assert (row["amount"] or {}).get("amount") == want


def test_statement_text_is_written_for_the_locale(workdir: Path, invoke: Invoke) -> None:
    de = invoke("statement", "bob", "--locale", "de_DE").stdout
    us = invoke("statement", "bob").stdout
    assert "156,85\xa0€" in de
    assert "€156.85" in us


def test_statement_period_keeps_only_entries_in_it(workdir: Path, invoke: Invoke) -> None:
    whole = json.loads(invoke("statement", "bob", "--json").stdout)["lines"]
    later = json.loads(invoke("statement", "bob", "--json", "--start", "2026-03-03").stdout)
    assert later["start"] == "2026-03-03T00:00:00Z"
    assert later["lines"] == [x for x in whole if x["at"] >= "2026-03-03"]
    assert 0 < len(later["lines"]) < len(whole)
    assert_one_error_line(invoke("statement", "bob", "--start", "yesterday"), "--start")


def test_explain_json_sums_exactly(workdir: Path, invoke: Invoke) -> None:
    data = json.loads(invoke("explain", "bob", "--json").stdout)
    book, app = _app(workdir / "giftledger-demo.db")
    with book:
        ex = app.explain("bob")
    assert data["paid"] == {"amount": str(ex.paid.amount), "currency": "USD"}
    parts = ("store_fees", "taxes", "platform", "earned")
    assert sum(Decimal(data[k]["amount"]) for k in parts) == ex.paid.amount
    assert [g["transaction"] for g in data["gifts"]] == [g.transaction for g in ex.gifts]
    gbp = [p for p in data["paid_in"] if p["paid"]["currency"] == "GBP"]
    assert gbp[0]["rates"] == [{"rate": "1.27", "date": "2026-03-02"}]


def test_explain_one_gift(workdir: Path, invoke: Invoke) -> None:
    gifts = json.loads(invoke("explain", "bob", "--json").stdout)["gifts"]
    one = json.loads(
        invoke("explain", "bob", "--json", "--gift", str(gifts[1]["transaction"])).stdout
    )
    assert one["gifts"] == [gifts[1]]
    text = invoke("explain", "bob", "--gift", str(gifts[1]["transaction"])).stdout
    assert f"gift #{gifts[1]['transaction']}: 3 x Galaxy from alice" in text
    assert_one_error_line(invoke("explain", "bob", "--gift", "1"), "entry 1 is no gift")


def test_parties_json_uses_the_party_reads(workdir: Path, invoke: Invoke) -> None:
    data = json.loads(invoke("parties", "--json").stdout)
    book, app = _app(workdir / "giftledger-demo.db")
    with book:
        assert [c["name"] for c in data["creators"]] == ["bob"]
        assert data["creators"][0]["cash"] == {
            "amount": str(app.cash("bob").amount),
            "currency": "EUR",
        }
        assert {v["name"]: v["coins"]["amount"] for v in data["viewers"]} == {
            v.name: str(app.coins(v.name).amount) for v in app.viewers()
        }
    only = json.loads(invoke("parties", "--role", "viewer", "--json").stdout)
    assert only["creators"] == []
    assert len(only["viewers"]) == 2


def test_balances_json_and_prefix(workdir: Path, invoke: Invoke) -> None:
    data = json.loads(invoke("balances", "viewers:", "--json").stdout)
    with gl.Ledger.open(f"sqlite:///{workdir / 'giftledger-demo.db'}") as book:
        _ = gl.GiftEconomy.from_ledger(book)
        want = book.balances("viewers:")
    assert {b["account"]: b["balance"]["amount"] for b in data["balances"]} == {
        k: str(v.amount) for k, v in want.items()
    }
    assert "no account starts with 'nobody:'" in invoke("balances", "nobody:").stdout


def test_history_pages(workdir: Path, invoke: Invoke) -> None:
    first = json.loads(invoke("history", "creators:bob:diamonds", "--limit", "2", "--json").stdout)
    assert len(first["entries"]) == 2
    assert first["next_cursor"] is not None
    rest = json.loads(
        invoke(
            "history", "creators:bob:diamonds", "--json", "--after", str(first["next_cursor"])
        ).stdout
    )
    ids = [e["transaction"] for e in first["entries"] + rest["entries"]]
    assert ids == sorted(set(ids))
    assert len(ids) == 5
    assert rest["entries"][-1]["balance_after"] == {"amount": "0", "currency": "DIAMOND"}


def test_verify_counts_the_entries_and_finds_a_forged_one(workdir: Path, invoke: Invoke) -> None:
    import sqlite3

    data = json.loads(invoke("verify", "--json").stdout)
    with gl.Ledger.open(f"sqlite:///{workdir / 'giftledger-demo.db'}") as book:
        assert data["entries"] == book.verify()
        assert data["head"] == book.head[1]
    assert data["chain"] is True
    db = sqlite3.connect(workdir / "giftledger-demo.db")
    db.execute("DROP TRIGGER transactions_no_update")
    db.execute("UPDATE transactions SET memo = 'forged' WHERE id = 3")
    db.commit()
    db.close()
    assert_one_error_line(invoke("verify"), "transaction 3")


def test_rules_options_must_match_the_recorded_rules(workdir: Path, invoke: Invoke) -> None:
    before = snapshot(workdir)
    assert invoke("statement", "bob", "--preset", "tiktok-live").exit_code == 0
    assert_one_error_line(invoke("statement", "bob", "--preset", "twitch-bits"), "twitch-bits")
    assert_one_error_line(invoke("statement", "bob", "--preset", "nope"), "unknown preset")
    toml = workdir / "mine.toml"
    toml.write_text(gl.presets.load("tiktok-live").to_toml())
    assert invoke("verify", "--economy", str(toml)).exit_code == 0
    assert_one_error_line(invoke("statement", "bob", "--economy", "gone.toml"), "gone.toml")
    assert snapshot(workdir) == {**before, "mine.toml": snapshot(workdir)["mine.toml"]}


def test_a_ledger_without_a_chain(tmp_path: Path, invoke: Invoke) -> None:
    db = tmp_path / "core.db"
    with gl.Ledger.open(f"sqlite:///{db}") as book:
        book.open_account("assets:bank", "USD")
        book.open_account("equity", "USD", normal="credit")
        book.transfer("assets:bank", "equity", "5.00")
    before = snapshot(tmp_path)
    assert json.loads(invoke("balances", "--ledger", str(db), "--json").stdout)["balances"][0] == {
        "account": "assets:bank",
        "balance": {"amount": "5.00", "currency": "USD"},
    }
    assert json.loads(invoke("verify", "--ledger", str(db), "--json").stdout)["chain"] is False
    assert_one_error_line(invoke("statement", "bob", "--ledger", str(db)), "no economy rules")
    assert snapshot(tmp_path) == before


def test_ledger_from_the_environment(workdir: Path, invoke: Invoke, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    (workdir / "giftledger-demo.db").rename(workdir / "elsewhere.db")
    monkeypatch.setenv("GIFTLEDGER_LEDGER", "elsewhere.db")
    assert invoke("verify").exit_code == 0


def test_the_readmes_commands_run(workdir: Path, invoke: Invoke) -> None:
    import re
    import shlex

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The command line", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block is not None
    lines = [line.split("#", 1)[0].strip() for line in block.group(1).splitlines()]
    commands = [shlex.split(line)[1:] for line in lines if line.startswith("giftledger ")]
    assert len(commands) >= 8
    for args in commands:
        result = invoke(*args)
        assert result.exit_code == 0, (args, result.stderr)
        assert result.stdout.strip()


@pytest.mark.parametrize("locale", ["en_US", "de_DE", "ja_JP"])
def test_explain_prints_the_receipt_in_the_readers_language(
    workdir: Path, invoke: Invoke, locale: str
) -> None:
    out = invoke("explain", "bob", "--locale", locale)
    assert out.exit_code == 0, out.stderr
    with gl.Ledger.open(f"sqlite:///{workdir / 'giftledger-demo.db'}") as book:
        receipt = gl.GiftEconomy.from_ledger(book).explain("bob").receipt(locale)
        english = gl.GiftEconomy.from_ledger(book).explain("bob").receipt("en_US")
    assert receipt.render() in out.stdout  # translated labels, amounts for the locale
    if locale != "en_US":  # no English label left
        labels = {line.label for step in english.steps for line in step.lines}
        assert not {label for label in labels if label in out.stdout}
