"""Run every benchmark in this folder, one subprocess each.

Run: ``python benchmarks/run.py [--transactions N]``. With ``--transactions``
each benchmark runs at that size (a small one, say 2000, makes a quick smoke
run); without it each runs at its own default. Every benchmark script here
takes ``--transactions N`` (for ``chain_scale.py`` the larger of its two journals;
for ``chain_speed.py`` the number of gifts).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", "-n", type=int, default=None, metavar="N")
    args = parser.parse_args(argv)
    extra = [] if args.transactions is None else ["--transactions", str(args.transactions)]
    failed = []
    for script in sorted(HERE.glob("*.py")):
        if script.name in ("run.py", "__init__.py") or script.name.startswith("_"):
            continue
        print(f"== {script.name}", flush=True)
        if subprocess.run([sys.executable, str(script), *extra], check=False).returncode:
            failed.append(script.name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
