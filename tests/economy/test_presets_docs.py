"""docs/presets.md lists every preset figure with its source; it is generated from the data.

Regenerate after changing a preset::

    python tests/economy/test_presets_docs.py
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from moneyed import Money

import giftledger as gl
from giftledger import Economy, Figure, RuleSet, Source
from giftledger._economy.rules import fraction_text

DOC = Path(__file__).resolve().parents[2] / "docs" / "presets.md"

INTRO = """\
# Presets

`giftledger.presets` ships the rules of real platforms as TOML data files
(`src/giftledger/presets/*.toml`). Every number carries its source, the date the source
states and how sure it is; where a platform never published a figure the preset says so
and names its assumption. All figures come from the project's fact sheet
(`shared/facts/gift-economy.md`), which cites stored copies of public pages: treat them
as research, not as the platforms' current terms.

```python
import giftledger as gl

gl.presets.list()                                   # names, titles, dates, variants
econ = gl.presets.load("tiktok-live", model="B", ladder="65-coin-2023")
econ.source_of("versions[0].creator_pay.value_per_unit")  # where a number came from
print(econ.explain_sources())                       # every figure with its source
```

Confidence levels (the fact sheet's tags):

| Confidence | Meaning |
|---|---|
| `official` | the platform's own page (help article, legal page, newsroom, developer docs) |
| `official-press` | the platform or an executive quoted by the press |
| `third-party` | a blog, agency or press estimate the platform has not confirmed |
| `code` | community code or API data on GitHub |
| `derived` | arithmetic from cited numbers; no source gives the value directly |
| `assumption` | not published anywhere: the preset's own, documented choice |

Paths are those `Economy.source_of` takes. A source recorded on a record (a ladder, a
withdrawal policy) covers each figure in it unless the figure has its own. A later version
lists only the figures that changed; the rest carry over with their sources.

This page is generated from the data by `tests/economy/test_presets_docs.py`, and a test
fails when it is out of date.
"""


def _value(value: object, rel: str = "", rules: RuleSet | None = None) -> str:
    if isinstance(value, Money):
        return f"{value.amount} {value.currency.code}"
    if isinstance(value, Fraction):
        field = rel.rpartition(".")[2]
        if field in ("rate", "share", "fee_rate"):
            percent = fraction_text(value * 100)
            if "/" not in percent:  # a terminating decimal reads best as a percentage
                return f"{percent}%"
        if field == "value_per_unit" and rules is not None:
            return f"{fraction_text(value)} {rules.creator_pay.value_currency}"
        return fraction_text(value)
    return str(value)


def _label(rules: RuleSet, rel: str) -> str:
    """A readable name for a figure path relative to its version."""
    head, _, field = rel.partition(".")
    if head.startswith("coin_packs["):
        pack = rules.coin_packs[int(head[11:-1])]
        where = "" if pack.region == "*" else f", {pack.region}"
        return f"pack of {pack.coins} on {pack.channel}{where}: {field}"
    if head.startswith("store_fees["):
        return f"store fee on {rules.store_fees[int(head[11:-1])].channel}: {field}"
    if head.startswith("taxes["):
        tax = rules.taxes[int(head[6:-1])]
        kind = "included" if tax.inclusive else "added on top"
        return f"tax in {tax.region} ({kind}): {field}"
    if head.startswith("gifts["):
        return f"gift {rules.gifts[int(head[6:-1])].name!r}"
    if head.startswith("rewards["):
        return f"rewards {rules.rewards[int(head[8:-1])].name}: {field}"
    return rel


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _source_cells(source: Source | None, above: Source | None = None) -> str:
    if source is None:  # pragma: no cover - the presets test forbids it
        return "**none** | | "
    if source == above:
        return "same as above | ″ | ″"
    note = f" — {source.note}" if source.note else ""
    when = source.as_of.isoformat() if source.as_of else "undated"
    return f"{_cell(source.citation + note)} | {when} | `{source.confidence.value}`"


def _rows(econ: Economy, index: int, previous: dict[str, tuple[str, Source | None]]) -> list[str]:
    rules = econ.versions[index]
    prefix = f"versions[{index}]."
    rows = []
    above: Source | None = None
    for figure in econ.figures():
        if not figure.path.startswith(prefix):
            continue
        rel = figure.path[len(prefix) :]
        label = _label(rules, rel)
        value = _value(figure.value, rel, rules)
        key = (value, figure.source)
        if previous.get(label) == key:
            continue
        previous[label] = key
        if rel.startswith("coin_packs[") and rel.endswith(".coins"):
            continue  # the price row names the pack
        cells = _source_cells(figure.source, above)
        above = figure.source
        rows.append(f"| {_cell(label)} | {value} | {cells} |")
    return rows


def _figure_table(econ: Economy) -> list[str]:
    out: list[str] = []
    seen: dict[str, tuple[str, Source | None]] = {}
    for index, rules in enumerate(econ.versions):
        when = rules.effective_from.date().isoformat()
        title = "from" if index == 0 else "changes from"
        rows = _rows(econ, index, seen)
        out += ["", f"#### Version {index}: {title} {when}", ""]
        if not rows:
            out.append("No figure changes; see the assumptions.")
            continue
        out += ["| Figure | Value | Source | Date | Confidence |", "|---|---|---|---|---|", *rows]
    return out


def _variant_section(info: gl.presets.PresetInfo, axis: str) -> list[str]:
    name, options = info.name, info.variants[axis]
    out = ["", f"### Variant `{axis}`", ""]
    default = gl.presets.load(name)
    base = {f.path: f for f in default.figures()}
    out.append(f"Options (the first is the default): {', '.join(f'`{o}`' for o in options)}.")
    out.append("")
    for option in options:
        text = info.option_descriptions.get(axis, {}).get(option) or "see the figures below."
        out.append(f"- `{option}`: {text}")
    for option in options[1:]:
        econ = gl.presets.load(name, **{axis: option})
        changed: list[Figure] = [
            f
            for f in econ.figures()
            if f.path.startswith("versions[0].")
            and (
                f.path not in base
                or (base[f.path].value, base[f.path].source) != (f.value, f.source)
            )
        ]
        out += ["", f'`{axis}="{option}"` changes (version 0; later versions follow):', ""]
        out += ["| Figure | Value | Source | Date | Confidence |", "|---|---|---|---|---|"]
        above: Source | None = None
        for f in changed:
            if f.path.endswith(".coins") and "coin_packs" in f.path:
                continue
            rel = f.path[len("versions[0].") :]
            label = _label(econ.versions[0], rel)
            value = _value(f.value, rel, econ.versions[0])
            out.append(f"| {_cell(label)} | {value} | {_source_cells(f.source, above)} |")
            above = f.source
        now = {f.path for f in econ.figures()}
        for path in base:
            if path.startswith("versions[0].") and path not in now and "coin_packs" not in path:
                label = _label(default.versions[0], path[len("versions[0].") :])
                out.append(f"| {_cell(label)} | none | not set in this option | | |")
        extra = [a for a in econ.assumptions if a not in default.assumptions]
        if extra:
            out += ["", "Added assumptions:", ""]
            out += [f"- {a}" for a in extra]
    return out


def render() -> str:
    out = [INTRO.rstrip()]
    for info in gl.presets.list():
        econ = gl.presets.load(info.name)
        out += ["", f"## `{info.name}` — {info.title}", "", info.description, ""]
        as_of = info.as_of.isoformat() if info.as_of else "undated"
        out.append(f"Figures checked as of {as_of}. Units: viewers buy `{econ.coin_unit}`, ")
        out[-1] += f"creators receive `{econ.creator_unit}`; books in {econ.books_currency}."
        if info.variants:
            chosen = ", ".join(f'{k}="{v}"' for k, v in econ.variant.items())
            out += ["", f"The tables show the default variant ({chosen})."]
        out += ["", "### Figures"]
        out += _figure_table(econ)
        for axis in info.variants:
            out += _variant_section(info, axis)
        out += ["", "### Assumptions", ""]
        out += [f"- {a}" for a in econ.assumptions]
    return "\n".join(out) + "\n"


def test_docs_presets_md_is_up_to_date() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/presets.md is out of date: run python tests/economy/test_presets_docs.py"
    )


if __name__ == "__main__":
    DOC.write_text(render(), encoding="utf-8")
    print(f"wrote {DOC}")
