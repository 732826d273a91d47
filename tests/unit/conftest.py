"""Fixtures shared by the unit tests."""

from __future__ import annotations

import pytest

from harbor_api.auth.keys import ServiceKey, load_service_key
from harbor_api.settings import Settings


@pytest.fixture(scope="module")
def key(tmp_path_factory) -> ServiceKey:
    """A token service key, generated as on a first start."""
    return load_service_key(Settings(data_dir=tmp_path_factory.mktemp("key")))


@pytest.fixture(scope="module")
def other_key(tmp_path_factory) -> ServiceKey:
    """A second, unrelated key (tokens it signs must be refused)."""
    return load_service_key(Settings(data_dir=tmp_path_factory.mktemp("other")))
