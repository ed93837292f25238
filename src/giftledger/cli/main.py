"""The root group ``cli``; other modules (and other parts of giftledger) add commands.

Errors are handled here, once: a giftledger error, a usage error or an OS error is
one line on stderr (``giftledger: error: …``) and a non-zero exit code.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click

import giftledger as gl

from ._common import Fail, one_line

__all__ = ["cli", "run"]


class _Root(click.Group):
    """A group that turns every failure into one line and an exit code."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        code = self._run(args, prog_name or "giftledger", complete_var, extra)
        if standalone_mode:
            sys.exit(code)
        return code

    def _run(
        self,
        args: Sequence[str] | None,
        prog_name: str,
        complete_var: str | None,
        extra: dict[str, Any],
    ) -> int:
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.Exit as exc:
            return exc.exit_code
        except click.Abort:
            click.echo("giftledger: aborted", err=True)
            return 1
        except click.UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            click.echo(f"giftledger: error: {one_line(exc.format_message())}{hint}", err=True)
            return 2
        except click.ClickException as exc:
            Fail(exc.format_message()).show()
            return exc.exit_code
        except gl.GiftLedgerError as exc:
            click.echo(f"giftledger: error: {one_line(str(exc))}", err=True)
            return 1
        except OSError as exc:
            click.echo(f"giftledger: error: {one_line(str(exc))}", err=True)
            return 1
        return result if isinstance(result, int) else 0


@click.group("giftledger", cls=_Root, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(gl.__version__, prog_name="giftledger")
def cli() -> None:
    """giftledger: the books of a creator gift economy, kept exactly.

    Start with 'giftledger demo', then read its ledger with the other commands.
    """


def _register() -> None:
    from . import books, demo, exports, parties, presets, proofs, reports, simulate, watch

    cli.add_command(demo.demo)
    cli.add_command(reports.statement)
    cli.add_command(reports.explain)
    cli.add_command(parties.parties)
    cli.add_command(books.balances)
    cli.add_command(books.history)
    cli.add_command(books.verify)
    cli.add_command(exports.export)
    cli.add_command(exports.import_)
    cli.add_command(proofs.checkpoint)
    cli.add_command(proofs.prove)
    cli.add_command(proofs.check_statement)
    cli.add_command(proofs.keygen)
    cli.add_command(presets.presets)
    cli.add_command(watch.watch)
    cli.add_command(simulate.simulate)
    cli.add_command(simulate.compare)


_register()


def run(argv: Sequence[str]) -> int:
    """Run ``giftledger`` with ``argv``; return the exit code."""
    code = cli.main(list(argv), prog_name="giftledger", standalone_mode=False)
    return code if isinstance(code, int) else 0
