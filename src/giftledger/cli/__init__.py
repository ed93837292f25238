"""The command line: ``giftledger`` (or ``python -m giftledger``).

Built on click and rich, which come with the ``cli`` extra
(``pip install "giftledger[cli]"``, from a checkout ``pip install ".[cli]"``);
without them, :func:`entry` says exactly that in one line and exits with 1.
The core library never imports this package.

Commands (``giftledger COMMAND --help`` for each)::

    demo [PATH]                 walk the whole chain into a SQLite ledger, and draw it
    statement CREATOR           a creator's itemised statement   (--locale, --start, --end, --json)
    explain CREATOR             where every cent came from  (--gift ID, --chart FILE.svg, --json)
    parties [--role ROLE]       creators and viewers with their balances   (--json)
    balances [PREFIX]           posted balances of accounts       (--json)
    history ACCOUNT             an account's postings             (--limit, --json)
    verify                      re-check the hash chain and every chain record
                                (--since CHECKPOINT.json, --json)
    export OUT                  the books as beancount, CSV or JSON Lines (--format)
    import FILE --ledger URL    restore a JSON Lines export into a new ledger (--expect-head)
    checkpoint                  the books' checkpoint as JSON     (--out, --sign-key)
    prove CREATOR               a statement with proofs against a checkpoint (--checkpoint)
    check-statement FILE        check a proven statement offline  (--checkpoint, --public-key)
    keygen KEYFILE              an Ed25519 key pair for signing checkpoints
    presets list                the shipped presets               (--json)
    presets show NAME           one preset's versions (--sources: every figure's source)

Every command that reads books takes ``--ledger URL`` (a store URL, or a path to a
SQLite file; default ``giftledger-demo.db``, the demo's, or ``$GIFTLEDGER_LEDGER``).
The rules come from the ledger itself (:meth:`GiftEconomy.from_ledger
<giftledger.GiftEconomy.from_ledger>`); ``--preset NAME`` or ``--economy FILE.toml``
name the rules you expect, and a ledger recording other rules is refused.
Reading commands never create or change a ledger: an unknown path is an error.
Only ``demo`` and ``import`` write to a ledger. A command that writes a file
(``export``, ``--chart``, ``--out``, ``keygen``) writes it whole or not at all,
and refuses to replace an existing file unless given ``--force``.

Errors print one line on stderr, ``giftledger: error: …``, and exit non-zero
(2 for a usage error, 1 otherwise).

JSON (``--json``) is one object on stdout, with ``"schema": "giftledger.cli/1"``;
money is ``{"amount": "12.50", "currency": "EUR"}`` (an exact decimal string,
never a float), times are ISO 8601 in UTC. The keys per command are listed in each
command's ``--help``.

Other parts of giftledger add commands with ``cli.add_command(...)`` on
:data:`giftledger.cli.main.cli`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["INSTALL_HINT", "demo_entry", "entry"]

#: What the console script prints when click or rich is missing.
INSTALL_HINT = (
    "giftledger: the command line needs the 'cli' extra (click and rich): "
    'pip install "giftledger[cli]"  (from a checkout: pip install ".[cli]")'
)


# ``entry``, not ``main``: ``giftledger.cli.main`` is the module holding the root group.
def entry(argv: Sequence[str] | None = None) -> int:
    """Run the command line on ``argv`` (default: ``sys.argv[1:]``); return the exit code.

    Ctrl-C at any moment, even while the modules load, is one line and exit code 1
    (a command in progress removes what it had begun to write).
    """
    try:
        try:
            from .main import run
        except ImportError as exc:
            if exc.name not in ("click", "rich") and not str(exc.name).startswith(
                ("click.", "rich.")
            ):
                raise
            print(INSTALL_HINT, file=sys.stderr)
            return 1
        return run(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:
        print("giftledger: aborted", file=sys.stderr)
        return 1


def demo_entry(argv: Sequence[str] | None = None) -> int:
    """``giftledger-demo [PATH]``: the same as ``giftledger demo [PATH]``."""
    return entry(["demo", *(sys.argv[1:] if argv is None else argv)])
