"""Checkpoints and RFC 6962 proofs: genuine proofs verify, changed ones never do.

The tree is checked against a plain recursive reading of RFC 6962 §2.1; proofs
from ledgers of random sizes are checked for every entry, then every proof whose
entry, path or checkpoint changed by one byte must be refused.
"""

from __future__ import annotations

import json
from datetime import timedelta

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import giftledger as gl
from giftledger._ledger.merkle import (
    EMPTY_ROOT,
    CompactRange,
    check_consistency,
    consistency_path,
    inclusion_path,
    leaf_hash,
    node_hash,
    root_from_inclusion,
)
from giftledger._ledger.proofs import entry_leaf

from .helpers import rehashed


def mth(leaves: list[bytes]) -> bytes:
    """RFC 6962 §2.1 MTH, written as the RFC reads."""
    n = len(leaves)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def rfc_path(m: int, leaves: list[bytes]) -> list[bytes]:
    """RFC 6962 §2.1.1 PATH(m, D[n])."""
    n = len(leaves)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*rfc_path(m, leaves[:k]), mth(leaves[k:])]
    return [*rfc_path(m - k, leaves[k:]), mth(leaves[:k])]


def rfc_subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    """RFC 6962 §2.1.2 SUBPROOF(m, D[n], b)."""
    n = len(leaves)
    if m == n:
        return [] if whole else [mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*rfc_subproof(m, leaves[:k], whole), mth(leaves[k:])]
    return [*rfc_subproof(m - k, leaves[k:], False), mth(leaves[:k])]


def test_the_tree_is_rfc_6962s_for_every_size_up_to_70() -> None:
    for n in range(0, 71):
        leaves = [leaf_hash(i.to_bytes(2, "big")) for i in range(n)]
        r = CompactRange()
        r.extend(leaves)
        assert r.root() == mth(leaves)
        subtree = lambda a, b, leaves=leaves: mth(leaves[a:b])  # noqa: E731
        for m in range(n):
            path = inclusion_path(m, n, subtree)
            assert path == rfc_path(m, leaves)
            assert root_from_inclusion(m, n, leaves[m], path) == mth(leaves)
        for old in range(1, n + 1):
            path = consistency_path(old, n, subtree)
            assert path == rfc_subproof(old, leaves, True)
            assert check_consistency(old, n, mth(leaves[:old]), mth(leaves), path)


def test_a_leaf_cannot_pass_for_a_node() -> None:
    # The 0x00 / 0x01 prefixes: a node's two children, as one leaf, hash otherwise.
    a, b = leaf_hash(b"a"), leaf_hash(b"b")
    assert leaf_hash(a + b) != node_hash(a, b)


#: The entries ``_books`` starts with: the definitions of the two accounts it opens.
_OPENED = 2


def _books(n: int, odd: int | None = None) -> gl.Ledger:
    """Two accounts (entries 1 and 2 journal them), then ``n`` transfers; the one at
    index ``odd`` (if any) has another memo."""
    clock = gl.ManualClock()
    book = gl.Ledger(clock=clock)
    book.open_account("a", "USD")
    book.open_account("b", "USD", normal="credit")
    for i in range(n):
        clock.advance(timedelta(seconds=1))
        book.transfer("a", "b", i % 7 + 1, memo=f"entry {i}" if i != odd else "other")
    return book


def _flip(hex_text: str, at: int) -> str:
    """``hex_text`` with the hex digit at ``at`` changed (one byte of its JSON)."""
    digit = hex_text[at]
    return hex_text[:at] + ("0" if digit != "0" else "1") + hex_text[at + 1 :]


def _refused(check: object, *args: object) -> bool:
    try:
        check(*args)  # type: ignore[operator]
    except gl.GiftLedgerError:
        return True
    return False


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 40), data=st.data())
def test_every_genuine_inclusion_proof_verifies_and_every_changed_one_is_refused(
    n: int, data: st.DataObject
) -> None:
    book = _books(n)
    cp = book.checkpoint()
    with book.store.read() as r:
        leaves = [entry_leaf(tx.hash) for tx in r.transactions()]
    assert cp.root == mth(leaves).hex()
    entry = data.draw(st.integers(1, n), label="entry")
    proof = book.inclusion_proof(entry, cp)
    gl.verify_inclusion(proof, cp)
    gl.verify_inclusion(proof.to_json(), cp.to_json())
    assert proof.leaf == book.transaction(entry).hash
    # The entry: another hash, or another place.
    at = data.draw(st.integers(0, 63), label="leaf byte")
    assert _refused(gl.verify_inclusion, attrs.evolve(proof, leaf=_flip(proof.leaf, at)), cp)
    for other in (entry - 1, entry + 1):
        if other >= 0:
            assert _refused(gl.verify_inclusion, attrs.evolve(proof, entry=other), cp)
    # The path: any hash of it changed, one dropped or one added.
    if proof.path:
        i = data.draw(st.integers(0, len(proof.path) - 1), label="path hash")
        path = list(proof.path)
        path[i] = _flip(path[i], at)
        assert _refused(gl.verify_inclusion, attrs.evolve(proof, path=tuple(path)), cp)
        assert _refused(gl.verify_inclusion, attrs.evolve(proof, path=proof.path[:-1]), cp)
    assert _refused(gl.verify_inclusion, attrs.evolve(proof, path=(*proof.path, "0" * 64)), cp)
    # The checkpoint: every byte of its JSON.
    text = cp.to_json()
    for i in range(len(text)):
        for repl in {"0", "1", "f", " ", '"', "9"} - {text[i]}:
            changed = text[:i] + repl + text[i + 1 :]
            assert _refused(gl.verify_inclusion, proof.to_json(), changed), (i, repl)
    # And every byte of the proof's JSON.
    ptext = proof.to_json()
    for i in range(len(ptext)):
        repl = "1" if ptext[i] != "1" else "2"
        assert _refused(gl.verify_inclusion, ptext[:i] + repl + ptext[i + 1 :], text), i


