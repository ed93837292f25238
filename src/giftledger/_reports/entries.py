"""What reports read of a chain: a creator's entries, found through their own accounts.

Nothing here reads the journal from its start: the entries come from the
creator's account histories and the holds on their cash, so a report costs
O(the creator's entries), and one for a period reads only the entries recorded
in it (found by a binary search on ``recorded_at``, which never goes backwards).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from .._economy.index import first_id_at, history_ids
from .._economy.records import PartyRecord, record_of
from .._ledger.model import EntryKind, Transaction
from .._ledger.text import _HOSTILE

if TYPE_CHECKING:
    from .._economy.rules import Economy
    from .._ledger.ledger import Ledger

__all__ = ["Chain", "creator_entries", "one_line", "unit_names"]


class Chain(Protocol):
    """What a report reads of a :class:`~giftledger.GiftEconomy`: its ledger, its
    rules, its units and its parties' profiles (all public), nothing private."""

    @property
    def ledger(self) -> Ledger: ...

    @property
    def economy(self) -> Economy: ...

    @property
    def books(self) -> str: ...

    @property
    def unit(self) -> str: ...

    def creator(self, name: str, at: datetime | None = None) -> PartyRecord: ...

    def party_history(self, role: str, name: str) -> tuple[tuple[datetime, PartyRecord], ...]: ...


def unit_names(app: Chain) -> tuple[tuple[str, str, str], ...]:
    """``(code, singular, plural)`` for the economy's two units: the economy's own
    display names, else the names the unit was registered with."""
    from .._money.units import get_unit

    econ = app.economy
    out = []
    for code in (econ.coin_unit, econ.creator_unit):
        unit = get_unit(code)
        singular, plural = econ.unit_names.get(code, (unit.singular, unit.plural))
        out.append((code, singular, plural))
    return tuple(out)


def one_line(text: str) -> str:
    """``text`` with every character :func:`~giftledger.check_text` refuses escaped as
    ``\\uXXXX``, so a name or a memo can never add or reorder a line of a report.

    Example:
        >>> one_line("a\\nb")
        'a\\\\u000ab'
    """
    if text.isprintable():
        return text
    return _HOSTILE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def creator_entries(
    app: Chain, creator: str, start: datetime | None = None, end: datetime | None = None
) -> Iterator[tuple[Transaction, object]]:
    """The creator's chain entries with their records, oldest first, found through
    the creator's own accounts (their histories and the holds on their cash), not
    by reading the journal; those recorded in ``[start, end)`` when given."""
    book = app.ledger
    cash = f"creators:{creator}:cash"
    ids: set[int] = set()
    with book.store.read() as r:
        after = None if start is None else first_id_at(r, start) - 1
        stop = None if end is None else first_id_at(r, end)
        for name in (
            f"creators:{creator}:diamonds",
            f"liabilities:creators-payable:{creator}",
            cash,
        ):
            ids.update(history_ids(r, name, after, stop))
    floor, ceiling = after or 0, stop if stop is not None else 1 << 62
    for hold in book.holds(cash, pending_only=False):
        if floor < hold.id < ceiling:
            ids.add(hold.id)
        if hold.resolved_by is not None and floor < hold.resolved_by < ceiling:
            ids.add(hold.resolved_by)
        settled = book.find(f"gl:withdrawal:{hold.id}:settle")
        if settled is not None and floor < settled.id < ceiling:
            ids.add(settled.id)
    for tx_id in sorted(ids):
        tx = book.transaction(tx_id)
        if tx.reversed_by is not None or tx.kind is EntryKind.REVERSAL:
            continue  # undone with Ledger.reverse: it neither earned nor cost anything
        rec = record_of(tx)
        if rec is not None:
            yield tx, rec
