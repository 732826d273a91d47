"""Reading registry challenges, and keeping secrets out of reprs."""

from harbor_api.adapters import Credential, Endpoint
from harbor_api.adapters.transport import TransportPool, parse_challenge


def test_bearer_challenge():
    challenge = parse_challenge(
        'Bearer realm="https://auth.example/token",service="registry.example",'
        'scope="repository:library/a:pull,push"'
    )
    assert challenge.scheme == "bearer"
    assert challenge.params == {
        "realm": "https://auth.example/token",
        "service": "registry.example",
        "scope": "repository:library/a:pull,push",
    }


def test_basic_challenge_and_garbage():
    assert parse_challenge('Basic realm="harbor-api"').scheme == "basic"
    assert parse_challenge("") is None


def test_credential_repr_hides_the_secret():
    endpoint = Endpoint(
        "https://r.example", "harbor", credential=Credential("basic", "robot$x", "the-secret")
    )
    assert "the-secret" not in repr(endpoint) and "robot$x" in repr(endpoint)


def test_the_pool_shares_one_transport_per_endpoint_and_closes_idle_ones():
    pool = TransportPool(idle_seconds=0.0)
    one = Endpoint("http://a.example", "harbor")
    other = Endpoint("http://a.example", "harbor", credential=Credential("basic", "u", "p"))
    with pool.lease(one) as first, pool.lease(one) as again, pool.lease(other) as elsewhere:
        assert first is again and elsewhere is not first  # the credential is part of the key
        with pool.lease(other):  # a sweep now leaves the leased ones open
            assert not first.client.is_closed
    with pool.lease(other):  # idle: the one of ``one`` is closed and forgotten
        assert first.client.is_closed
    with pool.lease(one) as fresh:
        assert fresh is not first and not fresh.client.is_closed
    pool.close()
    assert fresh.client.is_closed