@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(0, 40), min_size=2, max_size=2), data=st.data())
def test_every_genuine_consistency_proof_verifies_and_every_changed_one_is_refused(
    sizes: list[int], data: st.DataObject
) -> None:
    old_size, new_size = sorted(sizes)
    book = _books(old_size)
    old = book.checkpoint()
    for i in range(new_size - old_size):
        book.transfer("a", "b", i + 1)
    new = book.checkpoint()
    proof = book.consistency_proof(old, new)
    gl.verify_consistency(proof, old, new)
    gl.verify_consistency(proof.to_json(), old.to_json(), new.to_json())
    if proof.path:
        i = data.draw(st.integers(0, len(proof.path) - 1))
        path = list(proof.path)
        path[i] = _flip(path[i], data.draw(st.integers(0, 63)))
        assert _refused(gl.verify_consistency, attrs.evolve(proof, path=tuple(path)), old, new)
    for text, which in ((old.to_json(), "old"), (new.to_json(), "new")):
        for i in range(len(text)):
            changed = text[:i] + ("1" if text[i] != "1" else "2") + text[i + 1 :]
            args = (changed, new.to_json()) if which == "old" else (old.to_json(), changed)
            if old_size == 0 and which == "old" and _empty_but_same(changed):
                continue
            assert _refused(gl.verify_consistency, proof.to_json(), *args), (which, i)
    ptext = proof.to_json()
    for i in range(len(ptext)):
        changed = ptext[:i] + ("1" if ptext[i] != "1" else "2") + ptext[i + 1 :]
        assert _refused(gl.verify_consistency, changed, old, new), i


def _empty_but_same(text: str) -> bool:
    try:
        return gl.Checkpoint.from_json(text).size == 0
    except gl.GiftLedgerError:
        return False


def test_a_rewritten_entry_breaks_the_consistency_of_later_checkpoints() -> None:
    book = _books(9)
    old = book.checkpoint()
    other = _books(9, odd=2)  # entry 3 reads otherwise
    its_old = other.checkpoint()
    other.transfer("a", "b", 1)
    later = other.checkpoint()
    proof = other.consistency_proof(its_old, later)
    gl.verify_consistency(proof, its_old, later)
    assert _refused(gl.verify_consistency, proof, old, later)
    with pytest.raises(gl.ChainBroken, match="another ledger's"):
        other.consistency_proof(old)


def test_a_checkpoint_reads_back_and_knows_its_parts() -> None:
    book = _books(5)
    cp = book.checkpoint()
    data = json.loads(cp.to_json())
    assert data["version"] == 1
    assert data["type"] == "checkpoint"
    assert (data["size"], data["head"]) == (_OPENED + 5, book.head[1])
    assert gl.Checkpoint.from_json(cp.to_json()) == cp
    with pytest.raises(gl.InvalidArgument, match="version"):
        gl.Checkpoint.from_json(cp.to_json().replace('"version":1', '"version":2'))
    with pytest.raises(gl.ProofFailed, match="head"):
        attrs.evolve(cp, head=book.transaction(4).hash)
    with pytest.raises(gl.InvalidArgument, match="hex"):
        attrs.evolve(cp, root=cp.root.upper())


def test_a_checkpoint_costs_only_the_entries_since_the_last_one() -> None:
    book = _books(600)
    first = book.checkpoint()
    book.transfer("a", "b", 1)
    calls = []
    reader = book.store.read

    def counting():  # type: ignore[no-untyped-def]
        ctx = reader()

        class Wrap:
            def __enter__(self):  # type: ignore[no-untyped-def]
                r = ctx.__enter__()
                real = r.transactions

                def transactions(start=1, stop=None):  # type: ignore[no-untyped-def]
                    calls.append((start, stop))
                    return real(start, stop)

                r.transactions = transactions
                return r

            def __exit__(self, *exc):  # type: ignore[no-untyped-def]
                return ctx.__exit__(*exc)

        return Wrap()

    book.store.read = counting  # type: ignore[method-assign]
    second = book.checkpoint()
    assert calls[0] == (_OPENED + 601, _OPENED + 602)  # only the new entry is read and hashed
    book.store.read = reader  # type: ignore[method-assign]
    # ...and it is the checkpoint a fresh ledger computes from every entry.
    assert gl.Ledger(book.store).checkpoint() == second
    gl.verify_consistency(book.consistency_proof(first, second), first, second)


