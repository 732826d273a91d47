"""The token service's signing key: an RSA key and a self-signed certificate for ``x5c``.

Generated once into ``<data_dir>/token/`` on first start (written atomically, so several
workers starting together agree on one key), or read from the paths configured in
``token_private_key`` / ``token_certificate``. The key id is the Distribution token
specification's libtrust form: base32 of the first 240 bits of the SHA-256 of the DER
SubjectPublicKeyInfo, in twelve groups of four characters joined by ``:``.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from harbor_api.settings import ConfigError, Settings

KEY_FILE = "private_key.pem"
CERT_FILE = "certificate.pem"


@dataclass(frozen=True)
class ServiceKey:
    private_key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    kid: str

    @functools.cached_property
    def public_key(self) -> rsa.RSAPublicKey:
        return self.private_key.public_key()

    @functools.cached_property
    def x5c(self) -> list[str]:
        """The certificate chain for the JWS header (base64 DER, leaf first)."""
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        return [base64.b64encode(der).decode()]

    @functools.cached_property
    def state_key(self) -> bytes:
        """A MAC key derived from the private key (so every worker has the same one): it
        seals the account state a token is bound to, which must not reveal stored hashes."""
        der = self.private_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return hashlib.sha256(b"harbor-account-state\0" + der).digest()


def libtrust_kid(public_key: rsa.RSAPublicKey) -> str:
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    encoded = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode()  # 240 bits
    return ":".join(encoded[i : i + 4] for i in range(0, 48, 4))


def load_service_key(settings: Settings) -> ServiceKey:
    """The configured key and certificate, or the generated ones (created when missing)."""
    key_path = getattr(settings, "token_private_key", None)
    cert_path = getattr(settings, "token_certificate", None)
    if key_path:
        key = _read_key(Path(key_path))
        cert = _read_cert(Path(cert_path)) if cert_path else _self_signed(key)
        if not _certifies(cert, key):
            raise ConfigError("setting token_certificate does not match token_private_key")
        return ServiceKey(key, cert, libtrust_kid(key.public_key()))
    directory = settings.data_dir / "token"
    directory.mkdir(parents=True, exist_ok=True)
    key_file, cert_file = directory / KEY_FILE, directory / CERT_FILE
    if not key_file.exists():
        _write_once(
            key_file, _pem_key(rsa.generate_private_key(public_exponent=65537, key_size=2048))
        )
    key = _read_key(key_file)
    if not cert_file.exists():
        _write_once(cert_file, _self_signed(key).public_bytes(serialization.Encoding.PEM))
    cert = _read_cert(cert_file)
    if not _certifies(cert, key):
        cert = _self_signed(key)  # a stale certificate next to a replaced key
    return ServiceKey(key, cert, libtrust_kid(key.public_key()))


def _certifies(cert: x509.Certificate, key: rsa.RSAPrivateKey) -> bool:
    """Whether ``cert`` holds ``key``'s public key."""
    public = cert.public_key()
    return (
        isinstance(public, rsa.RSAPublicKey)
        and public.public_numbers() == key.public_key().public_numbers()
    )


def _pem_key(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write_once(path: Path, content: bytes) -> None:
    """Write ``path`` atomically unless it exists; the first writer wins."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, content)
        os.fsync(fd)
        os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)


def _read_key(path: Path) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise ConfigError(f"setting token_private_key: file {path} does not exist") from None
    except ValueError as exc:
        raise ConfigError(f"setting token_private_key: {path} is not a PEM key: {exc}") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(f"setting token_private_key: {path} must hold an RSA key")
    return key


def _read_cert(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except FileNotFoundError:
        raise ConfigError(f"setting token_certificate: file {path} does not exist") from None
    except ValueError as exc:
        raise ConfigError(
            f"setting token_certificate: {path} is not a PEM certificate: {exc}"
        ) from None


def _self_signed(key: rsa.RSAPrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "harbor-token-issuer")])
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
