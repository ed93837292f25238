"""JSON Lines export and restore: exact on every store, and nothing forged gets in."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

import giftledger as gl
from giftledger.testing import chain_scenarios, ledgers, run_chain

from ..ledger.helpers import rehashed
from .helpers import demo_book, hostile_book

GENESIS = "0" * 64


@pytest.fixture
def target(gl_store_url: str) -> Iterator[gl.Ledger]:
    """An empty ledger on each store in turn (PostgreSQL when configured)."""
    book = gl.Ledger.open(gl_store_url)
    yield book
    book.close()


def _state(book: gl.Ledger) -> tuple[object, ...]:
    """Everything a restore must reproduce."""
    entries = [(t, t.reversed_by) for t in book.transactions()]
    with book.store.read() as r:
        keys = [r.idempotency(t.key) for t in r.transactions() if t.key]
    return (
        book.head,
        entries,
        book.accounts(),
        book.holds(pending_only=False),
        book.balances(),
        book.trial_balance(),
        keys,
    )


def _assert_empty(book: gl.Ledger) -> None:
    assert book.head == (0, GENESIS)
    assert book.accounts() == ()


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _write(path: Path, objs: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(o) + "\n" for o in objs))


def test_hostile_books_restore_exactly_on_every_store(target: gl.Ledger, tmp_path: Path) -> None:
    book = hostile_book()
    out = tmp_path / "books.jsonl"
    seen: list[tuple[int, int]] = []
    n = gl.export_jsonl(book, out, progress=lambda done, total: seen.append((done, total)))
    assert n == book.head[0]
    assert seen[-1] == (n, n)
    assert gl.import_books(target, out, expect_head=book.head[1]) == n
    assert target.verify() == n
    assert _state(target) == _state(book)
    # The restored ledger keeps working: a key replays, a pending hold posts.
    seg = 'quote"d'
    replay = target.transfer(
        "world:USD",
        f"users:{seg}:usd",
        "12.34",
        key=f"k0-{seg}",
        memo=f'memo "{seg}"\nline two\ttab',
        metadata={"who": seg, "n": 0, "flag": False, "none": None},
    )
    assert replay == book.find(f"k0-{seg}")
    with pytest.raises(gl.DuplicateKeyConflict):
        target.transfer("users:Q", "world:USD", "9.99", key=f"k0-{seg}")
    pending = target.holds()[0]
    target.post_hold(pending)
    assert target.verify() == n + 1


def test_demo_restores_and_its_economy_reads_the_same(target: gl.Ledger, tmp_path: Path) -> None:
    book = demo_book(tmp_path)
    out = tmp_path / "demo.jsonl"
    gl.export_jsonl(book, out)
    gl.import_books(target, out)
    assert target.verify() == book.head[0]
    assert _state(target) == _state(book)
    econ = gl.presets.load("tiktok-live")
    original, restored = gl.GiftEconomy(book, econ), gl.GiftEconomy(target, econ)
    assert restored.explain("bob") == original.explain("bob")
    assert (
        restored.statement("bob", locale="de_DE").render()
        == original.statement("bob", locale="de_DE").render()
    )
    assert target.head == book.head  # reading wrote nothing


def test_export_is_deterministic(tmp_path: Path) -> None:
    book = hostile_book()
    gl.export_jsonl(book, tmp_path / "a.jsonl")
    gl.export_jsonl(book, tmp_path / "b.jsonl")
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert (tmp_path / "a.jsonl").read_bytes().isascii()


@settings(max_examples=6, deadline=None)
@given(scenario=chain_scenarios(gl.presets.load("twitch-bits"), max_operations=15))
def test_random_chains_restore_exactly(scenario: object) -> None:
    import tempfile

    econ = gl.presets.load("twitch-bits")
    with run_chain(econ, scenario) as run, tempfile.TemporaryDirectory() as tmp:  # type: ignore[arg-type]
        out = Path(tmp) / "chain.jsonl"
        gl.export_jsonl(run.book, out)
        again = gl.Ledger()
        gl.import_books(again, out, expect_head=run.book.head[1])
        assert _state(again) == _state(run.book)


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(book=ledgers(unit_codes=("USD", "COIN", "KWD")))
def test_random_ledgers_restore_exactly(
    tmp_path_factory: pytest.TempPathFactory, book: gl.Ledger
) -> None:
    out = tmp_path_factory.mktemp("j") / "r.jsonl"
    gl.export_jsonl(book, out)
    again = gl.Ledger()
    gl.import_books(again, out)
    assert _state(again) == _state(book)


# -- refusals: each names the line, and the target stays empty ------------------------------


@pytest.fixture
def export(tmp_path: Path) -> tuple[gl.Ledger, Path, list[dict[str, object]]]:
    book = hostile_book()
    out = tmp_path / "books.jsonl"
    gl.export_jsonl(book, out)
    return book, out, _lines(out)


def _entry_line(objs: list[dict[str, object]], entry_id: int) -> int:
    return next(i for i, o in enumerate(objs) if o["type"] == "entry" and o["id"] == entry_id)


def _refused(target: gl.Ledger, path: Path, match: str) -> gl.RestoreRefused:
    with pytest.raises(gl.RestoreRefused, match=match) as info:
        gl.import_books(target, path)
    _assert_empty(target)
    return info.value


def test_a_changed_amount_is_refused(target: gl.Ledger, export, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, _, objs = export
    # The first entry from 20 on that moves money (ACCOUNT and KEY entries move none).
    entry = next(
        o["id"]
        for o in objs
        if o["type"] == "entry" and o["id"] >= 20 and len(o["postings"]) >= 2  # type: ignore[arg-type, operator]
    )
    i = _entry_line(objs, entry)  # type: ignore[arg-type]
    postings = objs[i]["postings"]
    assert isinstance(postings, list)
    postings[0][2] += 1
    postings[1][2] += 1  # still balanced: only the hash gives it away
    _write(tmp_path / "x.jsonl", objs)
    err = _refused(target, tmp_path / "x.jsonl", f"entry {entry}: does not match its hash")
    assert (err.line, err.transaction_id) == (i + 1, entry)


def test_a_chain_record_injected_in_metadata_is_refused(
    target: gl.Ledger,
    export,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    _, _, objs = export
    i = _entry_line(objs, 3)
    meta = objs[i]["metadata"]
    assert isinstance(meta, dict)
    meta["gl.op"] = "withdrawal"
    _write(tmp_path / "x.jsonl", objs)
    _refused(target, tmp_path / "x.jsonl", f"line {i + 1}: entry 3: does not match its hash")


def test_reordered_lines_are_refused(target: gl.Ledger, export, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, _, objs = export
    i, j = _entry_line(objs, 5), _entry_line(objs, 6)
    objs[i], objs[j] = objs[j], objs[i]
    _write(tmp_path / "x.jsonl", objs)
    _refused(target, tmp_path / "x.jsonl", f"line {i + 1}: entry 6: expected entry 5 next")


def test_a_deleted_entry_is_refused(target: gl.Ledger, export, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, _, objs = export
    del objs[_entry_line(objs, 7)]
    _write(tmp_path / "x.jsonl", objs)
    _refused(target, tmp_path / "x.jsonl", "expected entry 7 next, found entry 8")


def test_an_export_cut_short_is_refused(target: gl.Ledger, export, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, _, objs = export
    _write(tmp_path / "x.jsonl", objs[:-1])
    _refused(target, tmp_path / "x.jsonl", "without its end line: it was cut short")
    last = max(i for i, o in enumerate(objs) if o["type"] == "entry")
    _write(tmp_path / "y.jsonl", [*objs[:last], objs[-1]])  # the last entry gone
    _refused(target, tmp_path / "y.jsonl", "end line")


def test_a_consistent_forgery_is_refused_against_a_trusted_head(
    target: gl.Ledger,
    export,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    # Re-hashing the whole chain after an edit makes a self-consistent file; only a
    # head hash from elsewhere tells it apart.
    import attrs

    from giftledger._exports.records import entry_from_json, entry_json

    book, _, objs = export
    records = {
        o["key"]: (o["fingerprint"], o["result"]) for o in objs if o["type"] == "idempotency"
    }
    # a posted entry's memo (an account entry's memo is its definition, checked apart)
    target_id = next(o["id"] for o in objs if o["type"] == "entry" and o["kind"] == "post")
    lines = [n for n, o in enumerate(objs) if o["type"] == "entry"]
    entries = [entry_from_json(objs[n], n + 1) for n in lines]
    entries = [attrs.evolve(tx, memo="forged") if tx.id == target_id else tx for tx in entries]
    for n, tx in zip(lines, rehashed(entries, GENESIS, records), strict=True):  # type: ignore[arg-type]
        objs[n] = entry_json(tx)
    objs[0]["head"] = objs[-1]["head"] = tx.hash
    _write(tmp_path / "x.jsonl", objs)
    with pytest.raises(gl.RestoreRefused, match="not in the expected head"):
        gl.import_books(target, tmp_path / "x.jsonl", expect_head=book.head[1])
    _assert_empty(target)


@pytest.mark.parametrize("keyed", [False, True], ids=["keyless-entry", "other-key"])
def test_a_forged_idempotency_record_is_refused(
    target: gl.Ledger,
    export,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    keyed: bool,
) -> None:
    # A caller's key pointed at an entry that was not written under it: the next request
    # under that key would replay that entry and silently do nothing. The end line's
    # count is fixed up, so only the record itself gives it away.
    _, _, objs = export
    entries = [o for o in objs if o["type"] == "entry"]
    named = next(o for o in entries if (o["key"] is not None) is keyed)
    record = {
        "type": "idempotency",
        "key": "~payout-next",  # sorts after the other keys, as the export orders them
        "fingerprint": "0" * 64,
        "transaction_id": named["id"],
        "result": None,
        "error_type": None,
        "error_message": None,
    }
    last = max(i for i, o in enumerate(objs) if o["type"] == "idempotency")
    objs.insert(last + 1, record)
    objs[-1]["lines"] = len(objs)
    _write(tmp_path / "x.jsonl", objs)
    err = _refused(target, tmp_path / "x.jsonl", "'~payout-next' names entry")
    assert err.line == last + 2


def _keyed(objs: list[dict[str, object]]) -> tuple[int, int, int]:
    """A keyed entry of formula 3: its id, its line's index and its record's."""
    entry = next(o for o in objs if o["type"] == "entry" and o["key"] is not None and o["id"] >= 20)
    assert entry["hash_version"] == 3
    record = next(
        i for i, o in enumerate(objs) if o["type"] == "idempotency" and o["key"] == entry["key"]
    )
    return entry["id"], _entry_line(objs, entry["id"]), record  # type: ignore[return-value]


def test_keyed_entries_restore_with_their_records(
    target: gl.Ledger, export, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    book, out, objs = export
    entry, _, record = _keyed(objs)
    assert gl.import_books(target, out) == book.head[0]
    assert target.verify() == book.head[0]
    with target.store.read() as r:
        restored = r.idempotency(objs[record]["key"])  # type: ignore[arg-type]
    assert restored is not None
    assert (restored.fingerprint, restored.transaction_id) == (
        objs[record]["fingerprint"],
        entry,
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("fingerprint", "0" * 64), ("result", "forged")],
)
def test_a_changed_record_of_a_keyed_entry_is_refused(
    target: gl.Ledger,
    export,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    field: str,
    value: str,
) -> None:
    _, _, objs = export
    entry, line, record = _keyed(objs)
    objs[record][field] = value
    _write(tmp_path / "x.jsonl", objs)
    err = _refused(
        target, tmp_path / "x.jsonl", f"entry {entry}: does not match its hash with the record"
    )
    assert (err.line, err.transaction_id) == (line + 1, entry)
    assert f"(line {record + 1})" in str(err)


def test_a_keyed_entry_without_its_record_is_refused(
    target: gl.Ledger,
    export,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    _, _, objs = export
    entry, line, record = _keyed(objs)
    del objs[record]
    objs[-1]["lines"] = len(objs)
    _write(tmp_path / "x.jsonl", objs)
    err = _refused(target, tmp_path / "x.jsonl", "no record of it came")
    assert (err.line, err.transaction_id) == (line + 1, entry)


def test_a_ledger_that_is_not_empty_is_refused(export, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    book, out, _ = export
    with pytest.raises(gl.RestoreRefused, match="not empty"):
        gl.import_books(book, out)
    fresh = gl.Ledger()
    fresh.open_account("assets:x", "USD")
    with pytest.raises(gl.RestoreRefused, match="not empty"):
        gl.import_books(fresh, out)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda objs: objs.insert(1, "not json"), "line 2: not a JSON object"),
        (lambda objs: objs[0].update(version=2), "version 2"),
        (lambda objs: objs[0].update(format="other"), "not a giftledger JSON Lines export"),
        (lambda objs: objs[1].update(exponent=5), "exponent 5"),
        (lambda objs: objs[-2].update(status="voided"), "hold"),
        (lambda objs: objs.insert(2, {"type": "mystery"}), "unknown line type"),
    ],
)
def test_malformed_lines_are_refused(
    target: gl.Ledger,
    export,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    edit,  # type: ignore[no-untyped-def]
    match: str,
) -> None:
    _, _, objs = export
    edit(objs)
    path = tmp_path / "x.jsonl"
    path.write_text("".join((o if isinstance(o, str) else json.dumps(o)) + "\n" for o in objs))
    _refused(target, path, match)


def test_an_unknown_entry_field_is_refused(target: gl.Ledger, export, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, _, objs = export
    objs[_entry_line(objs, 2)]["amount_override"] = 5
    _write(tmp_path / "x.jsonl", objs)
    _refused(target, tmp_path / "x.jsonl", "unknown fields")


def test_a_failed_export_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = hostile_book()
    out = tmp_path / "books.jsonl"
    out.write_text("old\n")

    class Boom(Exception):
        pass

    def on_progress(done: int, total: int) -> None:
        raise Boom

    monkeypatch.setattr("giftledger._exports.jsonl.PROGRESS_EVERY", 3)  # fail mid-stream
    with pytest.raises(Boom):
        gl.export_jsonl(book, out, progress=on_progress)
    assert out.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["books.jsonl"]


def test_export_refuses_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(gl.InvalidArgument, match="does not exist"):
        gl.export_jsonl(gl.Ledger(), tmp_path / "nope" / "x.jsonl")
    with pytest.raises(gl.RestoreRefused, match="no export file"):
        gl.import_books(gl.Ledger(), tmp_path / "missing.jsonl")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("min_balance", -100000),  # an overdraft the journal never allowed
        ("metadata", {"seg": "-lead", "gl.age": 30}),
        ("normal", "credit"),
        ("closed", True),
    ],
)
def test_an_edited_account_line_is_refused_naming_it(
    target: gl.Ledger,
    export,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    field: str,
    value: object,
) -> None:
    """An account line must be what the journal's ACCOUNT entries define: an edited
    rule, metadata, side or state restores no account the journal does not state."""
    book, _, objs = export
    n = next(i for i, o in enumerate(objs) if o.get("name") == "users:-lead:eur")
    objs[n][field] = value
    _write(tmp_path / "x.jsonl", objs)
    with pytest.raises(gl.RestoreRefused, match=f"line {n + 1}: account 'users:-lead:eur'"):
        gl.import_books(target, tmp_path / "x.jsonl", expect_head=book.head[1])
    _assert_empty(target)


def test_an_entry_posting_to_a_closed_account_is_refused(
    target: gl.Ledger,
    export,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    """A forged entry, hashed onto the chain, that posts to an account the journal
    closed before it is refused at its line, even without a trusted head."""
    import attrs

    from giftledger._exports.records import entry_from_json, entry_json
    from giftledger._ledger.hashing import entry_hash

    _, _, objs = export
    entries = [n for n, o in enumerate(objs) if o["type"] == "entry"]
    last = entry_from_json(objs[entries[-1]], entries[-1] + 1)
    assert last.kind is gl.EntryKind.ACCOUNT
    assert '"closed":true' in last.memo
    assert '"name":"users:empty"' in last.memo
    usd = next(o["name"] for o in objs if o.get("unit") == "USD" and not o.get("closed"))
    forged = attrs.evolve(
        last,
        id=last.id + 1,
        kind=gl.EntryKind.POST,
        memo="",
        metadata=(),
        prev_hash=last.hash,
        postings=(
            gl.Posting("users:empty", gl.Side.DEBIT, 100, "USD"),
            gl.Posting(usd, gl.Side.CREDIT, 100, "USD"),
        ),
    )
    forged = attrs.evolve(forged, hash=entry_hash(forged, last.hash))
    objs.insert(entries[-1] + 1, entry_json(forged))
    objs[0]["head"] = objs[-1]["head"] = forged.hash
    if "count" in objs[0]:
        objs[0]["count"] = objs[-1]["count"] = forged.id
    _write(tmp_path / "x.jsonl", objs)
    refused = _refused(
        target,
        tmp_path / "x.jsonl",
        f"entry {forged.id}: posting 0 names account 'users:empty', which entry {last.id} closed",
    )
    assert refused.transaction_id == forged.id
