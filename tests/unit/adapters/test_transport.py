"""Reading registry challenges, and keeping secrets out of reprs."""

from harbor_api.adapters import Credential, Endpoint
from harbor_api.adapters.transport import parse_challenge


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
