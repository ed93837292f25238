"""giftledger.testing says how to install what it needs when Hypothesis is missing."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_testing_kit_without_hypothesis_says_which_extra_to_install() -> None:
    code = (
        "import sys\n"
        "sys.modules['hypothesis'] = None  # as if it were not installed\n"
        "try:\n"
        "    import giftledger.testing\n"
        "except ModuleNotFoundError as exc:\n"
        "    print(exc.name, '|', exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.startswith("hypothesis |"), out
    assert 'pip install "giftledger[testing]"' in out


def test_giftledger_itself_imports_without_hypothesis() -> None:
    code = "import sys\nsys.modules['hypothesis'] = None\nimport giftledger\nprint('ok')\n"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.strip() == "ok"
