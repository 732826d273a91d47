"""One delete-artifact rule on both edges: ``/v2`` DELETE by digest and the API's artifact
DELETE refuse a manifest an index references, and remove an index with its children and
accessories, with the same outcome."""

import pytest

pytestmark = pytest.mark.api


def _artifacts(project: str, repo: str) -> str:
    return f"/projects/{project}/repositories/{repo.replace('/', '%252F')}/artifacts"


def _delete(edge: str, admin_client, pusher, project: str, repo: str, digest: str):
    """(status, error message or None) of deleting ``digest`` through ``edge``."""
    if edge == "v2":
        r = pusher.http.delete(f"{pusher.base}/v2/{project}/{repo}/manifests/{digest}")
        ok = 202
    else:
        r = admin_client.delete(f"{_artifacts(project, repo)}/{digest}")
        ok = 200
    if r.status_code == ok:
        return "deleted", None
    return r.status_code, r.json()["errors"][0]["message"]


def _outcome(edge: str, admin_client, pusher, project: str) -> dict:
    repo = f"{edge}/multi"
    index = pusher.index(f"{project}/{repo}", "latest")
    signature = pusher.signature(f"{project}/{repo}", index.digest)
    child = index.children[0].digest
    url = _artifacts(project, repo)
    outcome = {
        "child": _delete(edge, admin_client, pusher, project, repo, child),
        "child kept": admin_client.get(f"{url}/{child}").status_code,
        "index": _delete(edge, admin_client, pusher, project, repo, index.digest),
    }
    outcome["after"] = sorted(
        [
            admin_client.get(f"{url}/{digest}").status_code
            for digest in (index.digest, child, index.children[1].digest, signature)
        ]
    )
    outcome["listed"] = admin_client.get(url).json()
    if outcome["child"][1]:
        outcome["child"] = (outcome["child"][0], outcome["child"][1].replace(child, "<d>"))
    return outcome


def test_v2_and_the_api_share_the_delete_artifact_rule(admin_client, project, pusher):
    v2 = _outcome("v2", admin_client, pusher, project)
    api = _outcome("api", admin_client, pusher, project)
    assert v2 == api
    assert v2["child"] == (400, "artifact <d> is referenced by an index; delete the index first")
    assert v2["child kept"] == 200 and v2["index"] == ("deleted", None)
    assert v2["after"] == [404, 404, 404, 404] and v2["listed"] == []
