"""Review finding: with no ``external_url`` configured, the client's ``Host`` header is
copied unchecked into absolute URLs, the Bearer challenge's ``realm`` among them: a quote
in it breaks out of the quoted realm and adds parameters of the caller's choosing (a header
injection; behind a cache that ignores Host it is also a way to point clients' credentials
at another realm). A Host that is not ``host[:port]`` should be refused (400) or ignored
(the configured/default URL used)."""

import re

import pytest
import requests

pytestmark = pytest.mark.api

CHALLENGE = re.compile(r'^Bearer realm="[^"\s,]+",service="[^"]*"$')


@pytest.mark.parametrize(
    "host", ['a"b', 'evil.example", error="invalid_token', "evil.example/x?y=", "a b"]
)
def test_a_malformed_host_never_reaches_the_challenge(server, host):
    r = requests.get(f"{server.url}/v2/", headers={"Host": host}, timeout=10)
    if r.status_code == 400:
        return
    assert r.status_code == 401
    value = r.headers["WWW-Authenticate"]
    assert CHALLENGE.match(value), value
    assert host not in value, value
