"""Typed settings, loaded once from a YAML file and ``HARBOR_*`` environment variables.

Environment variables win over the file; the file wins over defaults. Invalid values fail
fast with one :class:`ConfigError` whose message names the offending key.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml


def usable_cores() -> int:
    """The cores this process may run on: the default number of workers (Distribution, a Go
    program, uses every core; one worker per core does the same here)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # no affinity API (not Linux)
        return os.cpu_count() or 1


class ConfigError(Exception):
    """Configuration is invalid; the message is meant for the operator."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("./data")
    database_url: str = ""
    # how long a write waits for SQLite's lock before answering 503 (DATABASE_UNAVAILABLE)
    database_busy_timeout_seconds: int = 30
    admin_password: str | None = None
    external_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = field(default_factory=usable_cores)
    log_level: str = "info"
    log_format: str = "json"
    storage_driver: str = "filesystem"
    storage_root: Path | None = None
    token_expiration_minutes: int = 30
    max_manifest_bytes: int = 4 * 1024 * 1024
    session_max_age_seconds: int = 8 * 3600
    # abandoned upload sessions (and temporary files) are removed once untouched this long,
    # by a sweep that runs every upload_purge_interval_seconds (and at start)
    upload_purge_age_seconds: int = 24 * 3600
    upload_purge_interval_seconds: int = 3600
    # garbage collection leaves blobs (and, with delete_untagged, artifacts) pushed or used
    # within this many seconds alone (Harbor's time window; docs/gc.md)
    gc_time_window_seconds: int = 2 * 3600
    # per account (system administrators excepted): open upload sessions and the bytes they
    # hold; 0 means no limit
    max_open_uploads_per_user: int = 100
    max_upload_bytes_per_user: int = 32 * 1024**3
    tls_cert: Path | None = None
    tls_key: Path | None = None
    robot_name_prefix: str = "robot$"
    # the token service key (PEM) and its certificate; generated into data_dir when unset
    token_private_key: Path | None = None
    token_certificate: Path | None = None
    # login throttle: after login_lock_after consecutive failures a login name is locked for
    # login_lock_seconds, doubling per further failure up to login_lock_max_seconds; the
    # counters live in the database, or in Redis when redis_url is set (redis://host:port/db)
    login_lock_after: int = 5
    login_lock_seconds: int = 60
    login_lock_max_seconds: int = 1800
    redis_url: str = ""
    # seconds a stopping server gives requests in flight (uploads) before it cuts them
    graceful_timeout: int = 10
    # seconds a client has to send a request's headers (slow-header clients are cut off)
    header_timeout: int = 20
    # open connections one client address may hold per worker process (0: no cap)
    max_connections_per_client: int = 256
    # /v2/_catalog for every signed-in caller, filtered to what they can see (Harbor: system
    # administrators only)
    filtered_catalog: bool = False
    # the job service (docs/jobs.md): job_queue "database" runs job_workers threads in each
    # server process; "redis" queues task ids in Redis (redis_url, queue job_redis_queue) for
    # `harbor-api jobs-worker` processes. A running task holds a lease of job_lease_seconds,
    # renewed by heartbeat; an expired lease re-queues the task. job_modules: extra modules
    # (comma-separated) that register job types
    job_queue: str = "database"
    job_workers: int = 2
    job_lease_seconds: int = 30
    job_redis_queue: str = "harbor_api_jobs"
    job_modules: str = ""
    # webhooks (docs/webhooks.md): seconds a delivery waits for the receiver; seconds another
    # process may go on using its cached view of which projects have enabled policies
    webhook_delivery_timeout_seconds: int = 10
    webhook_policy_cache_seconds: int = 5
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def resolved_database_url(self) -> str:
        """The SQLAlchemy URL; plain ``postgresql://`` URLs get the psycopg 3 driver."""
        url = self.database_url or f"sqlite:///{(self.data_dir / 'harbor.db').resolve()}"
        for plain in ("postgresql://", "postgres://"):
            if url.startswith(plain):
                return "postgresql+psycopg://" + url[len(plain) :]
        return url

    @property
    def resolved_storage_root(self) -> Path:
        return (self.storage_root or self.data_dir / "storage").resolve()

    @property
    def resolved_external_url(self) -> str:
        if self.external_url:
            return self.external_url.rstrip("/")
        scheme = "https" if self.tls_cert else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    def with_overrides(self, **changes: Any) -> Settings:
        clean = {k: v for k, v in changes.items() if v is not None}
        return _validated(dataclasses.replace(self, **_coerce_all(clean)))


_ENV_PREFIX = "HARBOR_"
_FIELDS = {f.name: f for f in dataclasses.fields(Settings) if f.name != "extra"}


