"""A migrated database on each backend (real SQLite file, real PostgreSQL) and storage."""

from __future__ import annotations

import pytest

import tests.support.job_types  # noqa: F401  (registers TEST_STEPS, TEST_FAIL)
from harbor_api.db.migrate import upgrade
from harbor_api.db.session import Database
from harbor_api.registry.storage import make_driver
from tests.support.servers import postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'jobs.db'}")
        upgrade(database.engine)
        yield database
        database.dispose()
        return
    with postgres_database() as url:
        database = Database(url)
        upgrade(database.engine)
        yield database
        database.dispose()


@pytest.fixture
def storage(tmp_path):
    return make_driver("filesystem", tmp_path / "storage")
