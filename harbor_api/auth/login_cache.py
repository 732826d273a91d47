"""A short memory of successful credential checks, so repeated logins skip the slow path.

Verifying a password costs a slow KDF on purpose (and an LDAP login costs two directory round
trips), while clients such as docker send the same credentials on every request. A success is
remembered for a while, keyed by an HMAC of the credentials under a per-process random key, so
neither the secret nor a plain hash of it is ever kept.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
import time
from collections import OrderedDict


class LoginCache:
    """Bounded, thread-safe, expiring map from credentials (the ``parts``) to a string."""

    def __init__(self, seconds: float = 60.0, size: int = 4096) -> None:
        self.seconds, self.size = seconds, size
        self._key = os.urandom(32)
        self._entries: OrderedDict[bytes, tuple[str, float]] = OrderedDict()
        self._lock = threading.Lock()

    def _slot(self, parts: tuple[str, ...]) -> bytes:
        return hmac.new(self._key, "\0".join(parts).encode(), hashlib.sha256).digest()

    def get(self, *parts: str) -> str | None:
        slot = self._slot(parts)
        with self._lock:
            entry = self._entries.get(slot)
            if entry is None:
                return None
            if entry[1] < time.monotonic():
                del self._entries[slot]
                return None
            return entry[0]

    def put(self, value: str, *parts: str) -> None:
        slot = self._slot(parts)
        with self._lock:
            self._entries[slot] = (value, time.monotonic() + self.seconds)
            self._entries.move_to_end(slot)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
