"""``build_state``: every process-wide part is built in one place, with typed fields."""

from __future__ import annotations

import hashlib
import json
import uuid

import pytest

from harbor_api.app import build_state
from harbor_api.auth.authenticate import Authenticator
from harbor_api.auth.keys import ServiceKey
from harbor_api.registry.paths import blob_key
from harbor_api.registry.storage.base import StorageDriver
from harbor_api.services import image_config
from harbor_api.settings import Settings


@pytest.fixture
def state(tmp_path):
    built = build_state(Settings(data_dir=tmp_path))
    yield built
    assert built.audit_retention is not None
    built.audit_retention.set()
    built.db.engine.dispose()


def test_every_part_is_built_without_the_v2_edge(state):
    assert isinstance(state.authenticator, Authenticator)
    assert isinstance(state.storage, StorageDriver)
    assert isinstance(state.token_key, ServiceKey)
    assert state.challenge is not None
    assert state.challenge(None, (), "http://registry.test").startswith(
        'Bearer realm="http://registry.test/service/token"'
    )


def test_the_management_api_reads_image_configs_without_the_v2_edge(state):
    """The API's ``extra_attrs`` come from the config blob in storage: a state built for
    the API alone has the storage (it used to be set only by constructing ``/v2``)."""
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "nonce": uuid.uuid4().hex,
            "config": {"Env": ["A=1"]},
        }
    ).encode()
    digest = "sha256:" + hashlib.sha256(config).hexdigest()
    state.storage.put(blob_key(digest), config)
    info = image_config.config_info(state.storage, digest)
    assert info["extra_attrs"] == {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Env": ["A=1"]},
    }
