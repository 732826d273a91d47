"""Harbor's architecture, checked: CNCF Distribution configured for token authentication
trusts the tokens our token service issues (libtrust ``kid``, ``x5c`` chain, claims), and
enforces exactly the access our RBAC granted. This is also how ``scripts/bench`` runs its
``distribution+token`` baseline."""

from __future__ import annotations

import uuid

import pytest

from tests.support.clients import ApiClient
from tests.support.images import OciLayout
from tests.support.registry_clients import distribution_registry, run, skopeo_copy
from tests.support.servers import ADMIN_PASSWORD, running_server

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TOKEN_AUTH = """\
auth:
  token:
    realm: {realm}
    service: harbor-registry
    issuer: harbor-token-issuer
    rootcertbundle: {certificate}
"""


def test_distribution_accepts_our_tokens_and_their_scopes(tmp_path):
    with running_server(tmp_path) as ours:
        admin = ApiClient(ours.url, ("admin", ADMIN_PASSWORD))
        project = f"dist-{uuid.uuid4().hex[:8]}"
        assert (
            admin.post(
                "/projects", json={"project_name": project, "metadata": {"public": "false"}}
            ).status_code
            == 201
        )
        users = {}
        for role in (2, 3):  # developer, guest
            name, password = f"u{role}-{uuid.uuid4().hex[:6]}", "Dist-" + uuid.uuid4().hex[:8]
            assert (
                admin.post(
                    "/users",
                    json={
                        "username": name,
                        "password": password,
                        "email": f"{name}@example.com",
                        "realname": name,
                    },
                ).status_code
                == 201
            )
            assert (
                admin.post(
                    f"/projects/{project}/members",
                    headers={"X-Is-Resource-Name": "true"},
                    json={"role_id": role, "member_user": {"username": name}},
                ).status_code
                == 201
            )
            users[role] = f"{name}:{password}"
        config = TOKEN_AUTH.format(
            realm=f"{ours.url}/service/token",
            certificate=ours.data_dir / "token" / "certificate.pem",
        )
        layout = OciLayout(tmp_path / "layout")
        layout.add_image("v1", layers=2)
        with distribution_registry(tmp_path, config) as distribution:
            target = f"docker://{distribution.host}/{project}/app:v1"
            skopeo_copy(f"oci:{layout.path}:v1", target, dest_creds=users[2])
            pulled = tmp_path / "pulled"
            skopeo_copy(target, f"oci:{pulled}:v1", src_creds=users[3])  # guests pull
            with pytest.raises(AssertionError, match="(?i)denied|unauthorized|authentication"):
                skopeo_copy(
                    f"oci:{layout.path}:v1",
                    f"docker://{distribution.host}/{project}/app:guest",
                    dest_creds=users[3],
                )  # but do not push
            with pytest.raises(AssertionError, match="(?i)denied|unauthorized|authentication"):
                run(
                    [
                        "skopeo",
                        "inspect",
                        "--tls-verify=false",
                        "--creds",
                        f"nobody:{uuid.uuid4().hex}",
                        f"docker://{distribution.host}/{project}/app:v1",
                    ]
                )
