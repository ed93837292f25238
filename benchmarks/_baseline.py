"""The bare baseline: a dict of ints making a ledger's checks, keeping no records.

``ledger_memory.py``, ``ledger_floor.py`` and ``compare.py`` time it beside the
ledgers. It imports nothing from giftledger, so a process running it alone holds
only the interpreter, the workload and this dict.

Not a benchmark itself (``run.py`` skips files starting with ``_``).
"""

from __future__ import annotations


class Baseline:
    """A dict-of-int ledger with the same checks and no records, journal or hashes."""

    def __init__(self) -> None:
        # name -> (unit, +1 for debit-normal / -1 for credit-normal, floor or None)
        self.accounts: dict[str, tuple[str, int, int | None]] = {}
        self.net: dict[str, int] = {}

    def open(self, name: str, unit: str, normal: int, floor: int | None) -> None:
        self.accounts[name] = (unit, normal, floor)
        self.net[name] = 0

    def post(self, postings: list[tuple[str, bool, int, str]]) -> None:
        accounts, net = self.accounts, self.net
        sums: dict[str, int] = {}
        deltas: dict[str, int] = {}
        for name, is_debit, minor, unit in postings:
            acct = accounts.get(name)
            if acct is None:
                raise KeyError(f"unknown account {name!r}")
            if type(minor) is not int or minor <= 0:
                raise ValueError(f"amount {minor!r} must be a positive int")
            if unit != acct[0]:
                raise TypeError(f"unit {unit} does not match {name!r}")
            signed = minor if is_debit else -minor
            sums[unit] = sums.get(unit, 0) + signed
            deltas[name] = deltas.get(name, 0) + signed
        for unit, diff in sums.items():
            if diff:
                raise ValueError(f"unbalanced in {unit}")
        for name, delta in deltas.items():
            _, normal, floor = accounts[name]
            if floor is not None and delta * normal < 0 and (net[name] + delta) * normal < floor:
                raise ValueError(f"insufficient funds in {name!r}")
        for name, delta in deltas.items():
            net[name] += delta
