"""Verification: re-check the hash chain and every invariant of the journal.

:class:`VerifyMixin` gives :class:`~giftledger.Ledger` its :meth:`verify`.
"""

from __future__ import annotations

from collections.abc import Callable

from .._boundary import boundary_methods
from .._errors import ChainBroken, InvalidArgument
from .checkpoints import check_since
from .hashing import GENESIS_HASH, entry_hash
from .model import EntryKind, Side, Transaction
from .proofs import Checkpoint
from .store import StoreReader
from .writes import WriteCore

__all__ = ["VerifyMixin"]

_DEBIT = Side.DEBIT
_VERSIONS = frozenset({1, 2})  # the chain formulas (see hashing.py)
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
        formula it was written with (1 for entries of earlier releases, then 2); each entry is
        balanced per unit and its postings are in their accounts' units (a note
        has none);
        reversal and hold links point where they should; the stored account
        totals, pending totals and per-unit trial balance equal what the
        journal adds up to.

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
    reversed_: dict[int, int] = {}
    claimed: dict[int, int] = {}  # reversed_by links as stored beside the entries
    accounts = {st.account.name: st for st in r.account_states("")}
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
            # Formula 1 entries come first (written by earlier releases), then formula 2.
            if version not in _VERSIONS or version < last_version:
                raise ChainBroken(
                    f"{where} carries hash version {version!r} after version {last_version}: "
                    f"entries are chained by formula 1 then formula 2, never back",
                    tx.id,
                )
            last_version = version
        actual = entry_hash(tx, prev)
        if actual != tx.hash:
            raise ChainBroken(
                f"{where} does not match its hash: its content was changed after it was "
                f"recorded (stored {tx.hash[:12]}…, content hashes to {actual[:12]}…)",
                tx.id,
            )
        prev = tx.hash
        if tx.reversed_by is not None:
            claimed[tx.id] = tx.reversed_by
        sums: dict[str, int] = {}
        for p in tx.postings:
            st = accounts.get(p.account)
            if st is None or st.account.unit != p.unit or p.minor <= 0:
                raise ChainBroken(
                    f"{where} has a posting to {p.account!r} that does not fit its account", tx.id
                )
            sums[p.unit] = sums.get(p.unit, 0) + p.signed
        if any(sums.values()):
            raise ChainBroken(f"{where} is not balanced per unit: {sums}", tx.id)
        kind = tx.kind
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
        elif kind in (EntryKind.POST_HOLD, EntryKind.VOID_HOLD, EntryKind.EXPIRE_HOLD):
            placed = holds.pop(tx.hold_id, None) if tx.hold_id is not None else None
            if placed is None:
                raise ChainBroken(f"{where} settles hold {tx.hold_id}, which is not pending", tx.id)
            d, c = placed.postings
            pend[d.account][0] -= d.minor
            pend[c.account][1] -= c.minor
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
    for name, st in accounts.items():
        pd, pc = pend.get(name, [0, 0])
        if st.net != nets.get(name, 0) or st.pending_debits != pd or st.pending_credits != pc:
            raise ChainBroken(
                f"account {name!r} holds totals (net {st.net}, pending {st.pending_debits}/"
                f"{st.pending_credits}) that differ from its journal (net {nets.get(name, 0)}, "
                f"pending {pd}/{pc})",
                None,
            )
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
    if progress is not None:
        progress(count, total)
    return count
