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
and names its assumption. The figures were gathered from public pages (a research fact
sheet kept outside this repository); every row below cites the page itself. Treat them
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

Taxes come from a shared, dated table: a preset version names it (`tax_table =
"digital-vat"`) and lists only what it does differently, such as US sales tax added on top
or a `"*"` fallback for the regions the table leaves out. Each preset's figures below list
its own tax rules; the table's rows are listed once, under [Tax tables](#tax-tables). For
a tax rule, `official` means the tax authority's own page.

This page is generated from the data by `tests/economy/test_presets_docs.py`, and a test
fails when it is out of date.
"""

TAXES_INTRO = """\
A tax table is a list of `TaxRule`s, each with its own period (`valid_from`, the first day
in force; `valid_to`, the first day no longer in force) and its own source. The chain books
the rule in force on the UTC day of each purchase, and takes the tax out of the price before
the store fee and the creator's share. A version that names a table with
`tax_table = "<name>"` gets every rule of the table, except for the regions its own
`[[versions.taxes]]` list: those replace the table's rules for that region, so a preset can
model a platform that charges differently. In Python, `TaxTable.with_overrides` does the
same for rules built in code.

```python
import giftledger as gl
from datetime import date
from fractions import Fraction

vat = gl.presets.tax_table("digital-vat")
assert vat.rule("DE", date(2020, 6, 30)).rate == Fraction(19, 100)
assert vat.rule("DE", date(2020, 7, 1)).rate == Fraction(16, 100)   # Germany's 2020-H2 cut
assert vat.rule("DE", date(2021, 1, 1)).rate == Fraction(19, 100)
print(vat.source_for(vat.rule("AU")))                 # where the 10% GST came from

econ = gl.presets.load("youtube-super-chat")          # names the table in its versions
assert econ.tax("DE", date(2020, 8, 1)).rate == Fraction(16, 100)
assert econ.tax("US").inclusive is False              # its own rule: 0% added on top
assert econ.tax("BR").region == "*"                   # not in the table: the fallback

# Your own rules: the table for every region you do not list.
taxes = vat.with_overrides([gl.TaxRule("US", Fraction(725, 10000), inclusive=False),
                            gl.TaxRule("*", 0)])
```

In a TOML economy (see `giftledger.load_economy`):

```toml
[[versions]]
effective_from = 2024-01-01
tax_table = "digital-vat"

[[versions.taxes]]          # replaces the table's rules for DE
region = "DE"
rate = "19%"
valid_from = 2024-01-01
source = { citation = "my tax advisor", confidence = "assumption", note = "..." }
```

`Economy.to_toml()` writes the merged rules in full, each with its dates and source, and
reads back to an equal economy.
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
        when = "" if tax.period == "all dates" else f", {tax.period}"
        return f"tax in {tax.region} ({kind}{when}): {field}"
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


def _tables() -> list[gl.TaxTable]:
    return [gl.presets.tax_table(name) for name in gl.presets.tax_tables()]


def _from_table(rules: RuleSet, rel: str, source: Source | None) -> str | None:
    """The name of the shared tax table a tax figure comes from, if it does."""
    if not rel.startswith("taxes["):
        return None
    rule = rules.taxes[int(rel[6 : rel.index("]")])]
    for table in _tables():
        if rule in table.rules and table.source_for(rule) == source:
            return table.name
    return None


def _table_rules(rules: RuleSet) -> dict[str, int]:
    """How many rules each shared tax table gives ``rules``."""
    counts: dict[str, int] = {}
    for table in _tables():
        n = sum(rule in table.rules for rule in rules.taxes)
        if n:
            counts[table.name] = n
    return counts


def _rows(econ: Economy, index: int, previous: dict[str, tuple[str, Source | None]]) -> list[str]:
    rules = econ.versions[index]
    prefix = f"versions[{index}]."
    rows = []
    above: Source | None = None
    for figure in econ.figures():
        if not figure.path.startswith(prefix):
            continue
        rel = figure.path[len(prefix) :]
        if _from_table(rules, rel, figure.source):
            continue  # listed once, under "Tax tables"
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
    tables: dict[str, int] = {}
    for index, rules in enumerate(econ.versions):
        when = rules.effective_from.date().isoformat()
        title = "from" if index == 0 else "changes from"
        rows = _rows(econ, index, seen)
        out += ["", f"#### Version {index}: {title} {when}", ""]
        now = _table_rules(rules)
        shared = [
            f"Plus the {n} rules of the `{name}` tax table (see [Tax tables](#tax-tables)) "
            f"for the regions its own tax rules leave out."
            for name, n in now.items()
            if tables.get(name) != n
        ]
        tables = now
        if not rows:
            out.append(" ".join(shared) or "No figure changes; see the assumptions.")
            continue
        out += ["| Figure | Value | Source | Date | Confidence |", "|---|---|---|---|---|", *rows]
        if shared:
            out += ["", *shared]
    return out


def _tax_table_section(table: gl.TaxTable) -> list[str]:
    as_of = table.as_of.isoformat() if table.as_of else "undated"
    out = ["", f"### `{table.name}` — {table.title}", "", table.description, ""]
    kinds = {"included in" if r.inclusive else "added to" for r in table.rules}
    how = " or ".join(sorted(kinds))
    out += [f"Checked as of {as_of}. Every rate is {how} the store price.", ""]
    out += ["| Region | Rate | From | Until (exclusive) | Source | Date | Confidence |"]
    out += ["|---|---|---|---|---|---|---|"]
    above: Source | None = None
    for rule, source in zip(table.rules, table.sources, strict=True):  # the file's order
        start = rule.valid_from.isoformat() if rule.valid_from else "always"
        end = rule.valid_to.isoformat() if rule.valid_to else "open"
        cells = _source_cells(source, above)
        above = source
        out.append(f"| {rule.region} | {_value(rule.rate, 'rate')} | {start} | {end} | {cells} |")
    out += ["", "Assumptions:", ""]
    out += [f"- {a}" for a in table.assumptions]
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
        shared = {a: t.name for t in _tables() for a in t.assumptions}
        out += [f"- {a}" for a in econ.assumptions if a not in shared]
        for name in dict.fromkeys(shared[a] for a in econ.assumptions if a in shared):
            out.append(f"- Those of the `{name}` tax table (see [Tax tables](#tax-tables)).")
    out += ["", "## Tax tables", "", TAXES_INTRO.rstrip()]
    for table in _tables():
        out += _tax_table_section(table)
    return "\n".join(out) + "\n"


def test_docs_presets_md_is_up_to_date() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/presets.md is out of date: run python tests/economy/test_presets_docs.py"
    )


if __name__ == "__main__":
    DOC.write_text(render(), encoding="utf-8")
    print(f"wrote {DOC}")
