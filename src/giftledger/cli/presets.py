"""``giftledger presets list`` and ``presets show NAME``: the shipped rules."""

from __future__ import annotations

from typing import Any

import click
from moneyed import Money
from rich.table import Table
from rich.text import Text

import giftledger as gl

from ._common import Fail, console, echo_json, json_option, money_json
from .reports import fraction_json

__all__ = ["presets"]


@click.group()
def presets() -> None:
    """The shipped presets: dated, sourced rules of real platforms."""


@presets.command("list")
@json_option
def list_presets(as_json: bool) -> None:
    """Every shipped preset, with its title, date and variants.

    JSON keys: presets: [{name, title, as_of, description, variants: {axis: [options,
    default first]}}].
    """
    infos = gl.presets.list()
    if as_json:
        echo_json(
            "presets list",
            {
                "presets": [
                    {
                        "name": p.name,
                        "title": p.title,
                        "as_of": p.as_of.isoformat() if p.as_of else None,
                        "description": p.description,
                        "variants": {k: list(v) for k, v in p.variants.items()},
                    }
                    for p in infos
                ]
            },
        )
        return
    table = Table("name", "title", "as of", "variants (default first)")
    for p in infos:
        variants = "; ".join(f"{k}: {', '.join(v)}" for k, v in p.variants.items())
        table.add_row(p.name, p.title, p.as_of.isoformat() if p.as_of else "-", variants or "-")
    console().print(table)


def _value(value: object) -> Any:
    if isinstance(value, Money):
        return money_json(value)
    if isinstance(value, int):
        return value
    from fractions import Fraction

    if isinstance(value, Fraction):
        return fraction_json(value)
    return str(value)


def _shown(value: object) -> str:
    if isinstance(value, Money):
        # a rate per unit may be finer than the currency (0.025 USD a Diamond): not rounded
        return f"{value.amount} {value.currency.code}"
    return str(_value(value))


@presets.command("show")
@click.argument("name")
@click.option(
    "--variant",
    "variants",
    multiple=True,
    metavar="AXIS=OPTION",
    help="A variant option (repeatable), e.g. --variant model=B.",
)
@click.option("--sources", is_flag=True, help="List every figure with its source.")
@json_option
def show(name: str, variants: tuple[str, ...], sources: bool, as_json: bool) -> None:
    """One preset: its units, versions and assumptions (--sources: every figure).

    JSON keys: name, title, as_of, variant, books_currency, coin_unit, creator_unit,
    versions: [{effective_from, coin_packs, gifts}], assumptions, and with --sources
    figures: [{path, value, source: {citation, as_of, confidence, note} or null}].
    """
    options = {}
    for item in variants:
        axis, sep, option = item.partition("=")
        if not sep or not axis or not option:
            raise Fail(f"--variant {item!r} must be AXIS=OPTION, e.g. model=B")
        options[axis] = option
    econ = gl.presets.load(name, **options)
    versions = [
        {
            "effective_from": v.effective_from.isoformat(),
            "coin_packs": len(v.coin_packs),
            "gifts": len(v.gifts),
        }
        for v in econ.versions
    ]
    figures = econ.figures() if sources else ()
    if as_json:
        payload: dict[str, Any] = {
            "name": econ.name,
            "title": econ.title,
            "as_of": econ.as_of.isoformat() if econ.as_of else None,
            "variant": dict(econ.variant),
            "books_currency": econ.books_currency,
            "coin_unit": econ.coin_unit,
            "creator_unit": econ.creator_unit,
            "versions": versions,
            "assumptions": list(econ.assumptions),
        }
        if sources:
            payload["figures"] = [
                {
                    "path": f.path,
                    "value": _value(f.value),
                    "source": None
                    if f.source is None
                    else {
                        "citation": f.source.citation,
                        "as_of": f.source.as_of.isoformat() if f.source.as_of else None,
                        "confidence": f.source.confidence.value,
                        "note": f.source.note,
                    },
                }
                for f in figures
            ]
        echo_json("presets show", payload)
        return
    con = console()
    con.print(
        Text.assemble((econ.title, "bold"), f" ({econ.name}), as of {econ.as_of or 'undated'}")
    )
    if econ.variant:
        con.print("variant: " + ", ".join(f"{k}={v}" for k, v in econ.variant.items()))
    con.print(
        f"books in {econ.books_currency}; viewers buy {econ.coin_unit}, "
        f"creators receive {econ.creator_unit}"
    )
    for v in versions:
        con.print(
            f"  version from {v['effective_from']}: {v['coin_packs']} coin packs, "
            f"{v['gifts']} gifts"
        )
    con.print(f"{len(econ.assumptions)} documented assumptions")
    for note in econ.assumptions:
        con.print(f"  - {note}")
    if sources:
        table = Table("figure", "value", "source", "as of", "confidence")
        for f in figures:
            src = f.source
            table.add_row(
                f.path,
                _shown(f.value),
                src.citation if src else "(none)",
                src.as_of.isoformat() if src and src.as_of else "-",
                src.confidence.value if src else "-",
            )
        con.print(table)
