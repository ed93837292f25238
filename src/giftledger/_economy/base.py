"""The chain's plumbing: quotes posted through the ledger's one write gate, parties.

Every chain operation is a *quote*: a function of the rules and of what it
reads through a locked view of the store (the party's accounts are locked, and
``now`` is read under that lock) that returns the entry it would write, with
its typed record. The ledger's ``_write_quoted`` runs it: idempotency (a key
replays the first result; a failure under a key fails the same way again),
retry of a write the store rolled back for a lost race, the quote under the
lock, opening the accounts it needs in the same write, and posting. A dry run
is the quote: nothing is written, not even an account.

Parties are journaled records (:class:`~giftledger.PartyRecord`) in entries
that move nothing, under internal idempotency keys
``gl:party:<role>:<name>:<seq>``; the store's key index is how a party's
records are found, without reading the journal. The value in force at a time
is the latest record effective by then.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from fractions import Fraction

import attrs

from .._boundary import boundary_methods, shown
from .._errors import (
    DuplicateKeyConflict,
    InvalidArgument,
    InvalidEconomy,
    RateUnavailable,
    UnknownAccount,
    UnknownParty,
    UnknownRule,
)
from .._ledger.ledger import Ledger
from .._ledger.model import (
    Account,
    BalanceRule,
    EntryKind,
    Side,
    Transaction,
)
from .._ledger.quoted import Quote, date_before, hold_head
from .._ledger.store import StoreReader, StoreWriter
from .._ledger.text import check_text, refuse_unstorable
from .._money.amounts import Rounding, round_fraction, to_fraction
from .._money.units import get_unit
from .fx import RateSource
from .index import LotIndex, records_from
from .lots import CoinLot
from .records import (
    ChainRecord,
    PaidGiftRecord,
    PartyRecord,
    PurchaseRecord,
    RulesRecord,
    parse,
    record_of,
)
from .rules import Economy, RuleSet

__all__ = ["FX_ROUNDING", "ChainBase", "check_region", "check_text", "economy_fingerprint"]

_D, _C = Side.DEBIT, Side.CREDIT

#: How an amount converted between currencies is rounded (the rate is stored on the entry).
FX_ROUNDING = Rounding.HALF_EVEN

_FREE = BalanceRule.unrestricted()

#: The longest viewer or creator name (the chain's keys and account names embed it).
MAX_NAME = 128


#: Codes babel names that are no country: groupings (the European Union, the
#: Eurozone, the United Nations, Outlying Oceania), "Unknown Region" and CLDR's
#: pseudo-locales. A purchase "in" one of them would fall to the '*' tax rule.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB"})


@functools.cache
def _known_regions() -> frozenset[str]:
    """ISO 3166 alpha-2 codes, from babel's territory names."""
    from babel import Locale

    territories: Mapping[str, str] = Locale("en").territories
    return frozenset(
        code
        for code in territories
        if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    )


def check_region(region: object, what: str = "region") -> str:
    """Return ``region`` if it is an ISO 3166 alpha-2 code babel knows, else raise UnknownRule."""
    if not isinstance(region, str) or region not in _known_regions():
        raise UnknownRule(
            f"unknown {what} {region!r}; use an ISO 3166 country code such as 'US' or 'DE'"
        )
    return region


def _lookup_rate(rates: object, base: str, quote: str, at: datetime) -> Fraction:
    if base == quote:
        return Fraction(1)
    if rates is None:
        raise RateUnavailable(
            f"no exchange rate {base}/{quote} at {at.isoformat()}: this GiftEconomy has no "
            f"rate source; pass rates= to GiftEconomy"
        )
    if isinstance(rates, Mapping):
        value = rates.get((base, quote))
        inverse = rates.get((quote, base))
        if value is not None:
            rate = to_fraction(value, "rate")
        elif inverse is not None and to_fraction(inverse, "rate") > 0:
            rate = 1 / to_fraction(inverse, "rate")
        else:
            raise RateUnavailable(f"no exchange rate {base}/{quote} at {at.isoformat()}")
    else:
        lookup = getattr(rates, "rate", None)
        if lookup is None:
            raise InvalidArgument(f"rates {rates!r} has no rate(base, quote, at) method")
        rate = to_fraction(lookup(base, quote, at), "rate")
    if rate <= 0:
        raise RateUnavailable(f"exchange rate {base}/{quote} at {at.isoformat()} is {rate}")
    return rate


