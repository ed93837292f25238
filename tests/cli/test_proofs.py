"""``giftledger checkpoint``, ``verify --since``, ``prove``, ``check-statement`` and
``keygen``: a creator checks a statement with no ledger, and every failure is one line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import giftledger as gl

from .conftest import Invoke, assert_one_error_line, snapshot


def _demo(workdir: Path) -> Path:
    return workdir / "giftledger-demo.db"


#: The demo's entries: 15 that move money or record the chain, and the ACCOUNT and
#: KEY entries that journal its accounts and the chain's aliases.
DEMO = 41
#: The entries of the demo grown by one viewer: its record, its alias and its account.
GROWN = DEMO + 3


def _grown(workdir: Path, name: str, viewer: str) -> Path:
    """A copy of the demo's books with one more entry (a viewer opens)."""
    path = workdir / name
    shutil.copy(_demo(workdir), path)
    with gl.Ledger.open(f"sqlite:///{path}") as book:
        gl.GiftEconomy.from_ledger(book).open_viewer(viewer, region="US", age=40)
    return path


def test_checkpoint_prints_the_books_checkpoint_and_writes_nothing(
    workdir: Path, invoke: Invoke
) -> None:
    before = snapshot(workdir)
    result = invoke("checkpoint")
    assert result.exit_code == 0, result.stderr
    with gl.Ledger.open(f"sqlite:///{_demo(workdir)}") as book:
        want = book.checkpoint()
    assert gl.Checkpoint.from_json(result.stdout) == want
    assert want.size == DEMO
    with gl.Ledger.open(f"sqlite:///{_demo(workdir)}") as book:
        own = (gl.EntryKind.ACCOUNT, gl.EntryKind.KEY)
        assert sum(tx.kind not in own for tx in book.transactions()) == 15
    assert snapshot(workdir) == before


def test_a_signed_checkpoint_to_a_file(workdir: Path, invoke: Invoke) -> None:
    made = invoke("keygen", "platform.key")
    assert made.exit_code == 0, made.stderr
    assert (workdir / "platform.key").stat().st_mode & 0o777 == 0o600
    public_hex = made.stdout.split("platform.key.pub: ")[1].strip()
    result = invoke("checkpoint", "--out", "cp.json", "--sign-key", "platform.key")
    assert result.exit_code == 0, result.stderr
    assert f"checkpoint of {DEMO} entries" in result.stdout
    assert "signed" in result.stdout
    cp = gl.Checkpoint.from_json((workdir / "cp.json").read_text())
    cp.verify_signature(bytes.fromhex(public_hex))
    (workdir / "raw.pub").write_text(public_hex + "\n")
    for key in ("platform.key.pub", "raw.pub"):
        ok = invoke("verify", "--since", "cp.json", "--public-key", key)
        assert ok.exit_code == 0, ok.stderr
        assert "signature checked" in ok.stdout
    # A hex private key signs the same way.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    other = Ed25519PrivateKey.generate()
    (workdir / "other.key").write_text(other.private_bytes_raw().hex())
    assert invoke("checkpoint", "--out", "cp.json", "--sign-key", "other.key").exit_code == 1
    again = invoke("checkpoint", "--out", "cp.json", "--sign-key", "other.key", "--force")
    assert again.exit_code == 0, again.stderr
    before = snapshot(workdir)
    assert_one_error_line(
        invoke("verify", "--since", "cp.json", "--public-key", "platform.key.pub"),
        "signature",
    )
    assert snapshot(workdir) == before


