"""The ``docker-registry`` adapter: any registry that speaks the OCI Distribution API
(CNCF Distribution, Docker Hub, ...). Repositories come from ``/v2/_catalog``, tags from
``/v2/<name>/tags/list``, both followed page by page through their ``Link`` headers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from urllib.parse import quote

import httpx

from harbor_api.adapters.base import (
    Adapter,
    AdapterError,
    AdapterInfo,
    Artifact,
    BlobReader,
    BlobSource,
    FilterStyle,
    Manifest,
    ManifestHead,
    NotFoundOnRemoteError,
    Upload,
)
from harbor_api.adapters.patterns import matches
from harbor_api.adapters.transport import RegistryTransport, raise_for_status

MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
    ]
)
PAGE_SIZE = 100
STREAM_CHUNK = 1024 * 1024


def pull_scope(repository: str) -> str:
    return f"repository:{repository}:pull"


def push_scope(repository: str) -> str:
    return f"repository:{repository}:pull,push"


class DistributionAdapter(Adapter):
    info = AdapterInfo(
        type="docker-registry",
        description="Any registry implementing the OCI Distribution API",
        supported_resource_filters=(FilterStyle("name", "input"), FilterStyle("tag", "input")),
        supported_triggers=("manual", "scheduled"),
    )

    def __init__(self, endpoint, transport: RegistryTransport | None = None) -> None:
        """``transport``: connections and tokens shared with other adapters of the same
        endpoint (their owner closes them); by default this adapter's own."""
        super().__init__(endpoint)
        self._owns_transport = transport is None
        self.http = transport or RegistryTransport(endpoint)
        self._pushing: set[str] = set()

    def close(self) -> None:
        if self._owns_transport:
            self.http.close()

    def prepare_push(self, repository: str) -> None:
        """Reads of ``repository`` ask for the push scope too, so one token serves the
        whole copy into it (a pull,push token covers the HEADs)."""
        self._pushing.add(repository)

    def _read_scopes(self, repository: str) -> tuple[str, ...]:
        if repository in self._pushing:
            return (push_scope(repository),)
        return (pull_scope(repository),)

    # -- health -----------------------------------------------------------------------
    def health_check(self) -> None:
        """``GET /v2/`` with the credential: a Basic challenge is answered with it, a token
        challenge by asking the realm for a token (which checks the credential), then the
        base route must answer 200."""
        response = self.http.request("GET", "/v2/")
        if response.status_code == 401:
            raise AdapterError(f"{self.endpoint.url}/v2/ refused the credential (401)", 401)
        if response.status_code != 200:
            raise AdapterError(
                f"{self.endpoint.url}/v2/ answered {response.status_code}; is this a registry?",
                response.status_code,
            )

    # -- listing ----------------------------------------------------------------------
    def _pages(self, path: str, key: str, scopes: tuple[str, ...]) -> Iterator[str]:
        url: str | None = f"{path}?n={PAGE_SIZE}"
        while url:
            response = self.http.request("GET", url, scopes=scopes)
            raise_for_status(response, f"GET {path}")
            yield from response.json().get(key) or []
            url = _next_link(response)
            if url and not url.startswith(("http://", "https://", "/")):
                url = "/" + url

    def list_repositories(self, pattern: str | None = None) -> list[str]:
        names = self._pages("/v2/_catalog", "repositories", ("registry:catalog:*",))
        return sorted(n for n in names if matches(pattern, n))

    def list_namespaces(self, pattern: str | None = None) -> list[str]:
        spaces = {name.split("/", 1)[0] for name in self.list_repositories() if "/" in name}
        return sorted(s for s in spaces if matches(pattern, s))

    def create_namespace(self, name: str) -> bool:
        return False  # a Distribution namespace exists as soon as a repository is pushed

    def list_tags(self, repository: str, pattern: str | None = None) -> list[str]:
        tags = self._pages(f"/v2/{repository}/tags/list", "tags", (pull_scope(repository),))
        return sorted(t for t in tags if matches(pattern, t))

    def list_artifacts(self, repository: str, tag_pattern: str | None = None) -> list[Artifact]:
        by_digest: dict[str, tuple[str, list[str]]] = {}
        for tag in self.list_tags(repository, tag_pattern):
            head = self.head_manifest(repository, tag)
            if head is not None:
                by_digest.setdefault(head.digest, (head.media_type, []))[1].append(tag)
        return [
            Artifact(repository, digest, media_type, tuple(tags))
            for digest, (media_type, tags) in by_digest.items()
        ]

    # -- manifests --------------------------------------------------------------------
    def head_manifest(self, repository: str, reference: str) -> ManifestHead | None:
        response = self.http.request(
            "HEAD",
            f"/v2/{repository}/manifests/{reference}",
            scopes=self._read_scopes(repository),
            headers={"Accept": MANIFEST_TYPES},
        )
        if response.status_code == 404:
            return None
        raise_for_status(response, f"HEAD manifest {repository}:{reference}")
        return ManifestHead(
            response.headers.get("docker-content-digest", ""),
            response.headers.get("content-type", "").split(";")[0],
            int(response.headers.get("content-length") or 0),
        )

    def get_manifest(self, repository: str, reference: str) -> Manifest:
        response = self.http.request(
            "GET",
            f"/v2/{repository}/manifests/{reference}",
            scopes=(pull_scope(repository),),
            headers={"Accept": MANIFEST_TYPES},
        )
        raise_for_status(response, f"GET manifest {repository}:{reference}")
        return Manifest(
            response.content,
            response.headers.get("content-type", "").split(";")[0],
            response.headers.get("docker-content-digest", ""),
        )

    def put_manifest(self, repository: str, reference: str, content: bytes, media_type: str) -> str:
        response = self.http.request(
            "PUT",
            f"/v2/{repository}/manifests/{reference}",
            scopes=(push_scope(repository),),
            content=content,
            headers={"Content-Type": media_type},
        )
        raise_for_status(response, f"PUT manifest {repository}:{reference}")
        return response.headers.get("docker-content-digest", "")

    def delete_manifest(self, repository: str, digest: str) -> None:
        response = self.http.request(
            "DELETE",
            f"/v2/{repository}/manifests/{digest}",
            scopes=(f"repository:{repository}:delete",),
        )
        raise_for_status(response, f"DELETE manifest {repository}@{digest}")

    def delete_tag(self, repository: str, tag: str) -> None:
        """Distribution cannot untag: the manifest the tag points at is deleted (with every
        tag on it), which is what Harbor's adapter does too."""
        head = self.head_manifest(repository, tag)
        if head is None:
            raise NotFoundOnRemoteError(f"tag {repository}:{tag} not found", 404)
        self.delete_manifest(repository, head.digest)

    # -- blobs ------------------------------------------------------------------------
    def blob_exists(self, repository: str, digest: str) -> bool:
        response = self.http.request(
            "HEAD", f"/v2/{repository}/blobs/{digest}", scopes=self._read_scopes(repository)
        )
        if response.status_code == 404:
            return False
        raise_for_status(response, f"HEAD blob {repository}@{digest}")
        return True

    def mount_blob(self, repository: str, digest: str, from_repository: str) -> bool:
        """A cross-repository mount; False when the server declined (it then opened an
        upload, which is cancelled here)."""
        response = self.http.request(
            "POST",
            f"/v2/{repository}/blobs/uploads/?mount={quote(digest)}"
            f"&from={quote(from_repository, safe='')}",
            scopes=(push_scope(repository), pull_scope(from_repository)),
        )
        if response.status_code == 201:
            return True
        raise_for_status(response, f"mount {digest} into {repository}")
        if response.status_code == 202 and "location" in response.headers:
            self.http.request(
                "DELETE",
                self._location(response),
                scopes=(push_scope(repository), pull_scope(from_repository)),
            )
        return False

    @contextmanager
    def pull_blob(self, repository: str, digest: str, offset: int = 0) -> Iterator[BlobReader]:
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        with self.http.stream(
            "GET",
            f"/v2/{repository}/blobs/{digest}",
            scopes=(pull_scope(repository),),
            headers=headers,
        ) as response:
            if offset and response.status_code == 200:
                raise AdapterError(f"{self.endpoint.url} ignored the Range of blob {digest}")
            if response.status_code not in (200, 206):
                response.read()
                raise_for_status(response, f"GET blob {repository}@{digest}")
            size = int(response.headers.get("content-length") or 0)
            yield BlobReader(size, offset, response.iter_bytes(STREAM_CHUNK))

    def start_upload(self, repository: str) -> Upload:
        response = self.http.request(
            "POST", f"/v2/{repository}/blobs/uploads/", scopes=(push_scope(repository),)
        )
        raise_for_status(response, f"start upload to {repository}")
        return Upload(repository, self._location(response))

    def upload_offset(self, upload: Upload) -> int:
        """The bytes the server holds for ``upload`` (its ``Range: 0-<last>``)."""
        response = self.http.request(
            "GET", upload.location, scopes=(push_scope(upload.repository),)
        )
        raise_for_status(response, "upload status")
        last = response.headers.get("range", "").rpartition("-")[2]
        # Distribution writes "0-0" for an empty session (and for one byte: read as empty,
        # a chunk from 0 is then refused rather than a byte lost)
        upload.offset = int(last) + 1 if last.isdigit() and int(last) > 0 else 0
        if "location" in response.headers:
            upload.location = self._location(response)
        return upload.offset

    def push_blob(self, repository: str, digest: str, size: int, chunks: Iterable[bytes]) -> None:
        """Monolithic: one PUT streams the whole blob."""
        upload = self.start_upload(repository)
        self._finish(upload, digest, chunks, size)

    def push_blob_chunked(
        self,
        repository: str,
        digest: str,
        size: int,
        source: BlobSource,
        chunk_size: int,
        upload: Upload | None = None,
        on_chunk: Callable[[Upload], None] | None = None,
    ) -> int:
        """PATCH ``chunk_size`` slices; with ``upload`` given (an interrupted session), ask
        the server what it holds and continue from there instead of starting over (a
        session it no longer knows starts over)."""
        if upload is not None:
            try:
                self.upload_offset(upload)
            except NotFoundOnRemoteError:
                upload = None
        if upload is None:
            upload = self.start_upload(repository)
        started = upload.offset
        while upload.offset < size:
            length = min(chunk_size, size - upload.offset)
            with source(upload.offset) as reader:
                body = _take(reader.chunks, length)
                self._patch(upload, body, length)
            if on_chunk is not None:
                on_chunk(upload)
        self._finish(upload, digest, b"", 0)
        return started

    def _patch(self, upload: Upload, body: Iterator[bytes], length: int) -> None:
        end = upload.offset + length - 1
        response = self.http.request(
            "PATCH",
            upload.location,
            scopes=(push_scope(upload.repository),),
            content=body,
            replayable=False,
            headers={
                "Content-Type": "application/octet-stream",
                "Content-Range": f"{upload.offset}-{end}",
                "Content-Length": str(length),
            },
        )
        raise_for_status(response, f"PATCH upload to {upload.repository}")
        upload.location = self._location(response)
        upload.offset = end + 1

    def _finish(self, upload: Upload, digest: str, body, length: int) -> None:
        separator = "&" if "?" in upload.location else "?"
        response = self.http.request(
            "PUT",
            f"{upload.location}{separator}digest={quote(digest)}",
            scopes=(push_scope(upload.repository),),
            content=body,
            replayable=isinstance(body, bytes),
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(length)},
        )
        raise_for_status(response, f"PUT blob {digest} to {upload.repository}")

    def _location(self, response: httpx.Response) -> str:
        return str(response.request.url.join(response.headers["location"]))


def _take(chunks: Iterator[bytes], length: int) -> Iterator[bytes]:
    """The first ``length`` bytes of ``chunks``, as chunks."""
    remaining = length
    for chunk in chunks:
        if len(chunk) > remaining:
            chunk = chunk[:remaining]
        remaining -= len(chunk)
        yield chunk
        if remaining <= 0:
            return
    if remaining:
        raise AdapterError(f"the source ended {remaining} bytes early")


def _next_link(response: httpx.Response) -> str | None:
    link = response.headers.get("link", "")
    if 'rel="next"' not in link:
        return None
    return link.split(";", 1)[0].strip().strip("<>")
