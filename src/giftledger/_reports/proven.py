"""A creator's statement with proofs: checked offline against a published checkpoint.

:func:`prove_statement` exports a creator's statement (the money lines of
:meth:`GiftEconomy.statement <giftledger.GiftEconomy.statement>`) with, for each
line, the entries it is read from: each entry's canonical text, the hash of the
entry before it and its inclusion proof against a :class:`~giftledger.Checkpoint`
(and for a keyed entry of hash formula 3, the fingerprint and result of its
idempotency record, which its hash covers: a SHA-256 digest of the request, no
secret).
Other parties' entries appear only as hashes (the previous hash, the proof's
subtree hashes).

:func:`verify_statement` needs no database. For every line it recomputes each
entry's hash from its text (and record) under the entry's formula, as the ledger does,
checks the hash is that entry of the checkpoint's books, reads the entry back
from its text and checks what the line shows against what the entry moves on
the creator's own accounts: the amount, the creator units, the date, the kind.
The first line that does not hold is named.

A line's ``description`` is words for people, not checked; everything with a
number in it is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from .._boundary import shown
from .._errors import ChainBroken, InvalidArgument, ProofFailed
from .._ledger.canonical import hash_of_text, parse_canonical
from .._ledger.hashing import canonical
from .._ledger.model import EntryKind, Side, Transaction
from .._ledger.proofs import Checkpoint, InclusionProof, verify_inclusion

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from .._ledger.ledger import Ledger
    from .explain import Statement

__all__ = ["ProvenEntry", "ProvenLine", "ProvenStatement", "prove_statement", "verify_statement"]


class _Books(Protocol):
    """What :func:`prove_statement` reads of a :class:`~giftledger.GiftEconomy`."""

    @property
    def ledger(self) -> Ledger: ...

    def statement(
        self, creator: str, *, start: datetime | None = None, end: datetime | None = None
    ) -> Statement: ...


_VERSION = 1
_HEX64 = re.compile(r"[0-9a-f]{64}")
_OPS = {  # a line's kind -> the chain record ops its entry may carry
    "gift": ("send_gift", "paid_gift"),
    "conversion": ("convert",),
    "views": ("views",),
    "withdrawal": ("withdraw",),
    "withdrawal paid": ("withdraw_settle",),
    "withdrawal failed": ("withdraw_void",),
}


@attrs.frozen(slots=True)
class ProvenEntry:
    """One journal entry, as a proven statement carries it.

    Attributes:
        id: the entry's id.
        prev_hash: the hash of the entry before it (all a statement shows of it).
        text: the entry's canonical text: everything its hash covers.
        path: its inclusion proof's audit path against the statement's checkpoint.
        hash_version: the hash formula the entry was written under (its
            ``Transaction.hash_version``: 1, 2 since giftledger's schema 2, 3 since
            idempotency records are hashed with their entries).
        fingerprint: for a keyed entry of formula 3, the fingerprint of its
            idempotency record (a SHA-256 hex digest of the request), which its
            hash covers; None otherwise.
        result: for a keyed entry of formula 3, its record's result (None for
            every entry written today).
    """

    id: int
    prev_hash: str
    text: str
    path: tuple[str, ...]
    hash_version: int = 1
    fingerprint: str | None = None
    result: str | None = None

    @property
    def hash(self) -> str:
        """The entry's hash, recomputed from :attr:`prev_hash`, :attr:`text` and, for a
        keyed formula 3 entry, its record's :attr:`fingerprint` and :attr:`result`."""
        return hash_of_text(
            self.prev_hash, self.text, self.hash_version, self.fingerprint, self.result
        )


@attrs.frozen(slots=True)
class ProvenLine:
    """One money line of a statement, with the entries it is read from.

    Attributes:
        number: its place in the statement, from 1.
        at: the entry's effective time.
        kind: as :class:`~giftledger.StatementLine` has it (``"gift"``,
            ``"conversion"``, ``"views"``, ``"withdrawal"``, ``"withdrawal paid"``,
            ``"withdrawal failed"``).
        description: what happened, in words (not checked).
        amount: the money it moved for the creator, in minor units, or None.
        amount_unit: its unit code, or None.
        units: creator units it moved, in minor units, or None.
        units_unit: their unit code, or None.
        entries: the line's entry first; a failed withdrawal also carries the
            withdrawal (hold) it returns.
    """

    number: int
    at: datetime
    kind: str
    description: str
    amount: int | None
    amount_unit: str | None
    units: int | None
    units_unit: str | None
    entries: tuple[ProvenEntry, ...]

    @property
    def transaction(self) -> int:
        """The id of the line's entry."""
        return self.entries[0].id


