"""Browser sessions: ``/c/login`` and ``/c/log_out`` (served at the root)."""

from starlette.responses import Response

from harbor_api.api import NO_STORE, current_context
from harbor_api.services import sessions
from harbor_api.services.sessions import SESSION_COOKIE

CSRF_COOKIE = "__csrf"


def _cookie(name: str, value: str, max_age: int, http_only: bool, secure: bool) -> str:
    parts = [f"{name}={value}", "Path=/", f"Max-Age={max_age}"]
    if http_only:
        parts.append("HttpOnly")
    if secure:
        parts.append("Secure")
    parts.append("SameSite=Lax")
    return "; ".join(parts)


def _with_cookies(response: Response, cookies: list[str]) -> Response:
    response.raw_headers.extend((b"set-cookie", c.encode("latin-1")) for c in cookies)
    return response


def _secure(ctx) -> bool:
    """Secure cookies when the client used https or the server is published at an https
    external URL (TLS ended by a proxy in front: the request itself arrives as http)."""
    return ctx.base_url.startswith("https://") or ctx.settings.external_url.lower().startswith(
        "https://"
    )


def login(body=None, principal=None, password=None):
    form = body if isinstance(body, dict) else {}
    ctx = current_context()
    new = sessions.login(ctx, form.get("principal", principal), form.get("password", password))
    secure = _secure(ctx)
    response = Response(
        status_code=200, headers={"X-Harbor-CSRF-Token": new.csrf_token, **NO_STORE}
    )
    return _with_cookies(
        response,
        [
            _cookie(SESSION_COOKIE, new.token, new.max_age, True, secure),
            _cookie(CSRF_COOKIE, new.csrf_token, new.max_age, False, secure),
        ],
    )


def logout():
    ctx = current_context()
    sessions.logout(ctx)
    secure = _secure(ctx)
    return _with_cookies(
        Response(status_code=200),
        [_cookie(SESSION_COOKIE, "", 0, True, secure), _cookie(CSRF_COOKIE, "", 0, False, secure)],
    )


def logout_by_post():
    """``POST /c/log_out``: the root app has already required the CSRF header of a session."""
    return logout()
