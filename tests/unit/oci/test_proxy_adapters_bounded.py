"""The proxy cache keeps a bounded number of upstream adapters: a registry whose URL or
credential changes gets a new adapter, and the oldest are dropped past MAX_ADAPTERS."""

from __future__ import annotations

import threading
from collections import OrderedDict

from harbor_api.adapters import Endpoint
from harbor_api.services.oci.proxy_cache import MAX_ADAPTERS, ProxyCache, Upstream


def _upstream(n: int) -> Upstream:
    endpoint = Endpoint(url=f"http://registry-{n}.invalid", type="docker-registry")
    return Upstream(1, 1, endpoint, "library/x", False, None)


def _cache() -> ProxyCache:
    cache = ProxyCache.__new__(ProxyCache)  # only the adapter table is exercised
    cache._lock = threading.Lock()
    cache._adapters = OrderedDict()
    return cache


def test_adapters_are_reused_per_endpoint_and_bounded():
    cache = _cache()
    first = cache._adapter(_upstream(0))
    for n in range(1, MAX_ADAPTERS * 3):
        cache._adapter(_upstream(n))
        assert cache._adapter(_upstream(0)) is first  # in use: kept, and the same one
    assert len(cache._adapters) == MAX_ADAPTERS
