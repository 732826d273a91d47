"""Docs follow the code: every file a document links to or names in backticks exists, and
the ADRs are numbered once each. A module renamed or moved fails here until its docs say so."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
_LINK = re.compile(r"\]\(([^)\s]+)\)")
# a path of this repository in backticks, e.g. `harbor_api/v2/offload.py` or `scripts/lint`
_NAMED_PATH = re.compile(r"`((?:harbor_api|handlers|tests|scripts|openapi|docs)/[^`\s:]*)")


def _relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("doc", DOCS, ids=_relative)
def test_relative_links_point_at_files_that_exist(doc: Path):
    missing = []
    for target in _LINK.findall(doc.read_text(encoding="utf-8")):
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # a URL or an anchor of this page
        if not (doc.parent / target.split("#", 1)[0]).exists():
            missing.append(target)
    assert not missing, f"{_relative(doc)} links to missing files: {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=_relative)
def test_named_repository_paths_exist(doc: Path):
    missing = []
    for named in _NAMED_PATH.findall(doc.read_text(encoding="utf-8")):
        if any(c in named for c in "<*{"):
            continue  # a pattern (`handlers/<tag>.py`), not a path
        if not (ROOT / named.rstrip("/.,")).exists():
            missing.append(named)
    assert not missing, f"{_relative(doc)} names paths that do not exist: {missing}"


def test_adrs_are_numbered_once_each_and_say_their_status():
    adrs = sorted((ROOT / "docs" / "adr").glob("*.md"))
    numbers = [adr.name.split("-", 1)[0] for adr in adrs]
    assert all(re.fullmatch(r"\d{4}", n) for n in numbers), numbers
    assert len(set(numbers)) == len(numbers), f"ADR numbers used twice: {numbers}"
    for adr in adrs:
        text = adr.read_text(encoding="utf-8")
        assert text.startswith(f"# ADR {adr.name[:4]}: "), adr.name
        assert re.search(r"^- Status: \w+", text, re.M), f"{adr.name} states no status"
