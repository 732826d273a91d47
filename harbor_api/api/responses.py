"""Responses as Harbor sends them: JSON written compactly (Go's encoder; clients match
substrings of bodies), bodiless responses without a JSON content type (clients such as
``harborapi`` try to parse a body when the content type says JSON)."""

from __future__ import annotations

import json

from connexion.jsonifier import Jsonifier
from starlette.responses import Response

from harbor_api.errors import COMPACT


def jsonifier() -> Jsonifier:
    """Connexion's serializer for every JSON body it writes."""
    return Jsonifier(json, **COMPACT)


def empty(status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status_code=status, headers=headers or {})


def created(location: str) -> Response:
    return empty(201, {"Location": location})
