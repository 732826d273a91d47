"""What a service call needs: the process-wide state and who is asking."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from harbor_api.auth.authenticate import Authenticator
from harbor_api.auth.keys import ServiceKey
from harbor_api.auth.principal import ANONYMOUS, Principal
from harbor_api.db.session import Database
from harbor_api.registry.storage.base import StorageDriver
from harbor_api.settings import Settings


class ChallengeHook(Protocol):
    """``WWW-Authenticate`` for a 401 on ``/v2/`` (see ``services.tokens.challenge_hook``)."""

    def __call__(
        self,
        repository: str | None,
        actions: Iterable[str],
        base_url: str = "",
        endpoint: str | None = None,
        mount_from: str | None = None,
    ) -> str: ...


class BackgroundService(Protocol):
    """Something a server process starts with the app and stops with it (the job service,
    ``harbor_api.jobs.service.JobService``)."""

    def start(self, scheduler: bool = True) -> None: ...

    def stop(self, timeout: float = 5.0) -> None: ...


@dataclass
class AppState:
    """Built once by ``harbor_api.app.build_state``; no import-time globals.

    Only ``settings`` and ``db`` are needed by a service call; the rest is what the edges
    and background jobs of a running server use (None when a test builds a bare state).
    """

    settings: Settings
    db: Database
    authenticator: Authenticator | None = None
    storage: StorageDriver | None = None
    token_key: ServiceKey | None = None  # the token service's signing key
    challenge: ChallengeHook | None = None  # the /v2 Bearer challenge
    audit_retention: threading.Event | None = None  # set it to stop the retention job
    jobs: BackgroundService | None = None  # this process's job workers and scheduler
    webhooks: object | None = None  # its webhook notifier (services/webhooks/notify.py)


@dataclass
class RequestContext:
    app: AppState
    principal: Principal = ANONYMOUS
    request_id: str = ""
    base_url: str = ""  # scheme://host[:port]: the external URL, else what the client used

    @property
    def db(self) -> Database:
        return self.app.db

    @property
    def settings(self) -> Settings:
        return self.app.settings
