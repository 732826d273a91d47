"""The verified-token memory: same answers as a full verification, never for bad tokens."""

from __future__ import annotations

import time

from harbor_api.auth import tokens
from harbor_api.auth.keys import ServiceKey
from harbor_api.auth.token_cache import VerifiedTokenCache


def _token(key: ServiceKey, seconds: int = 300) -> str:
    scopes = tokens.parse_scopes(["repository:library/a:pull"])
    return tokens.issue(key, "alice", scopes, seconds).token


def test_a_remembered_token_gives_the_verified_claims(key):
    cache = VerifiedTokenCache()
    token = _token(key)
    first = cache.verify(key, token)
    assert first == tokens.verify(key, token) and first is not None
    assert cache.verify(key, token) is first  # the second call is served from memory


def test_bad_tokens_are_refused_every_time(key, other_key):
    cache = VerifiedTokenCache()
    token = _token(key)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for _ in range(2):
        assert cache.verify(key, forged) is None
        assert cache.verify(other_key, token) is None  # the key is part of the slot


def test_entries_end_at_the_ttl_and_the_size_is_bounded(key):
    cache = VerifiedTokenCache(ttl=0.0, size=2)
    token = _token(key)
    first = cache.verify(key, token)
    assert cache.verify(key, token) is not first  # ttl over: verified again
    for _ in range(5):
        cache.verify(key, _token(key, seconds=300 + _))
    assert len(cache._entries) <= 2


def test_an_expired_token_is_not_served_from_memory(key):
    cache = VerifiedTokenCache(ttl=60.0)
    token = _token(key)
    verified = cache.verify(key, token)
    slot, (entry, until, _exp) = next(iter(cache._entries.items()))
    cache._entries[slot] = (entry, until, time.time() - 1)  # as if exp had passed
    assert cache.verify(key, token) == verified  # re-verified (still valid for pyjwt)
    assert cache._entries[slot][2] > time.time()
