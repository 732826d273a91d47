"""User groups over the API (without LDAP: DNs are only checked for syntax)."""

import pytest

from tests.conftest import unique

pytestmark = pytest.mark.api


def test_bodiless_answers_carry_no_json_content_type(admin_client):
    """Harbor answers create/update/delete without a body and without a JSON content type
    (clients such as harborapi parse a body whenever the type says JSON)."""
    name = unique("grp")
    r = admin_client.post(
        "/usergroups",
        json={"group_name": name, "group_type": 1, "ldap_group_dn": f"cn={name},dc=example,dc=com"},
    )
    assert r.status_code == 201, r.text
    assert r.content == b"" and "json" not in r.headers.get("Content-Type", "")
    group_id = int(r.headers["Location"].rsplit("/", 1)[1])
    r = admin_client.put(f"/usergroups/{group_id}", json={"group_name": name + "-x"})
    assert r.status_code == 200, r.text
    assert r.content == b"" and "json" not in r.headers.get("Content-Type", "")
    assert admin_client.get(f"/usergroups/{group_id}").json()["group_name"] == name + "-x"
    r = admin_client.delete(f"/usergroups/{group_id}")
    assert r.status_code == 200, r.text
    assert r.content == b"" and "json" not in r.headers.get("Content-Type", "")
    assert admin_client.get(f"/usergroups/{group_id}").status_code == 404
