"""Real clients through the token service: skopeo, podman, oras-py and python-dxf (over TLS).

Each client meets the Bearer challenge of ``/v2/``, fetches a token from ``/service/token``
with its credentials (or none) and gets exactly what the caller's role or robot allows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
import subprocess
import uuid

import oras.client
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from dxf import DXF
from dxf.exceptions import DXFUnauthorizedError

from tests.support.clients import ApiClient
from tests.support.images import OciLayout
from tests.support.registry_clients import skopeo_copy
from tests.support.servers import ADMIN_PASSWORD, running_server

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ADMIN = ("admin", ADMIN_PASSWORD)


# ------------------------------------------------------------------------------ set-up
class Site:
    """One server with a private project, a public one and a few identities."""

    def __init__(self, url: str, verify=False):
        self.url = url
        self.host = url.split("://", 1)[1]
        self.admin = ApiClient(url, ADMIN)
        self.admin.verify = verify
        suffix = uuid.uuid4().hex[:8]
        self.private, self.public = f"tokpriv-{suffix}", f"tokpub-{suffix}"
        for name, public in ((self.private, "false"), (self.public, "true")):
            r = self.admin.post(
                "/projects", json={"project_name": name, "metadata": {"public": public}}
            )
            assert r.status_code == 201, r.text
        self.developer = self.user(2)
        self.guest = self.user(3)
        r = self.admin.post(
            "/robots",
            json={
                "name": f"puller{suffix}",
                "level": "project",
                "duration": -1,
                "permissions": [
                    {
                        "kind": "project",
                        "namespace": self.private,
                        "access": [{"resource": "repository", "action": "pull", "effect": "allow"}],
                    }
                ],
            },
        )
        assert r.status_code == 201, r.text
        self.robot = (r.json()["name"], r.json()["secret"])

    def user(self, role: int) -> tuple[str, str]:
        name, password = f"tok-{uuid.uuid4().hex[:8]}", "T0ken-" + uuid.uuid4().hex[:8]
        r = self.admin.post(
            "/users",
            json={
                "username": name,
                "email": f"{name}@example.com",
                "realname": name,
                "password": password,
            },
        )
        assert r.status_code == 201, r.text
        r = self.admin.post(
            f"/projects/{self.private}/members",
            json={"role_id": role, "member_user": {"username": name}},
        )
        assert r.status_code == 201, r.text
        return name, password


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("token-e2e")) as server:
        yield Site(server.url)


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    layout = OciLayout(tmp_path_factory.mktemp("token-layout"))
    image = layout.add_image("v1", layers=2)
    return layout, image


def creds(pair: tuple[str, str]) -> str:
    return ":".join(pair)


def skopeo_debug(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["skopeo", "--debug", *args], capture_output=True, text=True, timeout=300)


# ------------------------------------------------------------------------------ skopeo
def test_skopeo_private_project_with_credentials_uses_tokens(site, layout):
    path, image = layout
    ref = f"docker://{site.host}/{site.private}/app:v1"
    pushed = skopeo_debug(
        "copy",
        "--preserve-digests",
        "--dest-tls-verify=false",
        "--dest-creds",
        creds(site.developer),
        f"oci:{path.path}:v1",
        ref,
    )
    assert pushed.returncode == 0, pushed.stderr[-3000:]
    assert "/service/token?" in pushed.stderr  # the Bearer challenge was followed
    inspected = skopeo_debug(
        "inspect", "--raw", "--tls-verify=false", "--creds", creds(site.guest), ref
    )
    assert inspected.returncode == 0, inspected.stderr[-3000:]
    assert (
        "sha256:" + hashlib.sha256(inspected.stdout.encode()).hexdigest() == image.manifest_digest
    )
    anonymous = skopeo_debug("inspect", "--raw", "--tls-verify=false", "--no-creds", ref)
    assert anonymous.returncode != 0


def test_push_denied_to_guest(site, layout):
    path, _ = layout
    denied = skopeo_debug(
        "copy",
        "--dest-tls-verify=false",
        "--dest-creds",
        creds(site.guest),
        f"oci:{path.path}:v1",
        f"docker://{site.host}/{site.private}/g:v1",
    )
    assert denied.returncode != 0
    assert "unauthorized" in denied.stderr.lower() or "denied" in denied.stderr.lower()


def test_anonymous_pull_of_public_project(site, layout, tmp_path):
    path, image = layout
    ref = f"docker://{site.host}/{site.public}/app:v1"
    skopeo_copy(f"oci:{path.path}:v1", ref, dest_creds=creds(ADMIN))
    pulled = skopeo_debug(
        "copy",
        "--preserve-digests",
        "--src-tls-verify=false",
        "--src-no-creds",
        ref,
        f"oci:{tmp_path / 'out'}:v1",
    )
    assert pulled.returncode == 0, pulled.stderr[-3000:]
    assert "/service/token?" in pulled.stderr
    index = json.loads((tmp_path / "out" / "index.json").read_text())
    assert index["manifests"][0]["digest"] == image.manifest_digest


def test_robot_pulls_but_cannot_push(site, layout):
    path, image = layout
    ref = f"docker://{site.host}/{site.private}/app:v1"
    skopeo_copy(f"oci:{path.path}:v1", ref, dest_creds=creds(ADMIN))
    raw = skopeo_debug("inspect", "--raw", "--tls-verify=false", "--creds", creds(site.robot), ref)
    assert raw.returncode == 0, raw.stderr[-3000:]
    assert "sha256:" + hashlib.sha256(raw.stdout.encode()).hexdigest() == image.manifest_digest
    push = skopeo_debug(
        "copy",
        "--dest-tls-verify=false",
        "--dest-creds",
        creds(site.robot),
        f"oci:{path.path}:v1",
        f"docker://{site.host}/{site.private}/bot:v1",
    )
    assert push.returncode != 0


# ------------------------------------------------------------------------------ podman
def test_podman_login_push_pull_with_tokens(site, layout, podman, tmp_path):
    path, image = layout
    target = f"{site.host}/{site.private}/podman:v1"
    user, password = site.developer
    podman("login", "--tls-verify=false", "-u", user, "-p", password, site.host)
    podman("pull", "--tls-verify=false", f"oci:{path.path}:v1")
    podman("tag", image.config_digest.split(":")[1], target)
    podman("push", "--tls-verify=false", target)
    podman("rmi", "-f", target)
    podman("pull", "--tls-verify=false", target)
    listed = podman("images", "--format", "{{.Repository}}:{{.Tag}}")
    assert target in listed
    tags = requests.get(
        f"{site.url}/v2/{site.private}/podman/tags/list", auth=ADMIN, timeout=30
    ).json()["tags"]
    assert tags == ["v1"]
    podman("logout", site.host)
    with pytest.raises(AssertionError):
        podman("pull", "--tls-verify=false", target)


# ------------------------------------------------------------------------------ oras-py
def test_oras_push_and_pull_with_token_auth(site, tmp_path, monkeypatch):
    challenge = requests.get(f"{site.url}/v2/", timeout=30).headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    client = oras.client.OrasClient(
        hostname=site.host, insecure=True, tls_verify=False, auth_backend="token"
    )
    client.auth.set_basic_auth(*site.developer)
    monkeypatch.chdir(tmp_path)
    payload = uuid.uuid4().bytes * 1000
    (tmp_path / "artifact.bin").write_bytes(payload)
    target = f"{site.host}/{site.private}/oras:v1"
    pushed = client.push(target=target, files=["artifact.bin"], quiet=True)
    assert pushed.status_code == 201
    pulled = client.pull(target=target, outdir=str(tmp_path / "out"))
    assert [open(p, "rb").read() for p in pulled] == [payload]
    guest = oras.client.OrasClient(
        hostname=site.host, insecure=True, tls_verify=False, auth_backend="token"
    )
    guest.auth.set_basic_auth(*site.guest)
    with pytest.raises(Exception):  # noqa: B017 - oras-py raises plain errors on 401/403
        guest.push(
            target=f"{site.host}/{site.private}/oras:guest", files=["artifact.bin"], quiet=True
        )


# ------------------------------------------------------------------------------ TLS + dxf
def self_signed(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "tls.crt", tmp_path / "tls.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


# the harness's readiness probe does not verify; every request of the test itself does
@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_dxf_with_credentials_over_tls(tmp_path, monkeypatch):
    for variable in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):  # they override verify=
        monkeypatch.delenv(variable, raising=False)
    cert, key = self_signed(tmp_path)
    with running_server(
        tmp_path, extra_args=["--tls-cert", str(cert), "--tls-key", str(key)], scheme="https"
    ) as server:
        site = Site(server.url, verify=str(cert))
        challenge = requests.get(f"{server.url}/v2/", verify=str(cert), timeout=30)
        assert challenge.status_code == 401
        assert challenge.headers["WWW-Authenticate"] == (
            f'Bearer realm="https://{site.host}/service/token",service="harbor-registry"'
        )
        user, password = site.developer

        def login(dxf, response):
            dxf.authenticate(user, password, response=response)

        blob = tmp_path / "layer.bin"
        blob.write_bytes(uuid.uuid4().bytes * 4096)
        repo = f"{site.private}/dxf"
        with DXF(site.host, repo, auth=login, tlsverify=str(cert)) as dxf:
            # dxf's documented way to push: a token for the actions up front (a valid token
            # lacking an action is refused 401, as Harbor)
            dxf.authenticate(user, password, actions=["pull", "push"])
            digest = dxf.push_blob(str(blob))
            dxf.set_alias("v1", digest)
            assert dxf.list_aliases() == ["v1"]
            assert b"".join(dxf.pull_blob(digest)) == blob.read_bytes()
        upload = requests.post(
            f"{server.url}/v2/{repo}/blobs/uploads/",
            auth=site.developer,
            verify=str(cert),
            timeout=30,
        )
        assert upload.status_code == 202
        location = upload.headers["Location"]
        assert location.startswith(("/", f"https://{site.host}/")), location
        guest_user, guest_password = site.guest

        def guest_login(dxf, response):
            dxf.authenticate(guest_user, guest_password, response=response)

        with DXF(site.host, repo, auth=guest_login, tlsverify=str(cert)) as dxf:
            assert dxf.list_aliases() == ["v1"]
            dxf.authenticate(guest_user, guest_password, actions=["pull", "push"])
            other = tmp_path / "guest.bin"
            other.write_bytes(uuid.uuid4().bytes * 64)  # new content: dxf skips known blobs
            # Harbor's 401 for a refusal no token changes (dxf re-authenticates once, then
            # raises its unauthorized error)
            with pytest.raises(DXFUnauthorizedError):
                dxf.push_blob(str(other))
