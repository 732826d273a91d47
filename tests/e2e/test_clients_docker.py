"""The real Docker engine (dockerd + docker CLI of the docker.io package) against our server.

One private daemon serves the module (``dockerd`` fixture); every test's CLI has its own
``DOCKER_CONFIG``, so a login in one test is never used by another. Images are built
locally from OCI layouts (no internet): ``docker load`` of a docker-archive.

Plain HTTP works because dockerd treats 127.0.0.0/8 as insecure registries. The HTTPS test
names the server ``<name>.test`` (reached through a CONNECT proxy, see
``tests/support/connect_proxy.py``): for a loopback address dockerd would skip certificate
verification and never read ``certs.d``, so the CA file would prove nothing.
"""

from __future__ import annotations

import re
import uuid

import pytest

from tests.support.clients import ApiClient
from tests.support.dockerd import DockerClient, trusted_ca
from tests.support.images import OciLayout
from tests.support.registry_clients import ADMIN, MANIFEST_ACCEPT, Registry
from tests.support.servers import running_server
from tests.support.tls import make_server_certificate

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

MT_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MT_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"


def suffix() -> str:
    return uuid.uuid4().hex[:8]


def pushed_digest(output: str) -> str:
    """The digest ``docker push`` reports (``<tag>: digest: sha256:... size: N``)."""
    found = re.findall(r"digest: (sha256:[0-9a-f]{64}) size: \d+", output)
    assert len(found) == 1, output
    return found[0]


def api_call(registry: Registry, method: str, path: str, **kwargs):
    """One Harbor API request as admin, on a connection the server closes after it.

    (A kept-alive one lingers in this process until garbage collection, and the server's
    stop would wait for it.)"""
    with ApiClient(registry.server.url, ADMIN) as client:
        return client.request(method, path, headers={"Connection": "close"}, **kwargs)


def new_project(registry: Registry, public: bool) -> str:
    name = f"dk-{suffix()}"
    r = api_call(
        registry,
        "POST",
        "/projects",
        json={"project_name": name, "metadata": {"public": str(public).lower()}},
    )
    assert r.status_code == 201, r.text
    return name


def new_user(registry: Registry) -> tuple[str, str]:
    name, password = f"dk-{suffix()}", "D0cker-" + suffix()
    r = api_call(
        registry,
        "POST",
        "/users",
        json={
            "username": name,
            "email": f"{name}@example.com",
            "realname": name,
            "password": password,
        },
    )
    assert r.status_code == 201, r.text
    return name, password


def artifact_digest(registry: Registry, project: str, repo: str, reference: str) -> str:
    r = api_call(registry, "GET", f"/projects/{project}/repositories/{repo}/artifacts/{reference}")
    assert r.status_code == 200, r.text
    return r.json()["digest"]


def registry_digest(registry: Registry, repo: str, reference: str) -> str:
    head = registry.v2("HEAD", f"{repo}/manifests/{reference}", headers={"Accept": MANIFEST_ACCEPT})
    assert head.status_code == 200, head.status_code
    return head.headers["Docker-Content-Digest"]


def local_image(docker: DockerClient, tmp_path, ref: str, **kwargs):
    """Load a fresh two-layer image (unique content) into the daemon as ``ref``."""
    layout = OciLayout(tmp_path / f"layout-{suffix()}")
    image = layout.add_image("v1", layers=2, **kwargs)
    docker.load_layout(layout, "v1", ref, tmp_path)
    return image


# ------------------------------------------------------------------------- login, push, pull
def test_docker_login_push_pull_by_tag_and_digest_logout(harbor_registry, docker, tmp_path):
    registry, host = harbor_registry, harbor_registry.host
    name = f"dk-app-{suffix()}"
    repo = f"library/{name}"
    ref = f"{host}/{repo}:v1"
    image = local_image(docker, tmp_path, ref)
    assert docker.inspect(ref)["Id"] == image.config_digest

    refused = docker.fails(
        "login", "-u", "admin", "--password-stdin", host, input="not-the-password"
    )
    assert "unauthorized: invalid credentials" in refused, refused
    assert host not in docker.stored_auths()

    assert "Login Succeeded" in docker.login(host, *ADMIN)
    assert host in docker.stored_auths()

    digest = pushed_digest(docker("push", ref))
    assert registry_digest(registry, repo, "v1") == digest
    assert artifact_digest(registry, "library", name, "v1") == digest
    assert docker.repo_digest(ref, f"{host}/{repo}") == digest
    manifest = registry.manifest(repo, digest).json()
    assert manifest["mediaType"] == MT_DOCKER_MANIFEST
    assert manifest["config"]["digest"] == image.config_digest
    assert len(manifest["layers"]) == 2

    docker("rmi", ref)
    assert docker.run("image", "inspect", ref).returncode != 0
    pulled = docker("pull", ref)
    assert f"Digest: {digest}" in pulled and "Downloaded newer image" in pulled, pulled
    assert docker.inspect(ref)["Id"] == image.config_digest

    docker("rmi", ref)  # its last tag: the pulled image goes
    assert docker.run("image", "inspect", f"{host}/{repo}@{digest}").returncode != 0
    by_digest = f"{host}/{repo}@{digest}"
    assert f"Digest: {digest}" in docker("pull", by_digest)
    assert docker.inspect(by_digest)["Id"] == image.config_digest

    assert f"Removing login credentials for {host}" in docker("logout", host)
    assert host not in docker.stored_auths()
    docker("tag", by_digest, f"{host}/{repo}:anonymous")
    anonymous = docker.fails("push", f"{host}/{repo}:anonymous")
    assert re.search(r"unauthorized: \w", anonymous), anonymous
    assert registry.v2("HEAD", f"{repo}/manifests/anonymous").status_code == 404


