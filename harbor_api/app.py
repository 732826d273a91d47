"""``create_app(settings)``: wires every part together. Nothing happens at import time."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any

import yaml
from connexion import AsyncApp
from connexion.options import SwaggerUIOptions

from harbor_api.api import errors as api_errors
from harbor_api.api.forms import validator_map
from harbor_api.api.resolver import TagResolver
from harbor_api.api.responses import jsonifier
from harbor_api.asgi import RootApp
from harbor_api.auth.authenticate import Authenticator
from harbor_api.auth.bearer import BearerVerifier
from harbor_api.auth.credential_cipher import load_credential_cipher
from harbor_api.auth.keys import load_service_key
from harbor_api.db import config_store
from harbor_api.db.session import Database
from harbor_api.jobs.service import JobService
from harbor_api.registry.storage import make_driver
from harbor_api.services.audit_logs import start_retention_job
from harbor_api.services.context import AppState
from harbor_api.services.tokens import challenge_hook
from harbor_api.services.webhooks.notify import Notifier
from harbor_api.settings import Settings
from harbor_api.v2.app import RegistryApp
from harbor_api.web.static import DEVCENTER_FILES, PortalApp, SpecDocument, StaticDirectory

SPEC_PATH = Path(__file__).resolve().parent.parent / "openapi" / "swagger.yaml"
PORTAL_DIR = Path(__file__).resolve().parent / "web" / "portal"

log = logging.getLogger(__name__)


def load_spec() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text())
    return spec


def build_state(settings: Settings) -> AppState:
    """Every process-wide part, in one place: the database, the storage driver (which the
    management API reads too, e.g. image configs), credential checks, the token service's
    key (generated on first start) and the ``/v2`` Bearer challenge."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url, settings.database_busy_timeout_seconds)
    config_store.protect_secrets(db, load_credential_cipher(settings))
    state = AppState(
        settings=settings,
        db=db,
        authenticator=Authenticator(db, settings),
        storage=make_driver(settings.storage_driver, settings.resolved_storage_root),
        token_key=load_service_key(settings),
    )
    state.challenge = challenge_hook(state)
    state.audit_retention = start_retention_job(db)
    state.jobs = JobService.for_settings(db, settings, storage=state.storage)
    state.webhooks = Notifier(
        db, settings.resolved_external_url, settings.webhook_policy_cache_seconds
    ).install()
    return state


def _job_service_lifespan(state: AppState):
    """The job service's workers and scheduler run while the app does (per process)."""

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        service = state.jobs
        if service is None:
            state.jobs = service = JobService.for_settings(
                state.db, state.settings, storage=state.storage
            )
        service.start()
        try:
            yield
        finally:
            service.stop(timeout=min(5.0, state.settings.graceful_timeout))

    return lifespan


def create_app(settings: Settings, state: AppState | None = None) -> RootApp:
    state = state or build_state(settings)
    spec = load_spec()
    api = AsyncApp(
        __name__,
        specification_dir=str(SPEC_PATH.parent),
        jsonifier=jsonifier(),
        lifespan=_job_service_lifespan(state),
    )
    api.add_api(
        spec,
        resolver=TagResolver(),
        validate_responses=True,
        strict_validation=True,
        validator_map=validator_map(),
        swagger_ui_options=SwaggerUIOptions(swagger_ui=False, serve_spec=False),
    )
    api_errors.register(api, spec)

    document = SpecDocument(spec)
    static = {
        "/devcenter": StaticDirectory("/devcenter", _swagger_ui_dir(), DEVCENTER_FILES),
        "/": PortalApp(PORTAL_DIR if PORTAL_DIR.is_dir() else None),
    }
    spec_routes = {"/api/v2.0/swagger.json": document, "/api/v2.0/swagger.yaml": document}
    # the hand-written, streaming /v2 edge (not routed through Connexion)
    root = RootApp(state, api, RegistryApp(state), static, spec_routes)
    root.bearer = _bearer_verifier(state)
    return root


def _bearer_verifier(state: AppState) -> BearerVerifier:
    if state.authenticator is None or state.token_key is None:
        raise ValueError("create_app needs a state made by build_state")
    return BearerVerifier(state.db, state.token_key, state.authenticator.robot_prefix)


def _swagger_ui_dir() -> Path | None:
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:  # pragma: no cover - declared dependency
        return None
    return Path(swagger_ui_path)
