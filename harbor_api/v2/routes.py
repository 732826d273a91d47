"""Path routing for /v2: which endpoint, which repository, which reference."""

from __future__ import annotations

import re
from dataclasses import dataclass

_ROUTE = re.compile(
    r"^/v2/(?P<name>.+?)/(?:"
    r"(?P<uploads>blobs/uploads)(?:/(?P<upload_id>[^/]*))?"
    r"|blobs/(?P<digest>[^/]+)"
    r"|manifests/(?P<reference>[^/]+)"
    r"|(?P<tags>tags/list)"
    r"|referrers/(?P<subject>[^/]+))$"
)


@dataclass(frozen=True)
class Route:
    endpoint: str  # base | catalog | blob | upload_start | upload | manifest | tags | referrers
    name: str = ""
    argument: str = ""


def match(path: str) -> Route | None:
    if path in ("/v2", "/v2/"):
        return Route("base")
    if path == "/v2/_catalog":
        return Route("catalog")
    found = _ROUTE.match(path)
    if found is None:
        return None
    name = found["name"]
    if found["uploads"]:
        upload_id = found["upload_id"] or ""
        return Route("upload", name, upload_id) if upload_id else Route("upload_start", name)
    if found["digest"] is not None:
        return Route("blob", name, found["digest"])
    if found["reference"] is not None:
        return Route("manifest", name, found["reference"])
    if found["tags"]:
        return Route("tags", name)
    return Route("referrers", name, found["subject"])
