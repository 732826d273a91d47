"""scripts/seed fills a database the API then serves; scripts/bench-api measures it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.clients import ApiClient
from tests.support.servers import ADMIN_PASSWORD, running_server

pytestmark = [pytest.mark.api, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def test_seed_then_bench(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'seeded.db'}"
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts/seed"),
            "--data-dir",
            str(tmp_path / "seed"),
            "--database-url",
            db_url,
            "--scale",
            "0.03",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    assert "seeded 3 projects, 9 repositories, 90 artifacts, 450 tags" in out
    with running_server(tmp_path, db_url) as server:
        admin = ApiClient(server.url, ("admin", ADMIN_PASSWORD))
        repos = admin.get("/projects/seed-001/repositories")
        assert repos.headers["X-Total-Count"] == "3"
        arts = admin.get(
            "/projects/seed-001/repositories/repo-001/artifacts", params={"with_label": "true"}
        )
        assert arts.headers["X-Total-Count"] == "10"
        assert {len(a["tags"]) for a in arts.json()} == {5}
        assert sum(len(a["labels"]) for a in arts.json()) == 1
        assert admin.get("/audit-logs").headers["X-Total-Count"] == "3000"
        user = ApiClient(server.url, ("user-001", "Passw0rd!seed"))
        assert user.get("/projects/seed-001/repositories").status_code == 200
        table = subprocess.run(
            [
                sys.executable,
                str(ROOT / "scripts/bench-api"),
                "--url",
                server.url,
                "--requests",
                "5",
                "--concurrency",
                "2",
                "--concurrent-requests",
                "10",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        ).stdout
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + 6 and all("200x5 / 200x10" in row for row in rows[1:])
