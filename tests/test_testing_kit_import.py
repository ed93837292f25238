"""The testing kit: its import without Hypothesis, and st.from_type of giftledger types."""

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


def test_from_type_draws_giftledgers_strategies_in_a_fresh_interpreter() -> None:
    # Only giftledger and hypothesis imported: the entry point registers the types.
    code = (
        "from decimal import Decimal\n"
        "from hypothesis import given, settings, strategies as st\n"
        "from moneyed import Money\n"
        "import giftledger as gl\n"
        "@settings(max_examples=25, deadline=None)\n"
        "@given(st.from_type(gl.Unit), st.from_type(Money), st.from_type(gl.Transaction),\n"
        "       st.from_type(gl.Economy))\n"
        "def check(unit, money, tx, econ):\n"
        "    assert 0 <= unit.exponent <= 4, unit\n"
        "    exp = gl.get_unit(money.currency.code).exponent\n"
        "    assert money.amount == money.amount.quantize(Decimal(1).scaleb(-exp))\n"
        "    for code in {p.unit for p in tx.postings}:\n"
        "        assert sum(p.signed for p in tx.postings if p.unit == code) == 0\n"
        "    assert econ.rules_at(econ.versions[0].effective_from) is econ.versions[0]\n"
        "check()\n"
        "print('ok')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    assert out.strip() == "ok"


def test_the_testing_kit_imports_before_hypothesis_in_a_fresh_interpreter() -> None:
    # Importing the kit imports Hypothesis, which runs giftledger's entry point: the
    # hook must not need the kit it is being imported from.
    code = (
        "from giftledger.testing import money\n"
        "from hypothesis import given, settings, strategies as st\n"
        "from moneyed import Money\n"
        "@settings(max_examples=5)\n"
        "@given(st.from_type(Money))\n"
        "def check(m):\n"
        "    assert isinstance(m, Money)\n"
        "check()\n"
        "print('ok')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    assert out.strip() == "ok"
