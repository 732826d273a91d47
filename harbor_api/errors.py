"""One exception hierarchy for the whole product, mapped once to HTTP.

Each subclass names a ``code``; :data:`ERROR_TABLE` maps every code to its HTTP status and
default message. Two renderers use it: :func:`api_error_body` for ``/api/v2.0`` (Harbor's
codes) and :func:`oci_error_body` for ``/v2/`` (the OCI Distribution codes).
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple


class ErrorSpec(NamedTuple):
    status: int
    message: str


ERROR_TABLE: dict[str, ErrorSpec] = {
    # management API codes (Harbor's strings)
    "BAD_REQUEST": ErrorSpec(400, "bad request"),
    "UNAUTHORIZED": ErrorSpec(401, "authentication required"),
    "FORBIDDEN": ErrorSpec(403, "forbidden"),
    "NOT_FOUND": ErrorSpec(404, "resource not found"),
    "METHOD_NOT_ALLOWED": ErrorSpec(405, "method not allowed"),
    "CONFLICT": ErrorSpec(409, "resource already exists"),
    "PRECONDITION": ErrorSpec(412, "precondition failed"),
    "PAYLOAD_TOO_LARGE": ErrorSpec(413, "payload too large"),
    "UNSUPPORTED_MEDIA_TYPE": ErrorSpec(415, "unsupported media type"),
    "UNPROCESSABLE_ENTITY": ErrorSpec(422, "unprocessable entity"),
    "TOO_MANY_REQUESTS": ErrorSpec(429, "too many requests"),
    "INTERNAL_SERVER_ERROR": ErrorSpec(500, "internal server error"),
    "SERVICE_UNAVAILABLE": ErrorSpec(503, "service unavailable"),
    "INSUFFICIENT_STORAGE": ErrorSpec(
        507, "the registry's storage is full; free space or retry later"
    ),
    "DATABASE_UNAVAILABLE": ErrorSpec(
        503, "the database is unavailable (locked or unreachable); retry later"
    ),
    # OCI Distribution codes
    "BLOB_UNKNOWN": ErrorSpec(404, "blob unknown to registry"),
    "BLOB_UPLOAD_INVALID": ErrorSpec(400, "blob upload invalid"),
    "BLOB_UPLOAD_UNKNOWN": ErrorSpec(404, "blob upload unknown to registry"),
    "DIGEST_INVALID": ErrorSpec(400, "provided digest did not match uploaded content"),
    "MANIFEST_BLOB_UNKNOWN": ErrorSpec(
        404, "manifest references a manifest or blob unknown to registry"
    ),
    "MANIFEST_INVALID": ErrorSpec(400, "manifest invalid"),
    "MANIFEST_UNKNOWN": ErrorSpec(404, "manifest unknown to registry"),
    "NAME_INVALID": ErrorSpec(400, "invalid repository name"),
    "NAME_UNKNOWN": ErrorSpec(404, "repository name not known to registry"),
    "SIZE_INVALID": ErrorSpec(400, "provided length did not match content length"),
    "DENIED": ErrorSpec(403, "requested access to the resource is denied"),
    "UNSUPPORTED": ErrorSpec(415, "the operation is unsupported"),
    "TOOMANYREQUESTS": ErrorSpec(429, "too many requests"),
    "RANGE_INVALID": ErrorSpec(416, "requested range not satisfiable"),
}

# How API codes read on /v2/ (and the reverse is never needed).
_API_TO_OCI = {
    "UNAUTHORIZED": "UNAUTHORIZED",
    "FORBIDDEN": "DENIED",
    "NOT_FOUND": "NAME_UNKNOWN",
    "TOO_MANY_REQUESTS": "TOOMANYREQUESTS",
    "PAYLOAD_TOO_LARGE": "SIZE_INVALID",
    "UNSUPPORTED_MEDIA_TYPE": "UNSUPPORTED",
    "SERVICE_UNAVAILABLE": "UNAVAILABLE",  # Distribution's code for a 503
    "DATABASE_UNAVAILABLE": "UNAVAILABLE",
}


class HarborError(Exception):
    """Base of every error the product raises on purpose."""

    code = "INTERNAL_SERVER_ERROR"

    def __init__(
        self,
        message: str | None = None,
        *,
        detail: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or ERROR_TABLE[self.code].message
        self.detail = detail
        self.headers = headers or {}
        super().__init__(self.message)

    @property
    def status(self) -> int:
        return ERROR_TABLE[self.code].status


class BadRequestError(HarborError):
    code = "BAD_REQUEST"


class UnauthorizedError(HarborError):
    code = "UNAUTHORIZED"


class ForbiddenError(HarborError):
    code = "FORBIDDEN"


class NotFoundError(HarborError):
    code = "NOT_FOUND"


class MethodNotAllowedError(HarborError):
    code = "METHOD_NOT_ALLOWED"


class ConflictError(HarborError):
    code = "CONFLICT"


class PreconditionFailedError(HarborError):
    code = "PRECONDITION"


class ImmutableTagError(PreconditionFailedError):
    """A write that would move, delete or orphan an immutable tag (Harbor: 412 on both
    edges, ``PRECONDITION`` also on ``/v2``)."""


class PayloadTooLargeError(HarborError):
    code = "PAYLOAD_TOO_LARGE"


class UnsupportedMediaTypeError(HarborError):
    code = "UNSUPPORTED_MEDIA_TYPE"


class TooManyRequestsError(HarborError):
    code = "TOO_MANY_REQUESTS"


class ServiceUnavailableError(HarborError):
    code = "SERVICE_UNAVAILABLE"


class StorageFullError(HarborError):
    """The disk (blob storage or the database's) has no space left (ENOSPC, EDQUOT)."""

    code = "INSUFFICIENT_STORAGE"


class DatabaseUnavailableError(HarborError):
    """The database stayed locked past the busy timeout, or cannot be reached: a passing
    condition, so the client is told when to retry."""

    code = "DATABASE_UNAVAILABLE"
    RETRY_AFTER_SECONDS = 5

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.headers.setdefault("Retry-After", str(self.RETRY_AFTER_SECONDS))


class InternalError(HarborError):
    code = "INTERNAL_SERVER_ERROR"


# --- OCI Distribution errors -------------------------------------------------------------


class BlobUnknownError(HarborError):
    code = "BLOB_UNKNOWN"


class BlobUploadInvalidError(HarborError):
    code = "BLOB_UPLOAD_INVALID"


class BlobUploadUnknownError(HarborError):
    code = "BLOB_UPLOAD_UNKNOWN"


class BlobCollectedError(BlobUploadUnknownError):
    """A blob was being garbage collected while it was pushed: push it again (docs/gc.md)."""


class DigestInvalidError(HarborError):
    code = "DIGEST_INVALID"


class ManifestBlobUnknownError(HarborError):
    code = "MANIFEST_BLOB_UNKNOWN"


class ManifestInvalidError(HarborError):
    code = "MANIFEST_INVALID"


class ManifestUnknownError(HarborError):
    code = "MANIFEST_UNKNOWN"


class NameInvalidError(HarborError):
    code = "NAME_INVALID"


class NameUnknownError(HarborError):
    code = "NAME_UNKNOWN"


class SizeInvalidError(HarborError):
    code = "SIZE_INVALID"


class DeniedError(HarborError):
    code = "DENIED"


class UnsupportedError(HarborError):
    code = "UNSUPPORTED"


class RangeInvalidError(HarborError):
    code = "RANGE_INVALID"


class ChunkOutOfOrderError(RangeInvalidError):
    """An upload chunk that does not continue its session (416); ``offset`` is where the
    session stands, for the answer's ``Range`` header."""

    def __init__(self, message: str | None = None, offset: int = 0, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.offset = offset


# --- directory (LDAP) errors -------------------------------------------------------------


class DirectoryError(UnauthorizedError):
    """The directory could not answer (not: the password was wrong). A 401 ``UNAUTHORIZED``
    for logins, as Harbor answers; the message leads with the class's secret-free
    ``reason``, which refines the table's default message for this code."""

    reason = "LDAP error"

    def __init__(self, detail: str = "") -> None:
        super().__init__(f"{self.reason}: {detail}" if detail else self.reason)


class DirectoryUnreachableError(DirectoryError):
    reason = "LDAP server unreachable"


class DirectoryTlsError(DirectoryError):
    reason = "LDAP TLS failure"


class ServiceCredentialsError(DirectoryError):
    reason = "LDAP search credentials rejected"


class BaseDnError(DirectoryError):
    reason = "LDAP base DN not found"


class DirectoryConfigError(DirectoryError):
    reason = "LDAP configuration invalid"


GENERIC_SERVER_MESSAGE = "internal server error; see the server log for the request id"


def public_message(error: HarborError) -> str:
    """The message a client may see: never internals for a 5xx."""
    return (
        GENERIC_SERVER_MESSAGE
        if error.status >= 500 and error.code == "INTERNAL_SERVER_ERROR"
        else error.message
    )


# Compact, as Harbor (Go's encoder) writes it: clients match substrings of these bodies.
COMPACT = {"separators": (",", ":"), "ensure_ascii": False}


def api_error_body(code: str, message: str) -> bytes:
    return json.dumps({"errors": [{"code": code, "message": message}]}, **COMPACT).encode()


def oci_error_body(code: str, message: str, detail: Any = None) -> bytes:
    oci_code = _API_TO_OCI.get(code, code)
    entry: dict[str, Any] = {"code": oci_code, "message": message}
    if detail is not None:
        entry["detail"] = detail
    return json.dumps({"errors": [entry]}, **COMPACT).encode()
