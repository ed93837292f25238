"""``giftledger statement`` and ``giftledger explain``: a creator's books, read."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import click
from moneyed import Money
from rich.table import Table

import giftledger as gl

from ._common import (
    Fail,
    chain_of,
    check_target,
    console,
    echo_json,
    force_option,
    json_option,
    ledger_option,
    locale_option,
    money_json,
    new_file,
    open_book,
    rules_options,
    time_json,
)

__all__ = ["explain", "fraction_json", "statement", "when"]


def when(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """An ISO 8601 date or time; one without a zone is UTC."""
    if value is None:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise Fail(f"--{param.name} {value!r} is not an ISO 8601 date or time") from None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def fraction_json(value: Fraction) -> str:
    """An exact rate as text: ``"1.27"`` when it has a finite decimal form, else ``"1/3"``."""
    d = value.denominator
    while d % 2 == 0:
        d //= 2
    while d % 5 == 0:
        d //= 5
    if d != 1:
        return f"{value.numerator}/{value.denominator}"
    return str(Decimal(value.numerator) / Decimal(value.denominator))


def _fmt(money: Money | None, locale: str) -> str:
    return "" if money is None else gl.format_money(money, locale)


@click.command()
@click.argument("creator")
@ledger_option
@rules_options
@locale_option
@click.option("--start", callback=when, metavar="WHEN", help="First instant (ISO 8601, UTC).")
@click.option("--end", callback=when, metavar="WHEN", help="First instant left out.")
@json_option
def statement(
    creator: str,
    ledger: str,
    preset: str | None,
    economy_file: Path | None,
    locale: str,
    start: datetime | None,
    end: datetime | None,
    as_json: bool,
) -> None:
    """A creator's itemised statement, dates and amounts written for --locale.

    JSON keys: creator, locale, start, end, lines: [{at, transaction, kind,
    description, amount, units}] (amount and units are money objects or null).
    """
    with open_book(ledger) as book:
        app = chain_of(book, preset, economy_file)
        st = app.statement(creator, start=start, end=end, locale=locale)
    if as_json:
        echo_json(
            "statement",
            {
                "creator": st.creator,
                "locale": st.locale,
                "start": time_json(st.start),
                "end": time_json(st.end),
                "lines": [
                    {
                        "at": time_json(line.at),
                        "transaction": line.transaction,
                        "kind": line.kind,
                        "description": line.description,
                        "amount": money_json(line.amount),
                        "units": money_json(line.units),
                    }
                    for line in st.lines
                ],
            },
        )
        return
    click.echo(st.render())


def _explanation(app: gl.GiftEconomy, creator: str, locale: str) -> gl.Explanation:
    return app.explain(creator, locale=locale)


def _gift_json(g: gl.GiftTrace) -> dict[str, Any]:
    return {
        "transaction": g.transaction,
        "at": time_json(g.at),
        "viewer": g.viewer,
        "gift": g.gift,
        "quantity": g.quantity,
        "coins": g.coins,
        "units": g.units,
        "paid": money_json(g.paid),
        "store_fee": money_json(g.store_fee),
        "tax": money_json(g.tax),
        "platform": money_json(g.platform),
        "creator": money_json(g.creator),
        "purchases": [
            {
                "purchase": s.purchase,
                "viewer": s.viewer,
                "channel": s.channel,
                "region": s.region,
                "bought_at": time_json(s.bought_at),
                "coins": s.coins,
                "paid": money_json(s.paid),
                "store_fee": money_json(s.store_fee),
                "tax": money_json(s.tax),
                "released": money_json(s.released),
            }
            for s in g.purchases
        ],
    }


_TOTALS = (
    ("paid", "viewers paid"),
    ("store_fees", "store fees"),
    ("taxes", "taxes"),
    ("platform", "platform"),
    ("earned", "earned from gifts"),
    ("converted", "converted"),
    ("adjustments", "conversion adjustments"),
    ("payable", "still payable"),
    ("cash_from_conversions", "cash from conversions"),
    ("views", "view pay"),
    ("withdrawn", "withdrawn"),
    ("withdrawal_fees", "withdrawal fees"),
    ("in_flight", "in flight"),
    ("cash", "cash now"),
)


@click.command()
@click.argument("creator")
@ledger_option
@rules_options
@locale_option
@click.option("--gift", "gift_id", type=int, metavar="ID", help="Only this gift (its entry id).")
@click.option(
    "--start", callback=when, metavar="WHEN", help="Only gifts from this instant (ISO 8601, UTC)."
)
@click.option("--end", callback=when, metavar="WHEN", help="Only gifts before this instant.")
@click.option(
    "--chart",
    type=click.Path(path_type=Path),
    metavar="FILE.svg|FILE.png",
    help="Also draw where the money went to this file (the 'charts' extra).",
)
@click.option(
    "--chart-kind",
    type=click.Choice(["sankey", "waterfall"]),
    help="The chart's kind  [default: sankey]",
)
@force_option
@json_option
def explain(
    creator: str,
    ledger: str,
    preset: str | None,
    economy_file: Path | None,
    locale: str,
    gift_id: int | None,
    start: datetime | None,
    end: datetime | None,
    chart: Path | None,
    chart_kind: str | None,
    force: bool,
    as_json: bool,
) -> None:
    """Where every cent CREATOR earned came from, gift by gift, to the bank.

    With --chart FILE.svg (or .png), also draw it: a Sankey (default) or, with
    --chart-kind waterfall, a waterfall from what viewers paid, through each cut,
    to what reached the creator's bank; with --gift, that gift alone. Amounts on
    the chart are written for --locale. An existing chart file is refused unless
    --force. Charts need the 'charts' extra (matplotlib).

    JSON keys: creator, paid, store_fees, taxes, platform, earned, converted,
    adjustments, payable, cash_from_conversions, views, withdrawn, withdrawal_fees,
    in_flight, cash (money objects), paid_in: [{paid, paid_books, rates: [{rate,
    date}]}], rates: [{base, quote, rate}], gifts: [{transaction, at, viewer, gift,
    quantity, coins, units, paid, store_fee, tax, platform, creator, purchases}],
    chart: {path, kind} or null.
    With --gift, gifts holds that gift only and the totals stay the creator's;
    with --start/--end, gifts holds the gifts of that period, and the chart is the
    period's: from what viewers paid for them to the creator's share.
    """
    render_flow = None if chart is None else _chart_renderer(chart, force)
    if chart is None and chart_kind is not None:
        raise Fail("--chart-kind is the kind of --chart: give --chart FILE.svg too")
    kind = chart_kind or "sankey"
    with open_book(ledger) as book:
        app = chain_of(book, preset, economy_file)
        ex = _explanation(app, creator, locale)
    gifts = ex.gifts
    if gift_id is not None:
        gifts = tuple(g for g in ex.gifts if g.transaction == gift_id)
        if not gifts:
            raise Fail(f"entry {gift_id} is no gift {creator!r} received")
    if start is not None or end is not None:
        if gift_id is not None:
            raise Fail("give --gift or a period (--start/--end), not both")
        if start is not None and end is not None and end <= start:
            raise Fail(f"--end {end.isoformat()} is not after --start {start.isoformat()}")
        gifts = tuple(
            g for g in gifts if (start is None or g.at >= start) and (end is None or g.at < end)
        )
    if chart is not None and render_flow is not None:
        if gift_id is None and (start is not None or end is not None):
            flow = gl.money_flow(ex, start=start, end=end)
        else:
            flow = gl.money_flow(ex, gift=gift_id)
        with new_file(chart, force) as tmp:
            render_flow(flow, tmp, kind=kind, locale=locale)
    if as_json:
        payload: dict[str, Any] = {"creator": ex.creator}
        payload.update({name: money_json(getattr(ex, name)) for name, _ in _TOTALS})
        payload["paid_in"] = [
            {
                "paid": money_json(p.paid),
                "paid_books": money_json(p.paid_books),
                "rates": [
                    {"rate": fraction_json(rate), "date": day.isoformat()} for rate, day in p.rates
                ],
            }
            for p in ex.paid_in
        ]
        payload["rates"] = [
            {"base": r.base, "quote": r.quote, "rate": fraction_json(r.value)} for r in ex.rates
        ]
        payload["gifts"] = [_gift_json(g) for g in gifts]
        payload["chart"] = None if chart is None else {"path": str(chart), "kind": kind}
        echo_json("explain", payload)
        return
    con = console()
    if gift_id is None:
        n = len(gifts)
        con.print(f"{ex.creator}: {n} gift{'' if n == 1 else 's'}")
        # The receipt, in the reader's language: from what viewers paid, cut by cut,
        # to what reached the bank (each step's lines sum to its total).
        con.print(ex.receipt(locale).render())
    for g in gifts if gift_id is not None else ():
        con.print(f"gift #{g.transaction}: {g.quantity} x {g.gift} from {g.viewer}")
        table = Table(show_header=False)
        table.add_column("what")
        table.add_column("amount", justify="right")
        for label, money in (
            ("viewers paid", g.paid),
            ("store fee", g.store_fee),
            ("tax", g.tax),
            ("platform", g.platform),
            (f"{ex.creator}", g.creator),
        ):
            table.add_row(label, _fmt(money, locale))
        con.print(table)
        for s in g.purchases:
            con.print(
                f"  {s.coins} coins of purchase #{s.purchase} ({s.viewer}, {s.channel}, "
                f"{s.region}): paid {_fmt(s.paid, locale)}"
            )
    if chart is not None:
        con.print(f"chart of where {ex.creator}'s money went ({kind}): {chart}")


def _chart_renderer(chart: Path, force: bool) -> Any:
    """``render_flow``, once ``chart`` is known to be a path it may write; before any work."""
    try:
        from giftledger.charts import FORMATS, render_flow
    except ModuleNotFoundError as exc:
        if exc.name != "matplotlib":
            raise
        raise Fail(str(exc)) from None
    if chart.suffix.lower() not in FORMATS:
        raise Fail(
            f"cannot draw a chart to {str(chart)!r}: its suffix must be one of {', '.join(FORMATS)}"
        )
    check_target(chart, force)
    return render_flow
