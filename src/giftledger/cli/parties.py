"""``giftledger parties``: creators and viewers, with their balances."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.table import Table

import giftledger as gl

from ._common import (
    chain_of,
    console,
    echo_json,
    json_option,
    ledger_option,
    locale_option,
    money_json,
    open_book,
    rules_options,
)

__all__ = ["parties"]


@click.command()
@click.option(
    "--role",
    type=click.Choice(["creator", "viewer", "all"]),
    default="all",
    show_default=True,
)
@ledger_option
@rules_options
@locale_option
@json_option
def parties(
    role: str,
    ledger: str,
    preset: str | None,
    economy_file: Path | None,
    locale: str,
    as_json: bool,
) -> None:
    """Creators (Diamonds, payable, cash) and viewers (coins), with their profiles.

    JSON keys: creators: [{name, region, age, verified, payout_currency, diamonds,
    payable, cash}], viewers: [{name, region, age, coins}] (balances as money objects).
    """
    with open_book(ledger) as book:
        app = chain_of(book, preset, economy_file)
        creators: list[dict[str, Any]] = []
        viewers: list[dict[str, Any]] = []
        if role in ("creator", "all"):
            for party in app.creators():
                creators.append(
                    {
                        "name": party.name,
                        "region": party.region,
                        "age": party.age,
                        "verified": party.verified,
                        "payout_currency": party.payout_currency or app.books,
                        "diamonds": app.diamonds(party.name),
                        "payable": app.payable(party.name),
                        "cash": app.cash(party.name),
                    }
                )
        if role in ("viewer", "all"):
            for p in app.viewers():
                viewers.append(
                    {"name": p.name, "region": p.region, "age": p.age, "coins": app.coins(p.name)}
                )
    money = ("diamonds", "payable", "cash", "coins")
    if as_json:
        echo_json(
            "parties",
            {
                "creators": [
                    {k: money_json(v) if k in money else v for k, v in c.items()} for c in creators
                ],
                "viewers": [
                    {k: money_json(v) if k in money else v for k, v in v_.items()} for v_ in viewers
                ],
            },
        )
        return
    con = console()
    if role in ("creator", "all"):
        table = Table("creator", "region", "diamonds", "payable", "cash", title="creators")
        for c in creators:
            table.add_row(
                c["name"],
                c["region"] or "-",
                *(gl.format_money(c[k], locale) for k in ("diamonds", "payable", "cash")),
            )
        con.print(table)
    if role in ("viewer", "all"):
        table = Table("viewer", "region", "coins", title="viewers")
        for v in viewers:
            table.add_row(v["name"], v["region"] or "-", gl.format_money(v["coins"], locale))
        con.print(table)
