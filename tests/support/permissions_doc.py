"""Read docs/permissions.md: the role matrix and the operations table the tests check."""

from __future__ import annotations

from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"
ROLE_COLUMNS = ["limitedGuest", "guest", "developer", "maintainer", "projectAdmin", "public"]


def _tables(text: str) -> list[list[list[str]]]:
    tables, current = [], []
    for line in text.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not all(set(c) <= set("-: ") for c in cells):
                current.append(cells)
        elif current:
            tables.append(current)
            current = []
    if current:
        tables.append(current)
    return tables


def matrix() -> dict[tuple[str, str], set[str]]:
    """(resource, action) → the roles (and "public") holding it."""
    for table in _tables(DOC.read_text()):
        if table[0][:2] == ["Resource", "Action"]:
            header = table[0]
            assert header[2:] == ROLE_COLUMNS, header
            return {
                (row[0], row[1]): {
                    role for role, cell in zip(header[2:], row[2:], strict=True) if cell == "✓"
                }
                for row in table[1:]
            }
    raise AssertionError("no permission matrix in docs/permissions.md")


def operations() -> dict[str, tuple[str, str]]:
    """operation name → (resource, action) from the Operations table."""
    for table in _tables(DOC.read_text()):
        if table[0][:2] == ["Operation", "Permission"]:
            return {row[0]: tuple(row[1].split(":")) for row in table[1:]}
    raise AssertionError("no operations table in docs/permissions.md")