def test_docker_push_into_a_missing_project_says_so(harbor_registry, docker, tmp_path):
    """Harbor answers ``project <name> not found``; 'insufficient scope' helps nobody."""
    host, missing = harbor_registry.host, f"nosuch-{suffix()}"
    ref = f"{host}/{missing}/app:v1"
    local_image(docker, tmp_path, ref)
    docker.login(host, *ADMIN)
    output = docker.fails("push", ref)
    assert f"project {missing} not found" in output, output
    assert api_call(harbor_registry, "HEAD", f"/projects?project_name={missing}").status_code == 404


# ------------------------------------------------------------------------- robot account
def test_docker_robot_account_login_push_pull(harbor_registry, docker, tmp_path):
    registry, host = harbor_registry, harbor_registry.host
    project = new_project(registry, public=False)
    r = api_call(
        registry,
        "POST",
        "/robots",
        json={
            "name": f"ci{suffix()}",
            "level": "project",
            "duration": -1,
            "permissions": [
                {
                    "kind": "project",
                    "namespace": project,
                    "access": [
                        {"resource": "repository", "action": "pull", "effect": "allow"},
                        {"resource": "repository", "action": "push", "effect": "allow"},
                    ],
                }
            ],
        },
    )
    assert r.status_code == 201, r.text
    robot, secret = r.json()["name"], r.json()["secret"]
    assert robot.startswith("robot$")

    ref = f"{host}/{project}/built:v1"
    image = local_image(docker, tmp_path, ref)
    assert "Login Succeeded" in docker.login(host, robot, secret)
    digest = pushed_digest(docker("push", ref))
    assert artifact_digest(registry, project, "built", "v1") == digest

    docker("rmi", ref)
    assert f"Digest: {digest}" in docker("pull", ref)
    assert docker.inspect(ref)["Id"] == image.config_digest

    outside = f"{host}/library/robot-{suffix()}:v1"  # the robot's grant covers one project
    docker("tag", ref, outside)
    denied = docker.fails("push", outside)
    assert re.search(r"(denied|unauthorized): \w", denied), denied


# ------------------------------------------------------------------------- private project
def private_project_with_an_image(
    registry: Registry, docker: DockerClient, tmp_path, repo: str
) -> tuple[str, str]:
    """A private project holding ``<project>/<repo>:v1`` pushed by admin; (project, digest)."""
    project = new_project(registry, public=False)
    ref = f"{registry.host}/{project}/{repo}:v1"
    local_image(docker, tmp_path, ref)
    docker.login(registry.host, *ADMIN)
    digest = pushed_digest(docker("push", ref))
    docker("rmi", ref)
    return project, digest


def test_docker_private_project_denies_a_non_member(harbor_registry, dockerd, docker, tmp_path):
    registry, host = harbor_registry, harbor_registry.host
    project, digest = private_project_with_an_image(registry, docker, tmp_path, "secret")
    missing = f"nosuch-{suffix()}"

    outsider = DockerClient(dockerd, tmp_path / "outsider-config")
    assert "Login Succeeded" in outsider.login(host, *new_user(registry))
    pull = outsider.fails("pull", f"{host}/{project}/secret:v1")
    assert re.search(r"(denied|unauthorized|name unknown): \w", pull), pull
    assert outsider.fails("pull", f"{host}/{project}/secret@{digest}")
    # the private project's answer is the answer for a project that does not exist
    nothing = outsider.fails("pull", f"{host}/{missing}/secret:v1")
    assert pull.replace(project, "<p>") == nothing.replace(missing, "<p>")

    mine = f"{host}/{project}/intruder:v1"
    local_image(outsider, tmp_path, mine)
    push = outsider.fails("push", mine)
    assert re.search(r"(denied|unauthorized|name unknown): \w", push), push
    assert registry.v2("HEAD", f"{project}/intruder/manifests/v1").status_code == 404
    outsider("tag", mine, f"{host}/{missing}/intruder:v1")
    nowhere = outsider.fails("push", f"{host}/{missing}/intruder:v1")
    assert push.replace(project, "<p>") == nowhere.replace(missing, "<p>")


