"""Faults of the environment become the errors a client can act on; bugs stay bugs."""

import errno
import sqlite3

import pytest
import sqlalchemy as sa

from harbor_api.errors import DatabaseUnavailableError, StorageFullError
from harbor_api.faults import translate


def test_no_space_is_storage_full_even_when_wrapped():
    assert isinstance(translate(OSError(errno.ENOSPC, "No space left on device")), StorageFullError)
    assert isinstance(translate(OSError(errno.EDQUOT, "Disk quota exceeded")), StorageFullError)
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as inner:
            raise RuntimeError("write failed") from inner
    except RuntimeError as outer:
        assert isinstance(translate(outer), StorageFullError)


def test_other_errors_are_not_faults():
    assert translate(OSError(errno.EIO, "Input/output error")) is None
    assert translate(ValueError("bug")) is None


def test_sqlite_locked_past_the_busy_timeout_is_unavailable_with_retry_after(tmp_path):
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.execute("BEGIN EXCLUSIVE")
    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.1})
    try:
        with pytest.raises(sa.exc.OperationalError) as caught, engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        fault = translate(caught.value)
        assert isinstance(fault, DatabaseUnavailableError)
        assert fault.status == 503 and fault.headers["Retry-After"].isdigit()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        engine.dispose()


def test_sqlite_programming_errors_stay_unexpected(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(sa.exc.OperationalError) as caught, engine.connect() as conn:
        conn.exec_driver_sql("SELECT * FROM no_such_table")
    engine.dispose()
    assert translate(caught.value) is None


def test_pool_exhaustion_is_unavailable():
    assert isinstance(translate(sa.exc.TimeoutError("QueuePool limit")), DatabaseUnavailableError)


def test_the_busy_timeout_setting_reaches_sqlite(tmp_path):
    from harbor_api.db.session import Database
    from harbor_api.settings import ConfigError, load_settings

    assert load_settings(environ={}).database_busy_timeout_seconds == 30
    settings = load_settings(environ={"HARBOR_DATABASE_BUSY_TIMEOUT_SECONDS": "2"})
    db = Database(f"sqlite:///{tmp_path / 'b.db'}", settings.database_busy_timeout_seconds)
    try:
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 2000
    finally:
        db.dispose()
    with pytest.raises(ConfigError, match="database_busy_timeout_seconds"):
        load_settings(environ={"HARBOR_DATABASE_BUSY_TIMEOUT_SECONDS": "0"})


def test_upload_sweep_and_limit_settings():
    from harbor_api.registry.paths import upload_id_of
    from harbor_api.settings import ConfigError, load_settings

    s = load_settings(environ={})
    assert (s.upload_purge_age_seconds, s.upload_purge_interval_seconds) == (86400, 3600)
    assert s.max_open_uploads_per_user == 100 and s.max_upload_bytes_per_user == 32 << 30
    assert (
        load_settings(environ={"HARBOR_MAX_OPEN_UPLOADS_PER_USER": "0"}).max_open_uploads_per_user
        == 0
    )  # no limit
    for name, bad in (
        ("UPLOAD_PURGE_AGE_SECONDS", "0"),
        ("UPLOAD_PURGE_INTERVAL_SECONDS", "0"),
        ("MAX_UPLOAD_BYTES_PER_USER", "-1"),
    ):
        with pytest.raises(ConfigError, match=name.lower()):
            load_settings(environ={f"HARBOR_{name}": bad})
    hex_id = "ab" * 16
    assert upload_id_of(f"uploads/{hex_id}") == hex_id
    assert upload_id_of(f"uploads/{hex_id}.lock") == hex_id
    assert upload_id_of("uploads/README") is None


def test_sweep_removes_stale_sessions_in_batches_and_skips_locked_ones(tmp_path):
    import datetime as dt

    from harbor_api.db.base import utcnow
    from harbor_api.db.migrate import upgrade
    from harbor_api.db.session import Database
    from harbor_api.registry import paths
    from harbor_api.registry.storage.filesystem import FilesystemDriver
    from harbor_api.registry.upload_files import UploadFiles, new_upload_id
    from harbor_api.services.oci import upload_records as sessions
    from harbor_api.services.oci.upload_sweep import UploadSweeper

    db = Database(f"sqlite:///{tmp_path / 'sweep.db'}")
    upgrade(db.engine)
    files = UploadFiles(FilesystemDriver(tmp_path / "storage"))
    ids = [new_upload_id() for _ in range(7)]
    with db.transaction() as s:
        for upload_id in ids:
            sessions.create_upload(s, upload_id, "library/a", paths.upload_data_key(upload_id))
        s.execute(
            sa.text("UPDATE uploads SET updated = :t"), {"t": utcnow() - dt.timedelta(hours=2)}
        )
    for upload_id in ids:
        files.driver.put(paths.upload_data_key(upload_id), b"bytes")
    busy = files.lock(ids[0])  # a request writing this one
    sweeper = UploadSweeper(db, files, age_seconds=3600, interval_seconds=3600)
    try:
        assert sweeper._stale_sessions(utcnow() - dt.timedelta(hours=1), batch=2) == 6
    finally:
        busy.release()
    with db.read() as s:
        assert sessions.known_upload_ids(s, ids) == {ids[0]}
    assert [files.stored_size(i) for i in ids] == [5] + [None] * 6
    db.dispose()
