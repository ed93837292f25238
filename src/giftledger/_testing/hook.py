"""The ``hypothesis`` entry point: registers giftledger's strategies for ``st.from_type``.

Hypothesis runs :func:`setup_hook` while it is being imported, which may be from
inside ``import giftledger.testing`` (that module imports Hypothesis first). So this
module imports nothing of the kit: each strategy is deferred, and looked up in
:mod:`giftledger.testing` only when a test first draws from it.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["setup_hook"]


def _kit(name: str) -> Any:
    def strategy() -> Any:
        return getattr(importlib.import_module("giftledger.testing"), name)()

    return strategy


def setup_hook() -> None:
    """Register ``Money``, ``Unit``, ``Economy`` and ``Transaction`` for ``st.from_type``."""
    import hypothesis.strategies as st
    from moneyed import Money

    from .._economy.rules import Economy
    from .._ledger.model import Transaction
    from .._money.units import Unit

    kinds: tuple[tuple[type, str], ...] = (
        (Money, "money"),
        (Unit, "units"),
        (Economy, "economies"),
        (Transaction, "transactions"),
    )
    for kind, name in kinds:
        st.register_type_strategy(kind, st.deferred(_kit(name)))
