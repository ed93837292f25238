"""Verification: re-check the hash chain and every invariant of the journal.

:class:`VerifyMixin` gives :class:`~giftledger.Ledger` its :meth:`verify`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import attrs

from .._boundary import boundary_methods
from .._errors import ChainBroken, InvalidArgument
from .checkpoints import check_since
from .definitions import DEFINING, account_of, follows, record_of, settings
from .hashing import GENESIS_HASH, HASH_VERSIONS, entry_hash
from .model import Account, EntryKind, Hold, HoldStatus, Side, Transaction
from .proofs import Checkpoint
from .store import AccountState, IdempotencyRecord, StoreReader
from .writes import WriteCore

__all__ = ["VerifyMixin"]

_DEBIT = Side.DEBIT
_POSTED = frozenset({EntryKind.POST, EntryKind.POST_HOLD, EntryKind.REVERSAL})


@boundary_methods
class VerifyMixin(WriteCore):
    """The :meth:`verify` method of :class:`~giftledger.Ledger`."""

    def verify(
        self,
        since: Checkpoint | None = None,
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> int:
        """Re-check the hash chain and every invariant; return the number of entries.

        With ``since`` (a :class:`~giftledger.Checkpoint` published earlier), also
        prove the books only grew since it: they hold at least its entries, its
        head entry still has its hash and the Merkle root of its first entries is
        its root, re-hashed from the store. A truncation, or a rewrite whose
        entries were all hashed again (so the chain itself holds), is reported.

        Checks: ids run 1, 2, 3 … without gaps; each entry links to the hash of
        the one before and its own hash matches its content, under the chain
        formula it was written with (1 and 2 for entries of earlier releases, then 3,
        which covers a keyed entry's idempotency record: its fingerprint and result
        as the store holds them); each entry is
        balanced per unit and its postings are in their accounts' units (a note
        has none);
        reversal and hold links point where they should; the stored account
        totals, pending totals, each account's next hold expiry and the per-unit
        trial balance equal what the journal adds up to; and the store holds no
        row of an entry or account the journal lacks (totals of an account never
        opened, a posting or hold beyond the head).

        Args:
            progress: called as ``progress(done, total)`` every 1,024 entries and
                once at the end (a progress bar); ``total`` is the head's id when
                the check started.

        Raises:
            ChainBroken: names the first entry (or account) that does not hold, or
                what differs from ``since``: fewer entries, another head, another root.
        """
        if since is not None and not isinstance(since, Checkpoint):
            raise InvalidArgument(
                f"since {since!r} must be a Checkpoint (read JSON with Checkpoint.from_json)"
            )
        with self.store.read() as r:
            count = _verify(r, progress)
            if since is not None:
                check_since(r, since, count)
            return count


def _verify(r: StoreReader, progress: Callable[[int, int], None] | None = None) -> int:
    total = r.head()[0] if progress is not None else 0
    prev = GENESIS_HASH
    last_version = 1
    count = 0
    nets: dict[str, int] = {}
    pend: dict[str, list[int]] = {}
    debits: dict[str, int] = {}
    credits: dict[str, int] = {}
    holds: dict[int, Transaction] = {}
    settled: dict[int, Hold] = {}  # every hold the journal placed, as it now stands
    reversed_: dict[int, int] = {}
    claimed: dict[int, int] = {}  # reversed_by links as stored beside the entries
    accounts = {st.account.name: st for st in r.account_states("")}
    # Definitions under the hash: the accounts and idempotency records the journal
    # states, checked against the store's once the journal is read. ``defined`` from
    # the first entry that journals one: a book of an earlier release has none.
    defined = False
    defs: dict[str, Account] = {}
    defined_by: dict[str, int] = {}
    carriers: dict[str, int] = {}  # key -> the first entry carrying it
    journaled: dict[str, tuple[IdempotencyRecord, int]] = {}  # key -> KEY entry's record
    # The store's records, read at the first keyed formula 3 entry (or for the checks
    # after the journal): one read of them per check.
    keyed: dict[str, IdempotencyRecord] | None = None
    for tx in r.transactions():
        count += 1
        if progress is not None and not count & 1023:
            progress(count, total)
        where = f"transaction {tx.id}"
        if tx.id != count:
            # Name the entry by its place in the journal: its stored id is what changed.
            raise ChainBroken(
                f"transaction {count} is out of sequence: it carries id {tx.id}", count
            )
        if tx.prev_hash != prev:
            raise ChainBroken(
                f"{where} links to {tx.prev_hash[:12]}… but the entry before hashes to "
                f"{prev[:12]}…: an entry before it was changed, removed or inserted",
                tx.id,
            )
        version = tx.hash_version
        if version != last_version:
            # Formula 1 entries come first (written by earlier releases), then 2, then 3.
            if version not in HASH_VERSIONS or version < last_version:
                raise ChainBroken(
                    f"{where} carries hash version {version!r} after version {last_version}: "
                    f"entries are chained by formula 1, then 2, then 3, never back",
                    tx.id,
                )
            last_version = version
        fingerprint = result = None
        if version == 3 and tx.key is not None:
            # Formula 3 hashes a keyed entry with its idempotency record as stored.
            if keyed is None:
                keyed = _records(r)
            rec = keyed.get(tx.key)
            if rec is None:
                raise ChainBroken(
                    f"{where} carries idempotency key {tx.key!r}, which the store no longer "
                    f"remembers: its hash covers the key's record, and a retry under it would "
                    f"write again",
                    tx.id,
                )
            fingerprint, result = rec.fingerprint, rec.result
        actual = entry_hash(tx, prev, fingerprint, result)
        if actual != tx.hash:
            raise ChainBroken(
                f"{where} does not match its hash: its content"
                + (
                    f" or the record of its idempotency key {tx.key!r} (fingerprint, result)"
                    if fingerprint is not None
                    else ""
                )
                + f" was changed after it was recorded (stored {tx.hash[:12]}…, "
                f"{'content and record hash' if fingerprint is not None else 'content hashes'} "
                f"to {actual[:12]}…)",
                tx.id,
            )
        prev = tx.hash
        if tx.reversed_by is not None:
            claimed[tx.id] = tx.reversed_by
        kind = tx.kind
        if tx.key is not None and tx.key not in carriers:
            carriers[tx.key] = tx.id
        if kind in DEFINING:
            defined = True
            if tx.postings or tx.hold_id is not None or tx.reverses is not None or tx.expires_at:
                raise ChainBroken(
                    f"{where} is a {kind.value} entry but moves or links something", tx.id
                )
            if kind is EntryKind.ACCOUNT:
                _define(tx, defs, defined_by)
            elif kind is EntryKind.KEY:
                rec = record_of(tx)
                if rec is None or rec.key in journaled:
                    raise ChainBroken(
                        f"{where} journals an idempotency record it cannot: malformed, or "
                        f"its key was journaled before",
                        tx.id,
                    )
                journaled[rec.key] = (rec, tx.id)
            continue
        sums: dict[str, int] = {}
        for p in tx.postings:
            account = defs.get(p.account)
            if account is None and not defined:
                st = accounts.get(p.account)
                account = None if st is None else st.account
            if account is None or account.unit != p.unit or p.minor <= 0:
                raise ChainBroken(
                    f"{where} has a posting to {p.account!r} that does not fit its account"
                    + (
                        " (the journal does not define it before)"
                        if account is None and defined
                        else ""
                    ),
                    tx.id,
                )
            if account.closed and defined:
                # An account is closed only with nothing in it and never reopened:
                # nothing may post to it after its closing entry.
                raise ChainBroken(
                    f"{where} posts to account {p.account!r}, which transaction "
                    f"{defined_by[p.account]} closed",
                    tx.id,
                )
            sums[p.unit] = sums.get(p.unit, 0) + p.signed
        if any(sums.values()):
            raise ChainBroken(f"{where} is not balanced per unit: {sums}", tx.id)
        if kind is EntryKind.NOTE and (
            tx.postings or tx.hold_id is not None or tx.reverses is not None or tx.expires_at
        ):
            raise ChainBroken(f"{where} is a note but moves or links something", tx.id)
        if kind in _POSTED:
            for p in tx.postings:
                nets[p.account] = nets.get(p.account, 0) + p.signed
                if p.side is _DEBIT:
                    debits[p.unit] = debits.get(p.unit, 0) + p.minor
                else:
                    credits[p.unit] = credits.get(p.unit, 0) + p.minor
        if kind is EntryKind.HOLD:
            holds[tx.id] = tx
            d, c = tx.postings
            pend.setdefault(d.account, [0, 0])[0] += d.minor
            pend.setdefault(c.account, [0, 0])[1] += c.minor
            settled[tx.id] = Hold(tx.id, d.account, c.account, d.minor, d.unit, tx.expires_at)
        elif kind in (EntryKind.POST_HOLD, EntryKind.VOID_HOLD, EntryKind.EXPIRE_HOLD):
            placed = holds.pop(tx.hold_id, None) if tx.hold_id is not None else None
            if placed is None:
                raise ChainBroken(f"{where} settles hold {tx.hold_id}, which is not pending", tx.id)
            d, c = placed.postings
            pend[d.account][0] -= d.minor
            pend[c.account][1] -= c.minor
            settled[placed.id] = attrs.evolve(
                settled[placed.id],
                status=_SETTLED[kind],
                posted_minor=tx.postings[0].minor if kind is EntryKind.POST_HOLD else 0,
                resolved_by=tx.id,
            )
        elif kind is EntryKind.REVERSAL:
            if tx.reverses is None or tx.reverses >= tx.id or tx.reverses in reversed_:
                raise ChainBroken(f"{where} reverses {tx.reverses}, which it cannot", tx.id)
            reversed_[tx.reverses] = tx.id
    # reversed_by is a link kept beside the hashed content: check it against the
    # reversals the journal holds, both ways.
    wrong = [i for i in claimed.keys() | reversed_.keys() if claimed.get(i) != reversed_.get(i)]
    if wrong:
        first = min(wrong)
        raise ChainBroken(
            f"transaction {first} is linked as reversed by {claimed.get(first)}, but the "
            f"journal's reversal of it is {reversed_.get(first)}",
            first,
        )
    head_id, head_hash = r.head()
    if head_id != count or head_hash != prev:
        raise ChainBroken(
            f"the journal holds {count} entries ending in {prev[:12]}… but the store's head "
            f"says {head_id} ending in {head_hash[:12]}…: entries are missing at the end",
            None,
        )
    if defined:
        _check_accounts(accounts, defs, defined_by)
    if keyed is None:  # no keyed formula 3 entry read them
        keyed = _records(r)
    _check_records(keyed, carriers, journaled, defined)
    for name, st in accounts.items():
        pd, pc = pend.get(name, [0, 0])
        if st.net != nets.get(name, 0) or st.pending_debits != pd or st.pending_credits != pc:
            raise ChainBroken(
                f"account {name!r} holds totals (net {st.net}, pending {st.pending_debits}/"
                f"{st.pending_credits}) that differ from its journal (net {nets.get(name, 0)}, "
                f"pending {pd}/{pc})",
                None,
            )
    _check_expiry(accounts, holds)
    sd, sc = r.totals()
    if {u: v for u, v in sd.items() if v} != debits or {
        u: v for u, v in sc.items() if v
    } != credits:
        raise ChainBroken("the stored per-unit totals differ from the journal", None)
    for unit in set(debits) | set(credits):
        if debits.get(unit, 0) != credits.get(unit, 0):
            raise ChainBroken(f"the trial balance is off in {unit}", None)
    # A store may keep more it derives from the journal (indexes, running totals per
    # posting): it checks those itself, raising ChainBroken, if it has the hook.
    check_derived = getattr(r, "check_derived", None)
    if check_derived is not None:
        check_derived()
    if not getattr(r, "checks_derived_history", False):
        _check_holds(r, settled)
        _check_history(r, accounts)
    if progress is not None:
        progress(count, total)
    return count


_SETTLED = {
    EntryKind.POST_HOLD: HoldStatus.POSTED,
    EntryKind.VOID_HOLD: HoldStatus.VOIDED,
    EntryKind.EXPIRE_HOLD: HoldStatus.EXPIRED,
}
_PAGE = 4096


def _define(tx: Transaction, defs: dict[str, Account], defined_by: dict[str, int]) -> None:
    """Take the ``ACCOUNT`` entry ``tx`` into ``defs``: a first definition, the same
    one again, or its closing; anything else is a rewrite of the account."""
    account = account_of(tx)
    if account is None:
        raise ChainBroken(f"transaction {tx.id} is an account entry it cannot be", tx.id)
    before = defs.get(account.name)
    if before is not None and not follows(before, account):
        raise ChainBroken(
            f"transaction {tx.id} defines account {account.name!r} as {settings(account)}, "
            f"but transaction {defined_by[account.name]} defined it as {settings(before)}",
            tx.id,
        )
    defs[account.name] = account
    defined_by[account.name] = tx.id


def _check_accounts(
    accounts: dict[str, AccountState], defs: dict[str, Account], defined_by: dict[str, int]
) -> None:
    """Each stored account is the one the journal defines, and the journal defines no more."""
    for name in sorted(accounts.keys() | defs.keys()):
        st, account = accounts.get(name), defs.get(name)
        if account is None:
            raise ChainBroken(
                f"account {name!r} is in the store, but the journal never opened it", None
            )
        if st is None:
            raise ChainBroken(
                f"account {name!r} was opened by transaction {defined_by[name]}, but the store "
                f"does not hold it",
                defined_by[name],
            )
        if st.account != account:
            diff = [
                f"{f.name} {getattr(st.account, f.name)!r} (journal: {getattr(account, f.name)!r})"
                for f in attrs.fields(Account)
                if getattr(st.account, f.name) != getattr(account, f.name)
            ]
            raise ChainBroken(
                f"account {name!r} differs from its definition in transaction "
                f"{defined_by[name]}: the store holds {', '.join(diff)}",
                defined_by[name],
            )


def _check_records(
    records: dict[str, IdempotencyRecord],
    carriers: dict[str, int],
    journaled: dict[str, tuple[IdempotencyRecord, int]],
    defined: bool,
) -> None:
    """Each key an entry carries is remembered as that entry's, each journaled record is
    the store's (``records``, by key), and (once the book is defined) the store remembers
    nothing more."""
    for key, tid in carriers.items():
        rec = records.get(key)
        if rec is None:
            raise ChainBroken(
                f"transaction {tid} carries idempotency key {key!r}, which the store no longer "
                f"remembers: a retry under it would write again",
                tid,
            )
        if rec.transaction_id != tid or rec.error_type is not None:
            raise ChainBroken(
                f"the store remembers idempotency key {key!r} of transaction {tid} as "
                f"{_outcome(rec)}",
                tid,
            )
    for key, (stated, tid) in journaled.items():
        rec = records.get(key)
        if rec != stated:
            raise ChainBroken(
                f"transaction {tid} journals idempotency key {key!r} as {_outcome(stated)}, but "
                f"the store remembers "
                + ("nothing of it" if rec is None else f"{_outcome(rec)} ({rec!r})"),
                tid,
            )
        if key in carriers:
            raise ChainBroken(
                f"transaction {tid} journals idempotency key {key!r}, which transaction "
                f"{carriers[key]} carries",
                tid,
            )
    if defined:
        for key in sorted(records.keys() - carriers.keys() - journaled.keys()):
            raise ChainBroken(
                f"the store remembers idempotency key {key!r} ({_outcome(records[key])}), but "
                f"no entry of the journal carries or journals it",
                None,
            )


def _records(r: StoreReader) -> dict[str, IdempotencyRecord]:
    """The store's idempotency records by key, read once per check."""
    return {rec.key: rec for rec in r.idempotency_records()}


