"""``python -m giftledger``: the command line (needs the ``cli`` extra)."""

from __future__ import annotations

import sys

from giftledger.cli import entry

if __name__ == "__main__":
    sys.exit(entry())
