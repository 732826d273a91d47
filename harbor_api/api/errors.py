"""Render errors raised under ``/api/v2.0`` (ours and Connexion's) as Harbor's envelope."""

from __future__ import annotations

import logging

from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from sqlalchemy.exc import DataError, SQLAlchemyError
from starlette.exceptions import HTTPException

from harbor_api.api.allow import AllowedMethods
from harbor_api.errors import HarborError, api_error_body, public_message
from harbor_api.faults import translate

log = logging.getLogger("harbor_api.api")

_STATUS_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "BAD_REQUEST",
    409: "CONFLICT",
    412: "PRECONDITION",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "UNPROCESSABLE_ENTITY",
}


def _response(status: int, code: str, message: str, headers=None) -> ConnexionResponse:
    return ConnexionResponse(
        status_code=status,
        body=api_error_body(code, message),
        content_type="application/json",
        headers=headers or {},
    )


def harbor_error(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    assert isinstance(exc, HarborError)
    if exc.status >= 500:
        log.error("request failed: %s", exc, exc_info=exc)
    return _response(exc.status, exc.code, public_message(exc), exc.headers)


def problem(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    assert isinstance(exc, ProblemException)
    status = exc.status or 500
    if status >= 500:
        log.error("request failed: %s %s", exc.title, exc.detail)
        return _response(500, "INTERNAL_SERVER_ERROR", "internal server error")
    message = str(exc.detail or exc.title or "bad request")
    return _response(
        status, _STATUS_CODES.get(status, "BAD_REQUEST"), message, dict(exc.headers or {})
    )


def http_error(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    status = getattr(exc, "status_code", 500)
    if status >= 500:
        log.error("request failed", exc_info=exc)
        return _response(500, "INTERNAL_SERVER_ERROR", "internal server error")
    detail = getattr(exc, "detail", None) or "error"
    return _response(status, _STATUS_CODES.get(status, "BAD_REQUEST"), str(detail))


def method_not_allowed(allowed: AllowedMethods):
    """405 with the ``Allow`` header listing every method the spec declares for the path."""

    def handle(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        return _response(
            405,
            "METHOD_NOT_ALLOWED",
            "method not allowed",
            {"Allow": allowed.for_path(request.scope["path"])},
        )

    return handle


def undecodable(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    """A body that is not valid UTF-8 (Connexion's JSON parser raises while decoding)."""
    return _response(400, "BAD_REQUEST", "the request body is not valid UTF-8 text")


def invalid_value(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    """The database refused a value (NUL byte, number out of range): the input's fault."""
    log.info("database refused a value: %s", str(exc).splitlines()[0][:200])
    return _response(400, "BAD_REQUEST", "a value in the request is not acceptable")


def environment_fault(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    """A full disk or an unavailable database (507, 503 + Retry-After); other OS and
    database errors are unexpected."""
    fault = translate(exc)
    if fault is None:
        return unexpected(request, exc)
    log.warning("request failed: %s", exc)
    return _response(fault.status, fault.code, public_message(fault), fault.headers)


def unexpected(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    log.error("unhandled error", exc_info=exc)
    return _response(500, "INTERNAL_SERVER_ERROR", "internal server error")


def register(app, spec: dict) -> None:
    app.add_error_handler(HarborError, harbor_error)
    app.add_error_handler(ProblemException, problem)
    app.add_error_handler(HTTPException, http_error)
    app.add_error_handler(404, http_error)
    app.add_error_handler(405, method_not_allowed(AllowedMethods(spec)))
    app.add_error_handler(UnicodeDecodeError, undecodable)
    app.add_error_handler(DataError, invalid_value)
    app.add_error_handler(OverflowError, invalid_value)  # SQLite: int beyond 64 bits
    app.add_error_handler(OSError, environment_fault)
    app.add_error_handler(SQLAlchemyError, environment_fault)
    app.add_error_handler(Exception, unexpected)
