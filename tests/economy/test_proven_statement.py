"""A creator's statement exported with proofs checks offline against a checkpoint, and
changing anything with a number in it makes the check fail, naming the line."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from moneyed import Money

import giftledger as gl

JAN = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def books() -> tuple[gl.GiftEconomy, gl.Checkpoint]:
    """bob's gifts, a conversion to EUR, a paid and a failed withdrawal; carol's gift."""
    clock = gl.ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    rates = gl.RateTable.of(("USD", "EUR", "0.92", JAN, None))
    app = gl.GiftEconomy(gl.Ledger(clock=clock), gl.presets.load("tiktok-live"), rates=rates)
    app.open_viewer("alice", region="US", age=27)
    app.open_creator("bob", region="DE", payout_currency="EUR", age=31, verified=True)
    app.open_creator("carol", region="US", age=31, verified=True)
    for n in range(11):
        app.buy_coins("alice", pack=17500, channel="ios", key=f"order-{n}")
    for n, (gift, qty) in enumerate((("Lion", 1), ("Galaxy", 3), ("Rose", 99), ("Lion", 5))):
        app.send_gift("alice", "bob", gift, quantity=qty, key=f"gift-{n}")
    app.send_gift("alice", "carol", "Rose", quantity=5)
    clock.advance(timedelta(days=1))
    app.convert_diamonds("bob")
    paid = app.request_withdrawal("bob", Money("100", "EUR"))
    app.complete_withdrawal(paid)
    failed = app.request_withdrawal("bob", Money("100", "EUR"))
    app.fail_withdrawal(failed)
    return app, app.ledger.checkpoint()


def test_a_statement_verifies_offline_from_json(
    books: tuple[gl.GiftEconomy, gl.Checkpoint],
) -> None:
    app, cp = books
    proven = gl.prove_statement(app, "bob", cp)
    text, cp_text = proven.to_json(), cp.to_json()
    read = gl.verify_statement(text, cp_text)  # strings only: no ledger, no database
    assert read == proven
    kinds = [line.kind for line in read.lines]
    assert kinds == ["gift"] * 4 + ["conversion", "withdrawal", "withdrawal paid"] + [
        "withdrawal",
        "withdrawal failed",
    ]
    statement = app.statement("bob")
    money = [line for line in statement.lines if line.transaction]
    for shown, line in zip(money, read.lines, strict=True):
        assert shown.transaction == line.transaction
        if shown.amount is not None:
            assert gl.from_minor(line.amount, line.amount_unit) == shown.amount  # type: ignore[arg-type]
    # Other parties' entries are there only as hashes: no other creator's name in it.
    assert "carol" not in text


def _lines(text: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    data = json.loads(text)
    return data, data["lines"]


def _fails_at(data: dict[str, Any], cp: gl.Checkpoint, line: int) -> str:
    with pytest.raises(gl.ProofFailed) as err:
        gl.verify_statement(json.dumps(data), cp.to_json())
    assert err.value.line == line
    assert str(err.value).startswith(f"line {line} ")
    return str(err.value)


@pytest.mark.parametrize("field", ["amount", "units"])
@pytest.mark.parametrize("delta", [1, -1, 100])
def test_changing_any_amount_fails_naming_the_line(
    books: tuple[gl.GiftEconomy, gl.Checkpoint], field: str, delta: int
) -> None:
    app, cp = books
    text = gl.prove_statement(app, "bob", cp).to_json()
    checked = 0
    for i in range(len(_lines(text)[1])):
        data, lines = _lines(text)
        if lines[i][field] is None:
            continue
        lines[i][field]["minor"] += delta
        assert "but the entry moves" in _fails_at(data, cp, i + 1)
        checked += 1
    assert checked >= 4


def test_changing_a_unit_a_date_or_a_kind_fails_naming_the_line(
    books: tuple[gl.GiftEconomy, gl.Checkpoint],
) -> None:
    app, cp = books
    text = gl.prove_statement(app, "bob", cp).to_json()
    data, lines = _lines(text)
    lines[0]["amount"]["unit"] = "EUR"
    _fails_at(data, cp, 1)
    data, lines = _lines(text)
    lines[1]["at"] = "2026-03-01T09:00:00+00:00"
    assert "dated" in _fails_at(data, cp, 2)
    data, lines = _lines(text)
    lines[2]["kind"] = "conversion"
    _fails_at(data, cp, 3)
    data, lines = _lines(text)
    lines[6]["amount"] = {"minor": 10000, "unit": "EUR"}  # "withdrawal paid" shows none
    _fails_at(data, cp, 7)


def test_changing_an_entry_or_its_proof_fails_naming_the_line(
    books: tuple[gl.GiftEconomy, gl.Checkpoint],
) -> None:
    app, cp = books
    text = gl.prove_statement(app, "bob", cp).to_json()
    data, lines = _lines(text)
    entry = lines[3]["entries"][0]
    entry["text"] = entry["text"].replace("D", "C", 1)  # one posting on the other side
    assert "does not check" in _fails_at(data, cp, 4)
    data, lines = _lines(text)
    path = lines[4]["entries"][0]["path"]
    path[0] = ("1" if path[0][0] == "0" else "0") + path[0][1:]
    _fails_at(data, cp, 5)
    data, lines = _lines(text)
    lines[0]["entries"], lines[1]["entries"] = lines[1]["entries"], lines[0]["entries"]
    _fails_at(data, cp, 1)
    data, lines = _lines(text)
    lines[8]["entries"] = lines[8]["entries"][:1]  # the failed withdrawal without its hold
    _fails_at(data, cp, 9)


def test_another_creators_lines_do_not_pass_as_yours(
    books: tuple[gl.GiftEconomy, gl.Checkpoint],
) -> None:
    app, cp = books
    data = json.loads(gl.prove_statement(app, "carol", cp).to_json())
    data["creator"] = "bob"
    assert "carol" in _fails_at(data, cp, 1)


def test_the_checkpoint_must_be_the_statements(
    books: tuple[gl.GiftEconomy, gl.Checkpoint],
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    app, cp = books
    key = Ed25519PrivateKey.generate()
    signed = cp.sign(key)
    proven = gl.prove_statement(app, "bob", signed)
    gl.verify_statement(proven.to_json(), signed.to_json(), public_key=key.public_key())
    with pytest.raises(gl.ProofFailed, match="not signed"):
        gl.verify_statement(proven, cp, public_key=key.public_key())
    other = gl.Ledger()
    with pytest.raises(gl.ProofFailed, match="proven against"):
        gl.verify_statement(proven, other.checkpoint())


def test_a_statement_needs_a_checkpoint_holding_its_entries() -> None:
    app = gl.GiftEconomy(gl.Ledger(), gl.presets.load("tiktok-live"))
    app.open_viewer("ann", region="US", age=30)
    app.open_creator("bob", region="US", age=30)
    app.buy_coins("ann", pack=70, channel="web")
    early = app.ledger.checkpoint()
    app.send_gift("ann", "bob", "Rose")
    with pytest.raises(gl.InvalidArgument, match="after the checkpoint"):
        gl.prove_statement(app, "bob", early)
    assert (
        len(
            gl.verify_statement(
                gl.prove_statement(app, "bob").to_json(), app.ledger.checkpoint().to_json()
            ).lines
        )
        == 1
    )


def test_each_entry_carries_its_hash_formula_and_a_changed_one_fails(
    books: tuple[gl.GiftEconomy, gl.Checkpoint],
) -> None:
    app, cp = books
    text = gl.prove_statement(app, "bob", cp).to_json()
    data, lines = _lines(text)
    versions = {e["hash_version"] for line in lines for e in line["entries"]}
    assert versions == {3}  # new books write formula 3
    lines[2]["entries"][0]["hash_version"] = 1  # the same text, read under formula 1
    assert "does not check" in _fails_at(data, cp, 3)
    data, lines = _lines(text)
    lines[1]["entries"][0]["hash_version"] = 4
    assert "hash version 4" in _fails_at(data, cp, 2)
    data, lines = _lines(text)
    del lines[0]["entries"][0]["hash_version"]  # a file without it means formula 1
    _fails_at(data, cp, 1)


def test_a_formula_1_entry_proves_offline() -> None:
    # Entries written before hash formula 2 keep their formula: their lines are proven
    # under it (here the entries of a book are re-chained under formula 1 by hand).
    from giftledger._ledger.canonical import hash_of_text
    from giftledger._ledger.hashing import GENESIS_HASH, canonical

    book = gl.Ledger()
    book.open_account("assets:bank", "USD")
    book.open_account("equity", "USD", normal="credit")
    tx = book.transfer("assets:bank", "equity", "5.00")
    prev = tx.prev_hash  # the last ACCOUNT entry's
    assert prev != GENESIS_HASH
    old = hash_of_text(prev, canonical(tx), 1)
    new = hash_of_text(prev, canonical(tx), 2)
    assert new == tx.hash != old
    entry = gl.ProvenEntry(tx.id, prev, canonical(tx), (), 1)
    assert entry.hash == old


def test_a_keyed_entry_carries_its_record_and_a_changed_one_fails(
    books: tuple[gl.GiftEconomy, gl.Checkpoint],
) -> None:
    # Formula 3 hashes a keyed entry with its idempotency record: the statement carries
    # the record's fingerprint (a SHA-256 of the request, no secret) and result.
    from giftledger._ledger.canonical import parse_canonical

    app, cp = books
    text = gl.prove_statement(app, "bob", cp).to_json()
    data, lines = _lines(text)
    keyed = lines[0]["entries"][0]
    key = parse_canonical(keyed["text"]).key
    assert key == "gift-0"
    with app.ledger.store.read() as r:
        record = r.idempotency(key)
    assert record is not None
    assert (keyed["fingerprint"], keyed["result"]) == (record.fingerprint, None)
    unkeyed = lines[4]["entries"][0]  # the conversion
    assert parse_canonical(unkeyed["text"]).key is None
    assert "fingerprint" not in unkeyed
    assert "result" not in unkeyed

    def flipped(hex_: str) -> str:
        return hex_[:-1] + ("1" if hex_[-1] == "0" else "0")

    keyed["fingerprint"] = flipped(keyed["fingerprint"])
    assert "does not check" in _fails_at(data, cp, 1)
    data, lines = _lines(text)
    lines[0]["entries"][0]["result"] = "forged"
    assert "does not check" in _fails_at(data, cp, 1)
    data, lines = _lines(text)
    del lines[0]["entries"][0]["fingerprint"], lines[0]["entries"][0]["result"]
    assert "comes without the fingerprint" in _fails_at(data, cp, 1)
    data, lines = _lines(text)
    lines[4]["entries"][0].update(fingerprint=record.fingerprint, result=None)
    assert "comes with the fingerprint" in _fails_at(data, cp, 5)
    data, lines = _lines(text)
    lines[0]["entries"][0]["fingerprint"] = "XYZ"
    with pytest.raises(gl.InvalidArgument, match="64 lower-case hex digits"):
        gl.verify_statement(json.dumps(data), cp.to_json())


def test_a_book_of_formula_2_and_3_entries_proves_offline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A keyed gift written under formula 2 (by an earlier release: the formula of new
    # entries pinned) proves without a record; one written after it, under 3, with one.
    from giftledger._ledger import writes

    monkeypatch.setattr(writes, "HASH_VERSION", 2)
    app = gl.GiftEconomy(gl.Ledger(), gl.presets.load("tiktok-live"))
    app.open_viewer("ann", region="US", age=30)
    app.open_creator("bob", region="US", age=30)
    app.buy_coins("ann", pack=700, channel="web")
    app.send_gift("ann", "bob", "Rose", key="early")
    monkeypatch.setattr(writes, "HASH_VERSION", 3)
    app.send_gift("ann", "bob", "Rose", quantity=2, key="late")
    assert app.ledger.verify() == app.ledger.head[0]
    cp = app.ledger.checkpoint()
    text = gl.prove_statement(app, "bob", cp).to_json()
    read = gl.verify_statement(text, cp.to_json())
    entries = [line.entries[0] for line in read.lines]
    assert [(e.hash_version, e.fingerprint is not None) for e in entries] == [
        (2, False),
        (3, True),
    ]
    data, lines = _lines(text)
    lines[0]["entries"][0].update(fingerprint=entries[1].fingerprint, result=None)
    assert "formula 2 does not cover" in _fails_at(data, cp, 1)


# -- a statement's lines: each entry once, oldest first ------------------------------------


def _renumbered(data: dict[str, Any]) -> dict[str, Any]:
    for n, line in enumerate(data["lines"], 1):
        line["line"] = n
    return data


def test_a_repeated_line_fails_naming_it(books: tuple[gl.GiftEconomy, gl.Checkpoint]) -> None:
    """The same entry twice would count a gift (or a withdrawal) twice."""
    app, cp = books
    text = gl.prove_statement(app, "bob", cp).to_json()
    data, lines = _lines(text)
    lines.append(json.loads(json.dumps(lines[0])))
    last = len(lines)
    assert "repeats line 1" in _fails_at(_renumbered(data), cp, last)
    data, lines = _lines(text)
    lines.insert(1, json.loads(json.dumps(lines[0])))  # next to itself: not "out of order"
    assert "repeats line 1" in _fails_at(_renumbered(data), cp, 2)


def test_a_line_carrying_another_lines_entry_too_fails_naming_it(
    books: tuple[gl.GiftEconomy, gl.Checkpoint],
) -> None:
    """A gift line proves one entry: a second one appended (another line's, genuinely
    proven) would let one line stand for two entries."""
    app, cp = books
    data, lines = _lines(gl.prove_statement(app, "bob", cp).to_json())
    lines[0]["entries"].append(json.loads(json.dumps(lines[1]["entries"][0])))
    assert "proves 1 entry, this one carries 2" in _fails_at(data, cp, 1)


@pytest.mark.parametrize("how", ["swap", "reverse"])
def test_lines_out_of_order_fail_naming_the_line(
    books: tuple[gl.GiftEconomy, gl.Checkpoint], how: str
) -> None:
    app, cp = books
    data, lines = _lines(gl.prove_statement(app, "bob", cp).to_json())
    if how == "swap":
        lines[0], lines[1] = lines[1], lines[0]  # two gifts of the same instant: by entry id
    else:
        lines.reverse()  # the later day first
    why = _fails_at(_renumbered(data), cp, 2)
    assert "out of order" in why
    assert "oldest first" in why


def test_a_statement_with_a_line_left_out_still_verifies(
    books: tuple[gl.GiftEconomy, gl.Checkpoint],
) -> None:
    """What the check does not prove (docs/verify.md says so): that no entry of the
    creator is missing. Each line it keeps is still proven."""
    app, cp = books
    data, lines = _lines(gl.prove_statement(app, "bob", cp).to_json())
    del lines[0]
    assert len(gl.verify_statement(json.dumps(_renumbered(data)), cp.to_json()).lines) == 8


# -- hostile entry text: refused naming the line, never a raw Python error -----------------


def _hostile(good: str, how: str) -> str:
    id = good.split("|")[0]
    parts = good.split("|")
    if how == "effective 30 digits":
        parts[2] = "9" * 30
        return "|".join(parts)
    if how == "effective -20 digits":
        parts[2] = "-" + "9" * 20
        return "|".join(parts)
    if how == "expiry 25 digits":
        return f"{id}|note|0|0|-|0:|0||rNone|hNone|x{'9' * 25}|"
    if how == "rate 1e5000":
        return f"{id}|note|0|0|-|0:|0||rNone|hNone|x-|A/B=1e5000"
    if how == "rate 1e400000000":  # would take Python minutes and gigabytes to build
        return f"{id}|note|0|0|-|0:|0||rNone|hNone|x-|A/B=1e400000000"
    assert how == "memo lone surrogate"
    return f"{id}|note|0|0|-|1:\ud800|0|"


@pytest.mark.parametrize(
    "how",
    [
        "effective 30 digits",
        "effective -20 digits",
        "expiry 25 digits",
        "rate 1e5000",
        "rate 1e400000000",
        "memo lone surrogate",
    ],
)
def test_hostile_entry_text_fails_naming_the_line(
    books: tuple[gl.GiftEconomy, gl.Checkpoint], how: str
) -> None:
    app, cp = books
    data, lines = _lines(gl.prove_statement(app, "bob", cp).to_json())
    entry = lines[4]["entries"][0]  # the conversion: no key, so its hash is computed
    assert "fingerprint" not in entry
    entry["text"] = _hostile(entry["text"], how)
    assert "does not check" in _fails_at(data, cp, 5)


@pytest.mark.parametrize("value", ["\ud800", "A" * 64, "0" * 63, 5])
def test_a_prev_hash_that_is_no_hash_is_refused_naming_the_line(
    books: tuple[gl.GiftEconomy, gl.Checkpoint], value: object
) -> None:
    app, cp = books
    data, lines = _lines(gl.prove_statement(app, "bob", cp).to_json())
    lines[2]["entries"][0]["prev_hash"] = value
    with pytest.raises(gl.InvalidArgument, match=r"line 3.s entry prev_hash .* 64 lower-case hex"):
        gl.verify_statement(json.dumps(data), cp.to_json())
