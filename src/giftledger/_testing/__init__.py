"""The testing kit's parts; users import them from :mod:`giftledger.testing`.

- ``values``: strategies for units, amounts, splits, accounts, postings, ledgers.
- ``rules``: strategies for economies (valid and broken), catalogs, ladders, rates.
- ``operations``: chain operations as values, and scenarios.
- ``scenarios``: what a real user could play next, and ``chain_scenarios``.
- ``run``: playing operations on a fresh ledger (``ChainRun``, ``run_chain``).
- ``checks``: invariant checks with the smallest evidence.
- ``machine``: ``ChainMachine``, a Hypothesis state machine.
- ``stores``: fresh ledgers on every store; no Hypothesis, for the pytest plugin.
- ``hook``: the ``hypothesis`` entry point; imports nothing of the kit.
"""
