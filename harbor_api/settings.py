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


class ConfigError(Exception):
    """Configuration is invalid; the message is meant for the operator."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("./data")
    database_url: str = ""
    admin_password: str | None = None
    external_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    log_level: str = "info"
    log_format: str = "json"
    storage_driver: str = "filesystem"
    storage_root: Path | None = None
    token_expiration_minutes: int = 30
    max_manifest_bytes: int = 4 * 1024 * 1024
    session_max_age_seconds: int = 8 * 3600
    tls_cert: Path | None = None
    tls_key: Path | None = None
    robot_name_prefix: str = "robot$"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'harbor.db').resolve()}"

    @property
    def resolved_storage_root(self) -> Path:
        return (self.storage_root or self.data_dir / "storage").resolve()

    @property
    def resolved_external_url(self) -> str:
        if self.external_url:
            return self.external_url.rstrip("/")
        scheme = "https" if self.tls_cert else "http"
        return f"{scheme}://{self.host}:{self.port}"

    def with_overrides(self, **changes: Any) -> Settings:
        clean = {k: v for k, v in changes.items() if v is not None}
        return _validated(dataclasses.replace(self, **_coerce_all(clean)))


_ENV_PREFIX = "HARBOR_"
_FIELDS = {f.name: f for f in dataclasses.fields(Settings) if f.name != "extra"}


def load_settings(config_file: str | os.PathLike[str] | None = None,
                  environ: dict[str, str] | None = None) -> Settings:
    """Build settings from defaults, then ``config_file`` (YAML), then the environment."""
    environ = dict(os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    config_file = config_file or environ.get("HARBOR_CONFIG")
    if config_file:
        values.update(_read_yaml(Path(config_file)))
    for key, raw in environ.items():
        if key.startswith(_ENV_PREFIX) and key != "HARBOR_CONFIG":
            name = key[len(_ENV_PREFIX):].lower()
            if name in _FIELDS:
                values[name] = raw
    return _validated(Settings(**_coerce_all(values)))


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
    if not isinstance(loaded, dict):
        raise ConfigError(f"config file {path} must hold a mapping of settings")
    unknown = sorted(set(loaded) - set(_FIELDS))
    if unknown:
        raise ConfigError(f"config file {path}: unknown setting(s) {', '.join(unknown)}")
    return loaded


def _coerce_all(values: dict[str, Any]) -> dict[str, Any]:
    return {name: _coerce(name, value) for name, value in values.items()}


def _coerce(name: str, value: Any) -> Any:
    kind = str(_FIELDS[name].type)
    try:
        if value is None:
            return None
        if kind.startswith("int"):
            return int(value)
        if "Path" in kind:
            return Path(value) if value != "" else None
        return str(value) if not isinstance(value, str) else value
    except (TypeError, ValueError):
        raise ConfigError(f"setting {name} must be {kind.split(' ')[0]}, got {value!r}") from None


def _validated(settings: Settings) -> Settings:
    if not 0 < settings.port < 65536:
        raise ConfigError(f"setting port must be between 1 and 65535, got {settings.port}")
    if settings.workers < 1:
        raise ConfigError("setting workers must be at least 1")
    if settings.token_expiration_minutes < 1:
        raise ConfigError("setting token_expiration_minutes must be at least 1")
    if settings.storage_driver not in {"filesystem", "s3"}:
        raise ConfigError(f"setting storage_driver must be filesystem or s3, "
                          f"got {settings.storage_driver!r}")
    url = settings.database_url
    if url and not url.startswith(("sqlite://", "postgresql")):
        raise ConfigError("setting database_url must be a sqlite:// or postgresql+psycopg:// URL")
    if settings.external_url:
        parts = urlsplit(settings.external_url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ConfigError("setting external_url must be an absolute http(s) URL")
    if bool(settings.tls_cert) != bool(settings.tls_key):
        raise ConfigError("settings tls_cert and tls_key must be given together")
    if settings.log_format not in {"json", "text"}:
        raise ConfigError("setting log_format must be json or text")
    return settings
