"""The ``harbor-api`` command line.

Commands import what they use inside their functions, on purpose (not to dodge a cycle):
``--help`` and a configuration error answer at once, and ``serve`` keeps the ORM, Alembic
and Connexion out of the gunicorn master (see :func:`_prepare_in_child`).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import traceback

from harbor_api import __version__
from harbor_api.settings import ConfigError, Settings, load_settings

DESCRIPTION = """\
harbor-api: a container registry (OCI Distribution /v2/) with a Harbor-compatible
management API (/api/v2.0/), a token service, and the Swagger UI at /devcenter.

With no configuration it runs on the embedded default: SQLite and filesystem storage in
--data-dir. Configuration comes from --config FILE (YAML) and HARBOR_* environment
variables, which win (e.g. HARBOR_DATABASE_URL, HARBOR_ADMIN_PASSWORD, HARBOR_EXTERNAL_URL).
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="harbor-api",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"harbor-api {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser(
        "serve",
        help="run the registry server (migrates the database first)",
        description="Run the registry. Brings the database schema up to "
        "date, creates the admin user and the public 'library' project on "
        "first start, then serves everything on one port with gunicorn.",
    )
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8080)")
    serve.add_argument("--data-dir", help="where the database and blobs live (default ./data)")
    serve.add_argument(
        "--workers", type=int, help="worker processes (default: one per usable core)"
    )
    serve.add_argument("--config", help="YAML configuration file")
    serve.add_argument("--tls-cert", help="PEM certificate: serve HTTPS")
    serve.add_argument("--tls-key", help="PEM private key for --tls-cert")
    serve.add_argument("--external-url", help="the URL clients use (token realm, Location)")

    migrate = sub.add_parser("migrate", help="bring the database schema up to date and exit")
    migrate.add_argument("--config", help="YAML configuration file")
    migrate.add_argument("--data-dir", help="data directory (default ./data)")

    reset = sub.add_parser(
        "reset-password",
        help="set a user's password (e.g. admin's) on the configured database",
        description="Set a local user's password directly in the database (no server or "
        "administrator login needed) and end that user's browser sessions. This is also how "
        "to set the admin password of an existing data directory: the admin_password setting "
        "only applies on the first start. The password is asked twice (not echoed), or read "
        "from standard input with --password-stdin.",
    )
    reset.add_argument("username", help="the user, e.g. admin")
    reset.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the new password from standard input (one line)",
    )
    reset.add_argument("--config", help="YAML configuration file")
    reset.add_argument("--data-dir", help="data directory (default ./data)")

    backup = sub.add_parser(
        "backup",
        help="write a backup archive (SQLite snapshot, token keys, blobs)",
        description="Write one tar archive (.tar, or .tar.gz to compress) with a consistent "
        "snapshot of the SQLite database, the token service keys and all stored blobs; safe "
        "while the server runs. For PostgreSQL it prints the pg_dump procedure instead "
        "(docs/operations.md).",
    )
    backup.add_argument("archive", help="the archive to write, e.g. harbor-backup.tar")
    backup.add_argument("--config", help="YAML configuration file")
    backup.add_argument("--data-dir", help="data directory (default ./data)")

    restore = sub.add_parser(
        "restore",
        help="restore a backup archive into an empty data directory",
        description="Unpack an archive written by 'harbor-api backup' into the configured data "
        "directory, which must be empty (or missing) unless --force. Stop the server first.",
    )
    restore.add_argument("archive", help="the archive written by 'harbor-api backup'")
    restore.add_argument(
        "--force",
        action="store_true",
        help="replace the database, keys and blobs already in the data directory",
    )
    restore.add_argument("--config", help="YAML configuration file")
    restore.add_argument("--data-dir", help="data directory (default ./data)")

    jobs = sub.add_parser(
        "jobs-worker",
        help="run a job worker process for the Redis job queue (scale-out)",
        description="Run one job worker taking tasks from the Redis queue (settings "
        "job_queue: redis, redis_url); start as many as wanted, on any machine that reaches "
        "the database, the storage and Redis. See docs/jobs.md.",
    )
    jobs.add_argument("--config", help="YAML configuration file")
    jobs.add_argument("--data-dir", help="data directory (default ./data)")
    jobs.add_argument("--burst", action="store_true", help="exit once the queue is empty")

    sub.add_parser("version", help="print the version and exit")
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    settings = load_settings(getattr(args, "config", None))
    return settings.with_overrides(
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        data_dir=getattr(args, "data_dir", None),
        workers=getattr(args, "workers", None),
        tls_cert=getattr(args, "tls_cert", None),
        tls_key=getattr(args, "tls_key", None),
        external_url=getattr(args, "external_url", None),
    )


