"""The testing kit: Hypothesis strategies, invariant checks and a state machine for
property-testing code and rules built on giftledger.

Install the ``testing`` extra (``pip install "giftledger[testing]"``): this module
imports Hypothesis. Every strategy draws exact values only (never a float), and
every drawn amount fits its unit's exponent, so what you get can go straight
into the ledger. Options are keyword-only. The fixtures of the pytest plugin
(``gl_ledger``, ``gl_clock``, ``gl_store_ledger``, ``gl_economy`` …) need no
Hypothesis; see :mod:`giftledger.pytest_plugin`.

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

The chain:
    - :func:`chain_scenarios`: parties and sequences of operations
      (:class:`BuyCoins`, :class:`SendGift`, :class:`SendPaidGift`,
      :class:`ConvertDiamonds`, :class:`RequestWithdrawal`,
      :class:`CompleteWithdrawal`, :class:`FailWithdrawal`,
      :class:`RefundPurchase`, :class:`Chargeback`, :class:`PayViews`,
      :class:`UpdateViewer`, :class:`UpdateCreator`, :class:`AdvanceClock`) a real
      user could perform; :func:`run_chain` and :class:`ChainRun` play them on any
      store (:class:`FreshLedgers`).
    - :class:`ChainMachine`: a ``RuleBasedStateMachine`` for your economy and store.

Checks (``AssertionError`` with the smallest evidence):
    :func:`check_conservation`, :func:`check_no_forbidden_negative`,
    :func:`check_split`, :func:`check_parts_sum`, :func:`check_every_cent`,
    :func:`check_explanations`, :func:`check_no_arbitrage`, all at once with
    :func:`check_all`; and a policy of yours, :func:`check_creator_share`.

``st.from_type`` draws ``Money``, ``Unit``, ``Economy`` and ``Transaction`` with
these strategies once giftledger is installed (a ``hypothesis`` entry point
registers them).

Example:
    >>> from hypothesis import given, settings
    >>> import giftledger as gl
    >>> from giftledger.testing import amounts, check_split
    >>> @settings(max_examples=20)
    ... @given(amounts("USD", min_value="0.01", max_value="100"))
    ... def test_three_way_split_keeps_every_cent(total):
    ...     check_split(total, gl.allocate(total, [1, 1, 1]))
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
from ._testing.checks import (
    check_all,
    check_conservation,
    check_creator_share,
    check_every_cent,
    check_explanations,
    check_no_arbitrage,
    check_no_forbidden_negative,
    check_parts_sum,
    check_split,
)
from ._testing.machine import FAST_PHASES, ChainMachine
from ._testing.operations import (
    OPERATIONS,
    AdvanceClock,
    BuyCoins,
    ChainOperation,
    ChainScenario,
    Chargeback,
    CompleteWithdrawal,
    ConvertDiamonds,
    Creator,
    FailWithdrawal,
    PayViews,
    RefundPurchase,
    RequestWithdrawal,
    SendGift,
    SendPaidGift,
    UpdateCreator,
    UpdateViewer,
    Viewer,
)
from ._testing.rules import (
    ECONOMY_START,
    REGION_CURRENCIES,
    ROUGH_USD_VALUES,
    BrokenEconomy,
    coin_ladders,
    economies,
    gift_catalogs,
    rate_tables,
    rule_sets,
)
from ._testing.run import REFUSALS, ChainCheckFailed, ChainRun, Step, run_chain
from ._testing.scenarios import chain_scenarios
from ._testing.stores import POSTGRES_ENV, FreshLedgers, StoreSpec
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
    "FAST_PHASES",
    "FIAT_CODES",
    "NASTY_SEGMENTS",
    "OPERATIONS",
    "POSTGRES_ENV",
    "REFUSALS",
    "REGION_CURRENCIES",
    "ROUGH_USD_VALUES",
    "VIRTUAL_UNITS",
    "AdvanceClock",
    "BrokenEconomy",
    "BuyCoins",
    "ChainCheckFailed",
    "ChainMachine",
    "ChainOperation",
    "ChainRun",
    "ChainScenario",
    "Chargeback",
    "CompleteWithdrawal",
    "ConvertDiamonds",
    "Creator",
    "FailWithdrawal",
    "FreshLedgers",
    "PayViews",
    "RefundPurchase",
    "RequestWithdrawal",
    "SendGift",
    "SendPaidGift",
    "Step",
    "StoreSpec",
    "UpdateCreator",
    "UpdateViewer",
    "Viewer",
    "account_names",
    "accounts",
    "amounts",
    "balanced_postings",
    "chain_scenarios",
    "check_all",
    "check_conservation",
    "check_creator_share",
    "check_every_cent",
    "check_explanations",
    "check_no_arbitrage",
    "check_no_forbidden_negative",
    "check_parts_sum",
    "check_split",
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
    "run_chain",
    "split_specs",
    "transactions",
    "units",
    "virtual_units",
]
