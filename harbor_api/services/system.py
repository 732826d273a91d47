"""System-wide information and component health."""

from __future__ import annotations

import datetime as dt
import logging
from urllib.parse import urlsplit

from harbor_api import __version__
from harbor_api.services import configurations
from harbor_api.services.context import RequestContext
from harbor_api.services.formats import iso

log = logging.getLogger(__name__)

# The Harbor release whose API this server implements, in Harbor's own ``harbor_version``
# form (``v2.11.0-<build>``), for clients that compare versions to pick features. The
# product's own version is reported beside it as ``harbor_api_version``.
HARBOR_API_LEVEL = "2.11.0"
HARBOR_VERSION = f"v{HARBOR_API_LEVEL}-harbor-api"


def health(ctx: RequestContext) -> dict:
    components = []
    for name, check in (
        ("core", lambda: None),
        ("database", ctx.db.ping),
        ("registry", lambda: _storage_ping(ctx)),
    ):
        try:
            check()
            components.append({"name": name, "status": "healthy"})
        except Exception as exc:  # report, do not fail the health endpoint
            log.warning("health check %s failed: %s", name, exc)
            components.append({"name": name, "status": "unhealthy", "error": str(exc)[:200]})
    overall = "healthy" if all(c["status"] == "healthy" for c in components) else "unhealthy"
    return {"status": overall, "components": components}


def _storage_ping(ctx: RequestContext) -> None:
    storage = ctx.app.storage
    if storage is not None and hasattr(storage, "ping"):
        storage.ping()


def general_info(ctx: RequestContext) -> dict:
    cfg = configurations.effective(ctx.db)
    external = ctx.settings.external_url.rstrip("/") or ctx.base_url
    info = {
        "current_time": iso(dt.datetime.now(dt.UTC)),
        "auth_mode": cfg["auth_mode"],
        "primary_auth_mode": False,
        "project_creation_restriction": cfg["project_creation_restriction"],
        "self_registration": cfg["self_registration"],
        "has_ca_root": False,
        "harbor_version": HARBOR_VERSION,
        "harbor_api_version": __version__,
        "registry_storage_provider_name": ctx.settings.storage_driver,
        "read_only": cfg["read_only"],
        "notification_enable": False,
        "banner_message": "",
        "oidc_provider_name": "",
    }
    if ctx.principal.authenticated:
        info["external_url"] = external
        info["registry_url"] = urlsplit(external).netloc
    return info
