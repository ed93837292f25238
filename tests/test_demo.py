from __future__ import annotations

import pytest

from giftledger import demo


def test_demo_runs_and_verifies(capsys: pytest.CaptureFixture[str]) -> None:
    assert demo.main([]) == 0
    out = capsys.readouterr().out
    assert "verified" in out
    assert "viewers:alice:coins" in out