def prepare(settings: Settings) -> str | None:
    """Migrate and bootstrap; returns a newly generated admin password, if any."""
    from harbor_api.auth.credential_cipher import load_credential_cipher
    from harbor_api.db import config_store
    from harbor_api.db.migrate import upgrade
    from harbor_api.db.session import Database
    from harbor_api.services.bootstrap import bootstrap

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    _check_token_key(settings)
    db = Database(settings.resolved_database_url)
    try:
        upgrade(db.engine)
        config_store.protect_secrets(db, load_credential_cipher(settings))
        config_store.encrypt_clear_secrets(db)
        return bootstrap(db, settings.admin_password)
    finally:
        db.dispose()


def _check_token_key(settings: Settings) -> None:
    """Load (or generate, once, before the workers start) the token signing key, so that a
    bad key file fails here with one line rather than in every gunicorn worker."""
    try:
        from harbor_api.auth.keys import load_service_key
    except ImportError:  # pragma: no cover - the token service is part of the package
        return
    load_service_key(settings)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if args.command == "version":
        print(f"harbor-api {__version__}")
        return 0
    try:
        settings = settings_from(args)
    except ConfigError as exc:
        print(f"harbor-api: configuration error: {exc}", file=sys.stderr)
        return 2
    if args.command == "migrate":
        code, _ = _reporting_errors(prepare, settings)
        if code == 0:
            print(f"database at {_redact(settings.resolved_database_url)} is up to date")
        return code
    if args.command == "reset-password":
        return reset_password(settings, args.username, args.password_stdin)
    if args.command in ("backup", "restore"):
        return backup_or_restore(settings, args)
    if args.command == "jobs-worker":
        return jobs_worker(settings, args.burst)
    return serve(settings)


def _read_new_password(from_stdin: bool) -> str:
    import getpass

    if from_stdin:
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    if not sys.stdin.isatty():
        raise ValueError("no terminal to ask on: pass the password with --password-stdin")
    first = getpass.getpass("New password: ")
    if getpass.getpass("Repeat it: ") != first:
        raise ValueError("the two passwords differ")
    return first


def reset_password(settings: Settings, username: str, from_stdin: bool) -> int:
    from harbor_api.services.password_reset import ResetRefused

    if settings.resolved_database_url.startswith("sqlite"):
        from harbor_api.backup import sqlite_path

        if not sqlite_path(settings).is_file():
            print(
                f"harbor-api: there is no database at {sqlite_path(settings)} (wrong "
                "--data-dir or --config? on a new data directory, set admin_password / "
                "HARBOR_ADMIN_PASSWORD for the first start)",
                file=sys.stderr,
            )
            return 1
    try:
        password = _read_new_password(from_stdin)
    except (ValueError, EOFError, KeyboardInterrupt) as exc:
        print(f"harbor-api: {exc or 'cancelled'}", file=sys.stderr)
        return 1

    def run(settings: Settings) -> int:
        from harbor_api.db.migrate import upgrade
        from harbor_api.db.session import Database
        from harbor_api.services.password_reset import reset_password as reset

        db = Database(settings.resolved_database_url)
        try:
            upgrade(db.engine)
            return reset(db, username, password, settings)
        finally:
            db.dispose()

    try:
        code, ended = _reporting_errors(run, settings)
    except ResetRefused as exc:
        print(f"harbor-api: {exc}", file=sys.stderr)
        return 1
    if code == 0:
        print(f"password of user {username!r} set; {ended} browser session(s) ended")
    return code


