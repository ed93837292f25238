"""Charts of where the money went: a Sankey or a waterfall of a :class:`~giftledger.MoneyFlow`.

Install the ``charts`` extra (``pip install "giftledger[charts]"``): this module
imports matplotlib. It draws with matplotlib's object API on the Agg canvas
(never pyplot, never a screen), so it is safe in a server or a test.

Every amount written on a chart is the flow's exact ``Money``, formatted by
babel for the chart's locale; floats only place and size the shapes.

Example:
    >>> import tempfile, pathlib
    >>> import giftledger as gl
    >>> from giftledger.charts import render_flow
    >>> app = gl.GiftEconomy(gl.Ledger(), gl.presets.load("tiktok-live"))
    >>> _ = app.open_viewer("ann", region="US", age=30)
    >>> _ = app.open_creator("cat", region="US", age=30)
    >>> _ = app.buy_coins("ann", pack=70, channel="web")
    >>> _ = app.send_gift("ann", "cat", "Rose", quantity=50)
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "cat.svg"
    >>> render_flow(gl.money_flow(app.explain("cat")), out) == out
    True
    >>> "Viewers paid" in out.read_text()
    True
"""

from __future__ import annotations

try:
    import matplotlib  # noqa: F401
except ModuleNotFoundError as exc:  # pragma: no cover - exercised in a subprocess
    if (exc.name or "").split(".")[0] != "matplotlib":
        raise
    raise ModuleNotFoundError(
        'giftledger.charts needs matplotlib; install it with: pip install "giftledger[charts]"',
        name="matplotlib",
    ) from None

import os
import tempfile
from pathlib import Path
from typing import Literal

from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path as MplPath
from moneyed import Money

from ._errors import InvalidArgument
from ._files import publish_mode
from ._money.amounts import to_minor
from ._money.formatting import format_money
from ._reports.flow import FlowKind, FlowNode, MoneyFlow
from ._simulate.compare import Comparison

__all__ = ["COMPARISON_FIGURES", "FORMATS", "render_comparison", "render_flow"]

#: The file formats :func:`render_flow` writes, by the path's suffix.
FORMATS = {".svg": "svg", ".png": "png"}

_KINDS = ("sankey", "waterfall")

# Colours: blues for money coming in, warm colours for what is cut on the way,
# greens for what is the creator's (darkest: what reached the bank).
_COLOURS = {
    "viewers": "#3F6FB5",
    "top_up": "#7FA7D9",
    "adjustment_in": "#7FA7D9",
    "clawback": "#9AA5B1",
    "views": "#5B9BD5",
    "store_fees": "#E08A3C",
    "tax": "#C8503C",
    "platform": "#A63D6B",
    "adjustment_out": "#A63D6B",
    "withdrawal_fees": "#8C5A3C",
    "creator_share": "#4DAA66",
    "owed": "#A7D7AE",
    "converted": "#3E9B58",
    "cash": "#2F8A4A",
    "in_flight": "#8CCB98",
    "held": "#6DBD80",
    "bank": "#18663A",
}
_BY_KIND = {FlowKind.SOURCE: "#3F6FB5", FlowKind.CUT: "#C8503C", FlowKind.CREATOR: "#2F8A4A"}
_INK = "#222222"
_MUTED = "#555555"


def _colour(node: FlowNode) -> str:
    if node.key.startswith("purchase:"):
        return _COLOURS["viewers"]
    return _COLOURS.get(node.key, _BY_KIND[node.kind])


def _amount_text(node: FlowNode, locale: str) -> str:
    """The node's exact amount; after a conversion, what was paid and its books value."""
    books = format_money(node.amount, locale)
    if node.paid is None:
        return books
    return f"{format_money(node.paid, locale)} (= {books})"


def _size(money: Money) -> float:
    """A drawing size for an amount: its minor units, as a float (never shown)."""
    return float(to_minor(money, money.currency.code))


