"""Responses as Harbor sends them: JSON written compactly (Go's encoder; clients match
substrings of bodies), bodiless responses without a JSON content type (clients such as
``harborapi`` try to parse a body when the content type says JSON)."""

from __future__ import annotations

import datetime as dt
import json

from connexion.jsonifier import JSONEncoder, Jsonifier
from starlette.responses import Response

from harbor_api.errors import COMPACT
from harbor_api.services.formats import iso


class HarborJSONEncoder(JSONEncoder):
    """Datetimes a service hands over as they are read Harbor's way (``filters.iso``)."""

    def default(self, o):
        if isinstance(o, dt.datetime):
            return iso(o)
        return super().default(o)


def jsonifier() -> Jsonifier:
    """Connexion's serializer for every JSON body it writes."""
    return Jsonifier(json, cls=HarborJSONEncoder, **COMPACT)


def empty(status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status_code=status, headers=headers or {})


def created(location: str) -> Response:
    return empty(201, {"Location": location})
