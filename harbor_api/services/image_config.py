"""The image config blob, read through the storage driver and cached by digest.

Configs are content-addressed, so a parsed config never goes stale: the cache holds the few
fields the API shows (``extra_attrs`` and the build history) for the most recently used
digests, and remembers misses so a list never retries a missing blob on every request.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from typing import Any

from harbor_api.registry.paths import blob_key

log = logging.getLogger(__name__)

MAX_CONFIG_BYTES = 4 * 1024 * 1024
CACHE_SIZE = 4096
_MISSING: dict[str, Any] = {}


class ConfigCache:
    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, storage: Any, digest: str) -> dict[str, Any]:
        with self._lock:
            if digest in self._items:
                self._items.move_to_end(digest)
                return self._items[digest]
        parsed = _load(storage, digest)
        with self._lock:
            self._items[digest] = parsed
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return parsed


_cache = ConfigCache()


def _load(storage: Any, digest: str) -> dict[str, Any]:
    if storage is None:
        return _MISSING
    try:
        key = blob_key(digest)
        if storage.stat(key).size > MAX_CONFIG_BYTES:
            return _MISSING
        document = json.loads(storage.get(key))
    except Exception as exc:  # a missing or unreadable config only hides optional fields
        log.debug("config %s unreadable: %s", digest, exc)
        return _MISSING
    if not isinstance(document, dict):
        return _MISSING
    config = document.get("config") if isinstance(document.get("config"), dict) else {}
    history = document.get("history") if isinstance(document.get("history"), list) else []
    return {
        "extra_attrs": {
            key: document.get(key)
            for key in ("architecture", "os", "created", "author", "variant")
            if document.get(key) is not None
        }
        | {"config": config},
        "history": history,
    }


def config_info(storage: Any, digest: str | None) -> dict[str, Any]:
    """``{"extra_attrs": {...}, "history": [...]}``, or {} when unavailable."""
    if not digest:
        return _MISSING
    return _cache.get(storage, digest)
