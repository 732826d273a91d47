"""The ``harbor`` adapter: Harbor and harbor-api. Blobs and manifests go through the
Distribution API like any registry; namespaces (projects), repositories and artifacts are
listed through Harbor's management API (``/api/v2.0``), which also creates a missing
destination project and removes single tags."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

from harbor_api.adapters.base import (
    AdapterError,
    AdapterInfo,
    Artifact,
    AuthenticationError,
    FilterStyle,
)
from harbor_api.adapters.distribution import PAGE_SIZE, DistributionAdapter
from harbor_api.adapters.patterns import matches
from harbor_api.adapters.transport import raise_for_status

API = "/api/v2.0"


def _repo_path(repository: str) -> str:
    """``/projects/<p>/repositories/<r>`` with ``r`` encoded twice, as Harbor wants it."""
    project, _, rest = repository.partition("/")
    return (
        f"/projects/{quote(project, safe='')}/repositories/{quote(quote(rest, safe=''), safe='')}"
    )


class HarborAdapter(DistributionAdapter):
    info = AdapterInfo(
        type="harbor",
        description="Harbor or harbor-api: projects, repositories and artifacts through "
        "the management API",
        supported_resource_filters=(
            FilterStyle("name", "input"),
            FilterStyle("tag", "input"),
            FilterStyle("label", "list"),
            FilterStyle("resource", "radio", ("image", "artifact")),
        ),
        supported_triggers=("manual", "scheduled", "event_based"),
    )

    def health_check(self) -> None:
        """``/api/v2.0/ping`` must answer, then the credential must sign in
        (``/users/current``; robot accounts, which have no user, pass through ``/v2/``)."""
        response = self.http.request("GET", f"{API}/ping")
        if response.status_code != 200:
            raise AdapterError(
                f"{self.endpoint.url}{API}/ping answered {response.status_code}; is this a Harbor?",
                response.status_code,
            )
        if self.http.basic_auth is None:
            return
        cred = self.endpoint.credential
        if cred is not None and cred.access_key.startswith("robot$"):
            super().health_check()
            return
        response = self.http.request("GET", f"{API}/users/current", basic=True)
        if response.status_code in (401, 403):
            raise AuthenticationError(
                f"{self.endpoint.url} refused the credential ({response.status_code})",
                response.status_code,
            )
        raise_for_status(response, f"GET {API}/users/current")

    def _api_pages(self, path: str, params: str = "") -> Iterator[dict]:
        page = 1
        while True:
            separator = "&" if params else ""
            response = self.http.request(
                "GET",
                f"{API}{path}?{params}{separator}page={page}&page_size={PAGE_SIZE}",
                basic=True,
            )
            raise_for_status(response, f"GET {API}{path}")
            items = response.json() or []
            yield from items
            total = int(response.headers.get("x-total-count") or 0)
            if len(items) < PAGE_SIZE or (total and page * PAGE_SIZE >= total):
                return
            page += 1

    def list_namespaces(self, pattern: str | None = None) -> list[str]:
        names = (p["name"] for p in self._api_pages("/projects"))
        return sorted(n for n in names if matches(pattern, n))

    def list_repositories(self, pattern: str | None = None) -> list[str]:
        names: list[str] = []
        for project in self.list_namespaces():
            names += [
                r["name"]
                for r in self._api_pages(f"/projects/{quote(project, safe='')}/repositories")
            ]
        return sorted(n for n in names if matches(pattern, n))

    def list_artifacts(self, repository: str, tag_pattern: str | None = None) -> list[Artifact]:
        found = []
        for item in self._api_pages(
            f"{_repo_path(repository)}/artifacts", "with_tag=true&with_label=true"
        ):
            tags = tuple(t["name"] for t in item.get("tags") or [])
            if tag_pattern and not any(matches(tag_pattern, t) for t in tags):
                continue
            found.append(
                Artifact(
                    repository,
                    item["digest"],
                    item.get("manifest_media_type") or item.get("media_type", ""),
                    tags,
                    tuple(lb["name"] for lb in item.get("labels") or []),
                )
            )
        return found

    def create_namespace(self, name: str) -> bool:
        response = self.http.request(
            "POST",
            f"{API}/projects",
            basic=True,
            json_body={"project_name": name, "metadata": {"public": "false"}},
        )
        if response.status_code == 409:
            return False
        raise_for_status(response, f"create project {name}")
        return True

    def delete_tag(self, repository: str, tag: str) -> None:
        response = self.http.request(
            "DELETE",
            f"{API}{_repo_path(repository)}/artifacts/{quote(tag)}/tags/{quote(tag)}",
            basic=True,
        )
        raise_for_status(response, f"delete tag {repository}:{tag}")
