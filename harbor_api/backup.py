"""``harbor-api backup`` / ``restore``: one tar archive holding a consistent SQLite snapshot,
the token service's key files and every stored blob.

Order matters for consistency while the server runs: the database is snapshotted first (the
sqlite3 online backup API copies a single point in time, even under concurrent writes), then
storage is copied. Blobs are written before any database row refers to them and are
content-addressed, so every blob the snapshot names is already on disk when the copy starts;
blobs pushed later are merely extra. (A garbage collection or blob deletion running during
the backup could remove a blob the snapshot still names: do not run one meanwhile.)

PostgreSQL databases are backed up with PostgreSQL's own tools (``pg_dump``) plus a copy of
storage and keys; see docs/operations.md. Both commands refuse a PostgreSQL configuration
and say so.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import TextIO

from harbor_api import __version__
from harbor_api.settings import Settings

FORMAT = 1
MANIFEST = "harbor-backup.json"
DATABASE = "database/harbor.db"
TOKEN_DIR = "token"
CONFIGURED_KEYS = "token-configured"
STORAGE = "storage"

POSTGRESQL_INSTRUCTIONS = """\
the database is PostgreSQL: back it up with PostgreSQL's tools, then copy storage and keys:
  pg_dump --format=custom --file=harbor.pgdump "<database_url without +psycopg>"
  tar -cf harbor-files.tar -C <data_dir> token  (and the storage root: {storage})
restore with pg_restore --clean --if-exists --dbname=... and by unpacking the files
(see docs/operations.md)"""


class BackupError(Exception):
    """Backup or restore cannot proceed; the message is meant for the operator."""


class Progress:
    """Counts files and bytes; prints a line at most once a second, and a last one."""

    def __init__(self, verb: str, stream: TextIO | None = None, every: float = 1.0) -> None:
        self.verb, self.stream, self.every = verb, stream or sys.stderr, every
        self.files = self.bytes = 0
        self._last = time.monotonic()

    def add(self, size: int) -> None:
        self.files += 1
        self.bytes += size
        if time.monotonic() - self._last >= self.every:
            self.report()

    def report(self) -> None:
        self._last = time.monotonic()
        print(
            f"{self.verb}: {self.files} file(s), {self.bytes / 2**20:.1f} MiB",
            file=self.stream,
            flush=True,
        )


def sqlite_path(settings: Settings) -> Path:
    url = settings.resolved_database_url
    if not url.startswith("sqlite"):
        raise BackupError(POSTGRESQL_INSTRUCTIONS.format(storage=settings.resolved_storage_root))
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError(f"setting database_url {url!r} names no database file")
    return Path(database)


def _configured_keys(settings: Settings) -> list[Path]:
    return [Path(p) for p in (settings.token_private_key, settings.token_certificate) if p]


def backup(settings: Settings, out: Path, stream: TextIO | None = None) -> Progress:
    """Write the archive ``out`` (atomically: a partial archive never has its name)."""
    db_file = sqlite_path(settings)
    if not db_file.is_file():
        raise BackupError(f"there is no database at {db_file} (wrong --data-dir or --config?)")
    out = out.resolve()
    if not out.parent.is_dir():
        raise BackupError(f"directory {out.parent} does not exist")
    progress = Progress("backup", stream)
    mode = "w:gz" if out.name.endswith((".tar.gz", ".tgz")) else "w"
    with tempfile.TemporaryDirectory(prefix=".harbor-backup-", dir=out.parent) as scratch:
        snapshot = Path(scratch) / "harbor.db"
        _snapshot_sqlite(db_file, snapshot, progress)
        partial = Path(scratch) / out.name
        with tarfile.open(partial, mode) as tar:
            manifest = {
                "format": FORMAT,
                "product": "harbor-api",
                "version": __version__,
                "created": dt.datetime.now(dt.UTC).isoformat(),
                "database": "sqlite",
            }
            _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=2).encode())
            tar.add(snapshot, DATABASE)
            progress.add(snapshot.stat().st_size)
            token_dir = settings.data_dir / "token"
            if token_dir.is_dir():
                _add_tree(tar, token_dir, TOKEN_DIR, progress)
            for path in _configured_keys(settings):
                tar.add(path, f"{CONFIGURED_KEYS}/{path.name}")
                progress.add(path.stat().st_size)
            storage = settings.resolved_storage_root
            if storage.is_dir():
                _add_tree(tar, storage, STORAGE, progress)
        with open(partial, "rb") as written:
            os.fsync(written.fileno())
        partial.chmod(0o600)  # it holds the signing and credential keys; scratch is 0700
        os.replace(partial, out)
    progress.report()
    return progress


def _snapshot_sqlite(source: Path, target: Path, progress: Progress) -> None:
    """A point-in-time copy through the online backup API (safe while the server writes)."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:

        def pages(status, remaining, total):
            if total > 25_000:  # ~100 MiB: worth telling
                print(
                    f"backup: database {total - remaining}/{total} pages",
                    file=progress.stream,
                    flush=True,
                )

        src.backup(dst, pages=5_000, progress=pages)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        dst.close()
        src.close()


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    import io

    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
    tar.addfile(info, io.BytesIO(data))


