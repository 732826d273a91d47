"""The key that encrypts stored credentials (registry endpoint secrets) at rest.

A Fernet key (AES-128-CBC with an HMAC-SHA256, from ``cryptography``) generated once into
``<data_dir>/token/credential.key`` beside the token signing key, written atomically so
workers starting together agree on one key; ``harbor-api backup`` archives that directory,
so a restored server still reads its stored secrets. The database alone never reveals a
secret: a stolen dump without the key file yields only ciphertext.
"""

from __future__ import annotations

import functools
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from harbor_api.auth.keys import _write_once
from harbor_api.settings import ConfigError, Settings

KEY_FILE = "credential.key"


class CredentialCipher:
    """Encrypts and decrypts short secrets; an empty secret stays empty."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def encrypt(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode() if secret else ""

    def decrypt(self, stored: str) -> str:
        if not stored:
            return ""
        try:
            return self._fernet.decrypt(stored.encode()).decode()
        except InvalidToken:
            raise ConfigError(
                "a stored credential does not decrypt with "
                f"token/{KEY_FILE}: was the key file replaced?"
            ) from None


def load_credential_cipher(settings: Settings) -> CredentialCipher:
    """The data directory's cipher, its key generated on first use."""
    return _cipher_for(settings.data_dir.resolve())


@functools.lru_cache(maxsize=8)
def _cipher_for(data_dir: Path) -> CredentialCipher:
    directory = data_dir / "token"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / KEY_FILE
    if not path.exists():
        _write_once(path, Fernet.generate_key())
    try:
        return CredentialCipher(path.read_bytes().strip())
    except ValueError:
        raise ConfigError(f"{path} is not a credential key (32 url-safe base64 bytes)") from None