def test_verify_since_passes_on_books_that_only_grew() -> None:
    book = _books(12)
    cp = book.checkpoint()
    book.transfer("a", "b", 3)
    assert book.verify(since=cp) == _OPENED + 13
    assert book.verify(since=book.checkpoint()) == _OPENED + 13
    with pytest.raises(gl.InvalidArgument, match="Checkpoint"):
        book.verify(since=cp.to_json())  # type: ignore[arg-type]


def _rehash_from(store: gl.MemoryStore, book: gl.Ledger, first: int, memo: str) -> None:
    """Rewrite entry ``first``'s memo and hash it and every later entry again."""
    entries = [book.transaction(id) for id in range(first, book.head[0] + 1)]
    entries[0] = attrs.evolve(entries[0], memo=memo)
    for tx in rehashed(entries, entries[0].prev_hash):
        store._tamper(tx.id, memo=tx.memo, prev_hash=tx.prev_hash, hash=tx.hash)
    store._hash = tx.hash


def test_verify_since_reports_a_rehashed_rewrite_on_the_memory_store() -> None:
    book = _books(11)
    store = book.store
    assert isinstance(store, gl.MemoryStore)
    cp = book.checkpoint()
    _rehash_from(store, book, 3, "rewritten")
    assert book.verify() == _OPENED + 11  # the chain itself holds: every entry was hashed again
    with pytest.raises(gl.ChainBroken, match="checkpoint's head") as err:
        book.verify(since=cp)
    # The head path holds the roots of entries 1-8 and 9-12: the rewrite is in the first.
    assert cp.size == _OPENED + 11 == 13
    assert "an entry at or before 8 was rewritten" in str(err.value)
    assert err.value.transaction_id == 8
    # A proof from the rewritten books does not verify against the old checkpoint.
    with pytest.raises(gl.ChainBroken, match="another ledger's, or an entry changed"):
        book.inclusion_proof(5, cp)


def test_verify_since_reports_a_truncation_on_the_memory_store() -> None:
    book = _books(8)
    for i in range(3):
        book.note(memo=f"note {i}")  # moves nothing: no totals to fix up
    store = book.store
    assert isinstance(store, gl.MemoryStore)
    cp = book.checkpoint()
    last = cp.size - 2  # the last two notes go
    assert last == _OPENED + 9
    assert {book.transaction(id).kind for id in (last + 1, last + 2)} == {gl.EntryKind.NOTE}
    for _ in range(2):
        store._journal.pop()
    store._count = last
    store._hash = book.transaction(last).hash
    assert book.verify() == last
    with pytest.raises(gl.ChainBroken, match=f"entries {last + 1} to {last + 2} were removed") as e:
        book.verify(since=cp)
    assert e.value.transaction_id == last + 1


def test_a_signed_checkpoint_verifies_with_its_key_only() -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    book = _books(4)
    cp = book.checkpoint().sign(key)
    read = gl.Checkpoint.from_json(cp.to_json())
    read.verify_signature(key.public_key())
    from cryptography.hazmat.primitives import serialization

    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    read.verify_signature(raw)
    with pytest.raises(gl.ProofFailed, match="not this key's"):
        read.verify_signature(other.public_key())
    book.transfer("a", "b", 1)
    later = book.checkpoint()
    forged = attrs.evolve(later, signature=cp.signature)  # an old signature on new books
    with pytest.raises(gl.ProofFailed, match="not this key's"):
        forged.verify_signature(key.public_key())
    with pytest.raises(gl.ProofFailed, match="not signed"):
        later.verify_signature(key.public_key())
    assert cp.unsigned().signature is None


def test_signing_without_the_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_cryptography(name: str, *args: object, **kwargs: object) -> object:
        if name.startswith("cryptography"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    cp = _books(1).checkpoint()
    monkeypatch.setattr(builtins, "__import__", no_cryptography)
    with pytest.raises(gl.MissingExtra, match=r"giftledger\[signing\]"):
        cp.sign(b"\x01" * 32)
    with pytest.raises(ImportError):  # MissingExtra is an ImportError too
        cp.verify_signature(b"\x01" * 32)


def test_proofs_refuse_entries_outside_the_checkpoint() -> None:
    book = _books(3)
    cp = book.checkpoint()
    book.transfer("a", "b", 1)
    for entry in (0, cp.size + 1, True, "1"):
        with pytest.raises(gl.InvalidArgument):
            book.inclusion_proof(entry, cp)  # type: ignore[arg-type]
    with pytest.raises(gl.InvalidArgument, match="more than the new"):
        book.consistency_proof(book.checkpoint(), cp)
