"""The testing kit's parts; users import them from :mod:`giftledger.testing`.

``stores`` (fresh ledgers on every store) and ``hook`` import no Hypothesis, so
the pytest plugin and Hypothesis's entry point can use them; every other module
here does.
"""
