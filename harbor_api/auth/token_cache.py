"""A memory of registry Bearer tokens whose signature and claims were already verified.

Checking a token's RS256 signature costs about a millisecond, and clients present the same
token for every request of a pull or push. A token is immutable, so the outcome of the
signature, key id, algorithm, audience and issuer checks cannot change: it is remembered
(keyed by a SHA-256 of the token and the key id; the token itself is not kept) until the
token's ``exp`` or ``ttl`` seconds, whichever comes first. Failures are never remembered.
Everything that CAN change (subject still active, project not recreated) is still checked
on every request by the caller.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections import OrderedDict

from harbor_api.auth import tokens
from harbor_api.auth.keys import ServiceKey

DEFAULT_TTL = 60.0
DEFAULT_SIZE = 4096


def slot_of(key: ServiceKey, token: str) -> bytes:
    """Where a token's entries are kept (a SHA-256 of it and the key id, never the token)."""
    return hashlib.sha256(f"{key.kid}\0{token}".encode()).digest()


def expiry(token: str) -> float | None:
    """The ``exp`` claim of a token whose signature was just verified."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"])
    except (IndexError, ValueError, KeyError, TypeError):
        return None


class VerifiedTokenCache:
    """``verify(key, token)`` as :func:`harbor_api.auth.tokens.verify`, with a bounded LRU."""

    def __init__(self, ttl: float = DEFAULT_TTL, size: int = DEFAULT_SIZE) -> None:
        self.ttl, self.size = ttl, size
        self._entries: OrderedDict[bytes, tuple[tokens.VerifiedToken, float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def verify(
        self, key: ServiceKey, token: str, slot: bytes | None = None
    ) -> tokens.VerifiedToken | None:
        """``slot``: :func:`slot_of` the token, when the caller has it already."""
        slot = slot or slot_of(key, token)
        now = time.time()
        with self._lock:
            entry = self._entries.get(slot)
            if entry is not None:
                cached, cached_until, cached_expires = entry
                if now < cached_expires and time.monotonic() < cached_until:
                    self._entries.move_to_end(slot)
                    return cached
                del self._entries[slot]
        verified = tokens.verify(key, token)
        expires = expiry(token) if verified is not None else None
        if verified is None or expires is None:
            return verified
        until = time.monotonic() + self.ttl
        with self._lock:
            self._entries[slot] = (verified, until, expires)
            self._entries.move_to_end(slot)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return verified
