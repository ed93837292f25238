"""Simulations: a synthetic population run through the real chain, and comparisons.

``population`` draws what people decide (independent of any economy), ``runner``
maps it onto one economy and plays it on a ledger, ``figures`` sums it up, and
``compare`` runs one population under several economies.
"""
