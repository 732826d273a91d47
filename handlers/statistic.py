"""Project, repository and storage counts."""

from harbor_api.api import current_context, require_authenticated
from harbor_api.services import search as search_service


def get_statistic():
    ctx = current_context()
    require_authenticated(ctx)
    return search_service.statistics(ctx), 200
