"""The Python examples of the README and of docs/ run as written (in a scratch folder), so
they cannot rot."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
DOC_BLOCKS = [
    (f"{page.name} example {i}", block)
    for page in sorted((ROOT / "docs").glob("*.md"))
    for i, block in enumerate(re.findall(r"```python\n(.*?)```", page.read_text("utf-8"), re.S))
]


def test_the_readme_has_examples() -> None:
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(
    index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # sqlite:///books.db lands in the scratch folder
    namespace: dict[str, object] = {"__name__": f"readme_example_{index}"}
    exec(compile(BLOCKS[index], f"README.md example {index}", "exec"), namespace)
    book = namespace.get("book")
    if book is not None:
        assert book.verify() > 0  # type: ignore[attr-defined]
        book.close()  # type: ignore[attr-defined]


@pytest.mark.parametrize(("where", "block"), DOC_BLOCKS, ids=[w for w, _ in DOC_BLOCKS])
def test_docs_example_runs(
    where: str,
    block: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": where.replace(" ", "_")}
    exec(compile(block, where, "exec"), namespace)
    book = namespace.get("book")
    if book is not None:
        assert book.verify() > 0  # type: ignore[attr-defined]
        book.close()  # type: ignore[attr-defined]
