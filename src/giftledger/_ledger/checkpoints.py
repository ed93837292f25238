"""Checkpoints and proofs from a ledger: :class:`CheckpointMixin`.

The Merkle tree's leaves are the entries' hashes as the store gives them back
(:meth:`StoreReader.transactions`); nothing here reads a store's tables.

A ledger keeps, per process, what it already hashed: the compact range of the
entries up to its last checkpoint (``log2(n)`` digests) and the roots of the
complete, aligned subtrees of ``2**6`` entries or more (about ``n / 32``
digests: 31,000 for a million entries, about 5 MB). A new checkpoint then hashes
only the entries written since the last one, and a proof reads the block of 64
entries around its entry (the subtrees at the journal's right edge are the
compact range's). Complete subtrees never change in an
append-only journal; the cache is dropped when the entry it ends at no longer
has the hash it had. ``verify(since=...)`` never uses it: it re-hashes from the
store.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from .._errors import ChainBroken, InvalidArgument, UnknownTransaction
from .hashing import GENESIS_HASH
from .merkle import CompactRange, consistency_path, inclusion_path, node_hash, split
from .proofs import Checkpoint, ConsistencyProof, InclusionProof, entry_leaf
from .store import StoreReader
from .writes import WriteCore

__all__ = ["CheckpointMixin", "check_since"]

# Subtrees of 2**_BLOCK leaves and more are cached (n / 32 digests); below, a proof
# reads the 64 entries of the block it needs. 8 halves the cache and quadruples the reads.
_BLOCK = 6


class _Tree:
    """What one ledger has hashed of its journal (see the module docstring)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.nodes: dict[tuple[int, int], bytes] = {}  # (height, index) -> root
        self.range = CompactRange(self._keep)
        self.head = GENESIS_HASH  # hash of entry range.size
        self.edge: dict[tuple[int, int], bytes] = {}  # the range's roots, by (height, index)

    def _keep(self, height: int, index: int, digest: bytes) -> None:
        if height >= _BLOCK:
            self.nodes[height, index] = digest

    def reset(self) -> None:
        self.nodes.clear()
        self.edge.clear()
        self.range = CompactRange(self._keep)
        self.head = GENESIS_HASH

    def catch_up(self, r: StoreReader, size: int) -> None:
        """Fold in the entries up to ``size`` (the reader's head) not yet hashed."""
        done = self.range.size
        if done > size or (done and _hash_at(r, done) != self.head):
            self.reset()  # the journal is not the one we hashed: start again
            done = 0
        if done < size:
            append = self.range.append
            for tx in r.transactions(done + 1, size + 1):
                append(entry_leaf(tx.hash))
                self.head = tx.hash
            if self.range.size != size:
                raise ChainBroken(
                    f"the store's head says {size} entries but it gave back {self.range.size}",
                    None,
                )
        self.edge = {}
        start = 0
        for height, digest in self.range.roots():
            self.edge[height, start >> height] = digest
            start += 1 << height

    def subtree(self, r: StoreReader) -> Callable[[int, int], bytes]:
        """``subtree(start, stop)``: the root of leaves ``[start, stop)`` of ``r``'s journal."""
        nodes, edge = self.nodes, self.edge
        edge_end = self.range.size  # subtrees ending here are made of the range's roots
        blocks: dict[int, list[bytes]] = {}  # leaves of 2**_BLOCK-blocks read for this proof

        def leaves(start: int, stop: int) -> list[bytes]:
            block = start >> _BLOCK
            got = blocks.get(block)
            lo = block << _BLOCK
            if got is None or len(got) < stop - lo:
                hi = max(stop, min(lo + (1 << _BLOCK), limit))
                got = blocks[block] = [entry_leaf(tx.hash) for tx in r.transactions(lo + 1, hi + 1)]
                if len(got) < stop - lo:
                    raise UnknownTransaction(f"entry {lo + len(got) + 1} is not in the journal")
            return got[start - lo : stop - lo]

        limit = r.head()[0]

        def subtree(start: int, stop: int) -> bytes:
            n = stop - start
            if n & (n - 1) == 0 and start % n == 0:  # a complete, aligned subtree
                height = n.bit_length() - 1
                found = edge.get((height, start >> height))
                if found is not None:
                    return found
                if height >= _BLOCK:
                    found = nodes.get((height, start >> height))
                    if found is None:
                        half = start + n // 2
                        found = node_hash(subtree(start, half), subtree(half, stop))
                        nodes[height, start >> height] = found
                    return found
                if n == 1:
                    return leaves(start, stop)[0]
            k = split(n)
            if stop != edge_end and n <= 1 << _BLOCK and start >> _BLOCK == (stop - 1) >> _BLOCK:
                # Inside one block: hash its leaves directly, not subtree by subtree.
                r_ = CompactRange()
                r_.extend(leaves(start, stop))
                return r_.root()
            return node_hash(subtree(start, start + k), subtree(start + k, stop))

        return subtree


