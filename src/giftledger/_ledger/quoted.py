"""SCRATCH (lead's stand-in until the core's version lands): quoted writes for the chain."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

import attrs

from .._errors import AccountExists, DuplicateKeyConflict
from .idempotency import _fingerprint, _replay_transaction
from .model import Account, EntryKind, Hold, MetaValue, Posting, Rate, Transaction, freeze_metadata
from .store import IdempotencyRecord, StoreWriter
from .writes import WriteCore


@attrs.frozen(slots=True)
class Quote:
    kind: EntryKind
    postings: tuple[Posting, ...] = ()
    memo: str = ""
    metadata: Mapping[str, MetaValue] | None = attrs.field(default=None, hash=False)
    rates: tuple[Rate, ...] = ()
    opens: tuple[Account, ...] = ()
    expires_at: datetime | None = None
    effective_at: datetime | None = None
    aliases: tuple[str, ...] = ()


class QuotedMixin(WriteCore):
    def _write_quoted(
        self,
        key: str | None,
        request: object,
        lock: Iterable[str],
        quote: Callable[[StoreWriter, datetime], Quote],
        *,
        dry_run: bool = False,
    ) -> Transaction:
        names = tuple(lock)

        def body(w: StoreWriter, now: datetime, fingerprint: str | None) -> Transaction:
            w.lock_accounts(names)
            q = quote(w, now)
            for alias in q.aliases:
                if w.idempotency(alias) is not None:
                    raise DuplicateKeyConflict(f"idempotency key {alias!r} is already taken")
            for acct in q.opens:
                st = w.lock_accounts([acct.name]).get(acct.name)
                if st is None:
                    w.add_account(acct)
                elif st.account != acct:
                    raise AccountExists(f"account {acct.name!r} is open as {st.account!r}")
            tx = write(w, now, fingerprint, q)
            if not dry_run and q.aliases:
                fp = fingerprint if fingerprint is not None else _fingerprint(request)
                for alias in q.aliases:
                    w.remember(IdempotencyRecord(alias, fp, tx.id))
            return tx

        def write(w: StoreWriter, now: datetime, fingerprint: str | None, q: Quote) -> Transaction:
            meta = freeze_metadata(q.metadata)
            if q.kind is EntryKind.POST:
                return self._post_body(  # type: ignore[attr-defined,no-any-return]
                    w, now, fingerprint, q.postings, key, q.memo, q.metadata, q.effective_at,
                    q.rates, dry_run,
                )
            if q.kind is EntryKind.NOTE:
                return self._commit(
                    w, EntryKind.NOTE, (), {}, {}, now, q.effective_at, key, fingerprint,
                    q.memo, meta, dry_run,
                )
            pd, pc = q.postings
            (pd, pc), states = self._resolve([pd, pc], w)
            deltas = {pd.account: (0, pd.minor, 0), pc.account: (0, 0, pc.minor)}
            self._check_rules(w, states, deltas, now, (pd, pc), "the hold")
            hold = Hold(w.head()[0] + 1, pd.account, pc.account, pd.minor, pd.unit, q.expires_at)
            return self._commit(
                w, EntryKind.HOLD, (pd, pc), states, deltas, now, None, key, fingerprint,
                q.memo, meta, dry_run, expires_at=q.expires_at, hold=hold,
            )

        return self._run(key, request, dry_run, body, _replay_transaction)

    def _post_hold(self, *a: object, **k: object) -> Transaction:
        return self.post_hold(*a, **k)  # type: ignore[attr-defined,no-any-return]

    def _void_hold(self, *a: object, **k: object) -> Transaction:
        return self.void_hold(*a, **k)  # type: ignore[attr-defined,no-any-return]
