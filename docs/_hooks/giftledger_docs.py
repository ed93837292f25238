"""Build-time helpers of the docs site (mkdocs.yml names this file twice).

As a **MkDocs hook**:

- ``<!-- api: GROUP -->`` in a reference page expands to one ``::: giftledger.Name``
  block per name of ``giftledger.__all__`` that belongs to GROUP, grouped by the module
  that defines it. Every exported name lands on exactly one page (names of a module no
  group claims go to the ``other`` group), so a new export is documented without editing
  the reference, and a docstring that griffe cannot parse fails ``mkdocs build --strict``.
- Sphinx roles left in docstrings (``:class:`~giftledger.Ledger```) become optional
  cross-references: a link when the target is documented, plain code otherwise.

As a **griffe extension** (``ExamplesSections``): the docstrings use Google style with an
``Example:`` heading, which griffe reads as a generic admonition (so ``>>>`` lines would
render as nested quotes); it is read as the ``Examples:`` section it means, and an RST
``text::`` before a literal block reads as ``text:``.
"""

from __future__ import annotations

import importlib
import inspect
import re
from typing import Any

import griffe

# Group → the modules it documents (the longest matching prefix wins).
GROUPS: dict[str, tuple[str, ...]] = {
    "money": ("giftledger._money",),
    "ledger": ("giftledger._ledger",),
    "stores": ("giftledger._stores", "giftledger._ledger.store"),
    "rules": (
        "giftledger._economy.rules",
        "giftledger._economy.taxes",
        "giftledger._economy.loading",
        "giftledger._economy.fx",
        "giftledger._economy.views",
    ),
    "chain": ("giftledger._economy",),
    "reports": ("giftledger._reports",),
    "exports": ("giftledger._exports",),
    "simulation": ("giftledger._simulate",),
    "errors": ("giftledger._errors",),
}
# Modules in reading order within a page (others follow, by name).
MODULE_ORDER = (
    "giftledger._money.units",
    "giftledger._money.amounts",
    "giftledger._ledger.ledger",
    "giftledger._ledger.model",
    "giftledger._ledger.store",
    "giftledger._economy.rules",
    "giftledger._economy.loading",
    "giftledger._economy.chain",
    "giftledger._economy.records",
)
# Exported values that are not classes or functions: where they are documented.
VALUES = {
    "MAX_MINOR": "money",
    "ChainRecord": "chain",
    "CSV_COLUMNS": "exports",
    "JSONL_VERSION": "exports",
    "Progress": "exports",
    "REPORT_SCHEMA_VERSION": "reports",
}
# Exported names documented elsewhere (their own reference page) or not at all.
SKIP = {"__version__", "presets"}

_MARKER = re.compile(r"^<!-- api: (?P<group>[a-z]+) -->$", re.M)
_ROLE = re.compile(
    r":(?:py:)?(?:class|func|meth|attr|mod|exc|data|obj|const):<code>(?P<target>[^<]+)</code>"
)


def _module_of(name: str, obj: object) -> str:
    if name in VALUES:
        return ""
    module = getattr(obj, "__module__", None)
    return module if isinstance(module, str) else ""


def group_of(name: str) -> str:
    """The group whose page documents ``giftledger.<name>``."""
    import giftledger

    if name in VALUES:
        return VALUES[name]
    module = _module_of(name, getattr(giftledger, name))
    best, length = "other", 0
    for group, prefixes in GROUPS.items():
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > length:
                best, length = group, len(prefix)
    return best


def names_by_group() -> dict[str, list[str]]:
    """Every documented name of ``giftledger.__all__``, by group."""
    import giftledger

    result: dict[str, list[str]] = {}
    for name in giftledger.__all__:
        if name not in SKIP:
            result.setdefault(group_of(name), []).append(name)
    return result


def _line(obj: object) -> int:
    try:
        return inspect.getsourcelines(obj)[1]  # type: ignore[arg-type]
    except (OSError, TypeError):
        return 0


def _title(module: str) -> str:
    doc = inspect.getdoc(importlib.import_module(module)) if module else None
    first = (doc or module or "Values").strip().splitlines()[0].rstrip(".")
    return re.sub(r":[a-z]+:`~?([^`]+)`", r"\1", first).replace("``", "`")


def render_group(group: str) -> str:
    """The markdown that documents ``group``: a section per module, a block per name."""
    import giftledger

    by_module: dict[str, list[str]] = {}
    for name in names_by_group().get(group, []):
        by_module.setdefault(_module_of(name, getattr(giftledger, name)), []).append(name)
    out = []

    def order(module: str) -> tuple[int, str]:
        first = MODULE_ORDER.index(module) if module in MODULE_ORDER else len(MODULE_ORDER)
        return (first if module else len(MODULE_ORDER) + 1, module)

    for module in sorted(by_module, key=order):
        out.append(f"## {_title(module)}\n")
        names = sorted(by_module[module], key=lambda n: (_line(getattr(giftledger, n)), n))
        out.extend(f"::: giftledger.{name}\n" for name in names)
    return "\n".join(out)


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    return _MARKER.sub(lambda m: render_group(m["group"]), markdown)


def _autoref(match: re.Match[str]) -> str:
    target = match["target"].strip()
    if explicit := re.fullmatch(r"(?P<shown>.+?)\s*&lt;(?P<target>.+)&gt;", target):
        shown, target = explicit["shown"], explicit["target"].lstrip("~.")  # :meth:`x <a.x>`
    else:
        short = target.startswith("~")
        target = target.lstrip("~.")
        shown = target.rsplit(".", 1)[-1] if short else target
    identifier = target if target.startswith("giftledger.") else f"giftledger.{target}"
    return f'<autoref identifier="{identifier}" optional><code>{shown}</code></autoref>'


def on_page_content(html: str, **kwargs: Any) -> str:
    return _ROLE.sub(_autoref, html)


_EXAMPLE = re.compile(r"^(\s*)Example:\s*$", re.M)
_LITERAL = re.compile(r"(\S)::$", re.M)


class ExamplesSections(griffe.Extension):
    """Reads ``Example:`` as Google style's ``Examples:`` section (see the module docstring)."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        docstring = obj.docstring
        if docstring is not None:
            value = _EXAMPLE.sub(r"\1Examples:", docstring.value)
            docstring.value = _LITERAL.sub(r"\1:", value)