def render_flow(
    flow: MoneyFlow,
    path: str | os.PathLike[str],
    *,
    kind: Literal["sankey", "waterfall"] = "sankey",
    title: str | None = None,
    locale: str = "en_US",
) -> Path:
    """Draw ``flow`` as a Sankey or a waterfall and write it to ``path``.

    The format follows the suffix (``.svg`` or ``.png``). The file appears
    whole or not at all: the chart is written to a temporary file beside
    ``path`` and renamed over it. SVG keeps its text as text (searchable,
    selectable).

    Args:
        flow: from :func:`~giftledger.money_flow`.
        path: where to write; its suffix picks the format.
        kind: ``"sankey"`` (bands from where money entered to where it ended)
            or ``"waterfall"`` (what came in, each cut, what is the creator's).
        title: the chart's title (default: the flow's own).
        locale: how amounts are written (babel), e.g. ``"de_DE"``.

    Returns:
        The path written.

    Raises:
        InvalidArgument: a suffix other than ``.svg`` or ``.png``, an unknown
            ``kind``, a ``flow`` that is not a MoneyFlow, an unknown locale, or a
            directory that does not exist. Nothing is written.
    """
    target = Path(path)
    fmt = _format_of(target)
    if kind not in _KINDS:
        raise InvalidArgument(f"chart kind {kind!r} is not one of {', '.join(_KINDS)}")
    if not isinstance(flow, MoneyFlow):
        raise InvalidArgument(
            f"render_flow draws a MoneyFlow (from giftledger.money_flow), not {type(flow).__name__}"
        )
    format_money(flow.total, locale)  # an unknown locale fails here, before any drawing
    _check_directory(target)
    fig = _sankey(flow, locale) if kind == "sankey" else _waterfall(flow, locale)
    _titles(fig, flow, title, locale)
    return _save(fig, target, fmt)


def _titles(fig: Figure, flow: MoneyFlow, title: str | None, locale: str) -> None:
    zero = Money(0, flow.currency)
    ends = flow.ends()
    cut = sum((n.amount for n in ends if n.kind is FlowKind.CUT), zero)
    mine = sum((n.amount for n in ends if n.kind is FlowKind.CREATOR), zero)
    fig.suptitle(
        title if title is not None else flow.title,
        x=0.02,
        y=0.985,
        ha="left",
        va="top",
        fontsize=14,
        fontweight="bold",
        color=_INK,
        parse_math=False,
    )
    line = (
        f"In: {format_money(flow.total, locale)}   ·   cut on the way: "
        f"{format_money(cut, locale)}   ·   the creator's: {format_money(mine, locale)}"
    )
    if flow.payout is not None:
        line += f"   ·   after the conversion: {flow.payout} (= its value in {flow.currency})"
    fig.text(
        0.02,
        0.985 - 28 / (fig.get_figheight() * 72),
        line,
        ha="left",
        va="top",
        fontsize=9.5,
        color=_MUTED,
        parse_math=False,
    )


# -- Sankey -------------------------------------------------------------------------

_PT_FLOW = 320.0  # points the largest column's money takes
_PT_MIN_NODE = 3.0  # the thinnest a node is drawn, so a cent still shows
_PT_LABEL = 30.0  # room a two-line label needs
_PT_GAP = 12.0
_PT_TOP, _PT_BOTTOM = 62.0, 24.0
_COL_W = 200.0  # points between columns
_NODE_W = 12.0
_LABEL_W = 190.0  # room after the last column for its labels


