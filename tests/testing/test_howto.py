"""Acceptance 4 of issue 13: the how-to's creator-share rule with a rounding bug is caught
and shrunk to at most five operations; the fixed rule passes.

It runs the example of docs/testing.md as written (tests/test_readme.py runs it too) and
inspects the shrunk failure it leaves behind.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import giftledger.testing as glt

HOWTO = Path(__file__).resolve().parents[2] / "docs" / "testing.md"


def _example() -> str:
    blocks = re.findall(r"```python\n(.*?)```", HOWTO.read_text("utf-8"), re.S)
    (found,) = [b for b in blocks if "ChainMachine.for_economy(" in b]
    return found


def test_the_documented_rounding_bug_is_caught_in_at_most_five_operations(
    capsys: pytest.CaptureFixture[str],
) -> None:
    namespace: dict[str, object] = {"__name__": "testing_howto"}
    # The example ends by running the fixed rule: reaching the end means it passed.
    exec(compile(_example(), str(HOWTO), "exec"), namespace)
    failure = namespace["failure"]
    assert isinstance(failure, glt.ChainCheckFailed)
    assert failure.check == "creators_get_at_most_95_percent"
    assert len(failure.operations) <= 5
    # A purchase and one Rose: 0.95 of a Diamond rounded half up to a whole cent.
    assert [type(op) for op in failure.operations] == [glt.BuyCoins, glt.SendGift]
    gift = failure.operations[-1]
    assert isinstance(gift, glt.SendGift)
    assert (gift.gift, gift.quantity) == ("Rose", 1)
    printed = capsys.readouterr().out
    assert "after 2 operation(s)" in printed
    assert "app.send_gift('ann', 'cat', 'Rose', 1)" in printed
