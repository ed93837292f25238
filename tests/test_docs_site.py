"""The docs site builds with ``mkdocs build --strict``: every page in the nav exists, every
link between pages resolves, and griffe parses every public docstring without a warning
(a parameter documented that the signature does not have, a section it cannot read …).

The build also renders the API reference, so a new export is checked the moment it lands:
``docs/_hooks/giftledger_docs.py`` puts every name of ``giftledger.__all__`` on a page.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import giftledger as gl

ROOT = Path(__file__).resolve().parents[1]
HOOKS = ROOT / "docs" / "_hooks" / "giftledger_docs.py"


def _hooks():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("giftledger_docs_hooks", HOOKS)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    warnings = [line for line in done.stderr.splitlines() if "WARNING" in line]
    assert done.returncode == 0, "mkdocs build --strict failed:\n" + "\n".join(
        warnings or done.stderr.splitlines()[-30:]
    )
    return out


def test_the_site_builds_strictly(site: Path) -> None:
    assert (site / "index.html").is_file()
    assert (site / "tutorial" / "index.html").is_file()


def test_every_export_is_on_one_reference_page(site: Path) -> None:
    by_group = _hooks().names_by_group()
    placed = [name for names in by_group.values() for name in names]
    assert sorted(placed) == sorted(set(gl.__all__) - {"__version__", "presets"})
    for group, names in by_group.items():
        page = site / "reference" / ("" if group == "other" else group) / "index.html"
        html = page.read_text("utf-8")
        missing = [n for n in names if f'id="giftledger.{n}"' not in html]
        assert not missing, f"{page} does not document {missing}"


def test_docstring_examples_render_as_code_not_quotes(site: Path) -> None:
    # "Example:" sections are read as Google-style Examples: the doctest lines of
    # Ledger.post_many are a code block, never ">>>" turned into nested quotes.
    html = (site / "reference" / "ledger" / "index.html").read_text("utf-8")
    start = html.index('id="giftledger.Ledger.post_many"')
    section = html[start : html.index('id="giftledger.Ledger.', start + 10)]
    assert "<blockquote>" not in section
    assert re.search(r"<code>.*book.*post_many", section, re.S)


def test_sphinx_roles_become_links_or_code(site: Path) -> None:
    leftovers = []
    for page in (site / "reference").rglob("*.html"):
        leftovers += re.findall(r":(?:class|func|meth|attr|mod|exc|data):<code>", page.read_text())
    assert not leftovers
    # A role naming a documented object is a link to it, across pages.
    ledger = (site / "reference" / "ledger" / "index.html").read_text("utf-8")
    assert 'href="../errors/#giftledger.InsufficientFunds"' in ledger