@attrs.frozen(slots=True)
class ProvenStatement:
    """A creator's statement with the proofs that make it checkable offline.

    Attributes:
        creator: the creator.
        size: the size of the checkpoint its proofs are against.
        lines: its money lines, oldest first (profile changes are not entries a
            statement proves, and are left out).

    Example:
        >>> import giftledger as gl
        >>> st = gl.ProvenStatement("bob", 0, ())
        >>> gl.ProvenStatement.from_json(st.to_json()) == st
        True
    """

    creator: str
    size: int
    lines: tuple[ProvenLine, ...]

    def to_json(self) -> str:
        """The statement as JSON (versioned), for the creator to keep and check."""
        return json.dumps(
            {
                "type": "statement",
                "version": _VERSION,
                "creator": self.creator,
                "size": self.size,
                "lines": [_line_json(line) for line in self.lines],
            },
            ensure_ascii=False,
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> ProvenStatement:
        """Read :meth:`to_json`'s form; raise InvalidArgument for anything else."""
        try:
            data = json.loads(text)
        except (ValueError, TypeError, RecursionError) as exc:
            raise InvalidArgument(f"a proven statement must be JSON: {exc}") from None
        top = _fields(data, "statement", ("type", "version", "creator", "size", "lines"))
        if top["type"] != "statement" or top["version"] != _VERSION:
            raise InvalidArgument(
                f"JSON of type {top['type']!r} version {top['version']!r} is not a proven "
                f"statement this library reads (version {_VERSION})"
            )
        lines = top["lines"]
        if not isinstance(lines, list):
            raise InvalidArgument("a proven statement's lines must be a list")
        return cls(
            _str(top["creator"], "creator"),
            _int(top["size"], "size"),
            tuple(_line_from(item, n) for n, item in enumerate(lines, 1)),
        )


def _line_json(line: ProvenLine) -> dict[str, object]:
    def money(minor: int | None, unit: str | None) -> dict[str, object] | None:
        return None if minor is None else {"minor": minor, "unit": unit}

    return {
        "line": line.number,
        "at": line.at.isoformat(),
        "kind": line.kind,
        "description": line.description,
        "amount": money(line.amount, line.amount_unit),
        "units": money(line.units, line.units_unit),
        "entries": [_entry_json(e) for e in line.entries],
    }


def _entry_json(e: ProvenEntry) -> dict[str, object]:
    out: dict[str, object] = {
        "id": e.id,
        "prev_hash": e.prev_hash,
        "text": e.text,
        "path": list(e.path),
        "hash_version": e.hash_version,
    }
    if e.fingerprint is not None:  # a keyed entry of formula 3: its record
        out["fingerprint"] = e.fingerprint
        out["result"] = e.result
    return out


def _fields(data: object, what: str, keys: Sequence[str]) -> dict[str, Any]:
    if not isinstance(data, dict) or set(data) != set(keys):
        raise InvalidArgument(f"a proven statement's {what} holds exactly the fields {keys}")
    return data


def _int(value: object, what: str) -> int:
    if type(value) is not int or value < 0:
        raise InvalidArgument(f"{what} {value!r} must be an int >= 0")
    return value


def _str(value: object, what: str) -> str:
    if type(value) is not str:
        raise InvalidArgument(f"{what} {value!r} must be a string")
    return value


def _money(value: object, what: str) -> tuple[int | None, str | None]:
    if value is None:
        return None, None
    data = _fields(value, what, ("minor", "unit"))
    minor = data["minor"]
    if type(minor) is not int:
        raise InvalidArgument(f"{what} {minor!r} must be an int of minor units")
    return minor, _str(data["unit"], f"{what} unit")


def _line_from(item: object, n: int) -> ProvenLine:
    keys = ("line", "at", "kind", "description", "amount", "units", "entries")
    data = _fields(item, f"line {n}", keys)
    try:
        at = datetime.fromisoformat(_str(data["at"], f"line {n} time"))
    except ValueError:
        raise InvalidArgument(f"line {n}'s time {data['at']!r} is not an ISO time") from None
    if at.tzinfo is None:
        raise InvalidArgument(f"line {n}'s time {data['at']!r} has no UTC offset")
    entries = data["entries"]
    if not isinstance(entries, list) or not entries:
        raise InvalidArgument(f"line {n}'s entries must be a non-empty list")
    proven = []
    for e in entries:
        entry_keys: tuple[str, ...] = ("id", "prev_hash", "text", "path")
        if isinstance(e, dict) and "hash_version" in e:  # absent: formula 1 (older files)
            entry_keys = (*entry_keys, "hash_version")
        if isinstance(e, dict) and "fingerprint" in e:  # a keyed formula 3 entry's record
            entry_keys = (*entry_keys, "fingerprint", "result")
        f = _fields(e, f"line {n} entry", entry_keys)
        version = _int(f.get("hash_version", 1), "hash_version")
        fingerprint = f.get("fingerprint")
        if fingerprint is not None and not (
            type(fingerprint) is str and _HEX64.fullmatch(fingerprint)
        ):
            raise InvalidArgument(
                f"line {n}'s entry fingerprint {fingerprint!r} must be 64 lower-case hex digits"
            )
        result = f.get("result")
        if result is not None:
            result = _str(result, "result")
        path = f["path"]
        if not isinstance(path, list) or not all(
            type(p) is str and _HEX64.fullmatch(p) for p in path
        ):
            raise InvalidArgument(
                f"line {n}'s entry path must be a list of hashes (64 lower-case hex digits)"
            )
        prev_hash = f["prev_hash"]
        if type(prev_hash) is not str or not _HEX64.fullmatch(prev_hash):
            raise InvalidArgument(
                f"line {n}'s entry prev_hash {shown(prev_hash)} must be 64 lower-case hex "
                f"digits (SHA-256)"
            )
        proven.append(
            ProvenEntry(
                _int(f["id"], "entry id"),
                prev_hash,
                _str(f["text"], "entry text"),
                tuple(path),
                version,
                fingerprint,
                result,
            )
        )
    amount, amount_unit = _money(data["amount"], f"line {n} amount")
    units, units_unit = _money(data["units"], f"line {n} units")
    return ProvenLine(
        _int(data["line"], "line number"),
        at,
        _str(data["kind"], "kind"),
        _str(data["description"], "description"),
        amount,
        amount_unit,
        units,
        units_unit,
        tuple(proven),
    )


def prove_statement(
    app: _Books,
    creator: str,
    checkpoint: Checkpoint | None = None,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
) -> ProvenStatement:
    """``app.statement(creator)`` with the proofs of its entries against ``checkpoint``.

    Args:
        app: the :class:`~giftledger.GiftEconomy`.
        creator: whose statement.
        checkpoint: a checkpoint of ``app.ledger`` holding every entry of the
            statement (default: a new one).
        start: the period's first instant, as for ``statement``.
        end: the first instant after the period, as for ``statement``.

    Raises:
        InvalidArgument: an entry of the statement is after ``checkpoint``.
        ChainBroken: an entry's stored hash is not its content's, or the statement
            shows a line its entry does not say (the books are not consistent).

    Example:
        >>> import giftledger as gl
        >>> app = gl.GiftEconomy(gl.Ledger(), gl.presets.load("tiktok-live"))
        >>> _ = app.open_viewer("ann", region="US", age=30)
        >>> _ = app.open_creator("bob", region="US", age=30)
        >>> _ = app.buy_coins("ann", pack=70, channel="web")
        >>> _ = app.send_gift("ann", "bob", "Rose")
        >>> cp = app.ledger.checkpoint()
        >>> proven = gl.prove_statement(app, "bob", cp)
        >>> gl.verify_statement(proven.to_json(), cp.to_json()).lines[0].kind
        'gift'
    """
    book = app.ledger
    cp = book.checkpoint() if checkpoint is None else checkpoint
    statement = app.statement(creator, start=start, end=end)
    lines: list[ProvenLine] = []
    for line in statement.lines:
        if line.transaction == 0:
            continue  # a profile change: not a money line
        ids = [line.transaction]
        tx = book.transaction(line.transaction)
        if line.kind == "withdrawal failed" and tx.hold_id is not None:
            ids.append(tx.hold_id)
        entries = []
        for id in ids:
            if id > cp.size:
                raise InvalidArgument(
                    f"entry {id} of {creator!r}'s statement is after the checkpoint of "
                    f"{cp.size} entries: take a new checkpoint"
                )
            entry = book.transaction(id)
            text = canonical(entry)
            fingerprint = result = None
            if entry.hash_version == 3 and entry.key is not None:
                with book.store.read() as r:
                    record = r.idempotency(entry.key)
                if record is None:
                    raise ChainBroken(
                        f"entry {id} carries idempotency key {entry.key!r}, which the store "
                        f"no longer remembers: it cannot be proven offline (run verify())",
                        id,
                    )
                fingerprint, result = record.fingerprint, record.result
            version = entry.hash_version
            if hash_of_text(entry.prev_hash, text, version, fingerprint, result) != entry.hash:
                raise ChainBroken(
                    f"entry {id}'s hash is not SHA-256 of its content"
                    + (" and idempotency record" if fingerprint is not None else "")
                    + ": it cannot be proven offline (run verify())",
                    id,
                )
            path = book.inclusion_proof(id, cp).path
            entries.append(
                ProvenEntry(id, entry.prev_hash, text, path, version, fingerprint, result)
            )
        amount, units = line.amount, line.units
        proven = ProvenLine(
            len(lines) + 1,
            line.at,
            line.kind,
            line.description,
            None if amount is None else _minor(amount.amount, amount.currency.code),
            None if amount is None else amount.currency.code,
            None if units is None else _minor(units.amount, units.currency.code),
            None if units is None else units.currency.code,
            tuple(entries),
        )
        why = _check_line(proven, creator, [parse_canonical(e.text) for e in entries])
        if why is not None:
            raise ChainBroken(f"{creator!r}'s statement line {proven.number}: {why}", ids[0])
        lines.append(proven)
    return ProvenStatement(creator, cp.size, tuple(lines))


def _minor(amount: object, unit: str) -> int:
    from .._money.amounts import to_minor

    return to_minor(amount, unit)


def verify_statement(
    proven: ProvenStatement | str | bytes,
    checkpoint: Checkpoint | str | bytes,
    *,
    public_key: Ed25519PublicKey | bytes | None = None,
) -> ProvenStatement:
    """Check a proven statement against a published checkpoint, with no database.

    For each line: each entry's hash is recomputed from its text, proven to be
    that entry of the checkpoint's books, and read back; the line's amount,
    creator units, time and kind must be what the entry moves on the creator's
    own accounts.

    Args:
        proven: the statement (:class:`ProvenStatement` or its JSON).
        checkpoint: the published checkpoint (typed or JSON).
        public_key: if given, the checkpoint's Ed25519 signature is checked too
            (the ``signing`` extra).

    Returns:
        The statement, read.

    Raises:
        ProofFailed: names the first line that fails (``line`` holds its number)
            and what differs; or the checkpoint's size or signature.
        InvalidArgument: a value does not read.
    """
    st = proven if isinstance(proven, ProvenStatement) else ProvenStatement.from_json(proven)
    cp = checkpoint if isinstance(checkpoint, Checkpoint) else Checkpoint.from_json(checkpoint)
    if public_key is not None:
        cp.verify_signature(public_key)
    if st.size != cp.size:
        raise ProofFailed(
            f"the statement is proven against {st.size} entries, the checkpoint has {cp.size}"
        )
    seen: dict[int, int] = {}  # each line's entry -> the line
    last: tuple[datetime, int] | None = None  # the line before's (effective time, entry)
    for n, line in enumerate(st.lines, 1):
        where = f"line {n}"

        def fail(why: str, line_: ProvenLine = line, where_: str = where) -> ProofFailed:
            which = shown(line_.entries[0].id)
            return ProofFailed(f"{where_} (entry {which}): {why}", line_.number)

        if line.number != n:
            raise ProofFailed(f"{where} is numbered {line.number}", n)
        txs = []
        for e in line.entries:
            try:
                tx = parse_canonical(e.text)
                if e.hash_version == 3 and (tx.key is None) is not (e.fingerprint is None):
                    raise ProofFailed(
                        f"a formula 3 entry {'with' if tx.key is not None else 'without'} an "
                        f"idempotency key comes with{'out' if tx.key is not None else ''} the "
                        f"fingerprint of its record, which its hash covers"
                    )
                verify_inclusion(InclusionProof(e.id, cp.size, e.hash, e.path), cp)
            except (ProofFailed, InvalidArgument) as exc:
                raise fail(f"entry {shown(e.id)} does not check: {exc}") from None
            if tx.id != e.id:
                raise fail(f"the text of entry {e.id} is entry {tx.id}'s")
            txs.append(tx)
        why = _check_line(line, st.creator, txs)
        if why is not None:
            raise fail(why)
        # One line per entry, oldest first (by effective time, then entry id), as
        # statement() writes them: a line repeated would count its money twice.
        entry = txs[0]
        if entry.id in seen:
            raise fail(f"it repeats line {seen[entry.id]}: the same entry twice")
        order = (entry.effective_at, entry.id)
        if last is not None and order < last:
            raise fail(
                f"it is out of order: lines go oldest first (by effective time, then entry "
                f"id), and line {n - 1} is entry {last[1]} of {last[0].isoformat()}"
            )
        seen[entry.id] = n
        last = order
    return st


def _check_line(line: ProvenLine, creator: str, txs: Sequence[Transaction]) -> str | None:
    """Why ``line`` is not what its entries say for ``creator``, or None if it is."""
    tx = txs[0]
    meta = dict(tx.metadata)
    op = meta.get("gl.op")
    if line.kind not in _OPS:
        return f"a line of kind {line.kind!r} cannot be proven"
    if op not in _OPS[line.kind]:
        return f"the line says {line.kind!r} but the entry is a {op!r} record"
    if meta.get("gl.creator", creator) != creator:
        return f"the entry is {meta.get('gl.creator')!r}'s, not {creator!r}'s"
    if line.at != tx.effective_at:
        return f"the line is dated {line.at.isoformat()}, the entry {tx.effective_at.isoformat()}"
    wanted = 2 if line.kind == "withdrawal failed" else 1  # its settlement and its hold
    if len(txs) != wanted:
        return (
            f"a {line.kind!r} line proves {wanted} entr{'ies' if wanted > 1 else 'y'}, this one "
            f"carries {len(txs)}"
        )
    payable = f"liabilities:creators-payable:{creator}"
    diamonds = f"creators:{creator}:diamonds"
    cash = f"creators:{creator}:cash"

    def credited(entry: Transaction, account: str) -> tuple[int, str | None]:
        net, unit = 0, None
        for p in entry.postings:
            if p.account == account:
                net += -p.minor if p.side is Side.DEBIT else p.minor
                unit = p.unit
        return net, unit

    expected: dict[str, Callable[[], tuple[int, str | None] | None]] = {
        "gift": lambda: credited(tx, payable),
        "conversion": lambda: credited(tx, cash),
        "views": lambda: credited(tx, cash),
        "withdrawal": lambda: credited(tx, cash),
        "withdrawal paid": lambda: None,
        "withdrawal failed": lambda: _returned(tx, txs, cash),
    }
    amount = expected[line.kind]()
    if line.kind == "withdrawal failed" and amount is None:
        return "the entry does not settle the withdrawal the line carries"
    why = _compare("amount", line.amount, line.amount_unit, amount)
    if why is not None:
        return why
    units: tuple[int, str | None] | None = None
    if line.kind == "gift" or line.kind == "conversion":
        units = credited(tx, diamonds)
    return _compare("creator units", line.units, line.units_unit, units)


def _returned(
    tx: Transaction, txs: Sequence[Transaction], cash: str
) -> tuple[int, str | None] | None:
    """What a failed withdrawal returns: the cash its hold reserved (``txs`` is its two
    entries, as :func:`_check_line` has checked)."""
    if tx.kind is not EntryKind.VOID_HOLD:
        return None
    hold = txs[1]
    if hold.id != tx.hold_id or hold.kind is not EntryKind.HOLD:
        return None
    for p in hold.postings:
        if p.account == cash and p.side is Side.DEBIT:
            return p.minor, p.unit
    return None


def _compare(
    what: str,
    shown: int | None,
    shown_unit: str | None,
    actual: tuple[int, str | None] | None,
) -> str | None:
    if actual is None:
        return None if shown is None else f"the line shows {what} the entry does not move"
    minor, unit = actual
    if shown is None:
        return f"the line leaves out the {what} the entry moves ({minor} {unit})"
    if shown != minor or (unit is not None and shown_unit != unit):
        return (
            f"the line shows {what} {shown} {shown_unit} (minor units) but the entry moves "
            f"{minor} {unit}"
        )
    return None
