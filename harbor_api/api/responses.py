"""Bodiless responses as Harbor sends them: no JSON content type (clients such as
``harborapi`` try to parse a body when the content type says JSON)."""

from __future__ import annotations

from starlette.responses import Response


def empty(status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status_code=status, headers=headers or {})


def created(location: str) -> Response:
    return empty(201, {"Location": location})
