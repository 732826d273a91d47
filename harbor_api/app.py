"""``create_app(settings)``: wires every part together. Nothing happens at import time."""

from __future__ import annotations

import logging
from pathlib import Path

import yaml
from connexion import AsyncApp
from connexion.options import SwaggerUIOptions

from harbor_api.api import errors as api_errors
from harbor_api.api.forms import validator_map
from harbor_api.api.resolver import TagResolver
from harbor_api.api.responses import jsonifier
from harbor_api.asgi import RootApp
from harbor_api.auth.authenticate import Authenticator
from harbor_api.db.session import Database
from harbor_api.services.audit_logs import start_retention_job
from harbor_api.services.context import AppState
from harbor_api.settings import Settings
from harbor_api.web.static import DEVCENTER_FILES, SpecDocument, StaticDirectory

SPEC_PATH = Path(__file__).resolve().parent.parent / "openapi" / "swagger.yaml"
PORTAL_DIR = Path(__file__).resolve().parent / "web" / "portal"

log = logging.getLogger(__name__)


def load_spec() -> dict:
    return yaml.safe_load(SPEC_PATH.read_text())


def build_state(settings: Settings) -> AppState:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url, settings.database_busy_timeout_seconds)
    state = AppState(settings=settings, db=db, authenticator=Authenticator(db, settings))
    state.extras["audit.retention"] = start_retention_job(db)
    return state


def create_app(settings: Settings, state: AppState | None = None) -> RootApp:
    state = state or build_state(settings)
    spec = load_spec()
    api = AsyncApp(__name__, specification_dir=str(SPEC_PATH.parent), jsonifier=jsonifier())
    api.add_api(spec, resolver=TagResolver(), validate_responses=True, strict_validation=True,
                validator_map=validator_map(),
                swagger_ui_options=SwaggerUIOptions(swagger_ui=False, serve_spec=False))
    api_errors.register(api, spec)

    document = SpecDocument(spec)
    static = {
        "/devcenter": StaticDirectory("/devcenter", _swagger_ui_dir(), DEVCENTER_FILES),
        "/": StaticDirectory("", PORTAL_DIR if PORTAL_DIR.is_dir() else None),
    }
    spec_routes = {"/api/v2.0/swagger.json": document, "/api/v2.0/swagger.yaml": document}
    root = RootApp(state, api, _registry_edge(state), static, spec_routes)
    _enable_token_auth(state, root)
    return root


def _enable_token_auth(state: AppState, root: RootApp) -> None:
    """The token service's key (generated on first start) and Bearer verification."""
    from harbor_api.auth.keys import load_service_key
    from harbor_api.services.tokens import TOKEN_KEY, BearerVerifier, challenge_hook

    state.extras[TOKEN_KEY] = load_service_key(state.settings)
    state.extras["v2.challenge"] = challenge_hook(state)
    root.bearer = BearerVerifier(state)


def _swagger_ui_dir() -> Path | None:
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:  # pragma: no cover - declared dependency
        return None
    return Path(swagger_ui_path)


def _registry_edge(state: AppState):
    """The hand-written, streaming /v2 edge (not routed through Connexion)."""
    from harbor_api.v2.app import RegistryApp

    return RegistryApp(state)
