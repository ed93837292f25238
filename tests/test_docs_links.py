"""Every file README.md and docs/ point to is in the repository: relative links
(``[x](stores.md)``, relative to the page) and repository paths cited in code spans
(```src/giftledger/presets/*.toml```, relative to the root; a glob must match something).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [
    ROOT / "README.md",
    *sorted(p for p in (ROOT / "docs").rglob("*.md") if "_hooks" not in p.parts),
]
_LINK = re.compile(r"\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")
# A code span that starts like a path in this repository, or names a top-level file.
_TOP = ("src/", "tests/", "docs/", "benchmarks/", "shared/", ".ci/", "examples/")
_FILES = ("README.md", "CHANGELOG.md", "LICENSE", "Makefile", "pyproject.toml", "mkdocs.yml")
_SPAN = re.compile(r"(?<!`)`(?P<path>[A-Za-z0-9_.*/-]+)(?:[ `])")
_FENCED = re.compile(r"^```.*?^```", re.S | re.M)


def _prose(page: Path) -> str:
    """The page without its fenced code blocks (commands there are not citations)."""
    return _FENCED.sub("", page.read_text("utf-8"))


def _links(page: Path) -> list[str]:
    found = []
    for match in _LINK.finditer(_prose(page)):
        target = match["target"].split("#", 1)[0]
        if target and not re.match(r"[a-z][a-z0-9+.-]*:", target):  # not http:, mailto: …
            found.append(target)
    return found


def _cited(page: Path) -> list[str]:
    return [
        m["path"].rstrip(".")
        for m in _SPAN.finditer(_prose(page))
        if m["path"].startswith(_TOP) or m["path"] in _FILES
    ]


CASES = [(page, kind) for page in PAGES for kind in ("link", "path")]


@pytest.mark.parametrize(
    ("page", "kind"), CASES, ids=[f"{p.relative_to(ROOT).as_posix()}-{k}" for p, k in CASES]
)
def test_cited_files_exist(page: Path, kind: str) -> None:
    if kind == "link":
        missing = [t for t in _links(page) if not (page.parent / t).exists()]
    else:
        missing = [p for p in _cited(page) if not any(ROOT.glob(p.rstrip("/") or "."))]
    assert not missing, f"{page.relative_to(ROOT)} cites files that are not here: {missing}"


def test_the_checks_see_what_they_check() -> None:
    readme = ROOT / "README.md"
    assert "docs/index.md" in _links(readme)
    assert "src/giftledger/presets/*.toml" in _cited(ROOT / "docs" / "presets.md")
    assert "tests/fixtures/sqlite_v1.db" in _cited(ROOT / "docs" / "stores.md")


def test_a_missing_file_is_caught(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "See [x](nowhere.md) and `shared/facts/gift-economy.md`.\n```bash\nsrc/x.py\n```\n"
    )
    assert _links(page) == ["nowhere.md"]
    assert _cited(page) == ["shared/facts/gift-economy.md"]
    assert not any(ROOT.glob("shared/facts/gift-economy.md"))