def backup_or_restore(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from harbor_api.backup import BackupError, backup, restore

    archive = Path(args.archive)
    try:
        if args.command == "backup":
            done = backup(settings, archive)
            print(
                f"backup written to {archive.resolve()}: {done.files} file(s), "
                f"{done.bytes / 2**20:.1f} MiB"
            )
        else:
            done = restore(settings, archive, force=args.force)
            print(
                f"restored {done.files} file(s), {done.bytes / 2**20:.1f} MiB into "
                f"{settings.data_dir.resolve()}; start the server with this data directory"
            )
    except BackupError as exc:
        print(f"harbor-api: {args.command}: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"harbor-api: {args.command}: {exc}", file=sys.stderr)
        return 1
    return 0


def jobs_worker(settings: Settings, burst: bool) -> int:
    if settings.job_queue != "redis":
        print(
            "harbor-api: jobs-worker needs job_queue: redis (with the database queue the "
            "server runs its workers itself)",
            file=sys.stderr,
        )
        return 2
    code, _ = _reporting_errors(prepare, settings)
    if code != 0:
        return code
    from harbor_api.jobs.redis_queue import run_worker

    return run_worker(settings, burst=burst)


def _reporting_errors(fn, settings: Settings):
    """Run ``fn(settings)``; turn start-up failures into one readable line and an exit code."""
    try:
        return 0, fn(settings)
    except ConfigError as exc:
        print(f"harbor-api: configuration error: {exc}", file=sys.stderr)
        return 2, None
    except Exception as exc:  # one readable line instead of a traceback for start-up failures
        from sqlalchemy.exc import ArgumentError, OperationalError

        if isinstance(exc, OperationalError):
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            print(f"harbor-api: cannot reach the database: {reason}", file=sys.stderr)
            return 1, None
        if isinstance(exc, ArgumentError):
            print(f"harbor-api: configuration error: setting database_url: {exc}", file=sys.stderr)
            return 2, None
        if isinstance(exc, OSError):
            print(f"harbor-api: cannot start: {exc}", file=sys.stderr)
            return 1, None
        raise


def _prepare_in_child(settings: Settings) -> tuple[int, str | None]:
    """Migrate and bootstrap in a forked child, so the gunicorn master never loads the ORM,
    Alembic and the models: it stays small, which keeps the server's total memory low."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_end)
        code, errors = 1, io.StringIO()
        try:
            with contextlib.redirect_stderr(errors):
                code, generated = _reporting_errors(prepare, settings)
            message = {"password": generated, "stderr": errors.getvalue()}
        except BaseException:
            message = {"password": None, "stderr": errors.getvalue() + traceback.format_exc()}
        finally:
            os.write(write_end, json.dumps(message).encode())
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        payload = pipe.read()
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    result = json.loads(payload) if payload else {"password": None, "stderr": ""}
    if result["stderr"]:
        print(result["stderr"], end="", file=sys.stderr)
    if code != 0:
        return code, None
    return 0, result["password"]


def serve(settings: Settings) -> int:
    from harbor_api.server import run

    busy = port_in_use(settings.host, settings.port)
    if busy:  # before anything is created: a second start must leave no trace
        print(f"harbor-api: cannot start: {busy}", file=sys.stderr)
        return 1
    code, generated = _prepare_in_child(settings)
    if code != 0:
        return code
    os.environ.setdefault("FORWARDED_ALLOW_IPS", "127.0.0.1")
    run(settings, when_ready=lambda: print_banner(settings, generated))
    return 0


def port_in_use(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be listened on (one line), or None when it can."""
    import errno
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn does
        try:
            probe.bind((host, port))
        except OSError as exc:
            where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            if exc.errno == errno.EADDRINUSE:
                return (
                    f"port {port} is already in use on {host} (another server is "
                    "listening there; stop it or choose --port)"
                )
            return f"cannot listen on {where}: {exc.strerror or exc}"
    return None


def print_banner(settings: Settings, generated: str | None) -> None:
    """Printed once the port is bound (gunicorn's ``when_ready``): the URLs work now."""
    url = settings.resolved_external_url
    print(f"harbor-api {__version__} listening on {url}", flush=True)
    print(f"  portal and API:  {url}/   {url}/api/v2.0/   Swagger UI: {url}/devcenter", flush=True)
    print(
        "  admin user:      admin"
        + (f"   (generated password: {generated} -- shown once; change it)" if generated else ""),
        flush=True,
    )
    print(
        f"  data:            {settings.data_dir.resolve()}  "
        f"(database {_redact(settings.resolved_database_url)})",
        flush=True,
    )


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':')[0]}:***@{host}"
    return url


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
