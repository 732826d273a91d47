"""Bodiless responses without a Content-Type.

Harbor answers writes with an empty body and no JSON content type; clients such as
``harborapi`` try to parse any ``application/json`` response, so an empty body must not
claim to be JSON.
"""

from starlette.responses import Response


def empty(status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(status_code=status, headers=headers)
