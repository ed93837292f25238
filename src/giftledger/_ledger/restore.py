"""Restoring a journal into an empty ledger, re-checking every entry as it goes.

An export is only as trustworthy as the checks its way back in makes. A
:class:`Restorer` writes accounts, entries and idempotency records through the
:class:`~giftledger._ledger.store.StoreWriter` protocol (so it works on every
store), inside one locked store write that the caller opens and that rolls
back if anything fails: nothing is written unless the whole journal restored.

Each entry is checked before it is appended, with the checks
:meth:`Ledger.verify <giftledger.Ledger.verify>` makes, in journal order:

- its id follows the last one and it links to the last entry's hash, and its
  own hash matches its content (``entry_hash``), so an edited entry, or one
  inserted, removed or moved, is refused, and so is a chain record (``gl.``
  metadata) added to an entry. A keyed entry of hash formula 3 is hashed with
  its key's idempotency record, which an export writes after the entries: its
  hash is checked when that record comes (:meth:`Restorer.idempotency`), and
  :meth:`Restorer.finish` refuses the journal if it never came;
- ``recorded_at`` does not go backwards;
- its postings are in their accounts' units, positive and balanced per unit;
- what it links to holds: a note moves nothing, a hold is one debit and one
  credit in one unit, a settlement settles a pending hold by its terms (before
  expiry, within the amount held), a reversal mirrors a posted, unreversed
  entry.

Balance rules are not re-applied: the journal records what the ledger allowed
at the time (a forced reversal may take an account below its rule), and every
entry is under the hash chain.

The ledger core knows no file format: :mod:`giftledger._exports` reads the
lines and hands records to a restorer.
"""

from __future__ import annotations

from datetime import datetime

from .._errors import RestoreRefused
from .._money.amounts import MAX_MINOR
from .definitions import DEFINING, account_of, follows, settings
from .hashing import GENESIS_HASH, entry_hash
from .model import (
    Account,
    EntryKind,
    Hold,
    HoldStatus,
    Posting,
    Side,
    Transaction,
    check_account_name,
)
from .store import IdempotencyRecord, StoreWriter

__all__ = ["Restorer"]

_DEBIT = Side.DEBIT
_POSTED = frozenset({EntryKind.POST, EntryKind.POST_HOLD, EntryKind.REVERSAL})
_SETTLES = frozenset({EntryKind.POST_HOLD, EntryKind.VOID_HOLD, EntryKind.EXPIRE_HOLD})


