"""giftledger.charts: Sankey and waterfall charts written whole, labelled exactly."""

from __future__ import annotations

import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import pytest
from moneyed import Money

import giftledger as gl
from giftledger.charts import render_flow
from tests.economy.chainkit import app_for, simple_economy, tiktok

SVG = "{http://www.w3.org/2000/svg}"


def _eva() -> gl.MoneyFlow:
    """A creator paid in euros: store fees, FX, a withdrawal paid, one in flight."""
    econ = simple_economy(
        withdrawal=gl.WithdrawalPolicy(minimum=Money("1", "EUR"), fee_rate=Fraction(1, 100))
    )
    _book, _, app = app_for(econ, rates={("USD", "EUR"): "0.9"})
    app.open_viewer("ann", region="US")
    app.open_creator("eva", region="DE", payout_currency="EUR")
    app.buy_coins("ann", pack=10000, channel="web")
    app.buy_coins("ann", pack=1400, channel="ios")
    app.send_gift("ann", "eva", "Galaxy", 5)
    app.convert_diamonds("eva", 4000)
    app.complete_withdrawal(app.request_withdrawal("eva", Money("12.00", "EUR")))
    app.request_withdrawal("eva", Money("3.00", "EUR"))
    return gl.money_flow(app.explain("eva"))


def _texts(path: Path) -> list[str]:
    root = ET.parse(path).getroot()  # valid XML, or this raises
    assert root.tag == f"{SVG}svg"
    out = []
    for el in root.iter(f"{SVG}text"):
        out.append("".join(el.itertext()))
    return out


def _expected(node: gl.FlowNode, locale: str = "en_US") -> list[str]:
    shown = [gl.format_money(node.amount, locale)]
    if node.paid is not None:
        shown.append(gl.format_money(node.paid, locale))
    return shown


@pytest.mark.parametrize("kind", ["sankey", "waterfall"])
def test_svg_is_xml_with_every_label_and_exact_amount(tmp_path: Path, kind: str) -> None:
    flow = _eva()
    out = render_flow(flow, tmp_path / "eva.svg", kind=kind)  # type: ignore[arg-type]
    assert out == tmp_path / "eva.svg"
    text = " ".join(" ".join(_texts(out)).split())  # wrapped lines joined
    assert flow.title in text
    for node in flow.nodes if kind == "sankey" else flow.ends():
        assert node.label in text, node.label
        for amount in _expected(node):
            assert amount in text, (node.key, amount)
    # The creator's part in the payout currency, written from Money (no float digits).
    assert "€11.88" in text
    assert "$13.20" in text


def test_png_has_the_signature_and_a_sane_size(tmp_path: Path) -> None:
    for kind in ("sankey", "waterfall"):
        out = render_flow(_eva(), tmp_path / f"{kind}.PNG", kind=kind)  # type: ignore[arg-type]
        data = out.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
        assert 800 <= width <= 4000, width
        assert 400 <= height <= 3000, height
        assert 10_000 < len(data) < 2_000_000


def test_a_locale_writes_amounts_its_way_and_a_title_can_be_given(tmp_path: Path) -> None:
    flow = _eva()
    out = render_flow(flow, tmp_path / "de.svg", title="Wohin das Geld ging", locale="de_DE")
    text = "\n".join(_texts(out))
    assert "Wohin das Geld ging" in text
    assert gl.format_money(flow.node("bank").paid or flow.node("bank").amount, "de_DE") in text
    assert "11,88" in text


def test_a_bad_suffix_kind_or_locale_writes_nothing(tmp_path: Path) -> None:
    flow = _eva()
    with pytest.raises(gl.InvalidArgument, match=r"suffix '\.pdf' is not one of \.svg, \.png"):
        render_flow(flow, tmp_path / "eva.pdf")
    with pytest.raises(gl.InvalidArgument, match="suffix ''"):
        render_flow(flow, tmp_path / "eva")
    with pytest.raises(gl.InvalidArgument, match="chart kind 'pie'"):
        render_flow(flow, tmp_path / "eva.svg", kind="pie")  # type: ignore[arg-type]
    with pytest.raises(gl.InvalidArgument, match="locale"):
        render_flow(flow, tmp_path / "eva.svg", locale="xx_NOPE")
    with pytest.raises(gl.InvalidArgument, match="not Explanation"):
        render_flow(object.__new__(gl.Explanation), tmp_path / "eva.svg")  # type: ignore[arg-type]
    with pytest.raises(gl.InvalidArgument, match="no directory"):
        render_flow(flow, tmp_path / "missing" / "eva.svg")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "eva.svg"
    target.write_text("old")

    def boom(*args: object, **kw: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("matplotlib.figure.Figure.savefig", boom)
    with pytest.raises(OSError, match="disk full"):
        render_flow(_eva(), target)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["eva.svg"]


def test_an_empty_flow_and_a_dollar_sign_in_a_name_draw(tmp_path: Path) -> None:
    _book, _clock, app = tiktok()
    app.open_creator("$cash$", region="US", age=30)
    flow = gl.money_flow(app.explain("$cash$"))
    out = render_flow(flow, tmp_path / "empty.svg")
    text = "\n".join(_texts(out))
    assert "Where $cash$'s money went" in text  # no mathtext: the name as written
    assert "$0.00" in text
    render_flow(flow, tmp_path / "empty.png", kind="waterfall")


def test_importing_charts_without_matplotlib_says_which_extra_to_install() -> None:
    code = (
        "import sys\n"
        "sys.modules['matplotlib'] = None  # as if it were not installed\n"
        "import giftledger\n"
        "try:\n"
        "    import giftledger.charts\n"
        "except ModuleNotFoundError as exc:\n"
        "    print(exc.name, '|', exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.startswith("matplotlib |"), out
    assert 'pip install "giftledger[charts]"' in out