def test_docker_tells_a_non_member_the_private_project_is_not_found(
    harbor_registry, dockerd, docker, tmp_path
):
    """Harbor's words for a project the caller cannot see (missing or private)."""
    registry, host = harbor_registry, harbor_registry.host
    project, _ = private_project_with_an_image(registry, docker, tmp_path, "kept")
    outsider = DockerClient(dockerd, tmp_path / "outsider-config")
    outsider.login(host, *new_user(registry))
    pull = outsider.fails("pull", f"{host}/{project}/kept:v1")
    assert f"project {project} not found" in pull, pull
    mine = f"{host}/{project}/other:v1"
    local_image(outsider, tmp_path, mine)
    push = outsider.fails("push", mine)
    assert f"project {project} not found" in push, push


def test_docker_push_without_the_right_names_the_repository_and_action(
    harbor_registry, dockerd, docker, tmp_path
):
    """Harbor: ``unauthorized to access repository: <repo>, action: push``, signed in or not."""
    registry, host = harbor_registry, harbor_registry.host
    repo = f"library/dk-refused-{suffix()}"  # public: everyone may pull, only members push
    ref = f"{host}/{repo}:v1"
    local_image(docker, tmp_path, ref)
    anonymous = docker.fails("push", ref)
    assert f"unauthorized to access repository: {repo}, action: push" in anonymous, anonymous
    docker.login(host, *new_user(registry))
    signed_in = docker.fails("push", ref)
    assert f"unauthorized to access repository: {repo}, action: push" in signed_in, signed_in


# ------------------------------------------------------------------------- multi-arch index
def test_docker_manifest_create_and_push_a_multi_arch_list(harbor_registry, docker, tmp_path):
    registry, host = harbor_registry, harbor_registry.host
    repo = f"library/dk-multi-{suffix()}"
    docker.login(host, *ADMIN)
    children = {}
    for arch in ("amd64", "arm64"):
        ref = f"{host}/{repo}:{arch}"
        image = local_image(docker, tmp_path, ref, arch=arch)
        children[arch] = (pushed_digest(docker("push", ref)), image)

    target = f"{host}/{repo}:multi"
    docker(
        "manifest",
        "create",
        "--insecure",
        target,
        *(f"{host}/{repo}@{digest}" for digest, _ in children.values()),
    )
    pushed = re.findall(
        r"sha256:[0-9a-f]{64}", docker("manifest", "push", "--insecure", "--purge", target)
    )
    assert len(pushed) == 1
    assert registry_digest(registry, repo, "multi") == pushed[0]

    listed = registry.manifest(repo, "multi").json()
    assert listed["mediaType"] == MT_DOCKER_LIST
    assert {(m["platform"]["architecture"], m["digest"]) for m in listed["manifests"]} == {
        (arch, digest) for arch, (digest, _) in children.items()
    }
    artifact = api_call(
        registry, "GET", f"/projects/library/repositories/{repo.split('/', 1)[1]}/artifacts/multi"
    ).json()
    assert artifact["digest"] == pushed[0]
    assert {ref["child_digest"] for ref in artifact["references"]} == {
        digest for digest, _ in children.values()
    }

    docker("rmi", *(f"{host}/{repo}:{arch}" for arch in children))
    docker("pull", "--platform", "linux/arm64", target)
    local = docker.inspect(target)
    assert local["Architecture"] == "arm64"
    assert local["Id"] == children["arm64"][1].config_digest


# ------------------------------------------------------------------------- HTTPS, private CA
# the harness's readiness probe does not verify; the test's own requests do
@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_docker_over_https_trusts_a_ca_from_certs_d(dockerd, docker, tmp_path, monkeypatch):
    for variable in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):  # they override verify=
        monkeypatch.delenv(variable, raising=False)
    name = f"harbor-{suffix()}.test"
    tls = make_server_certificate(tmp_path / "tls", [name, "127.0.0.1"])
    with running_server(
        tmp_path,
        extra_args=["--tls-cert", str(tls.cert), "--tls-key", str(tls.key)],
        scheme="https",
    ) as server:
        host = f"{name}:{server.port}"
        untrusted = docker.fails("login", "-u", "admin", "--password-stdin", host, input=ADMIN[1])
        assert "x509: certificate signed by unknown authority" in untrusted, untrusted

        with trusted_ca(host, tls.ca_cert):
            assert "Login Succeeded" in docker.login(host, *ADMIN)
            ref = f"{host}/library/tls-{suffix()}:v1"
            image = local_image(docker, tmp_path, ref)
            digest = pushed_digest(docker("push", ref))
            repo = ref.split("/", 2)[2].split(":")[0]
            with ApiClient(server.url, ADMIN) as client:
                client.verify = str(tls.ca_cert)
                found = client.get(
                    f"/projects/library/repositories/{repo}/artifacts/v1",
                    headers={"Connection": "close"},
                )  # see api_call
            assert found.status_code == 200 and found.json()["digest"] == digest
            docker("rmi", ref)
            assert f"Digest: {digest}" in docker("pull", f"{host}/library/{repo}@{digest}")
            assert docker.inspect(f"{host}/library/{repo}@{digest}")["Id"] == (image.config_digest)
