"""Engine and unit-of-work sessions.

Services own their transactions: ``with db.transaction() as s:`` commits on success and
rolls back on any exception. Never hold a session open while a blob streams.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from harbor_api.db import table_writes


def make_engine(url: str, busy_timeout: float = 30) -> Engine:
    """``busy_timeout``: seconds a statement waits for a lock (SQLite's busy timeout,
    PostgreSQL's ``lock_timeout``) or for a pooled connection before failing (then answered
    503, see ``harbor_api.faults``). PostgreSQL connections are pinged before use, so a
    restarted server is reconnected to by itself."""
    if url.startswith("sqlite"):
        _private_sqlite_file(url)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": busy_timeout},
            pool_size=20,
            max_overflow=20,
            pool_timeout=busy_timeout,
        )
        event.listen(engine, "connect", _sqlite_pragmas(busy_timeout))
        table_writes.watch(engine)
        return engine
    # a statement waiting for a lock longer than that fails too (LockNotAvailable)
    options = (
        {"options": f"-c lock_timeout={int(busy_timeout * 1000)}"} if "+psycopg" in url else {}
    )
    engine = create_engine(
        url,
        pool_size=10,
        max_overflow=20,
        pool_pre_ping=True,
        pool_timeout=busy_timeout,
        connect_args=options,
    )
    table_writes.watch(engine)
    return engine


def _private_sqlite_file(url: str) -> None:
    """Create the database file readable by its owner only (0600, whatever the umask), and
    make an existing one so: it holds password and secret hashes. SQLite gives its WAL and
    journal files the database file's mode."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.parent.is_dir():
        return
    try:
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            if file.exists() and file.stat().st_mode & 0o077:
                file.chmod(0o600)
    except OSError:  # not ours to change (e.g. read-only): SQLite reports what matters
        pass


def _sqlite_pragmas(busy_timeout: float):
    def on_connect(dbapi_conn, _record) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cur.close()

    return on_connect


class Database:
    """One per process; shared by every request and job."""

    def __init__(self, url: str, busy_timeout: float = 30) -> None:
        self.url = url
        self.engine = make_engine(url, busy_timeout)
        # ``info["database"]``: who reacts after a commit (the job service's finished hooks)
        # opens its own transactions on the same database
        self._factory = sessionmaker(self.engine, expire_on_commit=False, info={"database": self})

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        session = self._factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reads only; rolled back at the end (by ``close``, which ends the
        transaction: a separate ``rollback`` first costs a second pass on hot reads)."""
        session = self._factory()
        try:
            yield session
        finally:
            session.close()

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")

    def dispose(self) -> None:
        self.engine.dispose()