def load_settings(
    config_file: str | os.PathLike[str] | None = None, environ: dict[str, str] | None = None
) -> Settings:
    """Build settings from defaults, then ``config_file`` (YAML), then the environment."""
    environ = dict(os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    config_file = config_file or environ.get("HARBOR_CONFIG")
    if config_file:
        values.update(_read_yaml(Path(config_file)))
    for key, raw in environ.items():
        if key.startswith(_ENV_PREFIX) and key != "HARBOR_CONFIG":
            name = key[len(_ENV_PREFIX) :].lower()
            if name in _FIELDS and raw != "":  # an empty variable counts as unset
                values[name] = raw
    return _validated(Settings(**_coerce_all(values)))


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        reason = " ".join(str(exc).split())  # one line: YAML errors span several
        raise ConfigError(f"config file {path} is not valid YAML: {reason}") from None
    if not isinstance(loaded, dict):
        raise ConfigError(f"config file {path} must hold a mapping of settings")
    unknown = sorted(str(key) for key in set(loaded) - set(_FIELDS))
    if unknown:
        raise ConfigError(f"config file {path}: unknown setting(s) {', '.join(unknown)}")
    return loaded


def _coerce_all(values: dict[str, Any]) -> dict[str, Any]:
    return {name: _coerce(name, value) for name, value in values.items()}


def _coerce(name: str, value: Any) -> Any:
    """Turn a YAML or environment value into the field's type, or raise one ConfigError."""
    kind = str(_FIELDS[name].type)
    base = kind.split(" ")[0]
    if value is None:
        return None
    if isinstance(value, (dict, list, tuple, set)):
        raise ConfigError(f"setting {name} must be {base}, got {type(value).__name__} {value!r}")
    if kind.startswith("bool"):
        text = str(value).strip().lower()
        if isinstance(value, bool) or text in _BOOLEANS:
            return value if isinstance(value, bool) else _BOOLEANS[text]
        raise ConfigError(f"setting {name} must be true or false, got {value!r}")
    if kind.startswith("int"):
        if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
            raise ConfigError(f"setting {name} must be an integer, got {value!r}")
        try:
            return int(str(value).strip()) if not isinstance(value, float) else int(value)
        except ValueError:
            raise ConfigError(f"setting {name} must be an integer, got {value!r}") from None
    if "Path" in kind:
        if isinstance(value, Path):
            return value
        text = str(value).strip()
        if text:
            return Path(text).expanduser()
        if kind.endswith("None"):
            return None
        raise ConfigError(f"setting {name} must not be empty")
    return value if isinstance(value, str) else str(value)


_BOOLEANS = {
    "true": True,
    "yes": True,
    "on": True,
    "1": True,
    "false": False,
    "no": False,
    "off": False,
    "0": False,
}
STORAGE_DRIVERS = ("filesystem",)  # what harbor_api.registry.storage.make_driver builds
_LOG_LEVELS = {"debug", "info", "warning", "error", "critical"}


def _validated(settings: Settings) -> Settings:
    if not 0 < settings.port < 65536:
        raise ConfigError(f"setting port must be between 1 and 65535, got {settings.port}")
    for name in (
        "workers",
        "token_expiration_minutes",
        "max_manifest_bytes",
        "session_max_age_seconds",
        "database_busy_timeout_seconds",
        "upload_purge_age_seconds",
        "upload_purge_interval_seconds",
        "graceful_timeout",
        "header_timeout",
        "webhook_delivery_timeout_seconds",
    ):
        if getattr(settings, name) < 1:
            raise ConfigError(f"setting {name} must be at least 1, got {getattr(settings, name)}")
    for name in (
        "gc_time_window_seconds",
        "max_open_uploads_per_user",
        "max_upload_bytes_per_user",
        "max_connections_per_client",
        "webhook_policy_cache_seconds",
    ):
        if getattr(settings, name) < 0:
            raise ConfigError(
                f"setting {name} must be 0 (no limit) or more, got {getattr(settings, name)}"
            )
    for name in ("login_lock_after", "login_lock_seconds", "login_lock_max_seconds"):
        if getattr(settings, name) < 1:
            raise ConfigError(f"setting {name} must be at least 1, got {getattr(settings, name)}")
    if settings.redis_url and not settings.redis_url.startswith(
        ("redis://", "rediss://", "unix://")
    ):
        raise ConfigError("setting redis_url must be a redis://, rediss:// or unix:// URL")
    if settings.job_queue not in ("database", "redis"):
        raise ConfigError(
            f"setting job_queue must be database or redis, got {settings.job_queue!r}"
        )
    if settings.job_queue == "redis" and not settings.redis_url:
        raise ConfigError("setting job_queue redis needs redis_url")
    if settings.job_workers < 0:
        raise ConfigError(f"setting job_workers must be 0 or more, got {settings.job_workers}")
    if settings.job_lease_seconds < 1:
        raise ConfigError(
            f"setting job_lease_seconds must be at least 1, got {settings.job_lease_seconds}"
        )
    if settings.storage_driver not in STORAGE_DRIVERS:
        raise ConfigError(
            f"setting storage_driver must be one of {', '.join(STORAGE_DRIVERS)}, "
            f"got {settings.storage_driver!r}"
        )
    url = settings.database_url
    if url and not url.startswith(("sqlite://", "postgresql", "postgres://")):
        raise ConfigError(
            "setting database_url must be a sqlite:// or postgresql+psycopg:// URL, "
            f"got {url.split('://')[0]!r}"
        )
    if settings.external_url:
        parts = urlsplit(settings.external_url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ConfigError(
                "setting external_url must be an absolute http(s) URL, "
                f"got {settings.external_url!r}"
            )
    if bool(settings.tls_cert) != bool(settings.tls_key):
        raise ConfigError("settings tls_cert and tls_key must be given together")
    for name in ("tls_cert", "tls_key"):
        path = getattr(settings, name)
        if path is not None and not path.is_file():
            raise ConfigError(f"setting {name}: file {path} does not exist")
    if settings.log_level.lower() not in _LOG_LEVELS:
        raise ConfigError(
            f"setting log_level must be one of {', '.join(sorted(_LOG_LEVELS))}, "
            f"got {settings.log_level!r}"
        )
    if settings.log_format not in {"json", "text"}:
        raise ConfigError(f"setting log_format must be json or text, got {settings.log_format!r}")
    return settings
