"""Review finding: the login throttle counts per NFKC+lower-cased name, but a directory
matches names with its own rules: OpenLDAP's ``uid`` (caseIgnoreMatch) ignores leading and
trailing spaces and collapses inner runs, so ``"alice "``, ``" alice"``, ``"alice  "`` ...
all reach alice's bind while each has its own counter: unlimited guesses for an LDAP user.
"""

from __future__ import annotations

import pytest
import requests

from tests.support.clients import ApiClient
from tests.support.servers import ADMIN_PASSWORD, running_server
from tests.support.slapd import USERS, running_slapd

pytestmark = [pytest.mark.api, pytest.mark.slow]

WRONG = "Wr0ngGuess-not-the-password"


@pytest.fixture(scope="module")
def ldap_server(tmp_path_factory):
    with (
        running_slapd(tmp_path_factory.mktemp("slapd")) as directory,
        running_server(
            tmp_path_factory.mktemp("ldap-throttle"), extra_env={"HARBOR_LOGIN_LOCK_SECONDS": "600"}
        ) as srv,
    ):
        with ApiClient(srv.url, ("admin", ADMIN_PASSWORD)) as admin:
            r = admin.put("/configurations", json=directory.ldap_config())
            assert r.status_code == 200, r.text
        yield srv


def attempt(server, name: str, password: str) -> int:
    return requests.get(
        f"{server.url}/api/v2.0/users/current",
        auth=(name, password),
        timeout=30,
        headers={"Connection": "close"},
    ).status_code


def test_space_variants_of_a_directory_name_share_its_counter(ldap_server):
    alice = USERS["alice"]
    assert attempt(ldap_server, "alice", alice.password) == 200  # onboarded
    for spelling in ["alice ", " alice", "alice  ", "  alice", " alice "]:
        assert attempt(ldap_server, spelling, WRONG) == 401
    # five failures on what the directory sees as one name: alice is locked now
    assert attempt(ldap_server, "alice", alice.password) == 401


def test_a_space_variant_is_not_a_second_way_in(ldap_server):
    """What the throttle counts and what the directory matches must be the same name:
    either refuse names with leading/trailing/double spaces, or key the counter on the
    matched account."""
    bob = USERS["bob"]
    assert attempt(ldap_server, "bob ", bob.password) != 200
