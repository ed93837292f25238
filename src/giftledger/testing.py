"""The testing kit: Hypothesis strategies for property-testing code and rules built
on giftledger.

Install the ``testing`` extra (``pip install "giftledger[testing]"``): this module
imports Hypothesis. Every strategy draws exact values only (never a float), and
every drawn amount fits its unit's exponent, so what you get can go straight
into the ledger. Options are keyword-only.

Values:
    - :func:`fiat_units`, :func:`virtual_units`, :func:`units`: units of account.
    - :func:`minor_amounts`, :func:`amounts`, :func:`money`: integers of minor
      units and ``moneyed.Money`` exact in a unit's exponent, the edges (zero, one
      minor unit, ``MAX_MINOR``) often.
    - :func:`ratios`, :func:`split_specs`, :func:`roundings`, :func:`leftovers`,
      :func:`rates`: inputs for :func:`~giftledger.allocate`,
      :func:`~giftledger.split`, rounding and conversion.
    - :func:`account_names` (nasty ones included), :func:`accounts`.
    - :func:`postings`, :func:`balanced_postings`, :func:`transactions`,
      :func:`ledgers`: specs, posted entries, whole ledgers.

Rules:
    - :func:`rule_sets`, :func:`economies` (``invalid=True``: :class:`BrokenEconomy`
      values, the mistakes a user makes), :func:`gift_catalogs` (gifts priced in
      coins and in money), :func:`coin_ladders`, :func:`rate_tables`.

``st.from_type`` draws ``Money``, ``Unit``, ``Economy`` and ``Transaction`` with
these strategies once giftledger is installed (a ``hypothesis`` entry point
registers them).

Example:
    >>> from hypothesis import given, settings
    >>> import giftledger as gl
    >>> from giftledger.testing import amounts
    >>> @settings(max_examples=20)
    ... @given(amounts("USD", min_value="0.01", max_value="100"))
    ... def test_three_way_split_keeps_every_cent(total):
    ...     assert sum(gl.allocate(total, [1, 1, 1]), start=total * 0) == total
    >>> test_three_way_split_keeps_every_cent()
"""

from __future__ import annotations

try:
    import hypothesis  # noqa: F401
except ModuleNotFoundError as exc:  # pragma: no cover - exercised in a subprocess
    if (exc.name or "").split(".")[0] != "hypothesis":
        raise
    raise ModuleNotFoundError(
        'giftledger.testing needs Hypothesis; install it with: pip install "giftledger[testing]"',
        name="hypothesis",
    ) from None
from ._testing.rules import (
    ECONOMY_START,
    REGION_CURRENCIES,
    BrokenEconomy,
    coin_ladders,
    economies,
    gift_catalogs,
    rate_tables,
    rule_sets,
)
from ._testing.values import (
    FIAT_CODES,
    NASTY_SEGMENTS,
    VIRTUAL_UNITS,
    account_names,
    accounts,
    amounts,
    balanced_postings,
    fiat_units,
    ledgers,
    leftovers,
    minor_amounts,
    money,
    postings,
    rates,
    ratios,
    roundings,
    split_specs,
    transactions,
    units,
    virtual_units,
)

__all__ = [
    "ECONOMY_START",
    "FIAT_CODES",
    "NASTY_SEGMENTS",
    "REGION_CURRENCIES",
    "VIRTUAL_UNITS",
    "BrokenEconomy",
    "account_names",
    "accounts",
    "amounts",
    "balanced_postings",
    "coin_ladders",
    "economies",
    "fiat_units",
    "gift_catalogs",
    "ledgers",
    "leftovers",
    "minor_amounts",
    "money",
    "postings",
    "rate_tables",
    "rates",
    "ratios",
    "roundings",
    "rule_sets",
    "split_specs",
    "transactions",
    "units",
    "virtual_units",
]
