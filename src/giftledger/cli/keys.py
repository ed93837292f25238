"""Reading what the checkpoint commands take: checkpoints and Ed25519 keys from files.

Keys are read as PEM (PKCS#8 for a private key, SubjectPublicKeyInfo for a public
one, as ``giftledger keygen`` and ``openssl genpkey -algorithm ed25519`` write them)
or as 64 hexadecimal digits (the key's 32 raw bytes). Signing and checking a
signature need the ``signing`` extra (cryptography); without it, the error names it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

import giftledger as gl

from ._common import F, Fail, read_input

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

__all__ = [
    "public_key_option",
    "read_checkpoint",
    "read_private_key",
    "read_public_key",
    "signing",
]

_HEX64 = re.compile(rb"\s*([0-9a-fA-F]{64})\s*")

SIGNING_HINT = "pip install 'giftledger[signing]'  (from a checkout: pip install '.[signing]')"


def signing(what: str) -> Any:
    """cryptography's ed25519 and serialization modules, or one line naming the extra."""
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError:
        raise Fail(f"{what} needs the 'signing' extra (cryptography): {SIGNING_HINT}") from None
    return ed25519, serialization


def public_key_option(f: F) -> F:
    return click.option(
        "--public-key",
        "public_key_file",
        type=click.Path(path_type=Path),
        metavar="FILE",
        help="The platform's Ed25519 public key (PEM or 64 hex digits): check the "
        "checkpoint's signature (the 'signing' extra).",
    )(f)


def read_checkpoint(path: Path) -> gl.Checkpoint:
    """The checkpoint in ``path`` (``giftledger checkpoint``'s JSON)."""
    data = read_input(path, "checkpoint")
    try:
        return gl.Checkpoint.from_json(data)
    except gl.GiftLedgerError as exc:
        raise Fail(f"{str(path)!r} is not a checkpoint: {exc}") from None


def _raw(data: bytes) -> bytes | None:
    found = _HEX64.fullmatch(data)
    return None if found is None else bytes.fromhex(found.group(1).decode())


def read_private_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in ``path``."""
    ed25519, serialization = signing("signing a checkpoint")
    data = read_input(path, "key file")
    raw = _raw(data)
    try:
        if raw is not None:
            return ed25519.Ed25519PrivateKey.from_private_bytes(raw)  # type: ignore[no-any-return]
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise Fail(f"the key in {str(path)!r} is encrypted; give an unencrypted key") from None
    except ValueError:
        raise Fail(f"{str(path)!r} holds no Ed25519 private key (PEM, or 64 hex digits)") from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise Fail(f"the key in {str(path)!r} is not an Ed25519 private key")
    return key  # type: ignore[no-any-return]


def read_public_key(path: Path) -> Ed25519PublicKey:
    """The Ed25519 public key in ``path``."""
    ed25519, serialization = signing("checking a checkpoint's signature")
    data = read_input(path, "public key file")
    raw = _raw(data)
    try:
        if raw is not None:
            return ed25519.Ed25519PublicKey.from_public_bytes(raw)  # type: ignore[no-any-return]
        key = serialization.load_pem_public_key(data)
    except ValueError:
        raise Fail(f"{str(path)!r} holds no Ed25519 public key (PEM, or 64 hex digits)") from None
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise Fail(f"the key in {str(path)!r} is not an Ed25519 public key")
    return key  # type: ignore[no-any-return]