class Restorer:
    """Writes a journal back into an empty ledger through a locked store writer.

    Call :meth:`account` for every account, then :meth:`entry` for every entry
    in id order (with :meth:`idempotency` for a key's record once its entry is
    in), then :meth:`finish`. Every method raises
    :class:`~giftledger.RestoreRefused` naming ``line`` (the caller's position
    in its source) and the entry; the caller's store write then rolls back.

    Args:
        w: the store writer, inside ``store.write()`` (a memory store's batch
            writer, so a failure rolls back every entry already appended).

    Raises:
        RestoreRefused: the ledger already holds entries or accounts.
    """

    def __init__(self, w: StoreWriter) -> None:
        head_id, _ = w.head()
        if head_id or w.account_states(""):
            raise RestoreRefused(
                f"the target ledger is not empty ({head_id} entries, "
                f"{len(w.account_states(''))} accounts); restore into a new, empty ledger"
            )
        self._w = w
        self._units: dict[str, str] = {}  # account name -> unit
        self._id = 0
        self._hash = GENESIS_HASH
        self._time: datetime | None = None
        # Formula 3 keyed entries whose hash waits for their key's record:
        # key -> (entry, the hash before it, its line).
        self._unhashed: dict[str, tuple[Transaction, str, int | None]] = {}
        # The accounts as the export's account lines give them, and as the journal's
        # ACCOUNT entries define them (from the first defining entry on, the journal
        # decides: an account line must be what its last ACCOUNT entry says).
        self._given: dict[str, tuple[Account, int | None]] = {}
        self._defs: dict[str, tuple[Account, int]] = {}
        self._defined = False

    @property
    def head(self) -> tuple[int, str]:
        """The id and hash of the last entry restored (``(0, GENESIS_HASH)`` at first)."""
        return self._id, self._hash

    def account(self, account: Account, line: int | None = None) -> None:
        """Restore ``account`` (open or closed) with zero totals; before any entry."""
        where = _where(line)
        if self._id:
            raise RestoreRefused(
                f"{where}account {account.name!r} comes after the entries; accounts come first",
                line,
            )
        try:
            check_account_name(account.name)
        except Exception as exc:
            raise RestoreRefused(f"{where}{exc}", line) from None
        if account.name in self._units:
            raise RestoreRefused(f"{where}account {account.name!r} appears twice", line)
        self._units[account.name] = account.unit
        self._given[account.name] = (account, line)
        self._w.add_account(account)

    def entry(self, tx: Transaction, line: int | None = None) -> None:
        """Check ``tx`` against the journal restored so far, then append it."""
        where = f"{_where(line)}entry {tx.id}: "
        expected = self._id + 1
        if tx.id != expected:
            raise RestoreRefused(
                f"{where}expected entry {expected} next, found entry {tx.id}: entries were "
                f"removed, inserted or reordered",
                line,
                tx.id,
            )
        if tx.prev_hash != self._hash:
            raise RestoreRefused(
                f"{where}links to {tx.prev_hash[:12]}… but entry {self._id} hashes to "
                f"{self._hash[:12]}…: an entry before it was changed, removed or inserted",
                line,
                tx.id,
            )
        if tx.hash_version == 3 and tx.key is not None:
            # Hashed with its key's record, which comes after the entries.
            if tx.key in self._unhashed:
                raise RestoreRefused(
                    f"{where}carries idempotency key {tx.key!r}, which entry "
                    f"{self._unhashed[tx.key][0].id} carries too",
                    line,
                    tx.id,
                )
            self._unhashed[tx.key] = (tx, self._hash, line)
            actual = tx.hash
        else:
            actual = entry_hash(tx, self._hash)
        if actual != tx.hash:
            raise RestoreRefused(
                f"{where}does not match its hash: its content was changed after it was "
                f"recorded (carries {tx.hash[:12]}…, content hashes to {actual[:12]}…)",
                line,
                tx.id,
            )
        if self._time is not None and tx.recorded_at < self._time:
            raise RestoreRefused(
                f"{where}recorded_at {tx.recorded_at.isoformat()} is earlier than the entry "
                f"before ({self._time.isoformat()})",
                line,
                tx.id,
            )
        w = self._w
        self._check_postings(tx, where, line)
        if tx.kind in DEFINING:
            self._defined = True
        if tx.kind is EntryKind.ACCOUNT:
            self._define(tx, where, line)
        elif self._defined:
            self._check_defined(tx, where, line)
        for rate in tx.rates:
            try:
                rate.check()
            except Exception as exc:
                raise RestoreRefused(f"{where}{exc}", line, tx.id) from None
        deltas: dict[str, tuple[int, int, int]] = {}
        net_after: list[int] = []
        hold: Hold | None = None
        kind = tx.kind
        if tx.reverses is not None and kind is not EntryKind.REVERSAL:
            raise RestoreRefused(f"{where}a {kind.value} entry cannot reverse", line, tx.id)
        if tx.hold_id is not None and kind not in _SETTLES:
            raise RestoreRefused(f"{where}a {kind.value} entry cannot settle a hold", line, tx.id)
        if tx.expires_at is not None and kind is not EntryKind.HOLD:
            raise RestoreRefused(f"{where}a {kind.value} entry cannot expire", line, tx.id)
        if kind is EntryKind.NOTE or kind in DEFINING:
            if tx.postings:
                raise RestoreRefused(f"{where}a {kind.value} entry moves nothing", line, tx.id)
        elif kind is EntryKind.HOLD:
            hold = self._hold(tx, where, line, deltas)
        elif kind in _SETTLES:
            hold = self._settle(tx, where, line, deltas)
        else:
            if kind is EntryKind.REVERSAL:
                self._check_reversal(tx, where, line)
            elif len(tx.postings) < 2:
                raise RestoreRefused(f"{where}a posted entry needs two postings", line, tx.id)
        if kind in _POSTED:
            states = w.lock_accounts(sorted({p.account for p in tx.postings}))
            running = {name: st.net for name, st in states.items()}
            for p in tx.postings:
                running[p.account] += p.signed
                net_after.append(running[p.account])
                dnet, dpd, dpc = deltas.get(p.account, (0, 0, 0))
                deltas[p.account] = (dnet + p.signed, dpd, dpc)
        else:
            w.lock_accounts(sorted(deltas))
        w.append(tx, deltas, net_after, hold)
        self._id, self._hash, self._time = tx.id, tx.hash, tx.recorded_at

    def idempotency(self, record: IdempotencyRecord, line: int | None = None) -> None:
        """Restore what the ledger remembers of a key, once the entries are in.

        A record that names an entry must name a restored one: a key of the
        caller's must be that entry's own key (an entry written under a key
        carries it, under the hash), and a chain alias (a ``gl:`` key) must name
        one of the chain's entries (with ``gl.`` metadata). Idempotency records
        are not under the hash chain, in a store or an export: beyond these
        checks they are taken as written, except the record of a keyed entry of
        hash formula 3: that entry's hash covers the record's fingerprint and
        result, and is checked now.
        """
        where = _where(line)
        w = self._w
        if w.idempotency(record.key) is not None:
            raise RestoreRefused(f"{where}idempotency key {record.key!r} appears twice", line)
        unhashed = self._unhashed.pop(record.key, None)
        if unhashed is not None:
            keyed, prev, at = unhashed
            if record.transaction_id != keyed.id or record.error_type is not None:
                raise RestoreRefused(
                    f"{where}idempotency record {record.key!r} does not name entry {keyed.id}, "
                    f"which carries its key",
                    line,
                    keyed.id,
                )
            actual = entry_hash(keyed, prev, record.fingerprint, record.result)
            if actual != keyed.hash:
                # Named by the entry's line: the entry or its record was changed.
                raise RestoreRefused(
                    f"{_where(at)}entry {keyed.id}: does not match its hash with the record of "
                    f"its idempotency key {record.key!r}"
                    + ("" if line is None else f" (line {line})")
                    + f": the entry or the record's fingerprint or result was changed after "
                    f"it was recorded (carries {keyed.hash[:12]}…, hashes to {actual[:12]}…)",
                    at,
                    keyed.id,
                )
        tid = record.transaction_id
        if tid is not None:
            tx = w.transaction(tid) if 0 < tid <= self._id else None
            if (
                tx is None
                or (tx.key != record.key and not _alias(record.key))
                or (_alias(record.key) and not any(k.startswith("gl.") for k, _ in tx.metadata))
            ):
                raise RestoreRefused(
                    f"{where}idempotency record {record.key!r} names entry {tid}, which is not "
                    f"a restored entry it can name",
                    line,
                    tid,
                )
        w.remember(record)

    def finish(self) -> int:
        """Check the restored books add up; return the number of entries."""
        for key, (tx, _, line) in sorted(self._unhashed.items(), key=lambda kv: kv[1][0].id):
            raise RestoreRefused(
                f"{_where(line)}entry {tx.id} carries idempotency key {key!r}, but no record "
                f"of it came: its hash (formula 3) covers the key's record",
                line,
                tx.id,
            )
        if self._defined:
            for name, (account, at) in self._given.items():
                defined = self._defs.get(name)
                if defined is None:
                    raise RestoreRefused(
                        f"{_where(at)}account {name!r} is opened by no entry of the journal",
                        at,
                    )
                if defined[0] != account:
                    raise RestoreRefused(
                        f"{_where(at)}account {name!r} differs from its definition in entry "
                        f"{defined[1]} (the line says {settings(account)}; the journal "
                        f"{settings(defined[0])}): the line was changed",
                        at,
                        defined[1],
                    )
        debits, credits = self._w.totals()
        for unit in set(debits) | set(credits):
            if debits.get(unit, 0) != credits.get(unit, 0):
                raise RestoreRefused(f"the restored trial balance is off in {unit}")
        return self._id

    # -- checks --------------------------------------------------------------------------

    def _define(self, tx: Transaction, where: str, line: int | None) -> None:
        """Take an ``ACCOUNT`` entry's definition: of an account the export opens, and
        the same account again or its closing, never another one."""
        account = account_of(tx)
        if account is None or account.name not in self._units:
            raise RestoreRefused(
                f"{where}is an account entry of no account the export opens", line, tx.id
            )
        before = self._defs.get(account.name)
        if before is not None and not follows(before[0], account):
            raise RestoreRefused(
                f"{where}defines account {account.name!r} otherwise than entry {before[1]}",
                line,
                tx.id,
            )
        self._defs[account.name] = (account, tx.id)

    def _check_defined(self, tx: Transaction, where: str, line: int | None) -> None:
        """Each posting of ``tx`` goes to an account the journal opened before it and
        has not closed."""
        for i, p in enumerate(tx.postings):
            defined = self._defs.get(p.account)
            if defined is None:
                raise RestoreRefused(
                    f"{where}posting {i} names account {p.account!r}, which no entry before "
                    f"it opens",
                    line,
                    tx.id,
                )
            if defined[0].closed:
                raise RestoreRefused(
                    f"{where}posting {i} names account {p.account!r}, which entry "
                    f"{defined[1]} closed",
                    line,
                    tx.id,
                )

    def _check_postings(self, tx: Transaction, where: str, line: int | None) -> None:
        sums: dict[str, int] = {}
        for i, p in enumerate(tx.postings):
            unit = self._units.get(p.account)
            if unit is None:
                raise RestoreRefused(
                    f"{where}posting {i} names account {p.account!r}, which the export does "
                    f"not open",
                    line,
                    tx.id,
                )
            if p.unit != unit or type(p.minor) is not int or not 0 < p.minor <= MAX_MINOR:
                raise RestoreRefused(
                    f"{where}posting {i} ({p.minor} {p.unit}) does not fit account "
                    f"{p.account!r} ({unit})",
                    line,
                    tx.id,
                )
            sums[p.unit] = sums.get(p.unit, 0) + p.signed
        off = sorted(u for u, v in sums.items() if v)
        if off:
            raise RestoreRefused(f"{where}is not balanced in {', '.join(off)}", line, tx.id)

    def _hold(
        self,
        tx: Transaction,
        where: str,
        line: int | None,
        deltas: dict[str, tuple[int, int, int]],
    ) -> Hold:
        ps = tx.postings
        if len(ps) != 2 or ps[0].side is not _DEBIT or ps[0].account == ps[1].account:
            raise RestoreRefused(
                f"{where}a hold is one debit then one credit, to two accounts", line, tx.id
            )
        d, c = ps
        if tx.expires_at is not None and tx.expires_at <= tx.recorded_at:
            raise RestoreRefused(f"{where}the hold expires before it was placed", line, tx.id)
        deltas[d.account] = (0, d.minor, 0)
        deltas[c.account] = (0, 0, c.minor)
        return Hold(tx.id, d.account, c.account, d.minor, d.unit, tx.expires_at)

    def _settle(
        self,
        tx: Transaction,
        where: str,
        line: int | None,
        deltas: dict[str, tuple[int, int, int]],
    ) -> Hold:
        hid = tx.hold_id
        h = self._w.hold(hid) if hid is not None and 0 < hid < tx.id else None
        if h is None or h.status is not HoldStatus.PENDING:
            raise RestoreRefused(f"{where}settles hold {hid}, which is not pending", line, tx.id)
        kind = tx.kind
        expired = h.expires_at is not None and tx.recorded_at >= h.expires_at
        if (kind is EntryKind.EXPIRE_HOLD) is not expired:
            raise RestoreRefused(
                f"{where}{kind.value} of hold {h.id} at {tx.recorded_at.isoformat()} does not "
                f"fit its expiry ({h.expires_at.isoformat() if h.expires_at else 'never'})",
                line,
                tx.id,
            )
        deltas[h.debit] = (0, -h.minor, 0)
        deltas[h.credit] = (0, 0, -h.minor)
        if kind is EntryKind.POST_HOLD:
            ps = tx.postings
            minor = ps[0].minor if ps else 0
            if (
                len(ps) != 2
                or ps[0] != Posting(h.debit, _DEBIT, minor, h.unit)
                or ps[1] != Posting(h.credit, Side.CREDIT, minor, h.unit)
                or not 0 < minor <= h.minor
            ):
                raise RestoreRefused(
                    f"{where}does not post hold {h.id} by its terms ({h.minor} {h.unit} from "
                    f"{h.credit!r} to {h.debit!r})",
                    line,
                    tx.id,
                )
            status = HoldStatus.POSTED
        else:
            if tx.postings:
                raise RestoreRefused(f"{where}a {kind.value} entry moves nothing", line, tx.id)
            minor = 0
            status = HoldStatus.VOIDED if kind is EntryKind.VOID_HOLD else HoldStatus.EXPIRED
        return Hold(h.id, h.debit, h.credit, h.minor, h.unit, h.expires_at, status, minor, tx.id)

    def _check_reversal(self, tx: Transaction, where: str, line: int | None) -> None:
        target = tx.reverses
        original = (
            self._w.transaction(target) if target is not None and 0 < target < tx.id else None
        )
        if (
            original is None
            or original.kind not in (EntryKind.POST, EntryKind.POST_HOLD)
            or original.reversed_by is not None
        ):
            raise RestoreRefused(
                f"{where}reverses entry {target}, which is not a posted, unreversed entry",
                line,
                tx.id,
            )
        mirrored = tuple(
            Posting(p.account, p.side.opposite, p.minor, p.unit) for p in original.postings
        )
        if tx.postings != mirrored:
            raise RestoreRefused(
                f"{where}does not mirror the postings of entry {target}, which it reverses",
                line,
                tx.id,
            )


def _alias(key: str) -> bool:
    return key.startswith("gl:")


def _where(line: int | None) -> str:
    return "" if line is None else f"line {line}: "
