"""Checkpoints of the journal and the proofs checked against them, with no database.

A :class:`Checkpoint` is what a platform publishes: how many entries its books
hold, the last entry's hash and the RFC 6962 Merkle root over every entry's
hash (:mod:`.merkle`), with the head's audit path, so the head is checked
against the root whenever a checkpoint is read. It is about 1.6 KB of JSON at
a million entries, and it may be signed with Ed25519 (the ``signing`` extra,
through ``cryptography``).

Against checkpoints, anyone can check, holding only the values below:

- an :class:`InclusionProof`: this entry hash is entry ``n`` of the books the
  checkpoint describes (:func:`verify_inclusion`);
- a :class:`ConsistencyProof`: the books of a later checkpoint only grew from
  those of an earlier one (:func:`verify_consistency`).

A proof carries the hashes of other entries and subtrees only, never their
content. Every value reads and writes a versioned JSON form; reading is strict
(unknown or missing fields, upper-case hex, floats for counts are refused), so a
changed byte either does not read or does not verify.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from .._errors import InvalidArgument, MissingExtra, ProofFailed
from .hashing import GENESIS_HASH
from .merkle import EMPTY_ROOT, check_consistency, leaf_hash, root_from_inclusion

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

__all__ = [
    "Checkpoint",
    "ConsistencyProof",
    "InclusionProof",
    "entry_leaf",
    "verify_consistency",
    "verify_inclusion",
]

_VERSION = 1
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX128 = re.compile(r"[0-9a-f]{128}")
_MAX_PATH = 64  # a path longer than this would prove a tree of more than 2**64 leaves


def entry_leaf(entry_hash: str) -> bytes:
    """The Merkle leaf hash of an entry: ``SHA-256(0x00 || the entry hash's 32 bytes)``.

    Example:
        >>> entry_leaf("00" * 32).hex()[:16]
        '7f9c9e31ac8256ca'
    """
    return leaf_hash(bytes.fromhex(_hex(entry_hash, "entry hash")))


def _hex(value: object, what: str) -> str:
    if type(value) is not str or not _HEX64.fullmatch(value):
        raise InvalidArgument(f"{what} {value!r} must be 64 lower-case hex digits (SHA-256)")
    return value


def _count(value: object, what: str) -> int:
    if type(value) is not int or value < 0:
        raise InvalidArgument(f"{what} {value!r} must be an int >= 0")
    return value


def _path(value: object) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or len(value) > _MAX_PATH:
        raise InvalidArgument(f"proof path must be a list of at most {_MAX_PATH} hashes")
    return tuple(_hex(v, "proof path hash") for v in value)


def _load(text: str | bytes, kind: str, fields: tuple[str, ...]) -> dict[str, Any]:
    """The fields of a JSON object of ``kind``, refusing anything else in it."""
    try:
        data = json.loads(text)
    except (ValueError, TypeError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise InvalidArgument(f"a {kind} must be a JSON object: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidArgument(f"a {kind} must be a JSON object, not {type(data).__name__}")
    if data.get("type") != kind:
        raise InvalidArgument(f"JSON of type {data.get('type')!r} is not a {kind}")
    if data.get("version") != _VERSION or type(data.get("version")) is not int:
        raise InvalidArgument(
            f"{kind} version {data.get('version')!r} is not one this library reads ({_VERSION})"
        )
    expected = {"type", "version", *fields}
    if set(data) != expected:
        odd = sorted(set(data) ^ expected)
        raise InvalidArgument(f"a {kind} holds exactly {sorted(expected)}; check {odd}")
    return data


def _dump(kind: str, fields: Mapping[str, object]) -> str:
    return json.dumps({"type": kind, "version": _VERSION, **fields}, separators=(",", ":"))


def _crypto(what: str) -> Any:
    try:
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError:
        raise MissingExtra(
            f"{what} needs the 'cryptography' package: pip install 'giftledger[signing]'"
        ) from None
    return ed25519


_C = TypeVar("_C", bound="Checkpoint")


@attrs.frozen(slots=True)
class Checkpoint:
    """A small, publishable summary of the books at one moment.

    Attributes:
        size: how many entries the books held.
        head: the hash of entry ``size`` (64 zeros for empty books).
        root: the RFC 6962 Merkle root (hex) over the hashes of entries ``1..size``.
        head_path: the audit path of the head (entry ``size``) to :attr:`root`, so
            a checkpoint whose head and root disagree cannot be built or read.
        signature: an Ed25519 signature (hex) over :meth:`message`, or None.

    Get one from :meth:`Ledger.checkpoint <giftledger.Ledger.checkpoint>`, publish
    :meth:`to_json`, and later prove the books only grew with
    ``book.verify(since=checkpoint)``.

    Example:
        >>> import giftledger as gl
        >>> book = gl.Ledger()
        >>> _ = book.open_account("assets:bank", "USD")
        >>> _ = book.open_account("equity:owner", "USD", normal="credit")
        >>> _ = book.transfer("assets:bank", "equity:owner", "10.00")
        >>> cp = book.checkpoint()
        >>> cp.size, cp.head == book.head[1]  # two accounts opened, one transfer
        (3, True)
        >>> gl.Checkpoint.from_json(cp.to_json()) == cp
        True
    """

    size: int
    head: str
    root: str
    head_path: tuple[str, ...] = ()
    signature: str | None = None

    def __attrs_post_init__(self) -> None:
        _count(self.size, "checkpoint size")
        _hex(self.head, "checkpoint head")
        _hex(self.root, "checkpoint root")
        object.__setattr__(self, "head_path", _path(self.head_path))
        if self.signature is not None and (
            type(self.signature) is not str or not _HEX128.fullmatch(self.signature)
        ):
            raise InvalidArgument(
                f"checkpoint signature {self.signature!r} must be None or 128 lower-case hex "
                f"digits (Ed25519)"
            )
        if self.size == 0 and (self.head != GENESIS_HASH or self.root != EMPTY_ROOT.hex()):
            raise InvalidArgument(
                "a checkpoint of no entries has the genesis head and the empty root"
            )
        if self.size:
            path = [bytes.fromhex(h) for h in self.head_path]
            root = root_from_inclusion(self.size - 1, self.size, entry_leaf(self.head), path)
            if root is None or root.hex() != self.root:
                raise ProofFailed(
                    f"the checkpoint's head {self.head[:12]}… is not entry {self.size} under "
                    f"its root {self.root[:12]}…: its size, head, root or head path changed"
                )

    def message(self) -> bytes:
        """The bytes a signature covers: the format, size, head and root."""
        text = f"giftledger checkpoint v{_VERSION}\n{self.size}\n{self.head}\n{self.root}\n"
        return text.encode()

    def to_json(self) -> str:
        """The checkpoint as compact JSON, with a ``version`` field."""
        fields = {"size": self.size, "head": self.head, "root": self.root}
        return _dump(
            "checkpoint",
            {**fields, "head_path": list(self.head_path), "signature": self.signature},
        )

    @classmethod
    def from_json(cls: type[_C], text: str | bytes) -> _C:
        """Read :meth:`to_json`'s form; raise InvalidArgument for anything else."""
        data = _load(text, "checkpoint", ("size", "head", "root", "head_path", "signature"))
        path = _path(data["head_path"])
        return cls(data["size"], data["head"], data["root"], path, data["signature"])

    def unsigned(self) -> Checkpoint:
        """The same checkpoint without its signature."""
        return attrs.evolve(self, signature=None)

    def sign(self, private_key: Ed25519PrivateKey | bytes) -> Checkpoint:
        """This checkpoint signed with an Ed25519 key (needs the ``signing`` extra).

        Args:
            private_key: a ``cryptography`` ``Ed25519PrivateKey``, or its 32 raw bytes.

        Raises:
            MissingExtra: ``cryptography`` is not installed.
        """
        ed25519 = _crypto("signing a checkpoint")
        if isinstance(private_key, bytes):
            try:
                private_key = ed25519.Ed25519PrivateKey.from_private_bytes(private_key)
            except ValueError:
                raise InvalidArgument("an Ed25519 private key has 32 raw bytes") from None
        if not isinstance(private_key, ed25519.Ed25519PrivateKey):
            raise InvalidArgument(f"{private_key!r} is not an Ed25519 private key")
        return attrs.evolve(self, signature=private_key.sign(self.message()).hex())

    def verify_signature(self, public_key: Ed25519PublicKey | bytes) -> None:
        """Check the signature against ``public_key`` (needs the ``signing`` extra).

        Args:
            public_key: a ``cryptography`` ``Ed25519PublicKey``, or its 32 raw bytes.

        Raises:
            ProofFailed: the checkpoint is unsigned, or its signature is not
                ``public_key``'s over this size, head and root.
            MissingExtra: ``cryptography`` is not installed.
        """
        ed25519 = _crypto("checking a checkpoint's signature")
        from cryptography.exceptions import InvalidSignature

        if isinstance(public_key, bytes):
            try:
                public_key = ed25519.Ed25519PublicKey.from_public_bytes(public_key)
            except ValueError:
                raise InvalidArgument("an Ed25519 public key has 32 raw bytes") from None
        if not isinstance(public_key, ed25519.Ed25519PublicKey):
            raise InvalidArgument(f"{public_key!r} is not an Ed25519 public key")
        if self.signature is None:
            raise ProofFailed(f"the checkpoint of {self.size} entries is not signed")
        try:
            public_key.verify(bytes.fromhex(self.signature), self.message())
        except InvalidSignature:
            raise ProofFailed(
                f"the signature of the checkpoint of {self.size} entries (root "
                f"{self.root[:12]}…) is not this key's: the checkpoint or its signature changed"
            ) from None


@attrs.frozen(slots=True)
class InclusionProof:
    """Proof that an entry hash is entry ``entry`` of the books of a checkpoint.

    Attributes:
        entry: the entry's id (its place in the journal, from 1).
        size: the size of the checkpoint it proves against.
        leaf: the entry's hash (hex): the leaf's data.
        path: the audit path of RFC 6962 §2.1.1, leaf side first: hashes of the
            subtrees beside the entry's, never other entries' content.
    """

    entry: int
    size: int
    leaf: str
    path: tuple[str, ...]

    def __attrs_post_init__(self) -> None:
        _count(self.entry, "proof entry")
        _count(self.size, "proof size")
        _hex(self.leaf, "proof leaf")
        object.__setattr__(self, "path", _path(self.path))

    def to_json(self) -> str:
        """The proof as compact JSON, with a ``version`` field."""
        fields = {"entry": self.entry, "size": self.size, "leaf": self.leaf}
        return _dump("inclusion", {**fields, "path": list(self.path)})

    @classmethod
    def from_json(cls, text: str | bytes) -> InclusionProof:
        """Read :meth:`to_json`'s form; raise InvalidArgument for anything else."""
        data = _load(text, "inclusion", ("entry", "size", "leaf", "path"))
        return cls(data["entry"], data["size"], data["leaf"], _path(data["path"]))


@attrs.frozen(slots=True)
class ConsistencyProof:
    """Proof that the books of ``new_size`` entries extend those of ``old_size``.

    Attributes:
        old_size: the earlier checkpoint's size.
        new_size: the later checkpoint's size.
        path: the proof of RFC 6962 §2.1.2: subtree hashes only.
    """

    old_size: int
    new_size: int
    path: tuple[str, ...]

    def __attrs_post_init__(self) -> None:
        _count(self.old_size, "proof old size")
        _count(self.new_size, "proof new size")
        object.__setattr__(self, "path", _path(self.path))

    def to_json(self) -> str:
        """The proof as compact JSON, with a ``version`` field."""
        fields = {"old_size": self.old_size, "new_size": self.new_size}
        return _dump("consistency", {**fields, "path": list(self.path)})

    @classmethod
    def from_json(cls, text: str | bytes) -> ConsistencyProof:
        """Read :meth:`to_json`'s form; raise InvalidArgument for anything else."""
        data = _load(text, "consistency", ("old_size", "new_size", "path"))
        return cls(data["old_size"], data["new_size"], _path(data["path"]))


_V = TypeVar("_V")


def _as(value: _V | str | bytes, cls: type[_V], read: Callable[[str | bytes], _V]) -> _V:
    if isinstance(value, str | bytes):
        return read(value)
    if not isinstance(value, cls):
        raise InvalidArgument(f"{value!r} is not a {cls.__name__} or its JSON")
    return value


def verify_inclusion(
    proof: InclusionProof | str | bytes, checkpoint: Checkpoint | str | bytes
) -> None:
    """Check that ``proof`` places its entry hash in the books ``checkpoint`` describes.

    Needs no database: only the proof and the checkpoint (typed or as JSON).

    Raises:
        ProofFailed: the proof is for another size, or its path does not lead from
            the entry hash to the checkpoint's root (the entry, the path or the
            checkpoint changed).
        InvalidArgument: either value does not read.

    Example:
        >>> import giftledger as gl
        >>> book = gl.Ledger()
        >>> _ = book.open_account("assets:bank", "USD")
        >>> _ = book.open_account("equity:owner", "USD", normal="credit")
        >>> for _ in range(5):
        ...     _ = book.transfer("assets:bank", "equity:owner", "1.00")
        >>> cp = book.checkpoint()
        >>> proof = book.inclusion_proof(3, cp)
        >>> gl.verify_inclusion(proof.to_json(), cp.to_json())
    """
    p = _as(proof, InclusionProof, InclusionProof.from_json)
    cp = _as(checkpoint, Checkpoint, Checkpoint.from_json)
    if p.size != cp.size:
        raise ProofFailed(
            f"the proof of entry {p.entry} is against {p.size} entries, the checkpoint has "
            f"{cp.size}"
        )
    if not 1 <= p.entry <= cp.size:
        raise ProofFailed(f"entry {p.entry} is not in a checkpoint of {cp.size} entries")
    if p.entry == cp.size and p.leaf != cp.head:  # the head's own hash is in the checkpoint
        raise ProofFailed(
            f"entry {p.entry} is the checkpoint's head, which hashes to {cp.head[:12]}…, "
            f"not {p.leaf[:12]}…"
        )
    root = root_from_inclusion(
        p.entry - 1, p.size, entry_leaf(p.leaf), [bytes.fromhex(h) for h in p.path]
    )
    if root is None or root.hex() != cp.root:
        raise ProofFailed(
            f"entry {p.entry} with hash {p.leaf[:12]}… is not in the checkpoint of {cp.size} "
            f"entries (root {cp.root[:12]}…): the entry, its proof or the checkpoint differs"
        )


def verify_consistency(
    proof: ConsistencyProof | str | bytes,
    old: Checkpoint | str | bytes,
    new: Checkpoint | str | bytes,
) -> None:
    """Check that the books of checkpoint ``new`` only grew from those of ``old``.

    Needs no database: only the proof and the two checkpoints (typed or JSON).

    Raises:
        ProofFailed: the sizes do not match, the books shrank, or the proof does not
            join the two roots (an entry up to ``old.size`` was rewritten, or a value
            changed).
        InvalidArgument: a value does not read.

    Example:
        >>> import giftledger as gl
        >>> book = gl.Ledger()
        >>> _ = book.open_account("assets:bank", "USD")
        >>> _ = book.open_account("equity:owner", "USD", normal="credit")
        >>> _ = book.transfer("assets:bank", "equity:owner", "1.00")
        >>> first = book.checkpoint()
        >>> _ = book.transfer("assets:bank", "equity:owner", "2.00")
        >>> later = book.checkpoint()
        >>> gl.verify_consistency(book.consistency_proof(first, later), first, later)
    """
    p = _as(proof, ConsistencyProof, ConsistencyProof.from_json)
    a = _as(old, Checkpoint, Checkpoint.from_json)
    b = _as(new, Checkpoint, Checkpoint.from_json)
    if (p.old_size, p.new_size) != (a.size, b.size):
        raise ProofFailed(
            f"the proof is from {p.old_size} to {p.new_size} entries, the checkpoints hold "
            f"{a.size} and {b.size}"
        )
    if b.size < a.size:
        raise ProofFailed(f"the books shrank from {a.size} to {b.size} entries")
    if a.size == b.size and a.head != b.head:
        raise ProofFailed(f"two checkpoints of {a.size} entries name different heads")
    ok = check_consistency(
        a.size,
        b.size,
        bytes.fromhex(a.root),
        bytes.fromhex(b.root),
        [bytes.fromhex(h) for h in p.path],
    )
    if not ok:
        raise ProofFailed(
            f"the checkpoint of {b.size} entries (root {b.root[:12]}…) does not extend the "
            f"one of {a.size} (root {a.root[:12]}…): an entry up to {a.size} was changed, "
            f"or the proof was"
        )
