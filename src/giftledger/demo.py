"""The whole chain on the embedded SQLite default: ``python -m giftledger.demo``.

``make demo`` runs it. It loads the dated, sourced TikTok LIVE preset, opens
a ledger in a SQLite file, and walks one creator's money from the viewer's
coin purchase to a withdrawal paid in euros:

1. alice buys coins in the iOS app (Apple keeps 30%);
2. alice sends bob gifts; their value leaves deferred revenue lot by lot;
3. bob converts his Diamonds to cash, in EUR through FX trading accounts;
4. bob withdraws once the $100 threshold is met (hold, then settle);

then prints where every cent went (``explain``), bob's localised statement,
the trial balance, and reopens the file to verify the hash chain.

Pass a path to keep the database (``python -m giftledger.demo books.db``);
by default it lives in a temporary folder. ``giftledger demo [PATH]`` (the
command line) keeps it in ``giftledger-demo.db`` and may run again on its own
ledger: every step carries an idempotency key, so a second run replays the
first and the balances stay the same.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from moneyed import Money

import giftledger as gl


def _title(text: str) -> None:
    print(f"\n== {text} ==")


def write_chart(app: gl.GiftEconomy, creator: str, path: Path) -> Path | None:
    """Draw where ``creator``'s money went to ``path`` (SVG or PNG) and return it;
    None (saying what to install) when matplotlib, the ``charts`` extra, is missing."""
    try:
        from .charts import render_flow
    except ModuleNotFoundError as exc:
        if exc.name != "matplotlib":
            raise
        print(f"  no chart: {exc}")
        return None
    return render_flow(gl.money_flow(app.explain(creator)), path)


def run(path: Path, *, chart: bool = True) -> Path | None:
    """Walk the chain on a SQLite ledger at ``path`` and print each step; with
    ``chart``, draw where bob's money went next to it (``<path>.svg``) and return
    the chart's path (None without a chart)."""
    econ = gl.presets.load("tiktok-live")
    url = f"sqlite:///{path}"
    clock = gl.ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    # An illustrative rate, not a market quote: users plug in their own RateSource.
    jan = datetime(2026, 1, 1, tzinfo=UTC)
    rates = gl.RateTable.of(("USD", "EUR", "0.92", jan, None), ("GBP", "USD", "1.27", jan, None))

    _title(f"{econ.title}: rules as dated, sourced data")
    rules = econ.rules_at(clock.now())
    pay = rules.creator_pay
    print(f"rules in force since {rules.effective_from.date()}")
    latest = f"versions[{econ.version_index(clock.now())}]"
    wanted = (f"{latest}.creator_pay.value_per_unit", f"{latest}.withdrawal.minimum")
    for figure in econ.figures():
        if figure.path in wanted and figure.source is not None:
            src = figure.source
            value = figure.value
            shown = gl.format_money(value) if isinstance(value, Money) else str(value)
            print(f"  {figure.path} = {shown}")
            print(f"    source: {src.citation} ({src.as_of or 'undated'}, {src.confidence.value})")
    print(f"  {len(econ.assumptions)} documented assumptions, e.g.: {econ.assumptions[0]}")
    print(f"  Diamonds per coin of gift: {pay.creator_units_per_coin}")

    with gl.Ledger.open(url, clock=clock) as book:
        app = gl.GiftEconomy(book, econ, rates=rates)
        app.open_viewer("alice", region="US", age=27)
        app.open_viewer("chloe", region="GB", age=34)
        app.open_creator("bob", region="DE", payout_currency="EUR", age=31, verified=True)

        _title("1. alice (US) and chloe (UK) buy coins on iOS")
        for n in (1, 2):
            tx = app.buy_coins("alice", pack=17500, channel="ios", key=f"order-{n}")
            print(f"  entry {tx.id}: {tx.memo}")
        retry = app.buy_coins("alice", pack=17500, channel="ios", key="order-1")
        print(f"  a retried order-1 returns entry {retry.id} again and charges nothing")
        print(f"  alice holds {gl.format_money(app.coins('alice'))}")
        tx = app.buy_coins("chloe", pack=1321, channel="ios", key="order-uk-1")
        lot = gl.record_of(tx)
        assert isinstance(lot, gl.PurchaseRecord)
        vat = gl.from_minor(lot.tax, lot.currency)
        print(f"  entry {tx.id}: {tx.memo} (UK prices; VAT {gl.format_money(vat, 'en_GB')})")
        print(f"    booked in USD at the stored rate: {', '.join(map(str, tx.rates))}")

        _title("2. alice and chloe send bob gifts")
        clock.advance(timedelta(hours=1))
        for n, (gift, qty) in enumerate((("Lion", 1), ("Galaxy", 3), ("Rose", 99))):
            tx = app.send_gift("alice", "bob", gift, quantity=qty, key=f"gift-{n}")
            print(f"  entry {tx.id}: {tx.memo}")
        tx = app.send_gift("chloe", "bob", "Galaxy", key="gift-uk-1")
        print(f"  entry {tx.id}: {tx.memo}")
        print(f"  bob holds {gl.format_money(app.diamonds('bob'))}")

        _title("3. bob converts his Diamonds to cash, in EUR")
        clock.advance(timedelta(days=1))
        tx = app.convert_diamonds("bob", key="convert-1")
        print(f"  entry {tx.id}: {tx.memo}; rates stored: {', '.join(map(str, tx.rates))}")
        print(f"  bob's cash: {gl.format_money(app.cash('bob'), 'de_DE')}")

        _title("4. bob withdraws")
        try:
            app.request_withdrawal("bob", Money("10", "EUR"), key="wd-small")
        except gl.BelowWithdrawalThreshold as exc:
            print(f"  withdrawal wd-small of 10 EUR is refused: {exc}")
        w = app.request_withdrawal("bob", Money("100", "EUR"), key="wd-1")
        left = gl.format_money(book.available("creators:bob:cash"), "de_DE")
        print(f"  hold {w.id} placed for {gl.format_money(w.amount, 'de_DE')}; available {left}")
        done = app.complete_withdrawal(w)
        net, fee = gl.format_money(w.net, "de_DE"), gl.format_money(w.fee, "de_DE")
        cash = gl.format_money(app.cash("bob"), "de_DE")
        print(f"  withdrawal wd-1 is completed (entry {done.id}): {net} paid out, fee {fee}")
        print(f"  bob's cash left: {cash}")

        _title("Where every cent came from")
        print(app.explain("bob"))
        drawn = None
        if chart:
            drawn = write_chart(app, "bob", path.with_suffix(".svg"))
            if drawn is not None:
                print(f"  chart of where bob's money went: {drawn}")

        _title("bob's statement (de_DE)")
        print(app.statement("bob", locale="de_DE").render())

        _title("Trial balance (debits = credits in every unit)")
        tb = book.trial_balance()
        for unit in tb.units:
            print(f"  {unit:8} debits {tb.debits[unit]:>12} = credits {tb.credits[unit]:>12}")
        head = book.head

    _title("Reopening the SQLite file")
    with gl.Ledger.open(url, clock=clock) as again:
        print(f"  {again.verify()} entries verified; head hash {again.head[1][:16]}…")
        assert again.head == head, "a reopened ledger must have the same head"
        cash = gl.format_money(gl.GiftEconomy.from_ledger(again).cash("bob"), "de_DE")
        print(f"  bob's cash after reopening: {cash}")
    return drawn


def main(argv: list[str] | None = None) -> int:
    """Run the demo; ``argv[0]``, if given, is where to keep the SQLite file."""
    args = sys.argv[1:] if argv is None else argv
    if args and args[0].startswith("-"):
        print("usage: python -m giftledger.demo [PATH]  (or: giftledger demo [PATH])")
        return 0 if args[0] in ("-h", "--help") else 2
    if args:
        target = Path(args[0])
        if target.exists():
            print(f"{target} exists; pass a new path", file=sys.stderr)
            return 2
        run(target)
        print(f"\nthe ledger is kept in {target}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        run(Path(tmp) / "giftledger-demo.db", chart=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