def test_verify_since_finds_a_truncation_and_a_rewrite(workdir: Path, invoke: Invoke) -> None:
    _grown(workdir, "dan.db", "dan")
    _grown(workdir, "eve.db", "eve")
    assert invoke("checkpoint", "--out", "dan.json", "--ledger", "dan.db").exit_code == 0
    assert invoke("checkpoint", "--out", "now.json").exit_code == 0
    ok = invoke("verify", "--since", "now.json", "--json")
    assert ok.exit_code == 0, ok.stderr
    data = json.loads(ok.stdout)
    assert data["since"]["size"] == DEMO
    assert data["chain"] is True
    # Books that grew from the checkpoint pass; others are one error line.
    assert invoke("verify", "--since", "now.json", "--ledger", "dan.db").exit_code == 0
    before = snapshot(workdir)
    truncated = invoke("verify", "--since", "dan.json")  # the checkpoint has GROWN entries
    assert_one_error_line(truncated, str(GROWN))
    rewritten = invoke("verify", "--since", "dan.json", "--ledger", "eve.db")
    assert_one_error_line(rewritten)
    assert snapshot(workdir) == before


def test_prove_then_check_the_statement_with_no_ledger(
    workdir: Path, invoke: Invoke, tmp_path_factory: pytest.TempPathFactory
) -> None:
    assert invoke("checkpoint", "--out", "cp.json").exit_code == 0
    result = invoke("prove", "bob", "--checkpoint", "cp.json", "--out", "bob.json")
    assert result.exit_code == 0, result.stderr
    with gl.Ledger.open(f"sqlite:///{_demo(workdir)}") as book:
        app = gl.GiftEconomy.from_ledger(book)
        cp = gl.Checkpoint.from_json((workdir / "cp.json").read_text())
        want = gl.prove_statement(app, "bob", cp)
    assert gl.ProvenStatement.from_json((workdir / "bob.json").read_text()) == want
    assert f"{len(want.lines)} lines proven" in result.stdout
    printed = invoke("prove", "bob", "--checkpoint", "cp.json")
    assert gl.ProvenStatement.from_json(printed.stdout) == want

    # The creator's side: two files in an empty folder, no ledger anywhere.
    creator = tmp_path_factory.mktemp("creator")
    shutil.copy(workdir / "bob.json", creator / "bob.json")
    shutil.copy(workdir / "cp.json", creator / "cp.json")
    before = snapshot(creator)
    checked = invoke(
        "check-statement", str(creator / "bob.json"), "--checkpoint", str(creator / "cp.json")
    )
    assert checked.exit_code == 0, checked.stderr
    assert f"all {len(want.lines)} lines of bob's statement check" in checked.stdout
    as_json = invoke(
        "check-statement",
        str(creator / "bob.json"),
        "--checkpoint",
        str(creator / "cp.json"),
        "--json",
    )
    lines = json.loads(as_json.stdout)["lines"]
    assert [(x["transaction"], x["kind"]) for x in lines] == [
        (line.transaction, line.kind) for line in want.lines
    ]
    assert lines[0]["amount"] == {"minor": want.lines[0].amount, "unit": "USD"}
    assert snapshot(creator) == before


