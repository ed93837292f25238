"""The least a Python ledger can do for the gift workload, kept apart so it can be compiled.

``FloorLedger`` makes the baseline's checks (the account exists and is open,
the unit is the account's, the amount is a positive int, the side is valid,
each unit balances, balance rules hold) and then does only what any ledger
with giftledger's contract must do for each transaction:

- stamp it with the time (an aware ``datetime``);
- build its canonical text and chain it with SHA-256 to the entry before;
- keep it: an immutable record returned to the caller and a journal row;
- keep each account's history row (entry id, posting index, net after) and the
  per-unit debit and credit totals, so balances as of a point, history pages and
  the trial balance stay answerable.

No idempotency keys, holds, reversals, locks, dry runs, metadata, error messages
or Store protocol: it is a floor, not a ledger. Postings come in as plain
tuples, as the baseline's do, and are kept as they came: exact tuples of str,
bool and int, which CPython's cycle collector stops tracking, so a long journal
adds nothing to each collection. The entry handed back is a ``NamedTuple``, the
cheapest immutable record CPython has. ``ledger_floor.py`` times it beside the
dict-of-int baseline; it is typed so ``mypyc benchmarks/_floor.py`` can compile
it for a compiled floor (the driver says which one it ran).

Not a benchmark itself (``run.py`` skips files starting with ``_``).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICRO = timedelta(microseconds=1)


Posting = tuple[str, bool, int, str]  # account, is debit, minor units, unit


class Entry(NamedTuple):
    id: int
    postings: tuple[Posting, ...]
    effective_at: datetime
    recorded_at: datetime
    prev_hash: str
    hash: str


class State:
    def __init__(self, unit: str, debit_normal: bool, floor: int | None) -> None:
        self.unit = unit
        self.debit_normal = debit_normal
        self.floor = floor
        self.closed = False
        self.net = 0
        self.pending_debits = 0
        self.pending_credits = 0
        self.text = ""


class FloorLedger:
    def __init__(self) -> None:
        self.states: dict[str, State] = {}
        self.journal: list[tuple[int, tuple[Posting, ...], datetime, str]] = []
        self.history: dict[str, list[tuple[int, int, int]]] = {}
        self.debits: dict[str, int] = {}
        self.credits: dict[str, int] = {}
        self.head = "0" * 64

    def open(self, name: str, unit: str, debit_normal: bool, floor: int | None) -> None:
        state = State(unit, debit_normal, floor)
        state.text = f"{len(name)}:{name}"
        self.states[name] = state
        self.history[name] = []

    def post(self, postings: list[Posting]) -> Entry:
        states = self.states
        sums: dict[str, int] = {}
        deltas: dict[str, int] = {}
        parts: list[str] = []
        for p in postings:
            name, debit, minor, unit = p
            st = states.get(name)
            if st is None or st.closed:
                raise KeyError(f"unknown or closed account {name!r}")
            if type(minor) is not int or minor <= 0 or type(debit) is not bool:
                raise ValueError(f"posting {p!r} is malformed")
            if unit != st.unit:
                raise TypeError(f"unit {unit} does not match {name!r}")
            signed = minor if debit else -minor
            sums[unit] = sums.get(unit, 0) + signed
            deltas[name] = deltas.get(name, 0) + signed
            parts.append(f"{st.text}{'D' if debit else 'C'}{minor}:{unit}")
        for unit, diff in sums.items():
            if diff:
                raise ValueError(f"unbalanced in {unit}")
        for name, delta in deltas.items():
            st = states[name]
            floor = st.floor
            if floor is not None:
                if st.debit_normal:
                    before = st.net - st.pending_credits
                    after = before + delta
                else:
                    before = -st.net - st.pending_debits
                    after = before - delta
                if after < before and after < floor:
                    raise ValueError(f"insufficient funds in {name!r}")
        now = datetime.now(UTC)
        stamp = str((now - EPOCH) // MICRO)
        id = len(self.journal) + 1
        prev = self.head
        text = f"{prev}|{id}|post|{stamp}|{stamp}|-|0:|0|{';'.join(parts)}"
        digest = hashlib.sha256(text.encode()).hexdigest()
        kept = tuple(postings)
        for name, delta in deltas.items():
            states[name].net += delta
        history, debits, credits = self.history, self.debits, self.credits
        for i, p in enumerate(kept):
            name, debit, minor, unit = p
            history[name].append((id, i, states[name].net))
            if debit:
                debits[unit] = debits.get(unit, 0) + minor
            else:
                credits[unit] = credits.get(unit, 0) + minor
        self.journal.append((id, kept, now, digest))
        self.head = digest
        return Entry(id, kept, now, now, prev, digest)
