"""What a service call needs: the process-wide state and who is asking."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harbor_api.auth.principal import ANONYMOUS, Principal
from harbor_api.db.session import Database
from harbor_api.settings import Settings


@dataclass
class AppState:
    """Built once by ``create_app``; no import-time globals."""

    settings: Settings
    db: Database
    authenticator: Any = None
    storage: Any = None
    extras: dict[str, Any] = field(default_factory=dict)


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
