"""``giftledger demo [PATH]``: the whole chain into a SQLite ledger, safe to re-run."""

from __future__ import annotations

from pathlib import Path

import click

import giftledger as gl

from ._common import DEFAULT_LEDGER, Fail, check_sqlite_ledger

__all__ = ["demo"]


def _check_own_ledger(path: Path) -> None:
    """An existing file is run again only if it is the demo's own ledger: a giftledger
    file whose chain runs under the demo's rules. Nothing is written to check."""
    check_sqlite_ledger(path)
    with gl.Ledger.open(f"sqlite:///{path}") as book:
        try:
            recorded = gl.GiftEconomy.from_ledger(book).economy
        except gl.UnknownRule:
            recorded = None
    if recorded is None or recorded.to_toml() != gl.presets.load("tiktok-live").to_toml():
        raise Fail(f"{str(path)!r} holds other books than the demo's; give the demo a new path")


@click.command()
@click.argument("path", required=False, default=DEFAULT_LEDGER, type=click.Path(path_type=Path))
def demo(path: Path) -> None:
    """Walk the whole chain (TikTok LIVE rules) into the SQLite ledger PATH.

    alice and chloe buy coins, send bob gifts, bob converts his Diamonds to
    euros and withdraws: one request is refused (below the threshold), one is
    completed. PATH defaults to giftledger-demo.db, which the other commands read
    by default. Running it again on its own ledger replays every step (each has an
    idempotency key): the balances stay the same. With the 'charts' extra, it
    also draws where bob's money went next to the ledger (PATH with .svg) and
    says where.
    """
    from giftledger import demo as walk

    if path.exists():
        _check_own_ledger(path)
        click.echo(
            f"{path} already holds the demo: each step below replays its first result "
            f"(every step has an idempotency key), and the balances shown are today's"
        )
    elif not path.parent.resolve().is_dir():
        raise Fail(f"the directory {str(path.parent)!r} does not exist")
    drawn = walk.run(path)
    click.echo(f"\nthe ledger is kept in {path}; read it with, e.g.:")
    click.echo(f"  giftledger statement bob --ledger {path}")
    if drawn is not None:
        click.echo(f"the chart of where bob's money went is {drawn}")