def _check_rates(rates: object) -> None:
    """Refuse at construction a rate source that would fail only at the first
    conversion: a fixed rate that is a float, not a number or not positive, a pair
    that is not two unit codes, or an object with no ``rate(base, quote, at)``."""
    if rates is None:
        return
    if not isinstance(rates, Mapping):
        if not callable(getattr(rates, "rate", None)):
            raise InvalidArgument(
                f"rates {shown(rates)} is neither a mapping {{(base, quote): rate}} nor a "
                f"rate source with a rate(base, quote, at) method"
            )
        return
    for pair, value in rates.items():
        if not (
            isinstance(pair, tuple) and len(pair) == 2 and all(isinstance(c, str) for c in pair)
        ):
            raise InvalidArgument(
                f"rates key {shown(pair)} must be a (base, quote) pair of unit codes "
                f"such as ('EUR', 'USD')"
            )
        for code in pair:
            get_unit(code)
        what = f"exchange rate {pair[0]}/{pair[1]}"
        if to_fraction(value, what) <= 0:
            raise InvalidArgument(f"{what} {shown(value)} must be greater than zero")


def profile_at(records: Iterable[tuple[datetime, PartyRecord]], at: datetime) -> PartyRecord:
    """The profile in force at ``at``: the opening record, then each change effective
    by ``at`` (in effective order), each setting only the fields it changed."""
    ordered = sorted(records, key=lambda item: (item[0], item[1].seq))
    first = min(ordered, key=lambda item: item[1].seq)[1]
    fields: dict[str, object] = {}
    for effective, rec in ordered:
        if rec is first or effective > at or not rec.changed:
            continue
        for name in rec.changed.split(","):
            fields[name] = getattr(rec, name)
    return attrs.evolve(first, **fields) if fields else first  # type: ignore[arg-type]


def _scale(code: str) -> int:
    return get_unit(code).scale


def _convert_minor(minor: int, base: str, quote: str, rate: Fraction) -> int:
    return round_fraction(Fraction(minor) * rate * _scale(quote) / _scale(base), FX_ROUNDING)


_economy_fingerprints: dict[int, tuple[Economy, str, str]] = {}


def economy_fingerprint(economy: Economy) -> tuple[str, str]:
    """The economy's TOML text and its SHA-256 (cached per Economy object)."""
    found = _economy_fingerprints.get(id(economy))
    if found is not None and found[0] is economy:
        return found[1], found[2]
    text = economy.to_toml()
    try:
        raw = text.encode()
    except UnicodeEncodeError as exc:  # a lone surrogate in a name the rules do not check
        bad = text[exc.start : exc.end]
        raise InvalidEconomy(
            f"economy {economy.name!r}: its rules hold a lone surrogate "
            f"(U+{ord(bad[0]):04X}), which the TOML the chain records cannot hold"
        ) from None
    digest = hashlib.sha256(raw).hexdigest()
    if len(_economy_fingerprints) > 256:
        _economy_fingerprints.clear()
    _economy_fingerprints[id(economy)] = (economy, text, digest)
    return text, digest


