"""The credential key: generated once in the data directory, shared by every process that
loads it, and the only way back from what the database stores."""

import stat

import pytest

from harbor_api.auth import credential_cipher
from harbor_api.auth.credential_cipher import KEY_FILE, load_credential_cipher
from harbor_api.settings import ConfigError, Settings


def test_round_trip_and_key_file(tmp_path):
    cipher = load_credential_cipher(Settings(data_dir=tmp_path))
    stored = cipher.encrypt("p@ssw0rd")
    assert "p@ssw0rd" not in stored and stored != cipher.encrypt("p@ssw0rd")  # fresh IV
    assert cipher.decrypt(stored) == "p@ssw0rd"
    assert cipher.encrypt("") == "" and cipher.decrypt("") == ""
    key_file = tmp_path / "token" / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    credential_cipher._cipher_for.cache_clear()  # another process reads the same file
    assert load_credential_cipher(Settings(data_dir=tmp_path)).decrypt(stored) == "p@ssw0rd"


def test_another_key_cannot_decrypt(tmp_path):
    stored = load_credential_cipher(Settings(data_dir=tmp_path / "a")).encrypt("x")
    with pytest.raises(ConfigError, match="does not decrypt"):
        load_credential_cipher(Settings(data_dir=tmp_path / "b")).decrypt(stored)


def test_a_broken_key_file_is_a_config_error(tmp_path):
    (tmp_path / "token").mkdir()
    (tmp_path / "token" / KEY_FILE).write_text("not a key")
    with pytest.raises(ConfigError, match="not a credential key"):
        load_credential_cipher(Settings(data_dir=tmp_path))
