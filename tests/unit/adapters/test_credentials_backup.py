"""A restored backup still decrypts its registry endpoints' secrets: the credential key
lives in ``token/``, which ``harbor-api backup`` archives."""

from harbor_api.auth import credential_cipher
from harbor_api.auth.principal import Principal
from harbor_api.backup import backup, restore
from harbor_api.db.migrate import upgrade
from harbor_api.db.session import Database
from harbor_api.services import registries
from harbor_api.services.context import AppState, RequestContext
from harbor_api.settings import Settings

ADMIN = Principal(kind="user", user_id=1, username="admin", sysadmin=True, via="basic")


def _context(data_dir) -> RequestContext:
    settings = Settings(data_dir=data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url)
    upgrade(db.engine)
    return RequestContext(AppState(settings=settings, db=db), ADMIN)


def test_secrets_survive_backup_and_restore(tmp_path):
    ctx = _context(tmp_path / "old")
    registry_id = registries.create_registry(
        ctx,
        {
            "name": "up",
            "type": "harbor",
            "url": "https://h.example",
            "credential": {"type": "basic", "access_key": "u", "access_secret": "kept-secret"},
        },
    )
    ctx.db.dispose()
    backup(ctx.settings, tmp_path / "b.tar")
    restore(Settings(data_dir=tmp_path / "new"), tmp_path / "b.tar")
    credential_cipher._cipher_for.cache_clear()  # a fresh process on the new directory
    restored = _context(tmp_path / "new")
    assert registries.endpoint_of(restored, registry_id).credential.access_secret == "kept-secret"
    restored.db.dispose()