@boundary_methods
class ChainBase:
    """State and plumbing shared by the chain's operations; see :class:`GiftEconomy`."""

    def __init__(
        self,
        ledger: Ledger,
        economy: Economy,
        *,
        rates: RateSource | Mapping[tuple[str, str], object] | None = None,
        rules_change: bool = False,
    ) -> None:
        if not isinstance(ledger, Ledger):
            raise InvalidArgument(f"ledger {shown(ledger)} must be a giftledger.Ledger")
        if not isinstance(economy, Economy):
            raise InvalidArgument(f"economy {shown(economy)} must be a giftledger.Economy")
        _check_rates(rates)
        self.ledger = ledger
        self.economy = economy
        self.rates = rates
        self.books = economy.books_currency
        self.coin = economy.coin_unit
        self.unit = economy.creator_unit
        self._lots = LotIndex()
        self._party_cache: dict[tuple[str, str], list[tuple[datetime, PartyRecord]]] = {}
        self._party_lock = threading.Lock()
        # Per creator: (last entry folded, the carries since the last conversion).
        self._carry_cache: OrderedDict[str, tuple[int, Fraction]] = OrderedDict()
        self._carry_lock = threading.Lock()
        # The store's count of writes another joined, as last seen (see _fresh); and
        # whether the rules' record must be looked up again before the next write.
        self._joined = getattr(ledger.store, "joined_writes", 0)
        self._resync = False
        self._party_gen = 0  # moves as _fresh empties the profiles (see _party_records)
        self._record_rules(bool(rules_change))

    # -- the rules in the journal ------------------------------------------------------

    @staticmethod
    def _records_under(
        r: StoreReader, prefix: str, seq: int = 0
    ) -> list[tuple[Transaction, ChainRecord]]:
        """The records written under keys ``<prefix><seq>``, ``<prefix><seq + 1>`` …,
        in order, up to the first key not taken (see ``index.records_from``)."""
        out: list[tuple[Transaction, ChainRecord]] = []
        for _, tx in records_from(r, prefix, seq):
            rec = record_of(tx)
            if rec is not None:
                out.append((tx, rec))
        return out

    def rules_history(self) -> tuple[RulesRecord, ...]:
        """The economies this ledger's chain has run under, oldest first."""
        with self.ledger.store.read() as r:
            return tuple(
                rec
                for _, rec in self._records_under(r, "gl:rules:")
                if isinstance(rec, RulesRecord)
            )

    def _record_rules(self, change: bool, attempts: int = 8, *, write: bool = True) -> bool:
        """Find this economy's rules as the ledger's latest, or record them (a first
        record, or a change when ``change``); with ``write`` false (a dry run), return
        False instead of recording them."""
        text, digest = economy_fingerprint(self.economy)
        history = self.rules_history()
        if history and history[-1].fingerprint == digest:
            self._rules_seq = len(history) - 1
            return True
        if history and not change:
            last = history[-1]
            raise InvalidEconomy(
                f"this ledger's chain runs under economy {last.name!r} (fingerprint "
                f"{last.fingerprint[:12]}…), not {self.economy.name!r} ({digest[:12]}…); pass "
                f"rules_change=True to record a change of rules, or load its rules with "
                f"GiftEconomy.from_ledger()"
            )
        if not write:
            return False
        seq = len(history)
        variant = ",".join(f"{k}={v}" for k, v in sorted(self.economy.variant.items()))
        rec = RulesRecord(self.economy.name, seq, digest, text, variant)

        b, free = self.books, BalanceRule.unrestricted()
        platform = (
            self._account("platform:coin-supply", self.coin, _D, free),
            self._account("platform:diamond-supply", self.unit, _D, free),
            self._account("liabilities:deferred-revenue", b, _C),
            self._account("revenue:gifts", b, _C, free),
            self._account("expenses:gift-shortfall", b, _D),
            self._account("platform:rewards-pool", b, _D, free),
        )

        def quote(w: StoreWriter, now: datetime) -> Quote:
            return Quote(
                EntryKind.NOTE,
                memo=f"the chain runs under {self.economy.name}"
                + (f" ({variant})" if variant else ""),
                metadata=rec.to_meta(),
                opens=platform,
                aliases=(f"gl:rules:{seq}",),
            )

        self._rules_seq = seq
        try:
            # Found by its internal key, an alias: a failed attempt is not remembered
            # under it, so it can never block a later, valid one.
            self.ledger._write_quoted(
                None, ("rules", seq, digest), [a.name for a in platform], quote
            )
        except DuplicateKeyConflict:
            if attempts <= 1:
                raise
            # Another process recorded a change first: look again.
            return self._record_rules(change, attempts - 1)
        return True

    # -- plumbing ----------------------------------------------------------------------

    def _fresh(self) -> None:
        """Drop what this process keeps of the journal (viewers' lots, creators' carries,
        parties' profiles) if a write another write joined has ended since it last
        looked: a chain call run inside a caller's own ``store.write()`` block keeps what
        it read and wrote there, and if the block rolled back, those entries never were
        (their ids go to later entries). The rules' record is looked up again before the
        next write (this GiftEconomy may have been opened in such a block). Called before
        each use, and again under a write's locks (another thread's block may have ended
        in between)."""
        seen = getattr(self.ledger.store, "joined_writes", 0)
        if seen == self._joined:
            return
        self._lots.clear()
        with self._carry_lock:
            self._carry_cache.clear()
        with self._party_lock:
            self._party_cache.clear()
            self._party_gen += 1
        self._resync = True
        self._joined = seen

    @staticmethod
    def _account(name: str, unit: str, normal: Side, rule: BalanceRule | None = None) -> Account:
        if rule is None:
            rule = BalanceRule.non_negative()
        return Account(name=name, unit=unit, normal=normal, rule=rule)

    def _ccy(self, base: str, currency: str) -> str:
        return base if currency == self.books else f"{base}:{currency}"

    @staticmethod
    def _trading(unit: str) -> Account:
        return Account(
            name=f"trading:{unit}",
            unit=unit,
            normal=_D,
            rule=BalanceRule.unrestricted(),
            trading=True,
        )

    def _now(self) -> datetime:
        return self.ledger.clock.now()

    def _rules(self, at: datetime) -> RuleSet:
        return self.economy.rules_at(at)

    def _next_rules_change(self, now: datetime) -> datetime | None:
        """When the first version of the rules after ``now`` (a write's time under its
        locks) takes effect, or None. A write linked at commit may be dated later than
        the time its quote priced it at (up to the head's: another writer's clock); it
        must be dated before this (see ``Ledger._write_quoted``)."""
        later = [v.effective_from for v in self.economy.versions if v.effective_from > now]
        return min(later) if later else None

    def _rate(self, base: str, quote: str, at: datetime) -> Fraction:
        return _lookup_rate(self.rates, base, quote, at)

    @staticmethod
    def _caller_key(key: str | None) -> str | None:
        """A caller's idempotency key: the ``gl:`` prefix is the chain's own."""
        if key is None:
            return None
        if not isinstance(key, str):
            raise InvalidArgument(f"idempotency key {key!r} must be a string")
        if key.startswith("gl:"):
            raise InvalidArgument(
                f"idempotency key {key!r} starts with 'gl:', which is reserved for "
                f"giftledger's chain; choose another key"
            )
        return key

    def _execute(
        self,
        key: str | None,
        request: object,
        lock: Iterable[str],
        quote: Callable[[StoreWriter, datetime], Quote],
        dry_run: bool,
        history_ahead: Sequence[tuple[str, int | None, int]] = (),
        parties: Sequence[tuple[str, str]] = (),
        on_replay: Callable[[], None] | None = None,
        at_commit: Iterable[str] | None = None,
        until: Callable[[datetime], datetime | None] | None = None,
    ) -> Transaction:
        """Run ``quote`` under the ledger's write gate with ``lock`` locked, once it is
        sure, under the lock, that the ledger's rules are still the ones this
        GiftEconomy runs under. ``history_ahead``: the history pages ``quote`` reads,
        and ``parties``: the ``(role, name)`` whose profiles it reads (the key of each
        one's next record), read ahead with the rules' next key (see
        ``Ledger._write_quoted``); ``on_replay``: called when an attempt replays the
        key's entry instead of quoting; ``at_commit``: the accounts ``quote`` reads, for
        a write the store may link as it commits, and ``until``: the time its entry must
        be dated before, given its time (None: the next change of the rules; see
        ``Ledger._write_quoted``)."""
        # A name no store can hold is bad input, refused before the write on every store
        # (not an outcome to remember under the key; PostgreSQL could not even send it).
        for role, name in parties:
            refuse_unstorable(name, f"{role} name")
        lock = tuple(lock)
        for name in lock:
            refuse_unstorable(name, "account name")
        self._fresh()
        # Raises InvalidEconomy until the ledger runs under these rules; a dry run only
        # looks (the next write records them if they are missing).
        if self._resync and self._record_rules(False, write=not dry_run):
            self._resync = False
        following = f"gl:rules:{self._rules_seq + 1}"
        keys = [following]
        with self._party_lock:
            gen = self._party_gen
            seen = {
                (role, name): len(self._party_cache.get((role, name), ()))
                for role, name in parties
                if isinstance(name, str) and "\x00" not in name
            }
        # Each party's next record key (see _party_records), checked by _profiles_settled.
        keys += [f"gl:party:{r}:{n}:{count}" for (r, n), count in seen.items()]

        def current(w: StoreWriter, now: datetime) -> Quote:
            self._fresh()  # under the write's locks (see _fresh)
            if w.idempotency(following) is not None:
                raise InvalidEconomy(
                    f"the ledger's rules changed since this GiftEconomy opened it under "
                    f"{self.economy.name!r}; open a GiftEconomy with the new rules "
                    f"(GiftEconomy.from_ledger)"
                )
            q = quote(w, now)
            if at_commit is not None and seen:
                self._profiles_settled(w, now, gen, seen)
            return q

        return self.ledger._write_quoted(
            key,
            request,
            lock,
            current,
            dry_run=dry_run,
            keys_ahead=keys,
            history_ahead=history_ahead,
            on_replay=on_replay,
            at_commit=at_commit,
            until=self._next_rules_change if until is None else until,
        )

    def _profiles_settled(
        self, w: StoreWriter, now: datetime, gen: int, seen: Mapping[tuple[str, str], int]
    ) -> None:
        """Linking at commit, a quote priced by the parties' profiles (``seen``: how many
        records of each this process had read when the write named its keys): each
        party's next key was read ahead, and is locked shared until the commit, so a
        change of the profile waits for the write. If the quote read records past it
        (they changed elsewhere, or the profiles were dropped: ``gen`` moved), the last
        was read without that lock: the write runs again holding the head. A change
        dated ahead of ``now`` is already in the chain: the entry is dated before it."""
        with self._party_lock:
            read = [self._party_cache.get(party, ()) for party in seen]
            moved = gen != self._party_gen
        if moved or any(len(r) != n for r, n in zip(read, seen.values(), strict=True)):
            hold_head(w)
        later = [effective for records in read for effective, _ in records if effective > now]
        if later:
            date_before(w, now, min(later))

    @staticmethod
    def _require(r: StoreReader, name: str, what: str, party: str) -> None:
        if r.account_state(name) is None:
            refuse_unstorable(party, f"{what} name")
            raise UnknownParty(
                f"unknown {what} {party!r}; open it with open_{what}({party!r}, ...) first",
                role=what,
                name=party,
            )

    # -- parties -----------------------------------------------------------------------

    @staticmethod
    def _check_name(name: object, what: str) -> str:
        if isinstance(name, str):
            check_text(name, f"{what} name")  # first, so the error names the character
        if not isinstance(name, str) or not name or ":" in name or name != name.strip():
            raise InvalidArgument(
                f"{what} name {name!r} must be a non-empty string without ':' or surrounding spaces"
            )
        if len(name) > MAX_NAME:
            raise InvalidArgument(
                f"{what} name {name[:20]!r}… is {len(name)} characters long; the most is {MAX_NAME}"
            )
        return name

    @staticmethod
    def _check_age(age: object) -> int | None:
        if age is None:
            return None
        if isinstance(age, bool) or not isinstance(age, int) or not 0 <= age <= 150:
            raise InvalidArgument(f"age {age!r} must be an int from 0 to 150, or None")
        return age

    def _party_records(
        self, r: StoreReader, role: str, name: str
    ) -> list[tuple[datetime, PartyRecord]]:
        """Every record of a party, oldest first: journaled ones through their keys,
        or, for a party opened by the previous release, its account's metadata."""
        if not isinstance(name, str):
            return []  # no party has such a name; and a list cannot key the cache
        # Before any store looks: PostgreSQL cannot even send a NUL, nor SQLite a lone
        # surrogate, and each store must answer such a name alike.
        refuse_unstorable(name, f"{role} name")
        self._fresh()
        with self._party_lock:
            cached = list(self._party_cache.get((role, name), ()))
            gen = self._party_gen
        for tx, rec in self._records_under(r, f"gl:party:{role}:{name}:", len(cached)):
            if isinstance(rec, PartyRecord):
                cached.append((tx.effective_at, rec))
        if cached:
            with self._party_lock:
                # Not if _fresh emptied the profiles meanwhile: what was copied may hold
                # a record of a joined write since rolled back. Nor what a joined write
                # read: its records are its block's until the block ends, and another
                # thread (which does not wait for the block on PostgreSQL) would read
                # them from here.
                if gen == self._party_gen and not getattr(r, "joined", False):
                    self._party_cache[(role, name)] = cached
            return cached
        legacy = self._legacy_party(r, role, name)
        return [] if legacy is None else [legacy]

    @staticmethod
    def _legacy_party(r: StoreReader, role: str, name: str) -> tuple[datetime, PartyRecord] | None:
        """A party of a book written by the previous release: its profile was kept in
        the metadata of its wallet (viewers) or Diamond account (creators)."""
        kind = "coins" if role == "viewer" else "diamonds"
        st = r.account_state(f"{role}s:{name}:{kind}")
        if st is None:
            return None
        meta = dict(st.account.metadata)
        if meta.get("gl.role") != role:
            return None
        region, age, verified = meta.get("gl.region"), meta.get("gl.age"), meta.get("gl.verified")
        currency = meta.get("gl.payout_currency")
        return (
            _EPOCH,
            PartyRecord(
                role,
                name,
                -1,
                region if isinstance(region, str) else None,
                age if type(age) is int else None,
                verified is True,
                currency if isinstance(currency, str) else None,
            ),
        )

    def _party(self, r: StoreReader, role: str, name: str, at: datetime) -> PartyRecord:
        """The party's record in force at ``at``.

        Raises:
            UnknownParty: no such party (an :class:`~giftledger.UnknownAccount`).
        """
        records = self._party_records(r, role, name)
        if not records:
            raise UnknownParty(
                f"unknown {role} {name!r}; open it with open_{role}({name!r}, ...) first",
                role=role,
                name=name,
            )
        return profile_at(records, at)

    def _party_guess(self, role: str, name: str, at: datetime) -> PartyRecord | None:
        """The party's record in force at ``at`` as this process last read it, without
        reading (None if it has not): a guess at what a write will lock, which the
        write's quote checks under its locks."""
        self._fresh()
        with self._party_lock:
            cached = self._party_cache.get((role, name)) if isinstance(name, str) else None
            return profile_at(cached, at) if cached else None

    def _payout_currency(self, creator: str) -> str:
        """The creator's payout currency, which never changes once the creator is opened
        (``update_creator`` refuses another): from the profile as this process last read
        it, else read (an unknown creator is refused, UnknownParty)."""
        now = self._now()
        party = self._party_guess("creator", creator, now)
        if party is None:
            with self.ledger.store.read() as r:
                party = self._party(r, "creator", creator, now)
        return party.payout_currency if party.payout_currency is not None else self.books

    def _write_party(
        self,
        rec: PartyRecord,
        opens: tuple[Account, ...],
        key: str | None,
        effective_at: datetime | None,
        dry_run: bool,
        memo: str,
    ) -> Transaction:
        def quote(w: StoreWriter, now: datetime) -> Quote:
            return Quote(
                EntryKind.NOTE,
                memo=memo,
                metadata=rec.to_meta(),
                opens=opens,
                effective_at=effective_at,
                aliases=(f"gl:party:{rec.role}:{rec.name}:{rec.seq}",),
            )

        # The party's records are found by their internal keys (aliases of the
        # entry); the caller's key, if any, is the entry's own.
        return self._execute(
            key, ("party", rec.to_meta(), effective_at), [a.name for a in opens], quote, dry_run
        )

    # -- lots --------------------------------------------------------------------------

    def coin_lots(self, viewer: str | None = None) -> tuple[CoinLot, ...]:
        """The coin lots of ``viewer`` (of every viewer if None), oldest first.

        One viewer's lots are read through the viewer's wallet; all viewers' lots
        read every wallet.
        """
        if viewer is not None and not isinstance(viewer, str):
            raise UnknownAccount(f"unknown viewer {shown(viewer)}: a viewer's name is a string")
        refuse_unstorable(viewer, "viewer name")
        self._fresh()
        with self.ledger.store.read() as r:
            if viewer is not None:
                return self._lots.snapshot(r, viewer)
            out: list[CoinLot] = []
            for st in r.account_states("viewers:"):
                parts = st.account.name.split(":")
                if len(parts) == 3 and parts[2] == "coins":
                    out.extend(LotIndex(1).snapshot(r, parts[1]))
        return tuple(sorted(out, key=lambda lot: lot.id))

    def coin_lot(self, purchase: Transaction | int | str) -> CoinLot:
        """The lot bought by a purchase (its entry, id or idempotency key), up to date.

        Raises:
            UnknownTransaction: not a coin purchase.
        """
        tx = self._purchase_tx(purchase)
        rec = parse(tx)
        assert isinstance(rec, PurchaseRecord)
        self._fresh()
        with self.ledger.store.read() as r:
            lots = self._lots.snapshot(r, rec.viewer)
        for lot in lots:
            if lot.id == tx.id:
                return lot
        raise AssertionError(f"purchase {tx.id} is not in the lots of {rec.viewer!r}")

    def _purchase_tx(self, purchase: Transaction | int | str) -> Transaction:
        from .._errors import UnknownTransaction

        if isinstance(purchase, Transaction):
            found: Transaction | None = self.ledger.transaction(purchase.id)
        elif isinstance(purchase, str):
            found = self.ledger.find(purchase)
        elif isinstance(purchase, int) and not isinstance(purchase, bool):
            try:
                found = self.ledger.transaction(purchase)
            except UnknownTransaction:
                found = None
        else:
            found = None
        rec = record_of(found) if found is not None else None
        if isinstance(rec, PaidGiftRecord):
            assert found is not None
            raise UnknownTransaction(
                f"entry {found.id} is a gift paid in money, not a coin purchase: no coins "
                f"are left to refund; undo it with reverse_gift({found.id})"
            )
        if found is None or not isinstance(rec, PurchaseRecord):
            raise UnknownTransaction(f"no coin purchase {purchase!r}")
        return found

    def sync(self) -> None:
        """Kept for compatibility: the chain reads its state through per-party indexes
        on every operation and has nothing to bring up to date."""


_EPOCH = datetime.fromisoformat("1970-01-01T00:00:00+00:00")
