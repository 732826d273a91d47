"""Browser sessions: ``/c/login`` and ``/c/log_out`` (served at the root)."""

from starlette.responses import Response

from harbor_api.api import current_context
from harbor_api.asgi import SESSION_COOKIE
from harbor_api.services import sessions

CSRF_COOKIE = "__csrf"


def login(body=None, principal=None, password=None):
    form = body if isinstance(body, dict) else {}
    ctx = current_context()
    new = sessions.login(ctx, form.get("principal", principal), form.get("password", password))
    secure = ctx.base_url.startswith("https://")
    response = Response(status_code=200, headers={"X-Harbor-CSRF-Token": new.csrf_token})
    response.set_cookie(SESSION_COOKIE, new.token, max_age=new.max_age, path="/",
                        httponly=True, samesite="lax", secure=secure)
    response.set_cookie(CSRF_COOKIE, new.csrf_token, max_age=new.max_age, path="/",
                        httponly=False, samesite="lax", secure=secure)
    return response


def logout():
    sessions.logout(current_context())
    response = Response(status_code=200)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    response.delete_cookie(CSRF_COOKIE, path="/", samesite="lax")
    return response
