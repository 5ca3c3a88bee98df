"""The repository's documents stand alone: every relative link resolves to a file in the repo,
and none points at design notes that live outside it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
LINK = re.compile(r"\]\(([^)\s]+)\)")
OUTSIDE = re.compile(r"\.\./shared/|(?<![\w/])(DESIGN|STYLE)\.md")


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_every_relative_link_resolves_inside_the_repository(document: Path) -> None:
    broken = []
    for target in LINK.findall(document.read_text()):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue  # an absolute URL or an anchor on the same page
        path = (document.parent / target.split("#", 1)[0]).resolve()
        if not path.is_relative_to(ROOT) or not path.exists():
            broken.append(target)
    assert not broken, f"{document.name} links to what the repository does not hold: {broken}"


SOURCES = ("shared", "gateway", "services", "embedded", "migrations", "bench", "deploy", "tests")


def test_nothing_refers_to_design_notes_outside_the_repository() -> None:
    sources = [*DOCUMENTS, ROOT / "parkhub_cli.py", *(p for d in SOURCES for p in (ROOT / d).rglob("*.py"))]
    referring = [
        str(source.relative_to(ROOT))
        for source in sources
        if source.name != "test_docs_links.py" and OUTSIDE.search(source.read_text(errors="replace"))
    ]
    assert not referring, f"these refer to notes outside the repository: {referring}"