def _outcome(rec: IdempotencyRecord) -> str:
    if rec.error_type is not None:
        return f"a failure ({rec.error_type})"
    return f"naming transaction {rec.transaction_id}"


def _check_expiry(accounts: dict[str, AccountState], pending: dict[int, Transaction]) -> None:
    """Each account's ``next_expiry`` is the earliest expiry of the holds the journal
    leaves pending on it: a later one would let its expired holds keep their funds."""
    earliest: dict[str, tuple[datetime, int]] = {}
    for tx in pending.values():
        at = tx.expires_at
        if at is not None:
            for p in tx.postings:
                got = earliest.get(p.account)
                if got is None or at < got[0]:
                    earliest[p.account] = (at, tx.id)
    for name in sorted(accounts):
        stored, want = accounts[name].next_expiry, earliest.get(name)
        if stored != (None if want is None else want[0]):
            shown = (
                "None (no pending hold expires)" if want is None else f"{want[0]} (hold {want[1]})"
            )
            raise ChainBroken(
                f"account {name!r} stores the next expiry of its pending holds as {stored}, "
                f"but the journal makes it {shown}",
                None if want is None else want[1],
            )


def _check_holds(r: StoreReader, settled: dict[int, Hold]) -> None:
    """The store's holds are the journal's, with the status its settlements give."""
    stored = {h.id: h for h in r.holds(None, pending_only=False)}
    for id in sorted(stored.keys() | settled.keys()):
        have, want = stored.get(id), settled.get(id)
        if have is not None and want is not None:
            have = (
                attrs.evolve(have, status=HoldStatus.PENDING)
                if (
                    have.status is HoldStatus.EXPIRED
                    and want.status is HoldStatus.PENDING
                    and have.resolved_by is None
                )
                else have
            )
        if have != want:
            raise ChainBroken(
                f"the store holds hold {id} as {have!r}, but the journal "
                + (f"makes it {want!r}" if want is not None else "has no such hold entry"),
                id,
            )


def _check_history(r: StoreReader, accounts: dict[str, AccountState]) -> None:
    """Each posted posting's stored ``net_after`` is its account's running net."""
    for name in sorted(accounts):
        running = 0
        after = None
        while True:
            rows = r.history(name, after, _PAGE)
            full = len(rows) == _PAGE
            if full and rows[0].transaction_id != rows[-1].transaction_id:
                # A page may end inside an entry: take that entry with the next page.
                last = rows[-1].transaction_id
                rows = [row for row in rows if row.transaction_id != last]
            for row in rows:
                running += row.posting.signed
                if row.net_after != running:
                    raise ChainBroken(
                        f"transaction {row.transaction_id}'s posting {row.index} to {name!r} "
                        f"stores the account's net after it as {row.net_after}, but the journal "
                        f"makes it {running}",
                        row.transaction_id,
                    )
            if not full:
                break
            after = rows[-1].transaction_id
