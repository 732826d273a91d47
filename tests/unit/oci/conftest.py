"""An in-process registry core for the OCI service tests: a SQLite database, a filesystem
driver and the services over them, no server."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from harbor_api.auth.principal import Principal
from harbor_api.db.migrate import upgrade
from harbor_api.db.models import Project
from harbor_api.db.session import Database
from harbor_api.registry.blobs import BlobStore
from harbor_api.registry.storage.filesystem import FilesystemDriver
from harbor_api.registry.upload_files import UploadFiles
from harbor_api.services.oci.upload_sessions import UploadSessions
from harbor_api.settings import Settings

ADMIN = Principal(kind="user", user_id=1, username="admin", sysadmin=True, via="basic")
#: A robot that may push and pull in ``library`` (upload limits apply to it).
ROBOT = Principal(
    kind="robot",
    robot_id=7,
    username="robot$library+ci",
    via="basic",
    robot_access=(("library", "repository", "push"), ("library", "repository", "pull")),
)


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Core:
    db: Database
    driver: FilesystemDriver
    files: UploadFiles
    blobs: BlobStore
    settings: Settings
    sessions: UploadSessions

    def sessions_with(self, **changes: int) -> UploadSessions:
        """The same rules under other settings (e.g. tighter upload limits)."""
        settings = dataclasses.replace(self.settings, **changes)
        return UploadSessions(self.db, self.files, self.blobs, settings)


@pytest.fixture()
def core(tmp_path) -> Iterator[Core]:
    settings = Settings(data_dir=tmp_path)
    db = Database(f"sqlite:///{tmp_path / 'registry.db'}")
    upgrade(db.engine)
    with db.transaction() as s:
        s.add_all([Project(name="library"), Project(name="other")])
    driver = FilesystemDriver(tmp_path / "storage")
    files = UploadFiles(driver)
    blobs = BlobStore(driver)
    yield Core(db, driver, files, blobs, settings, UploadSessions(db, files, blobs, settings))
    db.dispose()
