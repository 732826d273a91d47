"""The /v2 edge knows no ORM and the OCI services no HTTP; neither dodges a cycle with a
function-local import."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3] / "harbor_api"
V2 = sorted((ROOT / "v2").glob("*.py"))
OCI = sorted((ROOT / "services" / "oci").glob("*.py"))


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(module, at module level?) of every import in ``path``; TYPE_CHECKING blocks count
    as module level."""
    tree = ast.parse(path.read_text())
    top = {id(node) for node in tree.body}
    for node in tree.body:
        if isinstance(node, ast.If):
            top |= {id(child) for child in node.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) in top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, id(node) in top))
    return found


@pytest.mark.parametrize("path", V2, ids=lambda p: p.name)
def test_the_v2_edge_imports_no_orm(path: Path):
    assert [
        m
        for m, _ in _imports(path)
        if m.split(".")[0] == "sqlalchemy" or m.startswith("harbor_api.db")
    ] == []


@pytest.mark.parametrize("path", OCI, ids=lambda p: p.name)
def test_the_oci_services_import_no_http_edge(path: Path):
    assert [
        m
        for m, _ in _imports(path)
        if m.startswith(("harbor_api.v2", "harbor_api.api", "handlers", "connexion", "starlette"))
    ] == []


@pytest.mark.parametrize("path", V2 + OCI, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_function_local_imports(path: Path):
    assert [m for m, top in _imports(path) if not top] == []