def _hash_at(r: StoreReader, id: int) -> str | None:
    tx = r.transaction(id)
    return None if tx is None else tx.hash


class CheckpointMixin(WriteCore):
    """The checkpoint and proof methods of :class:`~giftledger.Ledger`."""

    _tree: _Tree | None = None
    _tree_lock = threading.Lock()

    def _merkle(self) -> _Tree:
        tree = self._tree
        if tree is None:
            with CheckpointMixin._tree_lock:
                tree = self._tree
                if tree is None:
                    tree = self._tree = _Tree()
        return tree

    def checkpoint(self) -> Checkpoint:
        """A checkpoint of the books as they stand: size, head hash and Merkle root.

        Publish its :meth:`~giftledger.Checkpoint.to_json` (signed with
        :meth:`~giftledger.Checkpoint.sign` if you like); later,
        ``verify(since=checkpoint)`` proves the books only grew since, and
        :meth:`inclusion_proof` / :meth:`consistency_proof` prove single entries
        and later checkpoints against it.

        It hashes only the entries written since this ledger's last checkpoint
        (the first one, in a process, hashes them all, reading one entry at a time).

        Example:
            >>> import giftledger as gl
            >>> book = gl.Ledger()
            >>> book.checkpoint().size
            0
        """
        tree = self._merkle()
        with self.store.read() as r, tree.lock:
            size, head = r.head()
            tree.catch_up(r, size)
            if tree.head != head:
                raise ChainBroken(
                    f"entry {size} hashes to {tree.head[:12]}… but the store's head says "
                    f"{head[:12]}…",
                    size,
                )
            subtree = tree.subtree(r)
            path = inclusion_path(size - 1, size, subtree) if size else []
            return Checkpoint(size, head, tree.range.root().hex(), tuple(p.hex() for p in path))

    def inclusion_proof(self, entry: int, checkpoint: Checkpoint | None = None) -> InclusionProof:
        """Prove that entry ``entry`` is in the books of ``checkpoint`` (default: a new one).

        The proof holds the entry's hash and the hashes of the subtrees beside it
        (about ``log2(size)`` of them), never other entries' content; anyone checks
        it with :func:`~giftledger.verify_inclusion`.

        Raises:
            InvalidArgument: ``entry`` is not an id within the checkpoint.
            ChainBroken: ``checkpoint`` is not of these books (its root differs
                from theirs at its size).
        """
        cp = self.checkpoint() if checkpoint is None else _checked(checkpoint)
        if type(entry) is not int or not 1 <= entry <= cp.size:
            raise InvalidArgument(
                f"entry {entry!r} must be an entry id from 1 to the checkpoint's {cp.size}"
            )
        tree = self._merkle()
        with self.store.read() as r, tree.lock:
            subtree = self._against(r, tree, cp)
            path = inclusion_path(entry - 1, cp.size, subtree)
            leaf = _hash_at(r, entry)
            assert leaf is not None  # within the checkpoint, which _against checked
        return InclusionProof(entry, cp.size, leaf, tuple(p.hex() for p in path))

    def consistency_proof(self, old: Checkpoint, new: Checkpoint | None = None) -> ConsistencyProof:
        """Prove that the books of ``new`` (default: a new checkpoint) extend those of ``old``.

        Anyone checks it with :func:`~giftledger.verify_consistency`.

        Raises:
            InvalidArgument: ``old`` holds more entries than ``new``.
            ChainBroken: either checkpoint is not of these books.
        """
        a = _checked(old)
        b = self.checkpoint() if new is None else _checked(new)
        if a.size > b.size:
            raise InvalidArgument(
                f"the old checkpoint holds {a.size} entries, more than the new one's {b.size}"
            )
        tree = self._merkle()
        with self.store.read() as r, tree.lock:
            self._against(r, tree, a)
            subtree = self._against(r, tree, b)
            path = consistency_path(a.size, b.size, subtree)
        return ConsistencyProof(a.size, b.size, tuple(p.hex() for p in path))

    def _against(self, r: StoreReader, tree: _Tree, cp: Checkpoint) -> Callable[[int, int], bytes]:
        """The subtree function over ``r``, once ``cp`` is known to be of these books."""
        size = r.head()[0]
        tree.catch_up(r, size)  # drops what it hashed if the journal is not the same
        if cp.size > size:
            raise ChainBroken(
                f"the checkpoint holds {cp.size} entries, but the books only {size}", size + 1
            )
        subtree = tree.subtree(r)
        if cp.size == tree.range.size:
            root = tree.range.root().hex()  # O(log n): the usual case, the latest checkpoint
        else:
            root = subtree(0, cp.size).hex() if cp.size else cp.root
        if root != cp.root:
            raise ChainBroken(
                f"the books' first {cp.size} entries have the root {root[:12]}…, the "
                f"checkpoint {cp.root[:12]}…: it is another ledger's, or an entry changed",
                None,
            )
        return subtree


