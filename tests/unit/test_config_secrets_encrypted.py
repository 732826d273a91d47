"""Configuration secrets are stored encrypted with the credential key; a value stored in
clear before that is still read, and encrypted at start-up (``harbor-api`` prepare)."""

import json

from harbor_api.auth.credential_cipher import load_credential_cipher
from harbor_api.db import config_store
from harbor_api.db.migrate import upgrade
from harbor_api.db.models import ConfigEntry
from harbor_api.db.session import Database
from harbor_api.settings import Settings


def _stored(db: Database, key: str):
    with db.read() as s:
        return json.loads(s.get(ConfigEntry, key).value)


def test_clear_secrets_are_read_then_encrypted(tmp_path):
    settings = Settings(data_dir=tmp_path)
    db = Database(settings.resolved_database_url)
    try:
        upgrade(db.engine)
        config_store.store(db, {"ldap_search_password": "old-Clear-1", "ldap_url": "ldap://x"})
        assert _stored(db, "ldap_search_password") == "old-Clear-1"  # no cipher yet
        config_store.protect_secrets(db, load_credential_cipher(settings))
        assert config_store.effective(db)["ldap_search_password"] == "old-Clear-1"
        config_store.encrypt_clear_secrets(db)
        assert "old-Clear-1" not in _stored(db, "ldap_search_password")
        assert _stored(db, "ldap_url") == "ldap://x"
        assert config_store.effective(db)["ldap_search_password"] == "old-Clear-1"
        config_store.store(db, {"ldap_search_password": "new-Secret-2"})
        assert "new-Secret-2" not in _stored(db, "ldap_search_password")
        assert config_store.effective(db)["ldap_search_password"] == "new-Secret-2"
        config_store.store(db, {"ldap_search_password": ""})
        assert config_store.effective(db)["ldap_search_password"] == ""
    finally:
        db.dispose()
