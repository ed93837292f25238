"""Merkle trees over the journal, as RFC 6962 (Certificate Transparency) draws them.

The leaves are the entries' hashes, in journal order. A leaf's hash is
``SHA-256(0x00 || leaf)`` and a node's ``SHA-256(0x01 || left || right)`` (the
prefixes keep a leaf from passing for a node); a tree of ``n`` leaves splits at
the largest power of two below ``n`` (RFC 6962 §2.1). The root of no leaves is
``SHA-256()``.

Everything here works on 32-byte digests and knows no store:

- :class:`CompactRange` folds leaves in one at a time and keeps only the roots of
  the perfect subtrees they fill (at most ``log2(n) + 1`` of them), so a root over
  a million entries needs twenty digests in memory, not a million.
- :func:`inclusion_path` / :func:`consistency_path` build the proofs of RFC 6962
  §2.1.1 and §2.1.2 from any ``subtree(start, stop)`` root function;
  :func:`root_from_inclusion` and :func:`check_consistency` check them with the
  iterative algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2.

Example:
    >>> r = CompactRange()
    >>> for data in (b"a", b"b", b"c"):
    ...     r.append(leaf_hash(data))
    >>> r.root() == node_hash(node_hash(leaf_hash(b"a"), leaf_hash(b"b")), leaf_hash(b"c"))
    True
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "CompactRange",
    "check_consistency",
    "consistency_path",
    "inclusion_path",
    "leaf_hash",
    "node_hash",
    "root_from_inclusion",
    "split",
]

_sha256 = hashlib.sha256

#: The root of a tree with no leaves: SHA-256 of nothing.
EMPTY_ROOT = _sha256(b"").digest()

Subtree = Callable[[int, int], bytes]
"""``subtree(start, stop)``: the root of the leaves ``start <= i < stop`` (0-based)."""


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 || data)``: the hash of one leaf."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``: the hash of an inner node."""
    return _sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    """The largest power of two smaller than ``n`` (``n >= 2``): where RFC 6962 splits.

    Example:
        >>> [split(n) for n in (2, 3, 4, 5, 8, 9)]
        [1, 2, 2, 4, 4, 8]
    """
    return 1 << ((n - 1).bit_length() - 1)


class CompactRange:
    """The roots of the perfect subtrees that cover leaves ``[0, size)``, left to right.

    Appending a leaf merges equal-height roots at the right edge, like adding one
    to a binary counter, so it costs one hash amortised and the range holds one
    root per bit set in ``size``. ``on_node`` (if given) sees every perfect
    subtree root made, as ``(height, index, digest)`` where the subtree covers
    leaves ``[index * 2**height, (index + 1) * 2**height)``.
    """

    __slots__ = ("_on_node", "_stack", "size")

    def __init__(self, on_node: Callable[[int, int, bytes], None] | None = None) -> None:
        self.size = 0
        self._stack: list[tuple[int, bytes]] = []  # (height, root), heights decreasing
        self._on_node = on_node

    def append(self, leaf: bytes) -> None:
        """Add the next leaf's hash (already :func:`leaf_hash`-ed)."""
        stack = self._stack
        height, digest = 0, leaf
        end = self.size + 1  # leaves covered once this leaf is in
        while stack and stack[-1][0] == height:
            digest = node_hash(stack.pop()[1], digest)
            height += 1
            if self._on_node is not None:
                self._on_node(height, (end >> height) - 1, digest)
        stack.append((height, digest))
        self.size = end

    def extend(self, leaves: Iterable[bytes]) -> None:
        """Append each leaf hash of ``leaves`` in turn."""
        for leaf in leaves:
            self.append(leaf)

    def root(self) -> bytes:
        """The RFC 6962 root of the leaves so far: the subtree roots folded right to left."""
        stack = self._stack
        if not stack:
            return EMPTY_ROOT
        digest = stack[-1][1]
        for _, left in reversed(stack[:-1]):
            digest = node_hash(left, digest)
        return digest

    def roots(self) -> list[tuple[int, bytes]]:
        """The ``(height, root)`` of each perfect subtree in the range, left to right."""
        return list(self._stack)

    def copy(self) -> CompactRange:
        """An independent copy (without the ``on_node`` hook)."""
        other = CompactRange()
        other.size = self.size
        other._stack = list(self._stack)
        return other


def inclusion_path(index: int, size: int, subtree: Subtree) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of the first ``size`` leaves
    (RFC 6962 §2.1.1), leaf-side first."""
    path: list[bytes] = []
    start, stop = 0, size
    # Walk down from the root, noting each sibling, then give them leaf-side first.
    while stop - start > 1:
        k = split(stop - start)
        if index - start < k:
            path.append(subtree(start + k, stop))
            stop = start + k
        else:
            path.append(subtree(start, start + k))
            start += k
    path.reverse()
    return path


def consistency_path(old: int, new: int, subtree: Subtree) -> list[bytes]:
    """The consistency proof between the trees of the first ``old`` and ``new``
    leaves (RFC 6962 §2.1.2); empty when ``old`` is 0 or equals ``new``."""
    if old == 0 or old == new:
        return []
    path: list[bytes] = []
    start, stop, m, whole = 0, new, old, True
    while m != stop - start:
        k = split(stop - start)
        if m <= k:
            path.append(subtree(start + k, stop))
            stop = start + k
        else:
            path.append(subtree(start, start + k))
            start += k
            m -= k
            whole = False
    if not whole:
        path.append(subtree(start, stop))
    path.reverse()
    return path


def root_from_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes]) -> bytes | None:
    """The root that ``path`` proves leaf hash ``leaf`` sits under at ``index`` of a
    tree of ``size`` leaves (RFC 9162 §2.1.3.2), or None if the path cannot be a
    path of that leaf in that tree (wrong length, index out of range)."""
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def check_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, path: Sequence[bytes]
) -> bool:
    """Whether ``path`` proves the tree of ``old`` leaves with root ``old_root`` is a
    prefix of the tree of ``new`` leaves with root ``new_root`` (RFC 9162 §2.1.4.2)."""
    if not 0 <= old <= new:
        return False
    if old == 0:
        return not path  # every tree extends the empty one
    if old == new:
        return not path and old_root == new_root
    if not path:
        return False
    nodes = list(path)
    if old & (old - 1) == 0:  # a power of two: the old tree is a subtree of the new
        nodes.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = nodes[0]
    for c in nodes[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root
