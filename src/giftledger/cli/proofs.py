"""``giftledger checkpoint``, ``prove``, ``check-statement`` and ``keygen``: books a
creator can check without access to them (docs/verify.md)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.table import Table

import giftledger as gl

from ._common import (
    Fail,
    chain_of,
    check_target,
    console,
    echo_json,
    force_option,
    json_option,
    ledger_option,
    locale_option,
    new_file,
    open_book,
    read_input,
    rules_options,
    time_json,
)
from .keys import public_key_option, read_checkpoint, read_private_key, read_public_key, signing
from .reports import when

__all__ = ["check_statement", "checkpoint", "keygen", "prove"]


def _write_text(out: Path, text: str, force: bool) -> None:
    with new_file(out, force) as tmp:
        tmp.write_text(text + "\n", encoding="utf-8")


@click.command()
@ledger_option
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="Write the checkpoint's JSON to FILE (default: print it).",
)
@click.option(
    "--sign-key",
    "sign_key",
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="Sign it with this Ed25519 private key (PEM or 64 hex digits; the 'signing' extra).",
)
@force_option
def checkpoint(ledger: str, out: Path | None, sign_key: Path | None, force: bool) -> None:
    """A checkpoint of the books: entry count, head hash and Merkle root, as JSON.

    Publish it where creators can read it. Later, 'giftledger verify --since
    FILE' proves the books only grew since, and 'giftledger prove' gives a
    creator a statement they check against it with 'giftledger check-statement'.
    Without --out the JSON is printed; with it, the file appears whole and an
    existing one is refused unless --force. The ledger is only read.
    """
    if out is not None:
        check_target(out, force)
    key = None if sign_key is None else read_private_key(sign_key)
    with open_book(ledger) as book:
        cp = book.checkpoint()
    if key is not None:
        cp = cp.sign(key)
    text = cp.to_json()
    if out is None:
        click.echo(text)
        return
    _write_text(out, text, force)
    signed = ", signed" if cp.signature is not None else ""
    click.echo(
        f"checkpoint of {cp.size} entries (head {cp.head[:16]}…, root {cp.root[:16]}…"
        f"{signed}) written to {out}"
    )


@click.command()
@click.argument("creator")
@ledger_option
@rules_options
@click.option(
    "--checkpoint",
    "checkpoint_file",
    required=True,
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="The published checkpoint (from 'giftledger checkpoint') to prove the lines against.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="Write the proven statement's JSON to FILE (default: print it).",
)
@click.option("--start", callback=when, metavar="WHEN", help="First instant (ISO 8601, UTC).")
@click.option("--end", callback=when, metavar="WHEN", help="First instant left out.")
@force_option
def prove(
    creator: str,
    ledger: str,
    preset: str | None,
    economy_file: Path | None,
    checkpoint_file: Path,
    out: Path | None,
    start: datetime | None,
    end: datetime | None,
    force: bool,
) -> None:
    """CREATOR's statement with the proof of every line against a checkpoint.

    Each line carries the entry it is read from and that entry's inclusion proof;
    other parties' entries appear only as hashes. Give the file to the creator,
    who checks it with 'giftledger check-statement', with no access to the books.
    The checkpoint must be of these books and hold every entry of the statement.
    Without --out the JSON is printed; an existing --out file is refused unless
    --force. The ledger is only read.
    """
    cp = read_checkpoint(checkpoint_file)
    if out is not None:
        check_target(out, force)
    with open_book(ledger) as book:
        app = chain_of(book, preset, economy_file)
        if cp.size:
            # Refuse a checkpoint of other books even when the statement has no line.
            book.inclusion_proof(cp.size, cp)
        proven = gl.prove_statement(app, creator, cp, start=start, end=end)
    text = proven.to_json()
    if out is None:
        click.echo(text)
        return
    _write_text(out, text, force)
    click.echo(
        f"{creator}'s statement: {len(proven.lines)} lines proven against the checkpoint "
        f"of {cp.size} entries, written to {out}"
    )


def _amount(minor: int | None, unit: str | None, locale: str) -> str:
    if minor is None or unit is None:
        return ""
    try:
        return gl.format_money(gl.from_minor(minor, unit), locale)
    except gl.UnknownUnit:  # a virtual unit: no ledger here to declare it
        return f"{minor} {unit}"


def _money(minor: int | None, unit: str | None) -> dict[str, Any] | None:
    return None if minor is None else {"minor": minor, "unit": unit}


@click.command("check-statement")
@click.argument("statement_file", type=click.Path(path_type=Path), metavar="STATEMENT.json")
@click.option(
    "--checkpoint",
    "checkpoint_file",
    required=True,
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="The checkpoint the platform published.",
)
@public_key_option
@locale_option
@json_option
def check_statement(
    statement_file: Path,
    checkpoint_file: Path,
    public_key_file: Path | None,
    locale: str,
    as_json: bool,
) -> None:
    """Check a proven statement (from 'giftledger prove') against a published checkpoint.

    Needs no ledger and no access to the platform: each line's entry is re-hashed
    from its text, proven to be in the checkpoint's books, and read back; the
    line's amount, units, time and kind must be what that entry moves on the
    creator's own accounts. The first line that fails is named (an error, exit
    code 1). With --public-key, the checkpoint's Ed25519 signature is checked too.

    JSON keys: creator, checkpoint: {size, head, root, signature_checked}, lines:
    [{line, at, kind, description, transaction, amount, units}] (amount and units
    are {minor, unit} objects or null, as in the statement).
    """
    try:
        proven = gl.ProvenStatement.from_json(read_input(statement_file, "statement"))
    except gl.InvalidArgument as exc:
        raise Fail(f"{str(statement_file)!r} is not a proven statement: {exc}") from None
    cp = read_checkpoint(checkpoint_file)
    key = None if public_key_file is None else read_public_key(public_key_file)
    try:
        st = gl.verify_statement(proven, cp, public_key=key)
    except gl.ProofFailed as exc:
        message = str(exc)
        if exc.line is not None and not message.startswith(f"line {exc.line}"):
            message = f"line {exc.line}: {message}"
        raise Fail(f"{statement_file} does not check: {message}") from None
    if as_json:
        echo_json(
            "check-statement",
            {
                "creator": st.creator,
                "checkpoint": {
                    "size": cp.size,
                    "head": cp.head,
                    "root": cp.root,
                    "signature_checked": key is not None,
                },
                "lines": [
                    {
                        "line": line.number,
                        "at": time_json(line.at),
                        "kind": line.kind,
                        "description": line.description,
                        "transaction": line.transaction,
                        "amount": _money(line.amount, line.amount_unit),
                        "units": _money(line.units, line.units_unit),
                    }
                    for line in st.lines
                ],
            },
        )
        return
    table = Table("line", "date", "kind", "amount", "units", "entry", title=st.creator)
    for col in table.columns[3:]:
        col.justify = "right"
    table.columns[1].no_wrap = True
    for line in st.lines:
        table.add_row(
            str(line.number),
            line.at.strftime("%Y-%m-%d %H:%M"),
            line.kind,
            _amount(line.amount, line.amount_unit, locale),
            _amount(line.units, line.units_unit, locale),
            str(line.transaction),
        )
    console().print(table)
    signed = "; its signature is the key's" if key is not None else ""
    click.echo(
        f"all {len(st.lines)} lines of {st.creator}'s statement check against the checkpoint "
        f"of {cp.size} entries (root {cp.root[:16]}…){signed}"
    )


@click.command()
@click.argument("key_file", type=click.Path(path_type=Path), metavar="KEYFILE")
@force_option
def keygen(key_file: Path, force: bool) -> None:
    """Make an Ed25519 key pair for signing checkpoints (the 'signing' extra).

    Writes the private key to KEYFILE (PKCS#8 PEM, readable by you alone) and
    the public key to KEYFILE.pub (PEM), which you publish for creators to give
    as --public-key. Existing files are refused unless --force.
    """
    ed25519, serialization = signing("making a signing key")
    public_file = key_file.with_name(key_file.name + ".pub")
    check_target(key_file, force)
    check_target(public_file, force)
    key = ed25519.Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    with new_file(public_file, force) as pub_tmp, new_file(key_file, force, 0o600) as key_tmp:
        key_tmp.write_bytes(private_pem)
        pub_tmp.write_bytes(public_pem)
    click.echo(f"private key written to {key_file} (keep it secret)")
    click.echo(f"public key written to {public_file}: {raw.hex()}")
