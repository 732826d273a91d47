"""Deleting an endpoint something uses is refused (412): proxy-cache projects now, and the
checks later features (replication policies) register through the same hook."""

import pytest

from harbor_api.auth.principal import Principal
from harbor_api.db.base import Base
from harbor_api.db.models import Project
from harbor_api.db.session import Database
from harbor_api.errors import NotFoundError, PreconditionFailedError
from harbor_api.services import registries
from harbor_api.services.context import AppState, RequestContext
from harbor_api.settings import Settings

ADMIN = Principal(kind="user", user_id=1, username="admin", sysadmin=True, via="basic")


@pytest.fixture
def ctx(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'h.db'}")
    Base.metadata.create_all(db.engine)
    yield RequestContext(AppState(settings=Settings(data_dir=tmp_path), db=db), ADMIN)
    db.dispose()


def _endpoint(ctx) -> int:
    return registries.create_registry(
        ctx, {"name": "up", "type": "docker-registry", "url": "https://up.example"}
    )


def test_in_use_by_a_proxy_cache_project(ctx):
    registry_id = _endpoint(ctx)
    with ctx.db.transaction() as s:
        s.add(Project(name="cache", registry_id=registry_id))
    with pytest.raises(PreconditionFailedError, match="proxy cache project cache"):
        registries.delete_registry(ctx, registry_id)
    assert registries.get_registry(ctx, registry_id)["name"] == "up"


def test_a_registered_check_refuses_the_deletion(ctx, monkeypatch):
    monkeypatch.setattr(registries, "USAGE_CHECKS", list(registries.USAGE_CHECKS))
    registry_id = _endpoint(ctx)
    registries.register_usage_check(
        lambda s, rid: ["replication policy nightly"] if rid == registry_id else []
    )
    with pytest.raises(PreconditionFailedError) as refused:
        registries.delete_registry(ctx, registry_id)
    assert refused.value.status == 412
    assert "in use by replication policy nightly" in refused.value.message


def test_unused_endpoint_is_deleted(ctx):
    registry_id = _endpoint(ctx)
    registries.delete_registry(ctx, registry_id)
    with pytest.raises(NotFoundError):
        registries.get_registry(ctx, registry_id)


def test_secret_is_stored_encrypted(ctx):
    registry_id = registries.create_registry(
        ctx,
        {
            "name": "enc",
            "type": "harbor",
            "url": "https://h.example",
            "credential": {"type": "basic", "access_key": "u", "access_secret": "plain-text"},
        },
    )
    with ctx.db.read() as s:
        stored = s.get(registries.RegistryEndpoint, registry_id).access_secret
    assert stored and "plain-text" not in stored
    assert registries.endpoint_of(ctx, registry_id).credential.access_secret == "plain-text"