def _sankey(flow: MoneyFlow, locale: str) -> Figure:
    nodes = flow.nodes
    stages = sorted({n.stage for n in nodes})
    column = {s: i for i, s in enumerate(stages)}
    biggest = max(
        (sum(_size(n.amount) for n in nodes if n.stage == s) for s in stages), default=0.0
    )
    per_pt = _PT_FLOW / biggest if biggest > 0 else 0.0
    height = {n.key: max(_size(n.amount) * per_pt, _PT_MIN_NODE) for n in nodes}
    # Each node's slot is tall enough for its label; columns are centred.
    slots: dict[str, tuple[float, float]] = {}  # key -> (top y, bottom y) of the node
    col_heights = {}
    for s in stages:
        col = [n for n in nodes if n.stage == s]
        col_heights[s] = sum(max(height[n.key], _PT_LABEL) for n in col) + _PT_GAP * (len(col) - 1)
    tallest = max(col_heights.values(), default=0.0)
    for s in stages:
        y = (tallest + col_heights[s]) / 2  # top of the column, y grows upwards
        for n in (n for n in nodes if n.stage == s):
            slot = max(height[n.key], _PT_LABEL)
            top = y - (slot - height[n.key]) / 2
            slots[n.key] = (top, top - height[n.key])
            y -= slot + _PT_GAP
    width_pt = _COL_W * (len(stages) - 1) + _NODE_W + _LABEL_W + 40
    fig = Figure(figsize=(max(width_pt, 640) / 72, (tallest + _PT_TOP + _PT_BOTTOM) / 72))
    ax = fig.add_axes(
        (
            0.0,
            _PT_BOTTOM / (tallest + _PT_TOP + _PT_BOTTOM),
            1.0,
            tallest / (tallest + _PT_TOP + _PT_BOTTOM),
        )
    )
    ax.set_xlim(-20, max(width_pt, 640) - 20)
    ax.set_ylim(0, max(tallest, 1.0))
    ax.set_axis_off()
    x = {n.key: column[n.stage] * _COL_W for n in nodes}
    by_key = {n.key: n for n in nodes}
    # Bands: out of each node top-down in its targets' order, into each node
    # top-down in its sources' order, so bands cross as little as they can.
    out_y = {k: top for k, (top, _) in slots.items()}
    in_y = dict(out_y)
    share_out = dict.fromkeys(slots, 0.0)
    share_in = dict.fromkeys(slots, 0.0)
    for link in flow.links:
        share_out[link.source] += _size(link.amount)
        share_in[link.target] += _size(link.amount)
    order = sorted(flow.links, key=lambda lk: (-slots[lk.source][0], -slots[lk.target][0]))
    bands = []
    for link in order:
        amount = _size(link.amount)
        h0 = height[link.source] * amount / share_out[link.source]
        y0 = out_y[link.source]
        out_y[link.source] -= h0
        bands.append((link, y0, h0))
    starts = {id(link): (y0, h0) for link, y0, h0 in bands}
    for link in sorted(flow.links, key=lambda lk: (-slots[lk.target][0], -slots[lk.source][0])):
        amount = _size(link.amount)
        h1 = height[link.target] * amount / share_in[link.target]
        y1 = in_y[link.target]
        in_y[link.target] -= h1
        y0, h0 = starts[id(link)]
        x0, x1 = x[link.source] + _NODE_W, x[link.target]
        _band(ax, x0, y0, h0, x1, y1, h1, _colour(by_key[link.target]))
    for n in nodes:
        top, bottom = slots[n.key]
        ax.add_patch(
            Rectangle((x[n.key], bottom), _NODE_W, top - bottom, color=_colour(n), lw=0, zorder=3)
        )
        middle = (top + bottom) / 2
        ax.text(
            x[n.key] + _NODE_W + 5,
            middle,
            f"{n.label}\n{_amount_text(n, locale)}",
            ha="left",
            va="center",
            fontsize=9,
            color=_INK,
            linespacing=1.25,
            zorder=4,
            parse_math=False,
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.8},
        )
    return fig


