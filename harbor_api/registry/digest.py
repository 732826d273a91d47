"""Content digests (``algorithm:hex``): parsing, verification and incremental hashing.

sha256 and sha512 are supported, as the OCI image specification registers them.
"""

from __future__ import annotations

import hashlib
import re
from typing import NamedTuple, Protocol

from harbor_api.errors import DigestInvalidError

HEX_LENGTH = {"sha256": 64, "sha512": 128}
DEFAULT_ALGORITHM = "sha256"
# The OCI grammar: algorithm-component ([+._-] algorithm-component)* ":" encoded
_GRAMMAR = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")


class Hasher(Protocol):
    """An incremental hash (what :func:`hashlib.new` returns)."""

    @property
    def name(self) -> str: ...

    def update(self, data: bytes | bytearray | memoryview, /) -> None: ...

    def digest(self) -> bytes: ...

    def hexdigest(self) -> str: ...

    def copy(self) -> Hasher: ...


class Digest(NamedTuple):
    algorithm: str
    hex: str

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"


def parse_digest(text: str) -> Digest:
    """Parse and validate ``text``; raise :class:`DigestInvalidError` when it is not a
    well-formed digest of a supported algorithm."""
    if not text or len(text) > 200 or not _GRAMMAR.match(text):
        raise DigestInvalidError(f"invalid digest {text[:80]!r}")
    algorithm, _, encoded = text.partition(":")
    length = HEX_LENGTH.get(algorithm)
    if length is None:
        raise DigestInvalidError(f"unsupported digest algorithm {algorithm[:20]!r}")
    if len(encoded) != length or not all(c in "0123456789abcdef" for c in encoded):
        raise DigestInvalidError(f"invalid {algorithm} digest {text[:80]!r}")
    return Digest(algorithm, encoded)


def is_digest(text: str) -> bool:
    try:
        parse_digest(text)
    except DigestInvalidError:
        return False
    return True


def new_hasher(algorithm: str = DEFAULT_ALGORITHM) -> Hasher:
    if algorithm not in HEX_LENGTH:
        raise DigestInvalidError(f"unsupported digest algorithm {algorithm!r}")
    return hashlib.new(algorithm)


def digest_of(data: bytes, algorithm: str = DEFAULT_ALGORITHM) -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def verify(data: bytes, expected: str) -> bool:
    parsed = parse_digest(expected)
    return hashlib.new(parsed.algorithm, data).hexdigest() == parsed.hex