def _checked(value: object) -> Checkpoint:
    if not isinstance(value, Checkpoint):
        raise InvalidArgument(f"{value!r} is not a Checkpoint (read JSON with from_json)")
    return value


def check_since(r: StoreReader, since: Checkpoint, count: int) -> None:
    """Raise ChainBroken unless the journal of ``count`` entries only grew since ``since``.

    Re-hashes the first ``since.size`` entries from the store (O(log n) memory). A
    rewrite is narrowed down with the checkpoint's head path, which holds the roots
    of the perfect subtrees left of its head: the first of them the store's entries
    no longer hash to holds the first rewritten entry (named alone when the subtree
    is one entry, else as a range).
    """
    size = since.size
    if count < size:
        raise ChainBroken(
            f"the books hold {count} entries, fewer than the {size} of the checkpoint: "
            f"entries {count + 1} to {size} were removed",
            count + 1,
        )
    tree = CompactRange()
    last = GENESIS_HASH
    left: list[tuple[int, bytes]] = []  # the subtrees of the first size - 1 entries
    for tx in r.transactions(1, size + 1):
        if tree.size == size - 1:
            left = tree.roots()
        tree.append(entry_leaf(tx.hash))
        last = tx.hash
    if tree.size != size:
        raise ChainBroken(
            f"the store gave back {tree.size} of the checkpoint's {size} entries", tree.size + 1
        )
    if last != since.head:
        lo, hi = _rewritten(since, left)
        raise ChainBroken(
            f"entry {size}, the checkpoint's head, now hashes to {last[:12]}… but the "
            f"checkpoint says {since.head[:12]}…: {_which(lo, hi)} was rewritten and the "
            f"entries after it hashed again",
            hi,
        )
    root = tree.root().hex()
    if root != since.root:
        lo, hi = _rewritten(since, left)
        raise ChainBroken(
            f"the Merkle root of entries 1 to {size} is {root[:12]}… but the checkpoint "
            f"says {since.root[:12]}…: {_which(lo, hi)} was rewritten",
            hi,
        )


def _rewritten(since: Checkpoint, left: list[tuple[int, bytes]]) -> tuple[int, int]:
    """The entries (first, last) of the first subtree left of the checkpoint's head
    whose root in ``left`` (the store's ``(height, root)``, left to right) differs from
    the one its head path holds; the head alone if none does."""
    published = [bytes.fromhex(h) for h in reversed(since.head_path)]
    start = 0
    for i, (height, root) in enumerate(left):
        width = 1 << height
        if i >= len(published) or root != published[i]:
            return start + 1, start + width
        start += width
    return since.size, since.size


def _which(lo: int, hi: int) -> str:
    if lo == hi:
        return f"entry {lo}"
    if lo == 1:
        return f"an entry at or before {hi}"
    return (
        f"an entry at or before {hi} (from {lo} to {hi}; entries 1 to {lo - 1} are still "
        f"the checkpoint's)"
    )