def _band(
    ax: Axes, x0: float, y0: float, h0: float, x1: float, y1: float, h1: float, colour: str
) -> None:
    """A band from the right edge of one node to the left edge of the next, its
    top and bottom cubic curves (flat at both ends)."""
    mid = (x0 + x1) / 2
    verts = [
        (x0, y0),
        (mid, y0),
        (mid, y1),
        (x1, y1),
        (x1, y1 - h1),
        (mid, y1 - h1),
        (mid, y0 - h0),
        (x0, y0 - h0),
        (x0, y0),
    ]
    codes = [MplPath.MOVETO] + [MplPath.CURVE4] * 3 + [MplPath.LINETO] + [MplPath.CURVE4] * 3
    codes.append(MplPath.CLOSEPOLY)
    ax.add_patch(PathPatch(MplPath(verts, codes), fc=colour, ec="none", alpha=0.42, zorder=1))


# -- Waterfall ----------------------------------------------------------------------


def _waterfall(flow: MoneyFlow, locale: str) -> Figure:
    """Money in (up), each cut (down), a subtotal of what is the creator's, then
    where the creator's money is (down to zero)."""
    zero = Money(0, flow.currency)
    steps: list[tuple[FlowNode | None, str, Money, Money, str]] = []  # node, label, from, to
    level = zero
    sources = [n for n in flow.nodes if flow.inflow(n.key) is None and n.amount.amount]
    ends = flow.ends()
    if not sources:
        sources = list(flow.nodes[:1])
    for n in sources:
        steps.append((n, n.label, level, level + n.amount, _colour(n)))
        level += n.amount
    for n in (e for e in ends if e.kind is FlowKind.CUT):
        steps.append((n, n.label, level, level - n.amount, _colour(n)))
        level -= n.amount
    steps.append((None, "Reached the creator", zero, level, "#2F8A4A"))
    for n in (e for e in ends if e.kind is not FlowKind.CUT):
        steps.append((n, n.label, level, level - n.amount, _colour(n)))
        level -= n.amount
    top = max((max(_size(a), _size(b)) for _, _, a, b, _ in steps), default=0.0) or 1.0
    count = len(steps)
    fig = Figure(figsize=(max(1.25 * count + 1.5, 8.0), 6.0))
    ax = fig.add_axes((0.03, 0.16, 0.94, 0.66))
    ax.set_xlim(-0.7, count - 0.3)
    ax.set_ylim(0, top * 1.12)
    ax.set_axis_off()
    ax.axhline(0, color="#999999", lw=0.8)
    for i, (node, label, start, end, colour) in enumerate(steps):
        low, high = sorted((_size(start), _size(end)))
        ax.add_patch(
            Rectangle(
                (i - 0.36, low), 0.72, max(high - low, top * 0.004), color=colour, lw=0, zorder=2
            )
        )
        if i + 1 < count:  # the connector to the next bar's start
            ax.plot([i + 0.36, i + 0.64], [_size(end)] * 2, color="#999999", lw=0.8, zorder=1)
        moved = end - start
        if node is None:
            text = format_money(end, locale)
        else:
            sign = "−" if moved.amount < 0 else "+"
            shown = _amount_text(node, locale)
            text = f"{sign}{shown}" if node.kind is not FlowKind.CREATOR else shown
        ax.text(
            i,
            high + top * 0.015,
            text.replace(" (= ", "\n(= "),
            ha="center",
            va="bottom",
            fontsize=8.5,
            color=_INK,
            parse_math=False,
        )
        weight = "bold" if node is None else "normal"
        ax.text(
            i,
            -top * 0.03,
            _wrap(label),
            ha="center",
            va="top",
            fontsize=8.5,
            color=_INK,
            parse_math=False,
            fontweight=weight,
        )
    return fig


def _wrap(text: str, width: int = 14) -> str:
    words, lines, line = text.split(), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    lines.append(line)
    return "\n".join(lines)


#: The money figures :func:`render_comparison` draws by default, by their table label.
COMPARISON_FIGURES = (
    "fiat in",
    "store fees",
    "taxes",
    "platform",
    "to creators",
    "still deferred",
    "view pay",
)