def _add_tree(tar: tarfile.TarFile, root: Path, arcroot: str, progress: Progress) -> None:
    for directory, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = Path(directory) / name
            if name.endswith(".lock"):
                continue  # upload writers' lock files: recreated on demand
            try:
                size = path.stat().st_size
                tar.add(path, f"{arcroot}/{path.relative_to(root).as_posix()}", recursive=False)
            except FileNotFoundError:
                continue  # finished or purged while we walked: not part of the snapshot
            progress.add(size)


def restore(
    settings: Settings, archive: Path, force: bool = False, stream: TextIO | None = None
) -> Progress:
    """Unpack ``archive`` into the configured data directory (and storage root), which must
    be empty unless ``force`` (then what is there is replaced). The server must be stopped."""
    db_file = sqlite_path(settings)
    if not archive.is_file():
        raise BackupError(f"archive {archive} does not exist")
    data_dir = settings.data_dir.resolve()
    storage = settings.resolved_storage_root
    targets = [data_dir] + ([storage] if not storage.is_relative_to(data_dir) else [])
    occupied = [t for t in targets if t.is_dir() and any(t.iterdir())]
    if occupied and not force:
        raise BackupError(
            f"{occupied[0]} is not empty: restore into an empty data directory, "
            "or pass --force to replace what is there (stop the server first)"
        )
    try:
        with tarfile.open(archive) as tar:
            _read_manifest(tar)  # before anything is created
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise BackupError(f"archive {archive} cannot be read: {exc}") from None
    progress = Progress("restore", stream)
    data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".harbor-restore-", dir=data_dir) as scratch:
        staged = Path(scratch)
        try:
            with tarfile.open(archive) as tar:
                for member in tar:
                    if member.name == MANIFEST:
                        continue
                    tar.extract(member, staged, filter="data")
                    if member.isfile():
                        progress.add(member.size)
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise BackupError(f"archive {archive} cannot be read: {exc}") from None
        if not (staged / DATABASE).is_file():
            raise BackupError(f"archive {archive} holds no database")
        _replace(staged / DATABASE, db_file)
        for suffix in ("-wal", "-shm", "-journal"):  # a replaced database's leftovers
            Path(f"{db_file}{suffix}").unlink(missing_ok=True)
        if (staged / TOKEN_DIR).is_dir():
            _replace(staged / TOKEN_DIR, data_dir / "token")
        for path in _configured_keys(settings):
            staged_key = staged / CONFIGURED_KEYS / path.name
            if staged_key.is_file() and (force or not path.exists()):
                path.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(staged_key, path)
        if (staged / STORAGE).is_dir():
            _replace(staged / STORAGE, storage)
    progress.report()
    return progress


def _read_manifest(tar: tarfile.TarFile) -> dict:
    try:
        member = tar.getmember(MANIFEST)
        manifest = json.loads(tar.extractfile(member).read())
    except (KeyError, ValueError, AttributeError):
        raise BackupError("this is not a harbor-api backup (no harbor-backup.json)") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(
            f"backup format {manifest.get('format')!r} is not supported "
            f"(this version reads format {FORMAT})"
        )
    return manifest


def _replace(source: Path, target: Path) -> None:
    """Move ``source`` to ``target``, replacing whatever is there."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    elif target.exists():
        target.unlink()
    shutil.move(str(source), str(target))
