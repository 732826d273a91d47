"""System configuration: ``/configurations``."""

from harbor_api.api import current_context, require_sysadmin
from harbor_api.api.responses import empty
from harbor_api.services import configurations


def get_configurations():
    ctx = current_context()
    require_sysadmin(ctx)
    return configurations.for_display(ctx.db), 200


def update_configurations(body):
    ctx = current_context()
    require_sysadmin(ctx)
    configurations.update(ctx.db, ctx.principal, body)
    return empty()