def render_comparison(
    comparison: Comparison,
    path: str | os.PathLike[str],
    *,
    figures: tuple[str, ...] = COMPARISON_FIGURES,
    title: str | None = None,
    locale: str = "en_US",
) -> Path:
    """Draw a :class:`~giftledger.Comparison` as a grouped bar chart and write it.

    One group of bars per figure (what viewers paid, what stores, taxes, the
    platform and creators got, what is still deferred, view pay), one bar per
    economy, each labelled with its exact amount. Written like
    :func:`render_flow`: whole or not at all.

    Args:
        comparison: from :func:`~giftledger.compare`.
        path: where to write; ``.svg`` or ``.png``.
        figures: the labels of the money figures to draw (from ``Figures.items()``).
        title: the chart's title (default: the seed and the population's size).
        locale: how amounts are written (babel).

    Returns:
        The path written.

    Raises:
        InvalidArgument: a suffix other than ``.svg``/``.png``, a missing
            directory, a figure that is not money in every economy. Nothing is written.

    Example:
        >>> import tempfile, pathlib
        >>> import giftledger as gl
        >>> from giftledger.charts import render_comparison
        >>> cmp = gl.compare(["twitch-bits", "facebook-stars"], viewers=10, creators=2, days=1)
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "cmp.svg"
        >>> render_comparison(cmp, out) == out and "store fees" in out.read_text()
        True
    """
    target = Path(path)
    fmt = _format_of(target)
    _check_directory(target)
    tables = [dict(r.figures.items()) for r in comparison.results]
    for label in figures:
        for t in tables:
            if not isinstance(t.get(label), Money):
                raise InvalidArgument(f"figure {label!r} is not an amount in every economy")
    labels = comparison.labels
    fig = Figure(figsize=(max(7.0, 1.3 * len(figures) * max(1, len(labels)) / 2), 5.0))
    ax = fig.add_subplot(1, 1, 1)
    width = 0.8 / len(labels)
    for j, (name, table) in enumerate(zip(labels, tables, strict=True)):
        xs = [i + (j - (len(labels) - 1) / 2) * width for i in range(len(figures))]
        amounts = [table[label] for label in figures]
        bars = ax.bar(xs, [_size(m) for m in amounts], width=width, label=name)
        for bar, m in zip(bars, amounts, strict=True):
            ax.annotate(
                format_money(m, locale),
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
                fontsize=6,
                rotation=90,
            )
    ax.set_xticks(list(range(len(figures))), [_wrap(f) for f in figures])
    ax.set_yticks([])
    ax.axhline(0, color="#444444", linewidth=0.8)
    ax.legend(fontsize=7, loc="upper right")
    first = comparison.results[0].figures
    ax.set_title(
        title
        or f"One population under {len(labels)} economies: {first.viewers:,} viewers, "
        f"{first.creators:,} creators, {first.days} days, seed {comparison.seed}",
        fontsize=9,
    )
    return _save(fig, target, fmt)


def _format_of(target: Path) -> str:
    """The format a chart at ``target`` is written in, by its suffix."""
    fmt = FORMATS.get(target.suffix.lower())
    if fmt is None:
        raise InvalidArgument(
            f"cannot write a chart to {str(target)!r}: suffix {target.suffix!r} is not one "
            f"of {', '.join(FORMATS)}"
        )
    return fmt


def _check_directory(target: Path) -> None:
    if not target.parent.is_dir():
        raise InvalidArgument(
            f"cannot write a chart to {str(target)!r}: no directory {target.parent}"
        )


def _save(fig: Figure, target: Path, fmt: str) -> Path:
    """Write ``fig`` whole to ``target``: a temporary file beside it, renamed over it."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        publish_mode(fd)
        with (
            os.fdopen(fd, "wb") as out,
            rc_context({"svg.fonttype": "none", "svg.hashsalt": "giftledger"}),
        ):
            FigureCanvasAgg(fig)
            meta = {"Date": None} if fmt == "svg" else {"Software": None}
            fig.savefig(out, format=fmt, dpi=150, metadata=meta)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