@pytest.mark.parametrize("line", [1, 3, 5])
def test_a_changed_amount_fails_naming_the_line(workdir: Path, invoke: Invoke, line: int) -> None:
    assert invoke("checkpoint", "--out", "cp.json").exit_code == 0
    assert invoke("prove", "bob", "--checkpoint", "cp.json", "--out", "bob.json").exit_code == 0
    data = json.loads((workdir / "bob.json").read_text())
    data["lines"][line - 1]["amount"]["minor"] += 1
    (workdir / "forged.json").write_text(json.dumps(data))
    before = snapshot(workdir)
    result = invoke("check-statement", "forged.json", "--checkpoint", "cp.json")
    assert_one_error_line(result, "forged.json", f"line {line} ")
    assert result.exit_code == 1
    assert snapshot(workdir) == before


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["checkpoint", "--ledger", "gone.db"], ["gone.db", "does not exist"]),
        (["checkpoint", "--out", "cp.json"], ["cp.json", "--force"]),
        (["checkpoint", "--out", "no/dir/cp.json"], ["does not exist"]),
        (["checkpoint", "--out", "new.json", "--sign-key", "gone.key"], ["gone.key"]),
        (["checkpoint", "--out", "new.json", "--sign-key", "notes.txt"], ["Ed25519 private"]),
        (["verify", "--since", "gone.json"], ["gone.json"]),
        (["verify", "--since", "notes.txt"], ["not a checkpoint"]),
        (["verify", "--public-key", "notes.txt"], ["--since"]),
        (["verify", "--since", "cp.json", "--public-key", "notes.txt"], ["Ed25519 public"]),
        (["verify", "--since", "cp.json", "--public-key", "key.pub"], ["not signed"]),
        (["prove", "zoe", "--checkpoint", "cp.json"], ["unknown creator 'zoe'"]),
        (["prove", "bob"], ["--checkpoint"]),
        (["prove", "bob", "--checkpoint", "gone.json"], ["gone.json"]),
        (["prove", "bob", "--checkpoint", "dan.json"], [str(GROWN)]),
        (["prove", "bob", "--checkpoint", "cp.json", "--out", "bob.json"], ["--force"]),
        (["prove", "bob", "--checkpoint", "cp.json", "--start", "soon"], ["--start"]),
        (["prove", "bob", "--checkpoint", "cp.json", "--ledger", "gone.db"], ["gone.db"]),
        (["check-statement", "gone.json", "--checkpoint", "cp.json"], ["gone.json"]),
        (["check-statement", "notes.txt", "--checkpoint", "cp.json"], ["notes.txt", "JSON"]),
        (["check-statement", "bob.json", "--checkpoint", "notes.txt"], ["not a checkpoint"]),
        (["check-statement", "bob.json", "--checkpoint", "dan.json"], [str(GROWN)]),
        (
            ["check-statement", "bob.json", "--checkpoint", "cp.json", "--public-key", "key.pub"],
            ["not signed"],
        ),
        (["check-statement", "bob.json"], ["--checkpoint"]),
        (["keygen", "key"], ["key", "--force"]),
        (["keygen", "no/dir/key"], ["does not exist"]),
    ],
)
def test_bad_arguments_are_one_line_and_write_nothing(
    workdir: Path, invoke: Invoke, args: list[str], words: list[str]
) -> None:
    _grown(workdir, "dan.db", "dan")
    assert invoke("checkpoint", "--out", "dan.json", "--ledger", "dan.db").exit_code == 0
    assert invoke("checkpoint", "--out", "cp.json").exit_code == 0
    assert invoke("prove", "bob", "--checkpoint", "cp.json", "--out", "bob.json").exit_code == 0
    assert invoke("keygen", "key").exit_code == 0
    (workdir / "notes.txt").write_text("not a key, a checkpoint or a statement")
    before = snapshot(workdir)
    assert_one_error_line(invoke(*args), *words)
    assert snapshot(workdir) == before


def test_keygen_refuses_when_only_the_public_half_exists(workdir: Path, invoke: Invoke) -> None:
    (workdir / "key.pub").write_text("mine")
    before = snapshot(workdir)
    assert_one_error_line(invoke("keygen", "key"), "key.pub")
    assert snapshot(workdir) == before


@pytest.mark.parametrize(
    "args",
    [
        ["keygen", "k"],
        ["checkpoint", "--sign-key", "k"],
        ["verify", "--since", "cp.json", "--public-key", "k"],
    ],
    ids=["keygen", "checkpoint", "verify"],
)
def test_without_cryptography_the_error_names_the_extra(
    workdir: Path, invoke: Invoke, args: list[str]
) -> None:
    import os
    import subprocess
    import sys

    assert invoke("checkpoint", "--out", "cp.json").exit_code == 0
    (workdir / "k").write_text("a" * 64)
    code = (
        "import sys; sys.modules['cryptography'] = None\n"
        "from giftledger.cli import entry\n"
        f"sys.exit(entry({args!r}))\n"
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
    assert "'signing' extra" in done.stderr
    assert "giftledger[signing]" in done.stderr
    assert snapshot(workdir) == before
